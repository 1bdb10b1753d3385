use clap::{Args, Subcommand};
use lexica_core::credentials::Secret;
use lexica_core::sources::doctor::{CheckStatus, DoctorReport};
use lexica_core::{DataSource, ErrorKind, Lexica, SourceChanges, User};

use crate::Failure;
use crate::output::{Output, clean, opt, table, yes_no};

#[derive(Debug, Subcommand)]
pub enum SourcesCommand {
    /// List sources (all for admins; the ones shared with you otherwise).
    List,
    /// Show one source's settings.
    Show { name: String },
    /// Add a source.
    Add {
        /// Machine name: a lower-case letter, then lower-case letters, digits or _ (like ny_appeals).
        name: String,
        #[arg(long)]
        display_name: String,
        #[command(flatten)]
        settings: SettingsArgs,
        /// Add it disabled (a source without a URL must be).
        #[arg(long)]
        inactive: bool,
    },
    /// Change a source's settings; only the options given change.
    Edit {
        name: String,
        #[arg(long)]
        display_name: Option<String>,
        #[command(flatten)]
        settings: SettingsArgs,
        /// Forget the URL (the source must then be disabled).
        #[arg(long, conflicts_with = "url")]
        clear_url: bool,
        #[arg(long, conflicts_with = "jurisdiction")]
        clear_jurisdiction: bool,
        /// Whether the source may be searched while it stays active.
        #[arg(long)]
        search_enabled: Option<bool>,
    },
    /// Make a source active.
    Enable { name: String },
    /// Make a source inactive: nobody searches it until it is enabled again.
    Disable { name: String },
    /// Remove a source, its grants and its password (past searches keep their part, under its name).
    Remove { name: String },
    /// Store the source's password in the OS keychain (asked for without echo, or read from stdin).
    SetPassword {
        name: String,
        /// Read the password from standard input (first line) instead of asking.
        #[arg(long)]
        stdin: bool,
    },
    /// Remove the source's password from the OS keychain.
    ClearPassword { name: String },
    /// Check a source: connection, authentication, schema, full-text index, read-only, rows.
    Test { name: String },
}

#[derive(Debug, Args)]
pub struct SettingsArgs {
    /// postgres://USER@HOST:PORT/DB[?sslmode=…] or sqlite:/path/bundle.sqlite — never with a password.
    #[arg(long)]
    url: Option<String>,
    /// Kind of collection, e.g. state_appeals, federal_district (default general).
    #[arg(long = "type")]
    source_type: Option<String>,
    #[arg(long)]
    jurisdiction: Option<String>,
    /// Connections in this source's pool (default 5).
    #[arg(long)]
    pool_size: Option<u32>,
    /// Wait for a pooled connection, in ms (default 15000).
    #[arg(long)]
    acquire_timeout_ms: Option<u32>,
    /// The source's statement timeout, in ms (default 30000).
    #[arg(long)]
    query_timeout_ms: Option<u32>,
}

impl SettingsArgs {
    fn into_changes(self) -> SourceChanges {
        SourceChanges {
            database_url: self.url.map(Some),
            source_type: self.source_type,
            jurisdiction: self.jurisdiction.map(Some),
            pool_size: self.pool_size,
            acquire_timeout_ms: self.acquire_timeout_ms,
            query_timeout_ms: self.query_timeout_ms,
            ..SourceChanges::default()
        }
    }
}

