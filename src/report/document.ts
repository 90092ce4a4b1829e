/**
 * The report as plain data: sections of paragraphs, lists, tables and plot slots. sections.ts
 * builds it once from a LabSummary; markdown.ts and html.ts only render it, so both say the same.
 */

export type Tone = 'pass' | 'fail' | 'muted';

/** A table cell: text, optionally toned (PASS / FAIL badges, missing values). */
export type Cell = string | { text: string; tone?: Tone };

export type Block =
  | { kind: 'p'; text: string; tone?: Tone }
  | { kind: 'list'; items: { text: string; badge?: 'PASS' | 'FAIL' }[] }
  /** `numeric[i]` right-aligns column i. */
  | { kind: 'table'; head: string[]; rows: Cell[][]; numeric?: boolean[] }
  /** One of the plots (by file stem in plots/). */
  | { kind: 'plot'; name: string };

export interface Section {
  /** Anchor id (html) — lowercase, dashes. */
  id: string;
  title: string;
  blocks: Block[];
}

export const cellText = (c: Cell): string => (typeof c === 'string' ? c : c.text);
