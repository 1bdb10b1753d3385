//! Match counts as people read them and as they add up: `1,234` counted, `≈ 41,000` estimated,
//! and the total of a search's sources.
//!
//! [`MatchCount`] itself is declared with the other search types in [`crate::search`]; its rules
//! live here because the count is also a stored value (a column pair of `search_executions`,
//! read back by the history), and the search summary, the history and the CLI must add and
//! print it the same way.

use std::fmt;

// Re-exported so the domain model's users (`lexica_core::MatchCount`) find it beside the rows that store it.
pub use crate::search::MatchCount;

/// The sign an estimate is printed with, then a space: "≈ 41,000".
pub const ESTIMATE_SIGN: &str = "≈";
/// What groups thousands in printed counts. Lexica's text is English throughout, so the
/// English separator is used everywhere (the UI formats with the same rule, in `ui/src/lib/counts.ts`).
pub const THOUSANDS_SEPARATOR: char = ',';

impl MatchCount {
    /// The total of several sources' counts: their sum, estimated when any part is; `None` when
    /// no part has a count (no source reported one). A part without a count adds nothing: the
    /// sum is then a count of what the sources that answered reported.
    pub fn total(parts: impl IntoIterator<Item = Option<MatchCount>>) -> Option<MatchCount> {
        parts.into_iter().flatten().reduce(|a, b| MatchCount {
            // Saturating: a sum past u64 cannot be shown exactly anyway.
            count: a.count.saturating_add(b.count),
            estimated: a.estimated || b.estimated,
        })
    }

    /// "1 match", "1,234 matches", "≈ 41,000 matches".
    pub fn with_noun(self) -> String {
        format!("{self} {}", if self.count == 1 { "match" } else { "matches" })
    }
}

/// `1,234`, or `≈ 41,000` for an estimate.
impl fmt::Display for MatchCount {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.estimated {
            write!(f, "{ESTIMATE_SIGN} ")?;
        }
        f.write_str(&group_thousands(self.count))
    }
}

/// `1234567` → `1,234,567`.
pub fn group_thousands(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, digit) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(THOUSANDS_SEPARATOR);
        }
        out.push(digit);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    fn exact(count: u64) -> MatchCount {
        MatchCount { count, estimated: false }
    }

    fn about(count: u64) -> MatchCount {
        MatchCount { count, estimated: true }
    }

    #[test]
    fn prints_with_thousands_separators_and_the_estimate_sign() {
        assert_eq!(exact(0).to_string(), "0");
        assert_eq!(exact(999).to_string(), "999");
        assert_eq!(exact(1_000).to_string(), "1,000");
        assert_eq!(exact(1_234).to_string(), "1,234");
        assert_eq!(exact(123_456).to_string(), "123,456");
        assert_eq!(exact(1_234_567).to_string(), "1,234,567");
        assert_eq!(about(41_000).to_string(), "≈ 41,000");
        assert_eq!(group_thousands(u64::MAX), "18,446,744,073,709,551,615");
    }

    #[test]
    fn the_noun_agrees_with_the_count() {
        assert_eq!(exact(1).with_noun(), "1 match");
        assert_eq!(exact(0).with_noun(), "0 matches");
        assert_eq!(exact(1_234).with_noun(), "1,234 matches");
        assert_eq!(about(1).with_noun(), "≈ 1 match");
        assert_eq!(about(41_000).with_noun(), "≈ 41,000 matches");
    }

    #[test]
    fn a_total_adds_the_reported_parts_and_is_estimated_if_any_part_is() {
        assert_eq!(MatchCount::total([]), None);
        assert_eq!(MatchCount::total([None, None]), None, "no source reported a count");
        assert_eq!(MatchCount::total([Some(exact(296))]), Some(exact(296)));
        assert_eq!(MatchCount::total([Some(exact(1_200)), None, Some(exact(34))]), Some(exact(1_234)));
        assert_eq!(MatchCount::total([Some(exact(300)), Some(about(41_000))]), Some(about(41_300)));
        assert_eq!(MatchCount::total([Some(exact(u64::MAX)), Some(exact(1))]), Some(exact(u64::MAX)));
    }
}
