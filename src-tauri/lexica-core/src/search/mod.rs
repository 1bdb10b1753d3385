//! Searching every source a user may use, in parallel, with each source's execution tracked
//! from `pending` to exactly one final state, results streamed as sources answer, and one
//! merged list at the end.
//!
//! # Layout
//! - this module: the request, events, hits and summary types, and [`Lexica::search`], which
//!   plans the search, records it, runs the executions concurrently and merges.
//! - [`execution`]: one source's execution: its lifecycle, deadline and server-side
//!   cancellation, and the steps of its query (statistics, candidates, ranking).
//! - [`source`]: every read against an opinion source, PostgreSQL and SQLite behind one face.
//! - [`stats`]: corpus statistics shared by the sources of one search.
//! - [`score`]: BM25F, one relevance scale across every source.
//! - [`rank`]: exact check, near-miss tiers, score and snippet of each candidate.
//! - [`pipeline`]: candidates' paragraphs read while the previous ones are ranked.
//! - [`merge`]: deduplication by citation, deterministic ordering (tier, then the chosen sort),
//!   the top 100.
//! - [`snippet`]: highlighted snippets that show why an opinion matched.
//! - [`citation`]: citation normalization with the reporters database.
//! - [`reader`]: one opinion, whole, with the search's terms marked.
//! - [`export`]: results as CSV.

pub mod citation;
mod execution;
pub mod export;
pub mod merge;
mod pipeline;
mod rank;
pub mod reader;
mod retrieve;
pub mod score;
pub mod snippet;
mod source;
pub mod stats;
mod topk;

use std::sync::Arc;
use std::time::{Duration, Instant};

use serde::{Deserialize, Serialize};
use tokio_util::sync::CancellationToken;
use tracing::Instrument;
use ts_rs::TS;

use crate::lexica::require_admin_now;
use crate::models::{DataSource, ExecutionId, ExecutionStatus, Search, SearchId, SearchMode, SourceId, User};
use crate::{Error, Lexica, Result, queries};

pub use snippet::SnippetPart;

/// A whole search's deadline unless the caller gives one: every execution still running then
/// ends `timed_out`, and its query is cancelled on the server.
pub const DEFAULT_DEADLINE: Duration = Duration::from_secs(30);
/// Hits each source returns and hits in the merged list. Each source must return its own top 100
/// for the merged top 100 to be right.
pub const MAX_RESULTS: usize = 100;

/// What to search for, where, and how to order it.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SearchRequest {
    pub query: String,
    pub mode: SearchModeInput,
    /// Names of sources to search; empty means every source the user may search.
    #[serde(default)]
    pub sources: Vec<String>,
    #[serde(default)]
    pub filters: SearchFilters,
    #[serde(default)]
    pub sort: SortOrder,
    /// Overrides [`DEFAULT_DEADLINE`] (milliseconds).
    #[serde(default)]
    #[ts(optional)]
    pub deadline_ms: Option<u32>,
    /// Boolean mode: after the exact matches, list the opinions that satisfy all top-level
    /// clauses but one (then but two), each naming what it lacks. On unless turned off.
    #[serde(default = "near_misses_default")]
    #[ts(optional)]
    pub near_misses: Option<bool>,
    /// Rank every match of every source, however many (slower on large sources), instead of
    /// the fast path's best candidates (see `retrieve.rs`). Off unless asked for.
    #[serde(default)]
    #[ts(optional)]
    pub exhaustive: Option<bool>,
}

fn near_misses_default() -> Option<bool> {
    Some(true)
}

impl SearchRequest {
    /// Whether near misses are wanted (the default).
    pub fn wants_near_misses(&self) -> bool {
        self.near_misses.unwrap_or(true)
    }
}

/// [`SearchMode`] with a default, for requests.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum SearchModeInput {
    #[default]
    Boolean,
    Statements,
}

impl From<SearchModeInput> for SearchMode {
    fn from(m: SearchModeInput) -> SearchMode {
        match m {
            SearchModeInput::Boolean => SearchMode::Boolean,
            SearchModeInput::Statements => SearchMode::Statements,
        }
    }
}

/// Restrictions chosen outside the query text.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct SearchFilters {
    /// Court names as the sources store them (any of them matches); empty: any court.
    #[serde(default)]
    pub courts: Vec<String>,
    /// `federal` or two-letter state codes (any matches); empty: any.
    #[serde(default)]
    pub jurisdictions: Vec<String>,
    /// Decided on or after, `YYYY-MM-DD`.
    #[serde(default)]
    #[ts(optional)]
    pub from: Option<String>,
    /// Decided on or before, `YYYY-MM-DD`.
    #[serde(default)]
    #[ts(optional)]
    pub to: Option<String>,
}

