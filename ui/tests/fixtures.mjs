// Data the mocked shell answers with, typed by the generated bindings.

/** @typedef {import('../src/lib/bindings/AppOverview.ts').AppOverview} AppOverview */
/** @typedef {import('../src/lib/bindings/DataSource.ts').DataSource} DataSource */
/** @typedef {import('../src/lib/bindings/Hit.ts').Hit} Hit */
/** @typedef {import('../src/lib/bindings/MatchCount.ts').MatchCount} MatchCount */
/** @typedef {import('../src/lib/bindings/SearchEvent.ts').SearchEvent} SearchEvent */
/** @typedef {import('../src/lib/bindings/SearchOutcome.ts').SearchOutcome} SearchOutcome */
/** @typedef {import('../src/lib/bindings/SearchSummary.ts').SearchSummary} SearchSummary */
/** @typedef {import('../src/lib/bindings/SourceOutcome.ts').SourceOutcome} SourceOutcome */
/** @typedef {import('../src/lib/bindings/ExecutionStatus.ts').ExecutionStatus} ExecutionStatus */
/** @typedef {import('../src/lib/bindings/OpinionDocument.ts').OpinionDocument} OpinionDocument */
/** @typedef {import('../src/lib/bindings/SearchRecord.ts').SearchRecord} SearchRecord */
/** @typedef {import('../src/lib/bindings/SearchRequest.ts').SearchRequest} SearchRequest */
/** @typedef {import('../src/lib/bindings/SnippetPart.ts').SnippetPart} SnippetPart */

export const SEARCH_ID = '6b1f2c3d-0000-4000-8000-000000000001';

/**
 * @param {string} name
 * @param {string} display_name
 * @param {Partial<DataSource>} [changes]
 * @returns {DataSource}
 */
function source(name, display_name, changes = {}) {
  return {
    id: `00000000-0000-4000-8000-${name.padStart(12, '0').slice(-12)}`,
    name,
    display_name,
    database_url: `sqlite:sources/${name}.sqlite`,
    source_type: 'sqlite',
    jurisdiction: null,
    is_active: true,
    search_enabled: true,
    pool_size: 4,
    acquire_timeout_ms: 5000,
    query_timeout_ms: 20000,
    created_at: '2026-11-01T00:00:00Z',
    updated_at: '2026-11-01T00:00:00Z',
    credential_updated_at: null,
    each_user_signs_in: false,
    ...changes,
  };
}

export const SOURCES = {
  sample: source('sample_opinions', 'Sample opinions (offline)'),
  ny: source('ny_appeals', 'NY Court of Appeals', { source_type: 'postgres', jurisdiction: 'NY' }),
  federal: source('federal_circuits', 'Federal circuits', {
    source_type: 'postgres',
    jurisdiction: 'federal',
  }),
  archive: source('state_archive', 'State archive', { database_url: null }),
  closed: source('old_reporter', 'Old reporter', { is_active: false }),
  searchOff: source('tax_court', 'Tax court', { search_enabled: false }),
};

/** @type {AppOverview} */
export const OVERVIEW = {
  user: {
    id: '00000000-0000-4000-8000-00000000aaaa',
    username: 'jdoe',
    display_name: 'Jane Doe',
    is_admin: false,
    created_at: '2026-11-01T00:00:00Z',
  },
  sources: Object.values(SOURCES),
  searchable: [SOURCES.sample.id, SOURCES.ny.id, SOURCES.federal.id],
  sign_in_needed: [],
  signed_in: [],
};

/**
 * @param {DataSource} from
 * @param {number} opinion_id
 * @param {string} case_name
 * @param {number} score
 * @param {Partial<Hit>} [changes]
 * @returns {Hit}
 */
