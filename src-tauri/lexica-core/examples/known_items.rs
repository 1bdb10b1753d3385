//! Known-item check of the search language on the shared corpus (issue note figures):
//! for the 26 queries with a judged relevant opinion in the corpus (other than the citing
//! opinion), where does that opinion rank, in Lexica and in a BM25 bag-of-words baseline computed
//! in the same run over the same opinions? Two modes: Boolean (the researcher's query) and
//! statements (the topic text without the cited case names).
//!
//! ```text
//! cargo run --release -p lexica-core --example known_items -- [BUNDLE.sqlite] [--json PATH]
//! ```
//! The bundle (the full corpus, `opinions.jsonl.gz`) is built with Lexica's ingest if the file
//! does not exist (default `/tmp/lexica-known-items.sqlite`).
//!
//! Prints the per-query rank table (query id; rank of the first judged relevant opinion in Lexica
//! Boolean, BM25 Boolean, Lexica statements, BM25 statements; `-` = not in the results, `error` =
//! Lexica refused the query), then MRR@10 (mean of 1/rank for ranks ≤ 10, 0 otherwise) and
//! recall@100 (share of the queries whose judged opinion ranks in the top 100) for each mode and
//! system. `--json PATH` also writes those figures and the per-query ranks as JSON.
//!
//! The baseline, in memory over all 1,663 opinions of `opinions.jsonl.gz`:
//! - document = the Lexica words ([`lexica_query::text::words`]) of case name, citation, court and
//!   body, concatenated; BM25 with k1 = 1.2, b = 0.75, idf = ln(1 + (N − df + 0.5) / (df + 0.5)),
//!   average document length over the corpus;
//! - Boolean-mode terms: the words of the query with the connectors dropped (`and or not but w pre
//!   s p`, the numbers of `/n` and `+n`, the field names `ti co ci da name` when `(` follows); a
//!   word written with `!` or `*` is one prefix term matching every document word that starts
//!   with it (tf = the sum of those words' tf, df = the largest of their df); duplicates once;
//! - statements-mode terms: the words of [`lexica_query::statements::keywords`] of the topic text
//!   (phrases flattened into their words), duplicates once;
//! - opinions with a score above 0 are ranked by score, ties by CourtListener id (ascending, other
//!   sources' ids after them); the citing opinion is skipped, as on the Lexica side.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::{BTreeMap, HashMap, HashSet};
use std::io::BufRead;
use std::sync::Arc;

use lexica_core::credentials::Keychain;
use lexica_core::models::{PermissionLevel, SourceChanges};
use lexica_core::search::{SearchModeInput, SearchRequest};
use lexica_core::{Lexica, db};
use lexica_query::text::words;
use sqlx::Connection;
use tokio_util::sync::CancellationToken;

const SHARED: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus");
const K1: f64 = 1.2;
const B: f64 = 0.75;
const MODES: [&str; 2] = ["boolean", "statements"];
const SYSTEMS: [&str; 2] = ["lexica", "bm25"];

/// The opinion id used by the judgments: the part of `source_id` after its last `:`.
fn opinion_key(source_id: &str) -> String {
    source_id.rsplit(':').next().unwrap_or_default().to_string()
}

/// A baseline query term: a word, or a prefix (`root!`, `root*`).
#[derive(Debug, Clone, PartialEq, Eq)]
struct QueryTerm {
    text: String,
    prefix: bool,
}

/// The BM25 baseline's in-memory index.
#[derive(Debug)]
struct Bm25 {
    /// Opinion key per document, in corpus order.
    keys: Vec<String>,
    /// Position of each document in the tie order (CourtListener id ascending).
    tie: Vec<usize>,
    lengths: Vec<f64>,
    average_length: f64,
    /// Word → index into `postings`; ordered, for prefix ranges.
    vocabulary: BTreeMap<String, usize>,
    /// Per word: (document, tf), documents ascending.
    postings: Vec<Vec<(usize, u32)>>,
}

