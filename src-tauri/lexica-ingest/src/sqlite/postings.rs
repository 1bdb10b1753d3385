//! The SQLite side of `crate::postings`: the postings schema (with SQLite's missing
//! `ADD COLUMN IF NOT EXISTS` done by hand), loading the book, writing and trimming a batch's
//! postings, and the backfill for a bundle built by an older Lexica.

use std::borrow::Cow;
use std::collections::HashMap;

use sqlx::sqlite::SqliteConnection;
use sqlx::{AssertSqlSafe, Connection, Row};

use super::{Val, insert_rows, write_term_deltas};
use crate::postings::{self, Book, Entry, Pending};
use crate::record::Prepared;
use crate::stats::{self, Lengths, TermDeltas};

/// The postings schema (tables, indexes, bookkeeping columns), run after the statistics.
const SCHEMA_POSTINGS: &str = include_str!("../../../../migrations/source-sqlite/0004_postings.sql");

const LOAD_BOOK: &str = "SELECT term, postings, floor FROM lexica_term_stats WHERE postings > 0 OR floor > 0";

pub(super) const INSERT_POSTINGS: &str = "INSERT INTO lexica_postings (term, impact, opinion_id, body_tf) VALUES ";

/// Deletes the stored postings of one opinion (`?1`) whose record changed.
const DELETE_OPINION_POSTINGS: &str = "DELETE FROM lexica_postings WHERE opinion_id = ?1 RETURNING term";

/// The impact of a term's (`?1`) posting of rank `?2 + 1`: its floor after a trim.
const RTH_IMPACT: &str = "SELECT impact FROM lexica_postings WHERE term = ?1 ORDER BY impact DESC LIMIT 1 OFFSET ?2";
const DELETE_BELOW: &str = "DELETE FROM lexica_postings WHERE term = ?1 AND impact < ?2";
const RECORD_TRIM: &str =
    "UPDATE lexica_term_stats SET floor = max(floor, ?2), postings = postings - ?3 WHERE term = ?1
RETURNING postings, floor";

const POSTINGS_STATE: &str = "SELECT postings_per_term, postings_backfill_after FROM lexica_corpus_stats WHERE id = 1";
const RESET: [&str; 3] = [
    "DELETE FROM lexica_postings",
    "UPDATE lexica_term_stats SET postings = 0, floor = 0 WHERE postings <> 0 OR floor <> 0",
    "UPDATE lexica_corpus_stats SET postings_per_term = NULL, postings_backfill_after = 0 WHERE id = 1",
];
const CORPUS_TOTALS: &str =
    "SELECT opinions, case_name_words, citation_words, court_words, body_words FROM lexica_corpus_stats WHERE id = 1";
const OPINIONS_AFTER: &str = "
SELECT o.id, o.case_name, o.citation, o.court, o.body,
       l.case_name_words, l.citation_words, l.court_words, l.body_words
  FROM opinions o JOIN opinion_lengths l ON l.opinion_id = o.id
 WHERE o.id > ?1
 ORDER BY o.id
 LIMIT ?2";
const BACKFILL_PROGRESS: &str = "UPDATE lexica_corpus_stats SET postings_backfill_after = ?1 WHERE id = 1";
const POSTINGS_COMPLETE: &str = "UPDATE lexica_corpus_stats SET postings_per_term = ?1 WHERE id = 1";

/// Runs the postings schema, one statement at a time, skipping each `ALTER TABLE t ADD COLUMN c`
/// whose column exists (SQLite has no `IF NOT EXISTS` there). Statements end at a `;` that ends
/// a line; comment lines are dropped.
pub(super) async fn create_schema(conn: &mut SqliteConnection) -> Result<(), sqlx::Error> {
    let script: String =
        SCHEMA_POSTINGS.lines().filter(|l| !l.trim_start().starts_with("--")).collect::<Vec<_>>().join("\n");
    for statement in script.split(";\n").map(str::trim).filter(|s| !s.is_empty()) {
        let statement = statement.trim_end_matches(';');
        let words: Vec<&str> = statement.split_whitespace().collect();
        if let ["ALTER", "TABLE", table, "ADD", "COLUMN", column, ..] = words[..] {
            let present: bool = sqlx::query_scalar("SELECT count(*) > 0 FROM pragma_table_info(?1) WHERE name = ?2")
                .bind(table)
                .bind(column)
                .fetch_one(&mut *conn)
                .await?;
            if present {
                continue;
            }
        }
        sqlx::raw_sql(AssertSqlSafe(statement.to_string())).execute(&mut *conn).await?;
    }
    Ok(())
}

