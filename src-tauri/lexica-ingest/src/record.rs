//! One input line: the JSON Lines record format, its validation, and the prepared form (fields
//! plus Lexica's normalized text and paragraphs) that both targets load.
//!
//! Format (one JSON object per line, as in `shared/corpus/opinions.jsonl.gz`):
//! `source_id`, `case_name`, `court`, `body` are required non-empty strings; `citation`,
//! `jurisdiction`, `decided_on` (`YYYY-MM-DD`), `docket_number` are strings or null (a missing
//! key means null). Any other key is an error: a typo such as `decided` must not silently
//! drop a date.

use lexica_query::text;
use serde::{Deserialize, Serialize};

use crate::stats::{self, Lengths};

/// Longest accepted `source_id`, in bytes. It is a unique-indexed key: PostgreSQL's btree
/// refuses entries over about 2.7 KB, and no real id comes near this.
pub const MAX_SOURCE_ID_BYTES: usize = 512;

/// Longest accepted short field (case name, citation, court, jurisdiction, docket number), in
/// bytes. Court and citation are btree-indexed in PostgreSQL (limit about 2.7 KB per entry);
/// the longest real case names are a few hundred bytes.
pub const MAX_SHORT_FIELD_BYTES: usize = 2_000;

/// Longest accepted body, in bytes. The largest real opinion is about 300 KB; this keeps one
/// record's PostgreSQL document vector far below the 1 MB `tsvector` limit.
pub const MAX_BODY_BYTES: usize = 8 * 1024 * 1024;

/// Why a record was rejected (stable names: they appear in JSON reports).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum RejectKind {
    /// Not a JSON object (syntax error, not UTF-8, wrong top-level type, over-long line).
    MalformedJson,
    /// A key that is not part of the format.
    UnknownField,
    /// A required field is missing, null or empty, or a field has the wrong type or is too long.
    InvalidField,
    /// `decided_on` is not a real `YYYY-MM-DD` date.
    InvalidDate,
    /// The body is missing, empty, or has no words.
    EmptyBody,
    /// The same `source_id` appeared on an earlier line of this file.
    DuplicateSourceId,
    /// The database refused the record (reported with its message); the rest of its batch loaded.
    RefusedByDatabase,
}

/// A record that was not loaded, with its 1-based line number in the (decompressed) input.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct RejectedRecord {
    pub line: u64,
    /// The record's `source_id` when it could be read.
    pub source_id: Option<String>,
    pub kind: RejectKind,
    pub reason: String,
}

/// The input format, exactly. Every field is optional at this level so that a missing or null
/// required field gets a precise message from [`validate`] instead of serde's generic one.
#[derive(Debug, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawRecord {
    source_id: Option<String>,
    case_name: Option<String>,
    citation: Option<String>,
    court: Option<String>,
    jurisdiction: Option<String>,
    decided_on: Option<String>,
    docket_number: Option<String>,
    body: Option<String>,
}

/// A valid record, field for field as stored.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Opinion {
    pub source_id: String,
    pub case_name: String,
    pub citation: Option<String>,
    pub court: String,
    pub jurisdiction: Option<String>,
    /// Validated `YYYY-MM-DD`.
    pub decided_on: Option<String>,
    pub docket_number: Option<String>,
    pub body: String,
}

/// A valid record with the text both targets index (see `lexica_query::text`).
#[derive(Debug, Clone)]
pub(crate) struct Prepared {
    pub line: u64,
    pub opinion: Opinion,
    pub norm_case_name: String,
    pub norm_citation: String,
    pub norm_court: String,
    /// `text::paragraphs(body)`, each with its `text::normalize` form. The normalized body is
    /// these joined by single spaces (words never cross a paragraph boundary).
    pub paragraphs: Vec<Paragraph>,
    /// Field lengths for `opinion_lengths` (see [`crate::stats`]).
    pub lengths: Lengths,
    /// The distinct terms of the four fields for `lexica_term_stats`, joined by single spaces
    /// (see [`crate::stats`]); read them with [`Prepared::terms`].
    pub terms: String,
    /// Each term's occurrences per field (case name, citation, court, body), in the order of
    /// [`Prepared::terms`]: what the record's postings are computed from (`crate::postings`).
    pub tf: Vec<crate::tsvector::Tf>,
    /// PostgreSQL vector literals, built on the reader thread when the target is PostgreSQL.
    pub pg_vectors: Option<PgVectors>,
}

#[derive(Debug, Clone)]
pub(crate) struct Paragraph {
    pub body: String,
    pub norm: String,
}

