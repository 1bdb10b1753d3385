//! How Lexica cuts an opinion into paragraphs, sentences and words.
//!
//! Every backend indexes the *normalized* text this module produces (words joined by single
//! spaces), never the raw body. That makes a word's index here equal to its position in a
//! PostgreSQL `tsvector` built with the `simple` configuration (position = index + 1) and to
//! its token index in an SQLite FTS5 `unicode61` index, so proximity means the same thing in
//! PostgreSQL, in SQLite and in the exact checker that runs after retrieval.
//!
//! Rules (the search-language spec refers to them):
//! - a **word** is a maximal run of Unicode alphanumeric characters, lower-cased; an apostrophe
//!   (`'` or `’`) between two alphanumerics is dropped, so `party's` is the one word `partys`;
//!   every other character separates words (`well-known` is two words, `U.S.` is `u s`);
//! - a **paragraph** is text between blank lines; a paragraph longer than
//!   [`MAX_PARAGRAPH_WORDS`] is cut into pieces of at most that many words, so no position ever
//!   reaches PostgreSQL's 16,383 limit;
//! - a **sentence** ends at `.`, `?` or `!` (optionally followed by closing quotes or brackets)
//!   followed by whitespace, unless the word before the period is a known legal abbreviation
//!   (`v.`, `U.S.`, `Inc.`, `No.`, …) or a single letter (an initial).

/// Longest paragraph, in words, that is indexed as one piece. Far below PostgreSQL's
/// tsvector position limit (16,383) so that positions inside a paragraph are always exact.
pub const MAX_PARAGRAPH_WORDS: usize = 8_000;

/// Abbreviations after which a period does not end a sentence (lower case, without the period).
const ABBREVIATIONS: &[&str] = &[
    "v", "vs", "u.s", "u.s.c", "inc", "co", "corp", "ltd", "llc", "no", "nos", "stat", "cir", "app", "supp", "f",
    "f.2d", "f.3d", "f.4th", "s.ct", "l.ed", "l.ed.2d", "mr", "mrs", "ms", "dr", "jr", "sr", "st", "art", "sec", "ch",
    "cl", "cf", "e.g", "i.e", "id", "ibid", "etc", "et al", "al", "op", "ed", "eds", "ann", "rev", "dist", "ct",
    "ass'n", "dep't", "gov't", "n.y", "n.y.s", "n.e", "n.e.2d", "a.2d", "p.2d", "so.2d", "s.w", "s.e", "n.w", "cal",
    "mass", "pa", "ill", "tex", "fla", "ga", "ky", "la", "md", "mich", "minn", "mo", "wis", "va", "wash", "conn",
    "del", "me", "mont", "neb", "nev", "okla", "or", "tenn", "vt", "wyo", "ariz", "ark", "colo", "ind", "kan", "miss",
    "n.c", "n.d", "n.h", "n.j", "n.m", "r.i", "s.c", "s.d", "w.va", "jan", "feb", "mar", "apr", "jun", "jul", "aug",
    "sept", "sep", "oct", "nov", "dec", "para", "pp", "p", "fig", "vol", "amend", "const", "reg", "regs", "fed", "r",
    "civ", "crim", "proc", "evid",
];

/// Splits text into lower-case words (see the module rules).
pub fn words(text: &str) -> Vec<String> {
    Words::of(text).iter().map(str::to_string).collect()
}

/// One text's words (see the module rules) in a buffer that is reused from text to text: the
/// lower-cased words sit end to end in one `String`, so splitting a paragraph allocates nothing
/// once the buffer has grown to the longest paragraph. The scorer splits every fetched paragraph
/// of every candidate, where a `String` per word (as [`words`] returns them) was most of the
/// cost. [`words`] is built on [`Words::split`], so the two never disagree on what a word is.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Words {
    /// The words, lower-cased, without separators.
    text: String,
    /// Where each word ends in `text` (it starts where the previous one ends).
    ends: Vec<usize>,
}

impl Words {
    /// The words of `text` in a buffer of their own.
    pub fn of(text: &str) -> Words {
        let mut words = Words::default();
        words.split(text);
        words
    }

    /// Replaces the buffer's words with those of `text`.
    pub fn split(&mut self, text: &str) {
        self.text.clear();
        self.ends.clear();
        self.extend_split(text);
    }

