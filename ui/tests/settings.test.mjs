// The administrator's settings window (`index.html?window=settings`) in headless Chromium against the built UI, with
// the shell's admin commands and the dialog plugin mocked (see harness.mjs). Run with `npm run test:ui`.
import assert from 'node:assert/strict';
import { mkdirSync } from 'node:fs';
import { after, afterEach, before, describe, test } from 'node:test';
import { fileURLToPath } from 'node:url';

import {
  ADMIN_SOURCES,
  accessGrid,
  DOCTOR_REPORT,
  IMPORT_PREVIEW,
  KEYCHAIN_LOCKED,
  sourcesView,
  USERS,
} from './fixtures.mjs';
import { AXE_SOURCE, launchBrowser, openSettingsWindow, serveDist } from './harness.mjs';

/** @typedef {import('playwright-core').Page} Page */
/** @typedef {import('./globals').MockAnswer} MockAnswer */
/** @typedef {import('../src/lib/bindings/CoreError.ts').CoreError} CoreError */

const ARTIFACTS = fileURLToPath(new URL('./artifacts/', import.meta.url));

/** @type {Awaited<ReturnType<typeof serveDist>>} */
let server;
/** @type {import('playwright-core').Browser} */
let browser;
/** @type {Awaited<ReturnType<typeof openSettingsWindow>> | null} */
let app = null;

