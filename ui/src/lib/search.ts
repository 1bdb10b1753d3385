// What the search window shows while a search runs and after: one chip per source, the hits so far, the summary.
// Pure functions over the generated types, so the window's behaviour is the same whatever order events arrive in.
import type { ExecutionStatus } from './bindings/ExecutionStatus';
import type { Hit } from './bindings/Hit';
import type { SearchEvent } from './bindings/SearchEvent';
import type { SearchId } from './bindings/SearchId';
import type { SearchOutcome } from './bindings/SearchOutcome';
import type { SearchSummary } from './bindings/SearchSummary';
import type { SourceId } from './bindings/SourceId';
import type { SourceOutcome } from './bindings/SourceOutcome';
import { matchesText, shownOf } from './counts';

/** One source's part in the current search. */
export interface SourceChip {
  sourceId: SourceId;
  name: string;
  displayName: string;
  status: ExecutionStatus;
  /** When it started running (a `performance.now()` time), for the elapsed-time counter. */
  runningSince: number | null;
  outcome: SourceOutcome | null;
}

export interface SearchView {
  searchId: SearchId | null;
  chips: SourceChip[];
  /**
   * Until `final`: every answered source's hits, exact matches first (then each near-miss tier), best first within a
   * tier; then the merged list (in the core's order, which is by tier too).
   */
  hits: Hit[];
  summary: SearchSummary | null;
  /** The merged list and summary are in: later events change nothing. */
  final: boolean;
}

export const EMPTY_VIEW: SearchView = { searchId: null, chips: [], hits: [], summary: null, final: false };

export const STATUS_LABEL: Record<ExecutionStatus, string> = {
  pending: 'Waiting',
  running: 'Searching',
  completed: 'Done',
  failed: 'Failed',
  timed_out: 'Timed out',
  cancelled: 'Cancelled',
};

/** The view after `event`; `now` is `performance.now()` when it arrived. */
export function applyEvent(view: SearchView, event: SearchEvent, now: number): SearchView {
  if (view.final) {
    return view;
  }
  switch (event.type) {
    case 'started':
      return {
        ...EMPTY_VIEW,
        searchId: event.search_id,
        chips: event.sources.map((source) => ({
          sourceId: source.source_id,
          name: source.name,
          displayName: source.display_name,
          status: 'pending',
          runningSince: null,
          outcome: null,
        })),
      };
    case 'source_running':
      return {
        ...view,
        chips: view.chips.map((chip) =>
          chip.sourceId === event.source_id && chip.status === 'pending'
            ? { ...chip, status: 'running', runningSince: now }
            : chip,
        ),
      };
    case 'source_finished':
      return {
        ...view,
        chips: withOutcome(view.chips, event.outcome),
        hits: bestFirst([...view.hits, ...event.hits]),
      };
    case 'finished':
      return { ...view, hits: byTier(event.hits), summary: event.summary, final: true };
  }
}

/** The view once the search command answered: the outcome is authoritative (events may still be in flight). */
export function applyOutcome(view: SearchView, outcome: SearchOutcome): SearchView {
  let chips = view.chips;
  for (const source of outcome.sources) {
    chips = withOutcome(chips, source);
  }
  return {
    searchId: outcome.search_id,
    chips,
    hits: byTier(outcome.hits),
    summary: outcome.summary,
    final: true,
  };
}

function withOutcome(chips: SourceChip[], outcome: SourceOutcome): SourceChip[] {
  const known = chips.some((chip) => chip.sourceId === outcome.source_id);
  if (!known) {
    return [
      ...chips,
      {
        sourceId: outcome.source_id,
        name: outcome.name,
        displayName: outcome.name,
        status: outcome.status,
        runningSince: null,
        outcome,
      },
    ];
  }
  return chips.map((chip) =>
    chip.sourceId === outcome.source_id ? { ...chip, status: outcome.status, outcome } : chip,
  );
}

/** Hits from several sources together: exact matches first, then each near-miss tier; best first within a tier. */
function bestFirst(hits: Hit[]): Hit[] {
  return hits
    .map((hit, index) => ({ hit, index }))
    .sort((a, b) => a.hit.tier - b.hit.tier || b.hit.score - a.hit.score || a.index - b.index)
    .map(({ hit }) => hit);
}

/**
 * The merged list, its order kept within each tier (the core's sort); the core already lists tier by tier, so this
 * only guarantees that each tier is one run (one divider per tier).
 */
function byTier(hits: Hit[]): Hit[] {
  const sorted = hits.every((hit, index) => index === 0 || (hits[index - 1]?.tier ?? 0) <= hit.tier);
  if (sorted) {
    return hits;
  }
  return hits
    .map((hit, index) => ({ hit, index }))
    .sort((a, b) => a.hit.tier - b.hit.tier || a.index - b.index)
    .map(({ hit }) => hit);
}