export function hit(from, opinion_id, case_name, score, changes = {}) {
  return {
    sources: [{ source_id: from.id, source_name: from.name, opinion_id }],
    case_name,
    citation: `${String(opinion_id)} N.Y.2d ${String(opinion_id * 3)}`,
    court: 'Court of Appeals of New York',
    jurisdiction: 'NY',
    decided_on: '1998-05-12',
    docket_number: `D-${String(opinion_id)}`,
    snippet: [
      { text: 'the ', highlight: false },
      { text: 'hearsay', highlight: true },
      { text: ' was admitted over ', highlight: false },
      { text: 'objection', highlight: true },
      { text: '.', highlight: false },
    ],
    score,
    tier: 0,
    missing: [],
    ...changes,
  };
}

/**
 * A near miss: a hit lacking `missing` (clauses in query syntax), in tier `missing.length`.
 * @param {DataSource} from
 * @param {number} opinion_id
 * @param {string} case_name
 * @param {number} score
 * @param {string[]} missing
 * @param {Partial<Hit>} [changes]
 * @returns {Hit}
 */
export function nearMiss(from, opinion_id, case_name, score, missing, changes = {}) {
  return hit(from, opinion_id, case_name, score, { tier: missing.length, missing, ...changes });
}

/**
 * @param {DataSource[]} sources
 * @returns {SearchEvent}
 */
export function started(sources) {
  return {
    type: 'started',
    search_id: SEARCH_ID,
    sources: sources.map((s, i) => ({
      source_id: s.id,
      execution_id: `e0000000-0000-4000-8000-00000000000${String(i)}`,
      name: s.name,
      display_name: s.display_name,
    })),
  };
}

/**
 * @param {DataSource} s
 * @returns {SearchEvent}
 */
export function running(s) {
  return { type: 'source_running', source_id: s.id };
}

/**
 * @param {DataSource} s
 * @param {ExecutionStatus} status
 * @param {Hit[]} hits its exact matches and near misses (counted apart, as the core does)
 * @param {number} ms
 * @param {string | null} [error]
 * @param {MatchCount | null} [matches] how many opinions matched (none reported unless given)
 * @returns {SourceOutcome}
 */
export function outcome(s, status, hits, ms, error = null, matches = null) {
  const exact = hits.filter((h) => h.tier === 0).length;
  return {
    source_id: s.id,
    name: s.name,
    status,
    results_count: exact,
    near_misses: hits.length - exact,
    matches,
    execution_time_ms: ms,
    error,
    sign_in: null,
  };
}

/**
 * Match counts added up as the core adds them: the sum, estimated if any part is; null when no part has a count.
 * @param {(MatchCount | null)[]} parts
 * @returns {MatchCount | null}
 */
export function totalMatches(parts) {
  /** @type {MatchCount | null} */
  let total = null;
  for (const part of parts) {
    if (part !== null) {
      total =
        total === null
          ? { ...part }
          : { count: total.count + part.count, estimated: total.estimated || part.estimated };
    }
  }
  return total;
}

/**
 * @param {SourceOutcome} result
 * @param {Hit[]} hits
 * @returns {SearchEvent}
 */
export function sourceFinished(result, hits) {
  return { type: 'source_finished', outcome: result, hits };
}

/**
 * @param {SourceOutcome[]} outcomes
 * @param {Hit[]} hits the merged list
 * @param {number} wall
 * @returns {SearchSummary}
 */
export function summary(outcomes, hits, wall) {
  /** @param {ExecutionStatus} status */
  const count = (status) => outcomes.filter((o) => o.status === status).length;
  return {
    search_id: SEARCH_ID,
    total_results: hits.length,
    exact_results: hits.filter((h) => h.tier === 0).length,
    near_miss_results: hits.filter((h) => h.tier > 0).length,
    sources_searched: outcomes.length,
    completed: count('completed'),
    failed: count('failed'),
    timed_out: count('timed_out'),
    cancelled: count('cancelled'),
    wall_time_ms: wall,
    source_time_ms: outcomes.reduce((sum, o) => sum + o.execution_time_ms, 0),
    partial: count('completed') < outcomes.length,
    total_matches: totalMatches(outcomes.map((o) => o.matches)),
  };
}

/**
 * The `finished` event and the command's answer for the same search.
 * @param {SourceOutcome[]} outcomes
 * @param {Hit[]} hits
 * @param {number} wall
 * @returns {{ event: SearchEvent, answer: SearchOutcome }}
 */
