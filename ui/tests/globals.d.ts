// What the UI tests' mock (tests/harness.mjs) adds to the page, for type-checking the tests.
import type { CoreError } from '../src/lib/bindings/CoreError';
import type { SearchEvent } from '../src/lib/bindings/SearchEvent';

/** What a scripted command answers: a value, or a rejection with the core's error report. */
export type MockAnswer = { value: unknown } | { error: CoreError };

export interface MockCall {
  cmd: string;
  args: Record<string, unknown>;
}

export interface MockSearch {
  channel: number;
  next: number;
  resolve: (outcome: unknown) => void;
  reject: (error: unknown) => void;
}

export interface MockState {
  calls: MockCall[];
  searches: MockSearch[];
  problems: string[];
}

interface AxeResult {
  violations: { id: string; impact: string | null; help: string; nodes: { target: unknown[] }[] }[];
}

declare global {
  interface Window {
    __lexicaMock: {
      state: MockState;
      emit: (event: SearchEvent) => void;
      answer: (outcome: unknown) => void;
      refuse: (error: unknown) => void;
      respond: (cmd: string, answer: MockAnswer) => void;
    };
    __TAURI_INTERNALS__: { runCallback: (id: number, data: unknown) => void };
    axe: { run: (context: Document, options: object) => Promise<AxeResult> };
  }
}
