//! Statements mode: keywords from plain sentences describing the legal issue.
//!
//! Rules (SPEC.md, "Statements mode"): text between quotes (straight or typographic) is kept
//! as one phrase; a known term of art (see [`TERMS_OF_ART`]) found as consecutive words is kept
//! whole; every other word is kept unless it is a stop word, legal boilerplate
//! ([`BOILERPLATE`]) or a single character; duplicates are merged (first occurrence wins); at
//! most [`crate::MAX_STATEMENT_KEYWORDS`] keywords. The query is the OR of the keywords,
//! ranked by [`crate::Ranking::Statements`].

use crate::ast::{Form, Node, Query, Ranking, Term, Word};
use crate::error::{ErrorKind, QueryError};
use crate::text;
use crate::{MAX_QUERY_CHARS, MAX_STATEMENT_KEYWORDS};

/// English function words.
const STOP_WORDS: &[&str] = &[
    "a",
    "about",
    "above",
    "after",
    "again",
    "against",
    "all",
    "also",
    "am",
    "an",
    "and",
    "any",
    "are",
    "as",
    "at",
    "be",
    "because",
    "been",
    "before",
    "being",
    "below",
    "between",
    "both",
    "but",
    "by",
    "can",
    "could",
    "did",
    "do",
    "does",
    "doing",
    "down",
    "during",
    "each",
    "either",
    "else",
    "even",
    "ever",
    "every",
    "few",
    "for",
    "from",
    "further",
    "had",
    "has",
    "have",
    "having",
    "he",
    "her",
    "here",
    "hers",
    "herself",
    "him",
    "himself",
    "his",
    "how",
    "however",
    "i",
    "if",
    "in",
    "into",
    "is",
    "it",
    "its",
    "itself",
    "just",
    "may",
    "me",
    "might",
    "more",
    "most",
    "must",
    "my",
    "myself",
    "neither",
    "no",
    "nor",
    "not",
    "now",
    "of",
    "off",
    "on",
    "once",
    "one",
    "only",
    "or",
    "other",
    "otherwise",
    "our",
    "ours",
    "out",
    "over",
    "own",
    "same",
    "shall",
    "she",
    "should",
    "so",
    "some",
    "such",
    "than",
    "that",
    "the",
    "their",
    "theirs",
    "them",
    "themselves",
    "then",
    "there",
    "therefore",
    "these",
    "they",
    "this",
    "those",
    "though",
    "through",
    "thus",
    "to",
    "too",
    "under",
    "until",
    "up",
    "upon",
    "us",
    "very",
    "was",
    "we",
    "were",
    "what",
    "when",
    "where",
    "whether",
    "which",
    "while",
    "who",
    "whom",
    "whose",
    "why",
    "will",
    "with",
    "within",
    "without",
    "would",
    "yet",
    "you",
    "your",
];

/// Words that occur in nearly every opinion and say nothing about the issue.
const BOILERPLATE: &[&str] = &[
    "court",
    "courts",
    "case",
    "cases",
    "held",
    "hold",
    "holds",
    "holding",
    "opinion",
    "opinions",
    "judge",
    "justice",
    "plaintiff",
    "plaintiffs",
    "defendant",
    "defendants",
    "appellant",
    "appellants",
    "appellee",
    "appellees",
    "petitioner",
    "petitioners",
    "respondent",
    "respondents",
    "party",
    "parties",
    "v",
    "vs",
    "versus",
    "id",
    "ibid",
    "supra",
    "infra",
    "see",
    "cf",
    "eg",
    "ie",
    "et",
    "al",
    "herein",
    "thereof",
    "therein",
    "whereas",
    "hereby",
    "said",
    "state",
    "states",
    "united",
    "law",
    "laws",
    "legal",
    "issue",
    "issues",
    "question",
    "claim",
    "claims",
    "argue",
    "argues",
    "argued",
    "argument",
    "find",
    "found",
    "finding",
    "rule",
    "ruled",
    "rules",
    "decision",
    "decide",
    "decided",
    "matter",
    "fact",
    "facts",
    "whereby",
    "pursuant",
    "accordingly",
    "moreover",
    "furthermore",
    "nevertheless",
    "notwithstanding",
    "example",
    "instance",
    "particular",
    "certain",
    "u",
    "s",
    "c",
    "f",
    "2d",
    "3d",
    "4th",
    "supp",
    "ct",
    "ed",
    "l",
];

