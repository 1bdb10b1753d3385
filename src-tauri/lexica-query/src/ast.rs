//! The syntax tree every front end produces and every compiler consumes, and its canonical
//! printing (Boolean syntax that parses back to the same tree).

use std::fmt;

use serde::Serialize;

/// A parsed query: the tree plus the restrictions that apply to the whole query.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Query {
    /// The Boolean tree (never empty).
    pub root: Node,
    /// `da(...)`: applies to the whole query (compiled to a bound SQL condition).
    pub date: Option<DateRange>,
    /// How results are ordered. Not printed: a Boolean re-parse always gives [`Ranking::Relevance`].
    pub ranking: Ranking,
}

/// How a plan orders its results.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Ranking {
    /// Boolean mode: BM25F over the query's concepts (RANKING.md).
    Relevance,
    /// Statements mode: BM25F over the keywords plus a closeness bonus for the paragraph that
    /// holds the most of them (RANKING.md).
    Statements,
}

/// One node of the tree. `And`/`Or` are n-ary and flattened (no `And` directly inside `And`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub enum Node {
    /// One word.
    Term(Term),
    /// Two or more consecutive words (`"due process"`, or an unquoted `episode-in-suit`).
    Phrase(Vec<Word>),
    /// All children.
    And(Vec<Node>),
    /// Any child.
    Or(Vec<Node>),
    /// `include BUT NOT exclude` (`%`, `AND NOT`).
    Not { include: Box<Node>, exclude: Box<Node> },
    /// A proximity connector (`/n +n /s +s /p +p`).
    Near { left: Box<Node>, right: Box<Node>, within: Within },
    /// A field restriction (`ti()`, `co()`, `ci()`).
    Field { field: Field, node: Box<Node> },
}

/// A single search word, already normalized by [`crate::text::words`].
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Term {
    pub word: String,
    pub form: Form,
}

/// How a [`Term`] matches the index.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Form {
    /// Unquoted word: itself plus its plural and possessive forms ([`crate::expand`]).
    Plural,
    /// Quoted word (`"word"`): exactly itself.
    Exact,
    /// `word!` / `word*`: every indexed word starting with it.
    Prefix,
}

/// One word of a phrase: exact, or a prefix when written `word!` inside the quotes.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Word {
    pub text: String,
    pub prefix: bool,
}

/// What a proximity connector requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub enum Within {
    /// `/n` `w/n` (either order) or `+n` `pre/n` (left first): word positions differ by 1..=n.
    Words { n: u32, ordered: bool },
    /// `/s` `w/s` or `+s`: in one sentence of one paragraph.
    Sentence { ordered: bool },
    /// `/p` `w/p` or `+p`: in one paragraph.
    Paragraph { ordered: bool },
}

/// A field of the opinion that a restriction targets.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize)]
pub enum Field {
    /// `ti()` / `name()`: the case name (PostgreSQL weight A, FTS5 column `case_name`).
    CaseName,
    /// `ci()`: the citation (weight B, column `citation`).
    Citation,
    /// `co()`: the court (weight C, column `court`).
    Court,
}

impl Field {
    /// The restriction's canonical name in the query language.
    pub fn keyword(self) -> &'static str {
        match self {
            Field::CaseName => "ti",
            Field::Citation => "ci",
            Field::Court => "co",
        }
    }
}

/// A calendar date (validated: the day exists).
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Serialize)]
pub struct Date {
    pub year: i32,
    pub month: u32,
    pub day: u32,
}

/// Inclusive bounds on `decided_on`; at least one is set.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
pub struct DateRange {
    pub from: Option<Date>,
    pub to: Option<Date>,
}

impl Date {
    /// Builds a date if it exists in the proleptic Gregorian calendar.
    pub fn new(year: i32, month: u32, day: u32) -> Option<Date> {
        if !(1..=12).contains(&month) || day == 0 || day > days_in_month(year, month) {
            return None;
        }
        Some(Date { year, month, day })
    }

