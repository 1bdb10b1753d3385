//! One synthetic opinion from the real seed text.
//!
//! Record `i` of seed `s` is a pure function of `(s, i)` and the seed corpus:
//! - **metadata** from a real opinion `m` (court, jurisdiction, and so the court's real
//!   citation and docket styles), varied so records are distinct: the case name joins `m`'s
//!   first party to another real opinion's second party, the date moves by up to
//!   [`DATE_SHIFT_DAYS`], the docket's and the citation's last number are redrawn with as many
//!   digits; a field `m` lacks stays absent, so coverage (35% citations, 93% dates) stays real;
//! - **body**: its length target is a real opinion's body length (so the distribution is the
//!   real one, median about 12 KB); it is filled with runs of [`MIN_RUN`]..=[`MAX_RUN`]
//!   consecutive paragraphs of randomly chosen real opinions. Whole real paragraphs keep word
//!   frequencies, legal phrases and `/s` `/p` proximity real; runs keep some local coherence.
//! - `source_id` is `synth-<seed>-<i>`: unique, and it names where a record came from.

use std::io::Write;

use crate::prng::SplitMix64;
use crate::seed::{Meta, Seed, escape};

/// Shortest run of consecutive paragraphs taken from one real opinion.
pub const MIN_RUN: usize = 2;
/// Longest run of consecutive paragraphs taken from one real opinion.
pub const MAX_RUN: usize = 12;
/// A date moves by at most this many days either way (about two years): dates stay plausible
/// for the court while records spread over more days than the seed has.
pub const DATE_SHIFT_DAYS: i64 = 730;
/// No shifted date goes past this year (the seed corpus ends before it).
pub const LATEST_YEAR: i64 = 2025;

/// Writes synthetic records of one seed.
#[derive(Debug, Clone, Copy)]
pub struct Generator<'a> {
    seed_text: &'a Seed,
    seed: u64,
}

