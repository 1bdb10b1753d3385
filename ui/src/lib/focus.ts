// Where the search window puts the keyboard focus: the query box (`#query`, QueryBox.svelte) or the current result
// (ResultList.svelte's roving tab stop). By id, as the screens come and go while the window stays.

/** Focuses the query box (when the search screen shows it). */
export function focusQuery(): void {
  document.querySelector<HTMLInputElement>('#query')?.focus();
}

/**
 * Focuses the current result, which holds the list's one tab stop (↓ from the query box, Back from the reader);
 * false when no list is shown.
 */
export function focusCurrentResult(): boolean {
  const current = document.querySelector<HTMLElement>('#results [role="option"][tabindex="0"]');
  current?.focus();
  return current !== null;
}