#[derive(Debug, Clone, Copy, Default, PartialEq, Eq, Serialize, Deserialize, TS)]
#[serde(rename_all = "lowercase")]
#[ts(export)]
pub enum SortOrder {
    #[default]
    Relevance,
    Newest,
    Oldest,
}

/// Which source (and which row in it) a hit came from.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct HitSource {
    pub source_id: SourceId,
    pub source_name: String,
    /// The opinion's id in that source (for opening it).
    #[ts(type = "number")]
    pub opinion_id: i64,
}

/// One opinion in the results. Also read back from the UI (export sends the shown hits).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize, TS)]
#[ts(export)]
pub struct Hit {
    /// Every source holding this opinion (several when deduplicated by citation).
    pub sources: Vec<HitSource>,
    pub case_name: String,
    pub citation: Option<String>,
    pub court: String,
    pub jurisdiction: Option<String>,
    /// `YYYY-MM-DD`.
    pub decided_on: Option<String>,
    pub docket_number: Option<String>,
    pub snippet: Vec<SnippetPart>,
    /// Comparable across sources (see [`score`]): higher is better.
    pub score: f64,
    /// 0 for an exact match; 1 or 2 for a near miss lacking that many top-level clauses.
    #[serde(default)]
    pub tier: u8,
    /// A near miss's missing clauses, in query syntax (`"at home"`).
    #[serde(default)]
    pub missing: Vec<String>,
}

/// A source taking part in a search.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SearchSource {
    pub source_id: SourceId,
    pub execution_id: ExecutionId,
    pub name: String,
    pub display_name: String,
}

/// How one source's execution ended.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SourceOutcome {
    pub source_id: SourceId,
    pub name: String,
    pub status: ExecutionStatus,
    /// Exact matches returned (at most 100).
    pub results_count: u32,
    /// Near misses returned beside them.
    pub near_misses: u32,
    /// How many opinions of the source match the query (its exact meaning), beyond the 100
    /// returned; `None` when the source did not answer.
    pub matches: Option<MatchCount>,
    pub execution_time_ms: u32,
    /// Why it failed or timed out (redacted: never a password or a full URL).
    pub error: Option<String>,
    /// Set when it failed for want of the user's own sign-in: what to ask them for.
    pub sign_in: Option<crate::sign_in::SignInRequest>,
}

/// How many opinions of one source match a query: counted, or, past what is cheap to count,
/// estimated (shown as "≈ 41,000").
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct MatchCount {
    #[ts(type = "number")]
    pub count: u64,
    /// True when `count` is an estimate.
    pub estimated: bool,
}

/// What the search produced, for the summary line.
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, TS)]
#[ts(export)]
pub struct SearchSummary {
    pub search_id: Option<SearchId>,
    /// Hits in the merged list (after deduplication, at most 100).
    pub total_results: u32,
    /// Of those, exact matches and near misses.
    pub exact_results: u32,
    pub near_miss_results: u32,
    pub sources_searched: u32,
    pub completed: u32,
    pub failed: u32,
    pub timed_out: u32,
    pub cancelled: u32,
    /// From the start of the search to the last execution's end.
    pub wall_time_ms: u32,
    /// The executions' times added up (how much parallelism saved: sum / wall).
    pub source_time_ms: u32,
    /// True when any source did not complete: the list may lack its opinions.
    pub partial: bool,
    /// The sources' match counts added up (estimated if any is); `None` when no source reported one.
    pub total_matches: Option<MatchCount>,
}

/// What a search reports while it runs, in this order: `started`; per source `source_running`
/// then `source_finished` (sources interleave); `finished` last.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[serde(tag = "type", rename_all = "snake_case")]
#[ts(export)]
pub enum SearchEvent {
    Started { search_id: SearchId, sources: Vec<SearchSource> },
    SourceRunning { source_id: SourceId },
    SourceFinished { outcome: SourceOutcome, hits: Vec<Hit> },
    Finished { summary: SearchSummary, hits: Vec<Hit> },
}

/// The finished search: the merged list, the summary, and each source's outcome.
#[derive(Debug, Clone, PartialEq, Serialize, TS)]
#[ts(export)]
pub struct SearchOutcome {
    pub search_id: SearchId,
    pub hits: Vec<Hit>,
    pub summary: SearchSummary,
    pub sources: Vec<SourceOutcome>,
}