before(async () => {
  server = await serveDist();
  browser = await launchBrowser();
  mkdirSync(ARTIFACTS, { recursive: true });
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

/** @param {unknown} value @returns {MockAnswer} */
const ok = (value) => ({ value });
/** @param {CoreError} error @returns {MockAnswer} */
const refused = (error) => ({ error });

/** What the settings window's commands answer unless a test says otherwise. */
function answers() {
  /** @type {Record<string, MockAnswer>} */
  const base = {
    settings_overview: ok(USERS.admin),
    sources_view: ok(sourcesView()),
    access_grid: ok(accessGrid()),
    list_users: ok(Object.values(USERS)),
  };
  return base;
}

/**
 * Opens the settings window, on `view` when given.
 * @param {Record<string, MockAnswer>} [more] answers added to (or replacing) the defaults
 * @param {'Sources' | 'Users and permissions' | 'Provisioning'} [view]
 * @returns {Promise<Page>}
 */
async function open(more = {}, view = 'Sources') {
  app = await openSettingsWindow(browser, server.url, {
    overview: {
      user: USERS.admin,
      sources: [],
      searchable: [],
      sign_in_needed: [],
      signed_in: [],
    },
    queryProblems: {},
    answers: { ...answers(), ...more },
  });
  const page = app.page;
  if (view !== 'Sources') {
    await page.getByRole('button', { name: view, exact: true }).click();
  }
  await page.getByRole('heading', { name: view, level: 2 }).waitFor();
  return page;
}

/**
 * @param {Page} page
 * @param {string} cmd
 * @param {MockAnswer} answer
 */
function respond(page, cmd, answer) {
  return page.evaluate(([c, a]) => {
    window.__lexicaMock.respond(c, a);
  }, /** @type {[string, MockAnswer]} */ ([cmd, answer]));
}

/**
 * @param {Page} page
 * @param {string} cmd
 */
function calls(page, cmd) {
  return page.evaluate((name) => window.__lexicaMock.state.calls.filter((c) => c.cmd === name), cmd);
}

/**
 * Every recorded call, as JSON.
 * @param {Page} page
 */
function allCalls(page) {
  return page.evaluate(() => window.__lexicaMock.state.calls);
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
 * The last call of `cmd`'s arguments, once there are `count` of them.
 * @param {Page} page
 * @param {string} cmd
 * @param {number} [count]
 */
async function lastArgs(page, cmd, count = 1) {
  const all = await waitForCalls(page, cmd, count);
  return all[all.length - 1]?.args ?? {};
}

/** @param {string | null} text */
const squash = (text) => (text ?? '').replace(/\s+/g, ' ').trim();

/**
 * The text of a source row's column.
 * @param {Page} page
 * @param {string} name
 * @param {string} column
 */
async function cellText(page, name, column) {
  return squash(await page.locator(`tr[data-source="${name}"] td[data-column="${column}"]`).textContent());
}

/**
 * The validation message tied to a control (its `aria-describedby` error element).
 * @param {import('playwright-core').Locator} control
 */
async function errorOf(control) {
  const ids = ((await control.getAttribute('aria-describedby')) ?? '').split(' ');
  const page = control.page();
  const texts = await Promise.all(
    ids.filter((id) => id.startsWith('err-')).map((id) => page.locator(`[id="${id}"]`).textContent()),
  );
  return squash(texts.join(' '));
}

/** @param {Page} page */
async function audit(page) {
  await page.evaluate(AXE_SOURCE);
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

/** @param {Page} page */
function sourceForm(page) {
  return page.locator('form.source-form');
}

describe('settings window: sources', () => {
  test('the table shows each source: display name, name, kind, jurisdiction, active, search enabled, URL set, password stored, last test and when', async () => {
    const page = await open();
    await page.locator('tr[data-source="ny_appeals"]').waitFor();
    const headers = await page.locator('thead th').allTextContents();
    assert.deepEqual(headers.map(squash), [
      'Display name',
      'Name',
      'Kind',
      'Jurisdiction',
      'Active',
      'Search enabled',
      'URL set',
      'Password stored',
      'Last test',
      'Actions',
    ]);
    const row = async (/** @type {string} */ name) =>
      Promise.all(
        [
          'display_name',
          'name',
          'kind',
          'jurisdiction',
          'active',
          'search_enabled',
          'url_set',
          'password_stored',
        ].map((column) => cellText(page, name, column)),
      );
    assert.deepEqual(await row('ny_appeals'), [
      'NY Court of Appeals',
      'ny_appeals',
      'PostgreSQL',
      'NY',
      'yes',
      'yes',
      'yes',
      'yes',
    ]);
    assert.deepEqual(await row('sample_opinions'), [
      'Sample opinions (offline)',
      'sample_opinions',
      'SQLite bundle',
      '—',
      'yes',
      'no',
      'yes',
      'no',
    ]);
    assert.deepEqual(await row('state_archive'), [
      'State archive',
      'state_archive',
      'not configured',
      '—',
      'no',
      'yes',
      'no',
      'no',
    ]);
    const lastTest = await cellText(page, 'ny_appeals', 'last_test');
    assert.match(lastTest, /^warning /);
    assert.match(lastTest, /by admin/);
    assert.match(lastTest, /the server certificate expires in 9 days; renew it/);
    assert.equal(
      await page.locator('tr[data-source="ny_appeals"] time').getAttribute('datetime'),
      '2026-11-30T14:05:00Z',
    );
    assert.match(lastTest, /2026/, 'when it was tested');
    assert.equal(await cellText(page, 'sample_opinions', 'last_test'), 'never tested');
    // Which keychain holds the passwords.
    assert.match(squash(await page.locator('.keychain').textContent()), /Secret Service keychain/);
    // The row's actions are named after the source.
    await page.getByRole('button', { name: 'Enable state_archive' }).waitFor();
    await page.getByRole('button', { name: 'Disable ny_appeals' }).waitFor();
    await page.getByRole('button', { name: 'Replace the password of ny_appeals' }).waitFor();
    await page.getByRole('button', { name: 'Set the password of sample_opinions' }).waitFor();
    assert.equal(
      await page.getByRole('button', { name: 'Clear the password of sample_opinions' }).count(),
      0,
    );
  });

  test('enable / disable send set_source_active and the table reloads', async () => {
    const page = await open({ set_source_active: ok(ADMIN_SOURCES.archive) });
    const before = (await calls(page, 'sources_view')).length;
    await page.getByRole('button', { name: 'Disable ny_appeals' }).click();
    assert.deepEqual(await lastArgs(page, 'set_source_active'), { name: 'ny_appeals', active: false });
    await page.getByRole('button', { name: 'Enable state_archive' }).click();
    assert.deepEqual(await lastArgs(page, 'set_source_active', 2), { name: 'state_archive', active: true });
    await waitForCalls(page, 'sources_view', before + 2);
    await page.getByRole('status').filter({ hasText: 'state_archive enabled.' }).waitFor();
  });

  test('add: the core’s validation is shown beside each field it names', async () => {
    const page = await open({
      add_source: refused({
        kind: 'invalid',
        message: 'the source is not valid: name, database_url, pool_size',
        fields: [
          { field: 'name', message: 'must match ^[a-z][a-z0-9_]{1,99}$ (lower case, digits, _)' },
          {
            field: 'database_url',
            message: 'sslmode must be one of disable, prefer, require, verify-ca, verify-full',
          },
          { field: 'pool_size', message: 'must be between 1 and 100' },
        ],
      }),
    });
    await page.getByRole('button', { name: 'Add source' }).click();
    const form = sourceForm(page);
    // The defaults are filled in.
    assert.equal(await form.getByLabel('Pool size', { exact: true }).inputValue(), '5');
    assert.equal(await form.getByLabel('Acquire timeout (ms)', { exact: true }).inputValue(), '15000');
    assert.equal(await form.getByLabel('Query timeout (ms)', { exact: true }).inputValue(), '30000');
    await form.getByLabel('Name', { exact: true }).fill('Bad Name');
    await form.getByLabel('Display name', { exact: true }).fill('Bad');
    await form.getByLabel('Host', { exact: true }).fill('db.firm.example');
    await form.getByLabel('Pool size', { exact: true }).fill('0');
    await form.getByRole('button', { name: 'Save' }).click();
    const args = await lastArgs(page, 'add_source');
    assert.equal(args.name, 'Bad Name');
    assert.deepEqual(args.changes, {
      display_name: 'Bad',
      database_url: 'postgres://db.firm.example/',
      source_type: 'general',
      jurisdiction: '',
      is_active: true,
      search_enabled: true,
      pool_size: 0,
      acquire_timeout_ms: 15000,
      query_timeout_ms: 30000,
      each_user_signs_in: false,
    });
    await form.getByRole('alert').waitFor();
    const name = form.getByLabel('Name', { exact: true });
    assert.equal(await errorOf(name), 'must match ^[a-z][a-z0-9_]{1,99}$ (lower case, digits, _)');
    assert.equal(await name.getAttribute('aria-invalid'), 'true');
    assert.equal(
      await errorOf(form.getByLabel('Host', { exact: true })),
      'sslmode must be one of disable, prefer, require, verify-ca, verify-full',
    );
    assert.equal(await errorOf(form.getByLabel('Pool size', { exact: true })), 'must be between 1 and 100');
    assert.equal(await errorOf(form.getByLabel('Display name', { exact: true })), '');
    assert.equal(
      await form.getByLabel('Display name', { exact: true }).getAttribute('aria-invalid'),
      'false',
    );
    // The form stays open for a fix.
    await form.getByRole('heading', { name: 'Add a source' }).waitFor();
  });

  test('paste a postgres:// URL: the fields fill, its password goes to the password field and never into the stored URL', async () => {
    const secret = 's3cr@t pass';
    const url = `postgres://reader:${encodeURIComponent(secret)}@db.firm.example:6543/opinions?sslmode=verify-full&application_name=lexica`;
    const page = await open({
      add_source: ok({ ...ADMIN_SOURCES.ny, name: 'firm_opinions' }),
      set_source_password: ok({ ...ADMIN_SOURCES.ny, name: 'firm_opinions' }),
    });
    await page.getByRole('button', { name: 'Add source' }).click();
    const form = sourceForm(page);
    await form.getByLabel('Name', { exact: true }).fill('firm_opinions');
    await form.getByLabel('Display name', { exact: true }).fill('Firm opinions');
    await form.getByLabel('Paste a postgres:// URL to fill the fields').fill(url);
    await form.getByRole('button', { name: 'Fill from URL' }).click();
    const value = (/** @type {string} */ label) => form.getByLabel(label, { exact: true }).inputValue();
    assert.equal(await value('Host'), 'db.firm.example');
    assert.equal(await value('Port'), '6543');
    assert.equal(await value('Database'), 'opinions');
    assert.equal(await value('User'), 'reader');
    assert.equal(await value('SSL mode'), 'verify-full');
    assert.equal(await value('Password'), secret);
    assert.equal(await form.getByLabel('Password', { exact: true }).getAttribute('type'), 'password');
    assert.equal(await value('Paste a postgres:// URL to fill the fields'), '', 'the pasted URL is not kept');
    const note = squash(await form.getByRole('status').textContent());
    assert.match(note, /password in the URL went to the password field/);
    assert.match(note, /application_name/, 'what is not kept is said');

    await form.getByRole('button', { name: 'Save' }).click();
    const added = await lastArgs(page, 'add_source');
    assert.equal(added.name, 'firm_opinions');
    const changes = /** @type {{ database_url: string }} */ (added.changes);
    assert.equal(changes.database_url, 'postgres://reader@db.firm.example:6543/opinions?sslmode=verify-full');
    assert.deepEqual(await lastArgs(page, 'set_source_password'), {
      name: 'firm_opinions',
      password: secret,
    });
    await page.getByRole('status').filter({ hasText: 'Saved firm_opinions' }).waitFor();
    assert.equal(await sourceForm(page).count(), 0, 'the form closed');
    // The password went to set_source_password alone: no other call carries it, nor the page.
    const others = (await allCalls(page)).filter((c) => c.cmd !== 'set_source_password');
    assert.doesNotMatch(JSON.stringify(others), /s3cr/);
    assert.doesNotMatch(await page.content(), /s3cr/);
  });

  test('a pasted URL (clipboard paste) never lands in the text field; editing a source keeps its fields', async () => {
    const page = await open({
      edit_source: ok({ ...ADMIN_SOURCES.ny, password_cleared: true }),
    });
    await page.getByRole('button', { name: 'Edit ny_appeals' }).click();
    const form = sourceForm(page);
    await form.getByRole('heading', { name: 'Edit ny_appeals' }).waitFor();
    const value = (/** @type {string} */ label) => form.getByLabel(label, { exact: true }).inputValue();
    assert.equal(await value('Name'), 'ny_appeals');
    assert.equal(await form.getByLabel('Name', { exact: true }).isDisabled(), true);
    assert.equal(await value('Host'), 'db.firm.example');
    assert.equal(await value('Port'), '5432');
    assert.equal(await value('Jurisdiction'), 'NY');
    assert.equal(await value('SSL mode'), 'verify-full');
    await form.getByLabel('Paste a postgres:// URL to fill the fields').evaluate((input) => {
      const data = new DataTransfer();
      data.setData('text/plain', 'postgres://lexica:hunter2@db2.firm.example/ny2?sslmode=require');
      input.dispatchEvent(
        new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true }),
      );
    });
    assert.equal(await value('Host'), 'db2.firm.example');
    assert.equal(await value('Port'), '');
    assert.equal(await value('Database'), 'ny2');
    assert.equal(await value('User'), 'lexica');
    assert.equal(await value('SSL mode'), 'require');
    assert.equal(await value('Password'), 'hunter2');
    assert.equal(await value('Paste a postgres:// URL to fill the fields'), '');
    await form.getByLabel('Jurisdiction', { exact: true }).fill('');
    await form.getByRole('button', { name: 'Save' }).click();
    const edited = await lastArgs(page, 'edit_source');
    assert.equal(edited.name, 'ny_appeals');
    const changes = /** @type {Record<string, unknown>} */ (edited.changes);
    assert.equal(changes.database_url, 'postgres://lexica@db2.firm.example/ny2?sslmode=require');
    assert.equal(changes.jurisdiction, '', 'an emptied jurisdiction is cleared, not kept');
    assert.deepEqual(await lastArgs(page, 'set_source_password'), {
      name: 'ny_appeals',
      password: 'hunter2',
    });
  });

  test('edit: a password removed because the server changed is said', async () => {
    const page = await open({ edit_source: ok({ ...ADMIN_SOURCES.ny, password_cleared: true }) });
    await page.getByRole('button', { name: 'Edit ny_appeals' }).click();
    await sourceForm(page).getByLabel('Host', { exact: true }).fill('db3.firm.example');
    await sourceForm(page).getByRole('button', { name: 'Save' }).click();
    await page
      .getByRole('status')
      .filter({ hasText: 'the stored password was removed: set the new one' })
      .waitFor();
    assert.equal((await calls(page, 'set_source_password')).length, 0);
  });

  test('test connection renders the doctor report check by check: ok / warning / error and the sentence', async () => {
    const page = await open({ test_source: ok(DOCTOR_REPORT) });
    await page.getByRole('button', { name: 'Test connection of ny_appeals' }).click();
    assert.deepEqual(await lastArgs(page, 'test_source'), { name: 'ny_appeals' });
    const report = page.getByRole('region', { name: 'Connection test of ny_appeals' });
    await report.waitFor();
    const checks = await report
      .locator('li')
      .evaluateAll((items) =>
        items.map((li) => [
          li.querySelector('.status')?.textContent.trim(),
          li.querySelector('strong')?.textContent.trim(),
          li.querySelector('.message')?.textContent.trim(),
        ]),
      );
    assert.deepEqual(
      checks,
      DOCTOR_REPORT.checks.map((c) => [c.status, c.name, c.message]),
    );
    assert.match(squash(await report.textContent()), /It does not work yet\./);
    // The report takes the focus.
    assert.equal(await page.evaluate(() => document.activeElement?.id), 'report-title');
    await page.screenshot({ fullPage: true, path: `${ARTIFACTS}settings-sources-test.png` });
  });

  test('a failed test (the core refuses) says why', async () => {
    const page = await open({
      test_source: refused({ kind: 'not_found', message: 'no source named `ny_appeals`', fields: [] }),
    });
    await page.getByRole('button', { name: 'Test connection of ny_appeals' }).click();
    await page.getByRole('alert').filter({ hasText: 'no source named `ny_appeals`' }).waitFor();
  });

  test('remove asks first, saying the stored password goes too; Cancel removes nothing', async () => {
    const page = await open({ remove_source: ok(ADMIN_SOURCES.ny) });
    await page.getByRole('button', { name: 'Remove ny_appeals' }).click();
    const dialog = page.getByRole('dialog', { name: 'Remove ny_appeals?' });
    await dialog.waitFor();
    assert.match(squash(await dialog.textContent()), /its stored password from the keychain/);
    await dialog.getByRole('button', { name: 'Cancel' }).click();
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await calls(page, 'remove_source')).length, 0);

    await page.getByRole('button', { name: 'Remove ny_appeals' }).click();
    await page.keyboard.press('Escape');
    await dialog.waitFor({ state: 'hidden' });
    assert.equal((await calls(page, 'remove_source')).length, 0, 'Esc cancels too');

    await page.getByRole('button', { name: 'Remove ny_appeals' }).click();
    await dialog.getByRole('button', { name: 'Remove source and password' }).click();
    assert.deepEqual(await lastArgs(page, 'remove_source'), { name: 'ny_appeals' });
    await page
      .getByRole('status')
      .filter({ hasText: 'ny_appeals removed, with its grants and its stored password.' })
      .waitFor();
  });

  test('password: set / replace is masked, sent once and cleared; clear removes it; the keychain is named', async () => {
    const page = await open({
      set_source_password: ok(ADMIN_SOURCES.sample),
      clear_source_password: ok(true),
    });
    await page.getByRole('button', { name: 'Set the password of sample_opinions' }).click();
    const form = page.getByRole('form', { name: 'Password of sample_opinions' });
    const input = form.getByLabel('Password of sample_opinions');
    assert.equal(await input.getAttribute('type'), 'password');
    assert.match(
      squash(await form.textContent()),
      /Sent once to the Secret Service keychain; Lexica never shows it again\./,
    );
    await input.fill('correct horse');
    await form.getByRole('button', { name: 'Store password' }).click();
    assert.deepEqual(await lastArgs(page, 'set_source_password'), {
      name: 'sample_opinions',
      password: 'correct horse',
    });
    await form.waitFor({ state: 'detached' });
    await page
      .getByRole('status')
      .filter({ hasText: 'The password of sample_opinions is stored in the Secret Service keychain.' })
      .waitFor();
    // Opened again, the field is empty: the password is never shown again.
    await page.getByRole('button', { name: 'Set the password of sample_opinions' }).click();
    assert.equal(
      await page
        .getByRole('form', { name: 'Password of sample_opinions' })
        .getByLabel('Password of sample_opinions')
        .inputValue(),
      '',
    );
    await page
      .getByRole('form', { name: 'Password of sample_opinions' })
      .getByRole('button', { name: 'Cancel' })
      .click();
    assert.doesNotMatch(await page.content(), /correct horse/);
    const others = (await allCalls(page)).filter((c) => c.cmd !== 'set_source_password');
    assert.doesNotMatch(JSON.stringify(others), /correct horse/);

    await page.getByRole('button', { name: 'Replace the password of ny_appeals' }).waitFor();
    await page.getByRole('button', { name: 'Clear the password of ny_appeals' }).click();
    assert.deepEqual(await lastArgs(page, 'clear_source_password'), { name: 'ny_appeals' });
    await page
      .getByRole('status')
      .filter({ hasText: 'The password of ny_appeals was removed from the Secret Service keychain.' })
      .waitFor();
  });

  test('a locked keychain: the row and a refused password say what to do', async () => {
    const view = sourcesView();
    const locked = {
      ...view,
      sources: view.sources.map((row) => ({
        ...row,
        password_stored: false,
        keychain_problem: KEYCHAIN_LOCKED,
      })),
    };
    const page = await open({
      sources_view: ok(locked),
      set_source_password: refused({ kind: 'keychain', message: KEYCHAIN_LOCKED, fields: [] }),
    });
    assert.match(
      await cellText(page, 'ny_appeals', 'password_stored'),
      /the OS keychain is locked; unlock it/,
    );
    await page.getByRole('button', { name: 'Set the password of ny_appeals' }).click();
    await page
      .getByRole('form', { name: 'Password of ny_appeals' })
      .getByLabel('Password of ny_appeals')
      .fill('pw');
    await page.getByRole('button', { name: 'Store password' }).click();
    await page.getByRole('alert').filter({ hasText: KEYCHAIN_LOCKED }).waitFor();
  });

  test('a source saved but whose password the keychain refused: said, and a retry edits rather than adds again', async () => {
    const page = await open({
      add_source: ok({ ...ADMIN_SOURCES.ny, name: 'firm_opinions' }),
      edit_source: ok({ ...ADMIN_SOURCES.ny, name: 'firm_opinions', password_cleared: false }),
      set_source_password: refused({ kind: 'keychain', message: KEYCHAIN_LOCKED, fields: [] }),
    });
    await page.getByRole('button', { name: 'Add source' }).click();
    const form = sourceForm(page);
    await form.getByLabel('Name', { exact: true }).fill('firm_opinions');
    await form.getByLabel('Display name', { exact: true }).fill('Firm');
    await form.getByLabel('Host', { exact: true }).fill('db.firm.example');
    await form.getByLabel('Password', { exact: true }).fill('pw1');
    await form.getByRole('button', { name: 'Save' }).click();
    await form
      .getByRole('alert')
      .filter({ hasText: 'Saved firm_opinions, but its password was not stored' })
      .waitFor();
    assert.equal(
      await form.getByLabel('Password', { exact: true }).inputValue(),
      '',
      'cleared after sending',
    );
    await respond(page, 'set_source_password', ok(ADMIN_SOURCES.ny));
    await form.getByLabel('Password', { exact: true }).fill('pw2');
    await form.getByRole('button', { name: 'Save' }).click();
    assert.equal((await lastArgs(page, 'edit_source')).name, 'firm_opinions');
    assert.equal((await calls(page, 'add_source')).length, 1);
    assert.deepEqual(await lastArgs(page, 'set_source_password', 2), {
      name: 'firm_opinions',
      password: 'pw2',
    });
  });

  test('the root certificate has a file picker (the dialog plugin) beside its typed path', async () => {
    const page = await open({ 'plugin:dialog|open': ok('/etc/ssl/firm-ca.pem') });
    await page.getByRole('button', { name: 'Add source' }).click();
    const form = sourceForm(page);
    await form.getByRole('button', { name: 'Choose file… (root certificate)' }).click();
    const args = /** @type {{ options: { filters: { extensions: string[] }[] } }} */ (
      await lastArgs(page, 'plugin:dialog|open')
    );
    assert.ok(args.options.filters[0]?.extensions.includes('pem'));
    await page.waitForFunction(
      () => document.querySelector('#source-sslrootcert') instanceof HTMLInputElement,
    );
    assert.equal(await form.getByLabel('Root certificate (path)').inputValue(), '/etc/ssl/firm-ca.pem');
    // Cancelling the dialog keeps what is there.
    await respond(page, 'plugin:dialog|open', ok(null));
    await form.getByRole('button', { name: 'Choose file… (root certificate)' }).click();
    await waitForCalls(page, 'plugin:dialog|open', 2);
    assert.equal(await form.getByLabel('Root certificate (path)').inputValue(), '/etc/ssl/firm-ca.pem');
    await form.getByLabel('Root certificate (path)').fill('/typed/ca.pem');
    await form.getByLabel('Host', { exact: true }).fill('db');
    await form.getByLabel('SSL mode', { exact: true }).selectOption('verify-full');
    await respond(page, 'add_source', ok(ADMIN_SOURCES.ny));
    await form.getByLabel('Name', { exact: true }).fill('firm');
    await form.getByRole('button', { name: 'Save' }).click();
    const changes = /** @type {{ database_url: string }} */ ((await lastArgs(page, 'add_source')).changes);
    assert.equal(changes.database_url, 'postgres://db/?sslmode=verify-full&sslrootcert=/typed/ca.pem');
  });
});

