//! Citation keys: US case citations reduced to `volume reporter page` with the reporter in its canonical form, so
//! the same opinion held by two sources is recognized as one (`347 U. S. 483` and `347 US 483` both become
//! `347 U.S. 483`).
//!
//! Reporter variants come from Free Law Project's reporters-db, compacted into `data/reporters.tsv` by
//! `data/make_reporters_table.py` and embedded here. A citation field may hold parallel citations separated by commas
//! or semicolons (`347 U.S. 483, 74 S. Ct. 686`); each yields its own key. Pin cites (`347 U.S. 483, 490`), nominative
//! parentheticals (`5 U.S. (1 Cranch) 137`) and trailing years (`(1954)`) are skipped. The New York slip-opinion form
//! `2019 NY Slip Op 01234` is a reporter like any other (reporters-db lists `NY Slip Op` and its variants).
//!
//! Reporters are looked up by their exact spelling first (tokens joined by one space), then by their *squeezed* form
//! (lowercase, whitespace and periods removed) when that squeezed form names a single edition: `S.Ct.`, `S. Ct.` and
//! `SCT` all meet, while `Me.` (Maine Reports) and `ME` (Maine's public-domain citation) stay apart. A reporter found
//! in neither way is kept in its squeezed form (`12 Foo. Rep. 34` gives `12 foorep 34`), so two identical unknown
//! citations still match; such a reporter must start with an uppercase ASCII letter, which keeps pin-cite footnote
//! markers (`490 n. 3`) and prose out. Short forms without a first page (`347 U.S. at 490`, `590 U.S. ___`) give no
//! key: they do not identify the opinion on their own.
//!
//! Page letter suffixes (`30 Misc. 3d 1201(A)`) are kept, since several unreported decisions share a page; the slip
//! opinion's `(U)` is dropped, since unreported slip numbers (50000 and up) never clash with reported ones. Keys are
//! for comparing: an unknown reporter's key (`12 foorep 34`) does not parse back into a citation.

use std::collections::{HashMap, HashSet};
use std::fmt;
use std::sync::LazyLock;

/// The reporter table: `variant<TAB>canonical edition` lines, `#` comments (generated, see the module doc).
const REPORTERS_TSV: &str = include_str!("../../data/reporters.tsv");

/// Most tokens an unknown reporter may span (`Foo. Bar. Rep. 2d`); longer runs of words are prose, not a reporter.
const MAX_UNKNOWN_REPORTER_TOKENS: usize = 4;

/// Most digits of a volume (reporter volumes have at most 4, slip-opinion years 4); longer numbers are not volumes.
const MAX_VOLUME_DIGITS: usize = 5;

/// Most digits of a page (slip-opinion numbers have 5, database numbers such as `2019 WL 1234567` have 7).
const MAX_PAGE_DIGITS: usize = 8;

/// Most tokens of a nominative parenthetical between reporter and page (`5 U.S. (1 Cranch) 137`).
const MAX_PARENTHETICAL_TOKENS: usize = 4;

/// The canonical New York slip-opinion reporter: its numbers are zero-padded, and its `(U)` suffix dropped.
const SLIP_OP_REPORTER: &str = "NY Slip Op";

/// Width of a New York slip-opinion number (`2019 NY Slip Op 01234`); shorter numbers are zero-padded to it.
const SLIP_OP_NUMBER_WIDTH: usize = 5;

/// A citation reduced to `volume reporter page` with the reporter in its canonical form.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct CitationKey(String); // e.g. "347 U.S. 483"

