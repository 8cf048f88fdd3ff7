import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import type { Readable } from 'node:stream';
import { decoderFor, detectEncoding } from '../lib/encoding.js';
import { escapeControls } from '../lib/control.js';

// Reading leaked files as a stream of records (a line, a JSON object, a spreadsheet row), whatever
// their format or encoding, with memory flat in the file size. Problems become warnings naming the
// place, and reading goes on.

const require = createRequire(import.meta.url);

export interface ScanRecord {
  file: string;
  /** 1-based line of a text file (the first line of a multi-line JSON object). */
  line?: number;
  sheet?: string;
  /** 1-based spreadsheet row. */
  row?: number;
  text: string;
  /** Cells are separated by this in `text` (CSV/TSV lines, spreadsheet rows joined by tabs). */
  delimiter?: string;
  header?: string[];
}

export interface ScanWarning {
  file: string;
  where?: string;
  message: string;
  /** The file, or the rest of it from `where`, was not read. */
  skipped?: boolean;
}

export interface FileFacts {
  file: string;
  bytes: number;
  sha256: string;
  format: string;
  encoding: string;
}

/** Longest record scanned whole; longer lines are scanned in overlapping pieces. */
export const MAX_RECORD = 1 << 20;
const OVERLAP = 256;

export function looksBinary(sample: Buffer): boolean {
  let control = 0;
  for (const b of sample) if (b === 0 || (b < 9 && b !== 0)) control++;
  return sample.length > 0 && control / sample.length > 0.01;
}

/**
 * Lines ended by a carriage return alone (old Mac "CSV (Macintosh)" exports): the sample has a CR and
 * no LF. Such a file is read with each CR taken as a line end; deciding once keeps the per-byte line
 * splitting (and the byte prefilter) LF-only and fast.
 */
export function crOnlyLines(sample: Uint8Array): boolean {
  return sample.includes(0x0d) && !sample.includes(0x0a);
}

/** CR bytes made LF in place: the same length, so byte offsets and places stay those of the file. */
export function crToLf(bytes: Uint8Array): void {
  for (let i = bytes.indexOf(0x0d); i >= 0; i = bytes.indexOf(0x0d, i + 1)) bytes[i] = 0x0a;
}

export function formatOfName(file: string): string {
  const ext = path.extname(file).toLowerCase().slice(1);
  if (['csv', 'tsv', 'json', 'jsonl', 'ndjson', 'xlsx', 'sql', 'txt'].includes(ext)) return ext === 'ndjson' ? 'jsonl' : ext;
  return 'text';
}

/** Split the first line into cells to name columns: tab if it has more tabs than commas. Names are stored and shown: controls escaped. */
export function headerOf(line: string): { delimiter: string; header: string[] } {
  const tabs = line.split('\t').length;
  const commas = line.split(',').length;
  const delimiter = tabs > commas ? '\t' : ',';
  return { delimiter, header: line.split(delimiter).map((h) => escapeControls(h.trim().replace(/^"|"$/g, ''))) };
}

/** The 0-based cell of `text` that contains `offset`, counting delimiters outside double quotes. */
export function cellIndexAt(text: string, offset: number, delimiter: string): number {
  let cell = 0;
  let quoted = false;
  for (let i = 0; i < offset && i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === delimiter && !quoted) cell++;
  }
  return cell;
}

/** Depth change of braces outside JSON strings, to group pretty-printed objects into one record. */
function jsonDepth(line: string, state: { inString: boolean; depth: number }): void {
  for (let i = 0; i < line.length; i++) {
    const ch = line[i];
    if (state.inString) {
      if (ch === '\\') i++;
      else if (ch === '"') state.inString = false;
    } else if (ch === '"') state.inString = true;
    else if (ch === '{') state.depth++;
    else if (ch === '}') state.depth--;
  }
}

/**
 * Records of a text file (CSV, TSV, JSON, JSONL, SQL dump, plain text), decoded from UTF-8 or GB18030.
 * `facts` is filled in as the file is read (size, hash, encoding).
 */
