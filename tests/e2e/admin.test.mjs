// End-to-end tests of the administrator's settings window (issue #12) through the real app: the header's Settings
// button opens a second webview window (label `settings`), which the driver lists beside the search window and which
// alone is granted the admin commands (src-tauri/capabilities/settings.json). Run by tests/e2e/run.sh on an install
// of their own (fresh: its OS user is its administrator), with a driver of its own, in the environment:
//   E2E_ADMIN_DRIVER_URL, E2E_ADMIN_HOME (that install), E2E_APP, E2E_ARTIFACTS, E2E_CLI (the lexica CLI),
//   E2E_PASTE_URL (a postgres:// URL of one of run.sh's databases, its password inside), E2E_KEYCHAIN_STORE
//   (`secret-service`: a private gnome-keyring, read back with secret-tool; `keyutils`: the kernel keyring).
// The tests run in order on one app launch (the search window stays open while the settings window changes things),
// then one more launch after the OS user lost its admin flag. The password never goes to the TAP output.
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import { readdirSync, readFileSync, statSync } from "node:fs";
import { createServer } from "node:net";
import { join } from "node:path";
import { after, test } from "node:test";

import { launch } from "./webdriver.mjs";

const DRIVER = process.env.E2E_ADMIN_DRIVER_URL;
const APP = process.env.E2E_APP;
const HOME = process.env.E2E_ADMIN_HOME;
const CLI = process.env.E2E_CLI;
const PASTE = process.env.E2E_PASTE_URL;
const STORE = process.env.E2E_KEYCHAIN_STORE ?? "secret-service";
const ARTIFACTS =
  process.env.E2E_ARTIFACTS ?? new URL("./artifacts", import.meta.url).pathname;
if ([DRIVER, APP, HOME, CLI, PASTE].includes(undefined)) {
  throw new Error(
    "E2E_ADMIN_DRIVER_URL, E2E_APP, E2E_ADMIN_HOME, E2E_CLI or E2E_PASTE_URL is not set: run the e2e tests with tests/e2e/run.sh",
  );
}

const pasted = new URL(PASTE);
/** The database's password, as pasted inside the URL: never printed. */
const PASSWORD = decodeURIComponent(pasted.password);
const ROLE = decodeURIComponent(pasted.username);
const DATABASE = pasted.pathname.slice(1);
/** The URL the core must store: the pasted one without its password. */
const STORED_URL = `postgres://${ROLE}@${pasted.hostname}:${pasted.port}/${DATABASE}`;

const GAMMA = { name: "e2e_gamma", display: "E2E Gamma (added in settings)" };
const CLERK = { name: "e2e_clerk", display: "E2E Clerk" };
const ME = execFileSync("id", ["-un"]).toString().trim();

/** @type {import('./webdriver.mjs').Session | null} */
let session = null;
/** The window handles: the search window's and the settings window's. */
const win = { main: "", settings: "" };
/** The new source's id (its keychain account). */
let gammaId = "";

after(async () => {
  if (session !== null) {
    await session.quit().catch(() => {});
    session = null;
  }
});

/** Fails with what the app shows when `s` is null (an earlier step failed). */
function current() {
  assert.ok(session, "the app is not open (an earlier step failed)");
  return session;
}

/** Runs a Tauri command from the current window; resolves { ok, value } or { ok: false, refusal } (a string). */
function invoke(s, command, args = {}) {
  return s.execAsync(
    `const done = arguments[arguments.length - 1];
     window.__TAURI_INTERNALS__.invoke(arguments[0], arguments[1]).then(
       (value) => done({ ok: true, value }),
       (error) => done({ ok: false, refusal: typeof error === 'string' ? error : JSON.stringify(error) }));`,
    [command, args],
  );
}

/** The first element whose XPath matches, waited for. */
async function findX(s, xpath, timeoutMs = 20_000) {
  const [el] = await s.waitFor(
    async () => {
      const found = await s.findAllX(xpath);
      return found.length > 0 ? found : null;
    },
    `an element at ${xpath}`,
    timeoutMs,
  );
  return el;
}

const button = (s, text) => findX(s, `//button[normalize-space(.)="${text}"]`);
const labelled = (s, label) =>
  s.find(`button[aria-label="${label.replace(/"/g, '\\"')}"]`);

