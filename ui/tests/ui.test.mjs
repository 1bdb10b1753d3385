// The search window in headless Chromium against the built UI, with the shell mocked (see harness.mjs).
// Run with `npm run test:ui` (builds first).
import assert from 'node:assert/strict';
import { after, afterEach, before, describe, test } from 'node:test';

import {
  finished,
  hit,
  nearMiss,
  opinion,
  outcome,
  OVERVIEW,
  pastSearch,
  running,
  SEARCH_ID,
  sourceFinished,
  SOURCES,
  started,
} from './fixtures.mjs';
import { AXE_SOURCE, launchBrowser, openApp, serveDist } from './harness.mjs';

/** @typedef {import('playwright-core').Page} Page */
/** @typedef {import('../src/lib/bindings/SearchEvent.ts').SearchEvent} SearchEvent */

/** @type {Awaited<ReturnType<typeof serveDist>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof openApp>> | null} */
let app = null;

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
    // Every test runs under the production CSP: nothing may be refused, nothing may throw.
    assert.deepEqual(problems, []);
  }
});

/**
 * @param {Record<string, import('../src/lib/bindings/QueryProblem.ts').QueryProblem>} [queryProblems]
 * @param {Omit<import('./harness.mjs').MockConfig, 'overview' | 'queryProblems'>} [more] opinions, history, export path
 * @returns {Promise<Page>}
 */
async function open(queryProblems = {}, more = {}) {
  app = await openApp(browser, server.url, { overview: OVERVIEW, queryProblems, ...more });
  return app.page;
}

/**
 * Runs `query` and finishes it with `hits` from the sample source.
 * @param {Page} page
 * @param {string} query
 * @param {import('../src/lib/bindings/Hit.ts').Hit[]} hits
 */
async function searchAndFinish(page, query, hits) {
  await search(page, query);
  const s = SOURCES.sample;
  const end = finished([outcome(s, 'completed', hits, 9)], hits, 10);
  await emit(page, started([s]));
  await emit(page, end.event);
  await answer(page, end.answer);
  await page.getByRole('button', { name: 'Search' }).waitFor();
}

/**
 * The focused element: a result's case name, else the element's id.
 * @param {Page} page
 */
function focused(page) {
  return page.evaluate(() => {
    const element = document.activeElement;
    return element?.getAttribute('role') === 'option'
      ? (element.querySelector('h3')?.textContent ?? '')
      : (element?.id ?? '');
  });
}

/** @param {Page} page */
async function audit(page) {
  const result = await page.evaluate(() =>
    window.axe.run(document, {
      resultTypes: ['violations'],
      runOnly: ['wcag2a', 'wcag2aa', 'best-practice'],
    }),
  );
  return result.violations
    .filter((v) => v.impact === 'serious' || v.impact === 'critical')
    .map(
      (v) =>
        `${v.id} (${String(v.impact)}): ${v.help} at ${JSON.stringify(v.nodes.map((node) => node.target))}`,
    );
}

/** @param {string} text */
const plain = (text) => ({ text, highlight: false });
/** @param {string} text */
const marked = (text) => ({ text, highlight: true });
/** Filler paragraphs, so marks far apart are off screen. */
const filler = Array.from({ length: 30 }, (_, i) => [
  plain(`Paragraph ${String(i)} of the procedural history.`),
]);

/**
 * @param {Page} page
 * @param {string} cmd
 */
function calls(page, cmd) {
  return page.evaluate((name) => window.__lexicaMock.state.calls.filter((c) => c.cmd === name), cmd);
}

/**
 * @param {Page} page
 * @param {string} cmd
 * @param {number} [count]
 */
