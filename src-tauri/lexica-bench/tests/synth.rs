//! The generator against the real seed corpus: determinism, distinct ids, records the ingest
//! accepts, a real body-length distribution, and resuming a file.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashSet;
use std::sync::OnceLock;

use lexica_bench::output::{self, Destination};
use lexica_bench::seed::{self, Seed};
use lexica_bench::synth::Generator;

/// Records each test generates: enough for the distribution checks, quick in a debug build.
const RECORDS: u64 = 2_000;
/// What a body may run past its length target: about one real paragraph.
const SLACK_BYTES: f64 = 500.0;

fn seed_text() -> &'static Seed {
    static SEED: OnceLock<Seed> = OnceLock::new();
    SEED.get_or_init(|| {
        Seed::load(&seed::default_corpus_dir()).expect("the shared corpus (see seed::DEFAULT_CORPUS_DIR)")
    })
}

fn lines(seed: u64, range: std::ops::Range<u64>) -> Vec<Vec<u8>> {
    let g = Generator::new(seed_text(), seed);
    range
        .map(|i| {
            let mut line = Vec::new();
            g.write_record(i, &mut line);
            line
        })
        .collect()
}

#[test]
fn same_seed_same_bytes_and_record_i_depends_only_on_seed_and_i() {
    let a = lines(7, 0..200);
    assert_eq!(a, lines(7, 0..200));
    // Generated out of order or from a later start: the same records.
    assert_eq!(&a[150..], &lines(7, 150..200)[..]);
    let b = lines(8, 0..200);
    assert!(a.iter().zip(&b).all(|(x, y)| x != y), "another seed gives other records");
}

#[test]
fn every_record_is_accepted_by_the_ingest_and_ids_are_distinct() {
    let mut ids = HashSet::new();
    let mut citations = 0;
    let mut dates = 0;
    for (i, line) in lines(1, 0..RECORDS).iter().enumerate() {
        assert_eq!(line.last(), Some(&b'\n'));
        let body = &line[..line.len() - 1];
        assert!(!body.contains(&b'\n'), "one record per line");
        let opinion = lexica_ingest::record::parse_line(i as u64 + 1, body)
            .unwrap_or_else(|r| panic!("record {i} rejected: {:?} {}", r.kind, r.reason));
        assert_eq!(opinion.source_id, format!("synth-1-{i}"));
        assert!(ids.insert(opinion.source_id.clone()));
        assert!(!lexica_query::text::paragraphs(&opinion.body).is_empty());
        citations += usize::from(opinion.citation.is_some());
        dates += usize::from(opinion.decided_on.is_some());
    }
    // The seed's coverage (35% citations, 93% dates) carries over, within sampling noise.
    let pct = |n: usize| n * 100 / RECORDS as usize;
    assert!((25..=45).contains(&pct(citations)), "citations {}%", pct(citations));
    assert!((85..=99).contains(&pct(dates)), "dates {}%", pct(dates));
}

#[test]
fn body_lengths_follow_the_real_distribution() {
    let mut synthetic: Vec<usize> = lines(3, 0..RECORDS)
        .iter()
        .map(|l| lexica_ingest::record::parse_line(1, &l[..l.len() - 1]).unwrap().body.len())
        .collect();
    let mut real = seed_text().body_lengths.clone();
    synthetic.sort_unstable();
    real.sort_unstable();
    let quantile = |v: &[usize], q: f64| v[((v.len() - 1) as f64 * q) as usize] as f64;
    for q in [0.1, 0.25, 0.5, 0.75, 0.9] {
        let (s, r) = (quantile(&synthetic, q), quantile(&real, q));
        // Bodies stop at the first paragraph past the target: at most about one paragraph
        // (a few hundred bytes) longer, which only shows for the shortest bodies.
        eprintln!("quantile {q}: synthetic {s} vs real {r}");
        assert!(s >= r * 0.85 && s <= r * 1.15 + SLACK_BYTES, "quantile {q}: synthetic {s} vs real {r}");
    }
    let median = quantile(&synthetic, 0.5);
    assert!((9_000.0..16_000.0).contains(&median), "median body {median} bytes (the corpus: about 12 KB)");
}

#[test]
fn a_file_is_resumed_where_it_stopped_and_other_seeds_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl");
    let whole: Vec<u8> = lines(5, 0..30).concat();
    // An interrupted run: 12 records and half of the 13th.
    let cut = lines(5, 0..12).concat().len() + 40;
    std::fs::write(&path, &whole[..cut]).unwrap();
    let mut opened = output::open(&Destination::File(path.clone()), 5, None, false).unwrap();
    assert_eq!((opened.start, opened.resumed), (12, 12));
    for line in lines(5, 12..30) {
        std::io::Write::write_all(&mut opened.writer, &line).unwrap();
    }
    opened.writer.finish().unwrap();
    assert_eq!(std::fs::read(&path).unwrap(), whole);
    let refused = output::open(&Destination::File(path.clone()), 6, None, false).unwrap_err();
    assert!(refused.to_string().contains("synth-6-29"), "{refused}");
    // --force starts over.
    assert_eq!(output::open(&Destination::File(path), 6, None, true).unwrap().start, 0);
}

#[test]
fn a_gzip_file_is_resumed_with_a_new_member() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("s.jsonl.gz");
    for (range, start) in [(0..10, 0), (10..25, 10)] {
        let mut opened = output::open(&Destination::File(path.clone()), 2, None, false).unwrap();
        assert_eq!(opened.start, start);
        for line in lines(2, range) {
            std::io::Write::write_all(&mut opened.writer, &line).unwrap();
        }
        opened.writer.finish().unwrap();
    }
    assert_eq!(output::existing_records(&path, 2).unwrap(), 25);
    let mut text = Vec::new();
    let file = std::fs::File::open(&path).unwrap();
    std::io::Read::read_to_end(&mut flate2::read::MultiGzDecoder::new(file), &mut text).unwrap();
    assert_eq!(text, lines(2, 0..25).concat());
}
