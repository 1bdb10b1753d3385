//! Boolean mode: the terms-and-connectors lexer and a precedence-climbing parser.
//!
//! Precedence, tightest first (Westlaw's order): phrases, OR (and a plain space), `+n`, `/n`,
//! `+s`, `/s`, `+p`, `/p`, AND, BUT NOT. Every level is left-associative.

use crate::ast::{Date, DateRange, Field, Form, Node, Query, Ranking, Term, Within, Word};
use crate::error::{ErrorKind, QueryError};
use crate::text;
use crate::{MAX_NESTING, MAX_PROXIMITY, MAX_QUERY_CHARS, MAX_TERMS, MAX_YEAR, MIN_PREFIX_LEN, MIN_YEAR};

/// Characters accepted as phrase quotes: the straight quote and the typographic ("smart")
/// quotes word processors substitute for it. Any of them closes a phrase opened by any other.
const QUOTES: &[char] = &['"', '\u{201C}', '\u{201D}', '\u{201E}', '\u{201F}'];

#[derive(Debug, Clone, PartialEq)]
enum Raw {
    Open,
    Close,
    Amp,
    Percent,
    Quote { content: String, closed: bool },
    Chunk(String),
}

#[derive(Debug, Clone)]
struct RawTok {
    raw: Raw,
    start: usize,
    end: usize,
}

#[derive(Debug, Clone)]
enum Tk {
    Open,
    Close,
    Atom(Node),
    And,
    Or,
    Not,
    Near(Within),
    Field(Field),
    Date(DateRange),
}

#[derive(Debug, Clone)]
struct Tok {
    tk: Tk,
    start: usize,
    end: usize,
    /// The text as typed (for messages).
    text: String,
}

type Result<T> = std::result::Result<T, QueryError>;

/// Parses a Boolean (terms-and-connectors) query.
pub fn parse_boolean(input: &str) -> Result<Query> {
    let chars = input.chars().count();
    if chars > MAX_QUERY_CHARS {
        return Err(QueryError::new(
            ErrorKind::TooLong,
            input,
            input.char_indices().nth(MAX_QUERY_CHARS).map_or(input.len(), |(i, _)| i),
            input.len(),
            format!("the query is {chars} characters long; the limit is {MAX_QUERY_CHARS}"),
            "shorten the query, or split it into several searches",
        ));
    }
    let raw = lex_raw(input)?;
    let toks = cook(input, &raw)?;
    if toks.is_empty() {
        return Err(QueryError::new(
            ErrorKind::EmptyQuery,
            input,
            0,
            input.len(),
            "the query is empty",
            "type at least one word, e.g. `negligen! /s duty`",
        ));
    }
    let mut p = Parser { input, toks, pos: 0, depth: 0, terms: 0 };
    let parsed = p.level(0)?;
    if let Some(t) = p.toks.get(p.pos) {
        // Only a `)` can stop the top level early.
        return Err(p.err(
            ErrorKind::UnbalancedParenthesis,
            t.start,
            t.end,
            "this `)` has no matching `(`",
            "remove it, or add `(` where the group begins",
        ));
    }
    let date = p.merge_dates(&parsed.dates)?;
    let Some(root) = parsed.node else {
        return Err(p.err(
            ErrorKind::EmptyQuery,
            0,
            input.len(),
            "a date restriction alone searches nothing",
            "add terms, e.g. `negligence AND da(aft 2010)`",
        ));
    };
    Ok(Query { root, date, ranking: Ranking::Relevance })
}

