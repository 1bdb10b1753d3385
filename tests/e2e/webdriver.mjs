// A small W3C WebDriver client over `fetch`, enough to drive the real app through tauri-driver.
// No dependencies. Spec: https://www.w3.org/TR/webdriver2/
import { writeFile } from "node:fs/promises";
import { join } from "node:path";

const ELEMENT = "element-6066-11e4-a52e-4f735466cecf";

/** @typedef {{ [ELEMENT]: string }} ElementRef */

export class WebDriverError extends Error {}

/**
 * @param {string} base the driver's URL
 * @param {'GET' | 'POST' | 'DELETE'} method
 * @param {string} path
 * @param {unknown} [body]
 */
async function call(base, method, path, body) {
  const response = await fetch(`${base}${path}`, {
    method,
    headers:
      body === undefined
        ? {}
        : { "content-type": "application/json; charset=utf-8" },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const text = await response.text();
  /** @type {any} */
  let json;
  try {
    json = JSON.parse(text);
  } catch {
    throw new WebDriverError(
      `${method} ${path}: HTTP ${response.status}: ${text.slice(0, 300)}`,
    );
  }
  const value = json?.value;
  if (
    !response.ok ||
    (value !== null && typeof value === "object" && "error" in value)
  ) {
    throw new WebDriverError(
      `${method} ${path}: ${value?.error ?? response.status}: ${value?.message ?? text.slice(0, 300)}`,
    );
  }
  return value;
}

const sleep = (ms) => new Promise((resolve) => setTimeout(resolve, ms));

/**
 * Launches the app (tauri-driver starts it through WebKitWebDriver) and returns a session.
 * @param {string} base tauri-driver's URL
 * @param {string} application absolute path of the app binary
 */
export async function launch(base, application) {
  const caps = { browserName: "wry", "tauri:options": { application } };
  const value = await call(base, "POST", "/session", {
    capabilities: { alwaysMatch: caps, firstMatch: [{}] },
  });
  return new Session(base, value.sessionId);
}

export class Session {
  /** @param {string} base @param {string} id */
  constructor(base, id) {
    this.base = base;
    this.id = id;
  }

  /** @param {'GET' | 'POST' | 'DELETE'} method @param {string} path @param {unknown} [body] */
  cmd(method, path, body) {
    return call(this.base, method, `/session/${this.id}${path}`, body);
  }

  /** Ends the session; the driver closes the app. */
  async quit() {
    await this.cmd("DELETE", "");
  }

  /** The handles of every window (top-level browsing context) the driver controls. @returns {Promise<string[]>} */
  handles() {
    return this.cmd("GET", "/window/handles");
  }

  /** The handle of the window commands go to now. @returns {Promise<string>} */
  handle() {
    return this.cmd("GET", "/window");
  }

  /** Sends the next commands to the window of `handle`. @param {string} handle */
  switchTo(handle) {
    return this.cmd("POST", "/window", { handle });
  }

  /** Reloads the current window's page. */
  refresh() {
    return this.cmd("POST", "/refresh", {});
  }

  /** @param {string} css @returns {Promise<ElementRef[]>} */
  findAll(css) {
    return this.cmd("POST", "/elements", { using: "css selector", value: css });
  }

  /** @param {string} xpath @returns {Promise<ElementRef[]>} */
  findAllX(xpath) {
    return this.cmd("POST", "/elements", { using: "xpath", value: xpath });
  }

  /** @param {ElementRef} el */
  click(el) {
    return this.cmd("POST", `/element/${el[ELEMENT]}/click`, {});
  }

  /** @param {ElementRef} el @param {string} text */
  type(el, text) {
    return this.cmd("POST", `/element/${el[ELEMENT]}/value`, { text });
  }

  /** @param {ElementRef} el @returns {Promise<string>} */
  text(el) {
    return this.cmd("GET", `/element/${el[ELEMENT]}/text`);
  }

  /** Presses and releases one key (W3C key value, e.g. '\uE00C' for Escape) on the focused element. */
  async press(key) {
    const actions = [
      {
        type: "key",
        id: "keyboard",
        actions: [
          { type: "keyDown", value: key },
          { type: "keyUp", value: key },
        ],
      },
    ];
    await this.cmd("POST", "/actions", { actions });
    await this.cmd("DELETE", "/actions");
  }

  /**
   * Runs `script` (a function body) in the page; `arguments` holds `args`.
   * @param {string} script @param {unknown[]} [args]
   */
  exec(script, args = []) {
    return this.cmd("POST", "/execute/sync", { script, args });
  }

  /** @param {string} script @param {unknown[]} [args] */
  execAsync(script, args = []) {
    return this.cmd("POST", "/execute/async", { script, args });
  }

  /**
   * Polls `probe` until it returns something truthy (returned), or fails after `timeoutMs` with `what`.
   * @template T
   * @param {() => Promise<T>} probe @param {string | (() => string)} what @param {number} [timeoutMs]
   * @returns {Promise<NonNullable<T>>}
   */
  async waitFor(probe, what, timeoutMs = 20_000) {
    const deadline = Date.now() + timeoutMs;
    /** @type {unknown} */
    let last;
    for (;;) {
      try {
        const value = await probe();
        if (value) {
          return /** @type {NonNullable<T>} */ (value);
        }
        last = value;
      } catch (error) {
        last = error;
      }
      if (Date.now() > deadline) {
        throw new Error(
          `timed out after ${timeoutMs} ms waiting for ${typeof what === "function" ? what() : what} (last: ${String(last)})`,
        );
      }
      await sleep(50);
    }
  }

  /** The first element matching `css`, waited for. @param {string} css @param {number} [timeoutMs] */
  async find(css, timeoutMs) {
    const [el] = await this.waitFor(
      async () => {
        const found = await this.findAll(css);
        return found.length > 0 ? found : null;
      },
      `an element matching ${css}`,
      timeoutMs,
    );
    return el;
  }

  /** Saves a PNG of the window, after two animation frames so the last change is painted. */
  async screenshot(dir, name) {
    await this.execAsync(
      "const done = arguments[arguments.length - 1]; requestAnimationFrame(() => requestAnimationFrame(() => done(true)));",
    );
    const base64 = await this.cmd("GET", "/screenshot");
    const file = join(dir, `${name}.png`);
    await writeFile(file, Buffer.from(base64, "base64"));
    return file;
  }
}
