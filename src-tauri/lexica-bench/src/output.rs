//! Where `lexica-synth` writes: a plain or gzip file, or stdout; and how an existing file is
//! resumed.
//!
//! Resuming: an existing, non-empty output file is continued, not overwritten. Its complete
//! lines are counted (a partial last line, left by an interrupted run, is cut off in a plain
//! file), the last one must be record `count - 1` of the same seed (else the file is someone
//! else's and is refused), and generation continues at `count`. A gzip file is continued with
//! a new gzip member, which every gzip reader (and `lexica ingest`) reads as one stream; a
//! truncated gzip file cannot be cut back safely and is refused.

use std::fs::{File, OpenOptions};
use std::io::{BufRead, BufReader, BufWriter, Read, Write};
use std::path::{Path, PathBuf};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

use crate::BenchError;
use crate::synth::Generator;

/// Write buffer: large enough that a record (median 12 KB, at most ~300 KB) rarely splits
/// across system calls.
pub const WRITE_BUFFER_BYTES: usize = 1 << 20;

/// Where the lines go.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Destination {
    Stdout,
    File(PathBuf),
}

impl Destination {
    /// `None` or `-` means stdout.
    pub fn parse(out: Option<&str>) -> Destination {
        match out {
            None | Some("-") => Destination::Stdout,
            Some(path) => Destination::File(PathBuf::from(path)),
        }
    }
}

/// An open output and the first record index to write to it.
#[derive(Debug)]
pub struct Opened {
    pub writer: Sink,
    pub start: u64,
    /// Records already in the file (resumed), 0 otherwise.
    pub resumed: u64,
}

/// The writer behind an output. [`Sink::finish`] must end it: a gzip stream's trailer is written
/// there, and an error writing it is reported instead of being lost in a drop.
#[derive(Debug)]
pub enum Sink {
    Stdout(BufWriter<std::io::Stdout>),
    Plain(BufWriter<File>),
    Gzip(GzEncoder<BufWriter<File>>),
}

impl Write for Sink {
    fn write(&mut self, buf: &[u8]) -> std::io::Result<usize> {
        match self {
            Sink::Stdout(w) => w.write(buf),
            Sink::Plain(w) => w.write(buf),
            Sink::Gzip(w) => w.write(buf),
        }
    }

    fn write_all(&mut self, buf: &[u8]) -> std::io::Result<()> {
        match self {
            Sink::Stdout(w) => w.write_all(buf),
            Sink::Plain(w) => w.write_all(buf),
            Sink::Gzip(w) => w.write_all(buf),
        }
    }

    fn flush(&mut self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(w) => w.flush(),
            Sink::Plain(w) => w.flush(),
            Sink::Gzip(w) => w.flush(),
        }
    }
}

impl Sink {
    /// Flushes everything (and writes the gzip trailer).
    pub fn finish(self) -> std::io::Result<()> {
        match self {
            Sink::Stdout(mut w) => w.flush(),
            Sink::Plain(mut w) => w.flush(),
            Sink::Gzip(w) => w.finish()?.flush(),
        }
    }
}

fn is_gzip(path: &Path) -> bool {
    path.extension().is_some_and(|e| e == "gz")
}

/// Opens `destination` for records `start..` of `seed`. With `start` given (or `overwrite`),
/// a file is created or truncated; otherwise an existing file is resumed (see the module docs).
pub fn open(destination: &Destination, seed: u64, start: Option<u64>, overwrite: bool) -> Result<Opened, BenchError> {
    let path = match destination {
        Destination::Stdout => {
            let out = BufWriter::with_capacity(WRITE_BUFFER_BYTES, std::io::stdout());
            return Ok(Opened { writer: Sink::Stdout(out), start: start.unwrap_or(0), resumed: 0 });
        }
        Destination::File(path) => path,
    };
    let existing = std::fs::metadata(path).map(|m| m.len()).unwrap_or(0);
    let resume = start.is_none() && !overwrite && existing > 0;
    let (file, start, resumed) = if resume {
        let count = existing_records(path, seed)?;
        let file = OpenOptions::new().append(true).open(path).map_err(BenchError::io(path))?;
        (file, count, count)
    } else {
        (File::create(path).map_err(BenchError::io(path))?, start.unwrap_or(0), 0)
    };
    let buffered = BufWriter::with_capacity(WRITE_BUFFER_BYTES, file);
    // Fast compression: the default level runs at ~20 MB/s on one core, slower than the 50 MB/s
    // the generator must sustain; level 1 is several times faster for a slightly larger file.
    let writer =
        if is_gzip(path) { Sink::Gzip(GzEncoder::new(buffered, Compression::fast())) } else { Sink::Plain(buffered) };
    Ok(Opened { writer, start, resumed })
}

/// How many complete records of `seed` the file holds (cutting a partial last line off a
/// plain file), checking that they are this seed's records `0..count`.
pub fn existing_records(path: &Path, seed: u64) -> Result<u64, BenchError> {
    let refuse = |message: String| BenchError::Resume { path: path.to_path_buf(), message };
    let file = File::open(path).map_err(BenchError::io(path))?;
    let gzip = is_gzip(path);
    let reader: Box<dyn Read> = if gzip { Box::new(MultiGzDecoder::new(file)) } else { Box::new(file) };
    let mut reader = BufReader::with_capacity(WRITE_BUFFER_BYTES, reader);
    let (mut count, mut complete_bytes, mut last_head) = (0u64, 0u64, Vec::new());
    let mut line = Vec::new();
    loop {
        line.clear();
        let n = reader.read_until(b'\n', &mut line).map_err(|e| match gzip {
            true => refuse(format!("the gzip data is damaged or truncated ({e}); delete the file or use --force")),
            false => BenchError::Io { path: path.to_path_buf(), source: e },
        })?;
        if n == 0 || line.last() != Some(&b'\n') {
            break;
        }
        count += 1;
        complete_bytes += n as u64;
        last_head = line.iter().take(80).copied().collect();
    }
    if !line.is_empty() && line.last() != Some(&b'\n') {
        if gzip {
            return Err(refuse("its last line is incomplete; delete the file or use --force".into()));
        }
        tracing::info!(path = %path.display(), count, "cutting off a partial last line before resuming");
        let file = OpenOptions::new().write(true).open(path).map_err(BenchError::io(path))?;
        file.set_len(complete_bytes).map_err(BenchError::io(path))?;
    }
    if count > 0 {
        let expected = format!("{{\"source_id\":\"{}\"", Generator::source_id(seed, count - 1));
        if !last_head.starts_with(expected.as_bytes()) {
            return Err(refuse(format!(
                "its last record is not {} (another seed, or not a lexica-synth file); use --force to overwrite",
                Generator::source_id(seed, count - 1)
            )));
        }
    }
    Ok(count)
}
