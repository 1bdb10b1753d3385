//! Every read a search makes against an opinion source, PostgreSQL and SQLite behind one face:
//! statistics, candidates, their paragraphs and lengths. The schema is migrations/source-*; the
//! candidate statement comes from the language's compilers (`lexica_query::postgres` /
//! `sqlite`), everything else is here.
//!
//! Reads are batched (`= ANY($1)` / `json_each(?1)`), never one round trip per opinion: a source
//! 20 ms away would otherwise spend seconds in round trips.

use std::collections::HashMap;

use lexica_query::{BindValue, ParagraphWords, Plan, WordPattern, text};

use super::stats::{FIELDS, Patterns, SourceStats};
use super::topk::Posting;

/// (opinion id, paragraph number, body) and (opinion id, body words), as read.
type ParagraphRow = (i64, i64, String);
type LengthRow = (i64, i32);

/// Opinions per batched read.
const BATCH: usize = 1_000;

/// Declares the execution's PostgreSQL transaction read-only, before its first read. The
/// connection's `default_transaction_read_only` startup parameter already asks for that, but a
/// connection pooler may strip startup parameters, and a role or database setting (or a session
/// `SET`) may turn the default off; the transaction's own mode holds whatever the session says,
/// so no search (nor a view or function a source's schema hides behind `opinions`) writes.
///
/// Sequential scans off, for this transaction only: every statement of a search selects by a GIN
/// condition or by key, and a sequential scan reads back (detoasts) every opinion's vector to test
/// it, a cost the planner does not weigh. Counting `jurisdiction & state` (half of 20,000 opinions)
/// took 470 ms by the sequential scan the planner chose and 21 ms from the GIN index's bitmap.
/// Both in one round trip (a simple-protocol batch).
const SET_READ_ONLY: &str = "SET TRANSACTION READ ONLY; SET LOCAL enable_seqscan = off";

