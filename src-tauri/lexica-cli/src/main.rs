//! `lexica`: the command-line face of Lexica's core, for admins, IT staff and scripts.
//!
//! # Layout
//! - `main.rs`: arguments, opening the install, exit codes (0 ok, 1 failure, 2 usage).
//! - `commands/`: one module per command group (`users`, `sources`, `grants`, `history`,
//!   `provision`), each turning arguments into one core call and printing the result.
//! - `output.rs`: human tables and `--json` output; the JSON is the same data the app receives.

mod commands;
mod ingest_cmd;
mod output;

use std::path::PathBuf;
use std::process::ExitCode;

use clap::{Parser, Subcommand};
use lexica_core::Lexica;

/// Lexica: search case law across many databases at once.
#[derive(Debug, Parser)]
#[command(name = "lexica", version, about, propagate_version = true)]
struct Cli {
    /// The install's home folder (app database, bundles, logs). Default: $LEXICA_HOME, else the OS app-data folder.
    #[arg(long, global = true, value_name = "DIR")]
    home: Option<PathBuf>,
    /// Act as this user (default: your OS login). Only an administrator of the install (as your
    /// OS login) may act as someone else; each use is recorded in the log.
    #[arg(long = "as", global = true, value_name = "USER")]
    acting_as: Option<String>,
    /// Print machine-readable JSON instead of tables.
    #[arg(long, global = true)]
    json: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// People who use this install.
    #[command(subcommand)]
    Users(commands::users::UsersCommand),
    /// Opinion databases Lexica searches.
    #[command(subcommand)]
    Sources(commands::sources::SourcesCommand),
    /// Who may search which source.
    #[command(subcommand)]
    Grants(commands::grants::GrantsCommand),
    /// Past searches and what each source did.
    History(commands::history::HistoryArgs),
    /// Offline provisioning files for firm installs.
    #[command(subcommand)]
    Provision(commands::provision::ProvisionCommand),
    /// Search every source you may use, in parallel, and print one merged list.
    Search(commands::search::SearchArgs),
    /// Time every query of a file on warm pools (median, p95, per-source times and matches).
    Bench(commands::bench::BenchArgs),
    /// Load opinions (JSON Lines, plain or .gz) into a PostgreSQL source or an SQLite bundle.
    Ingest(ingest_cmd::IngestArgs),
    /// The search language: check a query.
    #[command(subcommand)]
    Query(commands::query::QueryCommand),
}

/// A failure, already worded for the user.
#[derive(Debug)]
pub struct Failure(lexica_core::ErrorReport);

impl From<lexica_core::Error> for Failure {
    fn from(error: lexica_core::Error) -> Self {
        Failure(lexica_core::ErrorReport::from(&error))
    }
}

impl Failure {
    pub fn message(kind: lexica_core::ErrorKind, message: impl Into<String>) -> Self {
        Failure(lexica_core::ErrorReport { kind, message: message.into(), fields: Vec::new(), query: None })
    }
}

fn main() -> ExitCode {
    let cli = Cli::parse(); // exits with 2 on a usage error, printing clap's help
    init_logging(cli.home.clone());
    let runtime = match tokio::runtime::Builder::new_multi_thread().enable_all().build() {
        Ok(runtime) => runtime,
        Err(e) => {
            eprintln!("error: could not start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    let json = cli.json;
    match runtime.block_on(run(cli)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(Failure(report)) => {
            output::print_error(&report, json);
            ExitCode::FAILURE
        }
    }
}

/// Warnings to stderr (`RUST_LOG` overrides), and a record of every action at `info` in
/// `<home>/logs/lexica-cli.log`. Log lines carry names and ids, never passwords or full URLs.
fn init_logging(home: Option<PathBuf>) {
    use tracing_subscriber::layer::SubscriberExt;
    use tracing_subscriber::util::SubscriberInitExt;
    use tracing_subscriber::{EnvFilter, Layer, fmt};

    let stderr = fmt::layer()
        .with_writer(std::io::stderr)
        .with_filter(EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("warn")));
    // The log file is best effort: a read-only home must not stop the command.
    let file = lexica_core::Home::resolve(home)
        .ok()
        .and_then(|h| {
            std::fs::OpenOptions::new().create(true).append(true).open(h.logs_dir().join("lexica-cli.log")).ok()
        })
        .map(|f| {
            fmt::layer().with_ansi(false).with_writer(std::sync::Mutex::new(f)).with_filter(EnvFilter::new("info"))
        });
    tracing_subscriber::registry().with(stderr).with(file).init();
}

async fn run(cli: Cli) -> Result<(), Failure> {
    let out = output::Output { json: cli.json };
    // Commands that need no install run without opening (or creating) one.
    let command = match cli.command {
        Command::Query(c) => return commands::query::run(c, &out),
        Command::Ingest(args) => {
            return ingest_cmd::run(args, cli.json)
                .await
                .map_err(|e| Failure::message(lexica_core::ErrorKind::Source, e.to_string()));
        }
        other => other,
    };
    let lexica = Lexica::open(cli.home).await?;
    let actor = lexica.acting_user(cli.acting_as.as_deref()).await;
    let result = match command {
        Command::Users(c) => commands::users::run(&lexica, &actor?, c, &out).await,
        Command::Sources(c) => commands::sources::run(&lexica, &actor?, c, &out).await,
        Command::Grants(c) => commands::grants::run(&lexica, &actor?, c, &out).await,
        Command::History(a) => commands::history::run(&lexica, &actor?, a, &out).await,
        Command::Provision(c) => commands::provision::run(&lexica, &actor?, c, &out).await,
        Command::Search(a) => commands::search::run(&lexica, &actor?, a, &out).await,
        Command::Bench(a) => commands::bench::run(&lexica, &actor?, a, &out).await,
        Command::Query(_) | Command::Ingest(_) => Ok(()),
    };
    lexica.close().await;
    result
}