impl CitationKey {
    /// The key as text, e.g. `347 U.S. 483`.
    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for CitationKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

/// Every citation found in a citation field, in order of appearance, deduplicated.
///
/// Never fails: text holding no recognizable `volume reporter page` gives an empty list.
pub fn citation_keys(text: &str) -> Vec<CitationKey> {
    let tokens = tokenize(text);
    let mut keys = Vec::new();
    let mut seen = HashSet::new();
    let mut i = 0;
    while i < tokens.len() {
        match parse_citation(&tokens, i) {
            Some((key, next)) => {
                if seen.insert(key.clone()) {
                    keys.push(CitationKey(key));
                }
                i = next;
            }
            None => i += 1,
        }
    }
    keys
}

/// The reporter table, parsed once.
#[derive(Debug)]
struct Reporters {
    /// Variant as spelled in the table (single spaces) → canonical edition.
    exact: HashMap<&'static str, &'static str>,
    /// Squeezed variant → canonical edition, or `None` when the squeezed form names several editions.
    squeezed: HashMap<String, Option<&'static str>>,
    /// Most whitespace-separated tokens of any variant: the longest reporter run worth trying.
    max_tokens: usize,
}

static REPORTERS: LazyLock<Reporters> = LazyLock::new(|| Reporters::parse(REPORTERS_TSV));

impl Reporters {
    fn parse(tsv: &'static str) -> Self {
        let mut exact = HashMap::new();
        let mut squeezed: HashMap<String, Option<&'static str>> = HashMap::new();
        let mut max_tokens = 1;
        for line in tsv.lines() {
            if line.is_empty() || line.starts_with('#') {
                continue;
            }
            let Some((variant, canonical)) = line.split_once('\t') else { continue };
            exact.insert(variant, canonical);
            max_tokens = max_tokens.max(variant.split_whitespace().count());
            squeezed
                .entry(squeeze(variant))
                .and_modify(|seen| {
                    if *seen != Some(canonical) {
                        *seen = None;
                    }
                })
                .or_insert(Some(canonical));
        }
        Reporters { exact, squeezed, max_tokens }
    }

    /// The canonical edition of a reporter spelled as `words` (tokens joined by single spaces).
    fn canonical(&self, words: &str) -> Option<&'static str> {
        if let Some(canonical) = self.exact.get(words) {
            return Some(canonical);
        }
        self.squeezed.get(&squeeze(words)).copied().flatten()
    }
}

/// Lowercase, whitespace and periods removed: `S. Ct.`, `S.Ct.` and `SCT` all give `sct`.
fn squeeze(s: &str) -> String {
    s.chars().filter(|c| !c.is_whitespace() && *c != '.').flat_map(char::to_lowercase).collect()
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Token<'a> {
    /// A run of characters other than whitespace, `,` and `;`.
    Word(&'a str),
    /// `,` or `;`: separates parallel citations and pin cites.
    Separator,
}

fn tokenize(text: &str) -> Vec<Token<'_>> {
    let mut tokens = Vec::new();
    let mut start = None;
    for (at, c) in text.char_indices() {
        let separator = c == ',' || c == ';';
        if c.is_whitespace() || separator {
            if let Some(from) = start.take() {
                tokens.push(Token::Word(&text[from..at]));
            }
            if separator {
                tokens.push(Token::Separator);
            }
        } else if start.is_none() {
            start = Some(at);
        }
    }
    if let Some(from) = start {
        tokens.push(Token::Word(&text[from..]));
    }
    tokens
}

fn word<'a>(tokens: &[Token<'a>], i: usize) -> Option<&'a str> {
    match tokens.get(i) {
        Some(Token::Word(w)) => Some(w),
        _ => None,
    }
}

/// A volume or page number without its leading zeros (`0` stays `0`), if `s` is 1 to `max_digits` ASCII digits.
fn number(s: &str, max_digits: usize) -> Option<&str> {
    if s.is_empty() || s.len() > max_digits || !s.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let trimmed = s.trim_start_matches('0');
    Some(if trimmed.is_empty() { "0" } else { trimmed })
}

/// A letter suffix in parentheses, `(A)`, as New York's unreported decisions carry (`30 Misc. 3d 1201(A)`).
fn letter_suffix(s: &str) -> Option<char> {
    let mut chars = s.strip_prefix('(')?.strip_suffix(')')?.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) if c.is_ascii_alphabetic() => Some(c.to_ascii_uppercase()),
        _ => None,
    }
}