pub(super) async fn load_book(conn: &mut SqliteConnection, per_term: u32) -> Result<Book, sqlx::Error> {
    let mut book = Book::new(per_term);
    for row in sqlx::query(LOAD_BOOK).fetch_all(&mut *conn).await? {
        let postings: i64 = row.try_get(1)?;
        let floor: f64 = row.try_get(2)?;
        book.load(row.try_get(0)?, Entry { postings: u32::try_from(postings).unwrap_or(0), floor: floor as f32 });
    }
    Ok(book)
}

/// Deletes the stored postings of the changed opinion `id`, taking them off the book and the
/// term deltas.
pub(super) async fn delete_opinion(
    conn: &mut SqliteConnection,
    id: i64,
    book: &Book,
    pending: &mut Pending,
    deltas: &mut TermDeltas<'_>,
) -> Result<(), sqlx::Error> {
    let mut counts: HashMap<String, u32> = HashMap::new();
    for term in sqlx::query_scalar::<_, String>(DELETE_OPINION_POSTINGS).bind(id).fetch_all(&mut *conn).await? {
        *counts.entry(term).or_insert(0) += 1;
    }
    for (term, n) in counts {
        pending.removed(book, &term, n);
        deltas.add_postings(Cow::Owned(term), -i64::from(n));
    }
    Ok(())
}

