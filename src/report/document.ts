import type { ReportLang } from './data.js';

// A report as a document: what it says, built once from the report's data (render.ts for an
// incident, audit-render.ts for the audit), then written out by markdown.ts or html.ts (the PDF is
// the HTML printed by Chromium). The model holds text, never markup: each renderer escapes for its
// own format.

/** A piece of a line: plain text, or text shown as something. */
export type Run =
  | string
  /** An id, a number, a command: monospace. */
  | { code: string }
  /**
   * A SHA-256: `short` shows its start (the whole in a tooltip and in the chain of custody), `anchor`
   * stands out as the one to copy elsewhere.
   */
  | { hash: string; form?: 'short' | 'anchor' }
  /** A failed check, a missed week: stands out. */
  | { bad: string };

/** A line of text: its runs in order. */
export type Text = Run[];

/** How a paragraph reads: the report's lead, its summary, a small note, a warning, a verdict. */
export type Tone = 'lead' | 'summary' | 'note' | 'warning' | 'ok' | 'fail';

export interface Field {
  label: string;
  value: Text;
}

export interface LegendItem {
  color: string;
  symbol: string;
  label: string;
}

export type Block =
  | { kind: 'paragraph'; text: Text; tone?: Tone }
  /** A heading inside a section (level 3), or inside a card (level 4). */
  | { kind: 'heading'; text: string; level: 3 | 4 }
  | { kind: 'fields'; fields: Field[] }
  | { kind: 'list'; items: Text[]; ordered?: boolean; style?: string }
  | { kind: 'table'; headers: string[]; rows: Text[][]; style?: string }
  /** A chart drawn as SVG; `text` says the same in words where no chart can be shown (Markdown). */
  | { kind: 'figure'; svg: string; caption: string; legend: LegendItem[]; text: Block[] }
  /** A boxed item of a list (a suspect): its heading, a share from 0 to 1 drawn as a bar, its content. */
  | { kind: 'card'; title: string; share: number; style: string; tag: string; blocks: Block[] };

export interface Section {
  /** The HTML anchor. */
  id: string;
  title: string;
  blocks: Block[];
}

export interface Doc {
  lang: ReportLang;
  title: string;
  lead: string;
  fields: Field[];
  /** What the reader must know first (times are UTC, numbers masked); `alert` when it warns. */
  notice: { text: string; alert: boolean };
  sections: Section[];
  footer: string;
  /** The tool that made it, for the HTML's generator. */
  generator: string;
}

/** Text that may hold `code spans`, as runs. */
export function rich(text: string): Text {
  return text.split(/(`[^`]+`)/).flatMap((part, i): Text => (i % 2 === 1 ? [{ code: part.slice(1, -1) }] : part ? [part] : []));
}

export const paragraph = (text: string | Text, tone?: Tone): Block => ({ kind: 'paragraph', text: typeof text === 'string' ? [text] : text, ...(tone ? { tone } : {}) });
export const heading = (text: string, level: 3 | 4 = 3): Block => ({ kind: 'heading', text, level });
export const table = (headers: string[], rows: Text[][], style?: string): Block => ({ kind: 'table', headers, rows, ...(style ? { style } : {}) });

/** A table, or when it has no rows the sentence that says so. */
export const tableOr = (empty: string, headers: string[], rows: Text[][], style?: string): Block => (rows.length ? table(headers, rows, style) : paragraph(empty));

/** A cell of code, or an empty one. */
export const code = (text: string | null | undefined): Text => (text ? [{ code: text }] : []);

/** Who made the report and when, as a field: "Report made: <when>, by <who>". */
export const madeBy = (meta: { generated: string; by: string }, when: Text, by: string | null): Field => ({ label: meta.generated, value: [...when, ...(by ? [`, ${meta.by} ${by}`] : [])] });
