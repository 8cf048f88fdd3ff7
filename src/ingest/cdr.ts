import crypto from 'node:crypto';
import type { Readable } from 'node:stream';
import { TZDate } from '@date-fns/tz';
import { CsvError, parse } from 'csv-parse';
import { boundedMessage, excerpt, quoted } from '../lib/control.js';
import { parsePhone } from '../lib/phone.js';
import { CDR_FIELDS, parseCdrMap, type CdrField } from './cdr-map.js';

// Call-detail records: Asterisk's cdr_csv Master.csv (no header) or any CSV with a header and a
// column map. Pure parsing: each row becomes a call with its caller, callee (E.164 where it is a phone
// number), start instant and the row's own bytes; a row that cannot be read is a rejection naming its line.

/**
 * cdr_csv's columns, as cdr/cdr_csv.c writes them: uniqueid and userfield only with loguniqueid and
 * loguserfield (on by default in recent Asterisk), and newcdrcolumns adds peeraccount, linkedid, sequence.
 */
export const ASTERISK_COLUMNS = [
  'accountcode', 'src', 'dst', 'dcontext', 'clid', 'channel', 'dstchannel', 'lastapp', 'lastdata',
  'start', 'answer', 'end', 'duration', 'billsec', 'disposition', 'amaflags', 'uniqueid', 'userfield',
  'peeraccount', 'linkedid', 'sequence',
] as const;

export { CDR_FIELDS, parseCdrMap, type CdrField };

export type CdrFormat = { format: 'asterisk' } | { format: 'csv'; map: Partial<Record<CdrField, string>> };

export interface CdrOptions {
  /** For messages: file:line. */
  label: string;
  /** IANA zone of times written without an offset (Asterisk writes local time unless usegmtime). */
  timeZone: string;
  /** Country of numbers written without +code. */
  region: string;
}

export interface CdrCall {
  line: number;
  providerId: string;
  from: string | null;
  /** E.164 when dst is a phone number, else dst as written (an extension). */
  to: string;
  toIsPhone: boolean;
  occurredAt: Date;
  /** The row's columns by name. */
  fields: Record<string, string>;
  /** The row as it is in the file. */
  raw: Buffer;
}

export class CdrRowError extends Error {
  constructor(
    readonly label: string,
    readonly line: number,
    readonly reason: string,
  ) {
    super(boundedMessage(`${label}:${line}: ${reason}`));
  }
}

const LOCAL_TIME = /^(\d{4})-(\d{2})-(\d{2})[ T](\d{2}):(\d{2})(?::(\d{2})(?:\.(\d{1,6}))?)?$/;

/** "YYYY-MM-DD HH:MM:SS" in the zone, or an ISO instant with Z or an offset; null when not a time. */
export function parseCdrTime(text: string, timeZone: string): Date | null {
  const t = text.trim();
  const m = LOCAL_TIME.exec(t);
  if (m) {
    const [y, mo, d, h, mi, s] = [1, 2, 3, 4, 5, 6].map((i) => Number(m[i] ?? 0));
    const ms = m[7] ? Math.round(Number(`0.${m[7]}`) * 1000) : 0;
    if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || s > 59) return null;
    const local = new TZDate(y, mo - 1, d, h, mi, s, ms, timeZone);
    // 31 February rolls over to March: refuse it rather than guess.
    if (local.getDate() !== d || local.getMonth() !== mo - 1) return null;
    return new Date(local.getTime());
  }
  if (/^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/.test(t)) {
    const d = new Date(t);
    return Number.isNaN(d.getTime()) ? null : d;
  }
  return null;
}

/** E.164 for a phone number (national, +country, 00-prefixed), null for an extension or junk. */
export function normalisePhone(text: string, region: string): string | null {
  const cleaned = text.replace(/[\s().-]/g, '');
  if (!/^\+?\d{5,}$/.test(cleaned)) return null;
  const parsed = parsePhone(cleaned, region);
  if (parsed?.isValid()) return parsed.number;
  // A number with its country code but no + (8613912345678).
  if (!cleaned.startsWith('+')) {
    const intl = parsePhone(`+${cleaned}`);
    if (intl?.isValid()) return intl.number;
  }
  return null;
}

/**
 * Read the calls of a CDR file. A row that cannot be read (broken CSV quoting, too few columns, no
 * dst, an unreadable start time) comes out as a CdrRowError value in its place, so one bad row (whose
 * caller ID the caller chose) does not hold back the others; only a header without the mapped columns
 * is thrown, since then no row can be read.
 */
