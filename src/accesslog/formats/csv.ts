import { UserError } from '../../lib/errors.js';
import { excerpt, quoted } from '../../lib/control.js';
import { buildRow, convert, fail, labelsFor, Reject, reject, rowReading, type Labels, type RawFields, type RowReading } from '../fields.js';
import { MAX_LINE_CHARS, TOO_LONG_REASON, type Line } from '../lines.js';
import { ACCESS_FIELDS, type AccessField, type AccessRow, type ParsedLine, type ParseOptions } from '../../domain/access.js';

// CSV logs with a header, fields found by the header (and --map): records framed from lines (a quoted
// field may span lines), split RFC 4180 style, checked by csvRow. csvRow is the one validator of a CSV
// row: the fast path (src/accesslog/fast-csv.ts) sends it every line it does not store itself.

export interface CsvRecord {
  line: number;
  text: string;
  /** A quote opened on this line and never closed. */
  unclosed?: boolean;
  /** A line over MAX_LINE_CHARS (text: its start). */
  tooLong?: boolean;
}

/** A record this long without its quote closing is taken as an unclosed quote, so one bad line cannot swallow the file. */
const MAX_RECORD_LINES = 2000;

/**
 * Frames CSV records from lines: a record ends at a line end where its double quotes balance (RFC 4180
 * escapes a quote by doubling it, so the count stays even). Framing ourselves keeps exact line numbers
 * and recovers from an unclosed quote: its first line becomes a reject and the lines after it are read
 * again. (csv-parse's own skip_records_with_error carries on inside the broken quote and loses the rows after it.)
 */
class CsvFramer {
  private pending: Line[] = [];
  private open = false;

  *push(first: Line): Generator<CsvRecord> {
    const queue = [first];
    while (queue.length) {
      const l = queue.shift()!;
      if (l.tooLong) {
        // The record it belonged to cannot be read whole: what is pending ends here, as at the end of the file.
        yield* this.end();
        yield { line: l.line, text: l.text, tooLong: true };
        continue;
      }
      if (!this.pending.length && !l.text.trim()) continue;
      this.pending.push(l);
      if (countQuotes(l.text) % 2 === 1) this.open = !this.open;
      if (!this.open) yield this.take();
      else if (this.pending.length >= MAX_RECORD_LINES) {
        const rest = this.pending.slice(1);
        yield this.abandon();
        queue.unshift(...rest);
      }
    }
  }

  *end(): Generator<CsvRecord> {
    while (this.pending.length) {
      const rest = this.pending.slice(1);
      yield this.abandon();
      for (const l of rest) yield* this.push(l);
    }
  }

  private take(): CsvRecord {
    const record = { line: this.pending[0].line, text: this.pending.map((l) => l.text).join('\n') };
    this.pending = [];
    return record;
  }

  private abandon(): CsvRecord {
    const first = this.pending[0];
    this.pending = [];
    this.open = false;
    return { line: first.line, text: first.text, unclosed: true };
  }
}

function countQuotes(text: string): number {
  let n = 0;
  for (let i = text.indexOf('"'); i !== -1; i = text.indexOf('"', i + 1)) n++;
  return n;
}

export async function* csvRecords(lines: AsyncIterable<Line>): AsyncGenerator<CsvRecord> {
  const framer = new CsvFramer();
  for await (const l of lines) yield* framer.push(l);
  yield* framer.end();
}

/**
 * The fields of one framed CSV record, RFC 4180 style ("" is a quote inside a quoted field); a Reject
 * naming `what` when malformed. Our own splitter: csv-parse/sync costs ~20 µs a call, as much as the rest
 * of a row, and framing already did the part where a streaming parser helps.
 */
export function splitCsv(text: string, what: string): string[] {
  const fields: string[] = [];
  const bad = (problem: string): never => fail(`${what}: not valid CSV (${problem} in column ${fields.length + 1})`);
  for (let i = 0; ; ) {
    let value: string;
    if (text[i] === '"') {
      [value, i] = quotedField(text, i) ?? bad('a quote that is never closed');
      if (i < text.length && text[i] !== ',') bad(`${JSON.stringify(text[i])} after the closing quote`);
    } else {
      const comma = text.indexOf(',', i);
      value = text.slice(i, comma === -1 ? text.length : comma);
      if (value.includes('"')) bad('a quote inside an unquoted value');
      i += value.length;
    }
    fields.push(value);
    if (i >= text.length) return fields;
    i++; // the comma
  }
}

/** The value of the quoted field opening at `start` and the index just past its closing quote; null when unclosed. */
function quotedField(text: string, start: number): [string, number] | null {
  let doubled = false;
  for (let from = start + 1; ; ) {
    const q = text.indexOf('"', from);
    if (q === -1) return null;
    if (text.charCodeAt(q + 1) !== 0x22) return [doubled ? undoubleQuotes(text, start + 1, q) : text.slice(start + 1, q), q + 1];
    doubled = true;
    from = q + 2;
  }
}

