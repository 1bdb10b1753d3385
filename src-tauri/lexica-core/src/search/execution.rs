//! One source's part of a search: `pending → running →` exactly one final state, always.
//!
//! The execution's deadline is the earlier of the search's deadline and the source's own query
//! timeout. PostgreSQL enforces it too: the query runs in a transaction with `SET LOCAL
//! statement_timeout` equal to the time left, and a cancel (or a deadline hit while waiting on
//! the client side) sends `pg_cancel_backend` for the query's backend, so nothing keeps running
//! on the server. SQLite queries are interrupted through a progress handler. Either way the
//! query's future is then awaited briefly so its connection goes back to the pool clean.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI32, Ordering};
use std::time::{Duration, Instant};

use lexica_query::{BindValue, Document, Plan, Query, Ranking};
use sqlx::{Acquire, Row};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::score::{OpinionText, rank_cd};
use super::snippet;
use super::{EventSink, Hit, HitSource, MAX_RESULTS, SearchEvent, SourceOutcome};
use crate::models::{DataSource, ExecutionId, ExecutionOutcome, ExecutionStatus};
use crate::sources::{SourcePool, connect};
use crate::{Error, Lexica, queries};

/// Candidates fetched when the plan needs the exact check (the checker drops some).
pub const CHECK_CANDIDATES: u32 = 1_000;
/// Candidates an SQLite source returns for re-scoring on the common scale (see `score`).
pub const RESCORE_CANDIDATES: u32 = 200;
/// How long a stopped query may take to wind down before its future is dropped.
pub const STOP_GRACE: Duration = Duration::from_secs(2);
/// How often a stopped PostgreSQL query is cancelled again while it winds down.
const CANCEL_RETRY: Duration = Duration::from_millis(200);

/// What every execution of one search shares.
pub(super) struct Shared {
    pub query: Query,
    pub filters: lexica_query::Filters,
    pub cancel: CancellationToken,
    pub deadline: Instant,
    pub events: EventSink,
}

/// Why an execution stopped before its query finished.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Stop {
    Cancelled,
    TimedOut,
}

/// Lets the deadline and the cancel reach a query already running: the SQLite progress handler
/// polls `stop`; PostgreSQL's backend pid is kept for `pg_cancel_backend`.
#[derive(Debug, Default)]
struct StopSignal {
    stop: AtomicBool,
    pg_backend: AtomicI32,
    /// The pool the query runs on, published by the worker, so the stopper never has to go back
    /// to the registry (whose one-time probe the stopped worker may be the one driving).
    pg_pool: std::sync::Mutex<Option<sqlx::PgPool>>,
}