    /// The ISO form bound to SQL (`YYYY-MM-DD`; SQLite compares these as text).
    pub fn iso(self) -> String {
        format!("{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }

    /// Parses `YYYY-MM-DD`.
    pub fn parse_iso(s: &str) -> Option<Date> {
        let mut it = s.split('-');
        let (y, m, d) = (it.next()?, it.next()?, it.next()?);
        if it.next().is_some() || y.len() != 4 {
            return None;
        }
        Date::new(y.parse().ok()?, m.parse().ok()?, d.parse().ok()?)
    }

    pub(crate) fn next_day(self) -> Date {
        if self.day < days_in_month(self.year, self.month) {
            Date { day: self.day + 1, ..self }
        } else if self.month < 12 {
            Date { month: self.month + 1, day: 1, ..self }
        } else {
            Date { year: self.year + 1, month: 1, day: 1 }
        }
    }

    pub(crate) fn previous_day(self) -> Date {
        if self.day > 1 {
            Date { day: self.day - 1, ..self }
        } else if self.month > 1 {
            Date { month: self.month - 1, day: days_in_month(self.year, self.month - 1), ..self }
        } else {
            Date { year: self.year - 1, month: 12, day: 31 }
        }
    }
}

pub(crate) fn days_in_month(year: i32, month: u32) -> u32 {
    match month {
        1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
        4 | 6 | 9 | 11 => 30,
        2 if (year % 4 == 0 && year % 100 != 0) || year % 400 == 0 => 29,
        2 => 28,
        _ => 0,
    }
}

impl fmt::Display for Date {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.iso())
    }
}

impl fmt::Display for DateRange {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match (self.from, self.to) {
            (Some(a), Some(b)) => write!(f, "da(bet {a} and {b})"),
            (Some(a), None) => write!(f, "da(aft {})", a.previous_day()),
            (None, Some(b)) => write!(f, "da(bef {})", b.next_day()),
            // Never built by the parser; printed as an always-true range for completeness.
            (None, None) => write!(f, "da(aft 0001-01-01)"),
        }
    }
}

/// Words that are connectors when bare; a plain term spelled like one is printed in
/// parentheses so that it parses back as a term.
const RESERVED: &[&str] = &["and", "or", "not", "but"];

/// Longest chain of one left-associative operator (`a /3 b /3 c …`, `a % b % c …`) printed with
/// a parenthesis per level, which shows the grouping. A longer one is printed flat (it reads
/// back the same, the operators being left-associative): a parenthesis per level would nest
/// past [`crate::MAX_NESTING`], which the parser refuses, for a chain it accepted typed flat.
const FLAT_CHAIN: usize = 8;

impl Node {
    /// The operator level of a binary node: proximities by precedence (SPEC.md), `BUT NOT` last.
    fn level(&self) -> Option<u8> {
        match self {
            Node::Near { within, .. } => Some(match within {
                Within::Words { ordered: true, .. } => 3,
                Within::Words { ordered: false, .. } => 4,
                Within::Sentence { ordered: true } => 5,
                Within::Sentence { ordered: false } => 6,
                Within::Paragraph { ordered: true } => 7,
                Within::Paragraph { ordered: false } => 8,
            }),
            Node::Not { .. } => Some(10),
            _ => None,
        }
    }

    fn left(&self) -> Option<&Node> {
        match self {
            Node::Near { left, .. } => Some(left),
            Node::Not { include, .. } => Some(include),
            _ => None,
        }
    }

    /// How many nodes of this node's level follow one another down its left operands.
    fn left_chain(&self) -> usize {
        let mut k = 1;
        let mut at = self;
        while let Some(l) = at.left().filter(|l| l.level().is_some() && l.level() == self.level()) {
            k += 1;
            at = l;
        }
        k
    }

