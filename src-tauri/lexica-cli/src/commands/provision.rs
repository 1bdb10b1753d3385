use std::path::PathBuf;

use clap::Subcommand;
use lexica_core::provision::{ImportOutcome, ImportReport};
use lexica_core::{ErrorKind, Lexica, User};

use crate::Failure;
use crate::output::{Output, table};

#[derive(Debug, Subcommand)]
pub enum ProvisionCommand {
    /// Apply a provisioning file: creates and updates users, sources and grants; idempotent.
    Import {
        file: PathBuf,
        /// Also remove users, sources and grants that the file does not list.
        #[arg(long)]
        prune: bool,
        /// Report what would change without writing anything.
        #[arg(long)]
        dry_run: bool,
    },
    /// Write this install's users, sources and grants to FILE (`-` for standard output). No passwords.
    Export { file: PathBuf },
}

pub async fn run(lexica: &Lexica, actor: &User, command: ProvisionCommand, out: &Output) -> Result<(), Failure> {
    match command {
        ProvisionCommand::Import { file, prune, dry_run } => {
            let text = std::fs::read_to_string(&file).map_err(|e| {
                Failure::message(ErrorKind::Provisioning, format!("cannot read {}: {e}", file.display()))
            })?;
            let report = lexica.provision_import(actor, &text, prune, dry_run).await?;
            out.show(&report, print_report);
        }
        ProvisionCommand::Export { file } => {
            let text = lexica.provision_export(actor).await?;
            if file.as_os_str() == "-" {
                print!("{text}");
                return Ok(());
            }
            std::fs::write(&file, &text).map_err(|e| {
                Failure::message(ErrorKind::Provisioning, format!("cannot write {}: {e}", file.display()))
            })?;
            let value = serde_json::json!({ "written": file.display().to_string() });
            out.show(&value, |_| println!("wrote {}", file.display()));
        }
    }
    Ok(())
}

fn print_report(report: &ImportReport) {
    let rows: Vec<Vec<String>> = report
        .items
        .iter()
        .map(|i| {
            vec![
                i.kind.clone(),
                i.name.clone(),
                serde_json::to_value(i.outcome).ok().and_then(|v| v.as_str().map(str::to_string)).unwrap_or_default(),
            ]
        })
        .collect();
    table(&["kind", "name", "outcome"], &rows);
    println!(
        "{}{} created, {} updated, {} unchanged, {} removed",
        if report.dry_run { "dry run (nothing written): " } else { "" },
        report.count(ImportOutcome::Created),
        report.count(ImportOutcome::Updated),
        report.count(ImportOutcome::Unchanged),
        report.count(ImportOutcome::Removed)
    );
    for name in &report.passwords_cleared {
        println!(
            "source {name} now points at another server: its stored password {} removed from the keychain; \
             set the new one with `lexica sources set-password {name}`",
            if report.dry_run { "would be" } else { "was" }
        );
    }
}