/// Multi-word terms of art kept whole when they occur as consecutive words.
pub const TERMS_OF_ART: &[&str] = &[
    "res judicata",
    "collateral estoppel",
    "issue preclusion",
    "claim preclusion",
    "due process",
    "equal protection",
    "summary judgment",
    "qualified immunity",
    "sovereign immunity",
    "absolute immunity",
    "probable cause",
    "reasonable suspicion",
    "reasonable doubt",
    "habeas corpus",
    "double jeopardy",
    "cruel and unusual punishment",
    "ex post facto",
    "strict scrutiny",
    "rational basis",
    "personal jurisdiction",
    "subject matter jurisdiction",
    "standard of review",
    "abuse of discretion",
    "de novo",
    "harmless error",
    "plain error",
    "ineffective assistance",
    "statute of limitations",
    "mens rea",
    "actus reus",
    "prima facie",
    "stare decisis",
    "commerce clause",
    "first amendment",
    "fourth amendment",
    "fifth amendment",
    "sixth amendment",
    "eighth amendment",
    "fourteenth amendment",
    "free speech",
    "search and seizure",
    "exclusionary rule",
    "good faith",
    "bad faith",
    "breach of contract",
    "unjust enrichment",
    "punitive damages",
    "class action",
    "motion to dismiss",
    "failure to state a claim",
    "in forma pauperis",
    "attorney fees",
    "excessive force",
    "hostile work environment",
    "arbitration agreement",
];

/// Extracts keywords from statements and builds the OR-of-keywords query.
pub fn parse_statements(input: &str) -> Result<Query, QueryError> {
    if input.chars().count() > MAX_QUERY_CHARS {
        return Err(QueryError::new(
            ErrorKind::TooLong,
            input,
            0,
            input.len(),
            format!("the statement is longer than {MAX_QUERY_CHARS} characters"),
            "keep the few sentences that state the issue",
        ));
    }
    let keywords = keywords(input);
    if keywords.is_empty() {
        return Err(QueryError::new(
            ErrorKind::EmptyQuery,
            input,
            0,
            input.len(),
            "no keywords are left after dropping stop words and legal boilerplate",
            "describe the issue with specific words, e.g. `landlord liable for tenant injury on icy stairs`",
        ));
    }
    let mut nodes: Vec<Node> = keywords
        .into_iter()
        .map(|k| {
            if k.len() == 1 {
                Node::Term(Term { word: k.into_iter().next().unwrap_or_default(), form: Form::Plural })
            } else {
                Node::Phrase(k.into_iter().map(|text| Word { text, prefix: false }).collect())
            }
        })
        .collect();
    let root = if nodes.len() == 1 { nodes.remove(0) } else { Node::Or(nodes) };
    Ok(Query { root, date: None, ranking: Ranking::Statements })
}

/// The keywords of a statement, in order of first occurrence: each a word or a phrase.
pub fn keywords(input: &str) -> Vec<Vec<String>> {
    let mut out: Vec<Vec<String>> = Vec::new();
    let push = |k: Vec<String>, out: &mut Vec<Vec<String>>| {
        if !k.is_empty() && !out.contains(&k) && out.len() < MAX_STATEMENT_KEYWORDS {
            out.push(k);
        }
    };
    // Alternate unquoted and quoted segments.
    let mut quoted = false;
    for segment in input.split(['"', '\u{201C}', '\u{201D}']) {
        let words = text::words(segment);
        if quoted {
            push(words, &mut out);
        } else {
            let mut i = 0;
            while i < words.len() {
                if let Some(len) = term_of_art_at(&words[i..]) {
                    push(words[i..i + len].to_vec(), &mut out);
                    i += len;
                    continue;
                }
                let w = &words[i];
                if w.chars().count() > 1 && !STOP_WORDS.contains(&w.as_str()) && !BOILERPLATE.contains(&w.as_str()) {
                    push(vec![w.clone()], &mut out);
                }
                i += 1;
            }
        }
        quoted = !quoted;
    }
    out
}

fn term_of_art_at(words: &[String]) -> Option<usize> {
    TERMS_OF_ART.iter().find_map(|t| {
        let parts: Vec<&str> = t.split(' ').collect();
        (words.len() >= parts.len() && words.iter().zip(&parts).all(|(w, p)| w == p)).then_some(parts.len())
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn statements_keep_phrases_and_terms_of_art_and_drop_boilerplate() {
        let k = keywords(
            "The court held that the officer's use of \u{201C}deadly force\u{201D} violated due process; the officer had qualified immunity. Officer!",
        );
        let k: Vec<String> = k.into_iter().map(|w| w.join(" ")).collect();
        assert_eq!(k, ["officers", "use", "deadly force", "violated", "due process", "officer", "qualified immunity"]);
    }

    #[test]
    fn statements_compile_to_or_of_keywords() {
        let q = parse_statements("landlord liability for res judicata").unwrap();
        assert_eq!(q.to_string(), "landlord OR liability OR \"res judicata\"");
        assert_eq!(q.ranking, Ranking::Statements);
        assert_eq!(parse_statements("the court held that it is").unwrap_err().kind, ErrorKind::EmptyQuery);
    }
}