impl Bm25 {
    fn load(path: &str) -> Bm25 {
        let reader = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(std::fs::File::open(path).unwrap()));
        let mut index = Bm25 {
            keys: Vec::new(),
            tie: Vec::new(),
            lengths: Vec::new(),
            average_length: 0.0,
            vocabulary: BTreeMap::new(),
            postings: Vec::new(),
        };
        for line in reader.lines() {
            let line = line.unwrap();
            if line.trim().is_empty() {
                continue;
            }
            let o: serde_json::Value = serde_json::from_str(&line).unwrap();
            let field = |name: &str| words(o[name].as_str().unwrap_or(""));
            let doc_words: Vec<String> =
                ["case_name", "citation", "court", "body"].into_iter().flat_map(field).collect();
            let document = index.keys.len();
            let mut tf: HashMap<&str, u32> = HashMap::new();
            for w in &doc_words {
                *tf.entry(w.as_str()).or_default() += 1;
            }
            let mut tf: Vec<(&str, u32)> = tf.into_iter().collect();
            tf.sort_unstable();
            for (w, n) in tf {
                let next = index.postings.len();
                let id = *index.vocabulary.entry(w.to_string()).or_insert(next);
                if id == next {
                    index.postings.push(Vec::new());
                }
                index.postings[id].push((document, n));
            }
            index.keys.push(opinion_key(o["source_id"].as_str().unwrap()));
            index.lengths.push(doc_words.len() as f64);
        }
        let n = index.keys.len();
        index.average_length = index.lengths.iter().sum::<f64>() / n.max(1) as f64;
        let mut order: Vec<usize> = (0..n).collect();
        order.sort_by_key(|&d| (index.keys[d].parse::<u64>().unwrap_or(u64::MAX), index.keys[d].clone()));
        index.tie = vec![0; n];
        for (position, d) in order.into_iter().enumerate() {
            index.tie[d] = position;
        }
        index
    }

    /// Opinion keys of the documents scoring above 0, best first.
    fn rank(&self, terms: &[QueryTerm]) -> Vec<&str> {
        let n = self.keys.len();
        let mut scores = vec![0.0_f64; n];
        let mut tf = vec![0_u32; n];
        for term in terms {
            let matching: Vec<usize> = if term.prefix {
                self.vocabulary
                    .range(term.text.clone()..)
                    .take_while(|(w, _)| w.starts_with(&term.text))
                    .map(|(_, &id)| id)
                    .collect()
            } else {
                self.vocabulary.get(&term.text).into_iter().copied().collect()
            };
            let df = matching.iter().map(|&id| self.postings[id].len()).max().unwrap_or(0);
            if df == 0 {
                continue;
            }
            tf.fill(0);
            for &id in &matching {
                for &(d, count) in &self.postings[id] {
                    tf[d] += count;
                }
            }
            let idf = (1.0 + (n as f64 - df as f64 + 0.5) / (df as f64 + 0.5)).ln();
            for d in 0..n {
                if tf[d] > 0 {
                    let t = f64::from(tf[d]);
                    let norm = K1 * (1.0 - B + B * self.lengths[d] / self.average_length);
                    scores[d] += idf * t * (K1 + 1.0) / (t + norm);
                }
            }
        }
        let mut ranked: Vec<usize> = (0..n).filter(|&d| scores[d] > 0.0).collect();
        ranked.sort_by(|&a, &b| scores[b].total_cmp(&scores[a]).then(self.tie[a].cmp(&self.tie[b])));
        ranked.into_iter().map(|d| self.keys[d].as_str()).collect()
    }
}

fn push_term(out: &mut Vec<QueryTerm>, term: QueryTerm) {
    if !out.contains(&term) {
        out.push(term);
    }
}

/// Baseline terms of a Boolean query (see the module comment).
fn boolean_terms(query: &str) -> Vec<QueryTerm> {
    const CONNECTORS: &[&str] = &["and", "or", "not", "but", "w", "pre", "s", "p"];
    const FIELDS: &[&str] = &["ti", "co", "ci", "da", "name"];
    let chars: Vec<char> = query.chars().collect();
    let in_word = |c: char| c.is_alphanumeric() || c == '\'' || c == '\u{2019}';
    let mut out = Vec::new();
    let mut i = 0;
    // The last word of the previous run, when that run ended right where this one's `/` is.
    let mut previous: Option<(usize, String)> = None;
    while i < chars.len() {
        if !in_word(chars[i]) {
            i += 1;
            continue;
        }
        let start = i;
        while i < chars.len() && in_word(chars[i]) {
            i += 1;
        }
        let run: String = chars[start..i].iter().collect();
        let run_words = words(&run);
        let before = start.checked_sub(1).map(|j| chars[j]);
        // `/n`, `w/n`, `pre/n`, `+n`: the number is part of the connector (but `24/7` is two words).
        let connector_number = matches!(before, Some('/' | '+'))
            && match start.checked_sub(2).map(|j| chars[j]) {
                None => true,
                Some(c) if !c.is_alphanumeric() => true,
                Some(_) => previous.as_ref().is_some_and(|(end, w)| *end == start - 1 && (w == "w" || w == "pre")),
            };
        let after = chars.get(i).copied();
        for (k, w) in run_words.iter().enumerate() {
            let first = k == 0;
            let last = k + 1 == run_words.len();
            if CONNECTORS.contains(&w.as_str())
                || (first && connector_number && w.chars().all(|c| c.is_ascii_digit()))
                || (last && after == Some('(') && FIELDS.contains(&w.as_str()))
            {
                continue;
            }
            let prefix = last && matches!(after, Some('!' | '*'));
            push_term(&mut out, QueryTerm { text: w.clone(), prefix });
        }
        previous = run_words.last().map(|w| (i, w.clone()));
    }
    out
}