pub async fn run(lexica: &Lexica, actor: &User, command: SourcesCommand, out: &Output) -> Result<(), Failure> {
    match command {
        SourcesCommand::List => {
            let sources = lexica.list_sources(actor).await?;
            out.show(&sources, |sources| {
                let rows = sources
                    .iter()
                    .map(|s| {
                        vec![
                            s.name.clone(),
                            s.display_name.clone(),
                            state(s),
                            s.source_type.clone(),
                            opt(&s.jurisdiction),
                            s.database_url.clone().unwrap_or_else(|| "(not configured)".into()),
                        ]
                    })
                    .collect::<Vec<_>>();
                table(&["name", "display name", "state", "type", "jurisdiction", "url"], &rows);
            });
        }
        SourcesCommand::Show { name } => {
            let source = lexica.get_source(actor, &name).await?;
            out.show(&source, print_source);
        }
        SourcesCommand::Add { name, display_name, settings, inactive } => {
            let mut changes = settings.into_changes();
            changes.display_name = Some(display_name);
            changes.is_active = Some(!inactive);
            let source = lexica.add_source(actor, &name, changes).await?;
            out.show(&source, |s| println!("added source {} ({})", s.name, state(s)));
        }
        SourcesCommand::Edit { name, display_name, settings, clear_url, clear_jurisdiction, search_enabled } => {
            let mut changes = settings.into_changes();
            changes.display_name = display_name;
            changes.search_enabled = search_enabled;
            if clear_url {
                changes.database_url = Some(None);
            }
            if clear_jurisdiction {
                changes.jurisdiction = Some(None);
            }
            let edit = lexica.edit_source_reporting(actor, &name, changes).await?;
            out.show(&edit, |e| {
                println!("updated source {}", e.source.name);
                if e.password_cleared {
                    println!(
                        "its stored password was removed: it was given for another host, port or user; \
                         set the new server's with `lexica sources set-password {}`",
                        e.source.name
                    );
                }
            });
        }
        SourcesCommand::Enable { name } => {
            let source = lexica.set_source_active(actor, &name, true).await?;
            out.show(&source, |s| println!("{} is active", s.name));
        }
        SourcesCommand::Disable { name } => {
            let source = lexica.set_source_active(actor, &name, false).await?;
            out.show(&source, |s| println!("{} is inactive: nobody searches it until it is enabled", s.name));
        }
        SourcesCommand::SetPassword { name, stdin } => {
            let password = read_password(&name, stdin)?;
            let source = lexica.set_source_password(actor, &name, &password).await?;
            let value = serde_json::json!({ "source": source.name, "password_set": true, "store": lexica.keychain().store_name() });
            out.show(&value, |_| println!("stored the password for {name} in the {}", lexica.keychain().store_name()));
        }
        SourcesCommand::ClearPassword { name } => {
            let existed = lexica.clear_source_password(actor, &name).await?;
            let value = serde_json::json!({ "source": name, "password_cleared": existed });
            out.show(&value, |_| {
                if existed {
                    println!("removed the password for {name} from the keychain");
                } else {
                    println!("{name} had no stored password; nothing changed");
                }
            });
        }
        SourcesCommand::Test { name } => {
            let report = lexica.test_source(actor, &name).await?;
            out.show(&report, print_report);
            if report.status() == CheckStatus::Error {
                return Err(Failure::message(
                    ErrorKind::Source,
                    format!("source `{name}` has problems (see the report above)"),
                ));
            }
        }
        SourcesCommand::Remove { name } => {
            let source = lexica.remove_source(actor, &name).await?;
            out.show(&source, |s| {
                println!("removed source {} and its grants; past searches keep its part, under its name", s.name)
            });
        }
    }
    Ok(())
}

fn state(s: &DataSource) -> String {
    match (s.is_active, s.search_enabled, s.database_url.is_some()) {
        (_, _, false) => "not configured".into(),
        (false, _, _) => "inactive".into(),
        (true, false, _) => "active, search off".into(),
        (true, true, _) => "active".into(),
    }
}

fn print_source(s: &DataSource) {
    let rows = [
        ("name", s.name.clone()),
        ("display name", s.display_name.clone()),
        ("state", state(s)),
        ("url", s.database_url.clone().unwrap_or_else(|| "(not configured)".into())),
        ("url override", s.url_env_var()),
        ("type", s.source_type.clone()),
        ("jurisdiction", opt(&s.jurisdiction)),
        ("search enabled", yes_no(s.search_enabled)),
        ("pool size", s.pool_size.to_string()),
        ("acquire timeout", format!("{} ms", s.acquire_timeout_ms)),
        ("query timeout", format!("{} ms", s.query_timeout_ms)),
        ("id", s.id.to_string()),
        ("updated", s.updated_at.format("%Y-%m-%d %H:%M UTC").to_string()),
    ];
    for (k, v) in rows {
        println!("{k:<16} {}", clean(&v));
    }
}

/// The password from the terminal (no echo) or, with `--stdin`, the first line of standard input.
fn read_password(name: &str, stdin: bool) -> Result<Secret, Failure> {
    let text = if stdin {
        let mut line = String::new();
        std::io::stdin()
            .read_line(&mut line)
            .map_err(|e| Failure::message(ErrorKind::Refused, format!("could not read standard input: {e}")))?;
        line.trim_end_matches(['\r', '\n']).to_string()
    } else {
        rpassword::prompt_password(format!("Password for source {name}: ")).map_err(|e| {
            Failure::message(
                ErrorKind::Refused,
                format!("could not read the password from the terminal ({e}); use --stdin"),
            )
        })?
    };
    Ok(Secret::new(text))
}

fn print_report(report: &DoctorReport) {
    println!("Source {}", clean(&report.source));
    for check in &report.checks {
        let mark = match check.status {
            CheckStatus::Ok => "ok     ",
            CheckStatus::Warning => "warning",
            CheckStatus::Error => "ERROR  ",
        };
        println!("  {mark}  {:<16} {}", clean(&check.name), clean(&check.message));
    }
}
