//! What one execution reads and ranks, once its connection is open: the source's statistics
//! (reported to the search's exchange), then its top hits by one of the ways below, and its match count.
//!
//! - **Every match** (the exact path): the plan's statement returns every candidate, all of them
//!   are checked and scored over their text (`rank.rs`). Used when the matches are few (no
//!   query word is held by more than [`FAST_PATH_MIN_CANDIDATES`] opinions), when the source has
//!   no postings (built by an older Lexica, or a firm's own database), and as the fallback.
//! - **The exact tier** (the fast path's first step for a conjunction or a phrase query on
//!   PostgreSQL, [`exact_tier`]): when the GIN index alone says at most [`EXACT_TIER_MAX`]
//!   opinions hold every included word, those are checked and scored exactly: every exact match,
//!   ranked; the heads below then only add near misses after them.
//! - **The heads** (the fast path, for many matches): [`super::topk`] orders the opinions named by
//!   the query terms' highest-impact postings; the best are confirmed with the plan restricted to
//!   them (`Filters::only_ids`) until [`RESCORE_WINDOW`] exact candidates are found, and only those
//!   are read and scored exactly. Its cost follows the window, not the matches. It is an
//!   approximation of ranking every match (RANKING.md, "At scale", has the measured difference);
//!   when it finds fewer than a page of exact matches while an exact count says there are more,
//!   it ranks those exact matches (up to a thousand) or every match (more: a filter that keeps
//!   few of a common word's best opinions).
//!
//! Match counts: the exact path and the exact tier count what they confirmed. The fast path ([`count_matches`])
//! estimates from the statistics when the query has phrases or proximity or when they alone put
//! an unfiltered query far past [`COUNT_LIMIT`]; on PostgreSQL it counts a body-only query from
//! the GIN index alone (the words in any field, an estimate); otherwise, and whenever the windows
//! came up short of a page, it counts the plan's rows up to [`COUNT_LIMIT`], and beyond it
//! estimates from how far into the id range the limit was reached ([`estimate`], bounded by the
//! statistics). Estimates are shown as such.

use std::sync::Arc;

use lexica_query::{Backend, Filters, Plan, WordPattern};

use super::execution::Shared;
use super::pipeline::{Scored, read_and_rank, with_snippets};
use super::rank::Ranked;
use super::score::Scorer;
use super::source::{Candidate, SourceConn};
use super::stats::{Reporter, SourceStats};
use super::topk::{self, ListTerm};
use super::{Hit, HitSource, MAX_RESULTS, MatchCount};
use crate::models::DataSource;

/// When no query word is held by more than this many opinions, every match is ranked: reading and
/// scoring a thousand opinions' text takes about as long as the fast path, and is exact.
pub const FAST_PATH_MIN_CANDIDATES: u32 = 1_000;
/// Exact candidates the fast path scores over their text (Elasticsearch's rescore `window_size`):
/// three pages of results, so the order inside the first page is decided by the exact score.
pub const RESCORE_WINDOW: usize = 300;
/// Candidates confirmed per restricted statement.
const CONFIRM_CHUNK: usize = 300;
/// Restricted statements at most, before the fast path gives up on filling the window.
const MAX_CONFIRM_CHUNKS: usize = 8;
/// Most opinions the exact tier of a conjunction or a phrase query is enumerated from
/// ([`exact_tier`]): about as many as ranking every match reads when the matches are few.
const EXACT_TIER_MAX: usize = FAST_PATH_MIN_CANDIDATES as usize;
/// The exact tier is not tried when the statistics estimate more than this many times
/// [`EXACT_TIER_MAX`] matches (clauses taken as independent; legal words are mostly found
/// together, so the true figure is rarely below the estimate).
const EXACT_TIER_SKIP: u64 = 4;
/// Windows ranked at most: a query whose exact matches are few and spread (a long conjunction
/// of common words) would otherwise read window after window of near misses.
const MAX_WINDOWS: usize = 2;
/// Rows counted exactly before the count becomes an estimate (Westlaw counts to 10,000 too).
pub const COUNT_LIMIT: u32 = 10_000;
/// A query without filters whose statistics estimate exceeds this many times [`COUNT_LIMIT`] is
/// not counted at all: its count would stop at the limit and be an estimate anyway.
const STATS_ARE_ENOUGH: u64 = 2;

