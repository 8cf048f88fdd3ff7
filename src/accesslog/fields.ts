import { escapeControls, quoted } from '../lib/control.js';
import { UserError } from '../lib/errors.js';
import { TIMESTAMP_HINT, timeReader } from './time.js';
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

/**
 * Action words hospital systems write, in Chinese and English, and the action each means: opening,
 * printing or exporting one record singles it out; a list or a search does not. --actions and the
 * hospital's accessActions add to these and override them.
 */
export const DEFAULT_ACTION_WORDS: Readonly<Record<string, string>> = {
  查看: 'view', 浏览: 'view', 打开: 'view', 调阅: 'view', 阅读: 'view', 查阅: 'view',
  打印: 'print',
  导出: 'export', 下载: 'export',
  列表: 'list', 查询: 'list', 检索: 'list', 搜索: 'list',
  display: 'view', show: 'view', viewed: 'view', opened: 'view',
  printed: 'print',
  exported: 'export', downloaded: 'export',
  listed: 'list', searched: 'list', queried: 'list', lookup: 'list',
};

/** Action words (lower case) and the action each means. */
export type ActionWords = ReadonlyMap<string, string>;

const defaultWords: ActionWords = new Map(Object.entries(DEFAULT_ACTION_WORDS));

/**
 * The built-in words with each layer's words over them (the hospital's accessActions, then --actions);
 * a UserError naming the layer and word when a word is mapped to an action that means nothing here.
 */
export function actionWords(...layers: readonly { source: string; words: Readonly<Record<string, string>> }[]): ActionWords {
  const words = new Map(defaultWords);
  const known = [...SINGLE_ACTIONS, ...BULK_ACTIONS];
  for (const { source, words: layer } of layers) {
    for (const [word, meaning] of Object.entries(layer)) {
      const action = meaning.trim().toLowerCase();
      if (!known.includes(action)) throw new UserError(`${source}: ${shown(word)}=${shown(meaning)}: ${shown(meaning)} is not an action (single-record: ${SINGLE_ACTIONS.join(', ')}; lists: ${BULK_ACTIONS.join(', ')})`);
      words.set(word.trim().toLowerCase(), action);
    }
  }
  return words;
}

/** "查看=view,打印=print" → { 查看: 'view', 打印: 'print' }; a UserError naming the bad part. */
export function parseActionsOption(text: string): Record<string, string> {
  const words: Record<string, string> = {};
  for (const part of text.split(',').map((p) => p.trim())) {
    const eq = part.indexOf('=');
    const [word, action] = [part.slice(0, Math.max(eq, 0)).trim(), part.slice(eq + 1).trim()];
    if (eq < 1 || !word || !action) throw new UserError(`--actions ${shown(part)}: write word=action pairs separated by commas, e.g. 查看=view,打印=print,列表=list`);
    words[word] = action;
  }
  actionWords({ source: '--actions', words });
  return words;
}

/**
 * single: a single-record action (itself, or the action its word means) on exactly one record; anything
 * else (lists, unknown words, 0 or 2+ records) is bulk.
 */
export function classifyAction(action: string, records: number, words: ActionWords = defaultWords): AccessScope {
  const written = action.trim().toLowerCase();
  const a = words.get(written) ?? written;
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

/** How a log's rows are read: its timestamps and its action words. */
export interface RowReading {
  time: (text: string) => Date | null;
  /** What the timestamps should look like, for reject reasons. */
  timeHint: string;
  actions: ActionWords;
}

const readings = new WeakMap<Pick<ParseOptions, 'timeZone' | 'timeFormat' | 'actions'>, RowReading>();

/** The reading of a log's options (made once per options object). */
export function rowReading(options: Pick<ParseOptions, 'timeZone' | 'timeFormat' | 'actions'>): RowReading {
  let reading = readings.get(options);
  if (!reading) {
    reading = {
      time: timeReader(options.timeZone, options.timeFormat),
      timeHint: options.timeFormat ? `not ${options.timeFormat} (--time-format) either; ${TIMESTAMP_HINT}` : TIMESTAMP_HINT,
      actions: options.actions ?? defaultWords,
    };
    readings.set(options, reading);
  }
  return reading;
}

/** The common checks: ts, user and action required, ts a timestamp, record split into keys. */
export function buildRow(raw: RawFields, labels: Labels, reading: RowReading): AccessRow {
  const required = (f: 'ts' | 'user' | 'action') => raw[f]?.trim() || fail(`${labels[f]}: missing`);
  const ts = required('ts');
  const at = reading.time(ts) ?? fail(`${labels.ts}: ${shown(ts)} is not a timestamp (${reading.timeHint})`);
  const account = required('user');
  const action = required('action').toLowerCase();
  const records = recordKeys(raw.record);
  return { at, account, action, scope: classifyAction(action, records.length, reading.actions), records, system: raw.system?.trim() || null, ip: raw.ip?.trim() || null };
}

/** "B-1;B-2", "B-1|B-2" or an array → distinct keys; empty → none (an action on no particular record). */
export function recordKeys(value: string | string[] | undefined): string[] {
  const keys = (Array.isArray(value) ? value : (value ?? '').split(/[;|]/)).map((k) => k.trim()).filter(Boolean);
  return [...new Set(keys)];
}
