use clap::Subcommand;
use lexica_core::{Lexica, User};

use crate::Failure;
use crate::output::{Output, opt, table, yes_no};

#[derive(Debug, Subcommand)]
pub enum UsersCommand {
    /// List users (admins only).
    List,
    /// Add a user.
    Add {
        username: String,
        #[arg(long)]
        display_name: Option<String>,
        /// Make the new user an administrator.
        #[arg(long)]
        admin: bool,
    },
    /// Remove a user with their grants and search history.
    Remove { username: String },
    /// Make a user an administrator (or, with --revoke, no longer one).
    SetAdmin {
        username: String,
        #[arg(long)]
        revoke: bool,
    },
}

pub async fn run(lexica: &Lexica, actor: &User, command: UsersCommand, out: &Output) -> Result<(), Failure> {
    match command {
        UsersCommand::List => {
            let users = lexica.list_users(actor).await?;
            out.show(&users, |users| {
                let rows = users
                    .iter()
                    .map(|u| {
                        vec![
                            u.username.clone(),
                            opt(&u.display_name),
                            yes_no(u.is_admin),
                            u.created_at.format("%Y-%m-%d").to_string(),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["username", "display name", "admin", "created"], &rows);
            });
        }
        UsersCommand::Add { username, display_name, admin } => {
            let user = lexica.add_user(actor, &username, display_name.as_deref(), admin).await?;
            out.show(&user, |u| {
                println!("added user {}{}", u.username, if u.is_admin { " (administrator)" } else { "" })
            });
        }
        UsersCommand::Remove { username } => {
            lexica.remove_user(actor, &username).await?;
            out.show(&serde_json::json!({ "removed": username }), |_| {
                println!("removed user {username} with their grants and history")
            });
        }
        UsersCommand::SetAdmin { username, revoke } => {
            let user = lexica.set_admin(actor, &username, !revoke).await?;
            out.show(&user, |u| {
                println!("{} is {}an administrator", u.username, if u.is_admin { "now " } else { "no longer " })
            });
        }
    }
    Ok(())
}
