// Showing where a query went wrong. The core counts positions in characters (Unicode code points), JavaScript
// strings in UTF-16 units: these helpers convert, so a query with “smart quotes” or accents still points right.
import type { QueryProblem } from './bindings/QueryProblem';

export interface MarkedQuery {
  before: string;
  /** The offending text; empty when the problem is at the end (something is missing there). */
  bad: string;
  after: string;
}

/** The query cut around the problem's span. */
export function markProblem(query: string, problem: QueryProblem): MarkedQuery {
  const chars = Array.from(query);
  const start = Math.min(problem.char_start, chars.length);
  const end = Math.min(Math.max(problem.char_end, start), chars.length);
  return {
    before: chars.slice(0, start).join(''),
    bad: chars.slice(start, end).join(''),
    after: chars.slice(end).join(''),
  };
}

/** The UTF-16 offset of character `index` in `text` (for `setSelectionRange`). */
export function utf16Offset(text: string, index: number): number {
  return Array.from(text).slice(0, index).join('').length;
}