/// Baseline terms of a statement: its keywords' words.
fn statement_terms(topic: &str) -> Vec<QueryTerm> {
    let mut out = Vec::new();
    for w in lexica_query::statements::keywords(topic).into_iter().flatten() {
        push_term(&mut out, QueryTerm { text: w, prefix: false });
    }
    out
}

/// Rank (1-based) of the first wanted opinion, skipping the citing one.
fn first_wanted<'a>(ranked: impl Iterator<Item = &'a str>, citing: &str, wanted: &HashSet<String>) -> Option<usize> {
    ranked.filter(|k| *k != citing).position(|k| wanted.contains(k)).map(|p| p + 1)
}

/// One cell of the per-query table: a rank, not found, or refused by Lexica.
#[derive(Debug, Clone, Copy)]
enum Outcome {
    Rank(usize),
    Missing,
    Refused,
}

impl Outcome {
    fn rank(self) -> Option<usize> {
        match self {
            Outcome::Rank(r) => Some(r),
            _ => None,
        }
    }
    fn cell(self) -> String {
        match self {
            Outcome::Rank(r) => r.to_string(),
            Outcome::Missing => "-".into(),
            Outcome::Refused => "error".into(),
        }
    }
    fn json(self) -> serde_json::Value {
        self.rank().map_or(serde_json::Value::Null, |r| r.into())
    }
}

fn usage() -> ! {
    eprintln!("usage: known_items [BUNDLE.sqlite] [--json PATH]");
    std::process::exit(2);
}

