// Match counts: the formatting helper (src/lib/counts.ts, compiled here with TypeScript and imported), then the status
// chips, the summary line and the history in headless Chromium with the shell mocked (see harness.mjs), with counted,
// estimated and missing (null) counts. Run with `npm run test:ui` (builds first).
import assert from 'node:assert/strict';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, before, describe, test } from 'node:test';
import { pathToFileURL } from 'node:url';

import ts from 'typescript';

import {
  finished,
  hit,
  outcome,
  OVERVIEW,
  pastSearch,
  running,
  sourceFinished,
  SOURCES,
  started,
} from './fixtures.mjs';
import { launchBrowser, openApp, serveDist } from './harness.mjs';

/** @typedef {import('playwright-core').Page} Page */
/** @typedef {import('../src/lib/bindings/MatchCount.ts').MatchCount} MatchCount */
/** @typedef {import('../src/lib/bindings/SearchEvent.ts').SearchEvent} SearchEvent */

/** @type {MatchCount} */
const COUNTED = { count: 1234, estimated: false };
/** @type {MatchCount} */
const ESTIMATED = { count: 41000, estimated: true };

/**
 * counts.ts as Node can import it: its only import is a type, which compiling erases.
 * @returns {Promise<typeof import('../src/lib/counts.ts')>}
 */