async function waitForCalls(page, cmd, count = 1) {
  await page.waitForFunction(
    ([name, n]) => window.__lexicaMock.state.calls.filter((c) => c.cmd === name).length >= Number(n),
    [cmd, String(count)],
  );
  return calls(page, cmd);
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
 * @param {Page} page
 * @param {unknown} answer
 */
async function answer(page, answer) {
  await page.evaluate((a) => {
    window.__lexicaMock.answer(a);
  }, answer);
}

/**
 * Types `query` and presses Enter; resolves when the mocked shell has the `search` call.
 * @param {Page} page
 * @param {string} query
 */
async function search(page, query) {
  const before = (await calls(page, 'search')).length;
  await queryBox(page).fill(query);
  await queryBox(page).press('Enter');
  const all = await waitForCalls(page, 'search', before + 1);
  return all[all.length - 1]?.args ?? {};
}

/** @param {Page} page */
function queryBox(page) {
  return page.getByRole('textbox', { name: 'Boolean query' });
}

/**
 * @param {Page} page
 * @param {string} name source name
 */
function chip(page, name) {
  return page.locator(`.chips li[data-source="${name}"]`);
}

/** @param {Page} page */
async function resultNames(page) {
  return page.locator('#results [role="option"] h3').allTextContents();
}

/** @param {Page} page */
async function summaryLine(page) {
  return (
    await page
      .getByRole('status')
      .filter({ hasText: /result/ })
      .textContent()
  )
    ?.replace(/\s+/g, ' ')
    .trim();
}

describe('search window', () => {
  test('search flow: the checked query is sent with the chosen sources, filters and sort, and results are shown', async () => {
    const page = await open();
    // The picker: searchable sources on by default; the others listed with their state and no checkbox.
    for (const s of [SOURCES.sample, SOURCES.ny, SOURCES.federal]) {
      assert.equal(await page.getByRole('checkbox', { name: s.display_name }).isChecked(), true);
    }
    assert.equal(await page.getByRole('checkbox', { name: SOURCES.archive.display_name }).count(), 0);
    // A source that cannot be searched says why in its badge (never "Active").
    const badges = await page
      .locator('.picker li')
      .evaluateAll((items) =>
        items.map((li) => [
          li.querySelector('.name')?.textContent.trim(),
          li.querySelector('.state')?.childNodes[0]?.textContent?.trim(),
        ]),
      );
    assert.deepEqual(badges, [
      ['Sample opinions (offline)', 'Active'],
      ['NY Court of Appeals', 'Active'],
      ['Federal circuits', 'Active'],
      ['State archive', 'not configured'],
      ['Old reporter', 'disabled'],
      ['Tax court', 'search off'],
    ]);
    assert.equal(
      await page.locator('.picker li', { hasText: 'Tax court' }).locator('.state').getAttribute('title'),
      'an administrator has turned its search off',
    );
    assert.equal(await page.getByRole('checkbox', { name: 'Tax court' }).count(), 0);

    await page.getByRole('checkbox', { name: SOURCES.federal.display_name }).uncheck();
    await page.getByLabel('Court', { exact: true }).fill('Court of Appeals of New York');
    await page.getByLabel('Jurisdiction').fill('NY, federal');
    await page.getByLabel('Decided from').fill('1990-01-01');
    await page.getByLabel('Sort by').selectOption('newest');

    // As-you-type checking (debounced) asks the shell, before any search is sent.
    await queryBox(page).fill('hearsay /p object!');
    const checks = await waitForCalls(page, 'check_query');
    assert.deepEqual(checks[0]?.args, { query: 'hearsay /p object!', mode: 'boolean' });
    assert.equal((await calls(page, 'search')).length, 0);

    await queryBox(page).press('Enter');
    const [call] = await waitForCalls(page, 'search');
    const args = call?.args ?? {};
    assert.deepEqual(args.request, {
      query: 'hearsay /p object!',
      mode: 'boolean',
      sources: ['sample_opinions', 'ny_appeals'],
      filters: {
        courts: ['Court of Appeals of New York'],
        jurisdictions: ['NY', 'federal'],
        from: '1990-01-01',
      },
      sort: 'newest',
    });
    assert.match(String(args.onEvent), /^__CHANNEL__:\d+$/, 'progress comes on a per-search channel');
    assert.equal(await page.getByRole('button', { name: 'Cancel' }).isVisible(), true);

    const a = hit(SOURCES.sample, 11, 'People v. Ortiz', 0.9, {
      // Opinion text is text: markup in it is shown, never parsed.
      snippet: [
        { text: 'held that <b>', highlight: false },
        { text: 'hearsay', highlight: true },
        { text: '</b> over objection', highlight: false },
      ],
    });
    const b = hit(SOURCES.ny, 7, 'Matter of Grant', 0.5, {
      docket_number: 'No. 2004-17',
      decided_on: '2004-02-03',
    });
    const outcomes = [
      outcome(SOURCES.sample, 'completed', [a], 12),
      outcome(SOURCES.ny, 'completed', [b], 95),
    ];
    await emit(page, started([SOURCES.sample, SOURCES.ny]));
    await emit(page, running(SOURCES.sample));
    await emit(page, running(SOURCES.ny));
    await emit(page, sourceFinished(outcomes[0] ?? assert.fail(), [a]));
    await emit(page, sourceFinished(outcomes[1] ?? assert.fail(), [b]));
    const end = finished(outcomes, [b, a], 120);
    await emit(page, end.event);
    await answer(page, end.answer);

    await page.getByRole('button', { name: 'Search' }).waitFor();
    assert.equal(await summaryLine(page), '2 results from 2 of 2 sources in 120 ms');
    assert.deepEqual(await resultNames(page), ['Matter of Grant', 'People v. Ortiz']);
    const second = page.locator('#results [role="option"]').nth(1);
    assert.equal(
      (await second.locator('.meta').textContent())?.trim(),
      '11 N.Y.2d 33 · Court of Appeals of New York · 1998-05-12 · No. D-11',
    );
    assert.equal(await second.locator('.badge').textContent(), 'Sample opinions (offline)');
    assert.equal(await second.locator('.snippet').textContent(), 'held that <b>hearsay</b> over objection');
    assert.deepEqual(await second.locator('.snippet mark').allTextContents(), ['hearsay']);
    assert.equal(await second.locator('.snippet b').count(), 0);
    const first = page.locator('#results [role="option"]').first();
    assert.equal(
      (await first.locator('.meta').textContent())?.trim(),
      '7 N.Y.2d 21 · Court of Appeals of New York · 2004-02-03 · No. 2004-17',
    );
  });

  test('live status chips: pending → running (elapsed) → completed / failed / timed out / cancelled', async () => {
    const page = await open();
    await search(page, 'hearsay');
    const [s, n, f, x] = [SOURCES.sample, SOURCES.ny, SOURCES.federal, SOURCES.closed];
    await emit(page, started([s, n, f, x]));
    for (const source of [s, n, f, x]) {
      assert.equal(await chip(page, source.name).getAttribute('data-status'), 'pending');
      assert.match((await chip(page, source.name).textContent()) ?? '', /Waiting/);
    }

    await emit(page, running(s));
    await emit(page, running(n));
    await emit(page, running(f));
    assert.equal(await chip(page, s.name).getAttribute('data-status'), 'running');
    // The elapsed time counts up while the source runs.
    await page.waitForFunction((name) => {
      const text = document.querySelector(`.chips li[data-source="${name}"]`)?.textContent ?? '';
      const ms = /Searching (\d+) ms/.exec(text);
      return ms !== null && Number(ms[1]) >= 200;
    }, s.name);

    await emit(
      page,
      sourceFinished(outcome(s, 'completed', [hit(s, 1, 'A v. B', 0.4), hit(s, 2, 'C v. D', 0.3)], 45), []),
    );
    assert.equal(await chip(page, s.name).getAttribute('data-status'), 'completed');
    assert.match(
      (await chip(page, s.name).textContent()) ?? '',
      /Sample opinions \(offline\): 2 results · 45 ms/,
    );

    const reason = 'cannot connect to db.example:5432: connection refused; check the host and port';
    await emit(page, sourceFinished(outcome(n, 'failed', [], 30, reason), []));
    await emit(page, sourceFinished(outcome(f, 'timed_out', [], 30000, 'no answer before the deadline'), []));
    await emit(page, sourceFinished(outcome(x, 'cancelled', [], 0), []));
    assert.equal(await chip(page, n.name).getAttribute('data-status'), 'failed');
    assert.equal(await chip(page, f.name).getAttribute('data-status'), 'timed_out');
    assert.equal(await chip(page, x.name).getAttribute('data-status'), 'cancelled');
    assert.match((await chip(page, f.name).textContent()) ?? '', /Timed out/);

    // The failure's reason: on hover (title) and on click (shown below the chips).
    const failed = chip(page, n.name).getByRole('button');
    assert.equal(await failed.getAttribute('title'), reason);
    assert.equal(await failed.getAttribute('aria-expanded'), 'false');
    await failed.click();
    assert.equal(await failed.getAttribute('aria-expanded'), 'true');
    assert.match(
      (await page.locator('#chip-reason').textContent()) ?? '',
      /NY Court of Appeals — failed: cannot connect/,
    );
    await failed.click();
    assert.equal((await page.locator('#chip-reason').textContent())?.trim(), '');

    const outcomes = [
      outcome(s, 'completed', [hit(s, 1, 'A v. B', 0.4), hit(s, 2, 'C v. D', 0.3)], 45),
      outcome(n, 'failed', [], 30, reason),
      outcome(f, 'timed_out', [], 30000, 'no answer before the deadline'),
      outcome(x, 'cancelled', [], 0),
    ];
    const end = finished(outcomes, [hit(s, 1, 'A v. B', 0.4), hit(s, 2, 'C v. D', 0.3)], 30010);
    await emit(page, end.event);
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Search' }).waitFor();
    assert.equal(
      await summaryLine(page),
      '2 results from 1 of 4 sources in 30.0 s Partial — 3 sources did not complete (1 failed, 1 timed out, 1 cancelled)',
    );
    assert.equal(await page.locator('.partial strong').textContent(), 'Partial');
  });

  test('results appear as each source answers, then the merged list replaces them on finished', async () => {
    const page = await open();
    await search(page, 'hearsay /p object!');
    const [s, n] = [SOURCES.sample, SOURCES.ny];
    await emit(page, started([s, n]));
    await emit(page, running(s));
    await emit(page, running(n));

    const fromSample = [hit(s, 1, 'People v. Ortiz', 0.7), hit(s, 2, 'People v. Lee', 0.2)];
    await emit(page, sourceFinished(outcome(s, 'completed', fromSample, 10), fromSample));
    assert.deepEqual(await resultNames(page), ['People v. Ortiz', 'People v. Lee']);
    assert.match((await summaryLine(page)) ?? '', /Searching… 2 results so far from 1 of 2 sources/);

    // The same opinion (Ortiz) from the second source, and one more: shown at once, best first.
    const fromNy = [hit(n, 40, 'People v. Ortiz', 0.8), hit(n, 41, 'Matter of Grant', 0.5)];
    await emit(page, sourceFinished(outcome(n, 'completed', fromNy, 80), fromNy));
    assert.deepEqual(await resultNames(page), [
      'People v. Ortiz',
      'People v. Ortiz',
      'Matter of Grant',
      'People v. Lee',
    ]);

    // The merged list: deduplicated by citation, one hit held by both sources.
    const ortiz = hit(s, 1, 'People v. Ortiz', 0.8, {
      sources: [
        { source_id: s.id, source_name: s.name, opinion_id: 1 },
        { source_id: n.id, source_name: n.name, opinion_id: 40 },
      ],
    });
    const merged = [ortiz, hit(n, 41, 'Matter of Grant', 0.5), hit(s, 2, 'People v. Lee', 0.2)];
    const end = finished(
      [outcome(s, 'completed', fromSample, 10), outcome(n, 'completed', fromNy, 80)],
      merged,
      85,
    );
    await emit(page, end.event);
    assert.deepEqual(await resultNames(page), ['People v. Ortiz', 'Matter of Grant', 'People v. Lee']);
    assert.deepEqual(
      await page.locator('#results [role="option"]').first().locator('.badge').allTextContents(),
      ['Sample opinions (offline)', 'NY Court of Appeals'],
    );
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Search' }).waitFor();
    assert.deepEqual(await resultNames(page), ['People v. Ortiz', 'Matter of Grant', 'People v. Lee']);
    assert.equal(await summaryLine(page), '3 results from 2 of 2 sources in 85 ms');
  });

  test('a malformed query shows its problem at the right position and nothing is sent', async () => {
    // 𝔖 is one character but two UTF-16 units: the core counts characters.
    const bad = '𝔖 hearsay /p (object';
    const open_ = Array.from(bad).indexOf('(');
    const dangling = 'hearsay AND';
    const page = await open({
      [bad]: {
        char_start: open_,
        char_end: open_ + 1,
        message: 'this `(` is never closed',
        fix: 'add a `)` where the group ends, or remove this `(`',
      },
      [dangling]: {
        char_start: 11,
        char_end: 11,
        message: '`AND` needs a term after it',
        fix: 'add a term after `AND`, or remove it',
      },
    });

    await queryBox(page).fill(bad);
    await page.locator('.problem').waitFor();
    assert.equal(await page.locator('.problem-message').textContent(), 'this `(` is never closed');
    assert.equal(await page.locator('.problem-where mark').textContent(), '(');
    assert.equal(await page.locator('.problem-where code').textContent(), bad);
    const before = await page
      .locator('.problem-where code')
      .evaluate((code) =>
        code.firstChild?.nodeType === Node.TEXT_NODE ? code.firstChild.textContent : null,
      );
    assert.equal(before, '𝔖 hearsay /p ');
    assert.equal(
      await page.locator('.problem-fix').textContent(),
      'add a `)` where the group ends, or remove this `(`',
    );
    assert.equal(await queryBox(page).getAttribute('aria-invalid'), 'true');

    // Enter sends nothing while the query has a problem.
    await queryBox(page).press('Enter');
    await page.waitForTimeout(150);
    assert.equal((await calls(page, 'search')).length, 0);

    // "Select it in the query" selects the `(` (UTF-16 offsets 14..15, not the character index 13).
    await page.getByRole('button', { name: 'Select it in the query' }).click();
    const selection = await queryBox(page).evaluate((input) =>
      input instanceof HTMLInputElement ? [input.selectionStart, input.selectionEnd] : [],
    );
    assert.deepEqual(selection, [open_ + 1, open_ + 2]);
    assert.equal(await queryBox(page).evaluate((input) => input === document.activeElement), true);

    // A problem at the very end (something missing) is pointed at with a caret.
    await queryBox(page).fill(dangling);
    await page.locator('.problem-message', { hasText: 'needs a term' }).waitFor();
    assert.equal(await page.locator('.problem-where mark').textContent(), '‸(here)');

    // Fixed: the problem goes away.
    await queryBox(page).fill('hearsay AND objection');
    await page.locator('.problem').waitFor({ state: 'detached' });
    assert.equal(await queryBox(page).getAttribute('aria-invalid'), 'false');
    assert.equal((await calls(page, 'search')).length, 0);
  });

  test('the core refusing a search (e.g. a query error found only then) is shown', async () => {
    const page = await open();
    await search(page, 'hearsay');
    await page.evaluate(() => {
      window.__lexicaMock.refuse({
        kind: 'query',
        message: 'bad',
        fields: [],
        query: { char_start: 0, char_end: 7, message: '`hearsay` is not allowed here', fix: 'try again' },
      });
    });
    await page.locator('.problem-message', { hasText: 'is not allowed here' }).waitFor();
    assert.equal(await page.locator('.problem-where mark').textContent(), 'hearsay');

    await search(page, 'miranda');
    await page.evaluate(() => {
      window.__lexicaMock.refuse({
        kind: 'refused',
        message: '`jdoe` has no source to search yet',
        fields: [],
      });
    });
    assert.equal(await page.getByRole('alert').textContent(), '`jdoe` has no source to search yet');
  });

  test("sign in: a source that needs the lawyer's own password asks for it; a refused one is said; then it searches again", async () => {
    const [s, ny] = [SOURCES.sample, SOURCES.ny];
    const overview = { ...OVERVIEW, sign_in_needed: [SOURCES.federal.id] };
    app = await openApp(browser, server.url, { overview, queryProblems: {} });
    const page = app.page;
    // A source where each user signs in is still searchable, and its badge says what it will ask.
    const federalRow = page.locator('.picker li', { hasText: 'Federal circuits' });
    assert.match((await federalRow.locator('.state').textContent()) ?? '', /needs your sign-in/);
    assert.equal(await federalRow.getByRole('checkbox').isChecked(), true);

    const sent = await search(page, 'hearsay');
    const hits = [hit(s, 1, 'First v. One', 0.9)];
    const asked = {
      ...outcome(ny, 'failed', [], 12, 'it needs a database password and none is stored; sign in to it'),
      sign_in: { user_name: false, refused: false },
    };
    const end = finished([outcome(s, 'completed', hits, 9), asked], hits, 14);
    await emit(page, started([s, ny]));
    await emit(page, end.event);
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Sign in to NY Court of Appeals' }).click();
    const dialog = page.getByRole('dialog', { name: 'Sign in to NY Court of Appeals' });
    await dialog.waitFor();
    // No user name asked here; the password is masked; remember is on by default.
    assert.equal(await dialog.getByLabel('Database user name').count(), 0);
    assert.equal(await dialog.getByLabel('Password').getAttribute('type'), 'password');
    assert.equal(await dialog.getByRole('checkbox', { name: 'Remember in my keychain' }).isChecked(), true);

    await page.evaluate(() => {
      window.__lexicaMock.respond('sign_in_to_source', {
        error: {
          kind: 'invalid',
          message: 'password: the server refused this user name and password',
          fields: [{ field: 'password', message: 'the server refused this user name and password' }],
        },
      });
    });
    await dialog.getByLabel('Password').fill('wrong');
    await dialog.getByRole('button', { name: 'Sign in and search again' }).click();
    await dialog.locator('#err-sign-in-password', { hasText: 'refused' }).waitFor();
    assert.equal((await calls(page, 'search')).length, 1, 'nothing searched on a refused sign-in');

    await page.evaluate(() => {
      window.__lexicaMock.respond('sign_in_to_source', { value: null });
    });
    await dialog.getByLabel('Password').fill('right-pw');
    await dialog.getByRole('checkbox', { name: 'Remember in my keychain' }).uncheck();
    await dialog.getByRole('button', { name: 'Sign in and search again' }).click();
    const signIns = await waitForCalls(page, 'sign_in_to_source', 2);
    assert.deepEqual(signIns[1]?.args, {
      source: 'ny_appeals',
      userName: null,
      password: 'right-pw',
      remember: false,
    });
    // The same search again, as it was sent; the dialog is gone and the overview reloaded.
    const again = await waitForCalls(page, 'search', 2);
    assert.deepEqual(again[1]?.args.request, sent.request);
    await dialog.waitFor({ state: 'detached' });
    assert.ok((await calls(page, 'app_overview')).length >= 2);
  });

  test('sign in: where each user signs in, the user name is asked for too and sent', async () => {
    const ny = SOURCES.ny;
    const page = await open({}, { answers: { sign_in_to_source: { value: null } } });
    await search(page, 'hearsay');
    const asked = {
      ...outcome(ny, 'failed', [], 3, 'it needs your own database user name and password'),
      sign_in: { user_name: true, refused: true },
    };
    const end = finished([asked], [], 4);
    await emit(page, started([ny]));
    await emit(page, end.event);
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Sign in to NY Court of Appeals' }).click();
    const dialog = page.getByRole('dialog', { name: 'Sign in to NY Court of Appeals' });
    assert.match((await dialog.textContent()) ?? '', /refused the sign-in/);
    await dialog.getByLabel('Database user name').fill('jdoe_db');
    await dialog.getByLabel('Password').fill('pw');
    await dialog.getByRole('button', { name: 'Sign in and search again' }).click();
    const [call] = await waitForCalls(page, 'sign_in_to_source');
    assert.deepEqual(call?.args, {
      source: 'ny_appeals',
      userName: 'jdoe_db',
      password: 'pw',
      remember: true,
    });
  });

  test('cancel: the Cancel button and Esc send cancel_search with the search id', async () => {
    const page = await open();
    const [s, n] = [SOURCES.sample, SOURCES.ny];

    // The button.
    await search(page, 'hearsay');
    await emit(page, started([s, n]));
    await emit(page, running(s));
    await page.getByRole('button', { name: 'Cancel' }).click();
    assert.deepEqual((await waitForCalls(page, 'cancel_search'))[0]?.args, { searchId: SEARCH_ID });
    assert.equal(await page.getByRole('button', { name: 'Cancelling…' }).isDisabled(), true);
    const outcomes = [outcome(s, 'cancelled', [], 5), outcome(n, 'cancelled', [], 0)];
    await emit(page, sourceFinished(outcomes[0] ?? assert.fail(), []));
    await emit(page, sourceFinished(outcomes[1] ?? assert.fail(), []));
    const end = finished(outcomes, [], 6);
    await emit(page, end.event);
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Search' }).waitFor();
    assert.match(
      (await summaryLine(page)) ?? '',
      /0 results from 0 of 2 sources .* Partial — 2 sources did not complete \(2 cancelled\)/,
    );

    // Esc.
    await search(page, 'hearsay');
    await emit(page, started([s, n]));
    await page.keyboard.press('Escape');
    assert.deepEqual((await waitForCalls(page, 'cancel_search', 2))[1]?.args, { searchId: SEARCH_ID });
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Search' }).waitFor();

    // Esc before the search has said its id: the cancel goes out as soon as it does.
    await search(page, 'hearsay');
    await page.keyboard.press('Escape');
    await page.waitForTimeout(100);
    assert.equal((await calls(page, 'cancel_search')).length, 2);
    await emit(page, started([s, n]));
    assert.deepEqual((await waitForCalls(page, 'cancel_search', 3))[2]?.args, { searchId: SEARCH_ID });
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Search' }).waitFor();

    // Esc with no search running sends nothing.
    await page.keyboard.press('Escape');
    await page.waitForTimeout(100);
    assert.equal((await calls(page, 'cancel_search')).length, 3);
  });

  test('keyboard: Enter searches, ↓/↑ (and Home/End) move through the results, ↑ at the top returns to the box', async () => {
    const page = await open();
    await search(page, 'hearsay');
    const s = SOURCES.sample;
    const hits = [
      hit(s, 1, 'First v. One', 0.9),
      hit(s, 2, 'Second v. Two', 0.8),
      hit(s, 3, 'Third v. Three', 0.7),
    ];
    const end = finished([outcome(s, 'completed', hits, 9)], hits, 10);
    await emit(page, started([s]));
    await emit(page, end.event);
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Search' }).waitFor();

    const focused = () =>
      page.evaluate(() => {
        const element = document.activeElement;
        return element?.getAttribute('role') === 'option'
          ? (element.querySelector('h3')?.textContent ?? '')
          : (element?.id ?? '');
      });
    await queryBox(page).focus();
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'First v. One');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'Second v. Two');
    assert.equal(
      await page.getByRole('option', { name: 'Second v. Two' }).getAttribute('aria-selected'),
      'true',
    );
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(), 'Third v. Three', 'stays on the last result');
    await page.keyboard.press('Home');
    assert.equal(await focused(), 'First v. One');
    await page.keyboard.press('End');
    assert.equal(await focused(), 'Third v. Three');
    await page.keyboard.press('ArrowUp');
    assert.equal(await focused(), 'Second v. Two');
    await page.keyboard.press('ArrowUp');
    await page.keyboard.press('ArrowUp');
    assert.equal(await focused(), 'query');

    // Tab from the box reaches the current result (one tab stop for the list), past Search and Export CSV.
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await queryBox(page).focus();
    await page.keyboard.press('Tab');
    await page.keyboard.press('Tab');
    assert.equal(await page.evaluate(() => document.activeElement?.textContent.trim()), 'Export CSV');
    await page.keyboard.press('Tab');
    assert.equal(await focused(), 'Second v. Two');

    // Enter in the box searches again.
    await queryBox(page).fill('miranda');
    await queryBox(page).press('Enter');
    const again = (await waitForCalls(page, 'search', 2))[1];
    const request = /** @type {{ query: string } | undefined} */ (again?.args.request);
    assert.equal(request?.query, 'miranda');
    await answer(page, end.answer);
  });

  test('accessibility: no serious or critical axe violations, idle and with results, chips and a query problem', async () => {
    const bad = 'hearsay /p (object';
    const page = await open({
      [bad]: { char_start: 11, char_end: 12, message: 'this `(` is never closed', fix: 'add a `)`' },
    });
    await page.evaluate(AXE_SOURCE);
    const audit = async () => {
      const result = await page.evaluate(() =>
        window.axe.run(document, {
          resultTypes: ['violations'],
          runOnly: ['wcag2a', 'wcag2aa', 'best-practice'],
        }),
      );
      return result.violations
        .filter((v) => v.impact === 'serious' || v.impact === 'critical')
        .map(
          (v) =>
            `${v.id} (${String(v.impact)}): ${v.help} at ${JSON.stringify(v.nodes.map((node) => node.target))}`,
        );
    };
    assert.deepEqual(await audit(), []);

    const [s, n] = [SOURCES.sample, SOURCES.ny];
    await search(page, 'hearsay');
    await emit(page, started([s, n]));
    await emit(page, running(s));
    const hits = [hit(s, 1, 'People v. Ortiz', 0.7)];
    await emit(page, sourceFinished(outcome(s, 'completed', hits, 10), hits));
    assert.deepEqual(await audit(), [], 'while searching');
    const end = finished(
      [outcome(s, 'completed', hits, 10), outcome(n, 'failed', [], 3, 'refused')],
      hits,
      12,
    );
    await emit(page, end.event);
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Search' }).waitFor();
    await chip(page, n.name).getByRole('button').click();
    await queryBox(page).fill(bad);
    await page.locator('.problem').waitFor();
    assert.deepEqual(await audit(), [], 'with results, an opened failure and a query problem');
  });

  test('reader: Enter opens a result with its terms marked; n/p, F3/Shift+F3 and the buttons move the current hit', async () => {
    const s = SOURCES.sample;
    const hits = [
      hit(s, 1, 'First v. One', 0.9),
      hit(s, 2, 'Second v. Two', 0.8, { docket_number: 'No. 2004-17' }),
      hit(s, 3, 'Third v. Three', 0.7),
    ];
    const second = opinion(hits[1] ?? assert.fail(), [
      [plain('The '), marked('hearsay'), plain(' was offered <script>alert(1)</script> at trial.')],
      ...filler,
      [plain('Counsel made a timely '), marked('objection'), plain('.')],
      ...filler,
      [marked('Hearsay'), plain(' within '), marked('hearsay'), plain(' is excluded.')],
    ]);
    const page = await open({}, { opinions: { [second.key]: second.doc } });
    await searchAndFinish(page, 'hearsay /p object!', hits);

    await queryBox(page).focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Second v. Two', level: 2 }).waitFor();
    const [call] = await waitForCalls(page, 'open_opinion');
    assert.deepEqual(call?.args, {
      sourceId: s.id,
      opinionId: 2,
      query: 'hearsay /p object!',
      mode: 'boolean',
    });
    assert.equal(await focused(page), 'reader-title', 'the reader takes the focus');

    // The opinion's fields, and its text as text: markup in it is shown, never run.
    assert.deepEqual(await page.locator('.fields dt').allTextContents(), [
      'Citation',
      'Court',
      'Decided',
      'Docket',
      'Source',
    ]);
    assert.deepEqual(await page.locator('.fields dd').allTextContents(), [
      '2 N.Y.2d 6',
      'Court of Appeals of New York',
      '1998-05-12',
      'No. 2004-17',
      'Sample opinions (offline)',
    ]);
    assert.deepEqual(await page.locator('.body mark').allTextContents(), [
      'hearsay',
      'objection',
      'Hearsay',
      'hearsay',
    ]);
    assert.match((await page.locator('.body p').first().textContent()) ?? '', /<script>alert\(1\)<\/script>/);
    assert.equal(await page.locator('.body script').count(), 0);

    const position = page.locator('.position');
    const current = () => page.locator('.body mark.current').getAttribute('data-mark');
    const inView = () =>
      page.locator('.body mark.current').evaluate((mark) => {
        const rect = mark.getBoundingClientRect();
        return rect.top >= 0 && rect.bottom <= window.innerHeight;
      });
    // Opening shows the first hit (current, in view); n goes to the next.
    assert.equal((await position.textContent())?.trim(), 'hit 1 of 4');
    assert.equal(await current(), '0');
    assert.equal(await inView(), true);

    await page.keyboard.press('n');
    assert.equal((await position.textContent())?.trim(), 'hit 2 of 4');
    assert.equal(await current(), '1');
    assert.equal(await inView(), true, 'the current hit is scrolled into view');
    await page.keyboard.press('F3');
    assert.equal((await position.textContent())?.trim(), 'hit 3 of 4');
    assert.equal(await inView(), true);
    await page.keyboard.press('Shift+F3');
    assert.equal((await position.textContent())?.trim(), 'hit 2 of 4');
    await page.keyboard.press('p');
    assert.equal((await position.textContent())?.trim(), 'hit 1 of 4');
    assert.equal(await inView(), true);
    // Previous from the first wraps to the last; the buttons do the same as the keys.
    await page.keyboard.press('p');
    assert.equal((await position.textContent())?.trim(), 'hit 4 of 4');
    assert.equal(await current(), '3');
    assert.equal(await inView(), true);
    await page.getByRole('button', { name: 'Next hit' }).click();
    assert.equal((await position.textContent())?.trim(), 'hit 1 of 4');
    await page.getByRole('button', { name: 'Previous hit' }).click();
    assert.equal((await position.textContent())?.trim(), 'hit 4 of 4');
    assert.match(
      (await page.locator('.hint').textContent()) ?? '',
      /n or F3 next hit · p or Shift\+F3 previous/,
    );
  });

  test('reader: Copy citation writes it to the clipboard and says so; Esc and Back return to the same result', async () => {
    const s = SOURCES.sample;
    const hits = [
      hit(s, 1, 'First v. One', 0.9),
      hit(s, 2, 'Second v. Two', 0.8),
      hit(s, 3, 'Third v. Three', 0.7),
    ];
    const docs = hits.map((h) => opinion(h, [[plain('The '), marked('hearsay'), plain(' rule.')]]));
    const page = await open({}, { opinions: Object.fromEntries(docs.map((d) => [d.key, d.doc])) });
    await page.evaluate(() => {
      /** @type {string[]} */
      const copied = [];
      Object.defineProperty(window, '__copied', { value: copied });
      Object.defineProperty(navigator, 'clipboard', {
        configurable: true,
        value: {
          /** @param {string} text */
          writeText: (text) => {
            copied.push(text);
            return Promise.resolve();
          },
        },
      });
    });
    await searchAndFinish(page, 'hearsay', hits);

    await queryBox(page).focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'Second v. Two', level: 2 }).waitFor();
    await page.getByRole('button', { name: 'Copy citation' }).click();
    const expected = 'Second v. Two, 2 N.Y.2d 6 (Court of Appeals of New York 1998)';
    await page.getByRole('status').filter({ hasText: 'Copied' }).waitFor();
    assert.deepEqual(
      await page.evaluate(
        () => /** @type {{ __copied: string[] }} */ (/** @type {unknown} */ (window)).__copied,
      ),
      [expected],
    );
    assert.equal((await page.locator('.copied').textContent())?.trim(), `Copied: ${expected}`);

    // Esc: back to the list, the same result focused.
    await page.keyboard.press('Escape');
    await page.locator('#results').waitFor();
    assert.equal(await focused(page), 'Second v. Two');
    assert.equal(
      await page.getByRole('option', { name: 'Second v. Two' }).getAttribute('aria-selected'),
      'true',
    );
    assert.equal((await calls(page, 'cancel_search')).length, 0, 'Esc in the reader cancels nothing');

    // A click opens a result too; the Back button returns to it.
    await page.getByRole('option', { name: 'Third v. Three' }).click();
    await page.getByRole('heading', { name: 'Third v. Three', level: 2 }).waitFor();
    await page.getByRole('button', { name: 'Back to results' }).click();
    await page.locator('#results').waitFor();
    assert.equal(await focused(page), 'Third v. Three');
    assert.deepEqual(await resultNames(page), ['First v. One', 'Second v. Two', 'Third v. Three']);
  });

  test('reader: it opens scrolled at the first hit (the first marked term), which is current', async () => {
    const s = SOURCES.sample;
    const hits = [hit(s, 1, 'First v. One', 0.9)];
    const doc = opinion(hits[0] ?? assert.fail(), [
      ...filler,
      [plain('Far down, the '), marked('hearsay'), plain(' objection was sustained.')],
      ...filler,
      [marked('hearsay'), plain(' again.')],
    ]);
    const page = await open({}, { opinions: { [doc.key]: doc.doc } });
    await searchAndFinish(page, 'hearsay', hits);
    await queryBox(page).focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'First v. One', level: 2 }).waitFor();
    await page.locator('.body mark.current').waitFor();
    assert.equal(await page.locator('.body mark.current').getAttribute('data-mark'), '0');
    assert.equal((await page.locator('.position').textContent())?.trim(), 'hit 1 of 2');
    const visible = (/** @type {import('playwright-core').Locator} */ element) =>
      element.evaluate((node) => {
        const rect = node.getBoundingClientRect();
        return rect.top >= 0 && rect.bottom <= window.innerHeight;
      });
    assert.equal(await visible(page.locator('.body mark.current')), true, 'the first hit is in view');
    assert.equal(
      await visible(page.locator('.body p').first()),
      false,
      'scrolled past the top of the opinion',
    );
    assert.equal(await focused(page), 'reader-title', 'the heading still takes the focus');
  });

  test('reader: an opinion with no marked term opens at its top', async () => {
    const s = SOURCES.sample;
    const hits = [hit(s, 1, 'First v. One', 0.9)];
    const doc = opinion(hits[0] ?? assert.fail(), [[plain('Nothing marked here.')], ...filler]);
    const page = await open({}, { opinions: { [doc.key]: doc.doc } });
    await searchAndFinish(page, 'hearsay', hits);
    await queryBox(page).focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('Enter');
    await page.getByRole('heading', { name: 'First v. One', level: 2 }).waitFor();
    assert.equal((await page.locator('.position').textContent())?.trim(), 'No hits marked');
    assert.equal(await page.locator('.body mark').count(), 0);
    assert.equal(await page.evaluate(() => window.scrollY), 0);
  });

  test('filters: the date fields start empty (no date drawn in them); a typed date is sent, a wrong one is said', async () => {
    const page = await open();
    for (const label of ['Decided from', 'Decided to']) {
      const field = page.getByLabel(label);
      assert.equal(await field.inputValue(), '', `${label} starts empty`);
      // A text field: an empty date input draws today's date in grey on WebKitGTK.
      assert.equal(await field.getAttribute('type'), 'text');
      assert.equal(await field.getAttribute('placeholder'), 'YYYY-MM-DD');
    }
    const today = new Date().toISOString().slice(0, 10);
    assert.doesNotMatch(await page.locator('.dates').innerText(), new RegExp(today));

    await page.getByLabel('Decided from').fill('1998-02-30');
    await queryBox(page).fill('hearsay');
    await queryBox(page).press('Enter');
    await page.getByText('“1998-02-30” is not a date: type it as YYYY-MM-DD').waitFor();
    assert.equal(await page.getByLabel('Decided from').getAttribute('aria-invalid'), 'true');
    assert.equal((await calls(page, 'search')).length, 0, 'nothing is sent');

    await page.getByLabel('Decided from').fill('2001-01-01');
    await page.getByLabel('Decided to').fill('2000-12-31');
    await queryBox(page).press('Enter');
    await page.getByText('Decided from is after Decided to').waitFor();
    assert.equal((await calls(page, 'search')).length, 0);

    await page.getByLabel('Decided to').fill('2003-06-30');
    const args = await search(page, 'hearsay');
    const request = /** @type {{ filters: Record<string, unknown> }} */ (args.request);
    assert.equal(request.filters.from, '2001-01-01');
    assert.equal(request.filters.to, '2003-06-30');
  });

  test('reader: an opinion that cannot be opened says why', async () => {
    const s = SOURCES.sample;
    const page = await open();
    await searchAndFinish(page, 'hearsay', [hit(s, 9, 'Gone v. Away', 0.5)]);
    await page.getByRole('option', { name: 'Gone v. Away' }).click();
    await page.getByRole('alert').filter({ hasText: 'could not be opened' }).waitFor();
    assert.match(
      (await page.getByRole('alert').textContent()) ?? '',
      /The opinion could not be opened: that source is not one you can search now/,
    );
    assert.equal(await page.getByRole('button', { name: 'Copy citation' }).isDisabled(), true);
    await page.keyboard.press('Escape');
    assert.equal(await focused(page), 'Gone v. Away');
  });

  test('history: past searches newest first with each source as a timeline; Run again re-sends the same request', async () => {
    const [s, n] = [SOURCES.sample, SOURCES.ny];
    /** @type {import('../src/lib/bindings/SearchRequest.ts').SearchRequest} */
    const newer = {
      query: 'Was the confession voluntary after Miranda warnings?',
      mode: 'statements',
      sources: [n.name],
      filters: { courts: ['Court of Appeals of New York'], jurisdictions: ['NY'], from: '1990-01-01' },
      sort: 'newest',
    };
    /** @type {import('../src/lib/bindings/SearchRequest.ts').SearchRequest} */
    const older = {
      query: 'hearsay /p object!',
      mode: 'boolean',
      sources: [],
      filters: { courts: [], jurisdictions: [] },
      sort: 'relevance',
    };
    const history = [
      pastSearch('5e000000-0000-4000-8000-000000000002', newer, '2026-11-26T10:15:00Z', [
        { source: n, status: 'completed', count: 12, ms: 95 },
      ]),
      pastSearch('5e000000-0000-4000-8000-000000000001', older, '2026-11-25T09:00:00Z', [
        { source: s, status: 'completed', count: 3, ms: 12 },
        { source: n, status: 'failed', count: null, ms: 30, error: 'cannot connect to db.example:5432' },
      ]),
    ];
    const page = await open({}, { history });
    await page.getByRole('button', { name: 'History' }).click();
    await page.getByRole('heading', { name: 'Search history' }).waitFor();
    assert.deepEqual((await waitForCalls(page, 'search_history'))[0]?.args, { limit: 100 });

    const entries = page.locator('.entry');
    assert.deepEqual(await entries.locator('.query').allTextContents(), [newer.query, older.query]);
    assert.deepEqual(await entries.locator('.mode').allTextContents(), [
      'Plain statements',
      'Terms and connectors',
    ]);
    assert.deepEqual(await entries.locator('.total').allTextContents(), ['12 results', '3 results']);
    assert.equal(await entries.first().locator('time').getAttribute('datetime'), '2026-11-26T10:15:00Z');
    assert.match(
      (await entries.first().locator('.options').textContent()) ?? '',
      /court: Court of Appeals of New York · jurisdiction: NY · from 1990-01-01 · newest first/,
    );
    const steps = entries.nth(1).locator('.timeline li');
    assert.deepEqual(
      await steps.evaluateAll((items) => items.map((item) => item.getAttribute('data-status'))),
      ['completed', 'failed'],
    );
    assert.equal(
      (await steps.first().textContent())?.replace(/\s+/g, ' ').trim(),
      'Sample opinions (offline): Done · 3 results · 12 ms',
    );
    assert.equal(
      (await steps.nth(1).textContent())?.replace(/\s+/g, ' ').trim(),
      'NY Court of Appeals: Failed · 30 ms — cannot connect to db.example:5432',
    );

    // Run again: the form takes the search's settings and the same request is sent.
    await page.getByRole('button', { name: `Run again: ${newer.query}` }).click();
    const [call] = await waitForCalls(page, 'search');
    assert.deepEqual(call?.args.request, newer);
    assert.equal(
      await page.getByRole('textbox', { name: 'Statements describing the issue' }).inputValue(),
      newer.query,
    );
    assert.equal(await page.getByLabel('Sort by').inputValue(), 'newest');
    assert.equal(await page.getByLabel('Jurisdiction').inputValue(), 'NY');
    assert.equal(await page.getByRole('checkbox', { name: s.display_name }).isChecked(), false);
    assert.equal(await page.getByRole('checkbox', { name: n.display_name }).isChecked(), true);
    const end = finished([outcome(n, 'completed', [], 5)], [], 6);
    await emit(page, started([n]));
    await emit(page, end.event);
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Search' }).waitFor();

    // The other one, with every source (sent as an empty list) and no filters; Esc leaves the history.
    await page.getByRole('button', { name: 'History' }).click();
    await page.getByRole('heading', { name: 'Search history' }).waitFor();
    await page.keyboard.press('Escape');
    await queryBox(page)
      .or(page.getByRole('textbox', { name: 'Statements describing the issue' }))
      .waitFor();
    await page.getByRole('button', { name: 'History' }).click();
    await page.getByRole('button', { name: `Run again: ${older.query}` }).click();
    const again = await waitForCalls(page, 'search', 2);
    assert.deepEqual(again[1]?.args.request, older);
    assert.equal(await queryBox(page).inputValue(), older.query);
    await answer(page, end.answer);
  });

  test('export: disabled with no results; sends the shown hits and says where the file went', async () => {
    const s = SOURCES.sample;
    const path = '/home/jdoe/Downloads/lexica-results-2026-11-26-101500.csv';
    const page = await open({}, { exportPath: path });
    const button = page.getByRole('button', { name: 'Export CSV' });
    assert.equal(await button.isDisabled(), true);

    const hits = [hit(s, 1, 'First v. One', 0.9), hit(s, 2, 'Second v. Two', 0.8)];
    await searchAndFinish(page, 'hearsay', hits);
    assert.equal(await button.isDisabled(), false);
    await button.click();
    const [call] = await waitForCalls(page, 'export_results');
    assert.deepEqual(call?.args, { hits });
    await page.getByRole('status').filter({ hasText: 'Exported' }).waitFor();
    assert.equal((await page.locator('.exported').textContent())?.trim(), `Exported 2 results to ${path}`);

    // No results: nothing to export.
    await searchAndFinish(page, 'nothing', []);
    assert.equal(await button.isDisabled(), true);
    assert.equal(await page.locator('.exported').count(), 1);
    assert.equal((await page.locator('.exported').textContent())?.trim(), '');
  });

  test('export: a failure is shown', async () => {
    const page = await open();
    await searchAndFinish(page, 'hearsay', [hit(SOURCES.sample, 1, 'First v. One', 0.9)]);
    await page.getByRole('button', { name: 'Export CSV' }).click();
    await page.locator('.exported.bad').waitFor();
    assert.equal(
      (await page.locator('.exported').textContent())?.trim(),
      'The results could not be exported: could not write the file: disk full',
    );
  });

  test('accessibility: the reader and the history have no serious or critical axe violations', async () => {
    const s = SOURCES.sample;
    const hits = [hit(s, 1, 'People v. Ortiz', 0.7)];
    const doc = opinion(hits[0] ?? assert.fail(), [
      [plain('The '), marked('hearsay'), plain(' rule.')],
      ...filler,
    ]);
    const history = [
      pastSearch(
        '5e000000-0000-4000-8000-000000000001',
        {
          query: 'hearsay',
          mode: 'boolean',
          sources: [],
          filters: { courts: [], jurisdictions: [] },
          sort: 'relevance',
        },
        '2026-11-25T09:00:00Z',
        [
          { source: s, status: 'completed', count: 1, ms: 12 },
          {
            source: SOURCES.ny,
            status: 'timed_out',
            count: null,
            ms: 20000,
            error: 'no answer before the deadline',
          },
        ],
      ),
    ];
    const page = await open({}, { opinions: { [doc.key]: doc.doc }, history, exportPath: '/tmp/x.csv' });
    await page.evaluate(AXE_SOURCE);
    await searchAndFinish(page, 'hearsay', hits);
    await page.getByRole('button', { name: 'Export CSV' }).click();
    await page.getByRole('status').filter({ hasText: 'Exported' }).waitFor();
    assert.deepEqual(await audit(page), [], 'results with an export message');

    await page.getByRole('option', { name: 'People v. Ortiz' }).click();
    await page.locator('.position', { hasText: 'hit 1 of 1' }).waitFor();
    await page.keyboard.press('n');
    await page.locator('.position', { hasText: 'hit 1 of 1' }).waitFor();
    assert.deepEqual(await audit(page), [], 'the reader');

    await page.keyboard.press('Escape');
    await page.getByRole('button', { name: 'History' }).click();
    await page.locator('.entry').waitFor();
    assert.deepEqual(await audit(page), [], 'the history');
  });

  test('near misses: one divider per tier, before its first hit, says what the tier lacks; each near miss shows its missing clauses; the summary counts both', async () => {
    const page = await open();
    await page.evaluate(AXE_SOURCE);
    const query = 'jurisdiction AND corporation AND "at home"';
    await search(page, query);
    const [s, n] = [SOURCES.sample, SOURCES.ny];
    await emit(page, started([s, n]));
    await emit(page, running(s));
    await emit(page, running(n));

    // Each source lists its exact matches first, then its near misses (a near miss may score higher).
    const fromSample = [
      hit(s, 1, 'Goodyear v. Brown', 0.4),
      nearMiss(s, 2, 'Daimler AG v. Bauman', 0.9, ['"at home"']),
    ];
    await emit(page, sourceFinished(outcome(s, 'completed', fromSample, 12), fromSample));
    assert.match(
      (await chip(page, s.name).textContent()) ?? '',
      /Sample opinions \(offline\): 1 result \+1 near · 12 ms/,
    );
    assert.match(
      (await summaryLine(page)) ?? '',
      /Searching… 1 result \+ 1 near miss so far from 1 of 2 sources/,
    );

    const fromNy = [
      hit(n, 10, 'International Shoe Co. v. Washington', 0.3),
      nearMiss(n, 11, 'Burnham v. Superior Court', 0.8, ['corporation']),
      nearMiss(n, 12, 'Matter of Grant', 0.7, ['corporation', '"at home"']),
    ];
    await emit(page, sourceFinished(outcome(n, 'completed', fromNy, 40), fromNy));
    // Merged as they arrive: every exact match before any near miss, tier 1 before tier 2, best first in each.
    assert.deepEqual(await resultNames(page), [
      'Goodyear v. Brown',
      'International Shoe Co. v. Washington',
      'Daimler AG v. Bauman',
      'Burnham v. Superior Court',
      'Matter of Grant',
    ]);
    assert.match(
      (await chip(page, n.name).textContent()) ?? '',
      /NY Court of Appeals: 1 result \+2 near · 40 ms/,
    );

    const merged = [
      hit(s, 1, 'Goodyear v. Brown', 0.4),
      hit(n, 10, 'International Shoe Co. v. Washington', 0.3),
      nearMiss(s, 2, 'Daimler AG v. Bauman', 0.9, ['"at home"']),
      nearMiss(n, 11, 'Burnham v. Superior Court', 0.8, ['corporation']),
      nearMiss(n, 12, 'Matter of Grant', 0.7, ['corporation', '"at home"']),
    ];
    const end = finished(
      [outcome(s, 'completed', fromSample, 12), outcome(n, 'completed', fromNy, 40)],
      merged,
      45,
    );
    await emit(page, end.event);
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Search' }).waitFor();
    assert.equal(await summaryLine(page), '2 results + 3 near misses from 2 of 2 sources in 45 ms');

    // One divider per near-miss tier, right before the tier's first hit, saying what the tier lacks.
    const order = await page
      .locator('#results')
      .evaluate((list) =>
        [...list.querySelectorAll('.divider, [role="option"] h3')].map((element) =>
          element.matches('.divider') ? `— ${element.textContent.trim()}` : element.textContent.trim(),
        ),
      );
    assert.deepEqual(order, [
      'Goodyear v. Brown',
      'International Shoe Co. v. Washington',
      "— Near misses — these opinions lack one of your query's AND-ed clauses",
      'Daimler AG v. Bauman',
      'Burnham v. Superior Court',
      "— Near misses — these opinions lack two of your query's AND-ed clauses",
      'Matter of Grant',
    ]);
    // Each tier is a group named by its divider, holding just that tier's hits.
    const tierOne = page.getByRole('group', { name: /lack one of your query/ });
    assert.deepEqual(await tierOne.locator('[role="option"] h3').allTextContents(), [
      'Daimler AG v. Bauman',
      'Burnham v. Superior Court',
    ]);
    const tierTwo = page.getByRole('group', { name: /lack two of your query/ });
    assert.deepEqual(await tierTwo.locator('[role="option"] h3').allTextContents(), ['Matter of Grant']);

    // A near miss names what it lacks, as text, and that is part of its accessible description; exact hits do not.
    const option = (/** @type {string} */ name) => page.getByRole('option', { name });
    const missing = async (/** @type {string} */ name) =>
      (await option(name).locator('.missing').textContent())?.replace(/\s+/g, ' ').trim();
    assert.equal(await missing('Daimler AG v. Bauman'), 'missing: "at home"');
    assert.equal(await missing('Burnham v. Superior Court'), 'missing: corporation');
    assert.equal(await missing('Matter of Grant'), 'missing: corporation, "at home"');
    assert.deepEqual(await option('Matter of Grant').locator('.missing code').allTextContents(), [
      'corporation',
      '"at home"',
    ]);
    for (const name of ['Goodyear v. Brown', 'International Shoe Co. v. Washington']) {
      assert.equal(await option(name).locator('.missing').count(), 0, `${name} is exact`);
    }
    const described = await option('Daimler AG v. Bauman').evaluate((element) =>
      (element.getAttribute('aria-describedby') ?? '')
        .split(' ')
        .map((id) => document.getElementById(id)?.textContent.replace(/\s+/g, ' ').trim())
        .join(' | '),
    );
    assert.match(described, /^missing: "at home" \| 2 N\.Y\.2d 6/);

    // ↓ crosses the divider: the near misses are results like the others.
    await queryBox(page).focus();
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    await page.keyboard.press('ArrowDown');
    assert.equal(await focused(page), 'Daimler AG v. Bauman');
    await page.keyboard.press('End');
    assert.equal(await focused(page), 'Matter of Grant');

    assert.deepEqual(await audit(page), [], 'results with near-miss dividers and labels');
  });

  test('near misses: a list with none has no divider; a tier-2-only list gets one divider', async () => {
    const page = await open();
    const s = SOURCES.sample;
    await searchAndFinish(page, 'hearsay /p object!', [hit(s, 1, 'First v. One', 0.9)]);
    assert.equal(await page.locator('#results .divider').count(), 0);
    assert.equal(await page.locator('#results [role="group"]').count(), 0);
    assert.equal(await summaryLine(page), '1 result from 1 of 1 source in 10 ms');

    await searchAndFinish(page, 'a AND b AND c', [
      nearMiss(s, 2, 'Second v. Two', 0.5, ['b', 'c']),
      nearMiss(s, 3, 'Third v. Three', 0.4, ['a', 'c']),
    ]);
    assert.deepEqual(await page.locator('#results .divider').allTextContents(), [
      "Near misses — these opinions lack two of your query's AND-ed clauses",
    ]);
    assert.equal(await summaryLine(page), '0 results + 2 near misses from 1 of 1 source in 10 ms');
  });

  test('near misses setting: on by default; turned off, the search request says near_misses: false', async () => {
    const page = await open();
    const setting = page.getByRole('checkbox', { name: 'Near misses' });
    assert.equal(await setting.isChecked(), true);
    assert.match(
      (await page.locator(`#${String(await setting.getAttribute('aria-describedby'))}`).textContent()) ?? '',
      /lack one or two of the AND-ed clauses/,
    );

    // On: the request leaves it to the core's default (on).
    const s = SOURCES.sample;
    const first = await search(page, 'jurisdiction AND corporation');
    assert.equal(/** @type {{ near_misses?: boolean }} */ (first.request).near_misses, undefined);
    const end = finished([outcome(s, 'completed', [], 5)], [], 6);
    await emit(page, started([s]));
    await emit(page, end.event);
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Search' }).waitFor();

    // Off: exact matches only.
    await setting.uncheck();
    const second = await search(page, 'jurisdiction AND corporation');
    assert.deepEqual(second.request, {
      query: 'jurisdiction AND corporation',
      mode: 'boolean',
      sources: [],
      filters: { courts: [], jurisdictions: [] },
      sort: 'relevance',
      near_misses: false,
    });
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Search' }).waitFor();
    // The setting stays as chosen for the next search.
    assert.equal(await setting.isChecked(), false);
    const third = await search(page, 'miranda AND custody');
    assert.equal(/** @type {{ near_misses?: boolean }} */ (third.request).near_misses, false);
    await answer(page, end.answer);
    await page.getByRole('button', { name: 'Search' }).waitFor();

    // Back on: the default again.
    await setting.check();
    const fourth = await search(page, 'miranda AND custody');
    assert.equal(/** @type {{ near_misses?: boolean }} */ (fourth.request).near_misses, undefined);
    await answer(page, end.answer);
  });
});

