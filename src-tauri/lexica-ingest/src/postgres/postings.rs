//! The PostgreSQL side of `crate::postings`: loading the book, writing a batch's postings with
//! COPY, trimming terms past the cap, and building the postings of a source loaded by an older
//! Lexica (the backfill), all in SQL the loader runs in its own transactions.

use std::borrow::Cow;

use sqlx::postgres::PgConnection;
use sqlx::{Connection, Row};

use super::copy::{COPY_CHUNK_BYTES, push_row};
use crate::postings::{self, Book, Entry, Heads, Pending};
use crate::stats::{self, Lengths, TermDeltas};

/// The postings schema (tables, indexes, bookkeeping columns), run after the statistics.
pub(super) const SCHEMA_POSTINGS: &str = include_str!("../../../../migrations/source-postgres/0004_postings.sql");

/// Every term's bookkeeping that differs from the default (a term with neither stored postings
/// nor a floor needs no entry).
const LOAD_BOOK: &str = "SELECT term, postings, floor FROM lexica_term_stats WHERE postings > 0 OR floor > 0";

/// Deletes the stored postings of the versions that changed records replace, counted per term.
pub(super) const DELETE_OLD_POSTINGS: &str = "
WITH d AS (
    DELETE FROM lexica_postings p
     USING lexica_stage_opinions s
     WHERE s.status = 'updated' AND p.opinion_id = s.opinion_id
 RETURNING p.term)
SELECT term, count(*) FROM d GROUP BY term";

const COPY_POSTINGS: &str = "COPY lexica_postings (term, impact, opinion_id, body_tf) FROM STDIN";

/// Trims the terms `$1` to their `$2 + 1` highest impacts (ties with the last one stay), raising
/// each floor to that impact, and returns each term's new count and floor. The counts in
/// `lexica_term_stats` already include this transaction's postings (see `write_term_deltas`).
const TRIM: &str = "
WITH f AS (
    SELECT t.term,
           (SELECT p.impact FROM lexica_postings p WHERE p.term = t.term
             ORDER BY p.impact DESC OFFSET $2 LIMIT 1) AS floor
      FROM unnest($1::text[]) AS t (term)),
d AS (
    DELETE FROM lexica_postings p USING f
     WHERE p.term = f.term AND p.impact < f.floor
 RETURNING p.term),
n AS (SELECT term, count(*) AS deleted FROM d GROUP BY term)
UPDATE lexica_term_stats s
   SET floor = greatest(s.floor, f.floor), postings = s.postings - coalesce(n.deleted, 0)::integer
  FROM f LEFT JOIN n ON n.term = f.term
 WHERE s.term = f.term AND f.floor IS NOT NULL
RETURNING s.term, s.postings, s.floor";

// The backfill (see `ensure_postings`).

/// R the postings were built with (NULL: incomplete), and how far a backfill got.
const POSTINGS_STATE: &str = "SELECT postings_per_term, postings_backfill_after FROM lexica_corpus_stats WHERE id = 1";

/// Forgets every posting, so a backfill starts from nothing (after postings built with another R,
/// or left by a build that was never recorded as started).
const RESET: [&str; 3] = [
    "TRUNCATE lexica_postings",
    "UPDATE lexica_term_stats SET postings = 0, floor = 0 WHERE postings <> 0 OR floor <> 0",
    "UPDATE lexica_corpus_stats SET postings_per_term = NULL, postings_backfill_after = 0 WHERE id = 1",
];

/// The corpus totals (opinions, then the four word totals), for the backfill's averages.
const CORPUS_TOTALS: &str =
    "SELECT opinions, case_name_words, citation_words, court_words, body_words FROM lexica_corpus_stats WHERE id = 1";

/// Opinions after id `$1`, at most `$2` of them, by id, with their lengths (complete when the
/// backfill runs: `ensure_statistics` runs first).
const OPINIONS_AFTER: &str = "
SELECT o.id, o.case_name, o.citation, o.court, o.body,
       l.case_name_words, l.citation_words, l.court_words, l.body_words
  FROM opinions o JOIN opinion_lengths l ON l.opinion_id = o.id
 WHERE o.id > $1
 ORDER BY o.id
 LIMIT $2";

