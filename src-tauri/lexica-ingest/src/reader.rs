//! Reads JSON Lines input (plain or gzip, detected by its magic bytes, not its name) on a
//! blocking thread, validates and prepares each record, and hands batches to the loader
//! through a bounded channel, so parsing and normalizing overlap with the database's work.

use std::collections::HashMap;
use std::fs::File;
use std::io::{self, BufRead, BufReader, Read};
use std::path::Path;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};

use flate2::read::MultiGzDecoder;
use tokio::sync::mpsc;

use crate::error::IngestError;
use crate::record::{self, Prepared, RejectKind, RejectedRecord};

/// Most records per batch. One batch is one database transaction: a smaller batch gives finer
/// progress and less work lost when a load is interrupted; a larger one fewer round trips.
/// Measured on the full corpus, 100–1,000 load at the same rate.
pub const BATCH_MAX_RECORDS: usize = 250;

/// Most input bytes per batch, so a run of very long opinions does not make one huge
/// transaction (and COPY buffer).
pub const BATCH_MAX_BYTES: usize = 8 * 1024 * 1024;

/// Batches read ahead of the loader. Two keep both CPU cores busy (this thread normalizing,
/// the database indexing) while bounding memory to a few batches.
pub const PIPELINE_DEPTH: usize = 2;

/// Longest line read into memory; longer lines are rejected without being buffered whole.
/// JSON escaping can make a line several times its body, which is itself capped at
/// [`record::MAX_BODY_BYTES`].
pub const MAX_LINE_BYTES: usize = 64 * 1024 * 1024;

/// Most threads preparing records (normalizing text, building vectors) at once.
pub const MAX_PREPARE_THREADS: usize = 4;

/// Buffer for reading the input file and the decompressed stream.
const READ_BUFFER_BYTES: usize = 256 * 1024;

/// An opened input: a line reader plus a counter of raw (possibly compressed) bytes consumed,
/// which is what progress and ETA are measured against.
pub(crate) struct Input {
    pub label: String,
    reader: Box<dyn BufRead + Send>,
    pub raw_bytes_read: Arc<AtomicU64>,
    pub raw_bytes_total: Option<u64>,
}

impl std::fmt::Debug for Input {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Input").field("label", &self.label).field("raw_bytes_total", &self.raw_bytes_total).finish()
    }
}

impl Input {
    pub fn open(path: &Path) -> Result<Self, IngestError> {
        let open_err = |source| IngestError::OpenInput { path: path.to_path_buf(), source };
        let file = File::open(path).map_err(open_err)?;
        let meta = file.metadata().map_err(open_err)?;
        if meta.is_dir() {
            return Err(open_err(io::Error::new(io::ErrorKind::IsADirectory, "it is a directory")));
        }
        Self::from_reader(path.display().to_string(), file, Some(meta.len())).map_err(open_err)
    }

    /// Any byte stream (the demo's embedded file uses this).
    pub fn from_reader(label: String, reader: impl Read + Send + 'static, total: Option<u64>) -> io::Result<Self> {
        let counter = Arc::new(AtomicU64::new(0));
        let mut raw =
            BufReader::with_capacity(READ_BUFFER_BYTES, Counting { inner: reader, count: Arc::clone(&counter) });
        let is_gzip = raw.fill_buf()?.starts_with(&[0x1f, 0x8b]);
        let reader: Box<dyn BufRead + Send> = if is_gzip {
            // Multi-member: files made by pigz/bgzip or by concatenating .gz files.
            Box::new(BufReader::with_capacity(READ_BUFFER_BYTES, MultiGzDecoder::new(raw)))
        } else {
            Box::new(raw)
        };
        Ok(Self { label, reader, raw_bytes_read: counter, raw_bytes_total: total })
    }
}

struct Counting<R> {
    inner: R,
    count: Arc<AtomicU64>,
}

impl<R: Read> Read for Counting<R> {
    fn read(&mut self, buf: &mut [u8]) -> io::Result<usize> {
        let n = self.inner.read(buf)?;
        self.count.fetch_add(n as u64, Ordering::Relaxed);
        Ok(n)
    }
}