async function* textRecords(file: string, stream: Readable, format: string, facts: FileFacts, warn: (w: ScanWarning) => void): AsyncGenerator<ScanRecord> {
  const hash = crypto.createHash('sha256');
  let decoder: ReturnType<typeof decoderFor> | null = null;
  let pending = '';
  let lineNo = 0;
  let header: { delimiter: string; header: string[] } | undefined;
  const tabular = format === 'csv' || format === 'tsv';
  const json = format === 'json';
  const jsonState = { inString: false, depth: 0 };
  let group: { line: number; parts: string[]; size: number } | null = null;
  let warnedLong = false;
  let crOnly = false;

  function* emitLine(text: string, line: number): Generator<ScanRecord> {
    if (tabular && line === 1) header = headerOf(text);
    if (json) {
      // A record is an outermost object: the lines of a pretty-printed one are gathered until its
      // braces close (or it grows past MAX_RECORD, when it is scanned in pieces).
      jsonDepth(text, jsonState);
      if (group || jsonState.depth > 0) {
        group ??= { line, parts: [], size: 0 };
        group.parts.push(text);
        group.size += text.length;
        if (jsonState.depth <= 0 || group.size > MAX_RECORD) {
          yield { file, line: group.line, text: group.parts.join('\n') };
          group = null;
        }
        return;
      }
    }
    // Lines of punctuation alone ("[", "},") cannot hold a canary.
    if (/[\p{L}\p{N}]/u.test(text)) yield { file, line, text, ...(tabular && header ? { delimiter: header.delimiter, header: header.header } : {}) };
  }

  for await (const chunk of stream as AsyncIterable<Buffer>) {
    hash.update(chunk);
    facts.bytes += chunk.length;
    let bytes = chunk;
    const first = !decoder;
    if (!decoder) {
      const { encoding, bom } = detectEncoding(chunk.subarray(0, 65536));
      if (encoding !== 'utf-16le' && looksBinary(chunk.subarray(0, 65536)) && format !== 'xlsx') {
        warn({ file, message: 'binary data (NUL and control bytes), not a text file: skipped; for a spreadsheet give it the .xlsx extension', skipped: true });
        facts.encoding = 'binary';
        for await (const rest of stream as AsyncIterable<Buffer>) {
          hash.update(rest);
          facts.bytes += rest.length;
        }
        facts.sha256 = hash.digest('hex');
        return;
      }
      if (encoding === 'utf-16le' && bom === 0) warn({ file, message: 'UTF-16LE without a byte-order mark (every other byte NUL): read as UTF-16LE' });
      facts.encoding = encoding;
      decoder = decoderFor(encoding);
      bytes = chunk.subarray(bom);
    }
    let text = decoder.write(bytes);
    if (first) crOnly = text.includes('\r') && !text.includes('\n');
    if (crOnly) text = text.replaceAll('\r', '\n');
    pending += text;
    let start = 0;
    for (let nl = pending.indexOf('\n', start); nl >= 0; nl = pending.indexOf('\n', start)) {
      lineNo++;
      const end = nl > start && pending.charCodeAt(nl - 1) === 13 ? nl - 1 : nl;
      yield* emitLine(pending.slice(start, end), lineNo);
      start = nl + 1;
    }
    pending = pending.slice(start);
    // A line longer than MAX_RECORD is scanned in overlapping pieces, so memory stays flat.
    while (pending.length > MAX_RECORD) {
      if (!warnedLong) {
        warn({ file, where: `line ${lineNo + 1}`, message: `line longer than ${MAX_RECORD} characters: scanned in overlapping pieces` });
        warnedLong = true;
      }
      yield { file, line: lineNo + 1, text: pending.slice(0, MAX_RECORD) };
      pending = pending.slice(MAX_RECORD - OVERLAP);
    }
  }
  if (decoder) pending += crOnly ? decoder.end().replaceAll('\r', '\n') : decoder.end();
  if (pending.length) yield* emitLine(pending.replace(/\r$/, ''), ++lineNo);
  if (group) {
    warn({ file, where: `line ${(group as { line: number }).line}`, message: 'JSON object not closed at the end of the file (truncated?): scanned as it is' });
    yield { file, line: (group as { line: number }).line, text: (group as { parts: string[] }).parts.join('\n') };
  }
  facts.sha256 = hash.digest('hex');
}

