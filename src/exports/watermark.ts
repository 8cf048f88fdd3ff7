import { decoderFor, detectEncoding, type TextEncoding } from '../lib/encoding.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parse } from 'csv-parse/sync';
import type { HospitalConfig } from '../config/index.js';
import type { Database } from '../db/index.js';
import { formatChannel, type ChannelRef } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import { checkOutFile, TempOutFile, type OutFileOptions } from '../lib/out-file.js';
import { FIELDS, type Mapping } from '../targetdb/mapping.js';
import { markAndRecord, type ExportResult } from './export.js';
import { inferColumns, looksLikeData, parseWith, type InferredColumn } from './infer.js';
import { cellText } from './plan.js';
import { writeTemp, type WrittenFile } from './write.js';

const require = createRequire(import.meta.url);

// Watermarking a file some other system produced: its rows plus canaries made for it, written back
// in the file's own style (delimiter, quoting, encoding, line endings), with the manifest recorded
// exactly as for an export.

export type FileEncoding = TextEncoding;

export interface FileStyle {
  format: 'csv' | 'tsv';
  delimiter: string;
  /** Every cell quoted (else only where needed). */
  quoteAll: boolean;
  /** Empty cells quoted too, when every cell is. */
  quoteEmpty: boolean;
  eol: '\r\n' | '\n';
  /** The last line ends with a line break. */
  finalEol: boolean;
  encoding: FileEncoding;
  bom: boolean;
}

export interface DelimitedFile {
  header: string[];
  rows: string[][];
  style: FileStyle;
  sha256: string;
}

/** Decode a file's bytes: UTF-8 (BOM or not), UTF-16LE with BOM, else GBK/GB18030 if it decodes cleanly. */
export function decodeText(data: Buffer, file: string): { text: string; encoding: FileEncoding; bom: boolean } {
  const { encoding, bom } = detectEncoding(data, true);
  if (encoding !== 'utf-16le' && data.includes(0)) throw new UserError(`${file}: unknown encoding (binary data, not a UTF-8 or GBK text file)`);
  const decoder = decoderFor(encoding);
  const text = decoder.write(data.subarray(bom)) + decoder.end();
  if (encoding === 'gb18030' && text.includes('\uFFFD')) throw new UserError(`${file}: unknown encoding (neither UTF-8 nor GBK/GB18030)`);
  return { text, encoding, bom: bom > 0 };
}

/** Whether each field of the first few records is quoted (and whether it is empty), read from the raw text. */
function quoting(text: string, delimiter: string, records = 20): { quoted: boolean; empty: boolean }[] {
  const fields: { quoted: boolean; empty: boolean }[] = [];
  let i = 0;
  let n = 0;
  while (i < text.length && n < records) {
    const quoted = text[i] === '"';
    let empty = true;
    if (quoted) {
      i++;
      while (i < text.length) {
        if (text[i] === '"' && text[i + 1] === '"') i += 2;
        else if (text[i] === '"') break;
        else i++;
        empty = false;
      }
      i++;
    }
    while (i < text.length && text[i] !== delimiter && text[i] !== '\n' && text[i] !== '\r') {
      empty = false;
      i++;
    }
    fields.push({ quoted, empty });
    if (text[i] === delimiter) i++;
    else {
      if (text[i] === '\r') i++;
      if (text[i] === '\n') i++;
      n++;
    }
  }
  return fields;
}

