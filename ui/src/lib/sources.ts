import type { AppOverview } from './bindings/AppOverview';
import type { DataSource } from './bindings/DataSource';

/**
 * How a source stands for the signed-in user, as the window shows it: searchable (`active`), or why not — it has no
 * URL yet, it is disabled, its search is turned off, or it is not one this user may search.
 */
export type SourceState = 'active' | 'sign_in' | 'not_configured' | 'disabled' | 'search_off' | 'unavailable';

/** The badge beside each source: for one that cannot be searched, the reason itself. */
export const SOURCE_STATE_LABEL: Record<SourceState, string> = {
  active: 'Active',
  sign_in: 'needs your sign-in',
  not_configured: 'not configured',
  disabled: 'disabled',
  search_off: 'search off',
  unavailable: 'not available',
};

/** Whether a search queries a source in this state (one that needs the user's sign-in asks for it when searched). */
export function isSearchable(state: SourceState): boolean {
  return state === 'active' || state === 'sign_in';
}

export interface SourceRow {
  source: DataSource;
  state: SourceState;
  /** The longer sentence behind the badge, when the source is not searched. */
  reason: string | null;
}

const REASONS: Record<Exclude<SourceState, 'active'>, string> = {
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
): SourceState {
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

/** One row per visible source, with its state and, when it is not searched, why. */
export function sourceRows(overview: AppOverview): SourceRow[] {
  const searchable = new Set<string>(overview.searchable);
  const signIn = new Set<string>(overview.sign_in_needed);
  return overview.sources.map((source) => {
    const state = stateOf(source, searchable, signIn);
    return { source, state, reason: state === 'active' ? null : REASONS[state] };
  });
}
