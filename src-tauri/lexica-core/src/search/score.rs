//! One relevance scale for every source.
//!
//! PostgreSQL sources rank with `ts_rank_cd(search_vector, any)` (normalization 0), where `any` is
//! the OR of the query's lexemes ([`lexica_query::Query::rank_terms`]). It uses no corpus
//! statistics, so two PostgreSQL sources built by Lexica's ingest (same `simple` configuration,
//! same weights) give comparable scores. SQLite's `bm25()` does use each file's statistics, so its
//! numbers mean nothing next to another source's. Lexica therefore re-scores SQLite hits with
//! [`rank_cd`], which computes what `ts_rank_cd` would give on the same opinion: for an OR query
//! every cover is a single matching position, so the score is the sum, over the distinct indexed
//! positions that match some lexeme, of the weight of that position's field (A 1.0, B 0.4,
//! C 0.2, D 0.1). Positions follow PostgreSQL's tsvector limits exactly as the ingest builds them
//! (clamped at 16,383, at most 256 kept per lexeme). A test compares it with PostgreSQL on the
//! real corpus.

use lexica_query::{Field, RankTerm};

/// `ts_rank_cd`'s default weights for A, B, C, D.
const WEIGHTS: [f64; 4] = [1.0, 0.4, 0.2, 0.1];
/// Highest position a tsvector stores.
const MAX_POSITION: u32 = 16_383;
/// Positions a tsvector keeps per lexeme.
const MAX_POSITIONS_PER_LEXEME: usize = 256;

/// The fields of one opinion, in tsvector weight order (case name A, citation B, court C, body D).
#[derive(Debug, Clone, Copy)]
pub struct OpinionText<'a> {
    pub case_name: &'a str,
    pub citation: Option<&'a str>,
    pub court: &'a str,
    pub body: &'a str,
}

/// What PostgreSQL's `ts_rank_cd(search_vector, any)` gives for this opinion (see the module docs).
pub fn rank_cd(terms: &[RankTerm], text: &OpinionText<'_>) -> f64 {
    if terms.is_empty() {
        return 0.0;
    }
    // (word, position, weight class) for every indexed word, positions running across fields.
    let mut entries: Vec<(String, u32, usize)> = Vec::new();
    let mut position: u32 = 0;
    let fields = [(text.case_name, 0), (text.citation.unwrap_or(""), 1), (text.court, 2), (text.body, 3)];
    for (field_text, class) in fields {
        for word in lexica_query::text::words(field_text) {
            position = position.saturating_add(1);
            entries.push((word, position.min(MAX_POSITION), class));
        }
    }
    entries.sort_by(|a, b| a.0.cmp(&b.0).then(a.1.cmp(&b.1)));
    let mut score = 0.0;
    let mut i = 0;
    while i < entries.len() {
        let word = entries[i].0.clone();
        let mut kept = 0;
        let mut last = 0;
        while i < entries.len() && entries[i].0 == word {
            let (_, pos, class) = entries[i];
            i += 1;
            if kept == MAX_POSITIONS_PER_LEXEME || pos == last {
                continue;
            }
            kept += 1;
            last = pos;
            if terms.iter().any(|t| matches(t, &word, class)) {
                score += WEIGHTS[class];
            }
        }
    }
    score
}

fn matches(term: &RankTerm, word: &str, class: usize) -> bool {
    let field_class = match term.field {
        Some(Field::CaseName) => 0,
        Some(Field::Citation) => 1,
        Some(Field::Court) => 2,
        None => 3,
    };
    field_class == class && if term.prefix { word.starts_with(term.text.as_str()) } else { word == term.text }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn term(text: &str, field: Option<Field>, prefix: bool) -> RankTerm {
        RankTerm { field, text: text.into(), prefix }
    }

    #[test]
    fn sums_field_weights_of_matching_positions() {
        let text = OpinionText {
            case_name: "Contract Co. v. Sale",
            citation: Some("1 U.S. 2"),
            court: "Supreme Court",
            body: "The contract was a contract of sale; contracts abound.",
        };
        let body = [term("contract", None, false)];
        assert!((rank_cd(&body, &text) - 0.2).abs() < 1e-9);
        let both = [term("contract", None, true), term("contract", Some(Field::CaseName), false)];
        assert!((rank_cd(&both, &text) - 1.3).abs() < 1e-9);
        assert_eq!(rank_cd(&[], &text), 0.0);
    }

    #[test]
    fn positions_past_the_limit_collapse_and_lexemes_keep_256() {
        let long = format!("{} zz", "w ".repeat(20_000));
        let text = OpinionText { case_name: "x", citation: None, court: "c", body: &long };
        assert!((rank_cd(&[term("zz", None, false)], &text) - 0.1).abs() < 1e-9);
        let many = "zz ".repeat(300);
        let text = OpinionText { case_name: "x", citation: None, court: "c", body: &many };
        assert!((rank_cd(&[term("zz", None, false)], &text) - 25.6).abs() < 1e-9);
    }
}