/// Stop check: the search was cancelled or ran out of time.
pub(super) type Stopped = Arc<dyn Fn() -> bool + Send + Sync>;

/// Why a step of the query did not finish.
pub(super) enum Step {
    Read(sqlx::Error),
    /// The stop signal was seen while ranking (the caller knows which stop it was).
    Stopped,
}

impl From<sqlx::Error> for Step {
    fn from(e: sqlx::Error) -> Step {
        Step::Read(e)
    }
}

/// A source's hits and how many opinions it matched.
#[derive(Debug)]
pub(super) struct Retrieved {
    pub hits: Vec<Hit>,
    pub matches: Option<MatchCount>,
}

/// Statistics (reported to the exchange), then the hits by the fast path or every match.
pub(super) async fn ranked_hits(
    reads: &mut SourceConn<'_>,
    backend: Backend,
    shared: &Shared,
    source: &DataSource,
    stopped: Stopped,
    reporter: &mut Reporter,
) -> Result<Retrieved, Step> {
    let own = reads.stats(&shared.patterns).await?;
    if !own.complete {
        tracing::info!("this source has no ranking statistics; its opinions are scored without them");
    }
    reporter.report(&own);
    let compile = |filters: &Filters| match backend {
        Backend::Postgres => lexica_query::postgres::compile(&shared.query, filters),
        Backend::Sqlite => lexica_query::sqlite::compile(&shared.query, filters),
    };
    let plan = compile(&shared.filters);
    // Many matches are possible only if some query word is common; the statistics say so
    // without a query (a word held by few opinions has all its postings in its head anyway).
    let common = own.df.iter().any(|&df| df > u64::from(FAST_PATH_MIN_CANDIDATES));
    // Phrases and proximity: the heads of their words need not hold them, so on PostgreSQL the
    // fast path enumerates such a query's exact matches from the index (`exact_tier`). On SQLite
    // a deferred phrase keeps no condition at all, so there such a query ranks every match.
    let positions = compile(&Filters { defer_positions: true, ..shared.filters.clone() }).needs_check;
    let fast = !positions || backend == Backend::Postgres;
    if own.postings && common && fast && !shared.exhaustive {
        if let Some(found) = heads(reads, &compile, &plan, shared, (source, &own), &stopped, reporter).await? {
            return Ok(found);
        }
        tracing::info!("the fast path found too few exact matches; ranking every match");
    } else if own.complete && !own.postings {
        tracing::info!("this source has no postings; every match is ranked (run `lexica ingest` into it once)");
    }
    every_match(reads, &plan, shared, source, &stopped, reporter).await
}

/// The exact path: every candidate checked and scored.
async fn every_match(
    reads: &mut SourceConn<'_>,
    plan: &Plan,
    shared: &Shared,
    source: &DataSource,
    stopped: &Stopped,
    reporter: &mut Reporter,
) -> Result<Retrieved, Step> {
    let candidates = reads.candidates(plan).await?;
    let capped = candidates.len() >= shared.filters.limit as usize;
    if capped {
        tracing::warn!(
            cap = shared.filters.limit,
            "the candidate cap was reached: the ranking covers the first matches only"
        );
    }
    let global = reporter.exchange().global().await;
    let scorer = Scorer::new(&shared.concepts, &shared.patterns, &global);
    let scored = read_and_rank(reads, shared, plan, &scorer, candidates, true, stopped).await?;
    let matches = MatchCount { count: scored.counted.exact as u64, estimated: capped };
    finish(shared, source, scored, matches).await
}

