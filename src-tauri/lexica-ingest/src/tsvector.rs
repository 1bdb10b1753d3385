//! PostgreSQL `tsvector` values built from Lexica's normalized text, as `tsvector` input
//! literals (`'word':1A,5 'other':2`), for the PostgreSQL loader.
//!
//! Why here and not `to_tsvector('simple', …)` in SQL: the result is what `to_tsvector` would
//! give for ordinary words, but (1) every position is exactly Lexica's word index + 1, by
//! construction, even for characters PostgreSQL's parser would split or skip; and (2) parsing a
//! literal costs the server a fraction of running the text parser: on the full corpus the
//! server's load time fell by about a third, and the client builds these on the reader thread,
//! in parallel with the server's work.
//!
//! PostgreSQL's own limits are applied the way `to_tsvector` applies them: positions above
//! [`MAX_POSITION`] are clamped to it, a lexeme keeps its first [`MAX_POSITIONS_PER_LEXEME`]
//! positions, and a word longer than [`MAX_LEXEME_BYTES`] is not indexed (it still counts as a
//! position, so later words keep Lexica's indices).

/// Highest position a `tsvector` stores (PostgreSQL's `MAXENTRYPOS - 1`).
pub const MAX_POSITION: u32 = 16_383;
/// Positions kept per lexeme (PostgreSQL's `MAXNUMPOS`).
pub const MAX_POSITIONS_PER_LEXEME: usize = 256;
/// Longest lexeme PostgreSQL accepts, in bytes (`MAXSTRLEN` is 2047).
pub const MAX_LEXEME_BYTES: usize = 2_046;

/// Whether a normalized word becomes a lexeme of the vector: the one test shared with the term
/// statistics (`crate::stats`), whose terms must be exactly the vector's lexemes.
pub fn is_indexed(word: &str) -> bool {
    word.len() <= MAX_LEXEME_BYTES
}

/// A `tsvector` weight: `A` (highest) to `D` (default, printed without a letter).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Weight {
    A,
    B,
    C,
    D,
}

impl Weight {
    /// The field slot of `lexica_query::bm25f` this weight marks (A case name … D body).
    pub fn field(self) -> usize {
        match self {
            Self::A => 0,
            Self::B => 1,
            Self::C => 2,
            Self::D => 3,
        }
    }

    fn suffix(self) -> &'static str {
        match self {
            Self::A => "A",
            Self::B => "B",
            Self::C => "C",
            Self::D => "",
        }
    }
}

/// The literal of one vector over `parts`, each a normalized text (words separated by single
/// spaces) with its weight. Positions run on across parts, as `setweight(…) || setweight(…)`
/// would number them.
pub fn literal(parts: &[(&str, Weight)]) -> String {
    build(parts, None)
}

/// [`literal`], also appending the vector's distinct lexemes to `lexemes`, sorted and separated
/// by single spaces, and to `tf` each lexeme's occurrences per field (indexed by
/// [`Weight::field`], every occurrence counted, past the 256 positions and the 16,383 clamp the
/// vector keeps): the record's terms for `crate::stats` and their counts for `crate::postings`,
/// had for free from the sort the literal needs anyway.
pub fn literal_with_lexemes(parts: &[(&str, Weight)], lexemes: &mut String, tf: &mut Vec<Tf>) -> String {
    build(parts, Some((lexemes, tf)))
}

/// Occurrences of one term per field (case name, citation, court, body).
pub type Tf = [u32; 4];