/** Replaces an input's text by typing (Svelte's bind:value hears the input events). */
async function retype(s, el, text) {
  await s.exec(
    'arguments[0].value = ""; arguments[0].dispatchEvent(new Event("input", { bubbles: true }));',
    [el],
  );
  await s.type(el, text);
}

/** Chooses an option of a <select> the way a user's choice does: its value, then `change`. */
function choose(s, select, value) {
  return s.exec(
    'arguments[0].value = arguments[1]; arguments[0].dispatchEvent(new Event("change", { bubbles: true }));',
    [select, value],
  );
}

/** The settings window's notice (role=status alert) or problem (role=alert), whichever shows `pattern`. */
async function alertMatching(s, pattern, what, timeoutMs = 20_000) {
  return s.waitFor(
    async () => {
      const texts = await s.exec(
        `return [...document.querySelectorAll('p.alert')].map((p) => p.textContent.trim());`,
      );
      return texts.find((t) => pattern.test(t)) ?? null;
    },
    what,
    timeoutMs,
  );
}

/** The source table's row of `name` as text per column. */
function sourceRow(s, name) {
  return s.exec(
    `const row = document.querySelector('tr[data-source="' + arguments[0] + '"]');
     return row && Object.fromEntries([...row.querySelectorAll('td[data-column]')].map((td) =>
       [td.dataset.column, td.textContent.replace(/\\s+/g, ' ').trim()]));`,
    [name],
  );
}

/** What the keychain holds for `account` (the source id), asked from outside the app; null when nothing. */
function keychainHolds(account) {
  if (STORE === "keyutils") {
    const found = spawnSync("keyctl", [
      "search",
      "@s",
      "user",
      `keyring:${account}@lexica`,
    ]);
    if (found.status !== 0) return null;
    const key = found.stdout.toString().trim();
    return execFileSync("keyctl", ["pipe", key]).toString();
  }
  const out = spawnSync("secret-tool", [
    "lookup",
    "service",
    "lexica",
    "username",
    account,
  ]);
  return out.status === 0 ? out.stdout.toString() : null;
}

/**
 * Files under `dir` whose bytes contain `needle`. The app is running: a file may go between listing and reading it
 * (SQLite's `-shm`/`-journal` files, the demo bundle's `.partial` while it is built), so a vanished one is skipped.
 */
function filesContaining(dir, needle) {
  const hits = [];
  const bytes = Buffer.from(needle);
  for (const entry of readdirSync(dir)) {
    const path = join(dir, entry);
    try {
      if (statSync(path).isDirectory()) {
        hits.push(...filesContaining(path, needle));
      } else if (readFileSync(path).includes(bytes)) {
        hits.push(path);
      }
    } catch (error) {
      if (/** @type {NodeJS.ErrnoException} */ (error).code !== "ENOENT") {
        throw error;
      }
    }
  }
  return hits;
}

/**
 * Presses Ctrl+, in the search window through the X server (xdotool): a real key press reaches GTK's menu bar, whose
 * accelerator opens Settings… when it is enabled; WebDriver's key actions go to the web page only.
 */
function menuShortcut() {
  const found = spawnSync("xdotool", ["search", "--onlyvisible", "--name", "^Lexica$"]);
  const windows = found.stdout.toString().trim().split("\n");
  const window = windows[0];
  assert.ok(window, `the search window on the X server: ${found.stderr}`);
  console.log(`# xdotool: windows named Lexica: ${windows.join(", ")}`);
  for (const args of [
    ["windowfocus", "--sync", window],
    ["key", "--clearmodifiers", "ctrl+comma"],
  ]) {
    const done = spawnSync("xdotool", args);
    assert.equal(done.status, 0, `xdotool ${args.join(" ")}: ${done.stderr}`);
  }
}

/** The CLI's view of the install (from outside the app), as JSON. */
function cli(...args) {
  return JSON.parse(
    execFileSync(CLI, ["--home", HOME, "--json", ...args]).toString(),
  );
}

/** A TCP port nothing listens on. */
function deadPort() {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.on("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = /** @type {import('node:net').AddressInfo} */ (
        server.address()
      );
      server.close(() => resolve(port));
    });
  });
}

/** Scrolls the first element matching `css` to the top of the window (for the screenshot that follows). */
function show(s, css) {
  return s.exec(
    "document.querySelector(arguments[0])?.scrollIntoView({ block: 'start' });",
    [css],
  );
}

