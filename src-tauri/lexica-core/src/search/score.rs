//! One relevance scale for every source: BM25F over the query's concepts, with statistics shared
//! by the sources of a search ([`super::stats`]). RANKING.md beside the language's SPEC.md is the
//! reference; this is its implementation.
//!
//! Scores are computed here, in Rust, from an opinion's text as both kinds of source store it
//! (case name, citation, court, and the body's paragraphs), cut into words by the same
//! `lexica_query::text` splitter the indexes are built with (`text::Words`, which `text::words`
//! is built on). So a PostgreSQL source and an SQLite
//! bundle holding the same opinion give it the same score by construction, and the scorer and the
//! checker never disagree on what a word or a phrase occurrence is.
//!
//! ```text
//! tf~(c, d) = Σ_f W_f · tf_f(c, d) / (1 − B_f + B_f · len_f(d) / avglen_f)
//! score(d)  = Σ_c idf(c) · tf~(c, d) · (K1 + 1) / (K1 + tf~(c, d))  +  CLOSENESS · max_p Σ_{c ∈ p} idf(c)
//! idf(word) = ln(1 + (N − df + 0.5) / (df + 0.5)),  idf(phrase) = Σ idf(its words)
//! ```

use lexica_query::concepts::Matcher;
use lexica_query::text::Words;
use lexica_query::{Concept, Field};

use super::stats::{BODY, FIELDS, GlobalStats, Patterns};

pub use lexica_query::bm25f::{FIELD_B, FIELD_WEIGHTS, K1};

/// Weight of the closeness bonus: the IDF mass of the concepts that the best single paragraph
/// holds (an opinion that discusses the issue in one place beats one that mentions each word
/// somewhere). Measured on the known items: statements MRR@10 0.808 without it, 0.865 with it.
pub const CLOSENESS: f64 = 0.5;

/// What a query is scored by: its concepts ([`lexica_query::Query::concepts`]) and, for each
/// phrase, each of its words on its own (as Lucene's `pf` phrase boost sits on top of the words):
/// a quoted passage need not occur verbatim for its words to count, and an opinion that has the
/// phrase still gains more. Measured on the known items: statements MRR@10 0.750 without the
/// words, 0.865 with them (a typed quote such as "establish[ing] venue" occurs nowhere verbatim).
pub fn scoring_concepts(query: &lexica_query::Query) -> Vec<Concept> {
    let mut concepts = query.concepts();
    let words: Vec<Concept> = concepts
        .iter()
        .filter(|c| c.is_phrase())
        .flat_map(|c| c.words.iter().map(|w| Concept { field: c.field, words: vec![w.clone()] }))
        .collect();
    for w in words {
        if !concepts.contains(&w) {
            concepts.push(w);
        }
    }
    concepts
}

/// The field slot of a concept's field (`None`: every field).
fn slot(field: Field) -> usize {
    match field {
        Field::CaseName => 0,
        Field::Citation => 1,
        Field::Court => 2,
    }
}

/// What the scorer needs to know about one opinion.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Features {
    /// Per concept, occurrences in each field.
    pub tf: Vec<[u32; FIELDS]>,
    /// Field lengths in words (the body's from the source's statistics, or `None` when the
    /// source has none: then it is taken as average).
    pub lengths: [u32; FIELDS],
    pub body_known: bool,
    /// Per passage (the case name, then each fetched paragraph: the ones holding a query word),
    /// which concepts occur in it, as a bit set over the concept indices (at most 64 concepts
    /// count for closeness).
    pub paragraph_concepts: Vec<u64>,
}

/// One opinion's text as the scorer reads it.
#[derive(Debug, Clone, Copy)]
pub struct OpinionText<'a> {
    pub case_name: &'a str,
    pub citation: Option<&'a str>,
    pub court: &'a str,
    /// The opinion's paragraphs that hold any query word (others add nothing to any count).
    pub paragraphs: &'a [&'a str],
    /// `opinion_lengths.body_words`, when the source keeps it.
    pub body_words: Option<u32>,
    /// `paragraphs` already split (`Words::split` of each, in order), when the read split them;
    /// `None`, or a different count: split here.
    pub words: Option<&'a [Words]>,
}