impl<'a> Generator<'a> {
    pub fn new(seed_text: &'a Seed, seed: u64) -> Generator<'a> {
        Generator { seed_text, seed }
    }

    /// The `source_id` of record `index`.
    pub fn source_id(seed: u64, index: u64) -> String {
        format!("synth-{seed}-{index}")
    }

    /// Appends record `index` to `out` as one JSON Lines line (with its newline).
    pub fn write_record(&self, index: u64, out: &mut Vec<u8>) {
        let mut rng = SplitMix64::for_record(self.seed, index);
        let seed = self.seed_text;
        let m = &seed.metas[rng.below(seed.metas.len())];
        let other = &seed.metas[rng.below(seed.metas.len())];
        let case_name = mixed_case_name(m, other);
        let citation = m.citation.as_deref().map(|c| redraw_last_number(c, &mut rng));
        let docket = m.docket_number.as_deref().map(|d| redraw_last_number(d, &mut rng));
        let date = m.decided_on.as_deref().map(|d| shift_date(d, &mut rng));
        // Writing into a Vec<u8> cannot fail.
        let _ = write!(out, "{{\"source_id\":\"{}\",\"case_name\":", Generator::source_id(self.seed, index));
        json_string(out, Some(&case_name));
        out.extend_from_slice(b",\"citation\":");
        json_string(out, citation.as_deref());
        out.extend_from_slice(b",\"court\":");
        json_string(out, m.court.as_deref());
        out.extend_from_slice(b",\"jurisdiction\":");
        json_string(out, m.jurisdiction.as_deref());
        out.extend_from_slice(b",\"decided_on\":");
        json_string(out, date.as_deref());
        out.extend_from_slice(b",\"docket_number\":");
        json_string(out, docket.as_deref());
        out.extend_from_slice(b",\"body\":\"");
        self.write_body(&mut rng, out);
        out.extend_from_slice(b"\"}\n");
    }

    /// Real paragraphs until the body reaches a real opinion's length.
    fn write_body(&self, rng: &mut SplitMix64, out: &mut Vec<u8>) {
        let seed = self.seed_text;
        let target = seed.body_lengths[rng.below(seed.body_lengths.len())];
        let mut written = 0usize;
        while written < target {
            let donor = &seed.bodies[rng.below(seed.bodies.len())];
            let start = rng.below(donor.len());
            let run = rng.between(MIN_RUN, MAX_RUN);
            for para in donor.iter().skip(start).take(run) {
                if written > 0 {
                    // A blank line: the paragraph boundary `text::paragraphs` splits on.
                    out.extend_from_slice(b"\\n\\n");
                    written += 2;
                }
                out.extend_from_slice(para.escaped.as_bytes());
                written += para.len;
                if written >= target {
                    break;
                }
            }
        }
    }
}

/// `"…"` (escaped) or `null`.
fn json_string(out: &mut Vec<u8>, value: Option<&str>) {
    match value {
        Some(v) => {
            out.push(b'"');
            out.extend_from_slice(escape(v).as_bytes());
            out.push(b'"');
        }
        None => out.extend_from_slice(b"null"),
    }
}

/// `m`'s first party versus `other`'s second party when both names have the form `A v. B`;
/// otherwise `m`'s own name (e.g. `In re Smith`).
fn mixed_case_name(m: &Meta, other: &Meta) -> String {
    const VERSUS: &str = " v. ";
    let name = m.case_name.as_deref().unwrap_or_default();
    let theirs = other.case_name.as_deref().unwrap_or_default();
    match (name.split_once(VERSUS), theirs.split_once(VERSUS)) {
        (Some((first, _)), Some((_, second))) => format!("{first}{VERSUS}{second}"),
        _ => name.to_string(),
    }
}

/// `text` with its last run of digits replaced by a random number of as many digits (no
/// leading zero unless it is one digit): `273 U.S. 280` → `273 U.S. 517`, `No. 94-1234` →
/// `No. 94-8071`. Text without digits is returned as is.
fn redraw_last_number(text: &str, rng: &mut SplitMix64) -> String {
    let bytes = text.as_bytes();
    let Some(end) = bytes.iter().rposition(u8::is_ascii_digit) else { return text.to_string() };
    let start = bytes[..end].iter().rposition(|b| !b.is_ascii_digit()).map_or(0, |i| i + 1);
    let digits = end + 1 - start;
    let mut number = String::with_capacity(digits);
    for k in 0..digits {
        let lowest = if k == 0 && digits > 1 { 1 } else { 0 };
        number.push(char::from(b'0' + rng.between(lowest, 9) as u8));
    }
    format!("{}{number}{}", &text[..start], &text[end + 1..])
}

/// A `YYYY-MM-DD` date moved by up to [`DATE_SHIFT_DAYS`] days, never past [`LATEST_YEAR`]; an
/// unreadable date is returned as is (the corpus's dates are all valid).
fn shift_date(date: &str, rng: &mut SplitMix64) -> String {
    let parts: Vec<i64> = date.split('-').filter_map(|p| p.parse().ok()).collect();
    let [y, m, d] = parts[..] else { return date.to_string() };
    let shift = rng.below(2 * DATE_SHIFT_DAYS as usize + 1) as i64 - DATE_SHIFT_DAYS;
    let (ny, nm, nd) = civil_from_days(days_from_civil(y, m, d) + shift);
    if !(1..=LATEST_YEAR).contains(&ny) {
        return date.to_string();
    }
    format!("{ny:04}-{nm:02}-{nd:02}")
}

/// Days since 1970-01-01 of a proleptic Gregorian date (Howard Hinnant's algorithm).
fn days_from_civil(y: i64, m: i64, d: i64) -> i64 {
    let y = if m <= 2 { y - 1 } else { y };
    let era = y.div_euclid(400);
    let yoe = y - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    era * 146_097 + doe - 719_468
}

/// The inverse of [`days_from_civil`].
fn civil_from_days(z: i64) -> (i64, i64, i64) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z - era * 146_097;
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = doy - (153 * mp + 2) / 5 + 1;
    let m = if mp < 10 { mp + 3 } else { mp - 9 };
    (if m <= 2 { yoe + era * 400 + 1 } else { yoe + era * 400 }, m, d)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dates_round_trip_and_shift_within_bounds() {
        for (y, m, d) in [(1970, 1, 1), (2000, 2, 29), (1927, 2, 21), (1, 1, 1), (2024, 12, 31)] {
            assert_eq!(civil_from_days(days_from_civil(y, m, d)), (y, m, d));
        }
        assert_eq!(days_from_civil(1970, 1, 2), 1);
        let mut rng = SplitMix64::new(3);
        for _ in 0..1000 {
            let shifted = shift_date("2024-06-30", &mut rng);
            assert!(lexica_ingest_date_like(&shifted), "{shifted}");
            assert!(shifted.as_str() <= "2025-12-31" && shifted.as_str() >= "2022-06-30", "{shifted}");
        }
        assert_eq!(shift_date("not a date", &mut rng), "not a date");
    }

    fn lexica_ingest_date_like(s: &str) -> bool {
        s.len() == 10 && s.as_bytes()[4] == b'-' && s.as_bytes()[7] == b'-'
    }

    #[test]
    fn numbers_are_redrawn_with_as_many_digits() {
        let mut rng = SplitMix64::new(9);
        for _ in 0..200 {
            let c = redraw_last_number("273 U.S. 280", &mut rng);
            assert!(c.starts_with("273 U.S. ") && c.len() == 12 && !c.ends_with(" 0"), "{c}");
            assert!(!c[9..].starts_with('0'), "{c}");
        }
        assert_eq!(redraw_last_number("No docket", &mut rng), "No docket");
        let d = redraw_last_number("No. 94-1234.", &mut rng);
        assert!(d.starts_with("No. 94-") && d.ends_with('.') && d.len() == 12, "{d}");
        assert_eq!(redraw_last_number("7", &mut rng).len(), 1);
    }

    #[test]
    fn case_names_mix_parties() {
        let meta = |n: &str| Meta {
            case_name: Some(n.into()),
            citation: None,
            court: Some("C".into()),
            jurisdiction: None,
            decided_on: None,
            docket_number: None,
        };
        assert_eq!(mixed_case_name(&meta("A v. B"), &meta("C v. D")), "A v. D");
        assert_eq!(mixed_case_name(&meta("In re X"), &meta("C v. D")), "In re X");
    }
}