/** Switches to the settings window and to one of its views. */
async function settingsView(s, label) {
  await s.switchTo(win.settings);
  await s.click(await button(s, label));
  await s.find(`button[aria-pressed="true"]`);
  await s.waitFor(
    async () =>
      (await s.exec(
        'return document.querySelector(\'nav[aria-label="Settings views"] button[aria-pressed="true"]\')?.textContent.trim();',
      )) === label,
    `the ${label} view`,
  );
}

test("settings: the admin's menu Settings… (Ctrl+,) opens the settings window, a second window the driver lists and switches to; the Settings button brings it forward", async () => {
  session = await launch(DRIVER, APP);
  const s = session;
  await s.find("#query", 30_000);
  win.main = await s.handle();
  const open = await s.find("button.settings-button", 20_000);
  assert.equal((await s.text(open)).trim(), "Settings");
  assert.deepEqual(await s.handles(), [win.main], "one window before");
  // The app menu's Settings… (Ctrl+,), pressed as a user would on the X server, opens it; the button (below) then
  // brings the same window forward.
  menuShortcut();
  const handles = await s.waitFor(
    async () => {
      const now = await s.handles();
      return now.length === 2 ? now : null;
    },
    "a second window handle (the settings webview, opened by the menu's Settings…)",
    20_000,
  );
  console.log(`# menu: Ctrl+, opened the settings window`);
  win.settings = handles.find((h) => h !== win.main) ?? "";
  assert.ok(win.settings, JSON.stringify(handles));
  await s.switchTo(win.settings);
  await s.waitFor(
    async () =>
      (await s.exec(
        "return new URLSearchParams(location.search).get('window');",
      )) === "settings",
    "the settings page in the second window",
  );
  const heading = await s.text(await s.find("h1.app-name"));
  assert.equal(heading.trim(), "Lexica settings");
  const who = await s.text(await s.find("header p.user", 20_000));
  assert.match(who, new RegExp(`Administrator: ${ME}`), who);
  await s.find('section[aria-labelledby="sources-title"] table tbody tr');
  const keychain = await s.text(await s.find("p.keychain strong"));
  console.log(
    `# windows: ${JSON.stringify(handles)}; settings window: ${who.trim()}; keychain: ${keychain}`,
  );
  if (STORE === "secret-service") {
    assert.match(keychain, /Secret Service/, keychain);
  }
  await s.screenshot(ARTIFACTS, "settings-1-sources");

  // Clicking Settings focuses the same window rather than opening another.
  await s.switchTo(win.main);
  await s.click(open);
  await new Promise((resolve) => setTimeout(resolve, 500));
  assert.equal((await s.handles()).length, 2, "still two windows");

});

