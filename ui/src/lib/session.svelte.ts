// One search window's search session: the search running or last run (its phase, what it has shown so far, why it
// failed), cancelling it, the clock its running chips count with, and exporting its results. The window creates it
// once, so the results are still there on coming back from the reader or the history.
import { cancelSearch, describeError, exportResults, isCoreError, runSearch } from './api';
import type { SearchId } from './bindings/SearchId';
import type { SearchRequest } from './bindings/SearchRequest';
import type { QueryCheck } from './queryCheck.svelte';
import { applyEvent, applyOutcome, EMPTY_VIEW, plural, type SearchView } from './search';

/** How often the running chips' elapsed time moves on. */
const CLOCK_TICK_MS = 100;

export type SearchPhase = 'idle' | 'searching' | 'done' | 'failed';

/** What became of the last export: where the file went, or why there is none. */
export interface ExportMessage {
  ok: boolean;
  text: string;
}

export class SearchSession {
  phase = $state<SearchPhase>('idle');
  view = $state<SearchView>(EMPTY_VIEW);
  /** What stops the search or the form, for the user (null: nothing). The form's own checks say theirs here too. */
  failure = $state<string | null>(null);
  cancelling = $state(false);
  /** `performance.now()`, ticking while a search runs. */
  now = $state(performance.now());
  /** The result ↑/↓ are at (and that the reader opened): it keeps the list's tab stop. */
  active = $state(0);
  /** The request whose results are shown (its terms are marked in the reader; sign-in sends it again). */
  shown = $state<SearchRequest | null>(null);
  exporting = $state(false);
  exported = $state<ExportMessage | null>(null);

  searching = $derived(this.phase === 'searching');

  readonly #checker: QueryCheck;
  readonly #onrefused: () => void;
  /** Counts searches: events and answers of a search that another replaced change nothing. */
  #generation = 0;
  /** Cancel was asked for before the search said its id: it is sent as soon as it does. */
  #cancelRequested = false;

  /**
   * `checker` shows the problem of a query the core refuses when searching; `onrefused` is then called (the window
   * focuses the query box). The clock is an effect: create this while a component initialises.
   */
  constructor(checker: QueryCheck, onrefused: () => void) {
    this.#checker = checker;
    this.#onrefused = onrefused;
    $effect(() => {
      if (!this.searching) {
        return;
      }
      const timer = setInterval(() => {
        this.now = performance.now();
      }, CLOCK_TICK_MS);
      return () => {
        clearInterval(timer);
      };
    });
  }

  /** Sends `req` and shows it as it runs; a search still running is left to finish unseen. */
  async search(req: SearchRequest): Promise<void> {
    this.#checker.searchStarted();
    this.#generation += 1;
    const generation = this.#generation;
    this.shown = req;
    this.exported = null;
    this.phase = 'searching';
    this.view = EMPTY_VIEW;
    this.failure = null;
    this.cancelling = false;
    this.#cancelRequested = false;
    this.active = 0;
    this.now = performance.now();
    try {
      const outcome = await runSearch(req, (event) => {
        if (generation !== this.#generation) {
          return;
        }
        this.view = applyEvent(this.view, event, performance.now());
        if (event.type === 'started' && this.#cancelRequested) {
          void this.#sendCancel(event.search_id);
        }
      });
      if (generation === this.#generation) {
        this.view = applyOutcome(this.view, outcome);
        this.phase = 'done';
      }
    } catch (error: unknown) {
      if (generation !== this.#generation) {
        return;
      }
      this.phase = 'failed';
      if (isCoreError(error) && error.query !== undefined) {
        this.#checker.refused(req.query, error.query);
        this.#onrefused();
      } else {
        this.failure = describeError(error);
      }
    }
  }

  /** Stops the running search (the Cancel button and Esc). */
  cancel(): void {
    if (!this.searching || this.cancelling) {
      return;
    }
    this.cancelling = true;
    if (this.view.searchId === null) {
      // The search has not reported its id yet: cancel as soon as it does.
      this.#cancelRequested = true;
      return;
    }
    void this.#sendCancel(this.view.searchId);
  }

  async #sendCancel(id: SearchId): Promise<void> {
    try {
      await cancelSearch(id);
    } catch (error: unknown) {
      this.failure = `The search could not be cancelled: ${describeError(error)}`;
    }
  }

  /** Saves the results shown as a CSV file and says where it went (or why it could not). */
  async exportCsv(): Promise<void> {
    if (this.view.hits.length === 0 || this.exporting) {
      return;
    }
    const hits = $state.snapshot(this.view.hits);
    this.exporting = true;
    this.exported = null;
    try {
      const path = await exportResults(hits);
      this.exported = { ok: true, text: `Exported ${plural(hits.length, 'result')} to ${path}` };
    } catch (error: unknown) {
      this.exported = { ok: false, text: `The results could not be exported: ${describeError(error)}` };
    } finally {
      this.exporting = false;
    }
  }
}
