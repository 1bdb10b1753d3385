//! `lexica-synth`: writes N deterministic, realistic opinions as JSON Lines (the format
//! `lexica ingest` reads), built from the real text of the shared corpus. See the
//! `lexica_bench::synth` docs for how a record is made and `lexica_bench::output` for resuming.
//!
//! ```sh
//! lexica-synth --opinions 200000 --seed 1 --out ~/.cache/lexica/bench/synth-1-200000.jsonl
//! ```

use std::io::{IsTerminal, Write};
use std::path::PathBuf;
use std::process::ExitCode;
use std::time::{Duration, Instant};

use clap::Parser;
use lexica_bench::output::{self, Destination};
use lexica_bench::seed::{self, Seed};
use lexica_bench::synth::Generator;

/// How often the progress line on a terminal is redrawn.
const PROGRESS_EVERY: Duration = Duration::from_secs(1);
/// Bytes in a megabyte, for rates (decimal, as disk and network rates are quoted).
const MB: f64 = 1_000_000.0;

/// Writes N synthetic opinions made of real text (deterministic: record i depends only on the seed and i).
#[derive(Debug, Parser)]
#[command(name = "lexica-synth", version, about)]
struct Args {
    /// How many opinions the output holds when done (records 0..N).
    #[arg(long, value_name = "N")]
    opinions: u64,
    /// The seed: the same seed gives the same bytes.
    #[arg(long, default_value_t = 1)]
    seed: u64,
    /// Output file (`.gz` is compressed) or `-` for stdout (the default). An existing file is
    /// resumed: its records are kept and the missing ones appended.
    #[arg(long, value_name = "FILE")]
    out: Option<String>,
    /// Write only records K..N (into a new or truncated file, or stdout), e.g. to split generation.
    #[arg(long, value_name = "K")]
    start: Option<u64>,
    /// Overwrite an existing output file instead of resuming it.
    #[arg(long)]
    force: bool,
    /// The corpus folder holding opinions.jsonl.gz (default: $LEXICA_CORPUS_DIR, else ../shared/corpus).
    #[arg(long, value_name = "DIR")]
    corpus: Option<PathBuf>,
    /// No progress or summary on stderr.
    #[arg(long)]
    quiet: bool,
}

fn main() -> ExitCode {
    let args = Args::parse();
    match run(&args) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

fn run(args: &Args) -> Result<(), lexica_bench::BenchError> {
    let corpus = args.corpus.clone().unwrap_or_else(seed::default_corpus_dir);
    let seed_text = Seed::load(&corpus)?;
    let destination = Destination::parse(args.out.as_deref());
    let label = match &destination {
        Destination::Stdout => PathBuf::from("stdout"),
        Destination::File(p) => p.clone(),
    };
    let mut opened = output::open(&destination, args.seed, args.start, args.force)?;
    let generator = Generator::new(&seed_text, args.seed);
    let progress = !args.quiet && std::io::stderr().is_terminal();
    if opened.resumed > 0 && !args.quiet {
        eprintln!("resuming {}: {} record(s) already there", label.display(), opened.resumed);
    }
    let started = Instant::now();
    let mut last_progress = started;
    let mut bytes = 0u64;
    let mut line = Vec::with_capacity(1 << 16);
    let total = args.opinions.saturating_sub(opened.start);
    for index in opened.start..args.opinions {
        line.clear();
        generator.write_record(index, &mut line);
        opened.writer.write_all(&line).map_err(lexica_bench::BenchError::io(&label))?;
        bytes += line.len() as u64;
        if progress && last_progress.elapsed() >= PROGRESS_EVERY {
            last_progress = Instant::now();
            let done = index + 1 - opened.start;
            let rate = bytes as f64 / MB / started.elapsed().as_secs_f64();
            eprint!("\r{done}/{total} records, {:.0} MB, {rate:.0} MB/s\x1b[K", bytes as f64 / MB);
        }
    }
    opened.writer.finish().map_err(lexica_bench::BenchError::io(&label))?;
    if !args.quiet {
        let secs = started.elapsed().as_secs_f64();
        if progress {
            eprint!("\r\x1b[K");
        }
        eprintln!(
            "wrote {total} record(s) ({:.1} MB uncompressed) to {} in {secs:.1} s ({:.0} MB/s)",
            bytes as f64 / MB,
            label.display(),
            bytes as f64 / MB / secs.max(f64::EPSILON)
        );
    }
    Ok(())
}
