//! Highlighted snippets: a short window of an opinion's text around the first search term, as
//! plain-text parts with a highlight flag (never HTML, so nothing in an opinion can inject markup).

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

/// The snippet of `paragraph`: up to [`SNIPPET_WORDS`] words starting a little before the first
/// highlighted word (or the paragraph's start), with every highlighted word marked. Runs of
/// whitespace (line breaks included) become single spaces; punctuation is kept.
pub fn build(paragraph: &str, terms: &[HighlightWord]) -> Vec<SnippetPart> {
    let spans = word_spans(paragraph);
    if spans.is_empty() {
        return Vec::new();
    }
    let first = spans.iter().position(|(_, _, w)| is_highlighted(w, terms)).unwrap_or(0);
    let from = first.saturating_sub(CONTEXT_BEFORE);
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

    #[test]
    fn marks_terms_and_keeps_punctuation() {
        let parts =
            build("The party's objection was, in\nshort, overruled.", &[hw(&["object"], true), hw(&["partys"], false)]);
        assert_eq!(render(&parts), "The [party's] [objection] was, in short, overruled.");
    }

    #[test]
    fn windows_long_paragraphs() {
        let text = format!("{} needle {}", "a ".repeat(100), "b ".repeat(100));
        let parts = build(&text, &[hw(&["needle"], false)]);
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
}
