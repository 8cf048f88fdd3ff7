import crypto from 'node:crypto';
import path from 'node:path';
import { createRequire } from 'node:module';
import { TempOutFile, type OutFileOptions } from '../lib/out-file.js';
import { cellText } from './plan.js';
import { EXPORT_FORMATS, type ExportFormat } from './formats.js';

const require = createRequire(import.meta.url);

// Writing an export file atomically: to a temporary file beside the target path (src/lib/out-file.ts),
// hashed as it is written; the caller commits it into place only once the vault has recorded the manifest.

export { EXPORT_FORMATS, type ExportFormat };

export function formatOf(file: string, explicit?: string): ExportFormat {
  const ext = (explicit ?? path.extname(file).slice(1)).toLowerCase();
  return (EXPORT_FORMATS as readonly string[]).includes(ext) ? (ext as ExportFormat) : 'csv';
}

function csvCell(text: string): string {
  return /[",\r\n]/.test(text) || /^\s|\s$/.test(text) ? `"${text.replace(/"/g, '""')}"` : text;
}

/** TSV has no quoting: tabs and line breaks inside a value become spaces. */
function tsvCell(text: string): string {
  return text.replace(/[\t\r\n]+/g, ' ');
}

export function* encodeRows(format: Exclude<ExportFormat, 'xlsx'>, columns: readonly string[], rows: Iterable<readonly unknown[]>): Generator<string> {
  if (format === 'json') {
    let first = true;
    yield '[';
    for (const row of rows) {
      const obj = Object.fromEntries(columns.map((c, i) => [c, row[i] instanceof Date ? (row[i] as Date).toISOString() : (row[i] ?? null)]));
      yield `${first ? '\n' : ',\n'}  ${JSON.stringify(obj)}`;
      first = false;
    }
    yield first ? ']\n' : '\n]\n';
    return;
  }
  const cell = format === 'csv' ? csvCell : tsvCell;
  const sep = format === 'csv' ? ',' : '\t';
  const eol = format === 'csv' ? '\r\n' : '\n';
  yield columns.map((c) => cell(c)).join(sep) + eol;
  for (const row of rows) yield row.map((v) => cell(cellText(v))).join(sep) + eol;
}

export interface WrittenFile {
  /** The temporary file beside the destination, still open: the caller commits or discards it. */
  file: TempOutFile;
  sha256: string;
  bytes: number;
}

/** An XLSX workbook with one sheet, streamed to a temporary file; instants become Excel dates. */
export async function writeXlsxTemp(finalPath: string, columns: readonly string[], rows: Iterable<readonly unknown[]>, options: OutFileOptions = {}): Promise<WrittenFile> {
  const ExcelJS = require('exceljs') as typeof import('exceljs');
  const file = TempOutFile.create(finalPath, options);
  try {
    const workbook = new ExcelJS.stream.xlsx.WorkbookWriter({ stream: file.stream(), useStyles: false, useSharedStrings: false });
    const sheet = workbook.addWorksheet('export');
    sheet.addRow([...columns]).commit();
    for (const row of rows) sheet.addRow(row.map((v) => (v === null || v === undefined ? null : v instanceof Date || typeof v === 'number' ? v : typeof v === 'object' ? JSON.stringify(v) : String(v)))).commit();
    sheet.commit();
    await workbook.commit();
    const data = file.readBack();
    return { file, sha256: crypto.createHash('sha256').update(data).digest('hex'), bytes: data.length };
  } catch (err) {
    file.discard();
    throw err;
  }
}

export async function writeTemp(finalPath: string, chunks: Iterable<string>, options: OutFileOptions = {}): Promise<WrittenFile> {
  const file = TempOutFile.create(finalPath, options);
  const hash = crypto.createHash('sha256');
  let bytes = 0;
  try {
    let buffer: Buffer[] = [];
    let size = 0;
    const flush = () => {
      file.write(Buffer.concat(buffer));
      buffer = [];
      size = 0;
    };
    for (const chunk of chunks) {
      const b = Buffer.from(chunk, 'utf8');
      hash.update(b);
      bytes += b.length;
      buffer.push(b);
      size += b.length;
      if (size > 1 << 20) flush();
    }
    flush();
  } catch (err) {
    file.discard();
    throw err;
  }
  return { file, sha256: hash.digest('hex'), bytes };
}