fn build(parts: &[(&str, Weight)], mut lexemes: Option<(&mut String, &mut Vec<Tf>)>) -> String {
    // (word, position, weight) sorted by word, stable so positions stay ascending: cheaper than
    // a hash map, especially in the unoptimized builds the tests run.
    let mut entries: Vec<(&str, u32, Weight)> = Vec::with_capacity(text_len(parts) / 5 + 1);
    let mut position: u32 = 0;
    for &(text, weight) in parts {
        for word in text.split(' ') {
            if word.is_empty() {
                continue;
            }
            position = position.saturating_add(1);
            if is_indexed(word) {
                entries.push((word, position.min(MAX_POSITION), weight));
            }
        }
    }
    entries.sort_by(|a, b| a.0.cmp(b.0));
    let mut out = String::with_capacity(text_len(parts) * 2);
    let mut previous: Option<&str> = None;
    let mut kept = 0;
    let mut last_position = 0;
    for (word, position, weight) in entries {
        if previous == Some(word) {
            if let Some((_, tf)) = lexemes.as_mut()
                && let Some(counts) = tf.last_mut()
            {
                counts[weight.field()] += 1;
            }
            if kept == MAX_POSITIONS_PER_LEXEME || position == last_position {
                continue;
            }
            out.push(',');
        } else {
            if previous.is_some() {
                out.push(' ');
            }
            if let Some((lexemes, tf)) = lexemes.as_mut() {
                if !lexemes.is_empty() {
                    lexemes.push(' ');
                }
                lexemes.push_str(word);
                let mut counts = [0; 4];
                counts[weight.field()] = 1;
                tf.push(counts);
            }
            push_quoted(&mut out, word);
            out.push(':');
            previous = Some(word);
            kept = 0;
        }
        push_number(&mut out, position);
        out.push_str(weight.suffix());
        kept += 1;
        last_position = position;
    }
    out
}

/// `'word'`, with `'` and `\` doubled (they cannot occur in normalized words; kept safe anyway).
fn push_quoted(out: &mut String, word: &str) {
    out.push('\'');
    if word.contains(['\'', '\\']) {
        for c in word.chars() {
            if c == '\'' || c == '\\' {
                out.push(c);
            }
            out.push(c);
        }
    } else {
        out.push_str(word);
    }
    out.push('\'');
}

/// Decimal digits without a temporary `String`.
fn push_number(out: &mut String, n: u32) {
    let mut digits = [0u8; 10];
    let mut i = digits.len();
    let mut n = n;
    loop {
        i -= 1;
        digits[i] = b'0' + (n % 10) as u8;
        n /= 10;
        if n == 0 {
            break;
        }
    }
    for &d in &digits[i..] {
        out.push(char::from(d));
    }
}

fn text_len(parts: &[(&str, Weight)]) -> usize {
    parts.iter().map(|(t, _)| t.len()).sum()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn positions_weights_and_limits() {
        assert_eq!(
            literal(&[("a v b", Weight::A), ("", Weight::B), ("court of a", Weight::C)]),
            "'a':1A,6C 'b':3A 'court':4C 'of':5C 'v':2A"
        );
        assert_eq!(literal(&[("it's", Weight::D)]), "'it''s':1");
        let mut lexemes = String::new();
        let mut tf = Vec::new();
        let lit = literal_with_lexemes(&[("b a", Weight::A), ("a c", Weight::D)], &mut lexemes, &mut tf);
        assert_eq!((lit.as_str(), lexemes.as_str()), ("'a':2A,3 'b':1A 'c':4", "a b c"));
        assert_eq!(tf, [[1, 0, 0, 1], [1, 0, 0, 0], [0, 0, 0, 1]]);
        // Every occurrence counts, also those the vector no longer keeps.
        let (mut lexemes, mut tf) = (String::new(), Vec::new());
        let repeated = "w ".repeat(300);
        literal_with_lexemes(&[(repeated.trim_end(), Weight::D)], &mut lexemes, &mut tf);
        assert_eq!(tf, [[0, 0, 0, 300]]);
        assert_eq!(literal(&[("x y x", Weight::D)]), "'x':1,3 'y':2");
        assert_eq!(literal(&[]), "");
        let many = "w ".repeat(300);
        let lit = literal(&[(many.trim_end(), Weight::D)]);
        assert_eq!(lit.matches(',').count(), MAX_POSITIONS_PER_LEXEME - 1);
        let long = format!("a {} b", "z".repeat(3000));
        assert_eq!(literal(&[(&long, Weight::D)]), "'a':1 'b':3");
        let deep = format!("{}last end", "w ".repeat(20_000));
        let lit = literal(&[(&deep, Weight::D)]);
        assert!(lit.starts_with("'end':16383 'last':16383 'w':1,2,3,"), "{}", &lit[..40]);
    }
}