test("settings: adding a source by pasting a URL keeps its password out of the stored URL, in the keychain only", async () => {
  const s = current();
  await s.switchTo(win.settings);
  await s.click(await button(s, "Add source"));
  await s.find("form.source-form");
  await s.type(await s.find("#source-name"), GAMMA.name);
  await s.type(await s.find("#source-display_name"), GAMMA.display);
  await s.type(await s.find("#source-jurisdiction"), "E2E");

  // A paste of the URL (its password inside) into the paste field: the page's paste handler gets the clipboard text.
  const field = await s.find("#source-paste");
  const paste = await s.exec(
    `const input = arguments[0];
     const data = new DataTransfer();
     data.setData('text/plain', arguments[1]);
     const event = new ClipboardEvent('paste', { clipboardData: data, bubbles: true, cancelable: true });
     input.focus();
     input.dispatchEvent(event);
     return { carried: event.clipboardData?.getData('text') === arguments[1], prevented: event.defaultPrevented };`,
    [field, PASTE],
  );
  let how = "a paste event";
  if (!paste.carried) {
    // This WebKit does not carry clipboardData on a synthetic paste: type the URL and press "Fill from URL".
    how = "typed into the paste field, then Fill from URL";
    await s.type(field, PASTE);
    await s.click(await button(s, "Fill from URL"));
  } else {
    assert.ok(paste.prevented, "the URL is not left in the paste field");
  }
  const note = await s.waitFor(
    async () =>
      (await s.exec(
        "return document.querySelector('form.source-form p.note')?.textContent.trim() ?? '';",
      )) || null,
    "the paste note",
  );
  assert.match(
    note,
    /The password in the URL went to the password field/,
    note,
  );
  const fields = await s.exec(
    `const v = (id) => document.getElementById(id).value;
     return { host: v('source-host'), port: v('source-port'), database: v('source-database'), user: v('source-user'),
              paste: v('source-paste'), passwordType: document.getElementById('source-password').type,
              passwordIsIt: v('source-password') === arguments[0],
              passwordElsewhere: [...document.querySelectorAll('input:not([type=password])')]
                .some((i) => i.value.includes(arguments[0])) };`,
    [PASSWORD],
  );
  assert.deepEqual(
    {
      host: fields.host,
      port: fields.port,
      database: fields.database,
      user: fields.user,
    },
    {
      host: pasted.hostname,
      port: pasted.port,
      database: DATABASE,
      user: ROLE,
    },
  );
  assert.equal(fields.paste, "", "the paste field is left empty");
  assert.equal(fields.passwordType, "password", "the password field is masked");
  assert.ok(
    fields.passwordIsIt,
    "the password from the URL is in the password field",
  );
  assert.ok(!fields.passwordElsewhere, "the password is in no other field");
  console.log(`# pasted (${how}): ${note}`);
  await show(s, "form.source-form fieldset");
  await s.screenshot(ARTIFACTS, "settings-2-source-form");

  await s.click(await button(s, "Save"));
  const saved = await alertMatching(
    s,
    /Saved e2e_gamma|not stored|error/i,
    "the save notice",
  );
  assert.match(
    saved,
    /Saved e2e_gamma; its password is stored in the .* keychain\./,
    saved,
  );
  const row = await s.waitFor(
    async () => sourceRow(s, GAMMA.name),
    "the new source's row",
  );
  assert.equal(row.display_name, GAMMA.display);
  assert.equal(row.kind, "PostgreSQL");
  assert.equal(row.url_set, "yes");
  assert.match(row.password_stored, /^yes/, JSON.stringify(row));
  assert.equal(row.last_test, "never tested");

  // The stored URL, as the core answers the settings window and as the CLI reads the install: no password.
  const view = await invoke(s, "sources_view");
  assert.ok(view.ok, view.refusal);
  const source = view.value.sources.find(
    (r) => r.source.name === GAMMA.name,
  )?.source;
  assert.ok(source, "the source in sources_view");
  gammaId = source.id;
  assert.equal(source.database_url, STORED_URL);
  const shown = cli("sources", "show", GAMMA.name);
  assert.equal(shown.database_url, STORED_URL);
  assert.ok(shown.credential_updated_at, "the password's time is recorded");

  // From outside: the keychain has it, under the source's id; no file of the install holds it.
  const held = keychainHolds(gammaId);
  assert.ok(held !== null, `the ${STORE} keychain has an entry for ${gammaId}`);
  assert.ok(held === PASSWORD, "the keychain's entry is the pasted password");
  assert.deepEqual(
    filesContaining(HOME, PASSWORD),
    [],
    "no file under the install folder holds the password",
  );
  console.log(
    `# stored URL ${source.database_url}; ${STORE === "keyutils" ? "keyctl" : "secret-tool lookup service lexica username"} ${gammaId}: the password; in no file under LEXICA_HOME`,
  );

  // Credentials: replace it through the password form (masked; cleared once sent; never shown).
  await s.click(await labelled(s, `Replace the password of ${GAMMA.name}`));
  const input = await s.find(
    `form[aria-label="Password of ${GAMMA.name}"] input[type="password"]`,
  );
  await s.type(input, PASSWORD);
  await s.screenshot(ARTIFACTS, "settings-3-credentials");
  await s.click(await button(s, "Store password"));
  const stored = await alertMatching(
    s,
    /^The password of e2e_gamma /,
    "the stored-password notice",
  );
  assert.match(
    stored,
    /The password of e2e_gamma is stored in the .* keychain\./,
    stored,
  );
  assert.equal(
    (await s.findAll(`form[aria-label="Password of ${GAMMA.name}"]`)).length,
    0,
    "the password form is gone",
  );
  assert.ok(keychainHolds(gammaId) === PASSWORD, "the keychain still has it");
  assert.equal(
    await s.exec(
      "return [...document.querySelectorAll('input')].some((i) => i.value.includes(arguments[0]));",
      [PASSWORD],
    ),
    false,
    "no field of the window holds the password any more",
  );
});