/** One run of the result list: the hits of one tier, each with its index in the whole list. */
export interface TierRun {
  /** 0: exact matches; 1, 2: near misses lacking that many clauses. */
  tier: number;
  hits: { hit: Hit; index: number }[];
}

/** `hits` cut into runs of one tier each, in order (a divider goes before each near-miss run). */
export function tierRuns(hits: Hit[]): TierRun[] {
  const runs: TierRun[] = [];
  hits.forEach((hit, index) => {
    const last = runs.at(-1);
    if (last?.tier === hit.tier) {
      last.hits.push({ hit, index });
    } else {
      runs.push({ tier: hit.tier, hits: [{ hit, index }] });
    }
  });
  return runs;
}

/** The near-miss tiers the core returns (1 and 2 clauses lacking), in words. */
const CLAUSES_LACKING: Partial<Record<number, string>> = { 1: 'one', 2: 'two' };

/** The divider before a near-miss tier: what its opinions lack. */
export function tierHeading(tier: number): string {
  const count = CLAUSES_LACKING[tier] ?? String(tier);
  return `Near misses — these opinions lack ${count} of your query's AND-ed clauses`;
}

/** "1 near miss", "17 near misses". */
export function nearMisses(count: number): string {
  return `${String(count)} near ${count === 1 ? 'miss' : 'misses'}`;
}

/** "42 results", or "42 results + 17 near misses" when there are near misses. */
export function resultsText(exact: number, near: number): string {
  return near > 0 ? `${plural(exact, 'result')} + ${nearMisses(near)}` : plural(exact, 'result');
}

/** A duration for people: `850 ms`, `2.4 s`. */
export function formatMs(ms: number): string {
  if (ms < 1000) {
    return `${String(Math.max(0, Math.round(ms)))} ms`;
  }
  return `${(ms / 1000).toFixed(1)} s`;
}

/** What a chip says after the source's name. */
export function chipDetail(chip: SourceChip, now: number): string {
  switch (chip.status) {
    case 'pending':
      return STATUS_LABEL.pending;
    case 'running':
      return `${STATUS_LABEL.running} ${formatMs(chip.runningSince === null ? 0 : now - chip.runningSince)}`;
    case 'completed': {
      // How many opinions matched when the source counted them ("≈ 41,000 matches"), else what it returned.
      const matches = chip.outcome?.matches ?? null;
      const count =
        matches === null ? plural(chip.outcome?.results_count ?? 0, 'result') : matchesText(matches);
      const near = chip.outcome?.near_misses ?? 0;
      const ms = chip.outcome?.execution_time_ms ?? 0;
      return `${count}${near > 0 ? ` +${String(near)} near` : ''} · ${formatMs(ms)}`;
    }
    case 'failed':
    case 'timed_out':
    case 'cancelled':
      return STATUS_LABEL[chip.status];
  }
}

/**
 * "≈ 41,300 matches from K of M sources in T ms; showing the top 100" (then "+ P near misses" when there are some)
 * when the sources counted their matches; otherwise "N results from K of M sources in T ms", "+ P near misses" after N.
 */
export function summaryText(summary: SearchSummary): string {
  const from = `from ${String(summary.completed)} of ${plural(summary.sources_searched, 'source')} in ${formatMs(summary.wall_time_ms)}`;
  const total = summary.total_matches;
  if (total === null) {
    return `${resultsText(summary.exact_results, summary.near_miss_results)} ${from}`;
  }
  const near = summary.near_miss_results > 0 ? ` + ${nearMisses(summary.near_miss_results)}` : '';
  return `${matchesText(total)} ${from}; showing ${shownOf(total, summary.exact_results)}${near}`;
}

/** Why a summary is partial, e.g. "1 source failed, 1 timed out". Empty when it is not partial. */
export function partialReason(summary: SearchSummary): string {
  if (!summary.partial) {
    return '';
  }
  const parts: string[] = [];
  if (summary.failed > 0) {
    parts.push(`${String(summary.failed)} failed`);
  }
  if (summary.timed_out > 0) {
    parts.push(`${String(summary.timed_out)} timed out`);
  }
  if (summary.cancelled > 0) {
    parts.push(`${String(summary.cancelled)} cancelled`);
  }
  const missing = summary.sources_searched - summary.completed;
  return `${plural(missing, 'source')} did not complete${parts.length > 0 ? ` (${parts.join(', ')})` : ''}`;
}

export function plural(count: number, noun: string): string {
  return `${String(count)} ${noun}${count === 1 ? '' : 's'}`;
}

/** A stable key for a hit in a list: its first source and that source's row. */
export function hitKey(hit: Hit, index: number): string {
  const first = hit.sources[0];
  return first === undefined ? `hit-${String(index)}` : `${first.source_id}:${String(first.opinion_id)}`;
}
