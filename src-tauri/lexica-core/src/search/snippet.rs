//! Highlighted snippets that show why an opinion matched, as plain-text parts with a highlight
//! flag (never HTML, so nothing in an opinion can inject markup).
//!
//! The window shown is the one of [`SNIPPET_WORDS`] words, in any of the opinion's matching
//! paragraphs, that holds the most distinct concepts of the query (then the tightest such
//! span, then the earliest): for `/p` and `/n` the operands side by side, for statements the
//! passage with the most keywords, for a near miss the best passage of the clauses it has. When
//! the query asks for a sentence (`/s`) and that span lies in one sentence short enough to show,
//! the window is that sentence.

use lexica_query::HighlightWord;
use serde::{Deserialize, Serialize};
use ts_rs::TS;

/// Words shown before the first highlighted word.
pub const CONTEXT_BEFORE: usize = 12;
/// Longest snippet, in words.
pub const SNIPPET_WORDS: usize = 48;

/// A run of snippet text; `highlight` marks a search term.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SnippetPart {
    pub text: String,
    pub highlight: bool,
}

/// Byte ranges of the words of `text`, cut by the same rules as `lexica_query::text::words`,
/// with each word's normalized form.
pub fn word_spans(text: &str) -> Vec<(usize, usize, String)> {
    let mut out = Vec::new();
    let mut start: Option<usize> = None;
    let mut word = String::new();
    let mut chars = text.char_indices().peekable();
    while let Some((i, c)) = chars.next() {
        if c.is_alphanumeric() {
            if start.is_none() {
                start = Some(i);
            }
            word.extend(c.to_lowercase());
        } else if (c == '\'' || c == '\u{2019}')
            && start.is_some()
            && chars.peek().is_some_and(|(_, n)| n.is_alphanumeric())
        {
            // An apostrophe inside a word: dropped from the form, kept in the text.
        } else if let Some(s) = start.take() {
            out.push((s, i, std::mem::take(&mut word)));
        }
    }
    if let Some(s) = start {
        out.push((s, text.len(), word));
    }
    out
}

/// The words to mark in opinion text: every non-excluded term of the query that is searched in
/// the body (field-restricted terms are looked for in their field, not in the text).
pub fn body_terms(query: &lexica_query::Query) -> Vec<HighlightWord> {
    query.highlight_terms().into_iter().filter(|h| h.field.is_none()).flat_map(|h| h.words).collect()
}

/// Whether a normalized word is one of the highlighted terms.
pub fn is_highlighted(word: &str, terms: &[HighlightWord]) -> bool {
    terms.iter().any(|t| {
        if t.prefix {
            t.forms.first().is_some_and(|f| word.starts_with(f.as_str()))
        } else {
            t.forms.iter().any(|f| f == word)
        }
    })
}

/// The best window (see the module docs) over `paragraphs`, marking every highlighted word.
/// Without any concept in any paragraph, the start of the first paragraph.
pub fn best(
    paragraphs: &[&str],
    concepts: &[lexica_query::Concept],
    terms: &[HighlightWord],
    sentence: bool,
) -> Vec<SnippetPart> {
    let body: Vec<&lexica_query::Concept> = concepts.iter().filter(|c| c.field.is_none()).collect();
    // (distinct concepts, -span, paragraph, first word, last word)
    let mut chosen: Option<(usize, i64, usize, usize, usize)> = None;
    for (p, text) in paragraphs.iter().enumerate() {
        let spans = word_spans(text);
        let words: Vec<&str> = spans.iter().map(|s| s.2.as_str()).collect();
        // Every occurrence: (start, end, concept).
        let mut hits: Vec<(usize, usize, usize)> = Vec::new();
        for (c, concept) in body.iter().enumerate() {
            let k = concept.words.len();
            if k == 0 || words.len() < k {
                continue;
            }
            for i in 0..=words.len() - k {
                if concept.words.iter().enumerate().all(|(j, w)| w.matches(words[i + j])) {
                    hits.push((i, i + k - 1, c));
                }
            }
        }
        hits.sort_unstable();
        for (a, &(start, _, _)) in hits.iter().enumerate() {
            let mut seen: Vec<usize> = Vec::new();
            let mut last = start;
            for &(s2, e2, c) in &hits[a..] {
                if e2 >= start + SNIPPET_WORDS {
                    if s2 >= start + SNIPPET_WORDS {
                        break;
                    }
                    continue;
                }
                if !seen.contains(&c) {
                    seen.push(c);
                    last = last.max(e2);
                }
            }
            let key = (seen.len(), -((last - start) as i64), p, start, last);
            let better = match chosen {
                None => true,
                Some(b) => (key.0, key.1) > (b.0, b.1),
            };
            if better {
                chosen = Some(key);
            }
        }
    }
    let Some((_, _, p, first, last)) = chosen else {
        return paragraphs.first().map(|t| window(t, 0, terms)).unwrap_or_default();
    };
    let text = paragraphs[p];
    if sentence && let Some(from) = sentence_start(text, first, last) {
        return window(text, from, terms);
    }
    // Context before the span, as much as the window leaves room for.
    let room = SNIPPET_WORDS.saturating_sub(last - first + 1);
    window(text, first.saturating_sub(CONTEXT_BEFORE.min(room / 2)), terms)
}

