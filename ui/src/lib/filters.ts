// The search form's pure parts: what it holds, why it cannot be sent as it is, the request it sends, and the form a
// past request fills back in. No Svelte here, so the rules are unit-tested as they are (tests/filters.test.mjs).
import type { SearchFilters } from './bindings/SearchFilters';
import type { SearchModeInput } from './bindings/SearchModeInput';
import type { SearchRequest } from './bindings/SearchRequest';
import type { SortOrder } from './bindings/SortOrder';

/** What the search form holds, as typed: lists are comma-separated text, dates `YYYY-MM-DD` text. */
export interface FormValues {
  query: string;
  mode: SearchModeInput;
  /** Names of the sources to search. */
  selected: readonly string[];
  courts: string;
  jurisdictions: string;
  from: string;
  to: string;
  sort: SortOrder;
  /** Boolean AND queries: also list the opinions lacking one or two of the AND-ed clauses (the core's default). */
  nearMisses: boolean;
}

/** Why the form cannot be sent; `inQuery` when the query box is what to fix (it takes the focus). */
export interface FormProblem {
  message: string;
  inQuery: boolean;
}

/** A YYYY-MM-DD date, checked as a real day afterwards (1998-02-30 has the shape, not the day). */
const DATE_SHAPE = /^(\d{4})-(\d{2})-(\d{2})$/;

/**
 * Why a typed date filter is not one (null: empty, or a real YYYY-MM-DD date). The date filters are text fields, not
 * `type="date"`: WebKitGTK draws an empty date input with today's date greyed in, which reads as a filter set.
 */
export function dateProblem(text: string): string | null {
  const value = text.trim();
  if (value === '') {
    return null;
  }
  const parsed = DATE_SHAPE.exec(value);
  const date = parsed === null ? null : new Date(`${value}T00:00:00Z`);
  if (date === null || Number.isNaN(date.getTime()) || date.toISOString().slice(0, 10) !== value) {
    return `“${value}” is not a date: type it as YYYY-MM-DD (for example 1998-05-12).`;
  }
  return null;
}

/** `"a, b,,c "` → `["a", "b", "c"]`. */
export function splitList(list: string): string[] {
  return list
    .split(',')
    .map((part) => part.trim())
    .filter((part) => part !== '');
}

/**
 * Why the form cannot be sent as it is (null: it can): the first of a blank query, no source chosen, a date that is
 * not one, dates the wrong way round. Whether the query itself parses is the core's to say (the as-you-type check).
 */
export function formProblem(form: FormValues): FormProblem | null {
  if (form.query.trim() === '') {
    const message =
      form.mode === 'boolean' ? 'Type a query to search for.' : 'Describe the issue to search for.';
    return { message, inQuery: true };
  }
  if (form.selected.length === 0) {
    return { message: 'Choose at least one source to search.', inQuery: false };
  }
  const badDate = dateProblem(form.from) ?? dateProblem(form.to);
  if (badDate !== null) {
    return { message: `Decided from / to: ${badDate}`, inQuery: false };
  }
  const [from, to] = [form.from.trim(), form.to.trim()];
  if (from !== '' && to !== '' && from > to) {
    return { message: 'Decided from is after Decided to: swap them, or clear one.', inQuery: false };
  }
  return null;
}

/** The request the form sends; `searchable` names every source the user may search (all chosen: none named). */
export function buildRequest(form: FormValues, searchable: readonly string[]): SearchRequest {
  const filters: SearchFilters = {
    courts: splitList(form.courts),
    jurisdictions: splitList(form.jurisdictions),
  };
  if (form.from.trim() !== '') {
    filters.from = form.from.trim();
  }
  if (form.to.trim() !== '') {
    filters.to = form.to.trim();
  }
  const all = searchable.every((name) => form.selected.includes(name));
  const req: SearchRequest = {
    query: form.query,
    mode: form.mode,
    sources: all ? [] : [...form.selected],
    filters,
    sort: form.sort,
  };
  // Near misses are on unless the request says otherwise.
  if (!form.nearMisses) {
    req.near_misses = false;
  }
  return req;
}

/** The form that sends `req` again (a past search run again): no sources named means every searchable one. */
export function formOf(req: SearchRequest, searchable: readonly string[]): FormValues {
  return {
    query: req.query,
    mode: req.mode,
    selected: req.sources.length === 0 ? [...searchable] : [...req.sources],
    courts: req.filters.courts.join(', '),
    jurisdictions: req.filters.jurisdictions.join(', '),
    from: req.filters.from ?? '',
    to: req.filters.to ?? '',
    sort: req.sort,
    nearMisses: req.near_misses !== false,
  };
}