/** Read a CSV or TSV file with its style; a file without a header or rows is an error. */
export function readDelimited(file: string, bytes?: Buffer): DelimitedFile {
  let data: Buffer;
  try {
    data = bytes ?? fs.readFileSync(file);
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  const { text, encoding, bom } = decodeText(data, file);
  const firstLine = text.slice(0, text.search(/\r?\n|$/));
  const counts = ['\t', ',', ';', '|'].map((d) => [d, firstLine.split(d).length - 1] as const);
  const best = counts.reduce((a, b) => (b[1] > a[1] ? b : a));
  const delimiter = best[1] > 0 ? best[0] : path.extname(file).toLowerCase() === '.tsv' ? '\t' : ',';
  let records: string[][];
  try {
    records = parse(text, { delimiter, relax_column_count: true, relax_quotes: true, skip_empty_lines: true, bom: true }) as string[][];
  } catch (err) {
    throw new UserError(`${file}: not a readable ${delimiter === '\t' ? 'TSV' : 'CSV'} file: ${(err as Error).message}`);
  }
  if (records.length === 0) throw new UserError(`${file}: the file is empty; watermark needs a header row and at least one row`);
  const [header, ...rows] = records;
  if (looksLikeData(header)) throw new UserError(`${file}: the first line looks like data, not a header (${header.slice(0, 3).join(delimiter === '\t' ? ' ' : delimiter)}…); watermark needs a header row`);
  if (rows.length === 0) throw new UserError(`${file}: the file has a header but no rows`);
  const fields = quoting(text, delimiter);
  const filled = fields.filter((f) => !f.empty);
  const quoteAll = filled.length > 0 && filled.every((f) => f.quoted);
  const empties = fields.filter((f) => f.empty);
  return {
    header,
    rows,
    style: {
      format: delimiter === '\t' ? 'tsv' : 'csv',
      delimiter,
      quoteAll,
      quoteEmpty: quoteAll && (empties.length === 0 || empties.some((f) => f.quoted)),
      eol: /\r\n/.test(text) ? '\r\n' : '\n',
      finalEol: /\n$/.test(text),
      encoding,
      bom,
    },
    sha256: crypto.createHash('sha256').update(data).digest('hex'),
  };
}

/** Rows as text in the file's style: its delimiter, quoting and line endings (before encoding). */
export function* encodeStyled(style: FileStyle, header: readonly string[], rows: Iterable<readonly unknown[]>): Generator<string> {
  const cell = (value: unknown) => {
    const text = cellText(value);
    if (text === '') return style.quoteEmpty ? '""' : '';
    const needs = style.quoteAll || text.includes(style.delimiter) || /["\r\n]/.test(text);
    return needs ? `"${text.replace(/"/g, '""')}"` : text;
  };
  if (style.bom && style.encoding === 'utf-8') yield '\uFEFF';
  const lines = [header, ...rows];
  for (let i = 0; i < lines.length; i++) {
    yield lines[i].map(cell).join(style.delimiter) + (i < lines.length - 1 || style.finalEol ? style.eol : '');
  }
}

/** Re-encode a UTF-8 temporary file into `encoding` (BOM as asked), checking that every character fits. */
function reencodeTemp(written: WrittenFile, encoding: FileEncoding, bom: boolean): WrittenFile {
  if (encoding === 'utf-8') return written;
  try {
    const iconv = require('iconv-lite') as typeof import('iconv-lite');
    const text = written.file.readBack().toString('utf8');
    const data = iconv.encode(text, encoding, { addBOM: bom });
    if (iconv.decode(data, encoding, { stripBOM: true }) !== text) throw new UserError(`some canary text cannot be written in ${encoding}`);
    written.file.rewrite(data);
    return { file: written.file, sha256: crypto.createHash('sha256').update(data).digest('hex'), bytes: data.length };
  } catch (err) {
    written.file.discard();
    throw err;
  }
}

/** Write the rows to a temporary file in the file's style and encoding (writeTemp, then re-encoded if not UTF-8). */
export async function writeStyledTemp(out: string, style: FileStyle, header: readonly string[], rows: Iterable<readonly unknown[]>, options: OutFileOptions = {}): Promise<WrittenFile> {
  return reencodeTemp(await writeTemp(out, encodeStyled(style, header, rows), options), style.encoding, style.bom);
}

// ---------- JSON and JSON Lines ----------

/** How a JSON file writes one object: on one line or pretty-printed, its separators, \u escapes. */
export interface JsonObjectStyle {
  /** null: each object on one line; else the indent unit of a pretty-printed object ('  ', '    ', '\t'). */
  indent: string | null;
  /** Between a key and its value: ':' (JSON.stringify) or ': ' (Python's json.dumps). */
  keySep: string;
  /** Between members of an object on one line: ',' or ', '. */
  itemSep: string;
  /** Non-ASCII characters written as \uXXXX escapes (Python's default). */
  ascii: boolean;
}

export interface JsonStyle extends JsonObjectStyle {
  format: 'json' | 'jsonl';
  encoding: FileEncoding;
  bom: boolean;
  eol: '\r\n' | '\n';
  /** The text around the objects: before '[', between '[' and the first, between two, after the last, after ']' (JSON Lines: between = eol, after = the final line break or ''). */
  before: string;
  open: string;
  between: string;
  close: string;
  after: string;
  /** Indentation of a pretty-printed object's lines inside the array. */
  base: string;
}

type JsonKind = 'missing' | 'null' | 'string' | 'number' | 'boolean' | 'object';

function jsonKind(value: unknown): JsonKind {
  if (value === undefined) return 'missing';
  if (value === null) return 'null';
  if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return typeof value as JsonKind;
  return 'object';
}

const oneLine = (err: unknown): string => ((err as Error).message ?? String(err)).replace(/\s*\n\s*/g, ' ');

/** A value written in the object style (nested objects and arrays too). */
function jsonText(value: unknown, style: JsonObjectStyle, level = 0): string {
  if (value === null || value === undefined || typeof value !== 'object') return JSON.stringify(value ?? null);
  const array = Array.isArray(value);
  const items = array
    ? (value as unknown[]).map((v) => jsonText(v, style, level + 1))
    : Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined).map(([k, v]) => JSON.stringify(k) + style.keySep + jsonText(v, style, level + 1));
  const [open, close] = array ? ['[', ']'] : ['{', '}'];
  if (items.length === 0) return open + close;
  if (style.indent === null) return open + items.join(style.itemSep) + close;
  const pad = style.indent.repeat(level + 1);
  return `${open}\n${items.map((i) => pad + i).join(`${style.itemSep.trimEnd()}\n`)}\n${style.indent.repeat(level)}${close}`;
}

/** One object as the file writes it, indented for its place in the array. */
function styledObject(value: unknown, style: JsonObjectStyle, base: string, eol: string): string {
  let text = jsonText(value, style);
  if (style.ascii) text = text.replace(/[\u0080-\uffff]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);
  return text.replace(/\n/g, eol + base);
}

/** Non-ASCII written as \uXXXX throughout: escapes and not one raw non-ASCII character. */
const escapesNonAscii = (text: string): boolean => /\\u[0-9a-fA-F]{4}/.test(text) && !/[\u0080-\uffff]/.test(text);

/** The object style that writes `raw` (the file's first object) back exactly, else the closest guess. */
function objectStyleOf(raw: string, value: unknown, base: string, ascii: boolean): JsonObjectStyle {
  const text = raw.replace(/\r\n/g, '\n');
  const lines = text.split('\n');
  let indent: string | null = null;
  if (lines.length > 1) {
    const lead = /^[ \t]*/.exec(lines[1])![0];
    indent = lead.startsWith(base) && lead.length > base.length ? lead.slice(base.length) : lead || '  ';
  }
  for (const keySep of [':', ': ']) {
    for (const itemSep of [',', ', ']) {
      const style = { indent, keySep, itemSep, ascii };
      if (styledObject(value, style, base, '\n') === text) return style;
    }
  }
  return { indent, keySep: /"[ \t]*:[ \t]/.test(text) ? ': ' : ':', itemSep: indent === null && /", "/.test(text) ? ', ' : ',', ascii };
}

/** Where each element of a top-level JSON array starts and ends in the (already validated) text. */
function arrayElements(text: string): { open: number; close: number; spans: [number, number][] } {
  const open = text.indexOf('[');
  const spans: [number, number][] = [];
  let depth = 0;
  let start = -1;
  let end = -1;
  for (let i = open + 1; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') {
      if (start < 0) start = i;
      for (i++; i < text.length && text[i] !== '"'; i++) if (text[i] === '\\') i++;
      end = i + 1;
      continue;
    }
    if (depth === 0 && (ch === ',' || ch === ']')) {
      if (start >= 0) spans.push([start, end]);
      start = -1;
      if (ch === ']') return { open, close: i, spans };
      continue;
    }
    if (ch === '{' || ch === '[') depth++;
    else if (ch === '}' || ch === ']') depth--;
    if (!/\s/.test(ch)) {
      if (start < 0) start = i;
      end = i + 1;
    }
  }
  throw new Error('unbalanced JSON array');
}

/** A row's identity for telling the file's own rows from canary rows once they are merged. */
function rowKey(row: readonly unknown[]): string {
  return JSON.stringify(row, (_k, v) => (v === undefined ? '\u0000missing' : v));
}

/** A canary's cell in a JSON column: the JSON type the file's own rows use there (a number stays a number). */
function jsonCell(value: unknown, kinds: ReadonlySet<JsonKind>, hasEmptyString: boolean): unknown {
  const kind = jsonKind(value);
  if (kinds.has(kind)) return value;
  if (value === null || value === undefined) {
    if (kinds.has('missing')) return undefined;
    if (kinds.has('string') && hasEmptyString) return '';
    return null;
  }
  if (kinds.has('number') && !kinds.has('string') && typeof value === 'string' && /^-?(0|[1-9]\d*)(\.\d+)?$/.test(value.trim())) return Number(value);
  if (kinds.has('string') && (typeof value === 'number' || typeof value === 'boolean')) return String(value);
  return value;
}

interface SourceFile {
  header: string[];
  /** The rows as text, for inference. */
  text: string[][];
  /** The rows handed to markAndRecord and back to `write`: text, or the JSON values themselves. */
  rows: unknown[][];
  style: SourceStyle;
  sha256: string;
  write(out: string, rows: unknown[][], origin: readonly (number | null)[], options: OutFileOptions): Promise<WrittenFile>;
}

function jsonValueText(value: unknown): string {
  if (value === null || value === undefined) return '';
  return typeof value === 'object' ? JSON.stringify(value) : String(value);
}

/** The rows of parsed objects: keys in order of first appearance, values as they are (undefined where a key is missing). */
function jsonSource(objects: readonly Record<string, unknown>[], raws: readonly string[], style: JsonStyle, sha256: string): SourceFile {
  const header: string[] = [];
  const seen = new Set<string>();
  for (const o of objects) {
    for (const k of Object.keys(o)) {
      if (seen.has(k)) continue;
      seen.add(k);
      header.push(k);
    }
  }
  const rows = objects.map((o) => header.map((k) => (Object.prototype.hasOwnProperty.call(o, k) ? o[k] : undefined)));
  const kinds = header.map((_, c) => new Set(rows.map((r) => jsonKind(r[c]))));
  const emptyString = header.map((_, c) => rows.some((r) => r[c] === ''));
  return {
    header,
    text: rows.map((r) => r.map(jsonValueText)),
    rows,
    style,
    sha256,
    write: async (out, merged, origin, options) => {
      // A real object goes back byte for byte unless a value of it changed (a row number renumbered).
      const objectText = (row: readonly unknown[], from: number | null): string => {
        if (from !== null && rowKey(row) === rowKey(rows[from])) return raws[from];
        const obj: Record<string, unknown> = {};
        header.forEach((k, c) => {
          const v = jsonCell(row[c], kinds[c], emptyString[c]);
          if (v !== undefined) obj[k] = v;
        });
        return styledObject(obj, style, style.base, style.eol);
      };
      function* chunks(): Generator<string> {
        if (style.bom && style.encoding === 'utf-8') yield '\uFEFF';
        if (style.format === 'json') yield `${style.before}[${style.open}`;
        for (let i = 0; i < merged.length; i++) {
          if (i > 0) yield style.between;
          yield objectText(merged[i], origin[i]);
        }
        yield style.format === 'json' ? `${style.close}]${style.after}` : style.after;
      }
      return reencodeTemp(await writeTemp(out, chunks(), options), style.encoding, style.bom);
    },
  };
}

/** A JSON file's style: its encoding and line endings, its first object's style, and the text around the objects. */
function jsonStyle(
  format: JsonStyle['format'],
  text: string,
  encoding: FileEncoding,
  bom: boolean,
  firstRaw: string,
  first: unknown,
  base: string,
  around: Pick<JsonStyle, 'before' | 'open' | 'between' | 'close' | 'after'>,
): JsonStyle {
  const eol = /\r\n/.test(text) ? '\r\n' : '\n';
  return { format, encoding, bom, eol, ...objectStyleOf(firstRaw, first, base, escapesNonAscii(text)), ...around, base };
}

function describeJson(value: unknown): string {
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

function readJsonArray(file: string, text: string, encoding: FileEncoding, bom: boolean, sha256: string): SourceFile {
  let data: unknown;
  try {
    data = JSON.parse(text);
  } catch (err) {
    throw new UserError(`${file}: not valid JSON (${oneLine(err)}); watermark needs an array of objects or JSON Lines`);
  }
  if (!Array.isArray(data)) throw new UserError(`${file}: the JSON is ${describeJson(data)}, not an array of objects`);
  if (data.length === 0) throw new UserError(`${file}: the JSON array is empty; watermark needs at least one row`);
  const bad = data.findIndex((o) => jsonKind(o) !== 'object' || Array.isArray(o));
  if (bad >= 0) throw new UserError(`${file}: element ${bad + 1} of the JSON array is ${describeJson(data[bad])}, not an object; watermark needs an array of objects`);
  const { open, close, spans } = arrayElements(text);
  const openText = text.slice(open + 1, spans[0][0]);
  const base = openText.includes('\n') ? /[ \t]*$/.exec(openText)![0] : '';
  const raws = spans.map(([a, b]) => text.slice(a, b));
  const style = jsonStyle('json', text, encoding, bom, raws[0], data[0], base, {
    before: text.slice(0, open),
    open: openText,
    between: spans.length > 1 ? text.slice(spans[0][1], spans[1][0]) : `,${openText}`,
    close: text.slice(spans[spans.length - 1][1], close),
    after: text.slice(close + 1),
  });
  return jsonSource(data as Record<string, unknown>[], raws, style, sha256);
}

function readJsonLines(file: string, text: string, encoding: FileEncoding, bom: boolean, sha256: string): SourceFile {
  const lines = text.split(/\r?\n/);
  const objects: Record<string, unknown>[] = [];
  const raws: string[] = [];
  lines.forEach((line, i) => {
    if (line.trim() === '') return;
    let value: unknown;
    try {
      value = JSON.parse(line);
    } catch (err) {
      throw new UserError(`${file}: line ${i + 1} is not valid JSON (${oneLine(err)}); watermark needs JSON Lines, one object per line`);
    }
    if (jsonKind(value) !== 'object' || Array.isArray(value)) throw new UserError(`${file}: line ${i + 1} is ${describeJson(value)}, not a JSON object; watermark needs JSON Lines, one object per line`);
    objects.push(value as Record<string, unknown>);
    raws.push(line);
  });
  if (objects.length === 0) throw new UserError(`${file}: the file is empty; watermark needs at least one row`);
  const eol = /\r\n/.test(text) ? '\r\n' : '\n';
  const style = jsonStyle('jsonl', text, encoding, bom, raws[0], objects[0], '', { before: '', open: '', between: eol, close: '', after: /\n\s*$/.test(text) ? eol : '' });
  return jsonSource(objects, raws, style, sha256);
}

// ---------- XLSX ----------

export interface XlsxStyle {
  format: 'xlsx';
  /** The sheet watermarked: the workbook's first. */
  sheet: string;
  /** Its header row (1-based). */
  headerRow: number;
  /** The workbook's other sheets, written back as they were. */
  otherSheets: string[];
}

type CellKind = 'date' | 'number' | 'boolean' | 'string';
type ExcelJSModule = typeof import('exceljs');
type Worksheet = import('exceljs').Worksheet;
type CellValue = import('exceljs').CellValue;

/** A cell's value with formulas, hyperlinks and rich text resolved to what they show. */
function shownValue(value: unknown): Date | number | boolean | string | null {
  if (value === null || value === undefined) return null;
  if (value instanceof Date || typeof value === 'number' || typeof value === 'boolean' || typeof value === 'string') return value;
  const v = value as { richText?: { text: string }[]; text?: unknown; result?: unknown; error?: unknown };
  if (v.richText) return v.richText.map((r) => r.text).join('');
  if (v.text !== undefined) return shownValue(v.text);
  if ('result' in v) return shownValue(v.result);
  if (v.error !== undefined) return null;
  return JSON.stringify(value);
}

const pad2 = (n: number) => String(n).padStart(2, '0');

/** An Excel date (read as the UTC instant of its wall-clock time) as text in a fixed pattern. */
function excelDateText(d: Date, pattern: string): string {
  const day = `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())}`;
  if (pattern === 'yyyy-MM-dd') return day;
  const hm = `${day} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
  return pattern === 'yyyy-MM-dd HH:mm' ? hm : `${hm}:${pad2(d.getUTCSeconds())}`;
}

/** Text written by excelDateText (or as the canaries render it in that pattern) back to an Excel date. */
function excelDateOf(text: string): Date | null {
  const m = /^(\d{4})-(\d{2})-(\d{2})(?:[ T](\d{2}):(\d{2})(?::(\d{2}))?)?$/.exec(text.trim());
  if (m) return new Date(Date.UTC(+m[1], +m[2] - 1, +m[3], +(m[4] ?? 0), +(m[5] ?? 0), +(m[6] ?? 0)));
  return null;
}

/** A canary's cell in an XLSX column: the type the column's own cells have (dates as dates, numbers as numbers). */
function xlsxCell(value: unknown, kind: CellKind | null): CellValue {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date || typeof value === 'number' || typeof value === 'boolean') return value;
  const text = String(value);
  if (kind === 'date') return excelDateOf(text) ?? text;
  if (kind === 'number' && /^-?(0|[1-9]\d*)(\.\d+)?$/.test(text.trim())) return Number(text);
  if (kind === 'boolean' && /^(true|false)$/i.test(text)) return text.toLowerCase() === 'true';
  return text;
}

interface RowSnapshot {
  values: CellValue[];
  styles: [number, Partial<import('exceljs').Style>][];
  height: number | undefined;
  hidden: boolean;
  outlineLevel: number | undefined;
}

function snapshotRow(ws: Worksheet, n: number): RowSnapshot {
  const FORMULA = (require('exceljs') as ExcelJSModule).ValueType.Formula;
  const row = ws.getRow(n);
  const values: CellValue[] = [];
  const styles: [number, Partial<import('exceljs').Style>][] = [];
  row.eachCell({ includeEmpty: true }, (cell, col) => {
    // A shared formula names its master cell; written out in full it survives the move.
    values[col] = cell.type === FORMULA ? ({ formula: cell.formula, result: cell.result } as CellValue) : cell.value;
    styles.push([col, cell.style]);
  });
  return { values, styles, height: row.height, hidden: row.hidden, outlineLevel: row.outlineLevel };
}

function restoreRow(ws: Worksheet, n: number, snap: RowSnapshot, values: CellValue[] = snap.values): void {
  const row = ws.getRow(n);
  row.values = values;
  for (const [col, style] of snap.styles) row.getCell(col).style = style;
  if (snap.height !== undefined) row.height = snap.height;
  row.hidden = snap.hidden;
  if (snap.outlineLevel !== undefined) row.outlineLevel = snap.outlineLevel;
}

async function readXlsx(file: string, data: Buffer, sha256: string): Promise<SourceFile> {
  const ExcelJS = require('exceljs') as ExcelJSModule;
  const workbook = new ExcelJS.Workbook();
  try {
    await workbook.xlsx.load(data as unknown as ArrayBuffer);
  } catch (err) {
    throw new UserError(`${file}: not a readable XLSX workbook (truncated or damaged: ${oneLine(err)})`);
  }
  const [ws, ...others] = workbook.worksheets;
  if (!ws) throw new UserError(`${file}: the workbook has no sheet`);
  // What each cell shows; the other cells of a merged range show nothing of their own.
  const shown = (n: number) => {
    const values: (Date | number | boolean | string | null)[] = [];
    ws.getRow(n).eachCell((cell, col) => {
      values[col] = cell.type === ExcelJS.ValueType.Merge ? null : shownValue(cell.value);
    });
    return Array.from(values, (v) => v ?? null);
  };
  const filled: { n: number; cells: number }[] = [];
  ws.eachRow({ includeEmpty: false }, (_row, n) => {
    const cells = shown(n).filter((v) => v !== null && v !== undefined && String(v).trim() !== '').length;
    if (cells > 0) filled.push({ n, cells });
  });
  if (filled.length === 0) throw new UserError(`${file}: sheet ${ws.name} is empty; watermark needs a header row and at least one row`);
  // The header is the first row about as wide as the table: a title line above it stays as it is.
  const widest = Math.max(...filled.slice(0, 20).map((f) => f.cells));
  const headerAt = filled.findIndex((f) => f.cells >= Math.max(1, widest * 0.8));
  const headerRow = filled[headerAt].n;
  const dataRows = filled.slice(headerAt + 1).map((f) => f.n);
  const headerValues = shown(headerRow);
  const raw = dataRows.map(shown);
  const width = Math.max(headerValues.length, ...raw.map((r) => r.length)) - 1;
  const header = Array.from({ length: width }, (_, c) => (headerValues[c + 1] === null ? '' : String(headerValues[c + 1]).trim()));
  if (looksLikeData(header)) throw new UserError(`${file}: row ${headerRow} of sheet ${ws.name} looks like data, not a header (${header.slice(0, 3).join(', ')}…); watermark needs a header row`);
  if (dataRows.length === 0) throw new UserError(`${file}: sheet ${ws.name} has a header but no rows`);
  const merges = Object.values((ws as unknown as { _merges: Record<string, { top: number; bottom: number }> })._merges ?? {});
  const merged = merges.find((m) => m && m.bottom > headerRow);
  if (merged) throw new UserError(`${file}: sheet ${ws.name} has merged cells below its header (row ${merged.top}); unmerge them to watermark it`);
  // Each column's kind (the majority of its cells) and, for dates, the text pattern its dates are read as.
  const kinds: (CellKind | null)[] = [];
  const patterns: string[] = [];
  for (let c = 0; c < width; c++) {
    const cells = raw.map((r) => r[c + 1]).filter((v): v is Date | number | boolean | string => v !== null && v !== undefined && v !== '');
    const counts = new Map<CellKind, number>();
    for (const v of cells) {
      const k: CellKind = v instanceof Date ? 'date' : (typeof v as CellKind);
      counts.set(k, (counts.get(k) ?? 0) + 1);
    }
    kinds.push([...counts.entries()].sort((a, b) => b[1] - a[1])[0]?.[0] ?? null);
    const dates = cells.filter((v): v is Date => v instanceof Date);
    patterns.push(
      dates.every((d) => d.getTime() % 86_400_000 === 0) ? 'yyyy-MM-dd' : dates.every((d) => d.getTime() % 60_000 === 0) ? 'yyyy-MM-dd HH:mm' : 'yyyy-MM-dd HH:mm:ss',
    );
  }
  const text = raw.map((r) =>
    header.map((_, c) => {
      const v = r[c + 1];
      if (v === null || v === undefined) return '';
      return v instanceof Date ? excelDateText(v, patterns[c]) : String(v);
    }),
  );
  const style: XlsxStyle = { format: 'xlsx', sheet: ws.name, headerRow, otherSheets: others.map((o) => o.name) };
  return {
    header,
    text,
    rows: text,
    style,
    sha256,
    write: async (out, rows, origin, options) => {
      // Which merged rows are the sheet's own: each canary goes right after the real row before it.
      const after = new Map<number, CellValue[][]>();
      const changed = new Map<number, readonly unknown[]>();
      let last = -1;
      for (const [m, row] of rows.entries()) {
        const i = origin[m];
        if (i !== null) {
          last = i;
          if (rowKey(row) !== rowKey(text[i])) changed.set(i, row);
          continue;
        }
        const values: CellValue[] = [];
        row.forEach((v, c) => (values[c + 1] = xlsxCell(v, kinds[c])));
        (after.get(last) ?? after.set(last, []).get(last)!).push(values);
      }
      const lastRow = dataRows[dataRows.length - 1];
      const firstMoved = after.has(-1) ? headerRow + 1 : Math.min(...[...after.keys()].map((i) => dataRows[i] + 1));
      const snaps = new Map<number, RowSnapshot>();
      for (let n = Math.min(firstMoved, lastRow + 1); n <= lastRow; n++) snaps.set(n, snapshotRow(ws, n));
      const styleOf = (n: number) => snaps.get(n) ?? snapshotRow(ws, n);
      const slots: { snap: RowSnapshot; values?: CellValue[]; from?: number }[] = [];
      const dataIndex = new Map(dataRows.map((n, i) => [n, i]));
      for (const values of after.get(-1) ?? []) slots.push({ snap: styleOf(dataRows[0]), values });
      for (let n = headerRow + 1; n <= lastRow; n++) {
        const i = dataIndex.get(n);
        if (n >= firstMoved) {
          const row = i === undefined ? undefined : changed.get(i);
          const snap = snaps.get(n)!;
          slots.push({ snap, from: n, values: row ? snap.values.map((v, c) => (c >= 1 && cellText(row[c - 1]) !== text[i!][c - 1] ? xlsxCell(row[c - 1], kinds[c - 1]) : v)) : undefined });
        }
        if (i !== undefined) for (const values of after.get(i) ?? []) slots.push({ snap: styleOf(n), values });
      }
      let target = firstMoved;
      for (const slot of slots) restoreRow(ws, target++, slot.snap, slot.values);
      const added = rows.length - text.length;
      const filter = typeof ws.autoFilter === 'string' ? /^([A-Z]+)(\d+):([A-Z]+)(\d+)$/.exec(ws.autoFilter) : null;
      if (filter && Number(filter[4]) >= lastRow) ws.autoFilter = `${filter[1]}${filter[2]}:${filter[3]}${Number(filter[4]) + added}`;
      const file = TempOutFile.create(out, options);
      try {
        const written = Buffer.from(await workbook.xlsx.writeBuffer());
        file.write(written);
        return { file, sha256: crypto.createHash('sha256').update(written).digest('hex'), bytes: written.length };
      } catch (err) {
        file.discard();
        throw err;
      }
    },
  };
}

// ---------- any source ----------

export type SourceStyle = FileStyle | JsonStyle | XlsxStyle;

const isZip = (data: Buffer) => data.length >= 4 && data[0] === 0x50 && data[1] === 0x4b && data[2] === 0x03 && data[3] === 0x04;

/**
 * Read a partner's file with its style: XLSX (a ZIP workbook, whatever its name), JSON (.json: an
 * array of objects, or one object per line), JSON Lines (.jsonl, .ndjson), else CSV/TSV.
 */
async function readSource(file: string): Promise<SourceFile> {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return sourceOf(file, data);
}

/** A file's bytes read as `file` would be (its name says JSON or JSON Lines). */
async function sourceOf(file: string, data: Buffer): Promise<SourceFile> {
  const sha256 = crypto.createHash('sha256').update(data).digest('hex');
  const ext = path.extname(file).toLowerCase();
  if (isZip(data)) return readXlsx(file, data, sha256);
  if (ext === '.xlsx' || ext === '.xlsm') throw new UserError(`${file}: named ${ext} but not an XLSX workbook (no ZIP signature)`);
  if (ext === '.json' || ext === '.jsonl' || ext === '.ndjson') {
    if (data.length === 0) throw new UserError(`${file}: the file is empty; watermark needs at least one row`);
    const { text, encoding, bom } = decodeText(data, file);
    const start = text.trimStart()[0];
    if (ext !== '.json' || (start === '{' && /\}\s*\r?\n\s*\{/.test(text))) return readJsonLines(file, text, encoding, bom, sha256);
    return readJsonArray(file, text, encoding, bom, sha256);
  }
  const source = readDelimited(file, data);
  return { header: source.header, text: source.rows, rows: source.rows, style: source.style, sha256: source.sha256, write: (out, rows, _origin, options) => writeStyledTemp(out, source.style, source.header, rows, options) };
}

/** The style in words, for people: "GB18030, CRLF", "JSON array, 2-space indent", "XLSX sheet 名单 (1 other sheet kept)". */
export function describeStyle(style: SourceStyle): string {
  const encoding = (s: { encoding: FileEncoding; bom: boolean }) => `${s.encoding}${s.bom ? ' with BOM' : ''}`;
  if (style.format === 'xlsx') return `XLSX sheet ${style.sheet}, header on row ${style.headerRow}${style.otherSheets.length ? ` (${style.otherSheets.length} other sheet${style.otherSheets.length > 1 ? 's' : ''} kept)` : ''}`;
  if (style.format === 'json' || style.format === 'jsonl') {
    const layout =
      style.format === 'jsonl' ? 'JSON Lines'
      : style.indent !== null ? `JSON array, ${style.indent === '\t' ? 'tab' : `${style.indent.length}-space`} indent`
      : style.between.includes('\n') ? 'JSON array, one object per line'
      : 'JSON array on one line';
    return `${layout}, ${encoding(style)}, ${style.eol === '\r\n' ? 'CRLF' : 'LF'}`;
  }
  return `${encoding(style)}, ${style.eol === '\r\n' ? 'CRLF' : 'LF'}`;
}

export interface WatermarkRequest {
  hospital: HospitalConfig;
  mapping: Mapping;
  channel: ChannelRef;
  file: string;
  out: string;
  /** Replace an existing file at `out` (else refused). */
  force?: boolean;
  /** Column → family field, for columns whose names say nothing. */
  columnFields: Record<string, string>;
  canaries?: number;
  operator?: string;
  now: Date;
  seed?: string;
  onProgress?: (fraction: number, step: string) => void;
  /** Show the canary rows and their places; write and record nothing. */
  dryRun?: boolean;
}

export interface WatermarkResult extends ExportResult {
  columns: InferredColumn[];
  style: SourceStyle;
}

/** Birth days the file's own birth column spans, for canaries born among its rows. */
function birthDays(columns: readonly InferredColumn[], rows: readonly string[][]): { from?: string; to?: string } {
  const i = columns.findIndex((c) => c.value?.field === 'baby.birthTime');
  if (i < 0) return {};
  const format = columns[i].value!.format;
  const times = rows
    .map((r) => (r[i] ? (format ? parseWith(r[i], format) : new Date(r[i])) : null))
    .filter((d): d is Date => d !== null && Number.isFinite(d.getTime()))
    .map((d) => d.getTime());
  if (!times.length) return {};
  const day = (t: number) => {
    const d = new Date(t);
    return `${d.getFullYear()}-${String(d.getMonth() + 1).padStart(2, '0')}-${String(d.getDate()).padStart(2, '0')}`;
  };
  return { from: day(Math.min(...times)), to: day(Math.max(...times)) };
}

export async function runWatermark(vaultDb: Database, target: Database, req: WatermarkRequest): Promise<WatermarkResult> {
  if (req.channel.kind !== 'export') throw new UserError(`a watermarked file goes to an export:<recipient> channel, not ${formatChannel(req.channel)}`);
  for (const [column, field] of Object.entries(req.columnFields)) {
    if (!FIELDS[field]) throw new UserError(`--map ${column}=${field}: unknown field (known: ${Object.keys(FIELDS).join(', ')})`);
  }
  if (path.resolve(req.file) === path.resolve(req.out)) throw new UserError(`--out must name a new file, not ${req.file} itself`);
  // Refused before the source is read: a directory, a missing directory, an existing file without force.
  if (!req.dryRun) checkOutFile(req.out, { force: req.force });
  const source = await readSource(req.file);
  const unknown = Object.keys(req.columnFields).filter((c) => !source.header.includes(c));
  if (unknown.length) throw new UserError(`--map ${unknown[0]}: ${req.file} has no column "${unknown[0]}" (columns: ${source.header.join(', ')})`);
  const columns = inferColumns(source.header, source.text, { mapping: req.mapping, overrides: req.columnFields });
  // The written file is read back as the input was, to check the canaries are where the manifest says.
  const reread = async (written: WrittenFile): Promise<string[][]> => {
    const back = await sourceOf(req.file, written.file.readBack());
    if (back.header.join('\u0000') !== source.header.join('\u0000')) throw new Error(`the written file reads back with another header; nothing was recorded`);
    return back.text;
  };
  const range = birthDays(columns, source.text);
  const style = source.style;
  const encoding = 'encoding' in style ? `, ${style.encoding}${style.bom ? ' with BOM' : ''}` : `, sheet ${style.sheet}`;
  const result = await markAndRecord(vaultDb, target, {
    hospital: req.hospital,
    mapping: req.mapping,
    channel: req.channel,
    out: req.out,
    format: style.format,
    query: `watermark of ${path.basename(req.file)} (${style.format}${encoding}, ${source.rows.length} rows)`,
    params: [{ file: path.basename(req.file), sha256: source.sha256 }],
    columns: source.header,
    realRows: source.rows,
    plan: columns.map(({ name, value }) => ({ name, value })),
    canaries: req.canaries,
    operator: req.operator,
    ...range,
    now: req.now,
    onProgress: req.onProgress,
    seed: req.seed,
    write: (rows, origin) => source.write(req.out, rows, origin, { force: req.force }),
    reread,
    dryRun: req.dryRun,
  });
  return { ...result, columns, style: source.style };
}