/// Computes and inserts the postings of the written records (`(id, record)`), under `average`.
pub(super) async fn write_new<'r>(
    conn: &mut SqliteConnection,
    to_index: &[(i64, &'r Prepared)],
    average: [f64; 4],
    book: &Book,
    pending: &mut Pending,
    deltas: &mut TermDeltas<'r>,
) -> Result<(), sqlx::Error> {
    let mut rows: Vec<Val<'r>> = Vec::new();
    for &(id, r) in to_index {
        postings::admitted(book, pending, r.terms(), &r.tf, r.lengths, average, |t, w, b| {
            rows.extend([Val::Text(Some(t)), Val::Real(f64::from(w)), Val::Int(id), Val::Int(i64::from(b))]);
            deltas.add_postings(Cow::Borrowed(t), 1);
        });
    }
    insert_rows(conn, INSERT_POSTINGS, 4, &rows, "").await
}

/// Trims the terms this transaction took past the cap (see `crate::postings`).
pub(super) async fn trim(conn: &mut SqliteConnection, book: &Book, pending: &mut Pending) -> Result<(), sqlx::Error> {
    let terms = pending.over_cap(book);
    trim_terms(conn, book, pending, terms).await
}

/// The end of a run: every term holding more than R is trimmed to R, in one transaction.
pub(super) async fn trim_to_cap(conn: &mut SqliteConnection, book: &mut Book) -> Result<(), sqlx::Error> {
    let terms = book.holding_more_than(book.per_term);
    if terms.is_empty() {
        return Ok(());
    }
    let mut pending = Pending::default();
    let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
    trim_terms(&mut tx, book, &mut pending, terms).await?;
    tx.commit().await?;
    book.commit(pending);
    Ok(())
}

/// Trims `terms` to their R highest impacts (ties stay), raising their floors.
async fn trim_terms(
    conn: &mut SqliteConnection,
    book: &Book,
    pending: &mut Pending,
    terms: Vec<String>,
) -> Result<(), sqlx::Error> {
    let offset = i64::from(book.per_term) - 1;
    for term in terms {
        let Some(floor) =
            sqlx::query_scalar::<_, f64>(RTH_IMPACT).bind(&term).bind(offset).fetch_optional(&mut *conn).await?
        else {
            continue;
        };
        let deleted = sqlx::query(DELETE_BELOW).bind(&term).bind(floor).execute(&mut *conn).await?.rows_affected();
        let row = sqlx::query(RECORD_TRIM)
            .bind(&term)
            .bind(floor)
            .bind(i64::try_from(deleted).unwrap_or(i64::MAX))
            .fetch_one(&mut *conn)
            .await?;
        let (postings, floor): (i64, f64) = (row.try_get(0)?, row.try_get(1)?);
        pending.trimmed(book, &term, u32::try_from(postings).unwrap_or(0), floor as f32);
    }
    Ok(())
}

/// The PostgreSQL loader's `ensure_postings`, for a bundle: complete postings only have their
/// book read; otherwise they are built from the stored opinions, resumably, and
/// `postings_per_term` is set last. Returns the book and the postings written.
pub(super) async fn ensure_postings(conn: &mut SqliteConnection, per_term: u32) -> Result<(Book, u64), sqlx::Error> {
    let row = sqlx::query(POSTINGS_STATE).fetch_one(&mut *conn).await?;
    let (built_with, after): (Option<i64>, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
    if built_with == Some(i64::from(per_term)) {
        return Ok((load_book(conn, per_term).await?, 0));
    }
    let mut after = match (built_with, after) {
        (None, Some(after)) => after,
        _ => {
            let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
            for sql in RESET {
                sqlx::query(sql).execute(&mut *tx).await?;
            }
            tx.commit().await?;
            0
        }
    };
    let mut book = load_book(conn, per_term).await?;
    let totals = sqlx::query(CORPUS_TOTALS).fetch_one(&mut *conn).await?;
    let words: [i64; 4] = [totals.try_get(1)?, totals.try_get(2)?, totals.try_get(3)?, totals.try_get(4)?];
    let average = postings::averages(totals.try_get(0)?, words);
    let mut written = 0;
    loop {
        let rows = sqlx::query(OPINIONS_AFTER).bind(after).bind(stats::BACKFILL_BATCH).fetch_all(&mut *conn).await?;
        if rows.is_empty() {
            break;
        }
        let mut pending = Pending::default();
        let mut deltas = TermDeltas::default();
        let mut out: Vec<(String, f32, i64, u32)> = Vec::new();
        for row in &rows {
            let id: i64 = row.try_get(0)?;
            let (case_name, citation, court, body): (&str, Option<&str>, &str, &str) =
                (row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
            let lengths = Lengths {
                case_name: row.try_get(5)?,
                citation: row.try_get(6)?,
                court: row.try_get(7)?,
                body: row.try_get(8)?,
            };
            let (terms, tf): (Vec<String>, Vec<_>) =
                stats::term_tf_of_text(case_name, citation, court, body).into_iter().unzip();
            postings::admitted(
                &book,
                &mut pending,
                terms.iter().map(String::as_str),
                &tf,
                lengths,
                average,
                |t, w, b| {
                    out.push((t.to_string(), w, id, b));
                },
            );
            after = id;
        }
        for (t, _, _, _) in &out {
            deltas.add_postings(Cow::Borrowed(t.as_str()), 1);
        }
        let values: Vec<Val<'_>> = out
            .iter()
            .flat_map(|(t, w, id, b)| {
                [Val::Text(Some(t)), Val::Real(f64::from(*w)), Val::Int(*id), Val::Int(i64::from(*b))]
            })
            .collect();
        written += out.len() as u64;
        let mut tx = conn.begin_with("BEGIN IMMEDIATE").await?;
        insert_rows(&mut tx, INSERT_POSTINGS, 4, &values, "").await?;
        write_term_deltas(&mut tx, &deltas).await?;
        trim(&mut tx, &book, &mut pending).await?;
        sqlx::query(BACKFILL_PROGRESS).bind(after).execute(&mut *tx).await?;
        tx.commit().await?;
        book.commit(pending);
    }
    sqlx::query(POSTINGS_COMPLETE).bind(i64::from(per_term)).execute(&mut *conn).await?;
    Ok((book, written))
}

/// Whether the term `?1` is held by at most `?2` opinions but misses postings (floor above 0).
const IS_SHORT: &str = "SELECT count(*) > 0 FROM lexica_term_stats WHERE term = ?1 AND df <= ?2 AND floor > 0";

/// Opinions whose FTS5 entry holds the phrase `?1` (the term's tokens: a superset of the
/// opinions holding the term, checked against their text), with their lengths.
const HOLDERS: &str = "
SELECT o.id, o.case_name, o.citation, o.court, o.body,
       l.case_name_words, l.citation_words, l.court_words, l.body_words
  FROM opinions o JOIN opinion_lengths l ON l.opinion_id = o.id
 WHERE o.id IN (SELECT rowid FROM opinions_fts WHERE opinions_fts MATCH ?1)";

const DELETE_TERM_POSTINGS: &str = "DELETE FROM lexica_postings WHERE term = ?1";
const RECORD_REFILL: &str = "UPDATE lexica_term_stats SET floor = 0, postings = ?2 WHERE term = ?1";

/// The PostgreSQL loader's `refill`, for a bundle: each of `lost` now held by at most R opinions
/// but missing postings gets all of them rewritten, under `average`. Runs before this batch's
/// records are in the FTS5 index, so those (`to_index`) are taken from memory.
pub(super) async fn refill(
    conn: &mut SqliteConnection,
    book: &Book,
    pending: &mut Pending,
    lost: &[String],
    to_index: &[(i64, &Prepared)],
    average: [f64; 4],
) -> Result<(), sqlx::Error> {
    for term in lost {
        let short: bool =
            sqlx::query_scalar(IS_SHORT).bind(term).bind(i64::from(book.per_term)).fetch_one(&mut *conn).await?;
        if !short {
            continue;
        }
        let mut found: Vec<(i64, f32, u32)> = Vec::new();
        for &(id, r) in to_index {
            if let Some((_, tf)) = r.terms().zip(&r.tf).find(|(t, _)| t == term) {
                found.push((id, postings::impact(*tf, r.lengths, average), tf[lexica_query::bm25f::BODY]));
            }
        }
        let phrase = format!("\"{}\"", term.replace('"', "\"\""));
        for row in sqlx::query(HOLDERS).bind(&phrase).fetch_all(&mut *conn).await? {
            let id: i64 = row.try_get(0)?;
            if to_index.iter().any(|&(i, _)| i == id) {
                continue;
            }
            let (case_name, citation, court, body): (&str, Option<&str>, &str, &str) =
                (row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
            let lengths = Lengths {
                case_name: row.try_get(5)?,
                citation: row.try_get(6)?,
                court: row.try_get(7)?,
                body: row.try_get(8)?,
            };
            if let Some((_, tf)) =
                stats::term_tf_of_text(case_name, citation, court, body).into_iter().find(|(t, _)| t == term)
            {
                found.push((id, postings::impact(tf, lengths, average), tf[lexica_query::bm25f::BODY]));
            }
        }
        sqlx::query(DELETE_TERM_POSTINGS).bind(term).execute(&mut *conn).await?;
        let values: Vec<Val<'_>> = found
            .iter()
            .flat_map(|&(id, w, b)| {
                [Val::Text(Some(term)), Val::Real(f64::from(w)), Val::Int(id), Val::Int(i64::from(b))]
            })
            .collect();
        insert_rows(conn, INSERT_POSTINGS, 4, &values, "").await?;
        let n = found.len();
        sqlx::query(RECORD_REFILL).bind(term).bind(i64::try_from(n).unwrap_or(i64::MAX)).execute(&mut *conn).await?;
        pending.trimmed(book, term, u32::try_from(n).unwrap_or(u32::MAX), 0.0);
    }
    Ok(())
}
