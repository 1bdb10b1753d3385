//! `lexica query check`: the syntax tree and each backend's compiled form, or the error.

use std::fmt;

use serde::Serialize;

use crate::ast::Query;
use crate::error::QueryError;
use crate::plan::{Filters, Plan};
use crate::{Mode, parse, postgres, sqlite};

/// Everything `lexica query check` prints for a query that parses.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct CheckReport {
    pub mode: Mode,
    pub query: Query,
    /// Canonical Boolean form (parses back to the same tree).
    pub canonical: String,
    pub postgres: Plan,
    pub sqlite: Plan,
}

/// Parses and compiles `input` with default filters. The error (if any) renders its own
/// caret line through `Display`.
pub fn check_report(input: &str, mode: Mode) -> Result<CheckReport, QueryError> {
    let query = parse(input, mode)?;
    let filters = Filters::default();
    Ok(CheckReport {
        mode,
        canonical: query.to_string(),
        postgres: postgres::compile(&query, &filters),
        sqlite: sqlite::compile(&query, &filters),
        query,
    })
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "mode: {:?}", self.mode)?;
        writeln!(f, "canonical: {}", self.canonical)?;
        writeln!(f, "tree:")?;
        tree(f, &self.query.root, 1)?;
        if let Some(d) = self.query.date {
            writeln!(
                f,
                "  date: {} .. {}",
                d.from.map_or("-".into(), |x| x.iso()),
                d.to.map_or("-".into(), |x| x.iso())
            )?;
        }
        writeln!(f, "postgres:")?;
        write!(f, "{}", self.postgres)?;
        writeln!(f, "sqlite:")?;
        write!(f, "{}", self.sqlite)
    }
}

fn tree(f: &mut fmt::Formatter<'_>, n: &crate::Node, depth: usize) -> fmt::Result {
    use crate::Node;
    let pad = "  ".repeat(depth);
    match n {
        Node::Term(t) => writeln!(f, "{pad}term {:?} ({:?})", t.word, t.form),
        Node::Phrase(_) => writeln!(f, "{pad}phrase {n}"),
        Node::And(c) | Node::Or(c) => {
            writeln!(f, "{pad}{}", if matches!(n, Node::And(_)) { "AND" } else { "OR" })?;
            c.iter().try_for_each(|x| tree(f, x, depth + 1))
        }
        Node::Not { include, exclude } => {
            writeln!(f, "{pad}BUT NOT")?;
            tree(f, include, depth + 1)?;
            tree(f, exclude, depth + 1)
        }
        Node::Near { left, right, within } => {
            writeln!(f, "{pad}{within}")?;
            tree(f, left, depth + 1)?;
            tree(f, right, depth + 1)
        }
        Node::Field { field, node } => {
            writeln!(f, "{pad}field {:?}", field)?;
            tree(f, node, depth + 1)
        }
    }
}
