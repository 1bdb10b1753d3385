//! What an ingest tells its caller: [`Progress`] while it runs, an [`IngestReport`] at the end.

use std::fmt;
use std::time::Duration;

use serde::Serialize;

use crate::record::RejectedRecord;

/// Most rejected records listed one by one in a report; the counts stay exact beyond it. A
/// file of garbage must not turn the report into a second copy of the file.
pub const MAX_LISTED_REJECTIONS: usize = 10_000;

/// One megabyte, as rates are reported (decimal, like network and disk rates).
const MB: f64 = 1_000_000.0;

/// What the ingest is doing.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Phase {
    /// Reading and writing records.
    Loading,
    /// All records are written; building indexes and statistics.
    Indexing,
}

/// A progress update, sent after each batch is committed (and once when indexing starts).
#[derive(Debug, Clone, Serialize)]
pub struct Progress {
    pub phase: Phase,
    /// Records (non-blank input lines) processed so far, rejected ones included.
    pub records: u64,
    /// Records rejected so far.
    pub rejected: u64,
    /// Bytes of the input file consumed so far (compressed bytes for a `.gz` file).
    pub file_bytes_read: u64,
    /// Size of the input file, when known.
    pub file_bytes_total: Option<u64>,
    /// Decompressed JSON Lines bytes read so far (what [`Progress::mb_per_sec`] counts).
    pub input_bytes: u64,
    pub elapsed_secs: f64,
    pub records_per_sec: f64,
    /// Decompressed input megabytes (10^6 bytes) per second so far, as the report's `mb_per_sec`.
    pub mb_per_sec: f64,
    /// Estimated time left for loading (from the share of the file read), when known.
    pub eta_secs: Option<f64>,
}

impl Progress {
    pub(crate) fn new(
        phase: Phase,
        (records, rejected, input_bytes): (u64, u64, u64),
        read: u64,
        total: Option<u64>,
        elapsed: Duration,
    ) -> Self {
        let secs = elapsed.as_secs_f64();
        let eta_secs = match (phase, total) {
            (Phase::Loading, Some(total)) if read > 0 && secs > 0.0 => {
                Some(secs * (total.saturating_sub(read)) as f64 / read as f64)
            }
            (Phase::Indexing, _) => None,
            _ => None,
        };
        Self {
            phase,
            records,
            rejected,
            file_bytes_read: read,
            file_bytes_total: total,
            input_bytes,
            elapsed_secs: secs,
            records_per_sec: rate(records as f64, secs),
            mb_per_sec: rate(input_bytes as f64 / MB, secs),
            eta_secs,
        }
    }

    /// Share of the input read, 0.0–1.0, when the size is known.
    pub fn fraction(&self) -> Option<f64> {
        self.file_bytes_total.filter(|&t| t > 0).map(|t| (self.file_bytes_read as f64 / t as f64).min(1.0))
    }
}

/// What an ingest did. Serializes to the JSON the CLI prints with `--json`.
#[derive(Debug, Clone, Default, Serialize)]
pub struct IngestReport {
    /// The input file (or the built-in sample's name).
    pub input: String,
    /// The target, with any password redacted.
    pub target: String,
    /// Records read: non-blank lines of the input.
    pub records: u64,
    /// New opinions written.
    pub inserted: u64,
    /// Opinions whose `source_id` existed with different content: replaced.
    pub updated: u64,
    /// Opinions already present with identical content: left as they were.
    pub unchanged: u64,
    /// Records not loaded (see `rejected_records`).
    pub rejected: u64,
    /// Paragraph rows written for inserted and updated opinions.
    pub paragraphs_written: u64,
    /// Rejected records in line order, at most [`MAX_LISTED_REJECTIONS`].
    pub rejected_records: Vec<RejectedRecord>,
    /// Rejected records beyond the listed ones.
    pub rejected_not_listed: u64,
    /// Decompressed JSON Lines bytes read.
    pub input_bytes: u64,
    /// Wall time from start to finish, index building included.
    pub elapsed_secs: f64,
    /// Opinions accepted (inserted + updated + unchanged) per second of `elapsed_secs`.
    pub opinions_per_sec: f64,
    /// Decompressed input megabytes (10^6 bytes) per second of `elapsed_secs`.
    pub mb_per_sec: f64,
}

impl IngestReport {
    /// Opinions accepted: inserted + updated + unchanged.
    pub fn opinions(&self) -> u64 {
        self.inserted + self.updated + self.unchanged
    }

    pub(crate) fn reject(&mut self, rejected: RejectedRecord) {
        self.rejected += 1;
        if self.rejected_records.len() < MAX_LISTED_REJECTIONS {
            self.rejected_records.push(rejected);
        } else {
            self.rejected_not_listed += 1;
        }
    }

    pub(crate) fn finish(&mut self, elapsed: Duration) {
        self.rejected_records.sort_by_key(|r| r.line);
        self.elapsed_secs = elapsed.as_secs_f64();
        self.opinions_per_sec = rate(self.opinions() as f64, self.elapsed_secs);
        self.mb_per_sec = rate(self.input_bytes as f64 / MB, self.elapsed_secs);
    }

    /// The closing line: `Ingested 1,663 opinions in 9.8 s: 170 opinions/s, 3.3 MB/s`.
    pub fn rate_line(&self) -> String {
        format!(
            "Ingested {} opinions ({:.1} MB) in {:.1} s: {:.0} opinions/s, {:.1} MB/s",
            thousands(self.opinions()),
            self.input_bytes as f64 / MB,
            self.elapsed_secs,
            self.opinions_per_sec,
            self.mb_per_sec
        )
    }
}

impl fmt::Display for IngestReport {
    /// The human report: counts, every listed rejection, then the rate line.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "{} -> {}", self.input, self.target)?;
        writeln!(
            f,
            "records {}: inserted {}, updated {}, unchanged {}, rejected {}; paragraph rows written {}",
            thousands(self.records),
            thousands(self.inserted),
            thousands(self.updated),
            thousands(self.unchanged),
            thousands(self.rejected),
            thousands(self.paragraphs_written)
        )?;
        for r in &self.rejected_records {
            let id = r.source_id.as_deref().map(|s| format!(" ({s})")).unwrap_or_default();
            writeln!(f, "  line {}{id}: {}", r.line, r.reason)?;
        }
        if self.rejected_not_listed > 0 {
            writeln!(f, "  … and {} more rejected records not listed", thousands(self.rejected_not_listed))?;
        }
        write!(f, "{}", self.rate_line())
    }
}

fn rate(amount: f64, secs: f64) -> f64 {
    if secs > 0.0 { amount / secs } else { 0.0 }
}

/// `1663` → `1,663`.
pub(crate) fn thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats() {
        assert_eq!(thousands(0), "0");
        assert_eq!(thousands(1663), "1,663");
        assert_eq!(thousands(1_234_567), "1,234,567");
        let p = Progress::new(Phase::Loading, (100, 1, 3_000_000), 25, Some(100), Duration::from_secs(2));
        assert_eq!(p.eta_secs, Some(6.0));
        assert_eq!(p.records_per_sec, 50.0);
        assert_eq!(p.mb_per_sec, 1.5);
        assert_eq!(p.fraction(), Some(0.25));
    }
}
