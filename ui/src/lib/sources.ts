import type { AppOverview } from './bindings/AppOverview';
import type { DataSource } from './bindings/DataSource';
import type { SourceReach } from './bindings/SourceReach';

/**
 * How a source stands for the signed-in user, as the window shows it: searchable (`active`), or why not — it has no
 * URL yet, it is disabled, its search is turned off, or it is not one this user may search; or searchable but, when
 * last checked, not answering (`unreachable`) or wanting the user's own password (`sign_in`).
 */
export type SourceState =
  'active' | 'sign_in' | 'unreachable' | 'not_configured' | 'disabled' | 'search_off' | 'unavailable';

/** The badge beside each source: for one that cannot be searched, the reason itself. */
export const SOURCE_STATE_LABEL: Record<SourceState, string> = {
  active: 'Active',
  sign_in: 'needs your sign-in',
  unreachable: 'unreachable',
  not_configured: 'not configured',
  disabled: 'disabled',
  search_off: 'search off',
  unavailable: 'not available',
};

/**
 * Whether a search queries a source in this state: one that needs the user's sign-in asks for it when searched, and
 * one unreachable when checked stays searchable (it may be back; the search says so if not).
 */
export function isSearchable(state: SourceState): boolean {
  return state === 'active' || state === 'sign_in' || state === 'unreachable';
}

export interface SourceRow {
  source: DataSource;
  state: SourceState;
  /** The longer sentence behind the badge, when the source is not searched. */
  reason: string | null;
}

const REASONS: Record<Exclude<SourceState, 'active' | 'unreachable'>, string> = {
  sign_in: 'each lawyer signs in to it with their own database account; searching it asks for yours',
  not_configured: 'an administrator has not set its database yet',
  disabled: 'an administrator has disabled it',
  search_off: 'an administrator has turned its search off',
  unavailable: 'not shared with you',
};

/** Why `source` cannot be searched (its own settings first), or `active` when it can. */
function stateOf(
  source: DataSource,
  searchable: ReadonlySet<string>,
  signIn: ReadonlySet<string>,
): Exclude<SourceState, 'unreachable'> {
  if (source.database_url === null || source.database_url === '') {
    return 'not_configured';
  }
  if (!source.is_active) {
    return 'disabled';
  }
  if (!source.search_enabled) {
    return 'search_off';
  }
  if (!searchable.has(source.id)) {
    return 'unavailable';
  }
  return signIn.has(source.id) ? 'sign_in' : 'active';
}

/** Why a source the server asks a password of needs the user's sign-in (no shared password is stored for it). */
const ASKS_PASSWORD =
  'its server asks for a database password and none is stored for you; searching it asks for yours';

/**
 * One row per visible source, with its state and, when it is not searched, why. `reach` (the core's check of each
 * searchable source, when it has answered) turns an `active` source into `unreachable` or `sign_in`.
 */
export function sourceRows(overview: AppOverview, reach: readonly SourceReach[] = []): SourceRow[] {
  const searchable = new Set<string>(overview.searchable);
  const signIn = new Set<string>(overview.sign_in_needed);
  const checked = new Map(reach.map((r) => [r.source_id, r.reach]));
  return overview.sources.map((source) => {
    const state = stateOf(source, searchable, signIn);
    const found = checked.get(source.id);
    if (state === 'active' && found?.state === 'unreachable') {
      return { source, state: 'unreachable', reason: found.message };
    }
    if (state === 'active' && found?.state === 'sign_in') {
      return { source, state: 'sign_in', reason: ASKS_PASSWORD };
    }
    return { source, state, reason: state === 'active' ? null : REASONS[state] };
  });
}