/// `tsvector` literals for one record (see [`crate::tsvector`]).
#[derive(Debug, Clone)]
pub(crate) struct PgVectors {
    /// Case name A, citation B, court C, body D.
    pub document: String,
    /// One per paragraph, in order.
    pub paragraphs: Vec<String>,
}

impl Prepared {
    /// Builds [`PgVectors`] for this record, and its terms from the document vector's lexemes
    /// (the same set [`stats::terms_of_normalized`] gives, without a second pass over the words).
    pub fn build_pg_vectors(&mut self) {
        use crate::tsvector::{Weight, literal, literal_with_lexemes};
        let norm_body = self.norm_body();
        let mut terms = String::new();
        let mut tf = Vec::new();
        let document = literal_with_lexemes(
            &[
                (&self.norm_case_name, Weight::A),
                (&self.norm_citation, Weight::B),
                (&self.norm_court, Weight::C),
                (&norm_body, Weight::D),
            ],
            &mut terms,
            &mut tf,
        );
        self.terms = terms;
        self.tf = tf;
        let paragraphs = self.paragraphs.iter().map(|p| literal(&[(&p.norm, Weight::D)])).collect();
        self.pg_vectors = Some(PgVectors { document, paragraphs });
    }

    /// The record's distinct terms (see [`crate::stats`]).
    pub fn terms(&self) -> impl Iterator<Item = &str> {
        self.terms.split(' ').filter(|t| !t.is_empty())
    }

    /// `text::normalize(body)`, rebuilt from the paragraphs.
    pub fn norm_body(&self) -> String {
        let len = self.paragraphs.iter().map(|p| p.norm.len() + 1).sum();
        let mut out = String::with_capacity(len);
        for p in &self.paragraphs {
            if !out.is_empty() {
                out.push(' ');
            }
            out.push_str(&p.norm);
        }
        out
    }
}

/// Parses and validates one line (without its newline). `Err` carries the rejection.
pub fn parse_line(line_no: u64, bytes: &[u8]) -> Result<Opinion, RejectedRecord> {
    let reject =
        |source_id: Option<String>, kind, reason: String| RejectedRecord { line: line_no, source_id, kind, reason };
    if bytes.iter().find(|b| !b.is_ascii_whitespace()) != Some(&b'{') {
        return Err(reject(None, RejectKind::MalformedJson, "not a JSON object (a line must start with `{`)".into()));
    }
    let raw: RawRecord = match serde_json::from_slice(bytes) {
        Ok(raw) => raw,
        Err(e) => {
            let message = e.to_string();
            let location = format!(" at line {} column {}", e.line(), e.column());
            let message = message.strip_suffix(&location).unwrap_or(&message);
            let kind = if message.starts_with("unknown field") {
                RejectKind::UnknownField
            } else if e.is_data() {
                RejectKind::InvalidField
            } else {
                RejectKind::MalformedJson
            };
            let source_id = if kind == RejectKind::MalformedJson { None } else { source_id_of(bytes) };
            return Err(reject(source_id, kind, format!("{message} (column {})", e.column())));
        }
    };
    validate(raw).map_err(|(kind, reason, source_id)| reject(source_id, kind, reason))
}

/// Best effort: the `source_id` of a line that parsed as JSON but failed validation.
fn source_id_of(bytes: &[u8]) -> Option<String> {
    let value: serde_json::Value = serde_json::from_slice(bytes).ok()?;
    value.get("source_id")?.as_str().map(|s| truncate(s, 200))
}

fn truncate(s: &str, max: usize) -> String {
    match s.char_indices().nth(max) {
        Some((i, _)) => format!("{}…", &s[..i]),
        None => s.to_string(),
    }
}

type Invalid = (RejectKind, String, Option<String>);