fn lex_raw(input: &str) -> Result<Vec<RawTok>> {
    let mut out = Vec::new();
    let mut it = input.char_indices().peekable();
    while let Some((i, c)) = it.next() {
        let single = match c {
            '(' => Some(Raw::Open),
            ')' => Some(Raw::Close),
            '&' => Some(Raw::Amp),
            '%' => Some(Raw::Percent),
            _ => None,
        };
        if let Some(raw) = single {
            out.push(RawTok { raw, start: i, end: i + c.len_utf8() });
            continue;
        }
        if c.is_whitespace() {
            continue;
        }
        if QUOTES.contains(&c) {
            let mut content = String::new();
            let mut end = input.len();
            let mut closed = false;
            for (j, d) in it.by_ref() {
                if QUOTES.contains(&d) {
                    end = j + d.len_utf8();
                    closed = true;
                    break;
                }
                content.push(d);
            }
            if !closed {
                let smart = c != '"';
                return Err(QueryError::new(
                    ErrorKind::UnclosedQuote,
                    input,
                    i,
                    i + c.len_utf8(),
                    if smart {
                        "this quote (a typographic quote, accepted as `\"`) is never closed"
                    } else {
                        "this `\"` is never closed"
                    },
                    "add the closing `\"` after the last word of the phrase, or remove this one",
                ));
            }
            out.push(RawTok { raw: Raw::Quote { content, closed }, start: i, end });
            continue;
        }
        let mut end = i + c.len_utf8();
        while let Some(&(j, d)) = it.peek() {
            if d.is_whitespace() || matches!(d, '(' | ')' | '&' | '%') || QUOTES.contains(&d) {
                break;
            }
            end = j + d.len_utf8();
            it.next();
        }
        out.push(RawTok { raw: Raw::Chunk(input[i..end].to_string()), start: i, end });
    }
    Ok(out)
}

/// Turns raw chunks into connectors, terms, fields and dates.
fn cook(input: &str, raw: &[RawTok]) -> Result<Vec<Tok>> {
    let mut out: Vec<Tok> = Vec::new();
    let mut i = 0;
    while i < raw.len() {
        let r = &raw[i];
        let text = input[r.start..r.end].to_string();
        let mk = |tk: Tk| Tok { tk, start: r.start, end: r.end, text: text.clone() };
        match &r.raw {
            Raw::Open => out.push(mk(Tk::Open)),
            Raw::Close => out.push(mk(Tk::Close)),
            Raw::Amp => out.push(mk(Tk::And)),
            Raw::Percent => out.push(mk(Tk::Not)),
            Raw::Quote { content, .. } => out.push(mk(Tk::Atom(phrase(input, content, r.start, r.end)?))),
            Raw::Chunk(chunk) => {
                let lower = chunk.to_lowercase();
                let next = raw.get(i + 1);
                let next_is_not =
                    next.is_some_and(|n| matches!(&n.raw, Raw::Chunk(c) if c.eq_ignore_ascii_case("not")));
                let open_follows = next.is_some_and(|n| n.raw == Raw::Open && n.start == r.end);
                // `(and)`, `(or)`: a connector word alone in parentheses is the word itself (how
                // the canonical printing writes a term that is a connector word).
                let alone = i > 0 && raw[i - 1].raw == Raw::Open && next.is_some_and(|n| n.raw == Raw::Close);
                match lower.as_str() {
                    "and" | "or" if alone => split_chunk(input, chunk, r.start, &mut out)?,
                    "and" if next_is_not => {
                        let end = raw[i + 1].end;
                        out.push(Tok { tk: Tk::Not, start: r.start, end, text: input[r.start..end].to_string() });
                        i += 1;
                    }
                    "but" if next_is_not => {
                        let end = raw[i + 1].end;
                        out.push(Tok { tk: Tk::Not, start: r.start, end, text: input[r.start..end].to_string() });
                        i += 1;
                    }
                    "not" if out.last().is_some_and(|t| matches!(t.tk, Tk::And) && t.text == "&") => {
                        // `& NOT` reads as AND NOT.
                        if let Some(last) = out.last_mut() {
                            last.tk = Tk::Not;
                            last.end = r.end;
                            last.text = input[last.start..r.end].to_string();
                        }
                    }
                    "and" => out.push(mk(Tk::And)),
                    "or" => out.push(mk(Tk::Or)),
                    "ti" | "name" | "co" | "ci" if open_follows => {
                        let field = match lower.as_str() {
                            "co" => Field::Court,
                            "ci" => Field::Citation,
                            _ => Field::CaseName,
                        };
                        let end = raw[i + 1].end;
                        out.push(Tok {
                            tk: Tk::Field(field),
                            start: r.start,
                            end,
                            text: input[r.start..end].to_string(),
                        });
                        i += 1;
                    }
                    "da" if open_follows => {
                        let open = &raw[i + 1];
                        let Some(close) = raw[i + 2..].iter().find(|t| t.raw == Raw::Close) else {
                            return Err(QueryError::new(
                                ErrorKind::UnbalancedParenthesis,
                                input,
                                open.start,
                                open.end,
                                "this `(` of the date restriction is never closed",
                                "close it: `da(aft 2010)`",
                            ));
                        };
                        let spec = &input[open.end..close.start];
                        let range = parse_date(input, spec, r.start, close.end)?;
                        out.push(Tok {
                            tk: Tk::Date(range),
                            start: r.start,
                            end: close.end,
                            text: input[r.start..close.end].to_string(),
                        });
                        i = raw.iter().position(|t| t.start == close.start).unwrap_or(raw.len());
                    }
                    _ => split_chunk(input, chunk, r.start, &mut out)?,
                }
            }
        }
        i += 1;
    }
    Ok(out)
}

