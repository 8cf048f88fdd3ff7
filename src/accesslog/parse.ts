import { StringDecoder } from 'node:string_decoder';
import { looksUtf16le } from '../lib/encoding.js';
import { UserError } from '../lib/errors.js';
import { escapeControls, excerpt, quoted } from '../lib/control.js';
import { checkTimeZone, parsePgLogTime, parseTimestamp, TIMESTAMP_HINT } from './time.js';
import { ACCESS_FIELDS, type AccessField, type AccessRow, type AccessScope, type ParsedLine, type ParseOptions } from '../domain/access.js';

// Access and audit logs (CSV, JSON lines, FHIR AuditEvent NDJSON, pgaudit in PostgreSQL's csvlog) read
// as a stream into normalized rows, one item per line or record, in file order. A line that cannot be
// read is a reject naming the field and carrying the line's text; only a problem with the whole file
// (no such column in the header, an unknown time zone) throws. Pure: no vault, no clock.

type Input = NodeJS.ReadableStream | AsyncIterable<Buffer | string>;

/** Read an access log; yields a row or a reject per line (CSV and csvlog: per record, at its first line). */
export async function* parseAccessLog(input: Input, options: ParseOptions): AsyncGenerator<ParsedLine> {
  checkTimeZone(options.timeZone);
  const lines = readLines(input, options.source);
  switch (options.format) {
    case 'csv':
      yield* parseCsvLog(lines, options);
      return;
    case 'jsonl':
      yield* parseJsonLines(lines, (json) => jsonlRow(json, options));
      return;
    case 'fhir':
      yield* parseJsonLines(lines, (json) => fhirRow(json, options.timeZone));
      return;
    case 'pgaudit':
      yield* parsePgaudit(lines, options);
      return;
    default:
      throw new UserError(`"${String(options.format)}" is not an access-log format (formats: csv, jsonl, fhir, pgaudit)`);
  }
}

/**
 * The errors a whole log can have at its start (an unknown format or time zone, a CSV header without a
 * mapped column, UTF-32), read no further than the header: an import checks them before it records
 * anything, so a mistake in the command leaves no import behind.
 */
export async function checkAccessLogStart(input: Input, options: ParseOptions): Promise<void> {
  checkTimeZone(options.timeZone);
  if (!['csv', 'jsonl', 'fhir', 'pgaudit'].includes(options.format)) {
    throw new UserError(`"${String(options.format)}" is not an access-log format (formats: csv, jsonl, fhir, pgaudit)`);
  }
  if (options.format !== 'csv') return;
  // Leaving the loop closes the generators and with them the input.
  for await (const rec of csvRecords(readLines(input, options.source))) {
    readHeader(rec, options);
    return;
  }
}

// ---------------------------------------------------------------------------------------------------
// Action classification

/** Actions that single a record out (a tripwire when it is a canary), given exactly one record. */
export const SINGLE_ACTIONS: readonly string[] = [
  'view', 'read', 'vread', 'open', 'print', 'export', 'download', 'get', 'update', 'edit', 'patch', 'select', 'copy',
];
/** Actions that list or search: bulk whatever the number of records. */
export const BULK_ACTIONS: readonly string[] = [
  'list', 'search', 'search-type', 'search-system', 'query', 'report', 'browse', 'history-type', 'history-system',
];

/** single: a known single-record action on exactly one record; anything else (lists, unknown actions, 0 or 2+ records) is bulk. */
export function classifyAction(action: string, records: number): AccessScope {
  const a = action.trim().toLowerCase();
  if (records !== 1 || BULK_ACTIONS.includes(a)) return 'bulk';
  return SINGLE_ACTIONS.includes(a) ? 'single' : 'bulk';
}

// ---------------------------------------------------------------------------------------------------
// --map

/** "ts=event_time,user=operator" → { ts: 'event_time', user: 'operator' }; throws UserError naming the bad part. */
export function parseMapOption(text: string): Partial<Record<AccessField, string>> {
  const map: Partial<Record<AccessField, string>> = {};
  const parts = text.split(',').map((p) => p.trim());
  if (!parts.some(Boolean)) throw new UserError('--map is empty; write field=column pairs, e.g. ts=event_time,user=operator');
  for (const part of parts) {
    if (!part) throw new UserError(`--map "${text}" has an empty pair; separate field=column pairs with single commas`);
    const eq = part.indexOf('=');
    const field = part.slice(0, Math.max(eq, 0)).trim();
    const column = part.slice(eq + 1).trim();
    if (eq < 1 || !column) throw new UserError(`--map "${part}": write field=column, e.g. ts=event_time`);
    if (!isAccessField(field)) throw new UserError(`--map "${part}": "${field}" is not a field (fields: ${ACCESS_FIELDS.join(', ')})`);
    if (map[field] !== undefined) throw new UserError(`--map "${part}": ${field} is mapped twice`);
    map[field] = column;
  }
  return map;
}