    /// A left chain of one level without parentheses around its left operands.
    fn fmt_flat(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (left, op, right): (&Node, String, &Node) = match self {
            Node::Near { left, right, within } => (left, format!(" {within} "), right),
            Node::Not { include, exclude } => (include, " BUT NOT ".to_string(), exclude),
            other => return write!(f, "{other}"),
        };
        if left.level().is_some() && left.level() == self.level() {
            left.fmt_flat(f)?
        } else {
            left.fmt_child(f)?
        }
        f.write_str(&op)?;
        right.fmt_child(f)
    }

    fn is_compound(&self) -> bool {
        matches!(self, Node::And(_) | Node::Or(_) | Node::Not { .. } | Node::Near { .. })
    }

    fn fmt_child(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        if self.is_compound() { write!(f, "({self})") } else { write!(f, "{self}") }
    }

    /// Visits every node, depth first, parents before children.
    /// Whether any proximity in the tree asks for the same sentence (`/s`, `+s`).
    pub fn has_sentence_proximity(&self) -> bool {
        let mut yes = false;
        self.walk(&mut |n| yes |= matches!(n, Node::Near { within: Within::Sentence { .. }, .. }));
        yes
    }

    pub fn walk<'a>(&'a self, visit: &mut dyn FnMut(&'a Node)) {
        visit(self);
        match self {
            Node::Term(_) | Node::Phrase(_) => {}
            Node::And(c) | Node::Or(c) => c.iter().for_each(|n| n.walk(visit)),
            Node::Not { include, exclude } => {
                include.walk(visit);
                exclude.walk(visit);
            }
            Node::Near { left, right, .. } => {
                left.walk(visit);
                right.walk(visit);
            }
            Node::Field { node, .. } => node.walk(visit),
        }
    }
}

impl fmt::Display for Term {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.form {
            Form::Plural if RESERVED.contains(&self.word.as_str()) => write!(f, "({})", self.word),
            Form::Plural => f.write_str(&self.word),
            Form::Exact => write!(f, "\"{}\"", self.word),
            Form::Prefix => write!(f, "{}!", self.word),
        }
    }
}

impl fmt::Display for Within {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let (sign, what) = match *self {
            Within::Words { n, ordered } => (if ordered { '+' } else { '/' }, n.to_string()),
            Within::Sentence { ordered } => (if ordered { '+' } else { '/' }, "s".to_string()),
            Within::Paragraph { ordered } => (if ordered { '+' } else { '/' }, "p".to_string()),
        };
        write!(f, "{sign}{what}")
    }
}

impl fmt::Display for Node {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Node::Term(t) => write!(f, "{t}"),
            Node::Phrase(words) => {
                f.write_str("\"")?;
                for (i, w) in words.iter().enumerate() {
                    if i > 0 {
                        f.write_str(" ")?;
                    }
                    f.write_str(&w.text)?;
                    if w.prefix {
                        f.write_str("!")?;
                    }
                }
                f.write_str("\"")
            }
            Node::And(children) | Node::Or(children) => {
                let sep = if matches!(self, Node::And(_)) { " AND " } else { " OR " };
                for (i, c) in children.iter().enumerate() {
                    if i > 0 {
                        f.write_str(sep)?;
                    }
                    c.fmt_child(f)?;
                }
                Ok(())
            }
            Node::Not { .. } | Node::Near { .. } if self.left_chain() > FLAT_CHAIN => self.fmt_flat(f),
            Node::Not { include, exclude } => {
                include.fmt_child(f)?;
                f.write_str(" BUT NOT ")?;
                exclude.fmt_child(f)
            }
            Node::Near { left, right, within } => {
                left.fmt_child(f)?;
                write!(f, " {within} ")?;
                right.fmt_child(f)
            }
            Node::Field { field, node } => write!(f, "{}({node})", field.keyword()),
        }
    }
}

impl fmt::Display for Query {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.date {
            None => write!(f, "{}", self.root),
            Some(d) => {
                match &self.root {
                    // An AND chain takes the date as one more conjunct without parentheses.
                    Node::And(_) => write!(f, "{}", self.root)?,
                    other => other.fmt_child(f)?,
                }
                write!(f, " AND {d}")
            }
        }
    }
}