/// Splits a chunk into words and connectors (`w/3`, `/s`, `+2`, `pre/5`, `contract/3`).
fn split_chunk(input: &str, chunk: &str, offset: usize, out: &mut Vec<Tok>) -> Result<()> {
    let mut s = chunk;
    let mut at = offset;
    while !s.is_empty() {
        let Some(op_at) = s.find(['/', '+']) else {
            out.push(word_tok(input, s, at)?);
            return Ok(());
        };
        let head = &s[..op_at];
        let op = s.as_bytes()[op_at];
        let after = &s[op_at + 1..];
        let trailer_len = after.find(|c: char| !c.is_alphanumeric()).unwrap_or(after.len());
        let trailer = &after[..trailer_len];
        let trailer_ok = (!trailer.is_empty() && trailer.bytes().all(|b| b.is_ascii_digit()))
            || trailer.eq_ignore_ascii_case("s")
            || trailer.eq_ignore_ascii_case("p");
        let head_lower = head.to_lowercase();
        let prefix_connector = op == b'/' && (head_lower == "w" || head_lower == "pre");
        if !head.is_empty() && !prefix_connector {
            // `24/7`, `and/or`, `3/15/2010`: punctuation inside a word, not a connector.
            if !(trailer_ok && head.chars().all(char::is_alphabetic)) {
                out.push(word_tok(input, s, at)?);
                return Ok(());
            }
            out.push(word_tok(input, head, at)?);
        }
        let conn_start = if prefix_connector { at } else { at + op_at };
        let conn_end = at + op_at + 1 + trailer_len;
        let conn_text = &input[conn_start..conn_end];
        if !trailer_ok {
            return Err(QueryError::new(
                ErrorKind::UnknownConnector,
                input,
                conn_start,
                conn_end,
                format!("`{conn_text}` is not a connector"),
                "proximity connectors are /n or w/n (within n words), +n or pre/n (in order), /s (same sentence), /p (same paragraph), e.g. `/3`",
            ));
        }
        let ordered = op == b'+' || head_lower == "pre";
        let within = if trailer.eq_ignore_ascii_case("s") {
            Within::Sentence { ordered }
        } else if trailer.eq_ignore_ascii_case("p") {
            Within::Paragraph { ordered }
        } else {
            let n = trailer.parse::<u32>().ok().filter(|n| (1..=MAX_PROXIMITY).contains(n));
            let Some(n) = n else {
                return Err(QueryError::new(
                    ErrorKind::NumberOutOfRange,
                    input,
                    conn_start,
                    conn_end,
                    format!("`{conn_text}`: the distance must be between 1 and {MAX_PROXIMITY} words"),
                    format!("use a number from 1 to {MAX_PROXIMITY}, or /p for the same paragraph"),
                ));
            };
            Within::Words { n, ordered }
        };
        out.push(Tok { tk: Tk::Near(within), start: conn_start, end: conn_end, text: conn_text.to_string() });
        s = &after[trailer_len..];
        at = conn_end;
    }
    Ok(())
}

/// An unquoted word: a term, a prefix (`word!`, `word*`), or (if it holds punctuation, like
/// `episode-in-suit` or `U.S.C.`) a phrase of its words.
fn word_tok(input: &str, s: &str, at: usize) -> Result<Tok> {
    let end = at + s.len();
    let body = s.trim_end_matches(['!', '*']);
    let prefix = body.len() < s.len();
    if let Some(k) = body.find(['!', '*']) {
        let c = &body[k..k + 1];
        return Err(QueryError::new(
            ErrorKind::MisplacedExpander,
            input,
            at + k,
            at + k + 1,
            format!("`{c}` can only end a word (it expands the root before it)"),
            if c == "*" {
                "Lexica has no one-letter wildcard: use a trailing `!` (e.g. `wom!`) or spell out both forms with OR"
            } else {
                "put `!` at the end of the root, e.g. `object!`"
            },
        ));
    }
    let words = text::words(body);
    if words.is_empty() {
        return Err(QueryError::new(
            ErrorKind::NothingToSearch,
            input,
            at,
            end,
            format!("`{s}` has no letters or digits to search for"),
            "remove it, or put it inside a phrase with the words around it (e.g. \"§ 1983\")",
        ));
    }
    let node = build_words(input, words, prefix, at, end, false)?;
    Ok(Tok { tk: Tk::Atom(node), start: at, end, text: s.to_string() })
}