/// Runs one execution to its final state (recorded and reported) and returns its hits.
pub(super) async fn run(
    lexica: &Lexica,
    shared: &Shared,
    source: DataSource,
    execution_id: ExecutionId,
) -> (SourceOutcome, Vec<Hit>) {
    let span = tracing::info_span!(
        "source_execution",
        execution_id = %execution_id,
        source = %source.name,
        status = tracing::field::Empty,
        count = tracing::field::Empty,
        ms = tracing::field::Empty,
    );
    async {
        let started = Instant::now();
        let outcome_of = |status, count: usize, error: Option<String>| SourceOutcome {
            source_id: source.id,
            name: source.name.clone(),
            status,
            results_count: u32::try_from(count).unwrap_or(u32::MAX),
            execution_time_ms: elapsed_ms(started),
            error,
        };
        // A search cancelled (or out of time) before this source started never runs it.
        let early = if shared.cancel.is_cancelled() {
            Some(Stop::Cancelled)
        } else if Instant::now() >= shared.deadline {
            Some(Stop::TimedOut)
        } else {
            None
        };
        let (status, hits, error) = match early {
            Some(stop) => (final_status(stop), Vec::new(), stop_message(stop, &source)),
            None => {
                if let Err(e) =
                    record(lexica, execution_id, ExecutionStatus::Running, &ExecutionOutcome::default()).await
                {
                    tracing::error!(error = %e, "could not mark the execution running");
                }
                (shared.events)(SearchEvent::SourceRunning { source_id: source.id });
                let own_deadline = shared.deadline.min(Instant::now() + source.query_timeout());
                match execute(lexica, shared, &source, own_deadline).await {
                    Ok(hits) => (ExecutionStatus::Completed, hits, None),
                    Err(Ended::Stopped(stop)) => (final_status(stop), Vec::new(), stop_message(stop, &source)),
                    Err(Ended::Failed(message)) => (ExecutionStatus::Failed, Vec::new(), Some(message)),
                }
            }
        };
        let outcome = outcome_of(status, hits.len(), error);
        let stored = ExecutionOutcome {
            results_count: Some(outcome.results_count),
            execution_time_ms: Some(outcome.execution_time_ms),
            error_message: outcome.error.clone(),
        };
        if let Err(e) = record(lexica, execution_id, status, &stored).await {
            tracing::error!(error = %e, "could not record the execution's end");
        }
        let span = tracing::Span::current();
        span.record("status", status.as_str());
        span.record("count", outcome.results_count);
        span.record("ms", outcome.execution_time_ms);
        tracing::info!("source execution finished");
        (shared.events)(SearchEvent::SourceFinished { outcome: outcome.clone(), hits: hits.clone() });
        (outcome, hits)
    }
    .instrument(span)
    .await
}

/// Closes an execution whose task was lost (it panicked): `failed`, never left `running`.
pub(super) async fn close_lost(
    lexica: &Lexica,
    source: &DataSource,
    execution_id: ExecutionId,
) -> (SourceOutcome, Vec<Hit>) {
    let message = "Lexica hit an internal error while searching this source; please report it".to_string();
    let stored = ExecutionOutcome { error_message: Some(message.clone()), ..ExecutionOutcome::default() };
    for status in [ExecutionStatus::Failed] {
        let _ = record(lexica, execution_id, status, &stored).await;
    }
    let outcome = SourceOutcome {
        source_id: source.id,
        name: source.name.clone(),
        status: ExecutionStatus::Failed,
        results_count: 0,
        execution_time_ms: 0,
        error: Some(message),
    };
    (outcome, Vec::new())
}

async fn record(
    lexica: &Lexica,
    id: ExecutionId,
    to: ExecutionStatus,
    outcome: &ExecutionOutcome,
) -> crate::Result<()> {
    queries::search_executions::transition(lexica.db(), id, to, outcome).await
}

fn final_status(stop: Stop) -> ExecutionStatus {
    match stop {
        Stop::Cancelled => ExecutionStatus::Cancelled,
        Stop::TimedOut => ExecutionStatus::TimedOut,
    }
}

fn stop_message(stop: Stop, source: &DataSource) -> Option<String> {
    match stop {
        Stop::Cancelled => None,
        Stop::TimedOut => Some(format!(
            "no answer before the deadline (the source's query timeout is {} ms); the query was cancelled on the server",
            source.query_timeout_ms
        )),
    }
}

fn elapsed_ms(since: Instant) -> u32 {
    u32::try_from(since.elapsed().as_millis()).unwrap_or(u32::MAX)
}

enum Ended {
    Stopped(Stop),
    Failed(String),
}