describe('settings window: users and permissions', () => {
  test('add a user: add_user with the name, display name and admin flag; the core’s field message beside the field', async () => {
    const page = await open(
      {
        add_user: refused({
          kind: 'invalid',
          message: 'the user is not valid: username',
          fields: [{ field: 'username', message: 'must not contain spaces' }],
        }),
      },
      'Users and permissions',
    );
    const form = page.getByRole('form', { name: 'Add a user' });
    await form.getByLabel('Username (OS login)').fill('a smith');
    await form.getByRole('button', { name: 'Add user' }).click();
    assert.deepEqual(await lastArgs(page, 'add_user'), {
      username: 'a smith',
      displayName: null,
      isAdmin: false,
    });
    assert.equal(await errorOf(form.getByLabel('Username (OS login)')), 'must not contain spaces');
    await page.getByRole('alert').filter({ hasText: 'the user is not valid: username' }).waitFor();

    await respond(page, 'add_user', ok(USERS.rroe));
    await form.getByLabel('Username (OS login)').fill('asmith');
    await form.getByLabel('Display name').fill('Alex Smith');
    await form.getByLabel('Administrator').check();
    await form.getByRole('button', { name: 'Add user' }).click();
    assert.deepEqual(await lastArgs(page, 'add_user', 2), {
      username: 'asmith',
      displayName: 'Alex Smith',
      isAdmin: true,
    });
    await page.getByRole('status').filter({ hasText: 'Added asmith.' }).waitFor();
    assert.equal(await form.getByLabel('Username (OS login)').inputValue(), '');
    assert.equal(await errorOf(form.getByLabel('Username (OS login)')), '');
  });

  test('admin flag and remove: the last-admin guard’s message is shown and the checkbox stays as the core has it', async () => {
    const guard = 'admin is the last administrator; make another user an administrator first';
    const page = await open(
      {
        set_admin: refused({ kind: 'refused', message: guard, fields: [] }),
        remove_user: refused({ kind: 'refused', message: guard, fields: [] }),
      },
      'Users and permissions',
    );
    const box = page.getByRole('checkbox', { name: 'admin is an administrator' });
    assert.equal(await box.isChecked(), true);
    await box.click();
    assert.deepEqual(await lastArgs(page, 'set_admin'), { username: 'admin', isAdmin: false });
    await page.getByRole('alert').filter({ hasText: guard }).waitFor();
    await page.waitForFunction(
      () =>
        document.querySelector('tr[data-user="admin"] input[type="checkbox"]') instanceof HTMLInputElement,
    );
    assert.equal(await box.isChecked(), true, 'still an administrator');

    await page.getByRole('button', { name: 'Remove admin' }).click();
    assert.deepEqual(await lastArgs(page, 'remove_user'), { username: 'admin' });
    await page.getByRole('alert').filter({ hasText: guard }).waitFor();

    await respond(page, 'set_admin', ok({ ...USERS.jdoe, is_admin: true }));
    await page.getByRole('checkbox', { name: 'jdoe is an administrator' }).check();
    assert.deepEqual(await lastArgs(page, 'set_admin', 2), { username: 'jdoe', isAdmin: true });
    await page.getByRole('status').filter({ hasText: 'jdoe is now an administrator.' }).waitFor();

    await respond(page, 'remove_user', ok(null));
    await page.getByRole('button', { name: 'Remove rroe' }).click();
    assert.deepEqual(await lastArgs(page, 'remove_user', 2), { username: 'rroe' });
    await page.getByRole('status').filter({ hasText: 'rroe removed.' }).waitFor();
  });

  test('the users × sources grid: none / read / admin grant or revoke; who granted when; why someone cannot search', async () => {
    const page = await open({ grant_access: ok(true), revoke_access: ok(true) }, 'Users and permissions');
    const headers = await page.locator('table.grid thead th').allTextContents();
    assert.deepEqual(headers.map(squash), [
      'User',
      'Admin',
      'ny_appeals',
      'sample_opinions',
      'state_archive',
      'Remove',
    ]);
    const cell = (/** @type {string} */ user, /** @type {string} */ source) =>
      page.locator(`tr[data-user="${user}"] td[data-source="${source}"]`);
    const jdoeNy = squash(await cell('jdoe', 'ny_appeals').textContent());
    assert.match(jdoeNy, /granted by admin, /);
    assert.match(jdoeNy, /searches it/);
    assert.equal(
      await cell('jdoe', 'ny_appeals').locator('time').getAttribute('datetime'),
      '2026-11-15T10:00:00Z',
    );
    assert.match(
      squash(await cell('jdoe', 'sample_opinions').textContent()),
      /cannot search: search is turned off for this source/,
    );
    assert.match(squash(await cell('rroe', 'ny_appeals').textContent()), /cannot search: no grant/);
    assert.doesNotMatch(squash(await cell('rroe', 'ny_appeals').textContent()), /granted by/);

    const rroeNy = page.getByRole('combobox', { name: 'rroe on ny_appeals' });
    assert.equal(await rroeNy.inputValue(), 'none');
    await rroeNy.selectOption('read');
    assert.deepEqual(await lastArgs(page, 'grant_access'), {
      username: 'rroe',
      source: 'ny_appeals',
      level: 'read',
    });
    await page.getByRole('status').filter({ hasText: 'rroe now has read on ny_appeals.' }).waitFor();

    await page.getByRole('combobox', { name: 'jdoe on sample_opinions' }).selectOption('admin');
    assert.deepEqual(await lastArgs(page, 'grant_access', 2), {
      username: 'jdoe',
      source: 'sample_opinions',
      level: 'admin',
    });

    await page.getByRole('combobox', { name: 'jdoe on ny_appeals' }).selectOption('none');
    assert.deepEqual(await lastArgs(page, 'revoke_access'), { username: 'jdoe', source: 'ny_appeals' });
    await page.getByRole('status').filter({ hasText: 'jdoe can no longer use ny_appeals.' }).waitFor();

    // Refused: the message, and the cell back at what the core has.
    await respond(
      page,
      'grant_access',
      refused({ kind: 'not_found', message: 'no user named `rroe`', fields: [] }),
    );
    const rroeArchive = page.getByRole('combobox', { name: 'rroe on state_archive' });
    await rroeArchive.selectOption('admin');
    await page.getByRole('alert').filter({ hasText: 'no user named `rroe`' }).waitFor();
    assert.equal(await rroeArchive.inputValue(), 'none');
  });
});