/// The first word of the sentence holding words `first..=last`, when the span lies in one
/// sentence that fits in the window.
fn sentence_start(text: &str, first: usize, last: usize) -> Option<usize> {
    let mut at = 0;
    for s in lexica_query::text::sentences(text) {
        let n = lexica_query::text::words(s).len();
        if first >= at && last < at + n {
            return (n <= SNIPPET_WORDS).then_some(at);
        }
        at += n;
    }
    None
}

/// Up to [`SNIPPET_WORDS`] words of `paragraph` from word `from`, highlighted words marked.
/// Runs of whitespace (line breaks included) become single spaces; punctuation is kept.
pub fn window(paragraph: &str, from: usize, terms: &[HighlightWord]) -> Vec<SnippetPart> {
    let spans = word_spans(paragraph);
    if spans.is_empty() {
        return Vec::new();
    }
    let from = from.min(spans.len() - 1);
    let to = (from + SNIPPET_WORDS).min(spans.len());
    let mut parts: Vec<SnippetPart> = Vec::new();
    let mut add = |text: &str, highlight: bool| {
        if text.is_empty() {
            return;
        }
        match parts.last_mut() {
            Some(last) if last.highlight == highlight => last.text.push_str(text),
            _ => parts.push(SnippetPart { text: text.to_string(), highlight }),
        }
    };
    if from > 0 {
        add("… ", false);
    }
    let mut cursor = spans[from].0;
    for (start, end, word) in &spans[from..to] {
        add(&collapse(&paragraph[cursor..*start]), false);
        add(&paragraph[*start..*end], is_highlighted(word, terms));
        cursor = *end;
    }
    let tail_end = if to < spans.len() { spans[to].0 } else { paragraph.len() };
    add(collapse(&paragraph[cursor..tail_end]).trim_end(), false);
    if to < spans.len() {
        add(" …", false);
    }
    parts
}

/// Whitespace runs to single spaces.
fn collapse(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut in_space = false;
    for c in text.chars() {
        if c.is_whitespace() {
            if !in_space {
                out.push(' ');
            }
            in_space = true;
        } else {
            out.push(c);
            in_space = false;
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn hw(forms: &[&str], prefix: bool) -> HighlightWord {
        HighlightWord { forms: forms.iter().map(|s| s.to_string()).collect(), prefix }
    }

    fn render(parts: &[SnippetPart]) -> String {
        parts.iter().map(|p| if p.highlight { format!("[{}]", p.text) } else { p.text.clone() }).collect()
    }

    fn concepts(q: &str, mode: lexica_query::Mode) -> (Vec<lexica_query::Concept>, Vec<HighlightWord>) {
        let q = lexica_query::parse(q, mode).unwrap();
        (q.concepts(), body_terms(&q))
    }

    #[test]
    fn marks_terms_and_keeps_punctuation() {
        let parts = window(
            "The party's objection was, in\nshort, overruled.",
            0,
            &[hw(&["object"], true), hw(&["partys"], false)],
        );
        assert_eq!(render(&parts), "The [party's] [objection] was, in short, overruled.");
    }

    #[test]
    fn windows_long_paragraphs() {
        let text = format!("{} needle {}", "a ".repeat(100), "b ".repeat(100));
        let (c, t) = concepts("needle", lexica_query::Mode::Boolean);
        let parts = best(&[&text], &c, &t, false);
        let shown = render(&parts);
        assert!(shown.starts_with("… a a") && shown.contains("[needle]") && shown.ends_with("b …"), "{shown}");
        assert_eq!(shown.split_whitespace().filter(|w| *w == "a").count(), CONTEXT_BEFORE);
    }

    #[test]
    fn spans_agree_with_the_indexer() {
        let text = "Brown v. Board, 347 U.S. 483 — the Court’s holding";
        let forms: Vec<String> = word_spans(text).into_iter().map(|s| s.2).collect();
        assert_eq!(forms, lexica_query::text::words(text));
    }

    #[test]
    fn shows_the_window_with_the_most_concepts() {
        let (c, t) = concepts("car AND warrant AND search", lexica_query::Mode::Boolean);
        let first = format!("The car was red. {}", "filler ".repeat(60));
        let second =
            format!("{} Officers may search a car without a warrant when {}", "x ".repeat(30), "y ".repeat(30));
        let shown = render(&best(&[&first, &second], &c, &t, false));
        assert!(shown.contains("[search] a [car] without a [warrant]"), "{shown}");
    }

    #[test]
    fn a_sentence_query_shows_the_sentence() {
        let (c, t) = concepts("hearsay /s objection", lexica_query::Mode::Boolean);
        let p = "The trial went on for days. Counsel raised a hearsay objection at once. The judge overruled it.";
        assert_eq!(
            render(&best(&[p], &c, &t, true)),
            "… Counsel raised a [hearsay] [objection] at once. The judge overruled it."
        );
    }
}