test("settings: Test connection shows the source doctor's report, check by check, every check ok", async () => {
  const s = current();
  await s.switchTo(win.settings);
  await s.click(await labelled(s, `Test connection of ${GAMMA.name}`));
  await s.find('section[aria-labelledby="report-title"]', 30_000);
  const report = await s.exec(
    `const section = document.querySelector('section[aria-labelledby="report-title"]');
     return { title: section.querySelector('h3').textContent.trim(), verdict: section.querySelector('.verdict').textContent.trim(),
       checks: [...section.querySelectorAll('li.check')].map((li) => ({ name: li.dataset.check,
         status: li.querySelector('.status').textContent.trim(), message: li.querySelector('.message').textContent.trim() })) };`,
  );
  console.log(
    `# doctor: ${report.verdict} ${report.checks.map((c) => `${c.name}=${c.status}`).join(", ")}`,
  );
  assert.equal(report.title, `Connection test of ${GAMMA.name}`);
  assert.ok(report.checks.length >= 3, JSON.stringify(report));
  assert.equal(
    report.checks.find((c) => c.name === "connection")?.status,
    "ok",
    JSON.stringify(report),
  );
  // The pasted role may only read (run.sh grants it SELECT), so every check passes, role privileges included.
  for (const check of report.checks) {
    assert.equal(check.status, "ok", JSON.stringify(check));
  }
  assert.equal(report.verdict, "Every check passed.");
  const row = await s.waitFor(async () => {
    const r = await sourceRow(s, GAMMA.name);
    return r && r.last_test !== "never tested" ? r : null;
  }, "the row's last test");
  assert.match(row.last_test, new RegExp(`^ok .*by ${ME}`), row.last_test);
  await show(s, 'section[aria-labelledby="report-title"]');
  await s.screenshot(ARTIFACTS, "settings-4-test-report");
});

test("settings: granting the source to a second user and to the admin; the open search window lists it and searches it", async () => {
  const s = current();
  await settingsView(s, "Users and permissions");
  const form = await s.find('form[aria-label="Add a user"]');
  assert.ok(form);
  await s.type(await s.find("#user-username"), CLERK.name);
  await s.type(await s.find("#user-display_name"), CLERK.display);
  await s.click(await button(s, "Add user"));
  await alertMatching(s, /Added e2e_clerk\./, "the added-user notice");
  await s.find(`tr[data-user="${CLERK.name}"]`);
  await s.screenshot(ARTIFACTS, "settings-5-users");

  for (const user of [CLERK.name, ME]) {
    const select = await s.find(
      `select[aria-label="${user} on ${GAMMA.name}"]`,
    );
    await choose(s, select, "read");
    await alertMatching(
      s,
      new RegExp(`${user} now has read on ${GAMMA.name}\\.`),
      `the grant to ${user}`,
    );
  }
  const cells = await s.waitFor(async () => {
    const got = await s.exec(
      `return [...document.querySelectorAll('td[data-source="' + arguments[0] + '"]')].map((td) => ({
           user: td.closest('tr').dataset.user, level: td.querySelector('select').value,
           text: td.textContent.replace(/\\s+/g, ' ').trim() }));`,
      [GAMMA.name],
    );
    const mine = got.filter((c) => [CLERK.name, ME].includes(c.user));
    return mine.length === 2 &&
      mine.every((c) => c.level === "read" && /searches it/.test(c.text))
      ? got
      : null;
  }, "both grants in the grid, each searching the source");
  for (const cell of cells.filter((c) => [CLERK.name, ME].includes(c.user))) {
    assert.match(cell.text, new RegExp(`granted by ${ME}`), cell.text);
  }
  console.log(
    `# grid on ${GAMMA.name}: ${cells.map((c) => `${c.user}: ${c.text}`).join(" | ")}`,
  );
  // From outside: the CLI reads the same grant from the install.
  const grants = cli("grants", "list", "--user", CLERK.name);
  assert.deepEqual(
    grants.map((g) => [g.source_name, g.permission_level, g.granted_by]),
    [[GAMMA.name, "read", ME]],
    JSON.stringify(grants),
  );
  await s.screenshot(ARTIFACTS, "settings-6-grid");

  // The search window, open all along, heard `lexica://sources-changed`: it lists the new source and searches it.
  await s.switchTo(win.main);
  const box = await findX(
    s,
    `//label[span[normalize-space(.)="${GAMMA.display}"]]/input`,
    20_000,
  );
  if (!(await s.exec("return arguments[0].checked;", [box]))) {
    await s.click(box);
  }
  const query = await s.find("#query");
  await retype(s, query, 'hearsay OR "due process"');
  await s.click(await s.find('form[role="search"] button[type="submit"]'));
  const end = await s.waitFor(
    async () => {
      const searching = await s.exec(
        `return document.querySelector('form[role="search"] button.cancel') !== null;`,
      );
      const chips = await s.exec(
        `return [...document.querySelectorAll('ul[aria-label="Source status"] li.chip')].map((li) => ({
           source: li.dataset.source, status: li.dataset.status, text: li.textContent.replace(/\\s+/g, ' ').trim() }));`,
      );
      return !searching &&
        chips.length > 0 &&
        chips.every((c) => !["running", "pending"].includes(c.status))
        ? chips
        : null;
    },
    "the search to end",
    30_000,
  );
  const gamma = end.find((c) => c.source === GAMMA.name);
  assert.ok(gamma, `a chip for ${GAMMA.name}: ${JSON.stringify(end)}`);
  assert.equal(gamma.status, "completed", JSON.stringify(gamma));
  assert.doesNotMatch(gamma.text, /: 0 matches/, gamma.text);
  const badges = await s.exec(
    `return [...document.querySelectorAll('#results [role="option"] .badge')].map((b) => b.textContent.trim());`,
  );
  const fromGamma = badges.filter((b) => b === GAMMA.display).length;
  assert.ok(
    fromGamma > 0,
    `results from ${GAMMA.display}: ${JSON.stringify([...new Set(badges)])}`,
  );
  console.log(
    `# search window: ${end.map((c) => c.text).join(" | ")}; ${fromGamma} of ${badges.length} results from ${GAMMA.display}`,
  );
  await s.screenshot(ARTIFACTS, "settings-7-search-window-new-source");
});