/// Counts every concept in every field of one opinion, with the same counts as
/// [`Concept::count`] over [`lexica_query::text::words`] of each field and paragraph (the
/// corpus test below keeps that straightforward version as its reference). Each passage is cut
/// into one reused word buffer, and one [`Matcher`] counts all the concepts in a single pass
/// over it: for a common word the paragraphs fetched are most of the opinion, and a `String` per
/// word and every concept compared with every word were most of a search's time.
pub fn features(concepts: &[Concept], text: &OpinionText<'_>) -> Features {
    let mut matcher = Matcher::new(concepts);
    let mut words = Words::default();
    let fields = [text.case_name, text.citation.unwrap_or(""), text.court];
    let mut f = Features {
        tf: vec![[0; FIELDS]; concepts.len()],
        paragraph_concepts: Vec::with_capacity(text.paragraphs.len() + 1),
        ..Features::default()
    };
    for (slot, field_text) in fields.iter().enumerate() {
        words.split(field_text);
        f.lengths[slot] = u32::try_from(words.len()).unwrap_or(u32::MAX);
        let counts = matcher.count(&words);
        let mut present = 0u64;
        for (c, concept) in concepts.iter().enumerate() {
            if concept.field.is_none_or(|x| self::slot(x) == slot) {
                f.tf[c][slot] = counts[c];
                if slot == 0 && concept.field.is_none() && counts[c] > 0 && c < 64 {
                    present |= 1 << c;
                }
            }
        }
        // The case name is a passage too: a name that holds the query's words is as close as it gets.
        if slot == 0 {
            f.paragraph_concepts.push(present);
        }
    }
    let mut body_words: u32 = 0;
    let split = text.words.filter(|w| w.len() == text.paragraphs.len());
    for (i, paragraph) in text.paragraphs.iter().enumerate() {
        let words: &Words = match split.and_then(|w| w.get(i)) {
            Some(w) => w,
            None => {
                words.split(paragraph);
                &words
            }
        };
        body_words = body_words.saturating_add(u32::try_from(words.len()).unwrap_or(u32::MAX));
        let counts = matcher.count(words);
        let mut present = 0u64;
        for (c, concept) in concepts.iter().enumerate() {
            let n = counts[c];
            if concept.field.is_some() || n == 0 {
                continue;
            }
            f.tf[c][BODY] = f.tf[c][BODY].saturating_add(n);
            if c < 64 {
                present |= 1 << c;
            }
        }
        f.paragraph_concepts.push(present);
    }
    f.body_known = text.body_words.is_some();
    f.lengths[BODY] = text.body_words.unwrap_or(body_words);
    f
}

/// The numbers every opinion of one search is scored with.
#[derive(Debug, Clone, PartialEq)]
pub struct Scorer {
    /// Per concept.
    pub idf: Vec<f64>,
    /// Per concept: its field slot, or `None` for the whole opinion.
    pub fields: Vec<Option<usize>>,
    pub average_length: [f64; FIELDS],
}

impl Scorer {
    pub fn new(concepts: &[Concept], patterns: &Patterns, stats: &GlobalStats) -> Scorer {
        let n = stats.opinions as f64;
        let idf_of = |p: usize| -> f64 {
            if stats.opinions == 0 {
                // Nothing known about the collection: every word weighs the same.
                return 1.0;
            }
            let df = (stats.df.get(p).copied().unwrap_or(0) as f64).min(n);
            (1.0 + (n - df + 0.5) / (df + 0.5)).ln()
        };
        let idf = patterns.of_concept.iter().map(|ps| ps.iter().map(|&p| idf_of(p)).sum()).collect();
        let mut average_length = [1.0; FIELDS];
        for (f, avg) in average_length.iter_mut().enumerate() {
            *avg = stats.average_length(f);
        }
        Scorer { idf, fields: concepts.iter().map(|c| c.field.map(slot)).collect(), average_length }
    }

    /// The opinion's score (higher is better).
    pub fn score(&self, f: &Features) -> f64 {
        let mut norm = [1.0; FIELDS];
        for (slot, n) in norm.iter_mut().enumerate() {
            let known = slot != BODY || f.body_known;
            if known && self.average_length[slot] > 0.0 {
                let ratio = f64::from(f.lengths[slot]) / self.average_length[slot];
                *n = 1.0 - FIELD_B[slot] + FIELD_B[slot] * ratio;
            }
        }
        let mut score = 0.0;
        for (c, tf) in f.tf.iter().enumerate() {
            let mut pseudo = 0.0;
            for slot in 0..FIELDS {
                if tf[slot] > 0 && self.fields[c].is_none_or(|s| s == slot) {
                    pseudo += FIELD_WEIGHTS[slot] * f64::from(tf[slot]) / norm[slot].max(f64::EPSILON);
                }
            }
            if pseudo > 0.0 {
                score += self.idf[c] * pseudo * (K1 + 1.0) / (K1 + pseudo);
            }
        }
        let best = f
            .paragraph_concepts
            .iter()
            .map(|bits| (0..self.idf.len().min(64)).filter(|c| bits & (1 << c) != 0).map(|c| self.idf[c]).sum())
            .fold(0.0_f64, f64::max);
        score + CLOSENESS * best
    }
}