    /// Appends the words of `text` after the buffer's (the checker splits a paragraph sentence
    /// by sentence into one buffer). Words never join across the two: `text` starts a new word.
    pub fn extend_split(&mut self, text: &str) {
        let bytes = text.as_bytes();
        let mut start = self.text.len();
        let mut i = 0;
        while i < bytes.len() {
            let b = bytes[i];
            let c = if b.is_ascii() {
                if b.is_ascii_alphanumeric() {
                    // ASCII fast path, a run of letters and digits at a time (one copy, then
                    // lower-cased in place): the same rule as below, since an ASCII character is
                    // alphanumeric in Unicode exactly when it is ASCII-alphanumeric, and
                    // lower-cases to one character. Most of a legal text is ASCII, and this loop
                    // is where the checker, the scorer and the PostgreSQL paragraph cut spend
                    // their time.
                    let run = i;
                    while i < bytes.len() && bytes[i].is_ascii_alphanumeric() {
                        i += 1;
                    }
                    let at = self.text.len();
                    self.text.push_str(&text[run..i]);
                    self.text[at..].make_ascii_lowercase();
                    continue;
                }
                i += 1;
                char::from(b)
            } else {
                let Some(c) = text[i..].chars().next() else { break };
                i += c.len_utf8();
                if c.is_alphanumeric() {
                    // Lower-casing may add a mark that is not alphanumeric (`İ` becomes `i` and
                    // U+0307): dropped, so a word stays letters and digits and reads back the same.
                    self.text.extend(c.to_lowercase().filter(|l| l.is_alphanumeric()));
                    continue;
                }
                c
            };
            let in_word = self.text.len() > start;
            let next_is_alphanumeric = || text[i..].chars().next().is_some_and(char::is_alphanumeric);
            if (c == '\'' || c == '\u{2019}') && in_word && next_is_alphanumeric() {
                // Apostrophe inside a word: dropped, the word goes on.
            } else if in_word {
                self.ends.push(self.text.len());
                start = self.text.len();
            }
        }
        if self.text.len() > start {
            self.ends.push(self.text.len());
        }
    }

    /// How many words.
    pub fn len(&self) -> usize {
        self.ends.len()
    }

    pub fn is_empty(&self) -> bool {
        self.ends.is_empty()
    }

    /// The `i`-th word.
    pub fn get(&self, i: usize) -> Option<&str> {
        let end = *self.ends.get(i)?;
        let start = if i == 0 { 0 } else { self.ends[i - 1] };
        self.text.get(start..end)
    }

    /// The words in order.
    pub fn iter(&self) -> impl Iterator<Item = &str> + '_ {
        let mut start = 0;
        self.ends.iter().map(move |&end| {
            let word = &self.text[start..end];
            start = end;
            word
        })
    }
}

/// The normalized form that backends index: [`words`] joined by single spaces.
pub fn normalize(text: &str) -> String {
    words(text).join(" ")
}

/// Splits a body into paragraphs (see the module rules). Empty paragraphs are dropped.
pub fn paragraphs(body: &str) -> Vec<String> {
    let mut out = Vec::new();
    each_paragraph(body, &mut Words::default(), |p, _| out.push(p.to_string()));
    out
}

/// The body's paragraphs (see the module rules), handed one at a time to `f` with its words
/// (split into the reused `words` buffer, no `String` per word). The one cut: `lexica ingest`
/// stores these paragraphs ([`paragraphs`]) and a PostgreSQL search cuts bodies with it again.
pub fn each_paragraph(body: &str, words: &mut Words, mut f: impl FnMut(&str, &Words)) {
    for block in split_blank_lines(body) {
        let block = block.trim();
        if block.is_empty() {
            continue;
        }
        words.split(block);
        if words.is_empty() {
            continue;
        }
        if words.len() <= MAX_PARAGRAPH_WORDS {
            f(block, words);
        } else {
            for piece in cut_long(block) {
                words.split(&piece);
                f(&piece, words);
            }
        }
    }
}

fn split_blank_lines(body: &str) -> Vec<&str> {
    let mut blocks = Vec::new();
    let mut start = 0;
    let mut line_start = 0;
    let mut previous_blank = false;
    for (i, c) in body.char_indices() {
        if c == '\n' {
            let line = &body[line_start..i];
            let blank = line.trim().is_empty();
            if blank && !previous_blank {
                blocks.push(&body[start..line_start]);
            }
            if blank {
                start = i + 1;
            }
            previous_blank = blank;
            line_start = i + 1;
        }
    }
    blocks.push(&body[start..]);
    blocks
}

/// Cuts an over-long paragraph at line ends (or, failing that, at word boundaries) into
/// pieces of at most [`MAX_PARAGRAPH_WORDS`] words.
fn cut_long(block: &str) -> Vec<String> {
    let mut pieces = Vec::new();
    let mut current = String::new();
    let mut count = 0;
    for token in block.split_inclusive(char::is_whitespace) {
        let n = words(token).len();
        if count + n > MAX_PARAGRAPH_WORDS && !current.trim().is_empty() {
            pieces.push(current.trim().to_string());
            current.clear();
            count = 0;
        }
        current.push_str(token);
        count += n;
    }
    if !current.trim().is_empty() {
        pieces.push(current.trim().to_string());
    }
    pieces
}

/// Splits a paragraph into sentences (see the module rules).
pub fn sentences(paragraph: &str) -> Vec<&str> {
    let mut out = Vec::new();
    let mut start = 0;
    let bytes: Vec<(usize, char)> = paragraph.char_indices().collect();
    let mut i = 0;
    while i < bytes.len() {
        let (pos, c) = bytes[i];
        if matches!(c, '.' | '?' | '!') {
            // Swallow closing quotes and brackets after the terminator.
            let mut j = i + 1;
            while j < bytes.len() && matches!(bytes[j].1, '"' | '\'' | '\u{201D}' | '\u{2019}' | ')' | ']') {
                j += 1;
            }
            let at_end = j >= bytes.len();
            let followed_by_space = !at_end && bytes[j].1.is_whitespace();
            if (at_end || followed_by_space) && (c != '.' || !is_abbreviation(&paragraph[start..pos])) {
                let end = if at_end { paragraph.len() } else { bytes[j].0 };
                let sentence = paragraph[start..end].trim();
                if !sentence.is_empty() {
                    out.push(sentence);
                }
                start = end;
                i = j;
                continue;
            }
            let _ = pos;
        }
        i += 1;
    }
    let rest = paragraph[start..].trim();
    if !rest.is_empty() {
        out.push(rest);
    }
    out
}

