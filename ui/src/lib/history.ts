// The History view's pure parts: what a past search was (to show it and to run it again).
import type { ExecutionRecord } from './bindings/ExecutionRecord';
import type { SearchFilters } from './bindings/SearchFilters';
import type { SearchModeInput } from './bindings/SearchModeInput';
import type { SearchRecord } from './bindings/SearchRecord';
import type { SearchRequest } from './bindings/SearchRequest';
import type { SortOrder } from './bindings/SortOrder';
import { matchesText } from './counts';
import { plural } from './search';

export const MODE_LABEL: Record<SearchModeInput, string> = {
  boolean: 'Terms and connectors',
  statements: 'Plain statements',
};

const SORTS: readonly SortOrder[] = ['relevance', 'newest', 'oldest'];

function strings(value: unknown): string[] {
  return Array.isArray(value) ? value.filter((item): item is string => typeof item === 'string') : [];
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/**
 * The request that ran a past search: its query and mode, and the filters, sort and sources stored in its `filters`
 * JSON (`{ filters, sort, sources }`). Anything missing or malformed there falls back to the default.
 */
export function requestOf(entry: SearchRecord): SearchRequest {
  const stored = entry.search.filters;
  const inner = record(stored.filters);
  const filters: SearchFilters = {
    courts: strings(inner.courts),
    jurisdictions: strings(inner.jurisdictions),
  };
  if (typeof inner.from === 'string' && inner.from !== '') {
    filters.from = inner.from;
  }
  if (typeof inner.to === 'string' && inner.to !== '') {
    filters.to = inner.to;
  }
  const sort = SORTS.find((order) => order === stored.sort) ?? 'relevance';
  return {
    query: entry.search.query_text,
    mode: entry.search.mode,
    sources: strings(stored.sources),
    filters,
    sort,
  };
}

/** The results the search's sources reported, together (before duplicates across sources were merged). */
export function totalResults(entry: SearchRecord): number {
  return entry.executions.reduce((sum, execution) => sum + (execution.results_count ?? 0), 0);
}

/**
 * What a past search found, in words: its sources' match counts together ("≈ 41,300 matches"); for a search from
 * before Lexica counted matches, the results its sources returned ("296 results"), each capped at 100.
 */
export function totalText(entry: SearchRecord): string {
  if (entry.total_matches !== null) {
    return matchesText(entry.total_matches);
  }
  return plural(totalResults(entry), 'result');
}

/** What one source found: its match count when it kept one, else the results it returned; null when neither. */
export function executionCountText(execution: ExecutionRecord): string | null {
  if (execution.matches !== null) {
    return matchesText(execution.matches);
  }
  if (execution.results_count !== null) {
    return plural(execution.results_count, 'result');
  }
  return null;
}

/** The filters, sort and sources of a past search in a few words; empty when it used none. */
export function describeOptions(request: SearchRequest): string {
  const parts: string[] = [];
  if (request.filters.courts.length > 0) {
    parts.push(`court: ${request.filters.courts.join(', ')}`);
  }
  if (request.filters.jurisdictions.length > 0) {
    parts.push(`jurisdiction: ${request.filters.jurisdictions.join(', ')}`);
  }
  if (request.filters.from !== undefined) {
    parts.push(`from ${request.filters.from}`);
  }
  if (request.filters.to !== undefined) {
    parts.push(`to ${request.filters.to}`);
  }
  if (request.sort !== 'relevance') {
    parts.push(request.sort === 'newest' ? 'newest first' : 'oldest first');
  }
  return parts.join(' · ');
}