const BACKFILL_PROGRESS: &str = "UPDATE lexica_corpus_stats SET postings_backfill_after = $1 WHERE id = 1";
const POSTINGS_COMPLETE: &str = "UPDATE lexica_corpus_stats SET postings_per_term = $1 WHERE id = 1";

/// Marks the postings incomplete with no build under way (a first load, until its end): the
/// next run that finds them so rebuilds them from the stored opinions (`ensure_postings`).
pub(super) const MARK_INCOMPLETE: &str =
    "UPDATE lexica_corpus_stats SET postings_per_term = NULL, postings_backfill_after = NULL WHERE id = 1";

/// Sets the counts and floors of the terms `$1` (`$2`, `$3`) after a first load.
const RECORD_HEADS: &str = "
UPDATE lexica_term_stats s SET postings = h.postings, floor = h.floor
  FROM unnest($1::text[], $2::integer[], $3::real[]) AS h (term, postings, floor)
 WHERE s.term = h.term";

/// Terms per [`RECORD_HEADS`] statement (bounded arrays, whatever the vocabulary).
const RECORD_HEADS_CHUNK: usize = 50_000;

/// Writes a first load's postings (see `super::bulk`) in one transaction: the postings by term
/// with one COPY, each term's count and floor, then the postings marked complete for R =
/// `per_term`. Returns the postings written.
pub(super) async fn write_heads(conn: &mut PgConnection, heads: Heads, per_term: u32) -> Result<u64, sqlx::Error> {
    let terms = heads.finish();
    let mut tx = conn.begin().await?;
    let mut copy = tx.copy_in_raw(COPY_POSTINGS).await?;
    let mut buf = Vec::with_capacity(COPY_CHUNK_BYTES * 2);
    let mut written = 0u64;
    for (term, _, held) in &terms {
        for h in held {
            let (impact, id, tf) = (h.impact.to_string(), h.opinion_id.to_string(), h.body_tf.to_string());
            push_row(&mut buf, &[Some(term), Some(&impact), Some(&id), Some(&tf)]);
            written += 1;
            if buf.len() >= COPY_CHUNK_BYTES {
                copy.send(std::mem::take(&mut buf)).await?;
            }
        }
    }
    if !buf.is_empty() {
        copy.send(buf).await?;
    }
    copy.finish().await?;
    for chunk in terms.chunks(RECORD_HEADS_CHUNK) {
        let names: Vec<&str> = chunk.iter().map(|t| t.0.as_str()).collect();
        let counts: Vec<i32> = chunk.iter().map(|t| i32::try_from(t.1.postings).unwrap_or(i32::MAX)).collect();
        let floors: Vec<f32> = chunk.iter().map(|t| t.1.floor).collect();
        sqlx::query(RECORD_HEADS).bind(names).bind(counts).bind(floors).execute(&mut *tx).await?;
    }
    sqlx::query(POSTINGS_COMPLETE).bind(i32::try_from(per_term).unwrap_or(i32::MAX)).execute(&mut *tx).await?;
    tx.commit().await?;
    Ok(written)
}

/// Reads the book (every term's count and floor) from the source.
pub(super) async fn load_book(conn: &mut PgConnection, per_term: u32) -> Result<Book, sqlx::Error> {
    let mut book = Book::new(per_term);
    for row in sqlx::query(LOAD_BOOK).fetch_all(&mut *conn).await? {
        let postings: i32 = row.try_get(1)?;
        book.load(row.try_get(0)?, Entry { postings: u32::try_from(postings).unwrap_or(0), floor: row.try_get(2)? });
    }
    Ok(book)
}

/// The postings the loader computed for a batch, ready to COPY.
#[derive(Debug, Default)]
pub(super) struct PostingRows {
    buf: Vec<u8>,
    pub rows: u64,
}

impl PostingRows {
    pub fn push(&mut self, term: &str, impact: f32, opinion_id: i64, body_tf: u32) {
        let (impact, id, tf) = (impact.to_string(), opinion_id.to_string(), body_tf.to_string());
        push_row(&mut self.buf, &[Some(term), Some(&impact), Some(&id), Some(&tf)]);
        self.rows += 1;
    }