test("settings: the source moved to a dead port tests with the doctor's connection error", async () => {
  const s = current();
  await settingsView(s, "Sources");
  await s.click(await labelled(s, `Edit ${GAMMA.name}`));
  await s.find("form.source-form");
  const port = await deadPort();
  await retype(s, await s.find("#source-port"), String(port));
  await s.click(await button(s, "Save"));
  const saved = await alertMatching(
    s,
    /Saved e2e_gamma|error/i,
    "the save notice",
  );
  // The port changed, so the core removed the stored password (it belonged to the old server).
  assert.match(
    saved,
    /Saved e2e_gamma\. Its host, port or user changed, so the stored password was removed/,
    saved,
  );
  assert.equal(keychainHolds(gammaId), null, "the keychain no longer has it");
  await s.click(await labelled(s, `Test connection of ${GAMMA.name}`));
  const report = await s.waitFor(
    async () =>
      s.exec(
        `const section = document.querySelector('section[aria-labelledby="report-title"]');
         return section && { verdict: section.querySelector('.verdict').textContent.trim(),
           checks: [...section.querySelectorAll('li.check')].map((li) => ({ name: li.dataset.check,
             status: li.querySelector('.status').textContent.trim(), message: li.querySelector('.message').textContent.trim() })) };`,
      ),
    "the doctor's report",
    40_000,
  );
  console.log(
    `# dead port ${port}: ${report.verdict} ${report.checks.map((c) => `${c.name}=${c.status}: ${c.message}`).join(" | ")}`,
  );
  assert.equal(report.verdict, "It does not work yet.");
  const connection = report.checks.find((c) => c.name === "connection");
  assert.equal(connection?.status, "error", JSON.stringify(report));
  assert.ok(connection.message.length > 0);
  // The table keeps the verdict as the source's last test (it reloads after the report shows).
  const row = await s.waitFor(async () => {
    const r = await sourceRow(s, GAMMA.name);
    return r && /^error /.test(r.last_test) ? r : null;
  }, "the row's last test to be the error");
  assert.match(row.last_test, /by /, row.last_test);
  await show(s, 'section[aria-labelledby="report-title"]');
  await s.screenshot(ARTIFACTS, "settings-8-test-report-error");

  // The search window, open all along, checked its sources again after the change: the source's badge says it is
  // unreachable (with the reason behind it) instead of "Active", before anyone searches it.
  await s.switchTo(win.main);
  const badge = await s.waitFor(
    async () => {
      const got = await s.exec(
        `const row = [...document.querySelectorAll('ul[aria-label="Sources"] li.row')]
           .find((li) => li.querySelector('.name')?.textContent.trim() === arguments[0]);
         const state = row?.querySelector('.state');
         return state ? { text: state.textContent.replace(/\\s+/g, ' ').trim(), title: state.title } : null;`,
        [GAMMA.display],
      );
      return got && /^unreachable/.test(got.text) ? got : null;
    },
    `${GAMMA.display}'s badge to say unreachable`,
    30_000,
  );
  assert.match(badge.title, new RegExp(String(port)), JSON.stringify(badge));
  console.log(`# search window badge: ${badge.text}`);
  await s.screenshot(ARTIFACTS, "search-unreachable-badge");
});

