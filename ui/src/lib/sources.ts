import type { AppOverview } from './bindings/AppOverview';
import type { DataSource } from './bindings/DataSource';

/** How a source stands for the signed-in user, as the window shows it. */
export type SourceState = 'active' | 'inactive' | 'not_configured';

export const SOURCE_STATE_LABEL: Record<SourceState, string> = {
  active: 'Active',
  inactive: 'Inactive',
  not_configured: 'Not configured',
};

export interface SourceRow {
  source: DataSource;
  state: SourceState;
  /** Why a source that has a URL is not searched, when it is not. */
  reason: string | null;
}

/** One row per visible source: searchable ones are active; a source without a URL is not configured. */
export function sourceRows(overview: AppOverview): SourceRow[] {
  const searchable = new Set(overview.searchable);
  return overview.sources.map((source) => {
    if (source.database_url === null || source.database_url === '') {
      return { source, state: 'not_configured', reason: null };
    }
    if (searchable.has(source.id)) {
      return { source, state: 'active', reason: null };
    }
    return { source, state: 'inactive', reason: inactiveReason(source) };
  });
}

function inactiveReason(source: DataSource): string {
  if (!source.is_active) {
    return 'turned off';
  }
  if (!source.search_enabled) {
    return 'search disabled';
  }
  return 'not shared with you';
}
