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

use lexica_query::{Backend, Concept, Conjunction, HighlightWord, Query};
use sqlx::Acquire;
use tokio_util::sync::CancellationToken;
use tracing::Instrument;

use super::retrieve::{Retrieved, Step, Stopped, ranked_hits};
use super::source::SourceConn;
use super::stats::{Exchange, Patterns};
use super::{EventSink, Hit, MatchCount, SearchEvent, SourceOutcome, snippet};
use crate::models::{DataSource, ExecutionId, ExecutionOutcome, ExecutionStatus};
use crate::sources::{SourcePool, connect};
use crate::{Error, Lexica, queries};

/// Most candidates one source returns for ranking. Every match is ranked (the score is computed
/// after retrieval, RANKING.md), so this is a safety cap, reached only by sources far larger than
/// the ones this retrieval is built for; past it the ranking is over the first matches found
/// and a warning is logged.
pub const CANDIDATE_CAP: u32 = 200_000;
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
    /// The query's scoring units and their word patterns (the statistics exchanged).
    pub concepts: Vec<Concept>,
    pub patterns: Patterns,
    pub highlight: Vec<HighlightWord>,
    /// Set when near misses are wanted and the query is a conjunction at its top level.
    pub conjunction: Option<Conjunction>,
    pub exchange: Arc<Exchange>,
    /// Rank every match, never the fast path (`SearchRequest::exhaustive`).
    pub exhaustive: bool,
    /// Who searches: whose sign-in each source's connection uses.
    pub actor: crate::models::UserId,
}

impl Shared {
    // One call site (the search's plan); a parameter struct would only rename these.
    #[expect(clippy::too_many_arguments)]
    pub fn new(
        query: Query,
        mut filters: lexica_query::Filters,
        Ranking { near_misses, exhaustive }: Ranking,
        cancel: CancellationToken,
        deadline: Instant,
        events: EventSink,
        sources: usize,
        actor: crate::models::UserId,
    ) -> Shared {
        let concepts = super::score::scoring_concepts(&query);
        let patterns = Patterns::of(&concepts);
        let conjunction = if near_misses { query.conjunction() } else { None };
        filters.near_misses = conjunction.as_ref().map_or(0, |j| super::rank::depth(j.clauses.len()));
        let exchange = Exchange::new(sources, patterns.patterns.len());
        let highlight = snippet::body_terms(&query);
        Shared {
            query,
            filters,
            cancel,
            deadline,
            events,
            concepts,
            patterns,
            highlight,
            conjunction,
            exchange,
            exhaustive,
            actor,
        }
    }
}