/**
 * text[from, to) with each "" made one ", in one pass over its code units: replaceAll, split and join,
 * and appending a piece per quote all grew super-linearly on a field of a million "" (39x for 8x).
 */
function undoubleQuotes(text: string, from: number, to: number): string {
  const units = new Uint16Array(to - from);
  let n = 0;
  for (let i = from; i < to; i++) {
    const c = text.charCodeAt(i);
    units[n++] = c;
    if (c === 0x22) i++;
  }
  let value = '';
  for (let i = 0; i < n; i += 8192) value += String.fromCharCode(...units.subarray(i, Math.min(n, i + 8192)));
  return value;
}

export interface CsvHeader {
  line: number;
  width: number;
  /** Column index of each field, -1 when the file has no such column (optional fields only). */
  index: Record<AccessField, number>;
  labels: Labels;
}

const REQUIRED_FIELDS: readonly AccessField[] = ['ts', 'user', 'action'];

export async function* parseCsvLog(lines: AsyncIterable<Line>, options: ParseOptions): AsyncGenerator<ParsedLine> {
  let header: CsvHeader | null = null;
  const reading = rowReading(options);
  for await (const rec of csvRecords(lines)) {
    if (!header) {
      header = readHeader(rec, options);
      continue;
    }
    const h = header;
    if (rec.tooLong) yield reject(rec.line, TOO_LONG_REASON, rec.text);
    else if (rec.unclosed) yield reject(rec.line, 'row: a quote opened on this line is never closed', rec.text);
    else yield convert(rec.line, rec.text, () => csvRow(splitCsv(rec.text, 'row'), h, reading));
  }
}

export function readHeader(rec: CsvRecord, options: ParseOptions): CsvHeader {
  const where = `${options.source}:${rec.line}`;
  if (rec.tooLong) throw new UserError(`${where}: the header row is longer than ${MAX_LINE_CHARS / 1024 / 1024} MiB; is this a CSV log?`);
  if (rec.unclosed) throw new UserError(`${where}: the header row has a quote that is never closed`);
  let columns: string[];
  try {
    columns = splitCsv(rec.text, 'header').map((c) => c.trim());
  } catch (err) {
    if (err instanceof Reject) throw new UserError(`${where}: ${err.message}`);
    throw err;
  }
  const index = {} as Record<AccessField, number>;
  for (const field of ACCESS_FIELDS) {
    const name = options.map?.[field] ?? field;
    index[field] = findColumn(columns, name);
    if (index[field] === -1 && (REQUIRED_FIELDS.includes(field) || options.map?.[field] !== undefined)) {
      throw new UserError(`${where}: the header has no column ${quoted(name)} for ${field} (columns: ${excerpt(columns.join(', '))}); map it with --map ${field}=<column>${encodingNote(columns, options)}`);
    }
  }
  return { line: rec.line, width: columns.length, index, labels: labelsFor(options.map) };
}

/** When the header may be misread (not read as UTF-8, or with characters that did not decode): the encoding used and how to give another. */
function encodingNote(columns: string[], options: ParseOptions): string {
  const encoding = options.encoding ?? 'utf-8';
  // UTF-8 and UTF-16 are told by their bytes; a GB18030 (or given) reading of other bytes may look like Chinese.
  if (['utf-8', 'utf-16le', 'utf-16be'].includes(encoding) && !columns.some((c) => c.includes('\uFFFD'))) return '';
  return `; the file was read as ${encoding.toUpperCase()}: if the columns look garbled, give its encoding with --encoding (e.g. gb18030, utf-16le)`;
}

/** Exact name first, then ignoring case, so "Timestamp" still finds a column mapped as "timestamp". */
function findColumn(columns: string[], name: string): number {
  const exact = columns.indexOf(name);
  return exact !== -1 ? exact : columns.findIndex((c) => c.toLowerCase() === name.toLowerCase());
}

export function csvRow(cells: string[], header: CsvHeader, reading: RowReading): AccessRow {
  if (cells.length !== header.width) {
    const missing = ACCESS_FIELDS.find((f) => header.index[f] >= cells.length);
    const counts = `the row has ${cells.length} columns, the header ${header.width}`;
    fail(missing ? `${header.labels[missing]}: missing (${counts})` : `row: ${counts}`);
  }
  const raw: RawFields = {};
  for (const f of ACCESS_FIELDS) if (header.index[f] !== -1) raw[f] = cells[header.index[f]];
  return buildRow(raw, header.labels, reading);
}
