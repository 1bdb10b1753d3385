//! The real text synthetic records are made of, loaded once from the shared corpus's
//! `opinions.jsonl.gz`: each opinion's metadata, its paragraphs (split with the same rule the
//! ingest uses, `lexica_query::text::paragraphs`) and its body length.
//!
//! Paragraphs are JSON-escaped here, once, so writing a record is copying bytes: that is what
//! lets the generator write well over 50 MB/s on one core.

use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};

use flate2::read::MultiGzDecoder;
use serde::Deserialize;

use crate::BenchError;

/// The seed file inside the corpus folder.
pub const SEED_FILE: &str = "opinions.jsonl.gz";
/// Environment variable naming the corpus folder (default: [`DEFAULT_CORPUS_DIR`]).
pub const CORPUS_DIR_ENV: &str = "LEXICA_CORPUS_DIR";
/// The shared corpus beside the checkout (`../shared/corpus`), as the other crates' tests find it.
pub const DEFAULT_CORPUS_DIR: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");

/// The corpus folder: `$LEXICA_CORPUS_DIR`, else the shared corpus beside the checkout.
pub fn default_corpus_dir() -> PathBuf {
    std::env::var_os(CORPUS_DIR_ENV).map_or_else(|| PathBuf::from(DEFAULT_CORPUS_DIR), PathBuf::from)
}

/// One real opinion's metadata, as the corpus holds it.
#[derive(Debug, Clone, Deserialize)]
pub struct Meta {
    pub case_name: Option<String>,
    pub citation: Option<String>,
    pub court: Option<String>,
    pub jurisdiction: Option<String>,
    pub decided_on: Option<String>,
    pub docket_number: Option<String>,
}

#[derive(Debug, Deserialize)]
struct SeedRecord {
    #[serde(flatten)]
    meta: Meta,
    body: Option<String>,
}

/// One real paragraph.
#[derive(Debug, Clone)]
pub struct Para {
    /// The paragraph as a JSON string's contents (escaped, without the quotes).
    pub escaped: String,
    /// Its length in bytes before escaping (what body lengths are measured in).
    pub len: usize,
}

/// Everything the generator draws from.
#[derive(Debug)]
pub struct Seed {
    /// Metadata of every usable opinion (case name and court present).
    pub metas: Vec<Meta>,
    /// Each usable opinion's paragraphs, in order (same indices as `metas`).
    pub bodies: Vec<Vec<Para>>,
    /// Each usable opinion's body length in bytes: the distribution synthetic bodies follow.
    pub body_lengths: Vec<usize>,
}

impl Seed {
    /// Loads `dir/opinions.jsonl.gz`.
    pub fn load(dir: &Path) -> Result<Seed, BenchError> {
        let path = dir.join(SEED_FILE);
        let file = std::fs::File::open(&path).map_err(BenchError::io(&path))?;
        let mut seed = Seed { metas: Vec::new(), bodies: Vec::new(), body_lengths: Vec::new() };
        for (n, line) in BufReader::new(MultiGzDecoder::new(file)).lines().enumerate() {
            let line = line.map_err(BenchError::io(&path))?;
            if line.trim().is_empty() {
                continue;
            }
            let record: SeedRecord = serde_json::from_str(&line).map_err(|e| BenchError::SeedRecord {
                path: path.clone(),
                line: n as u64 + 1,
                message: e.to_string(),
            })?;
            seed.push(record);
        }
        if seed.metas.is_empty() {
            return Err(BenchError::EmptySeed { path });
        }
        tracing::debug!(opinions = seed.metas.len(), "seed corpus loaded");
        Ok(seed)
    }

    fn push(&mut self, record: SeedRecord) {
        let usable = |s: &Option<String>| s.as_deref().is_some_and(|s| !s.trim().is_empty());
        let Some(body) = record.body.filter(|b| !b.trim().is_empty()) else { return };
        if !usable(&record.meta.case_name) || !usable(&record.meta.court) {
            return;
        }
        let paragraphs: Vec<Para> = lexica_query::text::paragraphs(&body)
            .into_iter()
            .map(|p| Para { len: p.len(), escaped: escape(&p) })
            .collect();
        if paragraphs.is_empty() {
            return;
        }
        self.metas.push(record.meta);
        self.bodies.push(paragraphs);
        self.body_lengths.push(body.len());
    }
}

/// `text` as the contents of a JSON string (serde_json's escaping, without the quotes).
pub fn escape(text: &str) -> String {
    let quoted = serde_json::Value::String(text.to_string()).to_string();
    quoted[1..quoted.len() - 1].to_string()
}