/// How a search wants its sources ranked (from its request).
#[derive(Debug, Clone, Copy, Default)]
pub(super) struct Ranking {
    /// Near-miss tiers, for a conjunction at the top level.
    pub near_misses: bool,
    /// Every match ranked, never the fast path.
    pub exhaustive: bool,
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
        let mut sign_in = None;
        let outcome_of =
            |status, hits: &[Hit], matches: Option<MatchCount>, error: Option<String>, sign_in| SourceOutcome {
                source_id: source.id,
                name: source.name.clone(),
                status,
                results_count: u32::try_from(hits.iter().filter(|h| h.tier == 0).count()).unwrap_or(u32::MAX),
                near_misses: u32::try_from(hits.iter().filter(|h| h.tier > 0).count()).unwrap_or(u32::MAX),
                matches,
                execution_time_ms: elapsed_ms(started),
                error,
                sign_in,
            };
        // A search cancelled (or out of time) before this source started never runs it.
        let early = if shared.cancel.is_cancelled() {
            Some(Stop::Cancelled)
        } else if Instant::now() >= shared.deadline {
            Some(Stop::TimedOut)
        } else {
            None
        };
        let (status, hits, matches, error) = match early {
            Some(stop) => (final_status(stop), Vec::new(), None, stop_message(stop, &source)),
            None => {
                if let Err(e) =
                    record(lexica, execution_id, ExecutionStatus::Running, &ExecutionOutcome::default()).await
                {
                    tracing::error!(error = %e, "could not mark the execution running");
                }
                (shared.events)(SearchEvent::SourceRunning { source_id: source.id });
                let own_deadline = shared.deadline.min(Instant::now() + source.query_timeout());
                match execute(lexica, shared, &source, own_deadline).await {
                    Ok(found) => (ExecutionStatus::Completed, found.hits, found.matches, None),
                    Err(Ended::Stopped(stop)) => (final_status(stop), Vec::new(), None, stop_message(stop, &source)),
                    Err(Ended::Failed(message)) => (ExecutionStatus::Failed, Vec::new(), None, Some(message)),
                    Err(Ended::SignIn(request, message)) => {
                        sign_in = Some(request);
                        (ExecutionStatus::Failed, Vec::new(), None, Some(message))
                    }
                }
            }
        };
        let outcome = outcome_of(status, &hits, matches, error, sign_in);
        let stored = ExecutionOutcome {
            results_count: Some(outcome.results_count),
            matches: outcome.matches,
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
        near_misses: 0,
        matches: None,
        execution_time_ms: 0,
        error: Some(message),
        sign_in: None,
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
    /// The user's own sign-in is needed (what to ask for, and the sentence for the history).
    SignIn(crate::sign_in::SignInRequest, String),
}

/// Runs the query under the deadline and the cancel, stopping it on the server when either wins.
async fn execute(lexica: &Lexica, shared: &Shared, source: &DataSource, deadline: Instant) -> Result<Retrieved, Ended> {
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

/// The query itself: statistics, candidates, ranking, hits.
async fn query_source(
    lexica: &Lexica,
    shared: &Shared,
    source: &DataSource,
    deadline: Instant,
    signal: Arc<StopSignal>,
) -> Result<Retrieved, Ended> {
    // Reports "nothing" to the statistics exchange if this returns early, so no source waits on it.
    let mut reporter = shared.exchange.reporter();
    let stopped: Stopped = {
        let (signal, deadline) = (signal.clone(), shared.deadline);
        Arc::new(move || signal.stop.load(Ordering::Relaxed) || Instant::now() >= deadline)
    };
    let pool = lexica.source_pool_as(shared.actor, source).await.map_err(|e| match e {
        Error::SignInNeeded { request, .. } => Ended::SignIn(request, strip(&e, source)),
        other => Ended::Failed(strip(&other, source)),
    })?;
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
                return Err(Ended::Stopped(stop_cause(shared)));
            }
            let mut conn = pool.acquire().await.map_err(describe)?;
            let pid: i32 =
                sqlx::query_scalar("SELECT pg_backend_pid()").fetch_one(&mut *conn).await.map_err(describe)?;
            signal.pg_backend.store(pid, Ordering::SeqCst);
            // Checked after publishing the pid: either this sees the stop, or the stopper sees the pid.
            if signal.stop.load(Ordering::SeqCst) {
                return Err(Ended::Stopped(stop_cause(shared)));
            }
            let mut tx = conn.begin().await.map_err(describe)?;
            let left = deadline.saturating_duration_since(Instant::now()).as_millis().max(1);
            // SET cannot take a bind parameter; the value is a number Lexica computed.
            let set = format!("SET LOCAL statement_timeout = {left}");
            sqlx::query(sqlx::AssertSqlSafe(set)).execute(&mut *tx).await.map_err(describe)?;
            let found = {
                let mut reads = SourceConn::Postgres(&mut tx);
                ranked_hits(&mut reads, Backend::Postgres, shared, source, stopped, &mut reporter).await.map_err(
                    |e| match e {
                        Step::Read(e) => describe(e),
                        Step::Stopped => Ended::Stopped(stop_cause(shared)),
                    },
                )?
            };
            tx.commit().await.map_err(describe)?;
            Ok(found)
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
            let result = {
                let mut reads = SourceConn::Sqlite(&mut conn);
                ranked_hits(&mut reads, Backend::Sqlite, shared, source, stopped, &mut reporter).await
            };
            if let Ok(mut handle) = conn.lock_handle().await {
                handle.remove_progress_handler();
            }
            result.map_err(|e| match e {
                Step::Read(e) => describe(e),
                Step::Stopped => Ended::Stopped(stop_cause(shared)),
            })
        }
    }
}

/// Why the ranking's stop check fired. It fires on the stop signal (set once the search's cancel
/// or deadline won, and then this answer is dropped) or on the search's deadline by itself, which
/// can come first: the ranking polls the clock between candidates and may see the deadline pass
/// before the timer in `execute` fires. Only the user's cancel makes it `cancelled`.
fn stop_cause(shared: &Shared) -> Stop {
    if shared.cancel.is_cancelled() { Stop::Cancelled } else { Stop::TimedOut }
}

fn strip(error: &Error, source: &DataSource) -> String {
    let text = error.to_string();
    text.strip_prefix(&format!("source `{}`: ", source.name)).map(str::to_string).unwrap_or(text)
}
