// The UI test harness: the built UI (`dist/`) served from 127.0.0.1 under the app's production CSP, opened in
// Debian's headless Chromium through playwright-core (which never downloads a browser), with the Tauri IPC replaced by
// `@tauri-apps/api/mocks` plus a scriptable mock of the shell's commands (see `installMock`).
import { existsSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { extname, join, normalize, resolve, sep } from 'node:path';
import { fileURLToPath } from 'node:url';

import { chromium } from 'playwright-core';

const UI_DIR = resolve(fileURLToPath(new URL('..', import.meta.url)));
const DIST = join(UI_DIR, 'dist');
const CHROMIUM = process.env.LEXICA_CHROMIUM ?? '/usr/bin/chromium';

/** The CSP the app runs under (tauri.conf.json's `app.security.csp`), sent with every page the tests load. */
export const CSP = productionCsp();

/**
 * @param {string} text
 * @returns {unknown}
 */
function parseJson(text) {
  return JSON.parse(text);
}

function productionCsp() {
  const config = /** @type {{ app: { security: { csp: Record<string, string> } } }} */ (
    parseJson(readFileSync(join(UI_DIR, '../src-tauri/tauri.conf.json'), 'utf8'))
  );
  return Object.entries(config.app.security.csp)
    .map(([directive, value]) => `${directive} ${value}`)
    .join('; ');
}

const TYPES = new Map([
  ['.html', 'text/html; charset=utf-8'],
  ['.js', 'text/javascript; charset=utf-8'],
  ['.css', 'text/css; charset=utf-8'],
  ['.svg', 'image/svg+xml'],
  ['.png', 'image/png'],
  ['.ico', 'image/x-icon'],
]);

/**
 * Serves `dist/` on a free loopback port.
 * @returns {Promise<{ url: string, close: () => Promise<void> }>}
 */
export async function serveDist() {
  if (!existsSync(join(DIST, 'index.html'))) {
    throw new Error(`${DIST}/index.html is missing: run \`npm run build\` first (npm run test:ui does)`);
  }
  const server = createServer((request, response) => {
    const path = decodeURIComponent(new URL(request.url ?? '/', 'http://127.0.0.1').pathname);
    if (path === '/favicon.ico') {
      // Browsers ask for one; the app has none (the window icon comes from the shell).
      response.writeHead(204).end();
      return;
    }
    const file = normalize(join(DIST, path === '/' ? 'index.html' : path));
    if (!file.startsWith(DIST + sep) || !existsSync(file)) {
      response.writeHead(404).end();
      return;
    }
    response.writeHead(200, {
      'Content-Type': TYPES.get(extname(file)) ?? 'application/octet-stream',
      'Content-Security-Policy': CSP,
      'Cache-Control': 'no-store',
    });
    response.end(readFileSync(file));
  });
  await new Promise((done) => {
    server.listen(0, '127.0.0.1', () => {
      done(undefined);
    });
  });
  const address = server.address();
  if (address === null || typeof address === 'string') {
    throw new Error('the test server has no port');
  }
  return {
    url: `http://127.0.0.1:${String(address.port)}/`,
    close: () =>
      new Promise((done) => {
        server.close(() => {
          done(undefined);
        });
      }),
  };
}

/** Headless Debian Chromium with a throwaway profile (Playwright makes a fresh one per launch). */
export async function launchBrowser() {
  if (!existsSync(CHROMIUM)) {
    throw new Error(
      `no Chromium at ${CHROMIUM}: install it with \`apt-get install -y chromium\` (or set LEXICA_CHROMIUM)`,
    );
  }
  return chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: [
      '--no-sandbox',
      '--disable-gpu',
      '--disable-background-networking',
      '--disable-component-update',
      '--disable-sync',
      '--no-first-run',
    ],
  });
}

const MOCKS_SOURCE = readFileSync(join(UI_DIR, 'node_modules/@tauri-apps/api/mocks.js'), 'utf8').replace(
  /^export \{[^}]*\};?\s*$/m,
  '',
);

/**
 * What the mocked shell answers.
 * @typedef {object} MockConfig
 * @property {import('../src/lib/bindings/AppOverview.ts').AppOverview} overview
 * @property {Record<string, import('../src/lib/bindings/QueryProblem.ts').QueryProblem>} queryProblems
 *   `check_query` rejects these exact query texts with a `query` error carrying the problem; it accepts anything else.
 * @property {Record<string, import('../src/lib/bindings/OpinionDocument.ts').OpinionDocument>} [opinions]
 *   `open_opinion` answers these, keyed `<source id>:<opinion id>`; it refuses any other.
 * @property {import('../src/lib/bindings/SearchRecord.ts').SearchRecord[]} [history] what `search_history` answers.
 * @property {string} [exportPath] the path `export_results` answers (it refuses when there is none).
 * @property {Record<string, MockAnswer>} [answers] what any other command answers (the settings window's admin
 *   commands, the dialog plugin's `plugin:dialog|open` / `plugin:dialog|save`); a test changes them while it runs
 *   with `window.__lexicaMock.respond`. A command with no answer is refused.
 * @property {string} [window] the label of the window the page plays (`main` unless told).
 */

/**
 * One command's answer: a value, or a rejection with the core's error report.
 * @typedef {import('./globals').MockAnswer} MockAnswer
 */

/**
 * Runs in the page before the app: `mockIPC` answers the shell's commands and records every call; `search` calls stay
 * open until the test resolves them, and the test pushes events into their channels (`window.__lexicaMock`).
 * Also records CSP violations and page errors.
 * @param {typeof import('@tauri-apps/api/mocks').mockIPC} mockIPC
 * @param {typeof import('@tauri-apps/api/mocks').mockWindows} mockWindows
 * @param {MockConfig} config
 */
