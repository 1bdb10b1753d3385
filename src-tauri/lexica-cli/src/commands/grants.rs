use clap::Subcommand;
use lexica_core::{Lexica, PermissionLevel, User};

use crate::Failure;
use crate::output::{Output, opt, table};

#[derive(Debug, Subcommand)]
pub enum GrantsCommand {
    /// List grants (yours, or everyone's for admins; --user for one user's).
    List {
        #[arg(long)]
        user: Option<String>,
    },
    /// Let USER search SOURCE.
    Grant {
        user: String,
        source: String,
        /// read: search it; admin: also manage it.
        #[arg(long, default_value = "read", value_parser = parse_level)]
        level: PermissionLevel,
    },
    /// Take away USER's access to SOURCE.
    Revoke { user: String, source: String },
}

fn parse_level(s: &str) -> Result<PermissionLevel, String> {
    s.parse()
}

pub async fn run(lexica: &Lexica, actor: &User, command: GrantsCommand, out: &Output) -> Result<(), Failure> {
    match command {
        GrantsCommand::List { user } => {
            let grants = lexica.list_grants(actor, user.as_deref()).await?;
            out.show(&grants, |grants| {
                let rows = grants
                    .iter()
                    .map(|g| {
                        vec![
                            g.username.clone(),
                            g.source_name.clone(),
                            g.permission_level.as_str().to_string(),
                            g.granted_at.format("%Y-%m-%d %H:%M").to_string(),
                            opt(&g.granted_by),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["user", "source", "level", "granted", "by"], &rows);
            });
        }
        GrantsCommand::Grant { user, source, level } => {
            let changed = lexica.grant(actor, &user, &source, level).await?;
            let value = serde_json::json!({ "user": user, "source": source, "level": level, "changed": changed });
            out.show(&value, |_| {
                if changed {
                    println!("{user} may now search {source} ({})", level.as_str());
                } else {
                    println!("{user} already had {} access to {source}; nothing changed", level.as_str());
                }
            });
        }
        GrantsCommand::Revoke { user, source } => {
            let existed = lexica.revoke(actor, &user, &source).await?;
            let value = serde_json::json!({ "user": user, "source": source, "revoked": existed });
            out.show(&value, |_| {
                if existed {
                    println!("{user} may no longer search {source}");
                } else {
                    println!("{user} had no access to {source}; nothing changed");
                }
            });
        }
    }
    Ok(())
}