function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') {
    const v = value as { text?: string; richText?: { text: string }[]; result?: unknown };
    if (v.richText) return v.richText.map((r) => r.text).join('');
    if (v.text !== undefined) return String(v.text);
    if (v.result !== undefined) return cellText(v.result);
    return JSON.stringify(value);
  }
  return String(value);
}

type ExcelJSModule = typeof import('exceljs');
type SparseCells = { _cells: ({ col: number; type: number; value: unknown } | undefined)[] };

let rowsMadeLinear = false;
/**
 * ExcelJS's Row walks every index up to its last cell (`forEach` over a sparse array) for its
 * `dimensions`, which the streaming reader asks for each row, and its `values`: a row with a cell in
 * column XFD cost 16,384 steps, and a 50,000-row sheet minutes. Same results from the cells present.
 */
function makeRowsLinear(ExcelJS: ExcelJSModule): void {
  if (rowsMadeLinear) return;
  rowsMadeLinear = true;
  const Row = (require('exceljs/lib/doc/row.js') as { prototype: object }).prototype;
  const NULL = ExcelJS.ValueType.Null;
  const present = (row: SparseCells) => Object.keys(row._cells).map((k) => row._cells[Number(k)]).filter((c) => c !== undefined && c.type !== NULL) as { col: number; value: unknown }[];
  const values = Object.getOwnPropertyDescriptor(Row, 'values')!;
  Object.defineProperty(Row, 'values', {
    ...values,
    get(this: SparseCells) {
      const out: unknown[] = [];
      for (const cell of present(this)) out[cell.col] = cell.value;
      return out;
    },
  });
  Object.defineProperty(Row, 'dimensions', {
    ...Object.getOwnPropertyDescriptor(Row, 'dimensions')!,
    get(this: SparseCells) {
      const cols = present(this).map((c) => c.col);
      return cols.length ? { min: Math.min(...cols), max: Math.max(...cols) } : null;
    },
  });
}

/**
 * Rows of an XLSX workbook. A row's text holds its non-empty cells only, joined by tabs, with a
 * header of their own columns, so a sparse row (cells in A and XFD) costs what its cells cost.
 */
async function* xlsxRecords(file: string, facts: FileFacts, warn: (w: ScanWarning) => void): AsyncGenerator<ScanRecord> {
  const ExcelJS = require('exceljs') as ExcelJSModule;
  makeRowsLinear(ExcelJS);
  facts.sha256 = await sha256Of(file, facts);
  facts.encoding = 'xlsx';
  let lastPlace = 'the start';
  // ExcelJS pipes the file into an unzipper whose errors (a corrupt deflate stream) it never sees while
  // it waits for the entry being read: that wait never ends, and with nothing else to do Node exited 0
  // without a word. The unzipper's errors are caught here, where the file is piped into it.
  const input = fs.createReadStream(file);
  let broken!: (err: Error) => void;
  const brokenZip = new Promise<never>((_, reject) => (broken = reject));
  brokenZip.catch(() => undefined);
  const pipe = input.pipe.bind(input);
  input.pipe = (<T extends NodeJS.WritableStream>(dest: T, options?: { end?: boolean }) => {
    dest.once('error', (err: Error) => broken(err));
    return pipe(dest, options);
  }) as typeof input.pipe;
  input.once('error', (err) => broken(err));
  const next = <T>(it: AsyncIterator<T>) => Promise.race([it.next(), brokenZip]);
  try {
    const reader = new ExcelJS.stream.xlsx.WorkbookReader(input, { sharedStrings: 'cache', hyperlinks: 'ignore', styles: 'ignore', worksheets: 'emit', entries: 'emit' });
    const sheets = reader[Symbol.asyncIterator]();
    for (let s = await next(sheets); !s.done; s = await next(sheets)) {
      const sheet = s.value;
      const name = (sheet as unknown as { name?: string; id?: number }).name ?? `sheet ${(sheet as unknown as { id?: number }).id}`;
      let columnNames: string[] | undefined; // by column number, from the first row
      const rows = sheet[Symbol.asyncIterator]();
      for (let r = await next(rows); !r.done; r = await next(rows)) {
        const row = r.value;
        lastPlace = `sheet ${name} row ${row.number}`;
        const values = row.values as unknown[];
        const cells: string[] = [];
        const header: string[] = [];
        const first = !columnNames;
        columnNames ??= [];
        for (const key of Object.keys(values)) {
          const text = cellText(values[Number(key)]);
          if (text === '') continue;
          const col = Number(key);
          if (first) columnNames[col] = text.trim();
          cells.push(text);
          header.push(columnNames[col] || `column ${col}`);
        }
        yield { file, sheet: name, row: row.number, text: cells.join('\t'), delimiter: '\t', header };
      }
    }
  } catch (err) {
    warn({ file, where: `after ${lastPlace}`, message: `not a readable XLSX workbook (${zipProblem(err as NodeJS.ErrnoException)}): the rest of this file is skipped`, skipped: true });
  } finally {
    input.destroy();
  }
}