export function finished(outcomes, hits, wall) {
  const sum = summary(outcomes, hits, wall);
  return {
    event: { type: 'finished', summary: sum, hits },
    answer: { search_id: SEARCH_ID, hits, summary: sum, sources: outcomes },
  };
}

/**
 * The opinion behind `h` (its first source), with `paragraphs` as given; `highlights` counts their marks.
 * @param {Hit} h
 * @param {SnippetPart[][]} paragraphs
 * @returns {{ key: string, doc: OpinionDocument }}
 */
export function opinion(h, paragraphs) {
  const from = h.sources[0];
  if (from === undefined) {
    throw new Error('a hit without a source');
  }
  return {
    key: `${from.source_id}:${String(from.opinion_id)}`,
    doc: {
      source_id: from.source_id,
      source_name: from.source_name,
      opinion_id: from.opinion_id,
      case_name: h.case_name,
      citation: h.citation,
      court: h.court,
      jurisdiction: h.jurisdiction,
      decided_on: h.decided_on,
      docket_number: h.docket_number,
      paragraphs,
      highlights: paragraphs.flat().filter((part) => part.highlight).length,
    },
  };
}

/**
 * A past search as `search_history` returns it: the request's filters, sort and sources stored in `filters`.
 * @param {string} id
 * @param {SearchRequest} request
 * @param {string} created_at
 * @param {{ source: DataSource, status: ExecutionStatus, count: number | null, ms: number | null, error?: string, matches?: MatchCount }[]} runs
 * @returns {SearchRecord}
 */
export function pastSearch(id, request, created_at, runs) {
  return {
    total_matches: totalMatches(runs.map((run) => run.matches ?? null)),
    search: {
      id,
      user_id: OVERVIEW.user.id,
      query_text: request.query,
      mode: request.mode,
      filters: { filters: request.filters, sort: request.sort, sources: request.sources },
      created_at,
    },
    username: OVERVIEW.user.username,
    executions: runs.map((run, i) => ({
      source_name: run.source.name,
      source_removed: false,
      id: `${id.slice(0, -2)}${String(i).padStart(2, '0')}`,
      search_id: id,
      data_source_id: run.source.id,
      data_source_name: run.source.name,
      status: run.status,
      results_count: run.count,
      matches: run.matches ?? null,
      execution_time_ms: run.ms,
      error_message: run.error ?? null,
      started_at: created_at,
      completed_at: created_at,
      created_at,
    })),
  };
}

// The settings window's data: the Sources view, users, the access grid, a doctor report, an import preview.

/** @typedef {import('../src/lib/bindings/SourceRow.ts').SourceRow} SourceRow */
/** @typedef {import('../src/lib/bindings/SourcesView.ts').SourcesView} SourcesView */
/** @typedef {import('../src/lib/bindings/User.ts').User} User */
/** @typedef {import('../src/lib/bindings/AccessRow.ts').AccessRow} AccessRow */
/** @typedef {import('../src/lib/bindings/AccessCell.ts').AccessCell} AccessCell */
/** @typedef {import('../src/lib/bindings/DoctorReport.ts').DoctorReport} DoctorReport */
/** @typedef {import('../src/lib/bindings/ImportReport.ts').ImportReport} ImportReport */

/** The keychain sentence the core gives while the desktop keyring is locked. */
export const KEYCHAIN_LOCKED =
  'the OS keychain is locked; unlock it (log in to the desktop, or unlock the "login" keyring) and try again';

/** Sources as the settings window shows them: a PostgreSQL one with its password, a bundle, an unconfigured one. */
export const ADMIN_SOURCES = {
  ny: source('ny_appeals', 'NY Court of Appeals', {
    database_url: 'postgres://reader@db.firm.example:5432/ny?sslmode=verify-full',
    source_type: 'state_appeals',
    jurisdiction: 'NY',
    pool_size: 5,
    acquire_timeout_ms: 15000,
    query_timeout_ms: 30000,
    credential_updated_at: '2026-11-20T09:00:00Z',
  }),
  sample: source('sample_opinions', 'Sample opinions (offline)', { search_enabled: false }),
  archive: source('state_archive', 'State archive', { database_url: null, is_active: false }),
};