function isAccessField(name: string): name is AccessField {
  return (ACCESS_FIELDS as readonly string[]).includes(name);
}

// ---------------------------------------------------------------------------------------------------
// Lines, records and rejects

interface Line {
  line: number;
  /** The line without its line end; when tooLong, only its first MAX_REJECT_TEXT characters. */
  text: string;
  /** Longer than MAX_LINE_CHARS: a reject, never parsed. */
  tooLong?: boolean;
}

const MAX_REJECT_TEXT = 500;

/** A line's problem, thrown while building a row and turned into a reject for that line. */
class Reject extends Error {}

function fail(reason: string): never {
  throw new Reject(reason);
}

/** A value quoted for a reason: one line (JSON escapes), cut at 80 characters. */
export function shown(value: string): string {
  return quoted(value);
}

/** A JSON value for a reason: text as shown(), anything else as its JSON, cut at 80 characters. */
function shownJson(value: Json): string {
  if (typeof value === 'string') return shown(value);
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 80)}…` : json;
}

/** A reject; its reason and text carry no raw control characters (a NUL cannot be stored, a newline would forge a line). */
function reject(line: number, reason: string, text: string): ParsedLine {
  return { line, reject: escapeControls(reason), text: escapeControls(text.length > MAX_REJECT_TEXT ? `${text.slice(0, MAX_REJECT_TEXT)}…` : text) };
}

/** Run a row builder; its Reject becomes a reject for the line, anything else is a bug and propagates. */
function convert(line: number, text: string, build: () => AccessRow): ParsedLine {
  try {
    return { line, row: build() };
  } catch (err) {
    if (err instanceof Reject) return reject(line, err.message, text);
    throw err;
  }
}

/**
 * Longest line read, in characters. A longer line is a reject (its start kept for the reject's text) and
 * reading resumes after its line end, so one line without a line end cannot hold the whole file in memory.
 * No access-log record comes near it; the largest FHIR AuditEvents are a few hundred KB.
 */
export const MAX_LINE_CHARS = 16 * 1024 * 1024;

/** A too-long line's reason. */
export const TOO_LONG_REASON = `line: longer than ${MAX_LINE_CHARS / 1024 / 1024} MiB (${MAX_LINE_CHARS} characters); skipped to its line end`;

/**
 * Lines with their 1-based numbers, decoded as decodeInput says; a BOM is dropped. A line ends at LF, CR
 * LF or a lone CR (old Mac tools and some log shippers write CR alone: read as one line, such a log
 * would be read as nothing). Linear however long a line is: a line's pieces are kept in a list and
 * only each new chunk is searched for a line end.
 */
async function* readLines(input: Input, source: string): AsyncGenerator<Line> {
  let pieces: string[] = [];
  let length = 0;
  /** The line being read is over MAX_LINE_CHARS: only its start is kept. */
  let tooLong = false;
  /** The last chunk ended with a CR: an LF opening the next one belongs to it. */
  let afterCr = false;
  let n = 0;
  const take = (tail: string): Line => {
    n++;
    let text = pieces.length ? pieces.join('') + tail : tail;
    pieces = [];
    length = 0;
    if (n === 1 && text.startsWith('\uFEFF')) text = text.slice(1);
    if (!tooLong) return { line: n, text };
    tooLong = false;
    return { line: n, text: text.slice(0, MAX_REJECT_TEXT), tooLong: true };
  };
  const keep = (piece: string) => {
    if (tooLong) return;
    if (length + piece.length <= MAX_LINE_CHARS) {
      if (piece) pieces.push(piece);
      length += piece.length;
      return;
    }
    // Over the limit: the start is enough for a reject; the rest of the line is dropped as it comes.
    pieces = [(pieces.join('') + piece).slice(0, MAX_REJECT_TEXT)];
    tooLong = true;
  };
  for await (const chunk of decodeInput(input, source)) {
    let start = afterCr && chunk.charCodeAt(0) === 0x0a ? 1 : 0;
    if (chunk.length) afterCr = false;
    // Next LF and CR from `start`, each searched again only once passed: one scan of the chunk per character.
    let lf = chunk.indexOf('\n', start);
    let cr = chunk.indexOf('\r', start);
    while (lf !== -1 || cr !== -1) {
      const end = lf === -1 ? cr : cr === -1 ? lf : Math.min(lf, cr);
      keep(chunk.slice(start, end));
      yield take('');
      start = end + 1;
      if (end === cr) {
        if (chunk.charCodeAt(start) === 0x0a) start++;
        else if (start === chunk.length) afterCr = true;
      }
      if (lf !== -1 && lf < start) lf = chunk.indexOf('\n', start);
      if (cr !== -1 && cr < start) cr = chunk.indexOf('\r', start);
    }
    if (start < chunk.length) keep(chunk.slice(start));
  }
  if (length || tooLong) yield take('');
}

/** Bytes read before choosing the encoding: enough pairs for looksUtf16le to tell. */
const SNIFF_BYTES = 4096;

/**
 * The input as text. UTF-8, unless its first bytes say UTF-16 (a byte-order mark, or UTF-16LE without
 * one told by its NULs, as scan tells it: src/lib/encoding.ts): Windows tools write logs so, and read as
 * UTF-8 every character would carry a NUL. UTF-32 is refused rather than read as garbage.
 */
async function* decodeInput(input: Input, source: string): AsyncGenerator<string> {
  const held: Buffer[] = [];
  let heldBytes = 0;
  let decoder: Decoder | undefined;
  for await (const chunk of input as AsyncIterable<Buffer | string>) {
    if (typeof chunk === 'string') yield chunk;
    else if (decoder) yield decoder.write(chunk);
    else {
      held.push(chunk);
      heldBytes += chunk.length;
      if (heldBytes < SNIFF_BYTES) continue;
      const sample = Buffer.concat(held.splice(0));
      decoder = decoderOf(textEncodingOf(sample, source));
      yield decoder.write(sample);
    }
  }
  if (!decoder && held.length) {
    const sample = Buffer.concat(held);
    decoder = decoderOf(textEncodingOf(sample, source));
    yield decoder.write(sample);
  }
  if (decoder) yield decoder.end();
}

type LogEncoding = 'utf-8' | 'utf-16le' | 'utf-16be';

/** The encoding of a log from its first bytes; a UserError for UTF-32, which no log tool we know writes. */
export function textEncodingOf(sample: Buffer, source: string): LogEncoding {
  if ((sample[0] === 0xff && sample[1] === 0xfe && sample[2] === 0 && sample[3] === 0) || (sample[0] === 0 && sample[1] === 0 && sample[2] === 0xfe && sample[3] === 0xff)) {
    throw new UserError(`${source}: the log is UTF-32 (its byte-order mark says so); convert it to UTF-8, e.g. iconv -f UTF-32 -t UTF-8`);
  }
  if (sample[0] === 0xfe && sample[1] === 0xff) return 'utf-16be';
  if ((sample[0] === 0xff && sample[1] === 0xfe) || looksUtf16le(sample)) return 'utf-16le';
  return 'utf-8';
}

interface Decoder {
  write(b: Buffer): string;
  end(): string;
}

function decoderOf(encoding: LogEncoding): Decoder {
  if (encoding === 'utf-8') return new StringDecoder('utf8');
  // Streaming; the byte-order mark is dropped; a cut character is held for the next chunk.
  const d = new TextDecoder(encoding);
  return { write: (b) => d.decode(b, { stream: true }), end: () => d.decode() };
}

interface CsvRecord {
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

async function* csvRecords(lines: AsyncIterable<Line>): AsyncGenerator<CsvRecord> {
  const framer = new CsvFramer();
  for await (const l of lines) yield* framer.push(l);
  yield* framer.end();
}

/**
 * The fields of one framed CSV record, RFC 4180 style ("" is a quote inside a quoted field); a Reject
 * naming `what` when malformed. Our own splitter: csv-parse/sync costs ~20 µs a call, as much as the rest
 * of a row, and framing already did the part where a streaming parser helps.
 */
function splitCsv(text: string, what: string): string[] {
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

// ---------------------------------------------------------------------------------------------------
// CSV and JSON lines with a field map

/** Field values as a line gives them, before checking. */
type RawFields = Partial<Record<Exclude<AccessField, 'record'>, string>> & { record?: string | string[] };

/** How a field is named in reasons: `user`, or `user (operator)` when mapped to another column or key. */
export type Labels = Record<AccessField, string>;

export function labelsFor(map: ParseOptions['map']): Labels {
  const labels = {} as Labels;
  for (const f of ACCESS_FIELDS) labels[f] = map?.[f] && map[f] !== f ? `${f} (${map[f]})` : f;
  return labels;
}

/** The common checks: ts, user and action required, ts a timestamp, record split into keys. */
function buildRow(raw: RawFields, labels: Labels, timeZone: string): AccessRow {
  const required = (f: 'ts' | 'user' | 'action') => raw[f]?.trim() || fail(`${labels[f]}: missing`);
  const ts = required('ts');
  const at = parseTimestamp(ts, timeZone) ?? fail(`${labels.ts}: ${shown(ts)} is not a timestamp (${TIMESTAMP_HINT})`);
  const account = required('user');
  const action = required('action').toLowerCase();
  const records = recordKeys(raw.record);
  return { at, account, action, scope: classifyAction(action, records.length), records, system: raw.system?.trim() || null, ip: raw.ip?.trim() || null };
}

/** "B-1;B-2", "B-1|B-2" or an array → distinct keys; empty → none (an action on no particular record). */
export function recordKeys(value: string | string[] | undefined): string[] {
  const keys = (Array.isArray(value) ? value : (value ?? '').split(/[;|]/)).map((k) => k.trim()).filter(Boolean);
  return [...new Set(keys)];
}

interface CsvHeader {
  line: number;
  width: number;
  /** Column index of each field, -1 when the file has no such column (optional fields only). */
  index: Record<AccessField, number>;
  labels: Labels;
}

const REQUIRED_FIELDS: readonly AccessField[] = ['ts', 'user', 'action'];

async function* parseCsvLog(lines: AsyncIterable<Line>, options: ParseOptions): AsyncGenerator<ParsedLine> {
  let header: CsvHeader | null = null;
  for await (const rec of csvRecords(lines)) {
    if (!header) {
      header = readHeader(rec, options);
      continue;
    }
    const h = header;
    if (rec.tooLong) yield reject(rec.line, TOO_LONG_REASON, rec.text);
    else if (rec.unclosed) yield reject(rec.line, 'row: a quote opened on this line is never closed', rec.text);
    else yield convert(rec.line, rec.text, () => csvRow(splitCsv(rec.text, 'row'), h, options.timeZone));
  }
}

function readHeader(rec: CsvRecord, options: ParseOptions): CsvHeader {
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
      throw new UserError(`${where}: the header has no column ${quoted(name)} for ${field} (columns: ${excerpt(columns.join(', '))}); map it with --map ${field}=<column>`);
    }
  }
  return { line: rec.line, width: columns.length, index, labels: labelsFor(options.map) };
}

/** Exact name first, then ignoring case, so "Timestamp" still finds a column mapped as "timestamp". */
function findColumn(columns: string[], name: string): number {
  const exact = columns.indexOf(name);
  return exact !== -1 ? exact : columns.findIndex((c) => c.toLowerCase() === name.toLowerCase());
}

function csvRow(cells: string[], header: CsvHeader, timeZone: string): AccessRow {
  if (cells.length !== header.width) {
    const missing = ACCESS_FIELDS.find((f) => header.index[f] >= cells.length);
    const counts = `the row has ${cells.length} columns, the header ${header.width}`;
    fail(missing ? `${header.labels[missing]}: missing (${counts})` : `row: ${counts}`);
  }
  const raw: RawFields = {};
  for (const f of ACCESS_FIELDS) if (header.index[f] !== -1) raw[f] = cells[header.index[f]];
  return buildRow(raw, header.labels, timeZone);
}

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type JsonObject = { [key: string]: Json };

async function* parseJsonLines(lines: AsyncIterable<Line>, build: (json: JsonObject) => AccessRow): AsyncGenerator<ParsedLine> {
  for await (const l of lines) {
    if (l.tooLong) yield reject(l.line, TOO_LONG_REASON, l.text);
    else if (!l.text.trim()) continue;
    else yield convert(l.line, l.text, () => build(parseJsonObject(l.text)));
  }
}

/**
 * Deeper than any log record or AuditEvent nests; a line nested deeper is a reject, read no further:
 * JSON.parse copes, but walking or printing such a value recursively overflows the stack.
 */
const MAX_JSON_DEPTH = 64;

function parseJsonObject(text: string): JsonObject {
  if (nestedDeeper(text, MAX_JSON_DEPTH)) fail(`json: nested deeper than ${MAX_JSON_DEPTH} levels`);
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (err) {
    return fail(`json: not valid JSON (${(err as Error).message})`);
  }
  return asObject(json) ?? fail(`json: expected one JSON object per line, got ${typeName(json)}`);
}

/** Whether JSON text opens more than `max` objects or arrays inside each other (one pass, strings skipped). */
function nestedDeeper(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

function asObject(value: Json | undefined): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

function typeName(value: Json | undefined): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A key of the object, or a dotted path into nested objects ("actor.id") when no key has that exact name. */
function lookup(obj: JsonObject, key: string): Json | undefined {
  if (key in obj) return obj[key];
  let value: Json | undefined = obj;
  for (const part of key.split('.')) value = asObject(value)?.[part];
  return value;
}

function jsonlRow(obj: JsonObject, options: ParseOptions): AccessRow {
  const labels = labelsFor(options.map);
  const raw: RawFields = {};
  for (const f of ACCESS_FIELDS) {
    const value = lookup(obj, options.map?.[f] ?? f);
    if (f === 'record') raw.record = jsonRecord(value, labels.record);
    else raw[f] = jsonText(value, labels[f]);
  }
  return buildRow(raw, labels, options.timeZone);
}

function jsonText(value: Json | undefined, label: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return fail(`${label}: expected text or a number, got ${typeName(value)}`);
}

function jsonRecord(value: Json | undefined, label: string): string | string[] | undefined {
  if (!Array.isArray(value)) return jsonText(value, label);
  return value.map((v) => jsonText(v, label) ?? '');
}

// ---------------------------------------------------------------------------------------------------
// FHIR R4 AuditEvent (NDJSON)

const FHIR_ACTIONS: Record<string, string> = { C: 'create', R: 'read', U: 'update', D: 'delete', E: 'execute' };

/** http://hl7.org/fhir/restful-interaction codes, which AuditEvent.subtype uses for REST operations. */
const REST_INTERACTIONS = new Set([
  'read', 'vread', 'update', 'patch', 'delete', 'history', 'history-instance', 'history-type', 'history-system',
  'create', 'search', 'search-type', 'search-system', 'capabilities', 'transaction', 'batch', 'operation',
]);

/** Interactions that return whatever matched: bulk even when they happen to name one record. */
const FHIR_BULK = new Set(['search', 'search-type', 'search-system', 'history-type', 'history-system', 'batch', 'transaction']);

interface Coding {
  code?: string;
  display?: string;
}

function fhirRow(ev: JsonObject, timeZone: string): AccessRow {
  if (ev.resourceType !== 'AuditEvent') {
    fail(ev.resourceType === undefined ? 'resourceType: missing (expected AuditEvent)' : `resourceType: ${shownJson(ev.resourceType)} is not AuditEvent`);
  }
  const recorded = jsonString(ev.recorded) ?? fail('recorded: missing');
  const at = parseTimestamp(recorded, timeZone) ?? fail(`recorded: ${shown(recorded)} is not a timestamp (${TIMESTAMP_HINT})`);
  const agents = jsonArray(ev.agent).map(asObject).filter((a) => a !== undefined);
  if (!agents.length) fail('agent: missing');
  const agent = agents.find((a) => a.requestor === true) ?? agents[0];
  const account = agentAccount(agent) ?? fail('agent.who: missing (no who.identifier.value or who.reference)');
  const subtypes = codings(ev.subtype);
  const action = fhirAction(ev.action, subtypes, codings(ev.type));
  const entities = jsonArray(ev.entity).map(asObject).filter((e) => e !== undefined);
  const records = [...new Set(entities.map(entityKey).filter((k) => k !== undefined))];
  const bulk = subtypes.some((c) => FHIR_BULK.has(c.code?.toLowerCase() ?? '')) || entities.some((e) => e.query !== undefined);
  return {
    at,
    account,
    action,
    scope: bulk ? 'bulk' : classifyAction(action, records.length),
    records,
    system: observer(asObject(ev.source)),
    ip: networkAddress(agent) ?? agents.map(networkAddress).find((a) => a !== null) ?? null,
  };
}

function jsonString(value: Json | undefined): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

function jsonArray(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}

/** Codings of a Coding, a Coding[] (R4 subtype) or a CodeableConcept (R5 type): one level, as FHIR nests them. */
function codings(value: Json | undefined): Coding[] {
  const coding = (o: JsonObject): Coding => ({ code: jsonString(o.code), display: jsonString(o.display) });
  return jsonArray(value).flatMap((v) => {
    const o = asObject(v);
    if (!o) return [];
    if (Array.isArray(o.coding)) return o.coding.map(asObject).filter((c) => c !== undefined).map(coding);
    return [coding(o)];
  });
}

/** The REST interaction when a subtype names one, else a known action word in a subtype or type, else the action code. */
function fhirAction(code: Json | undefined, subtypes: Coding[], types: Coding[]): string {
  const rest = subtypes.map((c) => c.code?.toLowerCase() ?? '').find((c) => REST_INTERACTIONS.has(c));
  if (rest) return rest;
  for (const c of [...subtypes, ...types]) {
    const word = [c.code, c.display].map((w) => w?.toLowerCase()).find((w) => w && (SINGLE_ACTIONS.includes(w) || BULK_ACTIONS.includes(w)));
    if (word) return word;
  }
  if (typeof code === 'string' && FHIR_ACTIONS[code]) return FHIR_ACTIONS[code];
  return fail(code === undefined ? 'action: missing (and no subtype names a REST interaction)' : `action: ${shownJson(code)} is not C, R, U, D or E`);
}

function agentAccount(agent: JsonObject): string | undefined {
  const who = asObject(agent.who);
  return jsonString(asObject(who?.identifier)?.value) ?? jsonString(who?.reference) ?? jsonString(who?.display) ?? jsonString(agent.altId) ?? jsonString(agent.name);
}

function networkAddress(agent: JsonObject): string | null {
  // R4 agent.network.address; R5 agent.networkString.
  return jsonString(asObject(agent.network)?.address) ?? jsonString(agent.networkString) ?? null;
}

function observer(source: JsonObject | undefined): string | null {
  const o = asObject(source?.observer);
  return jsonString(o?.display) ?? jsonString(asObject(o?.identifier)?.value) ?? jsonString(o?.reference) ?? null;
}

/** The id in what.reference ("Patient/123", ".../Patient/123/_history/2" → "123"), else what.identifier.value. */
function entityKey(entity: JsonObject): string | undefined {
  const what = asObject(entity.what);
  const ref = jsonString(what?.reference);
  if (ref) {
    const path = ref.replace(/[?#].*$/, '').replace(/\/_history\/[^/]*$/, '');
    return path.slice(path.lastIndexOf('/') + 1) || undefined;
  }
  return jsonString(asObject(what?.identifier)?.value);
}

// ---------------------------------------------------------------------------------------------------
// pgaudit in PostgreSQL csvlog

/** csvlog columns we read (PostgreSQL 15 order; 9.0–12 stop after application_name, 13 adds backend_type, 14 leader_pid and query_id). */
const CSVLOG = { log_time: 0, user_name: 1, process_id: 3, connection_from: 4, session_id: 5, message: 13, application_name: 22 } as const;

interface AuditEntry {
  type: string;
  statementId: string;
  substatementId: string;
  command: string;
  objectName: string;
  statement: string;
  /** Bind parameters by position; null when pgaudit.log_parameter is off or the field is <previously logged>. */
  parameters: string[] | null;
}

async function* parsePgaudit(lines: AsyncIterable<Line>, options: ParseOptions): AsyncGenerator<ParsedLine> {
  const seen = new StatementsSeen();
  for await (const rec of csvRecords(lines)) {
    const item = rec.tooLong ? reject(rec.line, TOO_LONG_REASON, rec.text) : rec.unclosed ? reject(rec.line, 'csvlog: a quote opened on this line is never closed', rec.text) : pgauditRecord(rec, seen, options);
    if (item) yield item;
  }
}

/** A csvlog record's access, a reject, or null for an ordinary log message or a statement already yielded. */
function pgauditRecord(rec: CsvRecord, seen: StatementsSeen, options: ParseOptions): ParsedLine | null {
  try {
    const cells = splitCsv(rec.text, 'csvlog');
    if (cells.length <= CSVLOG.message) fail(`csvlog: ${cells.length} columns; a PostgreSQL csvlog record has 23 to 26`);
    // Ordinary log messages share the file; only pgaudit's are accesses.
    if (!cells[CSVLOG.message].startsWith('AUDIT: ')) return null;
    const audit = parseAuditMessage(cells[CSVLOG.message].slice('AUDIT: '.length));
    if (seen.repeats(cells, audit)) return null;
    return { line: rec.line, row: pgauditRow(cells, audit, options) };
  } catch (err) {
    if (err instanceof Reject) return reject(rec.line, err.message, rec.text);
    throw err;
  }
}

/**
 * OBJECT and SESSION audit (and one OBJECT entry per audited relation) log the same statement several
 * times under one process, session, STATEMENT_ID and SUBSTATEMENT_ID: only the first is an access.
 * STATEMENT_ID only grows within a session, so remembering the current one per session is enough; and
 * a statement's entries are written together, so only recently active sessions need remembering.
 */
class StatementsSeen {
  private static readonly MAX_SESSIONS = 10_000;
  private current = new Map<string, { statementId: string; substatements: Set<string> }>();

  repeats(cells: string[], audit: AuditEntry): boolean {
    const session = `${cells[CSVLOG.process_id]}|${cells[CSVLOG.session_id]}`;
    let entry = this.current.get(session);
    // Re-insert so the Map's order is least recently active first.
    this.current.delete(session);
    if (entry?.statementId !== audit.statementId) entry = { statementId: audit.statementId, substatements: new Set() };
    this.current.set(session, entry);
    if (this.current.size > StatementsSeen.MAX_SESSIONS) this.current.delete(this.current.keys().next().value!);
    if (entry.substatements.has(audit.substatementId)) return true;
    entry.substatements.add(audit.substatementId);
    return false;
  }
}

/** AUDIT_TYPE,STATEMENT_ID,SUBSTATEMENT_ID,CLASS,COMMAND,OBJECT_TYPE,OBJECT_NAME,STATEMENT,PARAMETER[,ROWS] */
function parseAuditMessage(text: string): AuditEntry {
  const f = splitCsv(text, 'message');
  if (f.length < 7) fail(`message: AUDIT entry has ${f.length} fields; pgaudit writes at least 7 (AUDIT_TYPE … OBJECT_NAME)`);
  if (f[0] !== 'SESSION' && f[0] !== 'OBJECT') fail(`message: AUDIT_TYPE ${shown(f[0])} is not SESSION or OBJECT`);
  return { type: f[0], statementId: f[1], substatementId: f[2], command: f[4], objectName: f[6], statement: f[7] ?? '', parameters: auditParameters(f[8]) };
}

function auditParameters(field: string | undefined): string[] | null {
  if (field === undefined || field === '<not logged>' || field === '<previously logged>') return null;
  if (field === '<none>') return [];
  try {
    return splitCsv(field, 'PARAMETER');
  } catch {
    return null;
  }
}

function pgauditRow(cells: string[], audit: AuditEntry, options: ParseOptions): AccessRow {
  const logTime = cells[CSVLOG.log_time];
  const at = parsePgLogTime(logTime, options.timeZone) ?? fail(`log_time: ${shown(logTime)} is not a csvlog time (YYYY-MM-DD HH:MM:SS.mmm ZONE)`);
  const account = cells[CSVLOG.user_name].trim() || fail('user_name: missing');
  const action = audit.command.trim().toLowerCase() || fail('message: COMMAND missing from the AUDIT entry');
  const patterns = options.recordKey && keyPatterns(options.recordKey);
  const records = patterns && touchesTable(audit, patterns) ? statementKeys(audit, patterns) : [];
  return {
    at,
    account,
    action,
    scope: classifyAction(action, records.length),
    records,
    system: cells[CSVLOG.application_name]?.trim() || null,
    ip: hostOf(cells[CSVLOG.connection_from]),
  };
}

/** "10.2.0.15:52114" → "10.2.0.15", "2001:db8::5:50132" → "2001:db8::5"; "[local]" (a Unix socket) or empty → null. */
function hostOf(connectionFrom: string | undefined): string | null {
  const c = connectionFrom?.trim() ?? '';
  if (!c || c === '[local]') return null;
  return c.replace(/:\d+$/, '');
}

// ---------------------------------------------------------------------------------------------------
// Record keys in SQL text: enough SQL to read `key = literal` and `key IN (…)` conditions, not a parser

const IDENT = '(?:"[^"]+"|[A-Za-z_][\\w$]*)';
const LITERAL = "(?:'(?:[^']|'')*'|-?\\d+(?:\\.\\d+)?|\\$\\d+)";
const CAST = '(?:\\s*::\\s*[A-Za-z_][\\w ]*?(?:\\[\\])?)?';
const LITERAL_G = new RegExp(LITERAL, 'g');

/** Words that can follow a table name without being its alias. */
const NOT_ALIASES = new Set([
  'where', 'join', 'inner', 'left', 'right', 'full', 'cross', 'natural', 'on', 'using', 'set', 'group', 'order', 'limit',
  'offset', 'union', 'except', 'intersect', 'returning', 'for', 'values', 'window', 'having', 'fetch', 'tablesample',
  'as', 'select', 'from', 'and', 'or', 'not', 'into', 'default', 'to', 'with',
]);

const escapeRegex = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
const unquote = (ident: string) => ident.replace(/^"|"$/g, '').toLowerCase();
const lastPart = (name: string) => unquote(name.slice(name.lastIndexOf('.') + 1));

interface KeyPatterns {
  /** The table's name, unquoted, lower case, without schema. */
  table: string;
  /** The statement names the table. */
  mention: RegExp;
  /** `births b`, `births AS b`: group 1 is a possible alias. */
  alias: RegExp;
  /** `= literal`, `IN (literals)`, `= ANY(array)`: group 1 the qualifier, group 2 the value(s). */
  conditions: [RegExp, RegExp, RegExp];
}

/** Regexes per record key, built once: a log has one key, and building them costs more than matching. */
const keyPatternCache = new Map<string, KeyPatterns>();

function keyPatterns(key: { table: string; column: string }): KeyPatterns {
  const cacheKey = `${key.table}\0${key.column}`;
  const cached = keyPatternCache.get(cacheKey);
  if (cached) return cached;
  const table = lastPart(key.table);
  const name = `"?${escapeRegex(table)}"?`;
  const column = `(?<![\\w$."])(?:(?:${IDENT}\\s*\\.\\s*)?(${IDENT})\\s*\\.\\s*)?"?${escapeRegex(unquote(key.column))}"?(?![\\w$"])`;
  const patterns: KeyPatterns = {
    table,
    mention: new RegExp(`(?<![\\w$])${name}(?![\\w$])`, 'i'),
    alias: new RegExp(`(?<![\\w$."])(?:${IDENT}\\s*\\.\\s*)?${name}(?![\\w$"])\\s+(?:AS\\s+)?(${IDENT})`, 'gi'),
    conditions: [
      new RegExp(`${column}\\s*=\\s*(${LITERAL})${CAST}`, 'gi'),
      new RegExp(`${column}\\s+IN\\s*\\(\\s*(${LITERAL}${CAST}(?:\\s*,\\s*${LITERAL}${CAST})*)\\s*\\)`, 'gi'),
      new RegExp(`${column}\\s*=\\s*ANY\\s*\\(\\s*(ARRAY\\s*\\[[^\\]]*\\]|${LITERAL})${CAST}\\s*\\)`, 'gi'),
    ],
  };
  keyPatternCache.set(cacheKey, patterns);
  return patterns;
}

/** The audit entry is about the record-key table: its OBJECT_NAME (any schema), or its statement names it. */
function touchesTable(audit: AuditEntry, patterns: KeyPatterns): boolean {
  if (audit.objectName && lastPart(audit.objectName) === patterns.table) return true;
  return patterns.mention.test(audit.statement);
}

/** Distinct key values from `key = v`, `key IN (v, …)` and `key = ANY(…)`, with $n read from the logged parameters. */
function statementKeys(audit: AuditEntry, patterns: KeyPatterns): string[] {
  const sql = stripComments(audit.statement);
  // An UPDATE's SET list assigns rather than selects: `SET id = 5` names no record read.
  const conditions = audit.command.toUpperCase() === 'UPDATE' ? sql.replace(/\bSET\b[\s\S]*?(?=\bWHERE\b|$)/i, ' ') : sql;
  const qualifiers = tableNames(sql, patterns);
  const found: { at: number; values: string[] }[] = [];
  patterns.conditions.forEach((pattern, i) => {
    for (const m of conditions.matchAll(pattern)) {
      if (m[1] && !qualifiers.has(unquote(m[1]))) continue;
      const literals = (m[2].match(LITERAL_G) ?? []).map((lit) => literalValue(lit, audit.parameters));
      const values = (i === 2 ? literals.flatMap(arrayElements) : literals).filter((v): v is string => v !== null && v !== '');
      found.push({ at: m.index, values });
    }
  });
  // In the order the statement names them.
  return [...new Set(found.sort((a, b) => a.at - b.at).flatMap((f) => f.values))];
}

/**
 * The statement with its comments replaced by spaces, in one pass: -- to the end of the line and
 * /* *\/, which nest in PostgreSQL; what looks like a comment inside a string, a quoted name or a
 * dollar-quoted body is kept. (Two regexes did this before, quadratic on many unclosed /*: 37 s for
 * one 480 KB statement.) An unclosed comment runs to the end, an unclosed string too.
 */
export function stripComments(sql: string): string {
  let out = '';
  let kept = 0;
  const n = sql.length;
  for (let i = 0; i < n; ) {
    const c = sql.charCodeAt(i);
    if (c === 0x2d && sql.charCodeAt(i + 1) === 0x2d) {
      const nl = sql.indexOf('\n', i + 2);
      out += sql.slice(kept, i) + ' ';
      i = kept = nl === -1 ? n : nl;
    } else if (c === 0x2f && sql.charCodeAt(i + 1) === 0x2a) {
      let depth = 1;
      let j = i + 2;
      while (j < n && depth > 0) {
        const d = sql.charCodeAt(j);
        if (d === 0x2a && sql.charCodeAt(j + 1) === 0x2f) {
          depth--;
          j += 2;
        } else if (d === 0x2f && sql.charCodeAt(j + 1) === 0x2a) {
          depth++;
          j += 2;
        } else j++;
      }
      out += sql.slice(kept, i) + ' ';
      i = kept = Math.min(j, n);
    } else if (c === 0x27 || c === 0x22) {
      // 'text' ('' a quote; E'…' also \ escapes) or "name" ("" a quote).
      const escapes = c === 0x27 && i > 0 && (sql[i - 1] === 'E' || sql[i - 1] === 'e') && !/[\w$]/.test(sql[i - 2] ?? '');
      let j = i + 1;
      for (; j < n; j++) {
        const d = sql.charCodeAt(j);
        if (escapes && d === 0x5c) j++;
        else if (d === c) {
          if (sql.charCodeAt(j + 1) !== c) break;
          j++;
        }
      }
      i = j + 1;
    } else if (c === 0x24 && !/[\w$]/.test(sql[i - 1] ?? '')) {
      // $tag$ … $tag$ (a $1 parameter is not one).
      const tag = /^\$(?:[A-Za-z_\u0080-\uffff][\w\u0080-\uffff]*)?\$/.exec(sql.slice(i, i + 64));
      if (!tag) i++;
      else {
        const close = sql.indexOf(tag[0], i + tag[0].length);
        i = close === -1 ? n : close + tag[0].length;
      }
    } else i++;
  }
  return kept === 0 ? sql : out + sql.slice(kept);
}

/** Names that can qualify the key column: the table itself and its aliases (`FROM births b`, `JOIN births AS b`). */
function tableNames(sql: string, patterns: KeyPatterns): Set<string> {
  const names = new Set([patterns.table]);
  for (const m of sql.matchAll(patterns.alias)) if (!NOT_ALIASES.has(unquote(m[1]))) names.add(unquote(m[1]));
  return names;
}

/** A literal's text: '' unescaped, numbers as written, $n from the parameters (null when not logged). */
function literalValue(lit: string, parameters: string[] | null): string | null {
  if (lit.startsWith("'")) return lit.slice(1, -1).replace(/''/g, "'");
  if (lit.startsWith('$')) {
    const value = parameters?.[Number(lit.slice(1)) - 1];
    return value === undefined || value === '<long field suppressed>' ? null : value;
  }
  return lit;
}

/** The elements of an array literal or parameter: {1,2,"a b"}; a plain value stays itself. */
function arrayElements(value: string | null): (string | null)[] {
  if (value === null || !/^\{.*\}$/s.test(value)) return [value];
  return value.slice(1, -1).split(',').map((e) => e.trim().replace(/^"(.*)"$/s, '$1')).filter((e) => e && e.toUpperCase() !== 'NULL');
}
