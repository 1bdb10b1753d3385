// What the search form holds (the query box, its mode, the sources chosen, the filters), as state that outlives the
// search screen: the search window creates it once, so the form is as it was on coming back from the reader or the
// history. The rules over it are filters.ts's.
import type { SearchModeInput } from './bindings/SearchModeInput';
import type { SearchRequest } from './bindings/SearchRequest';
import type { SortOrder } from './bindings/SortOrder';
import { buildRequest, formOf, type FormValues } from './filters';

export class SearchForm implements FormValues {
  mode = $state<SearchModeInput>('boolean');
  query = $state('');
  selected = $state<string[]>([]);
  courts = $state('');
  jurisdictions = $state('');
  from = $state('');
  to = $state('');
  sort = $state<SortOrder>('relevance');
  nearMisses = $state(true);

  /** `selected`: the sources chosen at first (all the searchable ones; the picker changes this). */
  constructor(selected: string[]) {
    this.selected = selected;
  }

  /** The request the form sends; `searchable` names every source the user may search. */
  request(searchable: readonly string[]): SearchRequest {
    return buildRequest(this, searchable);
  }

  /** Fills the form with `req` (a past search run again): its query, mode, sources, filters and sort. */
  fill(req: SearchRequest, searchable: readonly string[]): void {
    const values = formOf(req, searchable);
    this.query = values.query;
    this.mode = values.mode;
    this.selected = [...values.selected];
    this.courts = values.courts;
    this.jurisdictions = values.jurisdictions;
    this.from = values.from;
    this.to = values.to;
    this.sort = values.sort;
    this.nearMisses = values.nearMisses;
  }
}
