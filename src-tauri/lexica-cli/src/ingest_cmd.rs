//! `lexica ingest FILE --into TARGET`: loads opinions (JSON Lines, plain or .gz) into a
//! PostgreSQL source or an SQLite bundle, showing progress on a terminal and printing the
//! report (human text, or JSON with `--json`).

use std::io::{IsTerminal, Write};
use std::path::PathBuf;

use lexica_ingest::{IngestError, Phase, Progress, Target};

#[derive(clap::Args, Debug)]
pub struct IngestArgs {
    /// JSON Lines file of opinions, plain or gzip (fields: source_id, case_name, citation, court,
    /// jurisdiction, decided_on, docket_number, body).
    pub file: PathBuf,

    /// Where to load: a PostgreSQL URL (postgres://user@host:5432/database; leave the password
    /// out and set PGPASSWORD or use ~/.pgpass, so it stays out of your shell history) or the
    /// path of an SQLite bundle file (created if absent).
    #[arg(long = "into", value_name = "TARGET")]
    pub into: String,

    /// Do not show the progress line, even on a terminal.
    #[arg(long)]
    pub quiet: bool,
}

/// Runs the ingest. The report goes to stdout; progress (only when stderr is a terminal) to stderr.
pub async fn run(args: IngestArgs, json: bool) -> Result<(), IngestError> {
    let target = Target::parse(&args.into)?;
    let show_progress = !args.quiet && std::io::stderr().is_terminal();
    let progress = move |p: Progress| {
        if show_progress {
            let mut err = std::io::stderr().lock();
            // `\r` + clear-to-end-of-line: one line that updates in place.
            let _ = write!(err, "\r{}\x1b[K", progress_line(&p));
            let _ = err.flush();
        }
    };
    let result = lexica_ingest::ingest(&args.file, target, &progress).await;
    if show_progress {
        eprintln!();
    }
    let report = result?;
    if json {
        // The report holds only strings and numbers; serialization cannot fail.
        println!("{}", serde_json::to_string_pretty(&report).unwrap_or_default());
    } else {
        // Rejected lines are described from the input file, which may hold anything.
        println!("{}", crate::output::clean(&report.to_string()));
    }
    Ok(())
}

fn progress_line(p: &Progress) -> String {
    match p.phase {
        Phase::Loading => {
            let percent = p.fraction().map(|f| format!("{:>3.0}% ", f * 100.0)).unwrap_or_default();
            let eta = p.eta_secs.map(|s| format!(", ETA {}", duration(s))).unwrap_or_default();
            format!(
                "{percent}{} records ({} rejected), {:.0} records/s, {:.1} MB/s{eta}",
                p.records, p.rejected, p.records_per_sec, p.mb_per_sec
            )
        }
        Phase::Indexing => format!("{} records loaded; building indexes…", p.records),
    }
}

fn duration(secs: f64) -> String {
    let s = secs.round() as u64;
    if s >= 3600 {
        format!("{}h{:02}m", s / 3600, (s % 3600) / 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{s}s")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn durations() {
        assert_eq!(duration(4.4), "4s");
        assert_eq!(duration(75.0), "1m15s");
        assert_eq!(duration(3725.0), "1h02m");
    }
}