fn build_words(
    input: &str,
    words: Vec<String>,
    last_prefix: bool,
    start: usize,
    end: usize,
    quoted: bool,
) -> Result<Node> {
    let words: Vec<Word> = words.into_iter().map(|text| Word { text, prefix: false }).collect();
    let mut words = words;
    if last_prefix && let Some(last) = words.last_mut() {
        last.prefix = true;
    }
    for w in &words {
        check_prefix(input, w, start, end)?;
    }
    Ok(words_node(words, quoted))
}

fn check_prefix(input: &str, w: &Word, start: usize, end: usize) -> Result<()> {
    if w.prefix && w.text.chars().count() < MIN_PREFIX_LEN {
        return Err(QueryError::new(
            ErrorKind::PrefixTooShort,
            input,
            start,
            end,
            format!("`{}!` is too short to expand: a root needs at least {MIN_PREFIX_LEN} characters", w.text),
            format!(
                "type more of the word before `!`, or list the words you mean with OR (e.g. `{} OR {}s`)",
                w.text, w.text
            ),
        ));
    }
    Ok(())
}

fn words_node(mut words: Vec<Word>, quoted: bool) -> Node {
    if words.len() == 1 {
        let w = words.remove(0);
        let form = if w.prefix {
            Form::Prefix
        } else if quoted {
            Form::Exact
        } else {
            Form::Plural
        };
        Node::Term(Term { word: w.text, form })
    } else {
        Node::Phrase(words)
    }
}

/// A quoted phrase: its words, exact; a word written `root!` inside the quotes is a prefix.
fn phrase(input: &str, content: &str, start: usize, end: usize) -> Result<Node> {
    let mut words = Vec::new();
    for piece in content.split_whitespace() {
        let body = piece.trim_end_matches(['!', '*']);
        let prefix = body.len() < piece.len();
        let ws = text::words(body);
        let n = ws.len();
        for (k, text) in ws.into_iter().enumerate() {
            let w = Word { text, prefix: prefix && k + 1 == n };
            check_prefix(input, &w, start, end)?;
            words.push(w);
        }
    }
    if words.is_empty() {
        return Err(QueryError::new(
            ErrorKind::EmptyPhrase,
            input,
            start,
            end,
            "this phrase has no words to search for",
            "type words between the quotes, or remove them",
        ));
    }
    Ok(words_node(words, true))
}