async function importCounts() {
  const source = await readFile(new URL('../src/lib/counts.ts', import.meta.url), 'utf8');
  const { outputText } = ts.transpileModule(source, {
    compilerOptions: { module: ts.ModuleKind.ESNext, target: ts.ScriptTarget.ES2022 },
  });
  const dir = await mkdtemp(join(tmpdir(), 'lexica-counts-'));
  try {
    const file = join(dir, 'counts.mjs');
    await writeFile(file, outputText);
    // A module loaded from a path has no static type: it is declared to be counts.ts's.
    const loaded = /** @type {unknown} */ (await import(pathToFileURL(file).href));
    return /** @type {typeof import('../src/lib/counts.ts')} */ (loaded);
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

describe('the count helper', () => {
  test('groups thousands with commas and marks estimates with ≈', async () => {
    const counts = await importCounts();
    assert.equal(counts.groupThousands(0), '0');
    assert.equal(counts.groupThousands(999), '999');
    assert.equal(counts.groupThousands(1000), '1,000');
    assert.equal(counts.groupThousands(1234567), '1,234,567');
    assert.equal(counts.formatMatchCount(COUNTED), '1,234');
    assert.equal(counts.formatMatchCount(ESTIMATED), '≈ 41,000');
    assert.equal(counts.formatMatchCount({ count: 7, estimated: false }), '7');
  });

  test('says match or matches, and how the shown matches compare with the total', async () => {
    const counts = await importCounts();
    assert.equal(counts.matchesText({ count: 1, estimated: false }), '1 match');
    assert.equal(counts.matchesText({ count: 0, estimated: false }), '0 matches');
    assert.equal(counts.matchesText(COUNTED), '1,234 matches');
    assert.equal(counts.matchesText(ESTIMATED), '≈ 41,000 matches');
    assert.equal(counts.shownOf(COUNTED, 100), 'the top 100');
    assert.equal(counts.shownOf({ count: 42, estimated: false }, 42), 'all 42');
    assert.equal(
      counts.shownOf({ count: 42, estimated: true }, 42),
      'the top 42',
      'an estimate is never "all"',
    );
  });
});

/** @type {Awaited<ReturnType<typeof serveDist>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof openApp>> | null} */
let app = null;

describe('match counts in the search window', () => {
  before(async () => {
    server = await serveDist();
    browser = await launchBrowser();
  });

  after(async () => {
    await browser.close();
    await server.close();
  });

  afterEach(async () => {
    if (app !== null) {
      const problems = await app.problems();
      await app.close();
      app = null;
      assert.deepEqual(problems, []);
    }
  });

  /**
   * @param {Omit<import('./harness.mjs').MockConfig, 'overview' | 'queryProblems'>} [more]
   * @returns {Promise<Page>}
   */
  async function open(more = {}) {
    app = await openApp(browser, server.url, { overview: OVERVIEW, queryProblems: {}, ...more });
    return app.page;
  }

  /**
   * @param {Page} page
   * @param {SearchEvent} event
   */
  async function emit(page, event) {
    await page.evaluate((e) => {
      window.__lexicaMock.emit(e);
    }, event);
  }

  /**
   * Runs a search whose sources answer with `outcomes` (each source's hits in `hits`), then finishes it.
   * @param {Page} page
   * @param {import('../src/lib/bindings/SourceOutcome.ts').SourceOutcome[]} outcomes
   * @param {import('../src/lib/bindings/Hit.ts').Hit[][]} hits
   */
  async function searchWith(page, outcomes, hits) {
    const box = page.getByRole('textbox', { name: 'Boolean query' });
    await box.fill('court');
    await box.press('Enter');
    await page.waitForFunction(() => window.__lexicaMock.state.searches.length > 0);
    const sources = Object.values(SOURCES).filter((s) => outcomes.some((o) => o.source_id === s.id));
    await emit(page, started(sources));
    for (const [i, result] of outcomes.entries()) {
      const source = sources.find((s) => s.id === result.source_id) ?? assert.fail();
      await emit(page, running(source));
      await emit(page, sourceFinished(result, hits[i] ?? []));
    }
    const end = finished(outcomes, hits.flat(), 120);
    await emit(page, end.event);
    await page.evaluate((a) => {
      window.__lexicaMock.answer(a);
    }, end.answer);
    await page.getByRole('button', { name: 'Search' }).waitFor();
  }

  /**
   * @param {Page} page
   * @param {string} name source name
   */
  async function chipText(page, name) {
    return (await page.locator(`.chips li[data-source="${name}"]`).textContent())
      ?.replace(/\s+/g, ' ')
      .trim();
  }

  /** @param {Page} page */
  async function summaryText(page) {
    return (await page.locator('p.summary .summary-text').textContent())?.replace(/\s+/g, ' ').trim();
  }

  const s = SOURCES.sample;
  const n = SOURCES.ny;
  const a = hit(s, 7, 'People v. Ortiz', 9.5);
  const b = hit(n, 11, 'Matter of Grant', 8.1);

  test('chips and summary show counted and estimated matches; the total is estimated when a part is', async () => {
    const page = await open();
    await searchWith(
      page,
      [outcome(s, 'completed', [a], 12, null, COUNTED), outcome(n, 'completed', [b], 95, null, ESTIMATED)],
      [[a], [b]],
    );
    assert.equal(await chipText(page, s.name), 'Sample opinions (offline): 1,234 matches · 12 ms');
    assert.equal(await chipText(page, n.name), 'NY Court of Appeals: ≈ 41,000 matches · 95 ms');
    assert.equal(
      await summaryText(page),
      '≈ 42,234 matches from 2 of 2 sources in 120 ms; showing the top 2',
      'total matches vs shown',
    );
  });

  test('every match shown: the summary says all; near misses are counted beside them', async () => {
    const page = await open();
    const near = hit(s, 8, 'People v. Reyes', 3.2, { tier: 1, missing: ['"at home"'] });
    await searchWith(
      page,
      [outcome(s, 'completed', [a, near], 9, null, { count: 1, estimated: false })],
      [[a, near]],
    );
    assert.equal(await chipText(page, s.name), 'Sample opinions (offline): 1 match +1 near · 9 ms');
    assert.equal(
      await summaryText(page),
      '1 match from 1 of 1 source in 120 ms; showing all 1 + 1 near miss',
    );
  });

  test('without counts (null) the chips and the summary count the returned results, as before', async () => {
    const page = await open();
    await searchWith(page, [outcome(s, 'completed', [a], 12), outcome(n, 'completed', [b], 95)], [[a], [b]]);
    assert.equal(await chipText(page, s.name), 'Sample opinions (offline): 1 result · 12 ms');
    assert.equal(await chipText(page, n.name), 'NY Court of Appeals: 1 result · 95 ms');
    assert.equal(await summaryText(page), '2 results from 2 of 2 sources in 120 ms');
  });

  test('one source counted, one failed: the total is that source’s count, and the summary still says partial', async () => {
    const page = await open();
    await searchWith(
      page,
      [outcome(s, 'completed', [a], 12, null, ESTIMATED), outcome(n, 'failed', [], 30, 'cannot connect')],
      [[a], []],
    );
    assert.equal(await chipText(page, s.name), 'Sample opinions (offline): ≈ 41,000 matches · 12 ms');
    assert.equal(
      await summaryText(page),
      '≈ 41,000 matches from 1 of 2 sources in 120 ms; showing the top 1',
    );
    assert.match((await page.locator('p.summary .partial').textContent()) ?? '', /Partial/);
  });

  test('history shows each search’s total matches and each source’s, and results for searches from before', async () => {
    /** @type {import('../src/lib/bindings/SearchRequest.ts').SearchRequest} */
    const request = {
      query: 'court',
      mode: 'boolean',
      sources: [],
      filters: { courts: [], jurisdictions: [] },
      sort: 'relevance',
    };
    const history = [
      pastSearch('5e000000-0000-4000-8000-000000000002', request, '2026-12-01T10:15:00Z', [
        { source: s, status: 'completed', count: 100, ms: 12, matches: COUNTED },
        { source: n, status: 'completed', count: 100, ms: 95, matches: ESTIMATED },
      ]),
      pastSearch('5e000000-0000-4000-8000-000000000001', request, '2026-11-25T09:00:00Z', [
        { source: s, status: 'completed', count: 100, ms: 12 },
        { source: n, status: 'completed', count: 96, ms: 30 },
      ]),
    ];
    const page = await open({ history });
    await page.getByRole('button', { name: 'History' }).click();
    await page.getByRole('heading', { name: 'Search history' }).waitFor();
    const entries = page.locator('.entry');
    assert.deepEqual(await entries.locator('.total').allTextContents(), ['≈ 42,234 matches', '196 results']);
    const steps = async (/** @type {number} */ i) =>
      (await entries.nth(i).locator('.timeline li').allTextContents()).map((t) =>
        t.replace(/\s+/g, ' ').trim(),
      );
    assert.deepEqual(await steps(0), [
      'Sample opinions (offline): Done · 1,234 matches · 12 ms',
      'NY Court of Appeals: Done · ≈ 41,000 matches · 95 ms',
    ]);
    assert.deepEqual(await steps(1), [
      'Sample opinions (offline): Done · 100 results · 12 ms',
      'NY Court of Appeals: Done · 96 results · 30 ms',
    ]);
  });
});