/// Is the text before a period an abbreviation (so the period does not end the sentence)?
fn is_abbreviation(before: &str) -> bool {
    let last =
        before.rsplit(|c: char| c.is_whitespace() || c == '(' || c == '"' || c == '\u{201C}').next().unwrap_or("");
    let last = last.trim_start_matches(['(', '[', '"', '\'']).to_lowercase();
    if last.is_empty() {
        return false;
    }
    // A single letter is an initial ("John F. Kennedy", "Section 5(a). ").
    if last.chars().count() == 1 && last.chars().all(char::is_alphabetic) {
        return true;
    }
    ABBREVIATIONS.contains(&last.as_str())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn words_fold_case_and_apostrophes() {
        assert_eq!(words("The Party's well-known U.S. claim"), ["the", "partys", "well", "known", "u", "s", "claim"]);
        assert_eq!(words("parties’ 42 F.3d"), ["parties", "42", "f", "3d"]);
        assert_eq!(normalize("  A  b\n"), "a b");
    }

    /// The rule as first written, a char at a time into a `String` per word: [`Words::split`]
    /// (with its ASCII fast path) must cut every text exactly the same way.
    fn reference_words(text: &str) -> Vec<String> {
        let mut out = Vec::new();
        let mut current = String::new();
        let mut chars = text.chars().peekable();
        while let Some(c) = chars.next() {
            if c.is_alphanumeric() {
                // Letters and digits only, also after lower-casing (`İ` gives `i` and U+0307).
                current.extend(c.to_lowercase().filter(|l| l.is_alphanumeric()));
            } else if (c == '\'' || c == '\u{2019}')
                && !current.is_empty()
                && chars.peek().is_some_and(|n| n.is_alphanumeric())
            {
                // Apostrophe inside a word: dropped.
            } else if !current.is_empty() {
                out.push(std::mem::take(&mut current));
            }
        }
        if !current.is_empty() {
            out.push(current);
        }
        out
    }

    #[test]
    fn the_word_buffer_is_reused_and_agrees_with_words() {
        let mut w = Words::default();
        w.split("İstanbul’s ÉCOLE—Straße ǅ 'x' ½ Ⅻ ٣ a'’b");
        let got: Vec<&str> = w.iter().collect();
        assert_eq!(got, reference_words("İstanbul’s ÉCOLE—Straße ǅ 'x' ½ Ⅻ ٣ a'’b"));
        assert_eq!(w.get(1), Some("école"));
        assert_eq!(w.get(w.len()), None);
        w.split("Two words");
        assert_eq!((w.len(), w.get(0), w.get(1)), (2, Some("two"), Some("words")));
        w.split(" .. ");
        assert!(w.is_empty() && w.iter().next().is_none());
        // Appended words never join the last one.
        w.split("Ab");
        w.extend_split("cD e");
        assert_eq!(w.iter().collect::<Vec<_>>(), ["ab", "cd", "e"]);
    }

    proptest::proptest! {
        #[test]
        fn words_equal_the_reference(s in "[a-zA-Z0-9 '’.,İÉßΣǅ½Ⅻ٣\u{0301}\u{00A0}-]{0,40}", t in "\\PC{0,40}") {
            proptest::prop_assert_eq!(words(&s), reference_words(&s));
            proptest::prop_assert_eq!(words(&t), reference_words(&t));
        }
    }

    #[test]
    fn paragraphs_split_on_blank_lines() {
        let p = paragraphs("First para.\nStill first.\n\n  \nSecond.\n\n\n");
        assert_eq!(p, ["First para.\nStill first.", "Second."]);
    }

    #[test]
    fn long_paragraphs_are_cut() {
        let long = "word ".repeat(MAX_PARAGRAPH_WORDS * 2 + 5);
        let p = paragraphs(&long);
        assert_eq!(p.len(), 3);
        assert!(p.iter().all(|x| words(x).len() <= MAX_PARAGRAPH_WORDS));
    }

    #[test]
    fn sentences_respect_legal_abbreviations() {
        let s = sentences("See Brown v. Board, 347 U.S. 483 (1954). The Court held it. Was it right? Yes.");
        assert_eq!(s, ["See Brown v. Board, 347 U.S. 483 (1954).", "The Court held it.", "Was it right?", "Yes."]);
        let s = sentences("John F. Kennedy spoke. \"It is so.\" Then he left");
        assert_eq!(s, ["John F. Kennedy spoke.", "\"It is so.\"", "Then he left"]);
    }
}