/**
 * @param {Partial<SourcesView>} [changes]
 * @returns {SourcesView}
 */
export function sourcesView(changes = {}) {
  /** @type {SourceRow[]} */
  const sources = [
    {
      source: ADMIN_SOURCES.ny,
      password_stored: true,
      keychain_problem: null,
      last_test: {
        status: 'warning',
        summary: 'the server certificate expires in 9 days; renew it',
        tested_at: '2026-11-30T14:05:00Z',
        tested_by: 'admin',
      },
    },
    { source: ADMIN_SOURCES.sample, password_stored: false, keychain_problem: null, last_test: null },
    { source: ADMIN_SOURCES.archive, password_stored: false, keychain_problem: null, last_test: null },
  ];
  return { sources, keychain: 'Secret Service keychain', ...changes };
}

/**
 * @param {string} username
 * @param {string | null} display_name
 * @param {boolean} is_admin
 * @returns {User}
 */
function user(username, display_name, is_admin) {
  return {
    id: `00000000-0000-4000-8000-${username.padStart(12, '0').slice(-12)}`,
    username,
    display_name,
    is_admin,
    created_at: '2026-11-01T00:00:00Z',
  };
}

export const USERS = {
  admin: user('admin', 'IT Admin', true),
  jdoe: user('jdoe', 'Jane Doe', false),
  rroe: user('rroe', null, false),
};

/**
 * @param {import('../src/lib/bindings/DataSource.ts').DataSource} s
 * @param {Partial<AccessCell>} [changes]
 * @returns {AccessCell}
 */
function cell(s, changes = {}) {
  return {
    source_id: s.id,
    source_name: s.name,
    level: null,
    granted_at: null,
    granted_by: null,
    can_search: false,
    reason: 'no grant',
    ...changes,
  };
}

/** The users × sources grid: jdoe reads ny (and searches it) and sample (search off there); rroe has nothing. */
export function accessGrid() {
  const { ny, sample, archive } = ADMIN_SOURCES;
  const granted = { granted_at: '2026-11-15T10:00:00Z', granted_by: 'admin' };
  /** @type {AccessRow[]} */
  const rows = [
    {
      user: USERS.admin,
      cells: [
        cell(ny, { level: 'admin', ...granted, can_search: true, reason: null }),
        cell(sample, { level: 'admin', ...granted, reason: 'search is turned off for this source' }),
        cell(archive, { level: 'admin', ...granted, reason: 'the source is disabled' }),
      ],
    },
    {
      user: USERS.jdoe,
      cells: [
        cell(ny, { level: 'read', ...granted, can_search: true, reason: null }),
        cell(sample, { level: 'read', ...granted, reason: 'search is turned off for this source' }),
        cell(archive),
      ],
    },
    { user: USERS.rroe, cells: [cell(ny), cell(sample), cell(archive)] },
  ];
  return rows;
}

/** @type {DoctorReport} */
export const DOCTOR_REPORT = {
  source: 'ny_appeals',
  checks: [
    { name: 'configuration', status: 'ok', message: 'the URL is valid' },
    {
      name: 'credential',
      status: 'warning',
      message: 'no password is stored; set one if the server asks for it',
    },
    {
      name: 'connection',
      status: 'error',
      message:
        'db.firm.example:5432 refused the connection; check that PostgreSQL is running and listening there',
    },
  ],
};

/** @type {ImportReport} */
export const IMPORT_PREVIEW = {
  items: [
    { kind: 'user', name: 'jdoe', outcome: 'unchanged' },
    { kind: 'user', name: 'asmith', outcome: 'created' },
    { kind: 'source', name: 'ny_appeals', outcome: 'updated' },
    { kind: 'grant', name: 'rroe → ny_appeals', outcome: 'removed' },
  ],
  dry_run: true,
  passwords_cleared: ['ny_appeals'],
};