/// The fast path; `None` when it came up short and every match must be ranked instead.
async fn heads(
    reads: &mut SourceConn<'_>,
    compile: &(dyn Fn(&Filters) -> Plan + Sync),
    plan: &Plan,
    shared: &Shared,
    (source, own): (&DataSource, &SourceStats),
    stopped: &Stopped,
    reporter: &mut Reporter,
) -> Result<Option<Retrieved>, Step> {
    // The terms whose heads are read: each single-word concept's forms, or a prefix's most
    // frequent words. A phrase is read through its words (they are scoring concepts of their own).
    let mut terms: Vec<ListTerm> = Vec::new();
    for (concept, c) in shared.concepts.iter().enumerate() {
        let [word] = c.words.as_slice() else { continue };
        let words = match word {
            WordPattern::Forms(forms) => forms.clone(),
            WordPattern::Prefix(p) => reads.prefix_terms(p, topk::PREFIX_TERMS).await?,
        };
        for term in words {
            let t = ListTerm { term, concept };
            if !terms.contains(&t) {
                terms.push(t);
            }
        }
    }
    let global = reporter.exchange().global().await;
    let scorer = Scorer::new(&shared.concepts, &shared.patterns, &global);
    // A conjunction or a phrase: its exact matches first, all of them when few.
    let positions = compile(&Filters { defer_positions: true, ..shared.filters.clone() }).needs_check;
    // Not when the statistics put the matches far past the tier's size: the index would be
    // asked for a thousand rows in vain (about 100 ms for `jurisdiction & state` at 200,000).
    let tiered = plan.backend == Backend::Postgres
        && (shared.conjunction.is_some() || positions)
        && estimate_from_stats(shared, own) <= EXACT_TIER_MAX as u64 * EXACT_TIER_SKIP;
    let exact_tier = if tiered { exact_tier(reads, compile, shared, &scorer, stopped).await? } else { None };
    let exact_tier = match exact_tier {
        Some((exact, count)) if exact.ranked.len() >= MAX_RESULTS || shared.conjunction.is_none() => {
            let matches = MatchCount { count, estimated: false };
            return finish(shared, source, exact, matches).await.map(Some);
        }
        other => other,
    };
    let names: Vec<String> = terms.iter().map(|t| t.term.clone()).collect();
    let postings = reads.postings(&names, topk::POSTINGS_READ).await?;
    let order = topk::order(shared.concepts.len(), &terms, &postings, &scorer.idf);
    tracing::info!(postings = postings.len(), candidates = order.len(), "fast path: ranking the postings' best");

    // Windows of candidates, best first: confirmed in chunks (the plan restricted to them) until
    // a window holds enough exact candidates, then read and ranked exactly; another window only
    // while the page is not full (the checker turned candidates down): of exact matches, or,
    // with the exact tier known, of its matches and the windows' near misses.
    let mut chunks = order.chunks(CONFIRM_CHUNK).enumerate().take(MAX_CONFIRM_CHUNKS).peekable();
    let mut confirm: Option<Plan> = None;
    let mut ranked = Scored::default();
    let mut windows = 0;
    while chunks.peek().is_some() && windows < MAX_WINDOWS {
        windows += 1;
        let mut confirmed: Vec<(usize, Candidate)> = Vec::new();
        let mut exact = 0;
        for (i, chunk) in chunks.by_ref() {
            if stopped() {
                return Err(Step::Stopped);
            }
            let ids: Vec<i64> = chunk.iter().map(|(id, _)| *id).collect();
            let rank_of = |id: i64| i * CONFIRM_CHUNK + ids.iter().position(|x| *x == id).unwrap_or(0);
            // Phrases and proximity deferred to the checker (their words still tested): it reads
            // these opinions' paragraphs anyway, where SQL would scan every paragraph of each.
            let only = Filters { only_ids: Some(ids.clone()), defer_positions: true, ..shared.filters.clone() };
            let restricted = compile(&only);
            let rows = reads.candidates(&restricted).await?;
            // What the checker must still confirm is the restricted plan's (it may leave phrases
            // and proximity to the checker where the full plan tests them in SQL).
            confirm = Some(restricted);
            exact += rows.iter().filter(|c| c.flags.iter().all(|&f| f)).count();
            confirmed.extend(rows.into_iter().map(|c| (rank_of(c.id), c)));
            // With the exact tier known, the windows look for near misses only.
            let enough = if exact_tier.is_some() { confirmed.len() } else { exact };
            if enough >= RESCORE_WINDOW {
                break;
            }
        }
        // The window: exact candidates first, then near misses, each in first-phase order.
        confirmed.sort_by_key(|(rank, c)| (c.flags.iter().filter(|&&f| !f).count(), *rank));
        confirmed.truncate(RESCORE_WINDOW);
        let window: Vec<Candidate> = confirmed.into_iter().map(|(_, c)| c).collect();
        // What the checker must confirm is the restricted plan's; the paragraphs read, the full plan's.
        let mut checks = confirm.as_ref().unwrap_or(plan).clone();
        checks.paragraph_filter.clone_from(&plan.paragraph_filter);
        checks.paragraph_words.clone_from(&plan.paragraph_words);
        ranked.merge(read_and_rank(reads, shared, &checks, &scorer, window, true, stopped).await?);
        let page_full = match &exact_tier {
            // Every exact match is known (the tier): the windows look for near misses only, and
            // the page is full once near misses of the first tier (one clause missing) fill what
            // the exact matches leave of it. Another window (about 200 ms at 200,000 opinions)
            // could then only reorder them by score; while the page still needs tier-2 near
            // misses, it may find better ones (measured: RANKING.md, "At scale").
            Some((exact, _)) => {
                ranked.ranked.iter().filter(|r| r.tier == 1).count() + exact.ranked.len() >= MAX_RESULTS
            }
            None => ranked.ranked.iter().filter(|r| r.tier == 0).count() >= MAX_RESULTS,
        };
        if page_full {
            break;
        }
    }
    if let Some((exact, count)) = exact_tier {
        // Every exact match is in the exact tier (its superset held them all): the windows add
        // the near misses after them.
        ranked.ranked.retain(|r| r.tier > 0);
        ranked.merge(exact);
        return finish(shared, source, ranked, MatchCount { count, estimated: false }).await.map(Some);
    }

    let exact_hits = ranked.ranked.iter().filter(|r| r.tier == 0).count();
    let matches = count_matches(reads, compile, plan.backend, shared, own, exact_hits).await?;
    if exact_hits < MAX_RESULTS && matches.count > exact_hits as u64 {
        if matches.estimated {
            // Only an estimate says more exist: keep what the windows found.
            return finish(shared, source, ranked, matches).await.map(Some);
        }
        if matches.count > u64::from(FAST_PATH_MIN_CANDIDATES) {
            return Ok(None);
        }
        // Few exact matches, some outside the heads (a long conjunction of common words): rank
        // them all, and keep the windows' near misses after them.
        let exact_plan = compile(&Filters { near_misses: 0, ..shared.filters.clone() });
        let candidates = reads.candidates(&exact_plan).await?;
        let exact = read_and_rank(reads, shared, &exact_plan, &scorer, candidates, false, stopped).await?;
        ranked.ranked.retain(|r| r.tier > 0);
        ranked.merge(exact);
    }
    finish(shared, source, ranked, matches).await.map(Some)
}