/// Runs the query under the deadline and the cancel, stopping it on the server when either wins.
async fn execute(lexica: &Lexica, shared: &Shared, source: &DataSource, deadline: Instant) -> Result<Vec<Hit>, Ended> {
    let signal = Arc::new(StopSignal::default());
    let work = query_source(lexica, shared, source, deadline, signal.clone());
    tokio::pin!(work);
    let stop = tokio::select! {
        result = &mut work => return result,
        () = shared.cancel.cancelled() => Stop::Cancelled,
        () = tokio::time::sleep_until(deadline.into()) => Stop::TimedOut,
    };
    signal.stop.store(true, Ordering::SeqCst);
    // PostgreSQL: cancel the backend, again every few hundred milliseconds until the query's future
    // returns. Repeating closes a race: a cancel that reaches an idle backend is ignored, and the
    // query may have been sent just after. (The worker also checks `stop` before sending it.) The
    // query's future keeps being polled meanwhile, so whatever it was doing (opening the pool,
    // waiting for a connection) finishes or notices the stop.
    let pool = signal.pg_pool.lock().ok().and_then(|p| p.clone());
    let grace_ends = Instant::now() + STOP_GRACE;
    loop {
        let pid = signal.pg_backend.load(Ordering::SeqCst);
        let pool = pool.clone().or_else(|| signal.pg_pool.lock().ok().and_then(|p| p.clone()));
        if let (Some(pool), true) = (&pool, pid != 0) {
            cancel_backend(pool, pid).await;
        }
        match tokio::time::timeout(CANCEL_RETRY, &mut work).await {
            Ok(_) => break,
            Err(_) if Instant::now() < grace_ends => continue,
            // Still not back: drop it. The server-side statement_timeout bounds whatever is left.
            Err(_) => break,
        }
    }
    Err(Ended::Stopped(stop))
}

/// `pg_cancel_backend` through a fresh connection (the pool may be full of busy ones).
async fn cancel_backend(pool: &sqlx::PgPool, pid: i32) {
    use sqlx::{ConnectOptions, Connection};
    match tokio::time::timeout(connect::CONNECT_TIMEOUT, pool.connect_options().connect()).await {
        Ok(Ok(mut conn)) => {
            if let Err(e) = sqlx::query("SELECT pg_cancel_backend($1)").bind(pid).execute(&mut conn).await {
                tracing::warn!(error = %e, pid, "could not cancel the source query on the server");
            }
            let _ = conn.close().await;
        }
        Ok(Err(e)) => tracing::warn!(error = %e, pid, "could not connect to cancel the source query"),
        Err(_) => tracing::warn!(pid, "timed out connecting to cancel the source query"),
    }
}

/// The query itself: plan, candidates, exact check, hit details and snippets.
async fn query_source(
    lexica: &Lexica,
    shared: &Shared,
    source: &DataSource,
    deadline: Instant,
    signal: Arc<StopSignal>,
) -> Result<Vec<Hit>, Ended> {
    let pool = lexica.source_pool(source).await.map_err(|e| Ended::Failed(strip(&e, source)))?;
    let url = crate::sources::configured_url(source).map_err(|e| Ended::Failed(strip(&e, source)))?;
    // A query the server or SQLite stopped because time ran out (or the user cancelled) ends
    // `timed_out` / `cancelled`, not `failed`, whichever side noticed first.
    let describe = |e: sqlx::Error| {
        if shared.cancel.is_cancelled() {
            return Ended::Stopped(Stop::Cancelled);
        }
        let stopped_by_time = match &e {
            sqlx::Error::Database(db) => db.code().as_deref() == Some("57014") || db.message().contains("interrupted"),
            sqlx::Error::PoolTimedOut => false,
            _ => false,
        };
        if stopped_by_time || Instant::now() >= deadline {
            return Ended::Stopped(Stop::TimedOut);
        }
        Ended::Failed(connect::describe_query_error(&e, &url, &source.name, true))
    };
    match pool {
        SourcePool::Postgres(pool) => {
            if let Ok(mut slot) = signal.pg_pool.lock() {
                *slot = Some(pool.clone());
            }
            if signal.stop.load(Ordering::SeqCst) {
                return Err(Ended::Stopped(Stop::Cancelled));
            }
            let mut conn = pool.acquire().await.map_err(describe)?;
            let pid: i32 =
                sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut *conn).await.map_err(describe)?;
            signal.pg_backend.store(pid, Ordering::SeqCst);
            // Checked after publishing the pid: either this sees the stop, or the stopper sees the pid.
            if signal.stop.load(Ordering::SeqCst) {
                return Err(Ended::Stopped(Stop::Cancelled));
            }
            let mut tx = conn.begin().await.map_err(describe)?;
            let left = deadline.saturating_duration_since(Instant::now()).as_millis().max(1);
            // SET cannot take a bind parameter; the value is a number Lexica computed.
            let set = format!("SET LOCAL statement_timeout = {left}");
            sqlx::query(sqlx::AssertSqlSafe(set)).execute(&mut *tx).await.map_err(describe)?;
            let hits = postgres_hits(&mut tx, shared, source).await.map_err(describe)?;
            tx.commit().await.map_err(describe)?;
            Ok(hits)
        }
        SourcePool::Sqlite(pool) => {
            let mut conn = pool.acquire().await.map_err(describe)?;
            {
                let flag = signal.clone();
                let mut handle = conn.lock_handle().await.map_err(describe)?;
                // Polled every few thousand VM steps; returning false interrupts the statement.
                handle.set_progress_handler(4_000, move || {
                    !flag.stop.load(Ordering::Relaxed) && Instant::now() < deadline
                });
            }
            let result = sqlite_hits(&mut conn, shared, source).await;
            if let Ok(mut handle) = conn.lock_handle().await {
                handle.remove_progress_handler();
            }
            result.map_err(describe)
        }
    }
}