test("settings: provisioning exports the install without a password and previews an import of it", async () => {
  const s = current();
  await settingsView(s, "Provisioning");
  const file = join(HOME, `export-${process.pid}.toml`);
  await s.type(await s.find("#export-path"), file);
  await s.click(await button(s, "Export"));
  const done = await alertMatching(
    s,
    /export|wrote|written/i,
    "the export notice",
  );
  console.log(`# export: ${done}`);
  const text = readFileSync(file, "utf8");
  assert.match(text, new RegExp(GAMMA.name));
  assert.ok(!text.includes(PASSWORD), "no password in the export");
  await s.type(await s.find("#import-path"), file);
  await s.click(await button(s, "Preview import"));
  const preview = await s.find(
    'section[aria-labelledby="preview-title"]',
    20_000,
  );
  const summary = await s.text(preview);
  assert.match(summary, /Nothing is written until you apply/, summary);
  await s.screenshot(ARTIFACTS, "settings-9-provisioning");
});

test("settings: from the main window the admin commands are refused by Tauri's ACL", async () => {
  const s = current();
  await s.switchTo(win.main);
  for (const [command, args] of [
    ["sources_view", {}],
    ["set_source_password", { name: GAMMA.name, password: "not-this-one" }],
    [
      "grant_access",
      { username: CLERK.name, source: GAMMA.name, level: "admin" },
    ],
  ]) {
    const answer = await invoke(s, command, args);
    assert.equal(
      answer.ok,
      false,
      `${command} from the main window: ${JSON.stringify(answer)}`,
    );
    assert.match(
      answer.refusal,
      /not allowed/i,
      `${command}: ${answer.refusal}`,
    );
    console.log(`# main window ${command}: ${answer.refusal}`);
  }
  // The same command from the settings window works: it is the window, not the command, that is refused.
  await s.switchTo(win.settings);
  const there = await invoke(s, "sources_view");
  assert.ok(there.ok, there.refusal);
});

const DELTA = { name: "e2e_delta", display: "E2E Delta (lawyers sign in)" };
/** The keychain account of the OS user's own sign-in to the delta source: `<source id>/<user id>`. */
let deltaAccount = "";

test("settings: a source with no stored password, granted to the OS user, is set up for the sign-in step", () => {
  // Added through the CLI while the OS user is still an administrator: the same database as the pasted URL, but no
  // password stored, so the server's scram request can only be answered by the lawyer (the last test).
  cli("sources", "add", DELTA.name, "--display-name", DELTA.display, "--url", STORED_URL);
  cli("grants", "grant", ME, DELTA.name);
  const listed = cli("sources", "list").find((x) => x.name === DELTA.name);
  assert.ok(listed, "the delta source is listed");
  assert.equal(listed.credential_updated_at, null, JSON.stringify(listed));
  const me = cli("users", "list").find((u) => u.username === ME);
  deltaAccount = `${listed.id}/${me.id}`;
});