/// The exact matches of a conjunction or a phrase query, ranked, and how many there are, when
/// they are few; `None` when more than [`EXACT_TIER_MAX`] opinions may match.
///
/// Their superset comes from the GIN index alone ([`Filters::any_field`] and
/// [`Filters::defer_positions`]: every word of the query's included parts anywhere in the
/// opinion, no weights, no positions), a few milliseconds however common the words are; the
/// checker then confirms each of them exactly over its text (fields, phrases, proximity,
/// exclusions) while it is scored. The heads of a phrase's words need not hold the phrase (a
/// phrase of common words is rare where its words are not), and a long conjunction's few exact
/// matches need not be among any of its words' best postings: this finds them all, where
/// ranking every match would evaluate every clause of the near-miss plan for every opinion
/// holding any query word (most of a large source).
async fn exact_tier(
    reads: &mut SourceConn<'_>,
    compile: &(dyn Fn(&Filters) -> Plan + Sync),
    shared: &Shared,
    scorer: &Scorer,
    stopped: &Stopped,
) -> Result<Option<(Scored, u64)>, Step> {
    let cap = u32::try_from(EXACT_TIER_MAX + 1).unwrap_or(u32::MAX);
    let superset = compile(&Filters {
        any_field: true,
        defer_positions: true,
        near_misses: 0,
        limit: cap,
        ..shared.filters.clone()
    });
    let candidates = reads.candidates(&superset).await?;
    if candidates.len() > EXACT_TIER_MAX {
        return Ok(None);
    }
    let superset_size = candidates.len();
    let scored = read_and_rank(reads, shared, &superset, scorer, candidates, false, stopped).await?;
    let exact = scored.counted.exact;
    tracing::info!(superset = superset_size, exact, "fast path: the exact tier, enumerated");
    Ok(Some((scored, exact as u64)))
}

