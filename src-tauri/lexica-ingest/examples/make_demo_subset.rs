//! Re-makes the built-in demo subset `demo/sample-opinions.jsonl.gz` from the shared corpus.
//!
//! ```text
//! cargo run -p lexica-ingest --example make_demo_subset -- \
//!     ../shared/corpus/opinions.jsonl.gz src-tauri/lexica-ingest/demo/sample-opinions.jsonl.gz
//! ```
//!
//! Selection (deterministic; see demo/PROVENANCE.md):
//! - every state-court opinion and every federal opinion outside the Supreme Court and the
//!   First and Second Circuits (the corpus has few: they are the variety);
//! - Supreme Court: up to [`SCOTUS_PER_DECADE`] per decade of decision;
//! - First Circuit: up to [`FIRST_CIRCUIT_PER_YEAR`] per year; Second Circuit: up to
//!   [`SECOND_CIRCUIT_TOTAL`];
//! - within a stratum, opinions with bodies under [`MAX_BODY_BYTES`] (keeps the file small),
//!   sorted by date then `source_id`, taken at even spacing so the picks span the stratum;
//! - plus [`ALWAYS`], opinions the tests search for by a known phrase.
//!
//! Records are written unchanged, in corpus order.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, BTreeSet};
use std::io::{BufRead, BufReader, Write};

use flate2::Compression;
use flate2::read::MultiGzDecoder;
use flate2::write::GzEncoder;

const SCOTUS_PER_DECADE: usize = 32;
const FIRST_CIRCUIT_PER_YEAR: usize = 12;
const SECOND_CIRCUIT_TOTAL: usize = 25;
const MAX_BODY_BYTES: usize = 60_000;
/// Louisiana & W. R. Co. v. Gardiner, 273 U.S. 280 (1927): the tests' known phrase.
const ALWAYS: &[&str] = &["courtlistener-opinion:101010"];

fn main() {
    let args: Vec<String> = std::env::args().collect();
    let (input, output) = match args.as_slice() {
        [_, i, o] => (i.clone(), o.clone()),
        _ => {
            eprintln!("usage: make_demo_subset CORPUS.jsonl.gz OUT.jsonl.gz");
            std::process::exit(2);
        }
    };
    let reader = BufReader::new(MultiGzDecoder::new(std::fs::File::open(&input).expect("open corpus")));
    let lines: Vec<String> = reader.lines().collect::<Result<_, _>>().expect("read corpus");
    let records: Vec<serde_json::Value> = lines.iter().map(|l| serde_json::from_str(l).expect("corpus line")).collect();

    // stratum -> (date, source_id, index)
    let mut strata: BTreeMap<String, Vec<(String, String, usize)>> = BTreeMap::new();
    let mut picked: BTreeSet<usize> = BTreeSet::new();
    for (i, r) in records.iter().enumerate() {
        let court = r["court"].as_str().unwrap_or("");
        let date = r["decided_on"].as_str().unwrap_or("").to_string();
        let id = r["source_id"].as_str().unwrap_or("").to_string();
        let body_len = r["body"].as_str().map_or(0, str::len);
        if ALWAYS.contains(&id.as_str()) {
            picked.insert(i);
            continue;
        }
        let stratum = match court {
            "Supreme Court of the United States" => format!("scotus {}", date.get(..3).unwrap_or("????")),
            "United States Court of Appeals for the First Circuit" => {
                format!("ca1 {}", date.get(..4).unwrap_or("????"))
            }
            "United States Court of Appeals for the Second Circuit" => "ca2".to_string(),
            _ => {
                picked.insert(i); // state courts and other federal courts: all of them
                continue;
            }
        };
        if body_len <= MAX_BODY_BYTES {
            strata.entry(stratum).or_default().push((date, id, i));
        }
    }
    for (stratum, mut members) in strata {
        members.sort();
        let quota = if stratum.starts_with("scotus") {
            SCOTUS_PER_DECADE
        } else if stratum.starts_with("ca1") {
            FIRST_CIRCUIT_PER_YEAR
        } else {
            SECOND_CIRCUIT_TOTAL
        };
        let take = quota.min(members.len());
        for k in 0..take {
            // Even spacing over the sorted stratum: first, ..., last.
            let at = if take == 1 { members.len() / 2 } else { k * (members.len() - 1) / (take - 1) };
            picked.insert(members[at].2);
        }
        eprintln!("{stratum}: {take} of {}", members.len());
    }
    let out = std::fs::File::create(&output).expect("create output");
    let mut gz = GzEncoder::new(out, Compression::best());
    for &i in &picked {
        writeln!(gz, "{}", lines[i]).expect("write");
    }
    gz.finish().expect("finish gzip");
    let size = std::fs::metadata(&output).map(|m| m.len()).unwrap_or(0);
    eprintln!("{} opinions -> {output} ({size} bytes)", picked.len());
}