#[cfg(test)]
mod tests {
    use super::super::stats::SourceStats;
    use super::*;
    use lexica_query::{Mode, parse};

    fn setup(query: &str, df: &[u64], n: u64) -> (Vec<Concept>, Scorer) {
        let q = parse(query, Mode::Boolean).unwrap();
        let concepts = q.concepts();
        let patterns = Patterns::of(&concepts);
        let mut g = GlobalStats::new(patterns.patterns.len());
        g.add(&SourceStats {
            opinions: n,
            words: [4 * n, 3 * n, 5 * n, 100 * n],
            df: df.to_vec(),
            complete: true,
            postings: false,
        });
        let scorer = Scorer::new(&concepts, &patterns, &g);
        (concepts, scorer)
    }

    fn text<'a>(name: &'a str, paragraphs: &'a [&'a str]) -> OpinionText<'a> {
        OpinionText {
            case_name: name,
            citation: None,
            court: "Supreme Court",
            paragraphs,
            body_words: None,
            words: None,
        }
    }

    #[test]
    fn rare_words_outweigh_common_ones() {
        let (c, s) = setup("hearsay OR court", &[10, 900], 1000);
        let rare = s.score(&features(&c, &text("A v. B", &["the hearsay rule"])));
        let common = s.score(&features(&c, &text("A v. B", &["the court rule"])));
        assert!(rare > 3.0 * common, "{rare} vs {common}");
    }

    #[test]
    fn term_frequency_saturates_and_long_bodies_are_normalized() {
        let (c, s) = setup("hearsay", &[10], 1000);
        let once = s.score(&features(&c, &text("A v. B", &["hearsay"])));
        let many = s.score(&features(&c, &text("A v. B", &["hearsay hearsay hearsay hearsay hearsay hearsay"])));
        assert!(many > once && many < once * (K1 + 1.0), "{once} {many}");
        let short = features(&c, &text("A v. B", &["hearsay objection"]));
        let mut long = short.clone();
        long.lengths[BODY] = 10_000;
        long.body_known = true;
        assert!(s.score(&short) > s.score(&long));
    }

    #[test]
    fn case_name_counts_more_and_field_terms_only_in_their_field() {
        let (c, s) = setup("smith", &[10], 1000);
        let in_name = s.score(&features(&c, &text("Smith v. Jones", &["nothing here"])));
        let in_body = s.score(&features(&c, &text("Doe v. Jones", &["smith testified"])));
        assert!(in_name > in_body);
        let (c, s) = setup("ti(smith)", &[10], 1000);
        assert_eq!(s.score(&features(&c, &text("Doe v. Jones", &["smith testified"]))), 0.0);
        assert!(s.score(&features(&c, &text("Smith v. Jones", &[]))) > 0.0);
    }

    #[test]
    fn phrases_score_the_sum_of_their_words_idf() {
        let (c, s) = setup("\"due process\"", &[100, 200], 1000);
        let idf = |df: f64| (1.0 + (1000.0 - df + 0.5) / (df + 0.5)).ln();
        assert!((s.idf[0] - idf(100.0) - idf(200.0)).abs() < 1e-12);
        let f = features(&c, &text("A v. B", &["due process and due care", "process due"]));
        assert_eq!(f.tf[0], [0, 0, 0, 1]);
    }
    /// The straightforward version `features` must agree with: every passage cut by
    /// `text::words`, every concept counted by `Concept::count`.
    fn reference(concepts: &[Concept], text: &OpinionText<'_>) -> Features {
        let fields = [text.case_name, text.citation.unwrap_or(""), text.court];
        let mut f = Features {
            tf: vec![[0; FIELDS]; concepts.len()],
            paragraph_concepts: Vec::with_capacity(text.paragraphs.len()),
            ..Features::default()
        };
        for (slot, field_text) in fields.iter().enumerate() {
            let words = lexica_query::text::words(field_text);
            f.lengths[slot] = u32::try_from(words.len()).unwrap_or(u32::MAX);
            let mut present = 0u64;
            for (c, concept) in concepts.iter().enumerate() {
                if concept.field.is_none_or(|x| self::slot(x) == slot) {
                    f.tf[c][slot] = concept.count(&words);
                    if slot == 0 && concept.field.is_none() && f.tf[c][slot] > 0 && c < 64 {
                        present |= 1 << c;
                    }
                }
            }
            if slot == 0 {
                f.paragraph_concepts.push(present);
            }
        }
        let mut body_words: u32 = 0;
        for paragraph in text.paragraphs {
            let words = lexica_query::text::words(paragraph);
            body_words = body_words.saturating_add(u32::try_from(words.len()).unwrap_or(u32::MAX));
            let mut present = 0u64;
            for (c, concept) in concepts.iter().enumerate() {
                if concept.field.is_some() {
                    continue;
                }
                let n = concept.count(&words);
                if n > 0 {
                    f.tf[c][BODY] = f.tf[c][BODY].saturating_add(n);
                    if c < 64 {
                        present |= 1 << c;
                    }
                }
            }
            f.paragraph_concepts.push(present);
        }
        f.body_known = text.body_words.is_some();
        f.lengths[BODY] = text.body_words.unwrap_or(body_words);
        f
    }

    #[test]
    fn features_equal_the_reference_on_the_corpus() {
        use std::io::BufRead;
        const CORPUS: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/opinions.jsonl.gz");
        let file = std::fs::File::open(CORPUS).expect("the shared corpus at ../shared/corpus (see CORPUS)");
        let opinions: Vec<serde_json::Value> = std::io::BufReader::new(flate2::read::MultiGzDecoder::new(file))
            .lines()
            .take(50)
            .map(|l| serde_json::from_str(&l.unwrap()).unwrap())
            .collect();
        assert_eq!(opinions.len(), 50);
        let boolean = [
            "court",
            "jurisdiction & state",
            "sentenc! & discretion & consider!",
            "contract /s breach & object! & \"due process\"",
            "\"due process\" & \"process\" & process",
            "ti(united) & ti(\"united states\") & co(court) & ci(u.s.) & ci(\"u s\")",
            "\"the court\" /p \"of the\" & \"the the\" & party & \"party's\" & parties",
            "child & children & \"appeal!\" & \"court of appeal!\" & 42 & \"f 3d\"",
            "certiorari OR writ OR \"writ of certiorari\" % dismissed",
        ];
        let statements = [
            "Officers searched the car without a warrant after stopping it on the highway",
            "Whether a state court has personal jurisdiction over a nonresident corporation's \"minimum contacts\"",
        ];
        let mut queries: Vec<lexica_query::Query> = boolean.iter().map(|q| parse(q, Mode::Boolean).unwrap()).collect();
        queries.extend(statements.iter().map(|q| parse(q, Mode::Statements).unwrap()));
        let mut nonzero = 0;
        for query in &queries {
            let concepts = scoring_concepts(query);
            assert!(!concepts.is_empty());
            for o in &opinions {
                let body = o["body"].as_str().unwrap_or("");
                let paragraphs = lexica_query::text::paragraphs(body);
                let paragraphs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
                // Split by the read (as the PostgreSQL read hands them on) or here: the same counts.
                let split: Vec<Words> = paragraphs.iter().map(|p| Words::of(p)).collect();
                for (body_words, words) in [(None, None), (Some(12_345), None), (None, Some(split.as_slice()))] {
                    let text = OpinionText {
                        case_name: o["case_name"].as_str().unwrap_or(""),
                        citation: o["citation"].as_str(),
                        court: o["court"].as_str().unwrap_or(""),
                        paragraphs: &paragraphs,
                        body_words,
                        words,
                    };
                    let f = features(&concepts, &text);
                    assert_eq!(f, reference(&concepts, &text), "{} in {}", query.root, o["source_id"]);
                    nonzero += f.tf.iter().filter(|tf| tf.iter().any(|&n| n > 0)).count();
                }
            }
        }
        // The texts hold the queries' words: the comparison is not one of empty counts.
        assert!(nonzero > 1_000, "{nonzero}");
    }
}