    /// Sends the rows with one COPY.
    pub async fn copy(self, conn: &mut PgConnection) -> Result<(), sqlx::Error> {
        if self.rows == 0 {
            return Ok(());
        }
        let mut copy = conn.copy_in_raw(COPY_POSTINGS).await?;
        for chunk in self.buf.chunks(COPY_CHUNK_BYTES) {
            copy.send(chunk).await?;
        }
        copy.finish().await?;
        Ok(())
    }
}

/// Removes what `DELETE_OLD_POSTINGS` deleted from the book and the term deltas.
pub(super) async fn delete_old(
    conn: &mut PgConnection,
    book: &Book,
    pending: &mut Pending,
    deltas: &mut TermDeltas<'_>,
) -> Result<(), sqlx::Error> {
    for row in sqlx::query(DELETE_OLD_POSTINGS).fetch_all(&mut *conn).await? {
        let term: String = row.try_get(0)?;
        let n: i64 = row.try_get(1)?;
        pending.removed(book, &term, u32::try_from(n).unwrap_or(u32::MAX));
        deltas.add_postings(Cow::Owned(term), -n);
    }
    Ok(())
}

/// Trims the terms this transaction took past the cap (see `crate::postings`).
pub(super) async fn trim(conn: &mut PgConnection, book: &Book, pending: &mut Pending) -> Result<(), sqlx::Error> {
    let terms = pending.over_cap(book);
    trim_terms(conn, book, pending, &terms).await
}

/// The end of a run: every term holding more than R is trimmed to R, in one transaction.
pub(super) async fn trim_to_cap(conn: &mut PgConnection, book: &mut Book) -> Result<(), sqlx::Error> {
    let terms = book.holding_more_than(book.per_term);
    if terms.is_empty() {
        return Ok(());
    }
    let mut pending = Pending::default();
    let mut tx = conn.begin().await?;
    trim_terms(&mut tx, book, &mut pending, &terms).await?;
    tx.commit().await?;
    book.commit(pending);
    Ok(())
}

/// Trims `terms` to their R highest impacts (ties stay), raising their floors.
pub(super) async fn trim_terms(
    conn: &mut PgConnection,
    book: &Book,
    pending: &mut Pending,
    terms: &[String],
) -> Result<(), sqlx::Error> {
    if terms.is_empty() {
        return Ok(());
    }
    let query = sqlx::query(TRIM).bind(terms).bind(i64::from(book.per_term) - 1);
    for row in query.fetch_all(&mut *conn).await? {
        let term: String = row.try_get(0)?;
        let postings: i32 = row.try_get(1)?;
        pending.trimmed(book, &term, u32::try_from(postings).unwrap_or(0), row.try_get(2)?);
    }
    Ok(())
}

/// Makes the postings complete before any batch is loaded, and returns the book. A source whose
/// postings are complete (`postings_per_term` = R) only has its book read. Otherwise (a source
/// loaded by an older Lexica, or postings built with another R) they are built from the stored
/// opinions, [`stats::BACKFILL_BATCH`] per transaction in id order, each transaction also
/// recording the last id done, so an interrupted build resumes there; `postings_per_term` is set
/// last. The impacts use the source's current averages (its statistics are complete by now).
pub(super) async fn ensure_postings(conn: &mut PgConnection, per_term: u32) -> Result<(Book, u64), sqlx::Error> {
    let row = sqlx::query(POSTINGS_STATE).fetch_one(&mut *conn).await?;
    let (built_with, after): (Option<i32>, Option<i64>) = (row.try_get(0)?, row.try_get(1)?);
    let r = i32::try_from(per_term).unwrap_or(i32::MAX);
    if built_with == Some(r) {
        return Ok((load_book(conn, per_term).await?, 0));
    }
    let mut after = match (built_with, after) {
        (None, Some(after)) => after, // a build under way: resume it
        _ => {
            let mut tx = conn.begin().await?;
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
        let mut out = PostingRows::default();
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
                    out.push(t, w, id, b);
                    deltas.add_postings(Cow::Owned(t.to_string()), 1);
                },
            );
            after = id;
        }
        written += out.rows;
        let mut tx = conn.begin().await?;
        out.copy(&mut tx).await?;
        super::write_term_deltas(&mut tx, &deltas).await?;
        trim(&mut tx, &book, &mut pending).await?;
        sqlx::query(BACKFILL_PROGRESS).bind(after).execute(&mut *tx).await?;
        tx.commit().await?;
        book.commit(pending);
    }
    sqlx::query(POSTINGS_COMPLETE).bind(r).execute(&mut *conn).await?;
    Ok((book, written))
}

