// Match counts as the window shows them: one rule for the chips, the summary and the history. The same rule as the
// core's (`lexica-core/src/models/match_count.rs`), so the app and the CLI print a count alike.
import type { MatchCount } from './bindings/MatchCount';

/** What an estimated count starts with: "≈ 41,000". */
export const ESTIMATE_SIGN = '≈';

/**
 * Thousands grouped with commas, whatever the system's locale: Lexica's text is English throughout, and a count must
 * read the same in the window, the CLI and a screenshot.
 */
const GROUPED = new Intl.NumberFormat('en-US', { maximumFractionDigits: 0, useGrouping: true });

/** `1234567` → `1,234,567`. */
export function groupThousands(n: number): string {
  return GROUPED.format(n);
}

/** `1,234`, or `≈ 41,000` for an estimate. */
export function formatMatchCount(count: MatchCount): string {
  const digits = groupThousands(count.count);
  return count.estimated ? `${ESTIMATE_SIGN} ${digits}` : digits;
}

/** "1 match", "1,234 matches", "≈ 41,000 matches". */
export function matchesText(count: MatchCount): string {
  return `${formatMatchCount(count)} ${count.count === 1 ? 'match' : 'matches'}`;
}

/**
 * How the exact matches shown compare with how many matched: "the top 100" of more (or of an estimate), "all 42"
 * when every match is shown.
 */
export function shownOf(total: MatchCount, shown: number): string {
  return total.estimated || total.count > shown
    ? `the top ${groupThousands(shown)}`
    : `all ${groupThousands(shown)}`;
}
