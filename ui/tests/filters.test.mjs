// The search form's pure rules (src/lib/filters.ts, compiled here with TypeScript and imported, as counts.test.mjs
// does): the date check, why a form cannot be sent, the request it sends, and the form a past request fills back in.
// Run with `npm run test:ui` (or `node --test tests/filters.test.mjs`: no browser needed).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import ts from 'typescript';

/** @typedef {import('../src/lib/filters.ts').FormValues} FormValues */
/** @typedef {import('../src/lib/bindings/SearchRequest.ts').SearchRequest} SearchRequest */

/**
 * filters.ts as Node can import it: its only imports are types, which compiling erases.
 * @returns {Promise<typeof import('../src/lib/filters.ts')>}
 */
async function importFilters() {
  const source = await readFile(new URL('../src/lib/filters.ts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const dir = await mkdtemp(join(tmpdir(), 'lexica-filters-'));
  try {
    const file = join(dir, 'filters.mjs');
    await writeFile(file, outputText);
    // A module loaded from a path has no static type: it is declared to be filters.ts's.
    const loaded = /** @type {unknown} */ (await import(pathToFileURL(file).href));
    return /** @type {typeof import('../src/lib/filters.ts')} */ (loaded);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

/** Every source the user may search, in the tests below. */
const SEARCHABLE = ['sample_opinions', 'ny_appeals'];

/**
 * A form as the window starts it (every searchable source chosen), with `changes`.
 * @param {Partial<FormValues>} [changes]
 * @returns {FormValues}
 */
function form(changes = {}) {
  return {
    query: 'hearsay',
    mode: 'boolean',
    selected: [...SEARCHABLE],
    courts: '',
    jurisdictions: '',
    from: '',
    to: '',
    sort: 'relevance',
    nearMisses: true,
    ...changes,
  };
}

/** @type {typeof import('../src/lib/filters.ts')} */
let filters;

before(async () => {
  filters = await importFilters();
});

describe('the search form', () => {
  test('a date is empty or a real YYYY-MM-DD day', () => {
    assert.equal(filters.dateProblem(''), null);
    assert.equal(filters.dateProblem('   '), null);
    assert.equal(filters.dateProblem('1998-05-12'), null);
    assert.equal(filters.dateProblem(' 2000-02-29 '), null, 'trimmed; a leap day');
    for (const bad of ['1998-02-30', '1900-02-29', '1998-5-12', '12/05/1998', '1998-13-01', 'yesterday']) {
      assert.equal(
        filters.dateProblem(bad),
        `“${bad}” is not a date: type it as YYYY-MM-DD (for example 1998-05-12).`,
        bad,
      );
    }
  });

  test('says why it cannot be sent, first problem first, and whether the query box is what to fix', () => {
    assert.equal(filters.formProblem(form()), null);
    assert.deepEqual(filters.formProblem(form({ query: '  ', selected: [] })), {
      message: 'Type a query to search for.',
      inQuery: true,
    });
    assert.deepEqual(filters.formProblem(form({ query: '', mode: 'statements' })), {
      message: 'Describe the issue to search for.',
      inQuery: true,
    });
    assert.deepEqual(filters.formProblem(form({ selected: [], from: 'soon' })), {
      message: 'Choose at least one source to search.',
      inQuery: false,
    });
    assert.deepEqual(filters.formProblem(form({ to: '1998-02-30' })), {
      message:
        'Decided from / to: “1998-02-30” is not a date: type it as YYYY-MM-DD (for example 1998-05-12).',
      inQuery: false,
    });
    assert.deepEqual(filters.formProblem(form({ from: '2001-01-01', to: '2000-12-31' })), {
      message: 'Decided from is after Decided to: swap them, or clear one.',
      inQuery: false,
    });
    assert.equal(filters.formProblem(form({ from: '2001-01-01', to: '2001-01-01' })), null, 'one day');
    assert.equal(filters.formProblem(form({ from: '2001-01-01' })), null, 'from only');
  });

  test('builds the request: lists split on commas, dates trimmed, all sources as none named, near misses said only when off', () => {
    assert.deepEqual(filters.buildRequest(form(), SEARCHABLE), {
      query: 'hearsay',
      mode: 'boolean',
      sources: [],
      filters: { courts: [], jurisdictions: [] },
      sort: 'relevance',
    });
    /** @type {SearchRequest} */
    const narrowed = {
      query: ' miranda ',
      mode: 'statements',
      sources: ['ny_appeals'],
      filters: {
        courts: ['Court of Appeals', 'Supreme Court'],
        jurisdictions: ['NY'],
        from: '1990-01-01',
        to: '2000-12-31',
      },
      sort: 'newest',
      near_misses: false,
    };
    const sent = filters.buildRequest(
      form({
        query: ' miranda ',
        mode: 'statements',
        selected: ['ny_appeals'],
        courts: ' Court of Appeals,, Supreme Court ,',
        jurisdictions: 'NY',
        from: ' 1990-01-01',
        to: '2000-12-31 ',
        sort: 'newest',
        nearMisses: false,
      }),
      SEARCHABLE,
    );
    assert.deepEqual(sent, narrowed);
    assert.deepEqual(filters.formOf(narrowed, SEARCHABLE), {
      query: ' miranda ',
      mode: 'statements',
      selected: ['ny_appeals'],
      courts: 'Court of Appeals, Supreme Court',
      jurisdictions: 'NY',
      from: '1990-01-01',
      to: '2000-12-31',
      sort: 'newest',
      nearMisses: false,
    });
  });

  test('a past request fills the form that sends it again', () => {
    /** @type {SearchRequest} */
    const past = {
      query: 'hearsay',
      mode: 'boolean',
      sources: [],
      filters: { courts: [], jurisdictions: [] },
      sort: 'relevance',
    };
    const filled = filters.formOf(past, SEARCHABLE);
    assert.deepEqual(filled, form(), 'no sources named: every searchable one chosen');
    assert.deepEqual(filters.buildRequest(filled, SEARCHABLE), past);
  });
});