describe('settings window: provisioning', () => {
  test('import: a dry-run preview per item (nothing applied), then apply', async () => {
    const page = await open({ provision_import_file: ok(IMPORT_PREVIEW) }, 'Provisioning');
    const importForm = page.getByRole('form', { name: 'Import a provisioning file' });
    await importForm.getByLabel('Provisioning file (TOML) path').fill('/home/it/firm.toml');
    await importForm.getByLabel('Remove what the file does not list (prune)').check();
    await importForm.getByRole('button', { name: 'Preview import' }).click();
    assert.deepEqual(await lastArgs(page, 'provision_import_file'), {
      path: '/home/it/firm.toml',
      prune: true,
      dryRun: true,
    });
    const preview = page.getByRole('region', { name: 'Preview of /home/it/firm.toml' });
    await preview.waitFor();
    const rows = await preview
      .locator('tbody tr')
      .evaluateAll((trs) =>
        trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => td.textContent.trim())),
      );
    assert.deepEqual(rows, [
      ['user', 'jdoe', 'unchanged'],
      ['user', 'asmith', 'created'],
      ['source', 'ny_appeals', 'updated'],
      ['grant', 'rroe → ny_appeals', 'removed'],
    ]);
    assert.match(
      squash(await preview.textContent()),
      /Nothing is written until you apply: 1 created, 1 updated, 1 unchanged, 1 removed\./,
    );
    assert.match(squash(await preview.textContent()), /removes the stored password of ny_appeals/);
    assert.equal((await calls(page, 'provision_import_file')).length, 1, 'nothing applied yet');
    await page.screenshot({ fullPage: true, path: `${ARTIFACTS}settings-provisioning-preview.png` });

    await respond(page, 'provision_import_file', ok({ ...IMPORT_PREVIEW, dry_run: false }));
    await preview.getByRole('button', { name: 'Apply import' }).click();
    assert.deepEqual(await lastArgs(page, 'provision_import_file', 2), {
      path: '/home/it/firm.toml',
      prune: true,
      dryRun: false,
    });
    await page
      .getByRole('status')
      .filter({ hasText: 'Imported /home/it/firm.toml: 1 created, 1 updated, 1 unchanged, 1 removed.' })
      .waitFor();
    await preview.waitFor({ state: 'detached' });
  });

  test('import: a changed path makes the preview stale, so Apply cannot apply another file', async () => {
    const page = await open({ provision_import_file: ok(IMPORT_PREVIEW) }, 'Provisioning');
    const path = page.getByLabel('Provisioning file (TOML) path');
    await path.fill('/home/it/firm.toml');
    await page.getByRole('button', { name: 'Preview import' }).click();
    await page.getByRole('button', { name: 'Apply import' }).waitFor();
    await path.fill('/home/it/other.toml');
    assert.equal(await page.getByRole('button', { name: 'Apply import' }).isDisabled(), true);
  });

  test('import: every problem with its line, and no Apply', async () => {
    const message =
      'the provisioning file has 2 problem(s); nothing was changed\n  line 4: source ny: database_url must not contain a password\n  line 12: grant: user `ghost` is not in the file or the install';
    const page = await open(
      { provision_import_file: refused({ kind: 'provisioning', message, fields: [] }) },
      'Provisioning',
    );
    await page.getByLabel('Provisioning file (TOML) path').fill('/home/it/bad.toml');
    await page.getByRole('button', { name: 'Preview import' }).click();
    const alert = page.getByRole('alert');
    await alert.waitFor();
    assert.match(squash(await alert.locator('p').textContent()), /has 2 problem\(s\); nothing was changed/);
    const items = (await alert.locator('li').allTextContents()).map(squash);
    assert.deepEqual(items, [
      'line 4: source ny: database_url must not contain a password',
      'line 12: grant: user `ghost` is not in the file or the install',
    ]);
    assert.equal(await page.getByRole('button', { name: 'Apply import' }).count(), 0);
    await page.screenshot({ fullPage: true, path: `${ARTIFACTS}settings-provisioning-problems.png` });
  });

  test('file dialogs: Choose file… fills the import path; export uses the save dialog; typed paths work too', async () => {
    const page = await open(
      {
        'plugin:dialog|open': ok('/home/it/picked.toml'),
        'plugin:dialog|save': ok('/home/it/export.toml'),
        provision_import_file: ok(IMPORT_PREVIEW),
        provision_export_file: ok('/home/it/export.toml'),
      },
      'Provisioning',
    );
    await page.getByRole('button', { name: 'Choose file… (provisioning file to import)' }).click();
    const opened = await lastArgs(page, 'plugin:dialog|open');
    assert.deepEqual(opened, { options: { filters: [{ name: 'Provisioning file', extensions: ['toml'] }] } });
    await page.waitForFunction(
      () => /** @type {HTMLInputElement | null} */ (document.querySelector('#import-path'))?.value !== '',
    );
    assert.equal(await page.getByLabel('Provisioning file (TOML) path').inputValue(), '/home/it/picked.toml');
    await page.getByRole('button', { name: 'Preview import' }).click();
    assert.equal((await lastArgs(page, 'provision_import_file')).path, '/home/it/picked.toml');

    await page.getByRole('button', { name: 'Choose file… (file to export to)' }).click();
    const saved = await lastArgs(page, 'plugin:dialog|save');
    assert.deepEqual(saved, { options: { filters: [{ name: 'Provisioning file', extensions: ['toml'] }] } });
    await page.waitForFunction(
      () => /** @type {HTMLInputElement | null} */ (document.querySelector('#export-path'))?.value !== '',
    );
    assert.equal(await page.getByLabel('Export to (a new file)').inputValue(), '/home/it/export.toml');
    const exportForm = page.getByRole('form', { name: 'Export a provisioning file' });
    await exportForm.getByRole('button', { name: 'Export', exact: true }).click();
    assert.deepEqual(await lastArgs(page, 'provision_export_file'), { path: '/home/it/export.toml' });
    await page
      .getByRole('status')
      .filter({ hasText: 'Exported to /home/it/export.toml (no passwords in it).' })
      .waitFor();

    // A typed path, and a dialog that fails: it says to type the path.
    await respond(
      page,
      'plugin:dialog|save',
      refused({ kind: 'refused', message: 'no display', fields: [] }),
    );
    await page.getByRole('button', { name: 'Choose file… (file to export to)' }).click();
    await page.getByRole('alert').filter({ hasText: 'type the path instead' }).waitFor();
    await page.getByLabel('Export to (a new file)').fill('/tmp/typed.toml');
    await exportForm.getByRole('button', { name: 'Export', exact: true }).click();
    assert.deepEqual(await lastArgs(page, 'provision_export_file', 2), { path: '/tmp/typed.toml' });
  });

  test('export: a refusal (the file exists) is shown', async () => {
    const page = await open(
      {
        provision_export_file: refused({
          kind: 'provisioning',
          message: '/home/it/firm.toml already exists; choose a new file',
          fields: [],
        }),
      },
      'Provisioning',
    );
    await page.getByLabel('Export to (a new file)').fill('/home/it/firm.toml');
    await page
      .getByRole('form', { name: 'Export a provisioning file' })
      .getByRole('button', { name: 'Export', exact: true })
      .click();
    await page.getByRole('alert').filter({ hasText: 'already exists; choose a new file' }).waitFor();
  });
});

