import { decoderFor, detectEncoding, type TextEncoding } from '../encoding.js';
import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parse } from 'csv-parse/sync';
import type { HospitalConfig } from '../config/index.js';
import type { Database } from '../db/index.js';
import { formatChannel, type ChannelRef } from '../domain.js';
import { UserError } from '../errors.js';
import { FIELDS, type Mapping } from '../target/mapping.js';
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
export function readDelimited(file: string): DelimitedFile {
  let data: Buffer;
  try {
    data = fs.readFileSync(file);
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

/** Write the rows to a temporary file in the file's style and encoding (writeTemp, then re-encoded if not UTF-8). */
export async function writeStyledTemp(out: string, style: FileStyle, header: readonly string[], rows: Iterable<readonly unknown[]>): Promise<WrittenFile> {
  const written = await writeTemp(out, encodeStyled(style, header, rows));
  if (style.encoding === 'utf-8') return written;
  try {
    const iconv = require('iconv-lite') as typeof import('iconv-lite');
    const text = fs.readFileSync(written.tempPath, 'utf8');
    const data = iconv.encode(text, style.encoding, { addBOM: style.bom });
    if (iconv.decode(data, style.encoding, { stripBOM: true }) !== text) throw new UserError(`some canary text cannot be written in ${style.encoding}`);
    fs.writeFileSync(written.tempPath, data);
    return { tempPath: written.tempPath, sha256: crypto.createHash('sha256').update(data).digest('hex'), bytes: data.length };
  } catch (err) {
    fs.rmSync(written.tempPath, { force: true });
    throw err;
  }
}

export interface WatermarkRequest {
  hospital: HospitalConfig;
  mapping: Mapping;
  channel: ChannelRef;
  file: string;
  out: string;
  /** Column → family field, for columns whose names say nothing. */
  columnFields: Record<string, string>;
  canaries?: number;
  operator?: string;
  now: Date;
  seed?: string;
}

export interface WatermarkResult extends ExportResult {
  columns: InferredColumn[];
  style: FileStyle;
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
  const outDir = path.dirname(path.resolve(req.out));
  if (!fs.existsSync(outDir)) throw new UserError(`cannot write ${req.out}: directory ${outDir} does not exist`);
  const source = readDelimited(req.file);
  const unknown = Object.keys(req.columnFields).filter((c) => !source.header.includes(c));
  if (unknown.length) throw new UserError(`--map ${unknown[0]}: ${req.file} has no column "${unknown[0]}" (columns: ${source.header.join(', ')})`);
  const columns = inferColumns(source.header, source.rows, { mapping: req.mapping, overrides: req.columnFields });
  const range = birthDays(columns, source.rows);
  const result = await markAndRecord(vaultDb, target, {
    hospital: req.hospital,
    mapping: req.mapping,
    channel: req.channel,
    out: req.out,
    format: source.style.format,
    query: `watermark of ${path.basename(req.file)} (${source.style.format}, ${source.style.encoding}${source.style.bom ? ' with BOM' : ''}, ${source.rows.length} rows)`,
    params: [{ file: path.basename(req.file), sha256: source.sha256 }],
    columns: source.header,
    realRows: source.rows,
    plan: columns.map(({ name, value }) => ({ name, value })),
    canaries: req.canaries,
    operator: req.operator,
    ...range,
    now: req.now,
    seed: req.seed,
    write: (rows) => writeStyledTemp(req.out, source.style, source.header, rows),
  });
  return { ...result, columns, style: source.style };
}