/// Terms (of `$1`) that are held by at most `$2` opinions but miss postings (floor above 0):
/// after changed opinions took postings away from a trimmed term.
const SHORT_TERMS: &str =
    "SELECT term FROM lexica_term_stats WHERE term = ANY($1::text[]) AND df <= $2 AND floor > 0 ORDER BY term";

/// The opinions holding the lexeme `$1` (a `tsquery` literal), with their lengths.
const HOLDERS: &str = "
SELECT o.id, o.case_name, o.citation, o.court, o.body,
       l.case_name_words, l.citation_words, l.court_words, l.body_words
  FROM opinions o JOIN opinion_lengths l ON l.opinion_id = o.id
 WHERE o.search_vector @@ $1::tsquery";

const DELETE_TERM_POSTINGS: &str = "DELETE FROM lexica_postings WHERE term = $1";
const RECORD_REFILL: &str = "UPDATE lexica_term_stats SET floor = 0, postings = $2 WHERE term = $1";

/// `term` as a `tsquery` literal of one lexeme (no text-search parsing: lexemes are Lexica words).
fn tsquery_literal(term: &str) -> String {
    format!("'{}'", term.replace('\\', "\\\\").replace('\'', "''"))
}

/// Keeps "a term held by at most R opinions has all its postings" after changed opinions: each
/// of `lost` (terms that lost opinions in this transaction) now held by at most R opinions but
/// missing postings gets all of them rewritten from the opinions' text, under `average`, and
/// its floor reset to 0. Rare: it takes updates that remove a trimmed term from most of the
/// opinions that held it.
pub(super) async fn refill(
    conn: &mut PgConnection,
    book: &Book,
    pending: &mut Pending,
    lost: &[String],
    average: [f64; 4],
) -> Result<(), sqlx::Error> {
    if lost.is_empty() {
        return Ok(());
    }
    let short: Vec<String> =
        sqlx::query_scalar(SHORT_TERMS).bind(lost).bind(i64::from(book.per_term)).fetch_all(&mut *conn).await?;
    for term in short {
        let mut out = PostingRows::default();
        for row in sqlx::query(HOLDERS).bind(tsquery_literal(&term)).fetch_all(&mut *conn).await? {
            let (case_name, citation, court, body): (&str, Option<&str>, &str, &str) =
                (row.try_get(1)?, row.try_get(2)?, row.try_get(3)?, row.try_get(4)?);
            let lengths = Lengths {
                case_name: row.try_get(5)?,
                citation: row.try_get(6)?,
                court: row.try_get(7)?,
                body: row.try_get(8)?,
            };
            if let Some((_, tf)) =
                stats::term_tf_of_text(case_name, citation, court, body).into_iter().find(|(t, _)| *t == term)
            {
                out.push(&term, postings::impact(tf, lengths, average), row.try_get(0)?, tf[lexica_query::bm25f::BODY]);
            }
        }
        let n = out.rows;
        sqlx::query(DELETE_TERM_POSTINGS).bind(&term).execute(&mut *conn).await?;
        out.copy(&mut *conn).await?;
        let count = i32::try_from(n).unwrap_or(i32::MAX);
        sqlx::query(RECORD_REFILL).bind(&term).bind(count).execute(&mut *conn).await?;
        pending.trimmed(book, &term, u32::try_from(n).unwrap_or(u32::MAX), 0.0);
    }
    Ok(())
}
