// The opinion reader's pure parts: numbering the marked runs (for "hit 3 of 17") and the citation to copy.
import type { OpinionDocument } from './bindings/OpinionDocument';
import type { SnippetPart } from './bindings/SnippetPart';

/** A text run with, when it is marked, its position among all the document's marks (0-based); else -1. */
export interface NumberedPart extends SnippetPart {
  mark: number;
}

/** The paragraphs with every marked run numbered in reading order. */
export function numberMarks(paragraphs: SnippetPart[][]): NumberedPart[][] {
  let next = 0;
  return paragraphs.map((parts) =>
    parts.map((part) => {
      if (!part.highlight) {
        return { ...part, mark: -1 };
      }
      next += 1;
      return { ...part, mark: next - 1 };
    }),
  );
}

/** The mark after (`step` 1) or before (`step` -1) `current`, wrapping around; -1 when there is none. */
export function stepMark(current: number, count: number, step: 1 | -1): number {
  if (count <= 0) {
    return -1;
  }
  if (current < 0) {
    return step === 1 ? 0 : count - 1;
  }
  return (current + step + count) % count;
}

/** "People v. Ortiz, 11 N.Y.2d 33 (Court of Appeals of New York 1998)"; the docket stands in for a missing citation. */
export function citationText(doc: OpinionDocument): string {
  const year = doc.decided_on?.slice(0, 4) ?? '';
  const cite = doc.citation ?? (doc.docket_number === null ? null : docketLabel(doc.docket_number));
  const court = [doc.court, year].filter((part) => part !== '').join(' ');
  return `${doc.case_name}${cite === null ? '' : `, ${cite}`}${court === '' ? '' : ` (${court})`}`;
}

/** "No. 84-1580"; many sources already store the "No." themselves. */
export function docketLabel(number: string): string {
  const trimmed = number.trim();
  return /^no\b/i.test(trimmed) ? trimmed : `No. ${trimmed}`;
}