/// A connection to one source, for the length of one execution.
pub(super) enum SourceConn<'a> {
    /// Inside the execution's transaction (it carries the statement timeout), not yet declared
    /// read-only: the first read does it (see [`SourceConn::reads`]) and moves to `PostgresReadOnly`.
    Postgres(&'a mut sqlx::PgConnection),
    /// The same transaction, declared `READ ONLY`.
    PostgresReadOnly(&'a mut sqlx::PgConnection),
    /// The read-only declaration failed: nothing more is read through this connection.
    Refused,
    Sqlite(&'a mut sqlx::SqliteConnection),
}

/// The connection a read goes through, once it is safe to read.
enum Reads<'c> {
    Postgres(&'c mut sqlx::PgConnection),
    Sqlite(&'c mut sqlx::SqliteConnection),
}

/// What a read through a [`SourceConn::Refused`] connection fails with.
const REFUSED_MESSAGE: &str =
    "the source's transaction could not be made read-only, so Lexica read nothing from it; search again";

/// One row of a plan's candidates.
#[derive(Debug, Clone, PartialEq)]
pub(super) struct Candidate {
    pub id: i64,
    pub case_name: String,
    pub citation: Option<String>,
    pub court: String,
    pub jurisdiction: Option<String>,
    pub decided_on: Option<String>,
    pub docket_number: Option<String>,
    /// One per clause of a near-miss plan: the clause's SQL matched.
    pub flags: Vec<bool>,
}

/// What the scorer and the checker read of a candidate beyond its row.
#[derive(Debug, Clone, Default, PartialEq)]
pub(super) struct Texts {
    /// The paragraphs holding a word of the plan's (`Plan::paragraph_words`), in order, per opinion.
    pub paragraphs: HashMap<i64, Vec<String>>,
    /// `opinion_lengths.body_words`, where the source keeps it.
    pub body_words: HashMap<i64, u32>,
    /// The same paragraphs' words, where the read split them already (the PostgreSQL read
    /// does, to test them): the checker and the scorer use them instead of splitting again.
    /// Cleared once a part is ranked (the snippets read the text).
    pub words: HashMap<i64, Vec<text::Words>>,
}

/// Binds a plan's values in order.
macro_rules! bind_all {
    ($query:expr, $binds:expr) => {{
        let mut q = $query;
        for b in $binds {
            q = match b {
                BindValue::Text(t) => q.bind(t.clone()),
                BindValue::Int(n) => q.bind(*n),
            };
        }
        q
    }};
}

/// Exclusive upper bound of the words starting with `prefix` in a bytewise order.
fn prefix_end(prefix: &str) -> String {
    format!("{prefix}{}", char::MAX)
}

/// The forms of exact patterns, and each pattern's (forms or prefix).
fn all_forms(patterns: &Patterns) -> Vec<String> {
    let mut forms: Vec<String> = Vec::new();
    for p in &patterns.patterns {
        if let WordPattern::Forms(f) = p {
            forms.extend(f.iter().cloned());
        }
    }
    forms.sort();
    forms.dedup();
    forms
}

/// Per pattern, the largest df of its words (see `SourceStats::df`).
fn df_per_pattern(patterns: &Patterns, exact: &HashMap<String, i64>, prefix: &[i64]) -> Vec<u64> {
    let mut prefixes = prefix.iter();
    patterns
        .patterns
        .iter()
        .map(|p| match p {
            WordPattern::Forms(f) => f.iter().filter_map(|w| exact.get(w)).copied().max().unwrap_or(0),
            WordPattern::Prefix(_) => prefixes.next().copied().unwrap_or(0),
        })
        .map(|df| u64::try_from(df).unwrap_or(0))
        .collect()
}

impl SourceConn<'_> {
    /// The connection to read through. On PostgreSQL the transaction is declared `READ ONLY`
    /// ([`SET_READ_ONLY`]) first, once: a state rather than a statement per read, since each
    /// statement is a round trip to a server that may be far away. (Turning a transaction
    /// read-only is allowed at any point of it; only the reverse is refused after a query.)
    async fn reads(&mut self) -> Result<Reads<'_>, sqlx::Error> {
        if matches!(self, SourceConn::Postgres(_))
            && let SourceConn::Postgres(tx) = std::mem::replace(self, SourceConn::Refused)
        {
            // On failure `self` stays `Refused`: a connection that could not be made read-only
            // is read no further.
            sqlx::raw_sql(SET_READ_ONLY).execute(&mut *tx).await?;
            *self = SourceConn::PostgresReadOnly(tx);
        }
        match self {
            SourceConn::Postgres(tx) | SourceConn::PostgresReadOnly(tx) => Ok(Reads::Postgres(tx)),
            SourceConn::Sqlite(conn) => Ok(Reads::Sqlite(conn)),
            SourceConn::Refused => Err(sqlx::Error::Protocol(REFUSED_MESSAGE.into())),
        }
    }

    /// The source's statistics for the query's patterns; `complete: false` when the source has
    /// no Lexica statistics (or they were never filled).
    pub async fn stats(&mut self, patterns: &Patterns) -> Result<SourceStats, sqlx::Error> {
        let forms = all_forms(patterns);
        let prefixes: Vec<&str> = patterns
            .patterns
            .iter()
            .filter_map(|p| if let WordPattern::Prefix(x) = p { Some(x.as_str()) } else { None })
            .collect();
        let corpus: Option<(i64, i64, i64, i64, i64)>;
        let mut postings: bool;
        let mut exact: HashMap<String, i64> = HashMap::new();
        let mut prefix_df = Vec::with_capacity(prefixes.len());
        match self.reads().await? {
            Reads::Postgres(tx) => {
                let present: bool = sqlx::query_scalar(
                    "SELECT to_regclass('lexica_corpus_stats') IS NOT NULL AND to_regclass('lexica_term_stats') IS NOT NULL",
                )
                .fetch_one(&mut *tx)
                .await?;
                if !present {
                    return Ok(SourceStats { df: vec![0; patterns.patterns.len()], ..SourceStats::default() });
                }
                corpus = sqlx::query_as(
                    "SELECT opinions, case_name_words, citation_words, court_words, body_words
                       FROM lexica_corpus_stats WHERE id = 1",
                )
                .fetch_optional(&mut *tx)
                .await?;
                // Asked of the catalog first: a query naming a missing column would abort the
                // execution's transaction.
                postings = sqlx::query_scalar(
                    "SELECT to_regclass('lexica_postings') IS NOT NULL AND EXISTS (
                        SELECT 1 FROM information_schema.columns
                         WHERE table_schema = current_schema() AND table_name = 'lexica_corpus_stats'
                           AND column_name = 'postings_per_term')",
                )
                .fetch_one(&mut *tx)
                .await?;
                if postings {
                    let per_term: Option<Option<i32>> =
                        sqlx::query_scalar("SELECT postings_per_term FROM lexica_corpus_stats WHERE id = 1")
                            .fetch_optional(&mut *tx)
                            .await?;
                    postings = per_term.flatten().is_some();
                }
                let rows: Vec<(String, i64)> =
                    sqlx::query_as("SELECT term, df FROM lexica_term_stats WHERE term = ANY($1)")
                        .bind(&forms)
                        .fetch_all(&mut *tx)
                        .await?;
                exact.extend(rows);
                for p in &prefixes {
                    let df: i64 = sqlx::query_scalar(
                        "SELECT coalesce(max(df), 0)::bigint FROM lexica_term_stats
                          WHERE term >= $1 COLLATE \"C\" AND term < $2 COLLATE \"C\"",
                    )
                    .bind(*p)
                    .bind(prefix_end(p))
                    .fetch_one(&mut *tx)
                    .await?;
                    prefix_df.push(df);
                }
            }
            Reads::Sqlite(conn) => {
                let present: i64 = sqlx::query_scalar(
                    "SELECT count(*) FROM sqlite_master WHERE type = 'table'
                        AND name IN ('lexica_corpus_stats', 'lexica_term_stats')",
                )
                .fetch_one(&mut *conn)
                .await?;
                if present < 2 {
                    return Ok(SourceStats { df: vec![0; patterns.patterns.len()], ..SourceStats::default() });
                }
                corpus = sqlx::query_as(
                    "SELECT opinions, case_name_words, citation_words, court_words, body_words
                       FROM lexica_corpus_stats WHERE id = 1",
                )
                .fetch_optional(&mut *conn)
                .await?;
                postings = sqlx::query_scalar(
                    "SELECT count(*) = 2 FROM (
                        SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = 'lexica_postings'
                        UNION ALL
                        SELECT 1 FROM pragma_table_info('lexica_corpus_stats') WHERE name = 'postings_per_term')",
                )
                .fetch_one(&mut *conn)
                .await?;
                if postings {
                    let per_term: Option<Option<i64>> =
                        sqlx::query_scalar("SELECT postings_per_term FROM lexica_corpus_stats WHERE id = 1")
                            .fetch_optional(&mut *conn)
                            .await?;
                    postings = per_term.flatten().is_some();
                }
                let forms_json = serde_json::to_string(&forms).unwrap_or_else(|_| "[]".into());
                let rows: Vec<(String, i64)> = sqlx::query_as(
                    "SELECT term, df FROM lexica_term_stats WHERE term IN (SELECT value FROM json_each(?1))",
                )
                .bind(forms_json)
                .fetch_all(&mut *conn)
                .await?;
                exact.extend(rows);
                for p in &prefixes {
                    let df: i64 = sqlx::query_scalar(
                        "SELECT coalesce(max(df), 0) FROM lexica_term_stats WHERE term >= ?1 AND term < ?2",
                    )
                    .bind(*p)
                    .bind(prefix_end(p))
                    .fetch_one(&mut *conn)
                    .await?;
                    prefix_df.push(df);
                }
            }
        }
        let Some((opinions, a, b, c, d)) = corpus else {
            return Ok(SourceStats { df: vec![0; patterns.patterns.len()], ..SourceStats::default() });
        };
        let count = |v: i64| u64::try_from(v).unwrap_or(0);
        let words: [u64; FIELDS] = [count(a), count(b), count(c), count(d)];
        Ok(SourceStats {
            opinions: count(opinions),
            words,
            df: df_per_pattern(patterns, &exact, &prefix_df),
            complete: true,
            postings,
        })
    }

    /// Runs the plan's candidate statement.
    pub async fn candidates(&mut self, plan: &Plan) -> Result<Vec<Candidate>, sqlx::Error> {
        let sql = || sqlx::AssertSqlSafe(plan.sql.clone());
        let rows: Vec<AnyRow> = match self.reads().await? {
            Reads::Postgres(tx) => bind_all!(sqlx::query(sql()), &plan.binds)
                .fetch_all(&mut *tx)
                .await?
                .into_iter()
                .map(AnyRow::Pg)
                .collect(),
            Reads::Sqlite(conn) => bind_all!(sqlx::query(sql()), &plan.binds)
                .fetch_all(&mut *conn)
                .await?
                .into_iter()
                .map(AnyRow::Sqlite)
                .collect(),
        };
        rows.into_iter().map(|r| r.candidate(plan.clauses.len())).collect()
    }

    /// The paragraphs of `ids` that hold a word of `plan`'s (its `paragraph_filter` /
    /// `paragraph_words`), in body order, and the opinions' body lengths where the source keeps
    /// them.
    pub async fn texts(&mut self, ids: &[i64], plan: &Plan, with_lengths: bool) -> Result<Texts, sqlx::Error> {
        let mut texts = Texts::default();
        for chunk in ids.chunks(BATCH) {
            let (mut paragraphs, lengths): (Vec<(ParagraphRow, Option<text::Words>)>, Vec<LengthRow>) = match self
                .reads()
                .await?
            {
                Reads::Postgres(tx) => {
                    // Whole bodies, cut into paragraphs here (`text::each_paragraph`, the cut
                    // `lexica ingest` stored them by), not the stored paragraphs filtered by the
                    // server: testing a many-word tsquery against every paragraph's vector was
                    // most of a read (about 80 of 110 ms for 100 opinions' 55,000 paragraphs at
                    // 200k), where a body is one lz4 TOAST value and cutting it costs one pass
                    // of the word splitter (the 187 corpus queries at 200k, best of two runs:
                    // p95 1,164 → 1,092 ms, the slowest ones 10–20 % faster, same hits). Cut on
                    // a blocking thread: other sources' executions share this runtime.
                    let bodies: Vec<(i64, String)> = sqlx::query_as("SELECT id, body FROM opinions WHERE id = ANY($1)")
                        .bind(chunk)
                        .fetch_all(&mut *tx)
                        .await?;
                    let words = plan.paragraph_words.clone();
                    let paragraphs = tokio::task::spawn_blocking(move || held_paragraphs(&bodies, &words))
                        .await
                        .map_err(|e| sqlx::Error::Protocol(format!("cutting paragraphs failed: {e}")))?;
                    let lengths = if with_lengths {
                        sqlx::query_as("SELECT opinion_id, body_words FROM opinion_lengths WHERE opinion_id = ANY($1)")
                            .bind(chunk)
                            .fetch_all(&mut *tx)
                            .await?
                    } else {
                        Vec::new()
                    };
                    (paragraphs, lengths)
                }
                Reads::Sqlite(conn) => {
                    let ids_json = serde_json::to_string(chunk).unwrap_or_else(|_| "[]".into());
                    let paragraphs = sqlx::query_as(
                        "SELECT op.opinion_id, op.paragraph_no, op.body FROM opinion_paragraphs op
                          WHERE op.opinion_id IN (SELECT value FROM json_each(?1))
                            AND op.id IN (SELECT rowid FROM paragraphs_fts WHERE paragraphs_fts MATCH ?2)",
                    )
                    .bind(&ids_json)
                    .bind(&plan.paragraph_filter)
                    .fetch_all(&mut *conn)
                    .await?
                    .into_iter()
                    .map(|row| (row, None))
                    .collect();
                    let lengths = if with_lengths {
                        sqlx::query_as(
                            "SELECT opinion_id, body_words FROM opinion_lengths
                              WHERE opinion_id IN (SELECT value FROM json_each(?1))",
                        )
                        .bind(&ids_json)
                        .fetch_all(&mut *conn)
                        .await?
                    } else {
                        Vec::new()
                    };
                    (paragraphs, lengths)
                }
            };
            // Body order, for both backends (the checker and the snippets read paragraphs in it).
            paragraphs.sort_unstable_by_key(|((id, no, _), _)| (*id, *no));
            for ((id, _, body), words) in paragraphs {
                texts.paragraphs.entry(id).or_default().push(body);
                if let Some(words) = words {
                    texts.words.entry(id).or_default().push(words);
                }
            }
            texts.body_words.extend(lengths.into_iter().map(|(id, n)| (id, u32::try_from(n).unwrap_or(0))));
        }
        Ok(texts)
    }

    /// The `n` most frequent words starting with `prefix` (from `lexica_term_stats`).
    pub async fn prefix_terms(&mut self, prefix: &str, n: usize) -> Result<Vec<String>, sqlx::Error> {
        let n = i64::try_from(n).unwrap_or(i64::MAX);
        match self.reads().await? {
            Reads::Postgres(tx) => {
                sqlx::query_scalar(
                    "SELECT term FROM lexica_term_stats WHERE term >= $1 COLLATE \"C\" AND term < $2 COLLATE \"C\"
                      ORDER BY df DESC, term LIMIT $3",
                )
                .bind(prefix)
                .bind(prefix_end(prefix))
                .bind(n)
                .fetch_all(&mut *tx)
                .await
            }
            Reads::Sqlite(conn) => {
                sqlx::query_scalar(
                    "SELECT term FROM lexica_term_stats WHERE term >= ?1 AND term < ?2 ORDER BY df DESC, term LIMIT ?3",
                )
                .bind(prefix)
                .bind(prefix_end(prefix))
                .bind(n)
                .fetch_all(&mut *conn)
                .await
            }
        }
    }

    /// Each term's `per_term` highest-impact postings (`lexica_postings`), in one round trip on
    /// PostgreSQL (a lateral index scan per term), one indexed read per term on SQLite (local).
    pub async fn postings(&mut self, terms: &[String], per_term: u32) -> Result<Vec<Posting>, sqlx::Error> {
        let per_term = i64::from(per_term);
        let mut out = Vec::new();
        match self.reads().await? {
            Reads::Postgres(tx) => {
                let rows: Vec<(i64, i64, f32)> = sqlx::query_as(
                    "SELECT t.ord, p.opinion_id, p.impact
                       FROM unnest($1::text[]) WITH ORDINALITY AS t(term, ord)
                      CROSS JOIN LATERAL (
                            SELECT opinion_id, impact FROM lexica_postings
                             WHERE term = t.term ORDER BY impact DESC LIMIT $2) p",
                )
                .bind(terms)
                .bind(per_term)
                .fetch_all(&mut *tx)
                .await?;
                for (ord, opinion_id, impact) in rows {
                    let term = usize::try_from(ord - 1).unwrap_or(usize::MAX);
                    out.push(Posting { term, opinion_id, impact });
                }
            }
            Reads::Sqlite(conn) => {
                for (term, text) in terms.iter().enumerate() {
                    let rows: Vec<(i64, f64)> = sqlx::query_as(
                        "SELECT opinion_id, impact FROM lexica_postings WHERE term = ?1 ORDER BY impact DESC LIMIT ?2",
                    )
                    .bind(text)
                    .bind(per_term)
                    .fetch_all(&mut *conn)
                    .await?;
                    // SQLite's REAL is a double; the impact was written from an f32-range value.
                    #[allow(clippy::cast_possible_truncation)]
                    out.extend(rows.into_iter().map(|(opinion_id, impact)| Posting {
                        term,
                        opinion_id,
                        impact: impact as f32,
                    }));
                }
            }
        }
        Ok(out)
    }

    /// Rows of a plan's statement, and the largest opinion id among them (for an estimate when
    /// the plan's limit cut the count short: see `retrieve::estimate`).
    pub async fn count(&mut self, plan: &Plan) -> Result<(u64, Option<i64>), sqlx::Error> {
        let sql = sqlx::AssertSqlSafe(format!("SELECT count(*), max(x.id) FROM ({}) x", plan.sql));
        let (n, max): (i64, Option<i64>) = match self.reads().await? {
            Reads::Postgres(tx) => bind_all!(sqlx::query_as(sql), &plan.binds).fetch_one(&mut *tx).await?,
            Reads::Sqlite(conn) => bind_all!(sqlx::query_as(sql), &plan.binds).fetch_one(&mut *conn).await?,
        };
        Ok((u64::try_from(n).unwrap_or(0), max))
    }

    /// The smallest and largest opinion id (two index probes), `None` for an empty source.
    pub async fn id_range(&mut self) -> Result<Option<(i64, i64)>, sqlx::Error> {
        let sql = "SELECT (SELECT min(id) FROM opinions), (SELECT max(id) FROM opinions)";
        let (lo, hi): (Option<i64>, Option<i64>) = match self.reads().await? {
            Reads::Postgres(tx) => sqlx::query_as(sql).fetch_one(&mut *tx).await?,
            Reads::Sqlite(conn) => sqlx::query_as(sql).fetch_one(&mut *conn).await?,
        };
        Ok(lo.zip(hi))
    }
}