fn strip(error: &Error, source: &DataSource) -> String {
    let text = error.to_string();
    text.strip_prefix(&format!("source `{}`: ", source.name)).map(str::to_string).unwrap_or(text)
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

/// Candidate limit: the top 100, or more when the checker or the re-scoring will drop some.
fn candidate_limit(plan: &Plan, rescoring: bool) -> u32 {
    let base = u32::try_from(MAX_RESULTS).unwrap_or(100);
    if plan.needs_check {
        CHECK_CANDIDATES
    } else if rescoring {
        RESCORE_CANDIDATES.max(base)
    } else {
        base
    }
}

/// The row fields of a hit before snippets (the same columns in both kinds of source).
#[derive(sqlx::FromRow)]
struct HitRow {
    id: i64,
    case_name: String,
    citation: Option<String>,
    court: String,
    jurisdiction: Option<String>,
    decided_on: Option<String>,
    docket_number: Option<String>,
}

async fn postgres_hits(
    tx: &mut sqlx::Transaction<'_, sqlx::Postgres>,
    shared: &Shared,
    source: &DataSource,
) -> Result<Vec<Hit>, sqlx::Error> {
    let mut filters = shared.filters.clone();
    let probe = lexica_query::postgres::compile(&shared.query, &filters);
    filters.limit = candidate_limit(&probe, false);
    let plan = lexica_query::postgres::compile(&shared.query, &filters);
    let rows = bind_all!(sqlx::query(sqlx::AssertSqlSafe(plan.sql.clone())), &plan.binds).fetch_all(&mut **tx).await?;
    let mut scored: Vec<(i64, f64)> = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let score: f64 = row.try_get(1)?;
        if plan.needs_check {
            let f = sqlx::query(plan.check_fields_sql).bind(id).fetch_one(&mut **tx).await?;
            let paragraphs: Vec<String> =
                sqlx::query_scalar(plan.check_paragraphs_sql).bind(id).fetch_all(&mut **tx).await?;
            let (case_name, citation, court, decided): (String, Option<String>, String, Option<String>) =
                (f.try_get(0)?, f.try_get(1)?, f.try_get(2)?, f.try_get(3)?);
            let refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
            let doc = Document {
                case_name: &case_name,
                citation: citation.as_deref(),
                court: &court,
                decided_on: decided.as_deref(),
                paragraphs: &refs,
            };
            if !lexica_query::check(&shared.query, &doc) {
                continue;
            }
        }
        scored.push((id, score));
        if scored.len() == MAX_RESULTS {
            break;
        }
    }
    let ids: Vec<i64> = scored.iter().map(|(id, _)| *id).collect();
    let rows: Vec<HitRow> = sqlx::query_as(
        "SELECT id, case_name, citation, court, jurisdiction, decided_on::text AS decided_on, docket_number
         FROM opinions WHERE id = ANY($1)",
    )
    .bind(&ids)
    .fetch_all(&mut **tx)
    .await?;
    let terms = snippet::body_terms(&shared.query);
    let paragraphs: Vec<(i64, String)> = if terms.is_empty() {
        sqlx::query_as(
            "SELECT opinion_id, body FROM opinion_paragraphs WHERE opinion_id = ANY($1) AND paragraph_no = 0",
        )
        .bind(&ids)
        .fetch_all(&mut **tx)
        .await?
    } else {
        sqlx::query_as(
            "SELECT DISTINCT ON (opinion_id) opinion_id, body FROM opinion_paragraphs
             WHERE opinion_id = ANY($1) AND search_vector @@ $2::tsquery ORDER BY opinion_id, paragraph_no",
        )
        .bind(&ids)
        .bind(tsquery_of(&terms))
        .fetch_all(&mut **tx)
        .await?
    };
    Ok(assemble(source, &scored, rows, paragraphs, &terms))
}