function installMock(mockIPC, mockWindows, config) {
  /** @type {import('./globals').MockState} */
  const state = { calls: [], searches: [], problems: [] };
  /** @type {Record<string, MockAnswer>} */
  const answers = { ...(config.answers ?? {}) };
  document.addEventListener('securitypolicyviolation', (event) => {
    state.problems.push(`CSP violation: ${event.violatedDirective} ${event.blockedURI}`);
  });
  window.addEventListener('error', (event) => {
    state.problems.push(`page error: ${event.message}`);
  });
  window.addEventListener('unhandledrejection', (event) => {
    state.problems.push(`unhandled rejection: ${JSON.stringify(event.reason)}`);
  });
  mockWindows(config.window ?? 'main');
  mockIPC((cmd, args) => {
    const payload = /** @type {Record<string, unknown>} */ (args ?? {});
    // A Channel serializes as `__CHANNEL__:<id>`, as on its way to the real shell. (No helper functions here: this
    // function's source is what runs in the page.)
    const recorded = /** @type {unknown} */ (JSON.parse(JSON.stringify(payload)));
    state.calls.push({ cmd, args: /** @type {Record<string, unknown>} */ (recorded) });
    switch (cmd) {
      case 'plugin:window|get_all_windows':
        return ['main'];
      case 'app_overview':
        return config.overview;
      case 'check_query': {
        const problem = config.queryProblems[String(payload.query)];
        if (problem === undefined) {
          return null;
        }
        // The shell rejects with the core's error report, a plain object, not an Error.
        // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
        return Promise.reject({ kind: 'query', message: problem.message, fields: [], query: problem });
      }
      case 'search':
        return new Promise((resolveSearch, rejectSearch) => {
          const channel = /** @type {{ id: number }} */ (payload.onEvent);
          state.searches.push({ channel: channel.id, next: 0, resolve: resolveSearch, reject: rejectSearch });
        });
      case 'cancel_search':
        return true;
      case 'search_history':
        return config.history ?? [];
      case 'open_opinion': {
        const opinion = config.opinions?.[`${String(payload.sourceId)}:${String(payload.opinionId)}`];
        if (opinion === undefined) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          return Promise.reject({
            kind: 'refused',
            message: 'that source is not one you can search now',
            fields: [],
          });
        }
        return opinion;
      }
      case 'export_results':
        if (config.exportPath === undefined) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          return Promise.reject({
            kind: 'storage',
            message: 'could not write the file: disk full',
            fields: [],
          });
        }
        return config.exportPath;
      default: {
        const answer = answers[cmd];
        if (answer === undefined) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          return Promise.reject({
            kind: 'refused',
            message: `the test mock does not answer ${cmd}`,
            fields: [],
          });
        }
        if ('error' in answer) {
          // eslint-disable-next-line @typescript-eslint/prefer-promise-reject-errors
          return Promise.reject(answer.error);
        }
        return answer.value;
      }
    }
  });
  window.__lexicaMock = {
    state,
    emit(event) {
      const search = state.searches.at(-1);
      if (search === undefined) {
        throw new Error('no search is running');
      }
      window.__TAURI_INTERNALS__.runCallback(search.channel, { index: search.next, message: event });
      search.next += 1;
    },
    answer(outcome) {
      state.searches.at(-1)?.resolve(outcome);
    },
    refuse(error) {
      state.searches.at(-1)?.reject(error);
    },
    respond(cmd, answer) {
      answers[cmd] = answer;
    },
  };
}

/**
 * A page of the app with the mocked shell, loaded and showing the search window.
 * @param {import('playwright-core').Browser} browser
 * @param {string} url
 * @param {MockConfig} config
 */
export function openApp(browser, url, config) {
  return openPage(browser, url, config, (page) => page.getByRole('search').waitFor());
}

/**
 * The settings window (`index.html?window=settings`, the window labelled `settings`) with the mocked shell, loaded.
 * @param {import('playwright-core').Browser} browser
 * @param {string} url
 * @param {MockConfig} config
 */
export function openSettingsWindow(browser, url, config) {
  return openPage(browser, `${url}?window=settings`, { window: 'settings', ...config }, (page) =>
    page.getByRole('heading', { name: 'Lexica settings' }).waitFor(),
  );
}

/**
 * @param {import('playwright-core').Browser} browser
 * @param {string} url
 * @param {MockConfig} config
 * @param {(page: import('playwright-core').Page) => Promise<void>} ready resolves once the window is shown
 */
async function openPage(browser, url, config, ready) {
  const context = await browser.newContext({
    viewport: { width: 1200, height: 800 },
    reducedMotion: 'reduce',
  });
  const page = await context.newPage();
  /** @type {string[]} */
  const consoleErrors = [];
  page.on('console', (message) => {
    if (message.type() === 'error' || message.type() === 'warning') {
      consoleErrors.push(`${message.type()}: ${message.text()}`);
    }
  });
  page.on('pageerror', (error) => consoleErrors.push(`page error: ${error.message}`));
  // An init script is not subject to the page's CSP (the app's own code is).
  await page.addInitScript({
    content: `${MOCKS_SOURCE}\n;(${installMock.toString()})(mockIPC, mockWindows, ${JSON.stringify(config)});`,
  });
  await page.goto(url);
  await ready(page);
  return {
    page,
    /** Everything that went wrong in the page: CSP violations, errors, console errors and warnings. */
    problems: async () => [
      ...consoleErrors,
      ...(await page.evaluate(() => window.__lexicaMock.state.problems)),
    ],
    close: () => context.close(),
  };
}

/** The axe-core engine's source, evaluated in the page (a script tag would be refused by the CSP). */
export const AXE_SOURCE = readFileSync(join(UI_DIR, 'node_modules/axe-core/axe.min.js'), 'utf8');
