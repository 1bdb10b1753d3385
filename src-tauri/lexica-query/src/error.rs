//! Errors that teach: what is wrong, exactly where, and how to fix it.

use std::fmt;

use serde::Serialize;

/// Which rule of the language a query broke (the catalogue in SPEC.md).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum ErrorKind {
    /// Nothing to search for (blank input, or only stop words in statements mode).
    EmptyQuery,
    /// Longer than [`crate::MAX_QUERY_CHARS`].
    TooLong,
    /// Parentheses nested deeper than [`crate::MAX_NESTING`].
    TooDeep,
    /// More terms than [`crate::MAX_TERMS`].
    TooManyTerms,
    /// A `(` without `)` or a `)` without `(`.
    UnbalancedParenthesis,
    /// `()` with nothing inside.
    EmptyGroup,
    /// A `"` (or smart quote) that is never closed.
    UnclosedQuote,
    /// `""`: a phrase with no words.
    EmptyPhrase,
    /// A connector with no term on one side (`a AND`, `(OR b)`, `a AND OR b`).
    DanglingConnector,
    /// `/x`, `w/`, `+` … that is not a connector of the language.
    UnknownConnector,
    /// `/0`, `/9999`, a year out of range.
    NumberOutOfRange,
    /// `ab!`: fewer than [`crate::MIN_PREFIX_LEN`] characters before a root expander.
    PrefixTooShort,
    /// `!` or `*` not at the end of a word.
    MisplacedExpander,
    /// A term with no letters or digits (`§`, `-`).
    NothingToSearch,
    /// Something that cannot be a proximity operand (AND, BUT NOT, a field) under `/n` etc.
    InvalidProximityOperand,
    /// Something a field restriction cannot hold (a proximity connector, a nested field, a date).
    InvalidFieldContent,
    /// A `da(...)` restriction that cannot be read.
    InvalidDate,
    /// A `da(...)` restriction that is not joined by AND to the whole query.
    MisplacedDate,
}

/// A query error: a byte span into the input, a message, and a suggested fix.
/// `Display` renders the input with a caret line under the offending text.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, thiserror::Error)]
pub struct QueryError {
    pub kind: ErrorKind,
    /// Byte offsets into the input (`start..end`, `end` exclusive; may equal `start` at the end).
    pub start: usize,
    pub end: usize,
    /// The same span counted in characters (for a UI cursor).
    pub char_start: usize,
    pub char_end: usize,
    pub message: String,
    pub fix: String,
    /// The query as typed (kept so the error can render itself).
    pub input: String,
}

impl QueryError {
    pub(crate) fn new(
        kind: ErrorKind,
        input: &str,
        start: usize,
        end: usize,
        message: impl Into<String>,
        fix: impl Into<String>,
    ) -> QueryError {
        let start = clamp_to_char(input, start.min(input.len()));
        let end = clamp_to_char(input, end.clamp(start, input.len()));
        let char_start = input[..start].chars().count();
        let char_end = char_start + input[start..end].chars().count();
        QueryError {
            kind,
            start,
            end,
            char_start,
            char_end,
            message: message.into(),
            fix: fix.into(),
            input: input.to_string(),
        }
    }

    /// The input line and a caret line pointing at the span.
    pub fn caret_lines(&self) -> String {
        // Long queries and newlines are flattened so the caret stays under the right character.
        let line: String = self.input.chars().map(|c| if c.is_control() { ' ' } else { c }).collect();
        let width = (self.char_end - self.char_start).max(1);
        format!("  {line}\n  {}{}", " ".repeat(self.char_start), "^".repeat(width))
    }
}

fn clamp_to_char(s: &str, mut i: usize) -> usize {
    while i > 0 && !s.is_char_boundary(i) {
        i -= 1;
    }
    i
}

impl fmt::Display for QueryError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "error at character {}: {}", self.char_start + 1, self.message)?;
        writeln!(f, "{}", self.caret_lines())?;
        write!(f, "fix: {}", self.fix)
    }
}