/// How many opinions the fast path's query matches, `exact_hits` being the exact matches its
/// windows found.
///
/// In order of cost: phrases and proximity, or an unfiltered query the statistics put far past
/// [`COUNT_LIMIT`], are estimated from the statistics (no read). Otherwise, on PostgreSQL, a query
/// whose words are all searched in the body is counted from the GIN index alone
/// ([`Filters::any_field`]: the words anywhere in the opinion, a superset by the few opinions that
/// hold a word only in their case name, citation or court; 9,929 against 9,848 for
/// `jurisdiction & state` at 20,000 opinions), about 0.002 ms a match where the exact count reads
/// every match's vector back (about 0.06 ms). That count is an estimate, and is kept as one when
/// the windows filled a page; when they did not, whether more exact matches exist decides what the
/// fast path does next, so the matches are counted exactly (what SQLite and field-restricted
/// queries always do), up to [`COUNT_LIMIT`].
async fn count_matches(
    reads: &mut SourceConn<'_>,
    compile: &(dyn Fn(&Filters) -> Plan + Sync),
    backend: Backend,
    shared: &Shared,
    own: &SourceStats,
    exact_hits: usize,
) -> Result<MatchCount, Step> {
    let counter = Filters { limit: COUNT_LIMIT, near_misses: 0, defer_positions: true, ..shared.filters.clone() };
    let exact_counter = compile(&counter);
    let from_stats = estimate_from_stats(shared, own);
    let f = &shared.filters;
    let unfiltered =
        f.courts.is_empty() && f.jurisdictions.is_empty() && f.decided.is_none() && shared.query.date.is_none();
    if exact_counter.needs_check {
        // Phrases or proximity: counting would mean testing them for every match of their words
        // (SQLite) or reading every such paragraph (PostgreSQL); the statistics estimate it.
        return Ok(MatchCount { count: rounded(from_stats), estimated: true });
    }
    if unfiltered && from_stats >= u64::from(COUNT_LIMIT) * STATS_ARE_ENOUGH {
        // The count would stop at its limit anyway, after reading 10,000 matches' vectors (580 of
        // the 800 ms `court` took at 200k opinions on PostgreSQL): the statistics say enough.
        return Ok(MatchCount { count: rounded(from_stats), estimated: true });
    }
    let body_only = shared.concepts.iter().all(|c| c.field.is_none());
    if backend == Backend::Postgres && body_only {
        let index = compile(&Filters { any_field: true, ..counter.clone() });
        let (rows, max_seen) = reads.count(&index).await?;
        if rows <= exact_hits as u64 {
            // A superset no larger than the exact matches found: they are all of them.
            return Ok(MatchCount { count: exact_hits as u64, estimated: false });
        }
        if exact_hits >= MAX_RESULTS {
            let count = if rows < u64::from(COUNT_LIMIT) {
                rows
            } else {
                scaled(reads, rows, max_seen, unfiltered.then_some(from_stats)).await?
            };
            return Ok(MatchCount { count: rounded(count), estimated: true });
        }
    }
    let (rows, max_seen) = reads.count(&exact_counter).await?;
    if rows < u64::from(COUNT_LIMIT) {
        return Ok(MatchCount { count: rows, estimated: false });
    }
    let count = scaled(reads, rows, max_seen, unfiltered.then_some(from_stats)).await?;
    Ok(MatchCount { count: rounded(count), estimated: true })
}