/// A date restriction's inside: `aft 2010`, `bef 3/15/2012`, `2014`, `bet 2010 and 2015`,
/// `aft 2010 & bef 2015`. Dates are `YYYY`, `YYYY-MM`, `YYYY-MM-DD`, `M/YYYY` or `M/D/YYYY`.
fn parse_date(input: &str, spec: &str, start: usize, end: usize) -> Result<DateRange> {
    let bad = |msg: String| {
        QueryError::new(
            ErrorKind::InvalidDate,
            input,
            start,
            end,
            msg,
            "write e.g. `da(aft 2010)`, `da(bef 3/15/2012)`, `da(2014)`, `da(bet 2010 and 2015)` or `da(aft 2010 & bef 2015)`",
        )
    };
    let lowered = spec.replace('&', " & ").to_lowercase();
    let toks: Vec<&str> = lowered.split_whitespace().collect();
    let mut from: Option<Date> = None;
    let mut to: Option<Date> = None;
    let mut i = 0;
    let mut clauses = 0;
    let day = |t: Option<&&str>| -> Result<(Date, Date)> {
        let t = t.ok_or_else(|| bad("a date is missing".to_string()))?;
        date_bounds(t).map_err(|e| match e {
            DateErr::Year(y) => QueryError::new(
                ErrorKind::NumberOutOfRange,
                input,
                start,
                end,
                format!("year {y} is out of range ({MIN_YEAR}–{MAX_YEAR})"),
                format!("use a year between {MIN_YEAR} and {MAX_YEAR}"),
            ),
            DateErr::Form => bad(format!("`{t}` is not a date")),
        })
    };
    while i < toks.len() {
        if clauses > 0 {
            if toks[i] != "&" && toks[i] != "and" {
                return Err(bad(format!("expected `&` before `{}`", toks[i])));
            }
            i += 1;
        }
        match toks.get(i).copied() {
            Some("aft" | "after") => {
                let (_, last) = day(toks.get(i + 1))?;
                from = Some(from.map_or(last.next_day(), |f| f.max(last.next_day())));
                i += 2;
            }
            Some("bef" | "before") => {
                let (first, _) = day(toks.get(i + 1))?;
                to = Some(to.map_or(first.previous_day(), |t| t.min(first.previous_day())));
                i += 2;
            }
            Some("bet" | "between") => {
                let (a, _) = day(toks.get(i + 1))?;
                if !matches!(toks.get(i + 2).copied(), Some("and" | "&")) {
                    return Err(bad("`bet` needs two dates joined by `and`".to_string()));
                }
                let (_, b) = day(toks.get(i + 3))?;
                from = Some(from.map_or(a, |f| f.max(a)));
                to = Some(to.map_or(b, |t| t.min(b)));
                i += 4;
            }
            Some(_) => {
                let (a, b) = day(toks.get(i))?;
                from = Some(from.map_or(a, |f| f.max(a)));
                to = Some(to.map_or(b, |t| t.min(b)));
                i += 1;
            }
            None => return Err(bad("a date is missing after `&`".to_string())),
        }
        clauses += 1;
    }
    if clauses == 0 {
        return Err(bad("the date restriction is empty".to_string()));
    }
    if let (Some(a), Some(b)) = (from, to)
        && a > b
    {
        return Err(bad(format!("no date is both on or after {a} and on or before {b}")));
    }
    Ok(DateRange { from, to })
}

enum DateErr {
    Year(i64),
    Form,
}

/// First and last day a written date covers.
fn date_bounds(t: &str) -> std::result::Result<(Date, Date), DateErr> {
    let nums = |parts: &[&str]| -> std::result::Result<Vec<i64>, DateErr> {
        parts
            .iter()
            .map(|p| {
                if !p.is_empty() && p.len() <= 4 && p.bytes().all(|b| b.is_ascii_digit()) {
                    p.parse::<i64>().map_err(|_| DateErr::Form)
                } else {
                    Err(DateErr::Form)
                }
            })
            .collect()
    };
    let (y, m, d) = if t.contains('/') {
        let parts: Vec<&str> = t.split('/').collect();
        let n = nums(&parts)?;
        match n.as_slice() {
            [m, y] => (*y, Some(*m), None),
            [m, d, y] => (*y, Some(*m), Some(*d)),
            _ => return Err(DateErr::Form),
        }
    } else {
        let parts: Vec<&str> = t.split('-').collect();
        let n = nums(&parts)?;
        match n.as_slice() {
            [y] => (*y, None, None),
            [y, m] => (*y, Some(*m), None),
            [y, m, d] => (*y, Some(*m), Some(*d)),
            _ => return Err(DateErr::Form),
        }
    };
    if !(i64::from(MIN_YEAR)..=i64::from(MAX_YEAR)).contains(&y) {
        return Err(DateErr::Year(y));
    }
    let y = y as i32;
    let small = |v: i64| u32::try_from(v).map_err(|_| DateErr::Form);
    match (m, d) {
        (None, _) => Ok((Date { year: y, month: 1, day: 1 }, Date { year: y, month: 12, day: 31 })),
        (Some(m), None) => {
            let m = small(m)?;
            let a = Date::new(y, m, 1).ok_or(DateErr::Form)?;
            let b = Date::new(y, m, crate::ast::days_in_month(y, m)).ok_or(DateErr::Form)?;
            Ok((a, b))
        }
        (Some(m), Some(d)) => {
            let a = Date::new(y, small(m)?, small(d)?).ok_or(DateErr::Form)?;
            Ok((a, a))
        }
    }
}