/// A page at `tokens[i]`: digits, then an optional `(A)` suffix (attached or as the next token) and a trailing period.
/// Returns the page number, its suffix and the index after it.
fn parse_page(tokens: &[Token<'_>], i: usize) -> Option<(String, Option<char>, usize)> {
    let raw = word(tokens, i)?;
    let raw = raw.strip_suffix('.').unwrap_or(raw);
    let digits_end = raw.bytes().position(|b| !b.is_ascii_digit()).unwrap_or(raw.len());
    let (digits, rest) = raw.split_at(digits_end);
    let page = number(digits, MAX_PAGE_DIGITS)?;
    let suffix = if rest.is_empty() { None } else { Some(letter_suffix(rest)?) };
    if suffix.is_none()
        && let Some(next) = word(tokens, i + 1).and_then(letter_suffix)
    {
        return Some((page.to_string(), Some(next), i + 2));
    }
    Some((page.to_string(), suffix, i + 1))
}

/// The page after a reporter ending before `tokens[i]`, past a nominative parenthetical (`(1 Cranch)`) if any.
fn page_after_reporter(tokens: &[Token<'_>], i: usize) -> Option<(String, Option<char>, usize)> {
    if let Some(page) = parse_page(tokens, i) {
        return Some(page);
    }
    if !word(tokens, i)?.starts_with('(') {
        return None;
    }
    (i..tokens.len().min(i + MAX_PARENTHETICAL_TOKENS))
        .find(|&j| word(tokens, j).is_some_and(|w| w.ends_with(')')))
        .and_then(|close| parse_page(tokens, close + 1))
}

/// Reporter words `tokens[from..to]` joined by single spaces, if they are all words.
fn joined(tokens: &[Token<'_>], from: usize, to: usize) -> Option<String> {
    let mut out = String::new();
    for i in from..to {
        if !out.is_empty() {
            out.push(' ');
        }
        out.push_str(word(tokens, i)?);
    }
    Some(out)
}

/// A citation starting at `tokens[i]`: its key and the index of the token after it.
fn parse_citation(tokens: &[Token<'_>], i: usize) -> Option<(String, usize)> {
    let volume = number(word(tokens, i)?, MAX_VOLUME_DIGITS)?;
    let reporters = &*REPORTERS;
    // Known reporters, longest run first.
    for len in (1..=reporters.max_tokens).rev() {
        let after = i + 1 + len;
        if after >= tokens.len() {
            continue;
        }
        let Some((page, suffix, next)) = page_after_reporter(tokens, after) else { continue };
        let Some(spelled) = joined(tokens, i + 1, after) else { continue };
        if let Some(canonical) = reporters.canonical(&spelled) {
            return Some((key(volume, canonical, &page, suffix), next));
        }
    }
    // An unknown reporter: up to the first page, words with letters that look like abbreviations, the first one
    // starting with an uppercase letter (so `490 n. 3` and `347 U.S. at 490` are no citations).
    if !word(tokens, i + 1)?.starts_with(|c: char| c.is_ascii_uppercase()) {
        return None;
    }
    let end = (i + 1..tokens.len().min(i + 1 + MAX_UNKNOWN_REPORTER_TOKENS))
        .take_while(|&j| word(tokens, j).is_some_and(unknown_reporter_word))
        .last()?
        + 1;
    let (page, suffix, next) = parse_page(tokens, end)?;
    let spelled = joined(tokens, i + 1, end)?;
    Some((key(volume, &squeeze(&spelled), &page, suffix), next))
}

/// A word that may belong to an unknown reporter: it has a letter and starts like an abbreviation (`Foo.`, `2d`,
/// `&`, `(N.S.)`), not like prose (`at`, `n.`).
fn unknown_reporter_word(w: &str) -> bool {
    w == "&"
        || w.chars().any(char::is_alphabetic)
            && w.starts_with(|c: char| c.is_ascii_uppercase() || c.is_ascii_digit() || c == '&' || c == '(')
}

fn key(volume: &str, reporter: &str, page: &str, suffix: Option<char>) -> String {
    if reporter == SLIP_OP_REPORTER {
        // Slip-opinion numbers are unique within a year, unreported ones included: their `(U)` adds nothing.
        return format!("{volume} {reporter} {page:0>width$}", width = SLIP_OP_NUMBER_WIDTH);
    }
    match suffix {
        Some(letter) => format!("{volume} {reporter} {page}({letter})"),
        None => format!("{volume} {reporter} {page}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn keys(text: &str) -> Vec<String> {
        citation_keys(text).into_iter().map(|k| k.as_str().to_string()).collect()
    }

    #[test]
    fn us_reports_variants_meet() {
        for text in ["347 U.S. 483", "347 U. S. 483", "347 US 483", "347  U.S.\t483", "347 u.s. 483"] {
            assert_eq!(keys(text), ["347 U.S. 483"], "{text}");
        }
        assert_eq!(keys("273 U.S. 280"), ["273 U.S. 280"]);
    }

    #[test]
    fn editions_with_series_meet() {
        assert_eq!(keys("123 F.2d 456"), ["123 F.2d 456"]);
        assert_eq!(keys("123 F. 2d 456"), ["123 F.2d 456"]);
        assert_eq!(keys("45 N.Y.3d 12"), ["45 N.Y.3d 12"]);
        assert_eq!(keys("12 Cal. Rptr. 3d 345"), ["12 Cal. Rptr. 3d 345"]);
        assert_eq!(keys("12 Cal.Rptr.3d 345"), ["12 Cal. Rptr. 3d 345"]);
    }

    #[test]
    fn supreme_court_reporter_spacing_meets() {
        for text in ["100 S. Ct. 2000", "100 S.Ct. 2000", "100 SCT 2000", "100 Sup.Ct. 2000"] {
            assert_eq!(keys(text), ["100 S. Ct. 2000"], "{text}");
        }
    }

    #[test]
    fn ny_slip_opinions() {
        for text in
            ["2019 NY Slip Op 01234", "2019 NYSlipOp 01234", "2019 N.Y. Slip Op. 1234", "2019 NY Slip Op 01234."]
        {
            assert_eq!(keys(text), ["2019 NY Slip Op 01234"], "{text}");
        }
        assert_eq!(keys("2026 NY Slip Op 50123(U)"), ["2026 NY Slip Op 50123"]);
        assert_eq!(keys("2026 NYSlipOp 50123 (U)"), ["2026 NY Slip Op 50123"]);
    }

    #[test]
    fn letter_suffixed_pages_stay_apart() {
        assert_eq!(keys("82 Misc 3d 1201(A)"), ["82 Misc. 3d 1201(A)"]);
        assert_eq!(keys("82 Misc. 3d 1201 (B)"), ["82 Misc. 3d 1201(B)"]);
        assert_eq!(keys("82 Misc. 3d 1201"), ["82 Misc. 3d 1201"]);
    }

    #[test]
    fn parallel_citations_each_give_a_key() {
        assert_eq!(keys("347 U.S. 483, 74 S. Ct. 686"), ["347 U.S. 483", "74 S. Ct. 686"]);
        assert_eq!(
            keys("347 U.S. 483; 74 S.Ct. 686; 98 L. Ed. 873"),
            ["347 U.S. 483", "74 S. Ct. 686", "98 L. Ed. 873"]
        );
        assert_eq!(keys("347 U.S. 483,74 S. Ct. 686"), ["347 U.S. 483", "74 S. Ct. 686"]);
    }

    #[test]
    fn pin_cites_belong_to_their_citation() {
        assert_eq!(keys("347 U.S. 483, 490"), ["347 U.S. 483"]);
        assert_eq!(keys("347 U.S. 483, 490-91, 74 S. Ct. 686, 690"), ["347 U.S. 483", "74 S. Ct. 686"]);
        assert_eq!(keys("347 U.S. 483, 490 n. 3 (1954)"), ["347 U.S. 483"]);
        assert_eq!(keys("347 U.S. 483, 490 & n.3"), ["347 U.S. 483"]);
    }

    #[test]
    fn surrounding_text_is_ignored() {
        assert_eq!(keys("Brown v. Board of Education, 347 U.S. 483 (1954)"), ["347 U.S. 483"]);
        assert_eq!(keys("5 U.S. (1 Cranch) 137"), ["5 U.S. 137"]);
    }

    #[test]
    fn duplicates_are_dropped_in_order() {
        assert_eq!(keys("74 S. Ct. 686, 347 U.S. 483, 74 S.Ct. 686"), ["74 S. Ct. 686", "347 U.S. 483"]);
    }

    #[test]
    fn unknown_reporters_are_kept_squeezed() {
        assert_eq!(keys("12 Foo. Rep. 34"), ["12 foorep 34"]);
        assert_eq!(keys("12 Foo.Rep. 34"), keys("12 FOO REP 34"));
        assert_eq!(keys("12 Foo. & Bar 2d 34"), ["12 foo&bar2d 34"]);
        assert_eq!(keys("12 Foo. (N.S.) 34"), ["12 foo(ns) 34"]);
        assert_eq!(keys("12 Foo. at 34"), Vec::<String>::new());
        // Westlaw numbers are in reporters-db.
        assert_eq!(keys("2019 WL 1234567"), ["2019 WL 1234567"]);
    }

    #[test]
    fn squeezed_collisions_need_the_exact_form() {
        // `Me.` is Maine Reports, `ME` Maine's public-domain citation: both squeeze to `me`.
        assert_eq!(keys("100 Me. 20"), ["100 Me. 20"]);
        assert_eq!(keys("2019 ME 20"), ["2019 ME 20"]);
        assert_ne!(keys("100 Me. 20"), keys("100 ME 20"));
        // A canonical edition wins over another reporter's variant of the same spelling.
        assert_eq!(keys("600 B.R. 1"), ["600 B.R. 1"]);
    }

    #[test]
    fn leading_zeros_are_dropped() {
        assert_eq!(keys("0347 U.S. 0483"), ["347 U.S. 483"]);
    }

    #[test]
    fn non_citations_give_nothing() {
        for text in [
            "",
            "   ",
            ",;,;",
            "347 U.S. at 490",
            "590 U.S. ___ (2020)",
            "No. 19-1234",
            "slip op. at 5",
            "123456 U.S. 1",
            "1 U.S. 123456789",
            "347 U.S.",
            "the 3 quick 4",
        ] {
            assert!(keys(text).is_empty(), "{text:?} gave {:?}", keys(text));
        }
    }

    #[test]
    fn odd_text_does_not_panic() {
        for text in
            ["é 1 é 2", "1 (", "1 U.S. (", "1 U.S. (1 Cranch", "1 A ()", "1 A (é)", "12 \u{0130}x 3", "9\u{fe0f} A 1"]
        {
            let _ = citation_keys(text);
        }
    }

    #[test]
    fn table_is_loaded_and_consistent() {
        let reporters = &*REPORTERS;
        assert!(reporters.exact.len() > 3000, "{}", reporters.exact.len());
        assert!(reporters.max_tokens >= 4);
        // Every canonical edition maps to itself.
        for canonical in reporters.exact.values() {
            assert_eq!(reporters.exact.get(canonical), Some(canonical), "{canonical}");
        }
        assert_eq!(reporters.squeezed.get("me"), Some(&None));
        assert_eq!(reporters.squeezed.get("sct"), Some(&Some("S. Ct.")));
    }
}