describe('source badges from the connection check', () => {
  test('a searchable source the check finds down says "unreachable" with the reason; one wanting a password asks for a sign-in', async () => {
    const down =
      'nothing is listening at db.example.org:5432; is the server running, and are the host and port right?';
    const page = await open(
      {},
      {
        answers: {
          check_sources: {
            value: [
              { source_id: SOURCES.sample.id, reach: { state: 'ready' } },
              { source_id: SOURCES.ny.id, reach: { state: 'unreachable', message: down } },
              {
                source_id: SOURCES.federal.id,
                reach: { state: 'sign_in', request: { user_name: false, refused: false } },
              },
            ],
          },
        },
      },
    );
    const nyState = page.locator('.picker li', { hasText: SOURCES.ny.display_name }).locator('.state');
    await nyState.filter({ hasText: 'unreachable' }).waitFor();
    assert.equal(await nyState.getAttribute('title'), down);
    const states = await page
      .locator('.picker li')
      .evaluateAll((items) =>
        items.map((li) => [
          li.querySelector('.name')?.textContent.trim(),
          li.querySelector('.state')?.childNodes[0]?.textContent?.trim(),
        ]),
      );
    assert.deepEqual(states.slice(0, 3), [
      ['Sample opinions (offline)', 'Active'],
      ['NY Court of Appeals', 'unreachable'],
      ['Federal circuits', 'needs your sign-in'],
    ]);
    // Both stay chosen: the server may be back, and searching the other asks for the sign-in.
    for (const s of [SOURCES.ny, SOURCES.federal]) {
      assert.equal(await page.getByRole('checkbox', { name: s.display_name }).isChecked(), true);
    }
    assert.equal((await calls(page, 'check_sources')).length, 1, 'checked once when the window opened');
  });
});