async fn sqlite_hits(
    conn: &mut sqlx::SqliteConnection,
    shared: &Shared,
    source: &DataSource,
) -> Result<Vec<Hit>, sqlx::Error> {
    let rescoring = shared.query.ranking == Ranking::Relevance;
    let mut filters = shared.filters.clone();
    let probe = lexica_query::sqlite::compile(&shared.query, &filters);
    filters.limit = candidate_limit(&probe, rescoring);
    let plan = lexica_query::sqlite::compile(&shared.query, &filters);
    let rows = bind_all!(sqlx::query(sqlx::AssertSqlSafe(plan.sql.clone())), &plan.binds).fetch_all(&mut *conn).await?;
    let rank_terms = shared.query.rank_terms();
    let mut scored: Vec<(i64, f64)> = Vec::with_capacity(rows.len());
    for row in rows {
        let id: i64 = row.try_get(0)?;
        let mut score: f64 = row.try_get(1)?;
        let needs_text = plan.needs_check || rescoring;
        if needs_text {
            let f = sqlx::query("SELECT case_name, citation, court, decided_on, body FROM opinions WHERE id = ?1")
                .bind(id)
                .fetch_one(&mut *conn)
                .await?;
            let (case_name, citation, court, decided, body): (String, Option<String>, String, Option<String>, String) =
                (f.try_get(0)?, f.try_get(1)?, f.try_get(2)?, f.try_get(3)?, f.try_get(4)?);
            if plan.needs_check {
                let paragraphs: Vec<String> =
                    sqlx::query_scalar(plan.check_paragraphs_sql).bind(id).fetch_all(&mut *conn).await?;
                let refs: Vec<&str> = paragraphs.iter().map(String::as_str).collect();
                let doc = Document {
                    case_name: &case_name,
                    citation: citation.as_deref(),
                    court: &court,
                    decided_on: decided.as_deref(),
                    paragraphs: &refs,
                };
                if !lexica_query::check(&shared.query, &doc) {
                    continue;
                }
            }
            if rescoring {
                let text =
                    OpinionText { case_name: &case_name, citation: citation.as_deref(), court: &court, body: &body };
                score = rank_cd(&rank_terms, &text);
            }
        }
        scored.push((id, score));
    }
    // Re-scored candidates are re-ordered on the common scale before the cut (ties by id).
    scored.sort_by(|a, b| b.1.total_cmp(&a.1).then(a.0.cmp(&b.0)));
    scored.truncate(MAX_RESULTS);
    let ids_json =
        serde_json::to_string(&scored.iter().map(|(id, _)| *id).collect::<Vec<_>>()).unwrap_or_else(|_| "[]".into());
    let rows: Vec<HitRow> = sqlx::query_as(
        "SELECT id, case_name, citation, court, jurisdiction, decided_on, docket_number FROM opinions
         WHERE id IN (SELECT value FROM json_each(?1))",
    )
    .bind(&ids_json)
    .fetch_all(&mut *conn)
    .await?;
    let terms = snippet::body_terms(&shared.query);
    let paragraphs: Vec<(i64, String)> = if terms.is_empty() {
        sqlx::query_as(
            "SELECT opinion_id, body FROM opinion_paragraphs WHERE paragraph_no = 0 AND opinion_id IN (SELECT value FROM json_each(?1))",
        )
        .bind(&ids_json)
        .fetch_all(&mut *conn)
        .await?
    } else {
        let all: Vec<(i64, String)> = sqlx::query_as(
            "SELECT op.opinion_id, op.body FROM opinion_paragraphs op
             WHERE op.opinion_id IN (SELECT value FROM json_each(?1))
               AND op.id IN (SELECT rowid FROM paragraphs_fts WHERE paragraphs_fts MATCH ?2)
             ORDER BY op.opinion_id, op.paragraph_no",
        )
        .bind(&ids_json)
        .bind(fts_match_of(&terms))
        .fetch_all(&mut *conn)
        .await?;
        let mut first: Vec<(i64, String)> = Vec::new();
        for (id, body) in all {
            if first.last().is_none_or(|(last, _)| *last != id) {
                first.push((id, body));
            }
        }
        first
    };
    Ok(assemble(source, &scored, rows, paragraphs, &terms))
}

