import { escapeControls, quoted } from '../lib/control.js';
import { parseTimestamp, TIMESTAMP_HINT } from './time.js';
import { MAX_REJECT_TEXT } from './lines.js';
import { ACCESS_FIELDS, type AccessField, type AccessRow, type AccessScope, type ParsedLine, type ParseOptions } from '../domain/access.js';

// What every format shares once a line is split into fields: the checks that make a row (ts, user and
// action required, ts a timestamp, record split into keys), the action's scope, and how a problem
// becomes a reject. The CSV fast path (src/accesslog/fast-csv.ts) hands every line it does not store
// itself to these same checks, so both readers reject a line alike.

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

/** A line's problem, thrown while building a row and turned into a reject for that line. */
export class Reject extends Error {}

export function fail(reason: string): never {
  throw new Reject(reason);
}

/** A value quoted for a reason: one line (JSON escapes), cut at 80 characters. */
export function shown(value: string): string {
  return quoted(value);
}

/** A reject; its reason and text carry no raw control characters (a NUL cannot be stored, a newline would forge a line). */
export function reject(line: number, reason: string, text: string): ParsedLine {
  return { line, reject: escapeControls(reason), text: escapeControls(text.length > MAX_REJECT_TEXT ? `${text.slice(0, MAX_REJECT_TEXT)}…` : text) };
}

/** Run a row builder; its Reject becomes a reject for the line, anything else is a bug and propagates. */
export function convert(line: number, text: string, build: () => AccessRow): ParsedLine {
  try {
    return { line, row: build() };
  } catch (err) {
    if (err instanceof Reject) return reject(line, err.message, text);
    throw err;
  }
}

/** Field values as a line gives them, before checking. */
export type RawFields = Partial<Record<Exclude<AccessField, 'record'>, string>> & { record?: string | string[] };

/** How a field is named in reasons: `user`, or `user (operator)` when mapped to another column or key. */
export type Labels = Record<AccessField, string>;

export function labelsFor(map: ParseOptions['map']): Labels {
  const labels = {} as Labels;
  for (const f of ACCESS_FIELDS) labels[f] = map?.[f] && map[f] !== f ? `${f} (${map[f]})` : f;
  return labels;
}

/** The common checks: ts, user and action required, ts a timestamp, record split into keys. */
export function buildRow(raw: RawFields, labels: Labels, timeZone: string): AccessRow {
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
