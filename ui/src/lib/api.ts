// The one place the UI talks to the Tauri shell. Every type crossing the bridge comes from ./bindings/,
// generated from the Rust definitions by ts-rs (`cargo test`); none is re-declared here.
import { Channel, invoke } from '@tauri-apps/api/core';

import type { AppOverview } from './bindings/AppOverview';
import type { CoreError } from './bindings/CoreError';
import type { Hit } from './bindings/Hit';
import type { OpinionDocument } from './bindings/OpinionDocument';
import type { SearchEvent } from './bindings/SearchEvent';
import type { SearchId } from './bindings/SearchId';
import type { SearchModeInput } from './bindings/SearchModeInput';
import type { SearchOutcome } from './bindings/SearchOutcome';
import type { SearchRecord } from './bindings/SearchRecord';
import type { SearchRequest } from './bindings/SearchRequest';
import type { SourceId } from './bindings/SourceId';
import type { SourceReach } from './bindings/SourceReach';

/** Command names, as registered in src-tauri/src/lib.rs and declared in src-tauri/build.rs. */
export const COMMANDS = {
  appOverview: 'app_overview',
  checkSources: 'check_sources',
  checkQuery: 'check_query',
  search: 'search',
  cancelSearch: 'cancel_search',
  searchHistory: 'search_history',
  openOpinion: 'open_opinion',
  exportResults: 'export_results',
  openSettings: 'open_settings',
  signInToSource: 'sign_in_to_source',
  signOutOfSource: 'sign_out_of_source',
} as const;

/** The event the shell sends after every settings change; the search window reloads its sources on it. */
export const SOURCES_CHANGED = 'lexica://sources-changed';

/**
 * Signs the user in to a source with their own database account (`userName` only where each user signs in). The core
 * tries it on the server first; a refused password comes back as an `invalid` error on the `password` field.
 */
export async function signInToSource(
  source: string,
  userName: string | null,
  password: string,
  remember: boolean,
): Promise<void> {
  await invoke<null>(COMMANDS.signInToSource, { source, userName, password, remember });
}

/** Forgets the user's own sign-in to a source; true when there was one. */
export function signOutOfSource(source: string): Promise<boolean> {
  return invoke<boolean>(COMMANDS.signOutOfSource, { source });
}

/** Opens (or brings forward) the settings window. The shell refuses it to anyone who is not an administrator. */
export async function openSettings(): Promise<void> {
  await invoke<null>(COMMANDS.openSettings);
}

/**
 * Whether each source the user may search answers now (ready, the sign-in it needs, or why it cannot be reached);
 * each source's check ends within a few seconds. Rejects with a {@link CoreError}.
 */
export function checkSources(): Promise<SourceReach[]> {
  return invoke<SourceReach[]>(COMMANDS.checkSources);
}

/** The acting user and the sources they may search. Rejects with a {@link CoreError}. */
export function loadOverview(): Promise<AppOverview> {
  return invoke<AppOverview>(COMMANDS.appOverview);
}

/**
 * Checks a query without running it. Resolves when it would parse; rejects with a {@link CoreError} of kind `query`
 * whose `query` gives the offending span (in characters) and a fix.
 */
export async function checkQuery(query: string, mode: SearchModeInput): Promise<void> {
  await invoke<null>(COMMANDS.checkQuery, { query, mode });
}

/**
 * Runs a search. `onEvent` receives its progress on the search's own channel (`started` first, carrying the id that
 * {@link cancelSearch} takes; `finished` last); the promise resolves with the finished search, or rejects with a
 * {@link CoreError} (a malformed query, bad filters, no source to search).
 */
export function runSearch(
  request: SearchRequest,
  onEvent: (event: SearchEvent) => void,
): Promise<SearchOutcome> {
  const channel = new Channel<SearchEvent>(onEvent);
  return invoke<SearchOutcome>(COMMANDS.search, { request, onEvent: channel });
}

/** Cancels a running search. Resolves false when it was no longer running. */
export function cancelSearch(searchId: SearchId): Promise<boolean> {
  return invoke<boolean>(COMMANDS.cancelSearch, { searchId });
}

/** The acting user's past searches, newest first. */
export function searchHistory(limit: number): Promise<SearchRecord[]> {
  return invoke<SearchRecord[]>(COMMANDS.searchHistory, { limit });
}

/**
 * One opinion of a hit, with the terms of `query` (read in `mode`) marked. Rejects with a {@link CoreError} (`refused`
 * for a source the user may not search, `not_found` when the opinion is gone).
 */
export function openOpinion(
  sourceId: SourceId,
  opinionId: number,
  query: string | null,
  mode: SearchModeInput,
): Promise<OpinionDocument> {
  return invoke<OpinionDocument>(COMMANDS.openOpinion, { sourceId, opinionId, query, mode });
}

/** Writes `hits` as CSV to the user's Downloads folder; resolves with the path written. */
export function exportResults(hits: Hit[]): Promise<string> {
  return invoke<string>(COMMANDS.exportResults, { hits });
}

/** Whether a rejected command's value is the core's typed error. */
export function isCoreError(value: unknown): value is CoreError {
  return (
    typeof value === 'object' &&
    value !== null &&
    'kind' in value &&
    typeof value.kind === 'string' &&
    'message' in value &&
    typeof value.message === 'string'
  );
}

/** A sentence for the user, whatever a command rejected with. */
export function describeError(error: unknown): string {
  if (isCoreError(error)) {
    return error.message;
  }
  if (error instanceof Error) {
    return error.message;
  }
  if (typeof error === 'string' && error.length > 0) {
    return error;
  }
  return 'Something went wrong and Lexica could not say what.';
}