describe('settings window: accessibility', () => {
  test('no serious or critical axe violations in any view (screenshots in tests/artifacts/)', async () => {
    const page = await open({ test_source: ok(DOCTOR_REPORT), provision_import_file: ok(IMPORT_PREVIEW) });
    await page.locator('tr[data-source="ny_appeals"]').waitFor();
    assert.deepEqual(await audit(page), [], 'sources');
    await page.screenshot({ fullPage: true, path: `${ARTIFACTS}settings-sources.png` });

    await page.getByRole('button', { name: 'Test connection of ny_appeals' }).click();
    await page.getByRole('region', { name: 'Connection test of ny_appeals' }).waitFor();
    await page.getByRole('button', { name: 'Edit ny_appeals' }).click();
    await sourceForm(page).waitFor();
    assert.deepEqual(await audit(page), [], 'sources with a report and the edit form');
    await page.screenshot({ fullPage: true, path: `${ARTIFACTS}settings-sources-form.png` });

    await sourceForm(page).getByRole('button', { name: 'Cancel' }).click();
    await page.getByRole('button', { name: 'Set the password of sample_opinions' }).click();
    await page.getByRole('form', { name: 'Password of sample_opinions' }).waitFor();
    assert.deepEqual(await audit(page), [], 'the password form');

    await page.getByRole('button', { name: 'Remove ny_appeals' }).click();
    await page.getByRole('dialog').waitFor();
    assert.deepEqual(await audit(page), [], 'the remove confirmation');
    await page.screenshot({ fullPage: true, path: `${ARTIFACTS}settings-sources-remove.png` });
    await page.getByRole('dialog').getByRole('button', { name: 'Cancel' }).click();

    await page.getByRole('button', { name: 'Users and permissions', exact: true }).click();
    await page.locator('tr[data-user="jdoe"]').waitFor();
    assert.deepEqual(await audit(page), [], 'users and permissions');
    await page.screenshot({ fullPage: true, path: `${ARTIFACTS}settings-users.png` });

    await page.getByRole('button', { name: 'Provisioning', exact: true }).click();
    await page.getByLabel('Provisioning file (TOML) path').fill('/home/it/firm.toml');
    await page.getByRole('button', { name: 'Preview import' }).click();
    await page.getByRole('button', { name: 'Apply import' }).waitFor();
    assert.deepEqual(await audit(page), [], 'provisioning with a preview');
    await page.screenshot({ fullPage: true, path: `${ARTIFACTS}settings-provisioning.png` });
  });
});