/** What is wrong with a workbook, in words, from the unzipper's, zlib's or the XML parser's error. */
function zipProblem(err: NodeJS.ErrnoException): string {
  if (err.message === 'FILE_ENDED') return 'the file ends in the middle of its ZIP data: truncated?';
  if (err.code?.startsWith('Z_')) return `corrupt compressed data: ${err.message}`;
  if (/^invalid signature/.test(err.message)) return `corrupt ZIP structure: ${err.message}`;
  if (/^\d+:\d+: /.test(err.message)) return `malformed XML at ${err.message}`;
  return err.message.replace(/\p{Cc}+/gu, ' ');
}

async function sha256Of(file: string, facts: FileFacts): Promise<string> {
  const hash = crypto.createHash('sha256');
  for await (const chunk of fs.createReadStream(file) as AsyncIterable<Buffer>) {
    hash.update(chunk);
    facts.bytes += chunk.length;
  }
  return hash.digest('hex');
}

export function isZip(file: string): boolean {
  const fd = fs.openSync(file, 'r');
  try {
    const head = Buffer.alloc(4);
    fs.readSync(fd, head, 0, 4, 0);
    return head[0] === 0x50 && head[1] === 0x4b && head[2] === 0x03 && head[3] === 0x04;
  } finally {
    fs.closeSync(fd);
  }
}

/** The format a file is read as: its extension, unless its first bytes say otherwise (a warning then). */
export function resolveFormat(file: string, warn: (w: ScanWarning) => void): string {
  if (file === '-') return 'text';
  const format = formatOfName(file);
  const zip = isZip(file);
  if (zip && format !== 'xlsx') {
    warn({ file, message: `a ZIP container named .${format}: read as an XLSX workbook` });
    return 'xlsx';
  }
  if (!zip && format === 'xlsx') {
    warn({ file, message: 'named .xlsx but not a ZIP/XLSX workbook: read as text' });
    return 'text';
  }
  return format;
}

/** Records of one file ('-' for standard input). Facts are complete once the generator is done. */
export async function* readRecords(file: string, facts: FileFacts, warn: (w: ScanWarning) => void, format = resolveFormat(file, warn)): AsyncGenerator<ScanRecord> {
  const label = file === '-' ? 'stdin' : file;
  facts.file = label;
  facts.format = format;
  if (file === '-') yield* textRecords(label, process.stdin, 'text', facts, warn);
  else if (format === 'xlsx') yield* xlsxRecords(file, facts, warn);
  else yield* textRecords(file, fs.createReadStream(file, { highWaterMark: 1 << 20 }), format, facts, warn);
}