/// Receives search events as they happen (the app forwards them to a window channel, the CLI
/// prints them). Called from the search's tasks: keep it quick.
pub type EventSink = Arc<dyn Fn(SearchEvent) + Send + Sync>;

impl Lexica {
    /// Runs `request` as `actor` on every source they may search (or the chosen subset),
    /// concurrently, streaming events to `events`; `cancel` stops it at any time. A malformed
    /// query is refused before anything is recorded or sent.
    pub async fn search(
        &self,
        actor: &User,
        request: &SearchRequest,
        cancel: CancellationToken,
        events: EventSink,
    ) -> Result<SearchOutcome> {
        let started = Instant::now();
        let query =
            lexica_query::parse(&request.query, query_mode(request.mode)).map_err(|e| Error::Query(Box::new(e)))?;
        let filters = query_filters(&request.filters)?;
        let sources = self.sources_for(actor, &request.sources).await?;
        let deadline =
            started + request.deadline_ms.map_or(DEFAULT_DEADLINE, |ms| Duration::from_millis(u64::from(ms)));

        // Record the search and a pending execution per source before anything runs.
        let search = Search {
            id: SearchId::new(),
            user_id: actor.id,
            query_text: request.query.clone(),
            mode: request.mode.into(),
            filters: serde_json::json!({
                "filters": request.filters, "sort": request.sort, "sources": request.sources,
            }),
            created_at: chrono::Utc::now(),
        };
        let mut tx = self.db().begin().await?;
        queries::searches::insert(&mut *tx, &search).await?;
        let mut planned = Vec::with_capacity(sources.len());
        for source in sources {
            let execution = queries::search_executions::insert_pending(&mut *tx, search.id, source.id).await?;
            planned.push((source, execution.id));
        }
        tx.commit().await?;

        let span =
            tracing::info_span!("search", search_id = %search.id, user = %actor.username, sources = planned.len());
        async {
            events(SearchEvent::Started {
                search_id: search.id,
                sources: planned
                    .iter()
                    .map(|(s, e)| SearchSource {
                        source_id: s.id,
                        execution_id: *e,
                        name: s.name.clone(),
                        display_name: s.display_name.clone(),
                    })
                    .collect(),
            });
            let near_misses = request.wants_near_misses() && request.mode == SearchModeInput::Boolean;
            let plan = Arc::new(execution::Shared::new(
                query,
                filters,
                execution::Ranking { near_misses, exhaustive: request.exhaustive.unwrap_or(false) },
                cancel,
                deadline,
                events.clone(),
                planned.len(),
                actor.id,
            ));
            let mut tasks = tokio::task::JoinSet::new();
            for (index, (source, execution_id)) in planned.iter().cloned().enumerate() {
                let lexica = self.clone();
                let plan = plan.clone();
                tasks.spawn(async move { (index, execution::run(&lexica, &plan, source, execution_id).await) });
            }
            let mut finished: Vec<Option<(SourceOutcome, Vec<Hit>)>> = vec![None; planned.len()];
            while let Some(joined) = tasks.join_next().await {
                match joined {
                    Ok((index, result)) => finished[index] = Some(result),
                    // A panicking execution is a bug; its row is closed below like any lost one.
                    Err(e) => tracing::error!(error = %e, "a source execution task failed"),
                }
            }
            let mut outcomes = Vec::with_capacity(planned.len());
            let mut per_source = Vec::with_capacity(planned.len());
            for ((source, execution_id), result) in planned.iter().zip(finished) {
                let (outcome, hits) = match result {
                    Some(r) => r,
                    None => execution::close_lost(self, source, *execution_id).await,
                };
                outcomes.push(outcome);
                per_source.push(hits);
            }
            let hits = merge::merge(per_source, request.sort, MAX_RESULTS);
            let summary = summarize(search.id, &outcomes, &hits, started);
            tracing::info!(
                total = summary.total_results,
                completed = summary.completed,
                failed = summary.failed,
                timed_out = summary.timed_out,
                cancelled = summary.cancelled,
                wall_ms = summary.wall_time_ms,
                "search finished"
            );
            events(SearchEvent::Finished { summary: summary.clone(), hits: hits.clone() });
            Ok(SearchOutcome { search_id: search.id, hits, summary, sources: outcomes })
        }
        .instrument(span)
        .await
    }

