//! The paragraphs a reader cuts from a body at search time are the ones `lexica ingest` stored,
//! and the words that decide which of them are read are the paragraph filter's.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Read;

use lexica_query::text::{Words, each_paragraph, paragraphs, words};
use lexica_query::{Filters, Mode, parse, postgres, sqlite};
use proptest::prelude::*;

/// The module's rules written the straightforward way (a `String` per word), as the
/// reference the cut is held to: blocks between blank lines, trimmed, dropped when they hold no
/// word, and a block of more than `MAX_PARAGRAPH_WORDS` words cut at whitespace into pieces of at
/// most that many.
fn reference(body: &str) -> Vec<String> {
    let max = lexica_query::text::MAX_PARAGRAPH_WORDS;
    let mut blocks: Vec<String> = Vec::new();
    let mut current = String::new();
    let mut previous_blank = false;
    for line in body.split('\n') {
        let blank = line.trim().is_empty();
        if blank && !previous_blank {
            blocks.push(std::mem::take(&mut current));
        }
        if blank {
            current.clear();
        } else {
            current.push_str(line);
            current.push('\n');
        }
        previous_blank = blank;
    }
    blocks.push(current);
    let mut out = Vec::new();
    for block in blocks {
        let block = block.trim();
        let n = words(block).len();
        if n == 0 {
            continue;
        }
        if n <= max {
            out.push(block.to_string());
            continue;
        }
        let (mut piece, mut count) = (String::new(), 0);
        for token in block.split_inclusive(char::is_whitespace) {
            let k = words(token).len();
            if count + k > max && !piece.trim().is_empty() {
                out.push(piece.trim().to_string());
                piece.clear();
                count = 0;
            }
            piece.push_str(token);
            count += k;
        }
        if !piece.trim().is_empty() {
            out.push(piece.trim().to_string());
        }
    }
    out
}

fn cut(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    let mut words = Words::default();
    each_paragraph(body, &mut words, |p, w| {
        assert_eq!(
            w.iter().collect::<Vec<_>>(),
            lexica_query::text::words(p),
            "the words handed over are the paragraph's"
        );
        out.push(p.to_string());
    });
    out
}

#[test]
fn every_corpus_body_cuts_by_the_rules() {
    let path = concat!(env!("CARGO_MANIFEST_DIR"), "/../../../shared/corpus/opinions.jsonl.gz");
    let file = std::fs::File::open(path).expect("shared/corpus must sit beside the checkout");
    let mut s = String::new();
    flate2::read::GzDecoder::new(file).read_to_string(&mut s).unwrap();
    let mut n = 0;
    for line in s.lines() {
        let v: serde_json::Value = serde_json::from_str(line).unwrap();
        let body = v["body"].as_str().unwrap();
        assert_eq!(cut(body), reference(body), "{}", v["case_name"]);
        assert_eq!(paragraphs(body), cut(body));
        n += 1;
    }
    assert!(n > 1_000, "{n} opinions");
}

#[test]
fn blank_punctuation_and_over_long_blocks_cut_the_same() {
    let long = "word ".repeat(lexica_query::text::MAX_PARAGRAPH_WORDS * 2 + 5);
    for body in ["", "\n\n", "§ — ...\n\nText here.\n \n\n", "a\n\n\n\nb", long.as_str(), "x\r\n\r\ny"] {
        assert_eq!(cut(body), reference(body), "{body:?}");
    }
}

proptest! {
    #[test]
    fn random_bodies_cut_the_same(body in "([a-zA-Z'’é§.]{1,8}[ \n\t]{1,3}){0,60}") {
        prop_assert_eq!(cut(&body), reference(&body));
    }
}

#[test]
fn paragraph_words_are_the_filters_words_excluded_ones_and_forms_included() {
    let q = parse("hearsay AND \"due process\" AND NOT fund!", Mode::Boolean).unwrap();
    for plan in [postgres::compile(&q, &Filters::default()), sqlite::compile(&q, &Filters::default())] {
        let w = &plan.paragraph_words;
        let holds = |text: &str| {
            let mut words = Words::default();
            words.split(text);
            w.any_in(words.iter())
        };
        assert!(holds("The hearsays rule"), "a form of the term");
        assert!(holds("due"), "a phrase's word on its own");
        assert!(holds("no funding here"), "an excluded prefix: the checker must see it");
        assert!(!holds("fun and games"), "a word the prefix does not start");
        assert!(!holds("nothing relevant"));
    }
}

proptest! {
    /// The sieve before the set (first byte, length) only says "no" early: the answer is the
    /// set's, for words of every length (past 63 letters too) and prefixes.
    #[test]
    fn paragraph_words_answer_as_the_plain_test(words in proptest::collection::vec("[abx]{1,5}|a{60,70}", 0..8)) {
        let long = "a".repeat(64);
        let q = parse(&format!("\"ab\" OR \"b\" OR \"bxa\" OR xab! OR \"{long}\""), Mode::Boolean).unwrap();
        let plan = postgres::compile(&q, &Filters::default());
        let plain = |w: &str| ["ab", "b", "bxa", long.as_str()].contains(&w) || w.starts_with("xab");
        let expected = words.iter().any(|w| plain(w));
        prop_assert_eq!(plan.paragraph_words.any_in(words.iter().map(String::as_str)), expected);
    }
}