fn validate(raw: RawRecord) -> Result<Opinion, Invalid> {
    let source_id = match raw.source_id {
        Some(s) if !s.trim().is_empty() => s,
        _ => return Err((RejectKind::InvalidField, "`source_id` is missing, null or empty".into(), None)),
    };
    let id = Some(truncate(&source_id, 200));
    if source_id.len() > MAX_SOURCE_ID_BYTES {
        return Err((RejectKind::InvalidField, format!("`source_id` is longer than {MAX_SOURCE_ID_BYTES} bytes"), id));
    }
    let required = |name: &str, value: Option<String>| match value {
        Some(s) if !s.trim().is_empty() => Ok(s),
        _ => Err((RejectKind::InvalidField, format!("`{name}` is missing, null or empty"), id.clone())),
    };
    let case_name = required("case_name", raw.case_name)?;
    let court = required("court", raw.court)?;
    let body = match raw.body {
        Some(b) if !b.trim().is_empty() => b,
        _ => return Err((RejectKind::EmptyBody, "`body` is missing, null or empty".into(), id)),
    };
    if body.len() > MAX_BODY_BYTES {
        return Err((RejectKind::InvalidField, format!("`body` is longer than {MAX_BODY_BYTES} bytes"), id));
    }
    let shorts = [
        ("source_id", Some(&source_id)),
        ("case_name", Some(&case_name)),
        ("citation", raw.citation.as_ref()),
        ("court", Some(&court)),
        ("jurisdiction", raw.jurisdiction.as_ref()),
        ("docket_number", raw.docket_number.as_ref()),
    ];
    for (name, value) in shorts {
        if name != "source_id" && value.is_some_and(|v| v.len() > MAX_SHORT_FIELD_BYTES) {
            return Err((
                RejectKind::InvalidField,
                format!("`{name}` is longer than {MAX_SHORT_FIELD_BYTES} bytes"),
                id,
            ));
        }
        if value.is_some_and(|v| v.contains('\0')) {
            return Err((
                RejectKind::InvalidField,
                format!("`{name}` contains a NUL character (U+0000), which PostgreSQL text cannot store"),
                id,
            ));
        }
    }
    if body.contains('\0') {
        return Err((
            RejectKind::InvalidField,
            "`body` contains a NUL character (U+0000), which PostgreSQL text cannot store".into(),
            id,
        ));
    }
    if let Some(d) = &raw.decided_on
        && !is_valid_date(d)
    {
        return Err((
            RejectKind::InvalidDate,
            format!("`decided_on` is {:?}, not a date in the form YYYY-MM-DD", truncate(d, 40)),
            id,
        ));
    }
    Ok(Opinion {
        source_id,
        case_name,
        citation: raw.citation,
        court,
        jurisdiction: raw.jurisdiction,
        decided_on: raw.decided_on,
        docket_number: raw.docket_number,
        body,
    })
}

/// `YYYY-MM-DD` naming a real day of years 0001–9999 (PostgreSQL has no year 0).
pub fn is_valid_date(s: &str) -> bool {
    let b = s.as_bytes();
    if b.len() != 10 || b[4] != b'-' || b[7] != b'-' {
        return false;
    }
    let num = |r: std::ops::Range<usize>| -> Option<u32> {
        b[r].iter().try_fold(0u32, |acc, &c| c.is_ascii_digit().then(|| acc * 10 + u32::from(c - b'0')))
    };
    let (Some(y), Some(m), Some(d)) = (num(0..4), num(5..7), num(8..10)) else {
        return false;
    };
    let leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    let days = match m {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if leap => 29,
        2 => 28,
        _ => return false,
    };
    y >= 1 && (1..=days).contains(&d)
}

