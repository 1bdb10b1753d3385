// The source form's state and what it sends: the fields an admin edits, turned into the core's `SourceChanges`, and the
// core's field-named validation errors mapped back beside the field that caused them.
import type { CoreError } from '../bindings/CoreError';
import type { DataSource } from '../bindings/DataSource';
import type { SourceChanges } from '../bindings/SourceChanges';
import { buildPgUrl, EMPTY_FIELDS, parsePgUrl, type PgFields } from './pgurl';

/** Per-source defaults from the firm's design (README, "Configuration"): pool size 5, acquire 15 s, query 30 s. */
export const DEFAULT_POOL_SIZE = 5;
export const DEFAULT_ACQUIRE_TIMEOUT_MS = 15_000;
export const DEFAULT_QUERY_TIMEOUT_MS = 30_000;

export type Connection = 'postgres' | 'sqlite' | 'none';

export interface SourceForm {
  name: string;
  displayName: string;
  sourceType: string;
  jurisdiction: string;
  connection: Connection;
  pg: PgFields;
  /** `sqlite:` bundle path. */
  bundlePath: string;
  /** `null` while the number field is empty. */
  poolSize: number | null;
  acquireTimeoutMs: number | null;
  queryTimeoutMs: number | null;
  /** Searched when active and search-enabled; an active source needs a URL. */
  active: boolean;
  searchEnabled: boolean;
  /** Each lawyer signs in with their own database account (PostgreSQL only). */
  eachUserSignsIn: boolean;
}

export function emptyForm(): SourceForm {
  return {
    name: '',
    displayName: '',
    sourceType: 'general',
    jurisdiction: '',
    connection: 'postgres',
    pg: { ...EMPTY_FIELDS },
    bundlePath: '',
    poolSize: DEFAULT_POOL_SIZE,
    acquireTimeoutMs: DEFAULT_ACQUIRE_TIMEOUT_MS,
    queryTimeoutMs: DEFAULT_QUERY_TIMEOUT_MS,
    active: true,
    searchEnabled: true,
    eachUserSignsIn: false,
  };
}

/** The form for editing `source` as stored. */
export function formOf(source: DataSource): SourceForm {
  const form = emptyForm();
  const url = source.database_url ?? '';
  let connection: Connection = 'none';
  if (url.startsWith('sqlite:')) {
    connection = 'sqlite';
    form.bundlePath = url.slice('sqlite:'.length);
  } else if (url !== '') {
    const parsed = parsePgUrl(url);
    connection = 'postgres';
    if (parsed.ok) {
      form.pg = parsed.fields;
    }
  }
  return {
    ...form,
    name: source.name,
    displayName: source.display_name,
    sourceType: source.source_type,
    jurisdiction: source.jurisdiction ?? '',
    connection,
    poolSize: source.pool_size,
    acquireTimeoutMs: source.acquire_timeout_ms,
    queryTimeoutMs: source.query_timeout_ms,
    active: source.is_active,
    searchEnabled: source.search_enabled,
    eachUserSignsIn: source.each_user_signs_in,
  };
}

/** The URL the form stands for (`null`: no URL, the source stays unconfigured). */
export function urlOf(form: SourceForm): string | null {
  switch (form.connection) {
    case 'postgres':
      return buildPgUrl(form.pg);
    case 'sqlite':
      return form.bundlePath.trim() === '' ? null : `sqlite:${form.bundlePath.trim()}`;
    case 'none':
      return null;
  }
}

/** A number field's value: `null` (leave as is, or the default when adding) when it is empty. */
function count(value: number | null | undefined): number | null {
  return typeof value === 'number' && Number.isFinite(value) ? value : null;
}

/**
 * Every editable field, for `add_source` and `edit_source` (the core validates them all). The two optional fields are
 * always sent: an empty string clears them (the core stores no URL, no jurisdiction), whereas `null` would keep them.
 */
export function changesOf(form: SourceForm): SourceChanges {
  return {
    display_name: form.displayName.trim(),
    database_url: urlOf(form) ?? '',
    source_type: form.sourceType.trim(),
    jurisdiction: form.jurisdiction.trim(),
    is_active: form.active,
    search_enabled: form.searchEnabled,
    pool_size: count(form.poolSize),
    acquire_timeout_ms: count(form.acquireTimeoutMs),
    query_timeout_ms: count(form.queryTimeoutMs),
    each_user_signs_in: form.connection === 'postgres' && form.eachUserSignsIn,
  };
}

/** The core's validation errors by field name (several for one field are joined). */
export function fieldErrors(error: CoreError): Record<string, string> {
  const byField: Record<string, string> = {};
  for (const problem of error.fields) {
    const before = byField[problem.field];
    byField[problem.field] = before === undefined ? problem.message : `${before} ${problem.message}`;
  }
  return byField;
}