/// A count cut short at its limit, scaled to the whole id range ([`estimate`]); for an
/// unfiltered query bounded by what the statistics allow (`from_stats`): the scan's order is not
/// always id order (PostgreSQL starts a sequential scan where a concurrent one is).
async fn scaled(
    reads: &mut SourceConn<'_>,
    rows: u64,
    max_seen: Option<i64>,
    from_stats: Option<u64>,
) -> Result<u64, Step> {
    let range = reads.id_range().await?;
    let count = estimate(rows, max_seen, range);
    Ok(from_stats.map_or(count, |bound| count.min(bound).max(rows)))
}

/// An estimate to two significant digits ("≈ 41,000"): more would claim a precision it has not.
fn rounded(n: u64) -> u64 {
    let mut unit = 1;
    while n / unit >= 100 {
        unit *= 10;
    }
    (n + unit / 2) / unit * unit
}

/// Matches estimated from the source's statistics alone: each top-level clause is taken to hold
/// as often as its most frequent concept (a phrase: its rarest word), clauses independently.
/// A rough figure, always shown as an estimate.
fn estimate_from_stats(shared: &Shared, own: &SourceStats) -> u64 {
    let n = own.opinions as f64;
    if n == 0.0 {
        return 0;
    }
    let clauses: Vec<Vec<lexica_query::Concept>> = match shared.query.conjunction() {
        Some(j) => j.clauses.iter().map(lexica_query::Query::concepts).collect(),
        None => vec![shared.query.concepts()],
    };
    let share = |w: &WordPattern| {
        let i = shared.patterns.patterns.iter().position(|p| p == w);
        i.and_then(|i| own.df.get(i)).map_or(0.0, |&df| (df as f64 / n).min(1.0))
    };
    let p: f64 = clauses
        .iter()
        .map(|concepts| concepts.iter().map(|c| c.words.iter().map(share).fold(1.0, f64::min)).fold(0.0, f64::max))
        .product();
    (n * p).round() as u64
}

/// Matches estimated from a count cut short at `rows` rows whose largest id was `max_seen`: the
/// statement reads opinions in storage order, which for a loaded source is close to id order,
/// so the rows found so far are to all matches as the ids covered are to the whole id range.
pub(super) fn estimate(rows: u64, max_seen: Option<i64>, range: Option<(i64, i64)>) -> u64 {
    let (Some(seen), Some((lo, hi))) = (max_seen, range) else { return rows };
    let covered = (seen - lo + 1).max(1) as f64;
    let whole = (hi - lo + 1).max(1) as f64;
    ((rows as f64) * whole / covered).round().max(rows as f64) as u64
}

/// The hits kept, with their snippets, and the match count.
async fn finish(shared: &Shared, source: &DataSource, scored: Scored, matches: MatchCount) -> Result<Retrieved, Step> {
    let ranked = with_snippets(shared, scored).await?;
    Ok(Retrieved { hits: ranked.into_iter().map(|r| hit(source, r)).collect(), matches: Some(matches) })
}

fn hit(source: &DataSource, r: Ranked) -> Hit {
    let c = r.candidate;
    Hit {
        sources: vec![HitSource { source_id: source.id, source_name: source.name.clone(), opinion_id: c.id }],
        case_name: c.case_name,
        citation: c.citation.filter(|x| !x.is_empty()),
        court: c.court,
        jurisdiction: c.jurisdiction,
        decided_on: c.decided_on,
        docket_number: c.docket_number.filter(|d| !d.is_empty()),
        snippet: r.snippet,
        score: r.score,
        tier: r.tier,
        missing: r.missing,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn estimates_scale_the_rows_by_the_id_range_covered() {
        assert_eq!(estimate(10_000, Some(10_000), Some((1, 100_000))), 100_000);
        assert_eq!(estimate(10_000, Some(100_000), Some((1, 100_000))), 10_000);
        // Never below what was counted, and nothing to scale by: what was counted.
        assert_eq!(estimate(10_000, Some(200_000), Some((1, 100_000))), 10_000);
        assert_eq!(estimate(10_000, None, Some((1, 100_000))), 10_000);
    }

    #[test]
    fn estimates_keep_two_significant_digits() {
        assert_eq!(rounded(41_237), 41_000);
        assert_eq!(rounded(41_537), 42_000);
        assert_eq!(rounded(87), 87);
        assert_eq!(rounded(1_049), 1_000);
    }
}