/// One unit of work for the loader.
#[derive(Debug, Default)]
pub(crate) struct Batch {
    pub records: Vec<Prepared>,
    pub rejected: Vec<RejectedRecord>,
    /// Records (non-blank lines) read so far, this batch included.
    pub lines_so_far: u64,
    /// Decompressed input bytes read so far.
    pub input_bytes_so_far: u64,
}

#[derive(Debug)]
pub(crate) enum Message {
    Batch(Batch),
    /// Reading stopped; everything before `line` was sent.
    Failed {
        line: u64,
        error: io::Error,
    },
}

/// Reads the whole input, sending batches; returns when done or when the loader hung up.
/// Runs on a blocking thread. `pg_vectors`: also build PostgreSQL vector literals.
pub(crate) fn read_batches(mut input: Input, tx: mpsc::Sender<Message>, pg_vectors: bool) {
    let mut line_no: u64 = 0;
    let mut records: u64 = 0;
    let mut input_bytes: u64 = 0;
    let mut seen: HashMap<String, u64> = HashMap::new();
    let mut buf = Vec::new();
    let mut batch = Batch::default();
    let mut pending: Vec<(u64, record::Opinion)> = Vec::new();
    let mut batch_bytes = 0usize;
    let threads = std::thread::available_parallelism().map_or(1, usize::from).clamp(1, MAX_PREPARE_THREADS);
    loop {
        buf.clear();
        let (consumed, too_long) = match read_line_limited(&mut input.reader, &mut buf, MAX_LINE_BYTES) {
            Ok(Some(read)) => read,
            Ok(None) => break,
            Err(error) => {
                prepare_all(&mut batch, std::mem::take(&mut pending), pg_vectors, threads);
                batch.lines_so_far = records;
                batch.input_bytes_so_far = input_bytes;
                let _ = tx.blocking_send(Message::Batch(batch));
                let _ = tx.blocking_send(Message::Failed { line: line_no, error });
                return;
            }
        };
        line_no += 1;
        input_bytes += consumed as u64;
        let mut line: &[u8] = &buf;
        while let [rest @ .., b'\n' | b'\r'] = line {
            line = rest;
        }
        if line_no == 1 {
            line = line.strip_prefix(b"\xEF\xBB\xBF").unwrap_or(line);
        }
        // Blank lines (e.g. a trailing one) are not records.
        if !too_long && line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        records += 1;
        batch_bytes += consumed;
        if too_long {
            batch.rejected.push(RejectedRecord {
                line: line_no,
                source_id: None,
                kind: RejectKind::MalformedJson,
                reason: format!("line is longer than {MAX_LINE_BYTES} bytes"),
            });
        } else {
            match record::parse_line(line_no, line).and_then(|o| check_duplicate(&seen, line_no, o)) {
                Ok(opinion) => {
                    seen.insert(opinion.source_id.clone(), line_no);
                    pending.push((line_no, opinion));
                }
                Err(rejected) => batch.rejected.push(rejected),
            }
        }
        if pending.len() >= BATCH_MAX_RECORDS
            || batch_bytes >= BATCH_MAX_BYTES
            || batch.rejected.len() >= BATCH_MAX_RECORDS * 4
        {
            prepare_all(&mut batch, std::mem::take(&mut pending), pg_vectors, threads);
            batch.lines_so_far = records;
            batch.input_bytes_so_far = input_bytes;
            if tx.blocking_send(Message::Batch(std::mem::take(&mut batch))).is_err() {
                return; // the loader stopped (it reports why)
            }
            batch_bytes = 0;
        }
    }
    prepare_all(&mut batch, pending, pg_vectors, threads);
    batch.lines_so_far = records;
    batch.input_bytes_so_far = input_bytes;
    let _ = tx.blocking_send(Message::Batch(batch));
}