export async function* readCdr(input: Readable, format: CdrFormat, opts: CdrOptions): AsyncGenerator<CdrCall | CdrRowError> {
  const skipped: CdrRowError[] = [];
  const parser = input.pipe(
    parse({
      raw: true,
      info: true,
      relax_column_count: true,
      skip_empty_lines: true,
      bom: true,
      columns: format.format === 'csv' ? true : undefined,
      // A quote inside an unquoted field is kept as a character (cdr_csv never writes one; a PBX export may).
      relax_quotes: true,
      // Any other CSV error skips its record only: it is reported in its place.
      skip_records_with_error: true,
      on_skip: (err: (Error & { lines?: number }) | undefined) => {
        if (err) skipped.push(new CdrRowError(opts.label, err.lines ?? 0, `not valid CSV: ${err.message.replace(/ at line \d+$/, '')}`));
      },
    }),
  );
  let lastLine = 0;
  let headerChecked = false;
  input.on('error', (err) => parser.destroy(err));
  try {
    for await (const rec of parser as AsyncIterable<{ record: string[] | Record<string, string>; raw: string; info: { lines: number } }>) {
      yield* skipped.splice(0);
      const rawText = rec.raw.replace(/^(\r?\n)+/, '').replace(/(\r?\n)+$/, '');
      const line = rec.info.lines - (rawText.match(/\n/g)?.length ?? 0);
      lastLine = rec.info.lines;
      if (format.format === 'csv' && !headerChecked) {
        headerChecked = true;
        const columns = Object.keys(rec.record);
        for (const [field, column] of Object.entries(format.map)) {
          if (!columns.includes(column)) throw new CdrRowError(opts.label, 1, `no column ${quoted(column)} (for ${field}) in the header; its columns: ${excerpt(columns.join(', '))}`);
        }
      }
      let call: CdrCall | CdrRowError;
      try {
        call = toCall(rec.record, rawText, line, format, opts);
      } catch (err) {
        if (!(err instanceof CdrRowError)) throw err;
        call = err;
      }
      yield call;
    }
    yield* skipped.splice(0);
  } catch (err) {
    if (err instanceof CdrRowError) throw err;
    // What skip_records_with_error does not cover (a header csv-parse cannot use) ends the file.
    if (err instanceof CsvError) throw new CdrRowError(opts.label, (err as CsvError & { lines?: number }).lines ?? lastLine + 1, `not valid CSV: ${excerpt(err.message.replace(/ at line \d+$/, ''))}`);
    throw err;
  }
}

/** One row (cells in cdr_csv's order, or a header's columns by name) as a call; throws a CdrRowError naming the line. */
export function toCall(record: string[] | Record<string, string>, rawText: string, line: number, format: CdrFormat, opts: CdrOptions): CdrCall {
  const fail = (reason: string): never => {
    throw new CdrRowError(opts.label, line, reason);
  };
  let fields: Record<string, string>;
  let pick: Record<'src' | 'dst' | 'start' | 'id', string | undefined>;
  if (format.format === 'asterisk') {
    const cells = record as string[];
    if (cells.length < 16) fail(`${cells.length} columns; an Asterisk cdr_csv row has at least 16 (accountcode … amaflags)`);
    fields = Object.fromEntries(cells.map((v, i) => [ASTERISK_COLUMNS[i] ?? `column${i + 1}`, v]));
    pick = { src: fields.src, dst: fields.dst, start: fields.start, id: fields.uniqueid };
  } else {
    fields = record as Record<string, string>;
    const map = format.map;
    pick = { src: fields[map.src!], dst: fields[map.dst!], start: fields[map.start!], id: map.id ? fields[map.id] : undefined };
  }
  const dst = pick.dst?.trim();
  if (!dst) fail('no destination number (dst)');
  const startText = pick.start?.trim();
  if (!startText) fail('no start time');
  const occurredAt = parseCdrTime(startText!, opts.timeZone) ?? fail(`${quoted(startText!)} is not a time (write YYYY-MM-DD HH:MM:SS, or ISO 8601 with an offset)`);
  const src = pick.src?.trim() ?? '';
  const to = normalisePhone(dst!, opts.region);
  const raw = Buffer.from(rawText, 'utf8');
  const id = pick.id?.trim();
  return {
    line,
    providerId: id || `sha256:${crypto.createHash('sha256').update(raw).digest('hex')}`,
    from: src ? normalisePhone(src, opts.region) ?? src : null,
    to: to ?? dst!,
    toIsPhone: to !== null,
    occurredAt,
    fields,
    raw,
  };
}