/// Adds Lexica's normalized text and paragraphs, the statistics' lengths and terms, and with
/// `pg_vectors` the PostgreSQL vector literals. A body with no words is rejected: it would have
/// no paragraph rows and could never be found.
pub(crate) fn prepare(line: u64, opinion: Opinion, pg_vectors: bool) -> Result<Prepared, RejectedRecord> {
    let paragraphs: Vec<Paragraph> = text::paragraphs(&opinion.body)
        .into_iter()
        .map(|body| {
            let norm = text::normalize(&body);
            Paragraph { body, norm }
        })
        .collect();
    if paragraphs.is_empty() {
        return Err(RejectedRecord {
            line,
            source_id: Some(truncate(&opinion.source_id, 200)),
            kind: RejectKind::EmptyBody,
            reason: "`body` has no words (only punctuation or symbols)".into(),
        });
    }
    let norm_case_name = text::normalize(&opinion.case_name);
    let norm_citation = opinion.citation.as_deref().map(text::normalize).unwrap_or_default();
    let norm_court = text::normalize(&opinion.court);
    // Computed here, on the reader threads, so the loader only adds them up. The body's word
    // count is the sum over its paragraphs: no word crosses a paragraph boundary.
    let lengths = Lengths {
        case_name: stats::normalized_word_count(&norm_case_name),
        citation: stats::normalized_word_count(&norm_citation),
        court: stats::normalized_word_count(&norm_court),
        body: paragraphs.iter().map(|p| stats::normalized_word_count(&p.norm)).fold(0, i32::saturating_add),
    };
    let mut prepared = Prepared {
        line,
        norm_case_name,
        norm_citation,
        norm_court,
        paragraphs,
        lengths,
        terms: String::new(),
        tf: Vec::new(),
        opinion,
        pg_vectors: None,
    };
    if pg_vectors {
        prepared.build_pg_vectors(); // sets `terms` too
    } else {
        (prepared.terms, prepared.tf) = stats::terms_of_normalized(
            [(0, prepared.norm_case_name.as_str()), (1, &prepared.norm_citation), (2, &prepared.norm_court)]
                .into_iter()
                .chain(prepared.paragraphs.iter().map(|p| (3, p.norm.as_str()))),
        );
    }
    Ok(prepared)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(json: &str) -> Result<Opinion, RejectedRecord> {
        parse_line(7, json.as_bytes())
    }

    const GOOD: &str = r#"{"source_id":"x:1","case_name":"A v. B","citation":null,"court":"C","jurisdiction":"federal","decided_on":"2000-02-29","docket_number":"1","body":"Text."}"#;

    #[test]
    fn good_record() {
        let o = line(GOOD).expect("valid");
        assert_eq!(o.decided_on.as_deref(), Some("2000-02-29"));
        assert_eq!(o.citation, None);
    }

    #[test]
    fn rejections_name_the_problem() {
        let cases = [
            ("{not json", RejectKind::MalformedJson),
            ("[1,2]", RejectKind::MalformedJson),
            (&GOOD.replace("\"body\"", "\"extra\":1,\"body\""), RejectKind::UnknownField),
            (&GOOD.replace("2000-02-29", "1999-02-29"), RejectKind::InvalidDate),
            (&GOOD.replace("2000-02-29", "Feb 3, 1999"), RejectKind::InvalidDate),
            (&GOOD.replace("\"Text.\"", "\"  \""), RejectKind::EmptyBody),
            (&GOOD.replace("\"Text.\"", "null"), RejectKind::EmptyBody),
            (&GOOD.replace("\"A v. B\"", "null"), RejectKind::InvalidField),
            (&GOOD.replace("\"A v. B\"", "42"), RejectKind::InvalidField),
            (&GOOD.replace("Text.", "a\\u0000b"), RejectKind::InvalidField),
        ];
        for (json, kind) in cases {
            let r = line(json).expect_err(json);
            assert_eq!(r.kind, kind, "{json}: {}", r.reason);
            assert_eq!(r.line, 7);
            assert!(!r.reason.contains("at line"), "{}", r.reason);
        }
        let r = line(&GOOD.replace("\"body\"", "\"extra\":1,\"body\"")).expect_err("unknown");
        assert!(r.reason.contains("`extra`"), "{}", r.reason);
        assert_eq!(r.source_id.as_deref(), Some("x:1"));
        assert!(parse_line(7, &[b'{', 0xff, 0xfe]).is_err_and(|r| r.kind == RejectKind::MalformedJson));
    }

    #[test]
    fn dates() {
        for ok in ["0001-01-01", "2024-02-29", "1999-12-31"] {
            assert!(is_valid_date(ok), "{ok}");
        }
        for bad in
            ["0000-01-01", "2023-02-29", "1999-13-01", "1999-1-01", "1999-01-32", "99-01-01", "１９９９-01-01", ""]
        {
            assert!(!is_valid_date(bad), "{bad}");
        }
    }

    #[test]
    fn wordless_body_is_rejected_and_norm_body_matches_normalize() {
        let o = line(&GOOD.replace("Text.", "— . —")).expect("parses");
        assert_eq!(prepare(3, o, false).expect_err("no words").kind, RejectKind::EmptyBody);
        let body = "First para, it's here.\nMore.\n\n\nSecond — para.\n";
        let o = line(&GOOD.replace("Text.", &body.replace('\n', "\\n"))).expect("parses");
        let p = prepare(3, o.clone(), false).expect("prepared");
        assert_eq!(p.norm_body(), text::normalize(body));
        assert_eq!(p.paragraphs.len(), 2);
        assert_eq!(p.lengths, Lengths::of_text("A v. B", None, "C", body));
        let mut terms: Vec<&str> = p.terms().collect();
        terms.sort_unstable();
        assert_eq!(terms, stats::terms_of_text("A v. B", None, "C", body));
        // The PostgreSQL path takes them from the document vector: the same set, sorted.
        let pg = prepare(3, o, true).expect("prepared");
        assert_eq!(pg.terms().collect::<Vec<_>>(), terms);
        // Both paths count the same occurrences per field, in their own term order.
        let sorted = |r: &Prepared| {
            let mut v: Vec<(String, crate::tsvector::Tf)> = r.terms().map(str::to_string).zip(r.tf.clone()).collect();
            v.sort();
            v
        };
        assert_eq!(sorted(&p), sorted(&pg));
        assert_eq!(sorted(&p), stats::term_tf_of_text("A v. B", None, "C", body));
    }
}