/// What a parsed operand yields: a node (absent when the operand was only a date restriction)
/// and the date restrictions found in its AND chain.
struct Parsed {
    node: Option<Node>,
    dates: Vec<(DateRange, usize, usize)>,
    start: usize,
    end: usize,
}

struct Parser<'a> {
    input: &'a str,
    toks: Vec<Tok>,
    pos: usize,
    depth: usize,
    terms: usize,
}

/// Binding levels, loosest first. Level 9 is a primary.
const PRIMARY: usize = 9;

fn level_of(tk: &Tk) -> Option<usize> {
    Some(match tk {
        Tk::Not => 0,
        Tk::And => 1,
        Tk::Near(Within::Paragraph { ordered: false }) => 2,
        Tk::Near(Within::Paragraph { ordered: true }) => 3,
        Tk::Near(Within::Sentence { ordered: false }) => 4,
        Tk::Near(Within::Sentence { ordered: true }) => 5,
        Tk::Near(Within::Words { ordered: false, .. }) => 6,
        Tk::Near(Within::Words { ordered: true, .. }) => 7,
        Tk::Or => 8,
        _ => return None,
    })
}

fn starts_operand(tk: &Tk) -> bool {
    matches!(tk, Tk::Open | Tk::Atom(_) | Tk::Field(_) | Tk::Date(_))
}