test("settings: once the OS user is no longer an admin, the core refuses the settings window's commands and the search window drops its Settings button", async () => {
  const s = current();
  await settingsView(s, "Users and permissions");
  // Another administrator first (the core will not remove the last one), then the OS user's own flag off.
  await s.click(
    await s.find(`input[aria-label="${CLERK.name} is an administrator"]`),
  );
  await alertMatching(
    s,
    /e2e_clerk is now an administrator\./,
    "the clerk made an administrator",
  );
  await s.click(await s.find(`input[aria-label="${ME} is an administrator"]`));
  await alertMatching(
    s,
    new RegExp(`${ME} is no longer an administrator\\.|administrator`),
    "the OS user's admin flag off",
  );
  const refused = await invoke(s, "sources_view");
  assert.equal(refused.ok, false, JSON.stringify(refused));
  assert.doesNotMatch(
    refused.refusal,
    /not allowed/i,
    "granted to this window: the core, not the ACL, refuses",
  );
  const error = JSON.parse(refused.refusal);
  assert.equal(error.kind, "forbidden", refused.refusal);
  console.log(`# settings window, non-admin, sources_view: ${refused.refusal}`);
  const grant = await invoke(s, "grant_access", {
    username: ME,
    source: GAMMA.name,
    level: "admin",
  });
  assert.equal(grant.ok, false, JSON.stringify(grant));
  assert.equal(JSON.parse(grant.refusal).kind, "forbidden", grant.refusal);

  await s.switchTo(win.main);
  await s.waitFor(
    async () => (await s.findAll("button.settings-button")).length === 0,
    "the Settings button to go",
  );
  await s.screenshot(ARTIFACTS, "settings-10-non-admin-search-window");
});

test("settings: a non-admin's app shows no Settings button, and the core refuses to open the settings window", async () => {
  if (session !== null) {
    await session.quit().catch(() => {});
    session = null;
  }
  session = await launch(DRIVER, APP);
  const s = session;
  await s.find("#query", 30_000);
  const who = await s.text(await s.find("header p.user", 20_000));
  assert.doesNotMatch(who, /\(admin\)/, who);
  assert.equal(
    (await s.findAll("button.settings-button")).length,
    0,
    "no Settings button",
  );
  const opened = await invoke(s, "open_settings");
  assert.equal(opened.ok, false, JSON.stringify(opened));
  assert.equal(JSON.parse(opened.refusal).kind, "forbidden", opened.refusal);
  // The menu's Settings… is disabled for them: its shortcut opens nothing either.
  menuShortcut();
  await new Promise((resolve) => setTimeout(resolve, 1_000));
  assert.equal((await s.handles()).length, 1, "no settings window");
  console.log(
    `# non-admin launch: "${who.trim()}"; open_settings: ${opened.refusal}`,
  );
});

test("search: a non-admin whose granted source has no stored password is asked for it, and the search then completes", async () => {
  const s = current();
  await s.find("#query", 30_000);
  const box = await findX(s, `//label[span[normalize-space(.)="${DELTA.display}"]]/input`, 20_000);
  if (!(await s.exec("return arguments[0].checked;", [box]))) {
    await s.click(box);
  }
  const chipsOf = () =>
    s.exec(
      `return [...document.querySelectorAll('ul[aria-label="Source status"] li.chip')].map((li) => ({
         source: li.dataset.source, status: li.dataset.status, text: li.textContent.replace(/\\s+/g, ' ').trim() }));`,
    );
  const ended = (chips) =>
    chips.length > 0 && chips.every((c) => !["running", "pending"].includes(c.status)) ? chips : null;
  await retype(s, await s.find("#query"), "hearsay");
  await s.click(await s.find('form[role="search"] button[type="submit"]'));
  const first = await s.waitFor(async () => ended(await chipsOf()), "the first search to end", 30_000);
  const asked = first.find((c) => c.source === DELTA.name);
  assert.ok(asked, JSON.stringify(first));
  assert.equal(asked.status, "failed", JSON.stringify(asked));
  await s.click(await button(s, `Sign in to ${DELTA.display}`));
  const password = await s.find("#sign-in-password", 10_000);
  await s.screenshot(ARTIFACTS, "search-sign-in-dialog");
  await s.type(password, PASSWORD);
  await s.click(await button(s, "Sign in and search again"));
  const second = await s.waitFor(
    async () => {
      const chips = ended(await chipsOf());
      const delta = chips?.find((c) => c.source === DELTA.name);
      return delta && delta.status !== "failed" ? chips : null;
    },
    "the search again, the source answering",
    30_000,
  );
  const delta = second.find((c) => c.source === DELTA.name);
  assert.equal(delta.status, "completed", JSON.stringify(delta));
  console.log(`# sign-in: before "${asked.text}"; after "${delta.text}"`);
  await s.screenshot(ARTIFACTS, "search-after-sign-in");
  // Remembered (the default) in the OS user's own keychain entry, and in no file under the install.
  assert.equal(keychainHolds(deltaAccount), PASSWORD, "the OS user's own keychain entry holds it");
  assert.deepEqual(filesContaining(HOME, PASSWORD), [], "the password is in no file under the install");
});