#[tokio::main]
async fn main() {
    let mut bundle: Option<String> = None;
    let mut json_path: Option<String> = None;
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        if a == "--json" {
            json_path = Some(args.next().unwrap_or_else(|| usage()));
        } else if let Some(p) = a.strip_prefix("--json=") {
            json_path = Some(p.to_string());
        } else if a.starts_with("--") || bundle.is_some() {
            usage();
        } else {
            bundle = Some(a);
        }
    }
    let bundle = std::path::PathBuf::from(bundle.unwrap_or_else(|| "/tmp/lexica-known-items.sqlite".into()));
    let corpus = format!("{SHARED}/opinions.jsonl.gz");
    if !bundle.exists() {
        let target = lexica_ingest::Target::Sqlite(bundle.clone());
        lexica_ingest::ingest(corpus.as_ref(), target, &|_| {}).await.unwrap();
    }
    // Internal id → CourtListener id, to read the judgments.
    let mut conn = sqlx::SqliteConnection::connect(&format!("sqlite:{}?mode=ro", bundle.display())).await.unwrap();
    let ids: Vec<(i64, String)> =
        sqlx::query_as("SELECT id, source_id FROM opinions").fetch_all(&mut conn).await.unwrap();
    let cl_of: HashMap<i64, String> = ids.into_iter().map(|(id, s)| (id, opinion_key(&s))).collect();
    let in_corpus: HashSet<String> = cl_of.values().cloned().collect();

    let bm25 = Bm25::load(&corpus);
    assert_eq!(
        bm25.keys.iter().cloned().collect::<HashSet<_>>(),
        in_corpus,
        "the bundle must hold exactly the opinions of {corpus}"
    );

    let mut relevant: HashMap<(String, String), HashSet<String>> = HashMap::new();
    for line in std::fs::read_to_string(format!("{SHARED}/qrels.txt")).unwrap().lines() {
        let f: Vec<&str> = line.split_whitespace().collect();
        if f.len() == 4 && f[3].parse::<i32>().unwrap_or(0) >= 1 {
            relevant.entry((f[0].into(), f[1].into())).or_default().insert(f[2].into());
        }
    }

    let home = tempfile::tempdir().unwrap();
    let keychain = Keychain::with_store(keyring_core::mock::Store::new().unwrap(), "mock");
    let lexica = Lexica::open_with_keychain(Some(home.path().into()), keychain).await.unwrap();
    let me = lexica.acting_user(None).await.unwrap();
    lexica.revoke(&me, &me.username, db::DEMO_SOURCE_NAME).await.unwrap();
    let changes = SourceChanges {
        display_name: Some("Corpus".into()),
        database_url: Some(Some(format!("sqlite:{}", bundle.display()))),
        ..Default::default()
    };
    lexica.add_source(&me, "corpus", changes).await.unwrap();
    lexica.grant(&me, &me.username, "corpus", PermissionLevel::Read).await.unwrap();

    // (mode, system) → one outcome per query, in query order.
    let mut outcomes: BTreeMap<(&str, &str), Vec<Outcome>> = BTreeMap::new();
    let mut per_query = Vec::new();
    let mut refused = 0;
    println!(
        "{:<12} {:>15} {:>13} {:>18} {:>16}",
        "query", "Lexica boolean", "BM25 boolean", "Lexica statements", "BM25 statements"
    );
    for line in std::fs::read_to_string(format!("{SHARED}/legal_boolean_queries.jsonl")).unwrap().lines() {
        let q: serde_json::Value = serde_json::from_str(line).unwrap();
        if q["relevant_docs_in_corpus_excl_source"].as_u64().unwrap_or(0) == 0 {
            continue;
        }
        let query_id = q["query_id"].as_str().unwrap();
        let citing = q["citing_case"]["courtlistener_id"].to_string();
        let key = (q["collection"].as_str().unwrap().to_string(), q["topic_id"].as_str().unwrap().to_string());
        let wanted: HashSet<String> = relevant
            .get(&key)
            .cloned()
            .unwrap_or_default()
            .into_iter()
            .filter(|id| *id != citing && in_corpus.contains(id))
            .collect();
        let mut topic = q["topic_text"].as_str().unwrap().to_string();
        for cited in q["cited_cases"].as_array().into_iter().flatten() {
            topic = topic.replace(cited.as_str().unwrap_or(""), " ");
        }
        let mut row = serde_json::Map::new();
        row.insert("query_id".into(), query_id.into());
        let mut cells = Vec::new();
        for (mode, text, input) in [
            ("boolean", q["query"].as_str().unwrap().to_string(), SearchModeInput::Boolean),
            ("statements", topic, SearchModeInput::Statements),
        ] {
            let terms = if mode == "boolean" { boolean_terms(&text) } else { statement_terms(&text) };
            let request = SearchRequest { query: text, mode: input, ..Default::default() };
            let ours = match lexica.search(&me, &request, CancellationToken::new(), Arc::new(|_| {})).await {
                Ok(out) => {
                    let ranked =
                        out.hits.iter().map(|h| cl_of.get(&h.sources[0].opinion_id).map_or("", String::as_str));
                    first_wanted(ranked, &citing, &wanted).map_or(Outcome::Missing, Outcome::Rank)
                }
                Err(_) => {
                    refused += 1;
                    Outcome::Refused
                }
            };
            let baseline =
                first_wanted(bm25.rank(&terms).into_iter(), &citing, &wanted).map_or(Outcome::Missing, Outcome::Rank);
            for (system, outcome) in SYSTEMS.into_iter().zip([ours, baseline]) {
                outcomes.entry((mode, system)).or_default().push(outcome);
                row.insert(format!("{system}_{mode}"), outcome.json());
                cells.push(outcome.cell());
            }
        }
        per_query.push(serde_json::Value::Object(row));
        println!("{:<12} {:>15} {:>13} {:>18} {:>16}", query_id, cells[0], cells[1], cells[2], cells[3]);
    }

    let queries = per_query.len();
    let mrr = |v: &[Outcome]| {
        v.iter().filter_map(|o| o.rank()).filter(|r| *r <= 10).map(|r| 1.0 / r as f64).sum::<f64>()
            / v.len().max(1) as f64
    };
    let recall =
        |v: &[Outcome]| v.iter().filter(|o| o.rank().is_some_and(|r| r <= 100)).count() as f64 / v.len().max(1) as f64;
    println!("queries: {queries}  (refused by Lexica as malformed: {refused})");
    println!();
    println!("{:<15} {:>7} {:>11}", "", "MRR@10", "recall@100");
    let mut summary = serde_json::Map::new();
    for mode in MODES {
        let mut by_system = serde_json::Map::new();
        for (system, label) in SYSTEMS.into_iter().zip(["Lexica", "BM25"]) {
            let v = &outcomes[&(mode, system)];
            let (m, r) = (mrr(v), recall(v));
            let mode_label = if mode == "boolean" { "boolean" } else { "statem." };
            println!("{mode_label:<8} {label:<6} {m:>7.3} {r:>11.3}");
            by_system.insert(system.into(), serde_json::json!({ "mrr_at_10": m, "recall_at_100": r }));
        }
        summary.insert(mode.into(), serde_json::Value::Object(by_system));
    }
    if let Some(path) = json_path {
        let report = serde_json::json!({
            "queries": queries,
            "refused_by_lexica": refused,
            "summary": summary,
            "per_query": per_query,
        });
        std::fs::write(&path, serde_json::to_string_pretty(&report).unwrap() + "\n").unwrap();
        println!("figures written to {path}");
    }
}