impl Parser<'_> {
    fn err(
        &self,
        kind: ErrorKind,
        start: usize,
        end: usize,
        msg: impl Into<String>,
        fix: impl Into<String>,
    ) -> QueryError {
        QueryError::new(kind, self.input, start, end, msg, fix)
    }

    fn level(&mut self, level: usize) -> Result<Parsed> {
        if level >= PRIMARY {
            return self.primary();
        }
        let mut left = self.level(level + 1)?;
        while let Some(tok) = self.toks.get(self.pos) {
            let implicit_or = level == 8 && starts_operand(&tok.tk);
            if level_of(&tok.tk) != Some(level) && !implicit_or {
                break;
            }
            let op = tok.clone();
            if !implicit_or {
                self.pos += 1;
                self.expect_right_operand(&op)?;
            }
            let right = self.level(level + 1)?;
            left = self.combine(&op, implicit_or, left, right)?;
        }
        Ok(left)
    }

    /// After a connector: the next token must start an operand.
    fn expect_right_operand(&self, op: &Tok) -> Result<()> {
        match self.toks.get(self.pos) {
            Some(t) if starts_operand(&t.tk) => Ok(()),
            Some(t) if matches!(t.tk, Tk::Close) => Err(self.err(
                ErrorKind::DanglingConnector,
                op.start,
                op.end,
                format!("`{}` has nothing on its right before `)`", op.text),
                format!("add a term after `{}`, or remove it", op.text),
            )),
            Some(t) => Err(self.err(
                ErrorKind::DanglingConnector,
                op.start,
                t.end,
                format!("two connectors in a row: `{}` then `{}`", op.text, t.text),
                "remove one of them",
            )),
            None => Err(self.err(
                ErrorKind::DanglingConnector,
                op.start,
                op.end,
                format!("the query ends with the connector `{}`", op.text),
                format!("add a term after `{}`, or remove it", op.text),
            )),
        }
    }

    fn combine(&mut self, op: &Tok, implicit_or: bool, left: Parsed, right: Parsed) -> Result<Parsed> {
        let start = left.start;
        let end = right.end;
        let tk = if implicit_or { Tk::Or } else { op.tk.clone() };
        match tk {
            Tk::And => {
                let mut dates = left.dates;
                dates.extend(right.dates);
                let node = match (left.node, right.node) {
                    (Some(a), Some(b)) => Some(flatten(a, b, true)),
                    (a, b) => a.or(b),
                };
                Ok(Parsed { node, dates, start, end })
            }
            Tk::Not => {
                if let Some(&(_, s, e)) = right.dates.first() {
                    return Err(self.err(
                        ErrorKind::MisplacedDate,
                        s,
                        e,
                        "a date restriction after BUT NOT would exclude by date",
                        "move the date restriction before BUT NOT, e.g. `fraud & da(aft 2010) % wire`",
                    ));
                }
                let (Some(include), Some(exclude)) = (left.node, right.node) else {
                    return Err(self.err(
                        ErrorKind::MisplacedDate,
                        start,
                        end,
                        "BUT NOT needs terms on both sides, not only a date restriction",
                        "add the terms to search for before BUT NOT",
                    ));
                };
                let node = Node::Not { include: Box::new(include), exclude: Box::new(exclude) };
                Ok(Parsed { node: Some(node), dates: left.dates, start, end })
            }
            Tk::Or | Tk::Near(_) => {
                let what = if implicit_or { "OR (a space)".to_string() } else { format!("`{}`", op.text) };
                for side in [&left, &right] {
                    if let Some(&(_, s, e)) = side.dates.first() {
                        return Err(self.err(
                            ErrorKind::MisplacedDate,
                            s,
                            e,
                            format!("a date restriction cannot be joined by {what}: it applies to the whole query"),
                            "join it with AND at the top level, e.g. `(a OR b) AND da(aft 2010)`",
                        ));
                    }
                }
                let (Some(a), Some(b)) = (left.node, right.node) else {
                    return Err(self.err(ErrorKind::MisplacedDate, start, end, "missing operand", "add a term"));
                };
                let node = match tk {
                    Tk::Near(within) => {
                        self.check_near_operand(&a, op, left.start, left.end)?;
                        self.check_near_operand(&b, op, right.start, right.end)?;
                        Node::Near { left: Box::new(a), right: Box::new(b), within }
                    }
                    _ => flatten(a, b, false),
                };
                Ok(Parsed { node: Some(node), dates: Vec::new(), start, end })
            }
            _ => Err(self.err(ErrorKind::DanglingConnector, op.start, op.end, "unexpected token", "remove it")),
        }
    }

    fn check_near_operand(&self, n: &Node, op: &Tok, start: usize, end: usize) -> Result<()> {
        let bad = match n {
            Node::Term(_) | Node::Phrase(_) => return Ok(()),
            Node::Or(children) => {
                for c in children {
                    self.check_near_operand(c, op, start, end)?;
                }
                return Ok(());
            }
            Node::Near { .. } => return Ok(()),
            Node::And(_) => "AND",
            Node::Not { .. } => "BUT NOT",
            Node::Field { .. } => "a field restriction",
        };
        Err(self.err(
            ErrorKind::InvalidProximityOperand,
            start,
            end,
            format!("`{}` joins terms, phrases and OR-groups; this side contains {bad}", op.text),
            format!(
                "distribute it, e.g. `(a {0} b) AND (a {0} c)` instead of `a {0} (b AND c)`; put field restrictions and BUT NOT outside the proximity",
                op.text
            ),
        ))
    }

    fn primary(&mut self) -> Result<Parsed> {
        let Some(tok) = self.toks.get(self.pos).cloned() else {
            let end = self.input.len();
            return Err(self.err(
                ErrorKind::DanglingConnector,
                end,
                end,
                "the query ends where a term was expected",
                "add a term",
            ));
        };
        self.pos += 1;
        match tok.tk {
            Tk::Atom(node) => {
                self.terms += 1;
                if self.terms > MAX_TERMS {
                    return Err(self.err(
                        ErrorKind::TooManyTerms,
                        tok.start,
                        tok.end,
                        format!("the query has more than {MAX_TERMS} terms"),
                        "split it into several searches",
                    ));
                }
                Ok(Parsed { node: Some(node), dates: Vec::new(), start: tok.start, end: tok.end })
            }
            Tk::Date(range) => {
                Ok(Parsed { node: None, dates: vec![(range, tok.start, tok.end)], start: tok.start, end: tok.end })
            }
            Tk::Open | Tk::Field(_) => {
                self.depth += 1;
                if self.depth > MAX_NESTING {
                    return Err(self.err(
                        ErrorKind::TooDeep,
                        tok.start,
                        tok.end,
                        format!("parentheses nest more than {MAX_NESTING} deep"),
                        "remove redundant parentheses",
                    ));
                }
                if self.toks.get(self.pos).is_some_and(|t| matches!(t.tk, Tk::Close)) {
                    let close = self.toks[self.pos].end;
                    return Err(self.err(
                        ErrorKind::EmptyGroup,
                        tok.start,
                        close,
                        "these parentheses hold nothing",
                        "put terms inside them, or remove them",
                    ));
                }
                let inner = self.level(0)?;
                let Some(close) = self.toks.get(self.pos).filter(|t| matches!(t.tk, Tk::Close)) else {
                    return Err(self.err(
                        ErrorKind::UnbalancedParenthesis,
                        tok.start,
                        tok.end,
                        format!(
                            "this `{}` is never closed",
                            if matches!(tok.tk, Tk::Open) { "(" } else { tok.text.as_str() }
                        ),
                        "add `)` where the group ends (often the end of the query), or remove this `(`",
                    ));
                };
                let end = close.end;
                self.pos += 1;
                self.depth -= 1;
                if let Tk::Field(field) = tok.tk {
                    if let Some(&(_, s, e)) = inner.dates.first() {
                        return Err(self.err(
                            ErrorKind::InvalidFieldContent,
                            s,
                            e,
                            "a date restriction cannot sit inside a field restriction",
                            "move `da(...)` outside, joined with AND",
                        ));
                    }
                    let Some(node) = inner.node else {
                        return Err(self.err(
                            ErrorKind::EmptyGroup,
                            tok.start,
                            end,
                            "the field restriction is empty",
                            "put terms inside it",
                        ));
                    };
                    self.check_field_content(&node, &tok.text, tok.start, end)?;
                    return Ok(Parsed {
                        node: Some(Node::Field { field, node: Box::new(node) }),
                        dates: Vec::new(),
                        start: tok.start,
                        end,
                    });
                }
                Ok(Parsed { node: inner.node, dates: inner.dates, start: tok.start, end })
            }
            Tk::Close => Err(self.err(
                ErrorKind::UnbalancedParenthesis,
                tok.start,
                tok.end,
                if self.depth == 0 { "this `)` has no matching `(`" } else { "a term is missing before this `)`" },
                if self.depth == 0 {
                    "remove it, or add `(` where the group begins"
                } else {
                    "add a term, or remove the connector before it"
                },
            )),
            Tk::And | Tk::Or | Tk::Not | Tk::Near(_) => Err(self.err(
                ErrorKind::DanglingConnector,
                tok.start,
                tok.end,
                format!("`{}` has nothing on its left", tok.text),
                format!("add a term before `{}`, or remove it", tok.text),
            )),
        }
    }

    fn check_field_content(&self, n: &Node, field_text: &str, start: usize, end: usize) -> Result<()> {
        let bad = match n {
            Node::Term(_) | Node::Phrase(_) => return Ok(()),
            Node::And(c) | Node::Or(c) => {
                for x in c {
                    self.check_field_content(x, field_text, start, end)?;
                }
                return Ok(());
            }
            Node::Not { include, exclude } => {
                self.check_field_content(include, field_text, start, end)?;
                return self.check_field_content(exclude, field_text, start, end);
            }
            Node::Near { .. } => "a proximity connector",
            Node::Field { .. } => "another field restriction",
        };
        Err(self.err(
            ErrorKind::InvalidFieldContent,
            start,
            end,
            format!("`{field_text}...)` cannot contain {bad}"),
            "inside a field use terms, phrases, AND, OR and BUT NOT (names are short: AND finds both words)",
        ))
    }

    fn merge_dates(&self, dates: &[(DateRange, usize, usize)]) -> Result<Option<DateRange>> {
        let mut out: Option<DateRange> = None;
        for &(d, s, e) in dates {
            let merged = match out {
                None => d,
                Some(o) => DateRange {
                    from: match (o.from, d.from) {
                        (Some(a), Some(b)) => Some(a.max(b)),
                        (a, b) => a.or(b),
                    },
                    to: match (o.to, d.to) {
                        (Some(a), Some(b)) => Some(a.min(b)),
                        (a, b) => a.or(b),
                    },
                },
            };
            if let (Some(a), Some(b)) = (merged.from, merged.to)
                && a > b
            {
                return Err(self.err(
                    ErrorKind::InvalidDate,
                    s,
                    e,
                    "the date restrictions exclude every date together",
                    "remove one of them",
                ));
            }
            out = Some(merged);
        }
        Ok(out)
    }
}

/// Joins two nodes with AND or OR, flattening same-kind children (the tree is always flat).
fn flatten(a: Node, b: Node, and: bool) -> Node {
    let mut out = Vec::new();
    for n in [a, b] {
        match n {
            Node::And(c) if and => out.extend(c),
            Node::Or(c) if !and => out.extend(c),
            other => out.push(other),
        }
    }
    if and { Node::And(out) } else { Node::Or(out) }
}
