// The query box's as-you-type check: a pause in typing asks the core whether the query parses, and its problem (where
// and how to fix it) is shown until the text is fixed. Checks answer out of order, so only the latest one changes
// what is shown; and a query the core refused when searching keeps its problem against a check of the same text.
import { checkQuery, isCoreError } from './api';
import type { QueryProblem } from './bindings/QueryProblem';
import type { SearchModeInput } from './bindings/SearchModeInput';

/** How long typing must pause before the query is checked. */
export const CHECK_DELAY_MS = 250;

/** A query's problem, with the text it was found in (the box may have changed since). */
export interface ShownProblem {
  text: string;
  detail: QueryProblem;
}

export class QueryCheck {
  /** The last check's problem (null: none, or a blank box). */
  problem = $state<ShownProblem | null>(null);

  /**
   * The text the core refused only when searching it (its local check passes): a check of that same text, still
   * pending or debounced when the refusal came, must not clear the problem.
   */
  #refusedText: string | null = null;
  /** Counts checks (and whatever else changes the problem): a check may show its answer only if still the latest. */
  #seq = 0;

  /**
   * Checks `text()` in `mode()` whenever either changes and typing pauses; a blank box shows no problem. The check is
   * an effect: create this while a component initialises (it stops with that component).
   */
  constructor(text: () => string, mode: () => SearchModeInput) {
    $effect(() => {
      const current = text();
      const currentMode = mode();
      if (current.trim() === '') {
        this.#seq += 1;
        this.problem = null;
        return;
      }
      const timer = setTimeout(() => {
        void this.check(current, currentMode);
      }, CHECK_DELAY_MS);
      return () => {
        clearTimeout(timer);
      };
    });
  }

  /** Checks `text`; true when it parses. Only the latest check may change what is shown. */
  async check(text: string, mode: SearchModeInput): Promise<boolean> {
    this.#seq += 1;
    const seq = this.#seq;
    try {
      await checkQuery(text, mode);
      if (seq === this.#seq && text !== this.#refusedText) {
        this.problem = null;
      }
      return true;
    } catch (error: unknown) {
      if (seq === this.#seq && isCoreError(error) && error.query !== undefined) {
        this.problem = { text, detail: error.query };
        return false;
      }
      // Not a query problem (the core could not answer): the search itself will say what is wrong.
      return true;
    }
  }

  /** A search starts: the last search's refusal no longer stands (nor the problem it showed). */
  searchStarted(): void {
    if (this.#refusedText !== null) {
      this.#refusedText = null;
      this.problem = null;
    }
  }

  /** The core refused `text` when searching it: its problem is shown, whatever a pending check of it answers. */
  refused(text: string, detail: QueryProblem): void {
    this.#seq += 1;
    this.#refusedText = text;
    this.problem = { text, detail };
  }

  /** Shows no problem (the form was filled from a past search, which is sent as it is). */
  clear(): void {
    this.problem = null;
  }
}