/// An OR of the highlight words for one backend's full-text syntax (the forms are
/// Lexica-normalized words, alphanumeric only, and the result is bound as a parameter).
fn any_of(
    words: &[lexica_query::HighlightWord],
    exact: fn(&str) -> String,
    prefix: fn(&str) -> String,
    or: &str,
) -> String {
    let mut parts = Vec::new();
    for w in words {
        if w.prefix {
            parts.extend(w.forms.first().map(|f| prefix(f)));
        } else {
            parts.extend(w.forms.iter().map(|f| exact(f)));
        }
    }
    parts.join(or)
}

fn tsquery_of(words: &[lexica_query::HighlightWord]) -> String {
    any_of(words, |f| format!("'{f}'"), |f| format!("'{f}':*"), " | ")
}

fn fts_match_of(words: &[lexica_query::HighlightWord]) -> String {
    any_of(words, |f| format!("\"{f}\""), |f| format!("\"{f}\"*"), " OR ")
}

/// Hits in score order with their details and snippets.
fn assemble(
    source: &DataSource,
    scored: &[(i64, f64)],
    rows: Vec<HitRow>,
    paragraphs: Vec<(i64, String)>,
    terms: &[lexica_query::HighlightWord],
) -> Vec<Hit> {
    let mut by_id: std::collections::HashMap<i64, HitRow> = rows.into_iter().map(|r| (r.id, r)).collect();
    let snippets: std::collections::HashMap<i64, String> = paragraphs.into_iter().collect();
    let mut hits = Vec::with_capacity(scored.len());
    for (id, score) in scored {
        let Some(row) = by_id.remove(id) else { continue };
        let snippet = snippets.get(id).map(|p| snippet::build(p, terms)).unwrap_or_default();
        hits.push(Hit {
            sources: vec![HitSource { source_id: source.id, source_name: source.name.clone(), opinion_id: *id }],
            case_name: row.case_name,
            citation: row.citation.filter(|c| !c.is_empty()),
            court: row.court,
            jurisdiction: row.jurisdiction,
            decided_on: row.decided_on,
            docket_number: row.docket_number.filter(|d| !d.is_empty()),
            snippet,
            score: *score,
        });
    }
    hits
}