/// A row of either backend, read by column position.
enum AnyRow {
    Pg(sqlx::postgres::PgRow),
    Sqlite(sqlx::sqlite::SqliteRow),
}

impl AnyRow {
    fn candidate(self, clauses: usize) -> Result<Candidate, sqlx::Error> {
        use sqlx::Row as _;
        macro_rules! read {
            ($r:expr) => {{
                let r = $r;
                let mut flags = Vec::with_capacity(clauses);
                for i in 0..clauses {
                    let v: i32 = r.try_get(7 + i)?;
                    flags.push(v != 0);
                }
                Candidate {
                    id: r.try_get(0)?,
                    case_name: r.try_get(1)?,
                    citation: r.try_get(2)?,
                    court: r.try_get(3)?,
                    jurisdiction: r.try_get(4)?,
                    decided_on: r.try_get(5)?,
                    docket_number: r.try_get(6)?,
                    flags,
                }
            }};
        }
        Ok(match self {
            AnyRow::Pg(r) => read!(&r),
            AnyRow::Sqlite(r) => read!(&r),
        })
    }
}

/// The paragraphs of `bodies` that hold one of `words`, numbered as `lexica ingest` numbered
/// them (every paragraph counts, held or not).
fn held_paragraphs(bodies: &[(i64, String)], words: &ParagraphWords) -> Vec<(ParagraphRow, Option<text::Words>)> {
    let mut out = Vec::new();
    let mut buffer = text::Words::default();
    for (id, body) in bodies {
        let mut no = 0;
        text::each_paragraph(body, &mut buffer, |p, w| {
            if words.any_in(w.iter()) {
                // Its words go along: the checker and the scorer would split it again.
                out.push(((*id, no, p.to_string()), Some(w.clone())));
            }
            no += 1;
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use sqlx::{Connection, PgConnection};

    use super::*;

    /// The words handed on with each kept paragraph are that paragraph's (the checker and the
    /// scorer read them in its place), the paragraphs come in body order with their numbers, and
    /// only those holding a plan word are kept.
    #[test]
    fn held_paragraphs_carry_their_own_words() {
        let query = lexica_query::parse("hearsay OR rul!", lexica_query::Mode::Boolean).unwrap();
        let plan = lexica_query::postgres::compile(&query, &lexica_query::Filters::default());
        let bodies = vec![
            (7, "The HEARSAY rule.\n\nNothing here.\n\nIt was ruled out.".to_string()),
            (9, "No match at all.".to_string()),
        ];
        let held = held_paragraphs(&bodies, &plan.paragraph_words);
        let kept: Vec<(i64, i64, &str)> = held.iter().map(|((id, no, p), _)| (*id, *no, p.as_str())).collect();
        assert_eq!(kept, [(7, 0, "The HEARSAY rule."), (7, 2, "It was ruled out.")]);
        for ((_, _, p), words) in &held {
            assert_eq!(words.as_ref(), Some(&text::Words::of(p)));
        }
    }

    /// Issue 13, item 7, on the real PostgreSQL test cluster: a session whose
    /// `default_transaction_read_only` is off (what a pooler that strips startup parameters, or a
    /// role setting, leaves) still cannot write through a search's reads.
    #[tokio::test]
    async fn a_write_through_a_search_connection_is_refused_with_read_only_off() {
        let Ok(admin_url) = std::env::var("LEXICA_TEST_PG_URL") else {
            assert!(std::env::var_os("CI").is_none(), "LEXICA_TEST_PG_URL is not set in CI");
            eprintln!("skipped: LEXICA_TEST_PG_URL is not set (run tests/run-all.sh)");
            return;
        };
        let mut conn = PgConnection::connect(&admin_url).await.unwrap();
        let table = format!("lexica_read_only_probe_{}", uuid::Uuid::new_v4().simple());
        let ddl = format!("CREATE TABLE {table} (x int)");
        sqlx::raw_sql(sqlx::AssertSqlSafe(ddl)).execute(&mut conn).await.unwrap();
        sqlx::query("SET default_transaction_read_only = off").execute(&mut conn).await.unwrap();

        let mut tx = conn.begin().await.unwrap();
        let plan = Plan {
            backend: lexica_query::Backend::Postgres,
            sql: format!(
                "INSERT INTO {table} (x) VALUES (1)
                 RETURNING 1::bigint, ''::text, NULL::text, ''::text, NULL::text, NULL::text, NULL::text"
            ),
            binds: Vec::new(),
            needs_check: false,
            check_reasons: Vec::new(),
            clauses: Vec::new(),
            exclusion_needs_check: false,
            paragraph_filter: String::new(),
            paragraph_words: lexica_query::ParagraphWords::default(),
        };
        let refused = {
            let mut reads = SourceConn::Postgres(&mut tx);
            reads.candidates(&plan).await
        };
        let error = refused.expect_err("the write went through");
        let code = error.as_database_error().and_then(|e| e.code()).map(|c| c.into_owned());
        assert_eq!(code.as_deref(), Some("25006"), "{error}");
        tx.rollback().await.unwrap();

        let count = format!("SELECT count(*) FROM {table}");
        let written: i64 = sqlx::query_scalar(sqlx::AssertSqlSafe(count)).fetch_one(&mut conn).await.unwrap();
        assert_eq!(written, 0);
        let drop = format!("DROP TABLE {table}");
        sqlx::raw_sql(sqlx::AssertSqlSafe(drop)).execute(&mut conn).await.unwrap();
    }
}