/// Normalizes and paragraph-splits a batch's records (and builds PostgreSQL vectors) on up to
/// `threads` threads: in unoptimized (test) builds this is most of the client's work.
fn prepare_all(batch: &mut Batch, pending: Vec<(u64, record::Opinion)>, pg_vectors: bool, threads: usize) {
    let prepare = |(line, opinion): (u64, record::Opinion)| {
        let source_id = opinion.source_id.clone();
        // Text processing must not panic on any input; if it ever does, that record is
        // rejected (and the bug visible in the report) instead of the ingest dying.
        std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| record::prepare(line, opinion, pg_vectors)))
            .unwrap_or_else(|_| {
                Err(RejectedRecord {
                    line,
                    source_id: Some(source_id),
                    kind: RejectKind::InvalidField,
                    reason: "Lexica's text processing failed on this record (a bug: please report it with the record)"
                        .into(),
                })
            })
    };
    let results: Vec<Result<Prepared, RejectedRecord>> = if threads <= 1 || pending.len() < 2 {
        pending.into_iter().map(prepare).collect()
    } else {
        // Interleaved shares (record i to thread i % n) balance long and short opinions.
        let mut shares: Vec<Vec<(usize, (u64, record::Opinion))>> = (0..threads).map(|_| Vec::new()).collect();
        for (i, item) in pending.into_iter().enumerate() {
            shares[i % threads].push((i, item));
        }
        let mut indexed: Vec<(usize, Result<Prepared, RejectedRecord>)> = std::thread::scope(|scope| {
            let handles: Vec<_> = shares
                .into_iter()
                .map(|share| {
                    scope.spawn(move || share.into_iter().map(|(i, item)| (i, prepare(item))).collect::<Vec<_>>())
                })
                .collect();
            // `prepare` catches panics, so a share always completes.
            handles.into_iter().filter_map(|h| h.join().ok()).flatten().collect()
        });
        indexed.sort_by_key(|(i, _)| *i);
        indexed.into_iter().map(|(_, r)| r).collect()
    };
    for result in results {
        match result {
            Ok(prepared) => batch.records.push(prepared),
            Err(rejected) => batch.rejected.push(rejected),
        }
    }
}

fn check_duplicate(
    seen: &HashMap<String, u64>,
    line: u64,
    o: record::Opinion,
) -> Result<record::Opinion, RejectedRecord> {
    match seen.get(&o.source_id) {
        Some(first) => Err(RejectedRecord {
            line,
            reason: format!("`source_id` {:?} already appeared on line {first} of this file", o.source_id),
            source_id: Some(o.source_id),
            kind: RejectKind::DuplicateSourceId,
        }),
        None => Ok(o),
    }
}

/// Reads one line (newline included) into `buf`, at most `max` bytes of it; the rest of an
/// over-long line is consumed and dropped. `None` at end of input; otherwise the bytes consumed
/// and whether the line was too long.
fn read_line_limited(r: &mut dyn BufRead, buf: &mut Vec<u8>, max: usize) -> io::Result<Option<(usize, bool)>> {
    let mut consumed = 0;
    let mut too_long = false;
    loop {
        let available = match r.fill_buf() {
            Ok(b) => b,
            Err(e) if e.kind() == io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        if available.is_empty() {
            return Ok((consumed > 0).then_some((consumed, too_long)));
        }
        let (n, done) = match available.iter().position(|&b| b == b'\n') {
            Some(i) => (i + 1, true),
            None => (available.len(), false),
        };
        if !too_long {
            if buf.len() + n > max {
                too_long = true;
                buf.clear();
            } else {
                buf.extend_from_slice(&available[..n]);
            }
        }
        r.consume(n);
        consumed += n;
        if done {
            return Ok(Some((consumed, too_long)));
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn long_lines_are_skipped_whole() {
        let data = b"short\n0123456789abc\nnext\nlast-no-newline".to_vec();
        let mut r = BufReader::with_capacity(4, &data[..]);
        let mut buf = Vec::new();
        let mut got = Vec::new();
        while let Some((n, long)) = read_line_limited(&mut r, &mut buf, 8).expect("read") {
            got.push((String::from_utf8_lossy(&buf).to_string(), n, long));
            buf.clear();
        }
        assert_eq!(
            got,
            [
                ("short\n".to_string(), 6, false),
                (String::new(), 14, true),
                ("next\n".to_string(), 5, false),
                (String::new(), 15, true)
            ]
        );
    }
}