    /// The sources `actor` may search, narrowed to `names` when given. Naming a source the
    /// user may not search is an error (rather than silently searching less than asked).
    pub async fn sources_for(&self, actor: &User, names: &[String]) -> Result<Vec<DataSource>> {
        let accessible = self.accessible_sources(actor).await?;
        if accessible.is_empty() {
            return Err(Error::Refused(format!(
                "`{}` has no source to search yet; an administrator can grant one with `lexica grants grant {} SOURCE`",
                actor.username, actor.username
            )));
        }
        if names.is_empty() {
            return Ok(accessible);
        }
        let mut chosen = Vec::new();
        for name in names {
            match accessible.iter().find(|s| &s.name == name) {
                Some(s) if !chosen.iter().any(|c: &DataSource| c.id == s.id) => chosen.push(s.clone()),
                Some(_) => {}
                None => {
                    return Err(Error::Refused(format!(
                        "`{name}` is not a source you can search now; `lexica sources list` shows yours"
                    )));
                }
            }
        }
        Ok(chosen)
    }

    /// An administrator's view of any user's accessible sources (the settings window shows it).
    pub async fn sources_searchable_by(&self, actor: &User, username: &str) -> Result<Vec<DataSource>> {
        require_admin_now(self.db(), actor, "viewing another user's sources").await?;
        let user = crate::lexica::find_user(self.db(), username).await?;
        self.accessible_sources(&user).await
    }
}

/// The language's mode for a request's mode.
pub(crate) fn query_mode(mode: SearchModeInput) -> lexica_query::Mode {
    match mode {
        SearchModeInput::Boolean => lexica_query::Mode::Boolean,
        SearchModeInput::Statements => lexica_query::Mode::Statements,
    }
}

/// The request's filters as the compilers take them; bad dates are refused with the field named.
fn query_filters(f: &SearchFilters) -> Result<lexica_query::Filters> {
    let mut errors = crate::models::ValidationErrors::default();
    let mut date = |field: &str, value: &Option<String>| -> Option<lexica_query::Date> {
        let text = value.as_deref()?.trim();
        if text.is_empty() {
            return None;
        }
        let parsed = chrono::NaiveDate::parse_from_str(text, "%Y-%m-%d").ok().and_then(|d| {
            use chrono::Datelike;
            lexica_query::Date::new(d.year(), d.month(), d.day())
        });
        if parsed.is_none() {
            errors.push(field, "must be a date like 2010-06-30");
        }
        parsed
    };
    let from = date("from", &f.from);
    let to = date("to", &f.to);
    errors.into_result()?;
    if let (Some(a), Some(b)) = (from, to)
        && a > b
    {
        let mut e = crate::models::ValidationErrors::default();
        e.push("to", "is before `from`; swap the dates");
        return Err(e.into());
    }
    let decided = (from.is_some() || to.is_some()).then_some(lexica_query::DateRange { from, to });
    let clean = |v: &[String]| v.iter().map(|s| s.trim().to_string()).filter(|s| !s.is_empty()).collect::<Vec<_>>();
    Ok(lexica_query::Filters {
        courts: clean(&f.courts),
        jurisdictions: clean(&f.jurisdictions),
        decided,
        limit: execution::CANDIDATE_CAP,
        near_misses: 0,
        only_ids: None,
        defer_positions: false,
        any_field: false,
    })
}

fn summarize(search_id: SearchId, outcomes: &[SourceOutcome], hits: &[Hit], started: Instant) -> SearchSummary {
    let total = hits.len();
    let exact = hits.iter().filter(|h| h.tier == 0).count();
    let count =
        |s: ExecutionStatus| u32::try_from(outcomes.iter().filter(|o| o.status == s).count()).unwrap_or(u32::MAX);
    let completed = count(ExecutionStatus::Completed);
    SearchSummary {
        search_id: Some(search_id),
        total_results: u32::try_from(total).unwrap_or(u32::MAX),
        exact_results: u32::try_from(exact).unwrap_or(u32::MAX),
        near_miss_results: u32::try_from(total - exact).unwrap_or(u32::MAX),
        sources_searched: u32::try_from(outcomes.len()).unwrap_or(u32::MAX),
        completed,
        failed: count(ExecutionStatus::Failed),
        timed_out: count(ExecutionStatus::TimedOut),
        cancelled: count(ExecutionStatus::Cancelled),
        wall_time_ms: u32::try_from(started.elapsed().as_millis()).unwrap_or(u32::MAX),
        source_time_ms: outcomes.iter().map(|o| o.execution_time_ms).sum(),
        partial: usize::try_from(completed).unwrap_or(0) < outcomes.len(),
        total_matches: MatchCount::total(outcomes.iter().map(|o| o.matches)),
    }
}
