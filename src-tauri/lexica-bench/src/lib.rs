//! Benchmarks at scale (issue 11): a deterministic generator of large, realistic opinion
//! sources built from the real text of the shared corpus, and the building blocks of the
//! `lexica bench` command.
//!
//! # Layout
//! - [`prng`]: SplitMix64, the small per-record random generator (record `i` depends only on
//!   the seed and `i`, so generation is reproducible, resumable and splittable).
//! - [`seed`]: the real seed text: metadata records, paragraphs (pre-escaped for JSON) and
//!   the real body-length distribution, loaded from `opinions.jsonl.gz`.
//! - [`synth`]: one synthetic record from the seed text, written as a JSON Lines line in the
//!   format `lexica ingest` reads.
//! - [`output`]: where generated lines go (file, `.gz`, stdout) and resuming a partial file.
//! - [`queries`]: reading a bench's query file (plain lines or the corpus's JSON Lines).
//! - [`stats`]: median and p95.
//! - [`baseline`]: the naive ranked statement (`ORDER BY ts_rank_cd … LIMIT 100`) on a
//!   PostgreSQL source, timed through a pool of its own.
//! - [`report`]: the bench's JSON report (the shape `lexica bench --json` prints).
//! - [`error`]: [`BenchError`], the crate's error type.

pub mod baseline;
pub mod error;
pub mod output;
pub mod prng;
pub mod queries;
pub mod report;
pub mod seed;
pub mod stats;
pub mod synth;

pub use error::BenchError;
