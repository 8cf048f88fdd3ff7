import { format as formatDate } from 'date-fns/format';
import { TZDate } from '@date-fns/tz';
import type { Family } from '../domain/index.js';
import { idCheckDigit, type Random } from '../lib/generate/index.js';
import { renderField } from '../targetdb/mapping.js';
import { inferDateFormat, inferPhoneStyle, inferSexMap, parseWith } from './infer.js';
import { cellText, type ColumnPlan } from './plan.js';

// Pure: a file's own style, learned from its real rows, and canary rows filled in it. Per column:
// how often it is empty, its codes and their shares, how it writes times (pattern, local or UTC,
// seconds), numbers (decimals, steps such as 10 g), keys (prefix, digits, date prefix, sequence) and
// whether its values are unique. A canary never takes a real row's value for what identifies a row.

export type StyleKind = 'empty' | 'key' | 'code' | 'time' | 'number' | 'text';

export interface TimeStyle {
  /** date-fns pattern, undefined: ISO instants (Date objects or ISO text). */
  format: string | undefined;
  /** Whether the real rows show seconds other than :00. */
  seconds: boolean;
  hasTime: boolean;
  min: number;
  max: number;
}

export interface KeyStyle {
  prefix: string;
  /** Digits after the prefix (0: any length, as in a serial id). */
  digits: number;
  /** yyyyMMdd or yyMMdd date at the start of the digits. */
  datePrefix: number;
  values: bigint[];
  /** The values count the rows in file order (1, 2, 3…): a row number, renumbered when canaries go in. */
  ordinal: boolean;
}

export interface ColumnStyle {
  name: string;
  kind: StyleKind;
  /** Share of rows with no value. */
  nulls: number;
  /** Every non-empty value differs (with enough rows to say so). */
  unique: boolean;
  /** What the database or file gives: Date objects, numbers, or text. */
  jsType: 'date' | 'number' | 'bigint' | 'boolean' | 'string';
  /** Non-empty values and their counts (text). */
  shares: [string, number][];
  time?: TimeStyle;
  number?: { decimals: number; step: number };
  key?: KeyStyle;
  /** The file's rows are sorted by this column. */
  monotone: 'asc' | 'desc' | null;
}

const CODE_MAX_DISTINCT = 30;
const KEY_RE = /^([^\d]*?)(\d+)$/;

/** An instant from a cell: Dates as they are, ISO text as written, other patterns as wall-clock time in `timeZone`. */
export function timeOf(value: unknown, format: string | undefined, timeZone = 'UTC'): number | null {
  if (value instanceof Date) return value.getTime();
  const text = cellText(value);
  if (!text) return null;
  if (!format) {
    const t = Date.parse(text);
    return Number.isFinite(t) ? t : null;
  }
  const fast = fastParser(format);
  if (fast) {
    const wall = fast(text);
    return wall === null ? null : zoned(wall, timeZone);
  }
  const d = parseWith(text, format);
  if (!d) return null;
  return new TZDate(d.getFullYear(), d.getMonth(), d.getDate(), d.getHours(), d.getMinutes(), d.getSeconds(), timeZone).getTime();
}

// A million rows are read in seconds only without date-fns per cell: zero-padded patterns are read
// by one regular expression, and the zone's offset is looked up once per hour of wall-clock time.
const FAST_TOKENS: Record<string, string> = { yyyy: '(\\d{4})', MM: '(\\d{2})', dd: '(\\d{2})', HH: '(\\d{2})', mm: '(\\d{2})', ss: '(\\d{2})' };
const fastParsers = new Map<string, ((text: string) => number | null) | null>();

function fastParser(format: string): ((text: string) => number | null) | null {
  if (fastParsers.has(format)) return fastParsers.get(format)!;
  const order: string[] = [];
  let source = '';
  let ok = true;
  for (const part of format.match(/yyyy|MM|dd|HH|mm|ss|'[^']*'|[A-Za-z]+|[^A-Za-z']+/g) ?? []) {
    if (FAST_TOKENS[part]) {
      order.push(part);
      source += FAST_TOKENS[part];
    } else if (/^[A-Za-z]/.test(part)) ok = false;
    else source += part.replace(/'/g, '').replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
  }
  const re = new RegExp(`^${source}$`);
  const parser = ok
    ? (text: string): number | null => {
        const m = re.exec(text);
        if (!m) return null;
        const get = (t: string) => {
          const i = order.indexOf(t);
          return i < 0 ? (t === 'dd' || t === 'MM' ? 1 : 0) : Number(m[i + 1]);
        };
        const [y, mo, d, h, mi, se] = ['yyyy', 'MM', 'dd', 'HH', 'mm', 'ss'].map(get);
        if (mo < 1 || mo > 12 || d < 1 || d > 31 || h > 23 || mi > 59 || se > 59) return null;
        return Date.UTC(y, mo - 1, d, h, mi, se);
      }
    : null;
  fastParsers.set(format, parser);
  return parser;
}

const zoneOffsets = new Map<string, number>();

/** The instant of a wall-clock time (given as if it were UTC) in `timeZone`. */
function zoned(wall: number, timeZone: string): number {
  const hour = Math.floor(wall / 3_600_000);
  const key = `${timeZone}|${hour}`;
  let offset = zoneOffsets.get(key);
  if (offset === undefined) {
    const d = new Date(hour * 3_600_000);
    offset = new TZDate(d.getUTCFullYear(), d.getUTCMonth(), d.getUTCDate(), d.getUTCHours(), 0, 0, timeZone).getTime() - d.getTime();
    if (zoneOffsets.size > 100_000) zoneOffsets.clear();
    zoneOffsets.set(key, offset);
  }
  return wall + offset;
}

/** At most `n` values spread evenly over the list (all of a short list). */
function spread<T>(items: readonly T[], n = 2000): T[] {
  if (items.length <= n) return [...items];
  return Array.from({ length: n }, (_, i) => items[Math.floor((i * items.length) / n)]);
}

function validDate(digits: string): boolean {
  const y = Number(digits.slice(0, 4));
  const m = Number(digits.slice(4, 6));
  const d = Number(digits.slice(6, 8));
  return y >= 1990 && y <= 2100 && m >= 1 && m <= 12 && d >= 1 && d <= 31;
}

function learnKey(texts: readonly string[]): KeyStyle | null {
  const parts = texts.map((t) => KEY_RE.exec(t));
  if (parts.some((p) => !p)) return null;
  const prefix = parts[0]![1];
  if (parts.some((p) => p![1] !== prefix)) return null;
  const lengths = new Set(parts.map((p) => p![2].length));
  const digits = lengths.size === 1 && (prefix !== '' || parts[0]![2].startsWith('0') || parts[0]![2].length >= 8) ? parts[0]![2].length : 0;
  if (digits === 0 && parts.some((p) => p![2].length > 1 && p![2].startsWith('0'))) return null;
  const datePrefix = digits >= 10 && parts.every((p) => validDate(p![2])) ? 8 : 0;
  const inOrder = parts.map((p) => BigInt(p![2]));
  const ordinal = inOrder.every((n, i) => i === 0 || n === inOrder[i - 1] + 1n);
  return { prefix, digits, datePrefix, values: [...inOrder].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0)), ordinal };
}

function monotoneOf(values: readonly unknown[], style: Pick<ColumnStyle, 'kind' | 'time' | 'key'>, timeZone: string): 'asc' | 'desc' | null {
  const keys = values.map((v) => {
    if (v === null || v === undefined || v === '') return null;
    if (style.kind === 'time') return timeOf(v, style.time?.format, timeZone);
    if (style.kind === 'key') return Number(KEY_RE.exec(cellText(v))?.[2] ?? NaN);
    if (style.kind === 'number') return Number(v);
    return null;
  });
  if (keys.length < 3 || keys.some((k) => k === null || !Number.isFinite(k))) return null;
  let asc = true;
  let desc = true;
  let distinct = false;
  for (let i = 1; i < keys.length; i++) {
    if (keys[i]! < keys[i - 1]!) asc = false;
    if (keys[i]! > keys[i - 1]!) desc = false;
    if (keys[i] !== keys[i - 1]) distinct = true;
  }
  return distinct ? (asc ? 'asc' : desc ? 'desc' : null) : null;
}

/** The style of each column, from the file's real rows. */
export function learnStyles(columns: readonly string[], rows: readonly unknown[][], timeZone = 'UTC'): ColumnStyle[] {
  return columns.map((name, c) => {
    const values = rows.map((r) => r[c]);
    const present = values.filter((v) => v !== null && v !== undefined && cellText(v) !== '');
    const texts = present.map(cellText);
    const counts = new Map<string, number>();
    for (const t of texts) counts.set(t, (counts.get(t) ?? 0) + 1);
    const shares = [...counts.entries()];
    const jsType = present.some((v) => v instanceof Date) ? 'date' : present.some((v) => typeof v === 'bigint') ? 'bigint' : present.length && present.every((v) => typeof v === 'number') ? 'number' : present.length && present.every((v) => typeof v === 'boolean') ? 'boolean' : 'string';
    const style: ColumnStyle = { name, kind: 'text', nulls: rows.length ? 1 - present.length / rows.length : 0, unique: present.length >= 5 && counts.size === present.length, jsType, shares, monotone: null };
    if (present.length === 0) return { ...style, kind: 'empty' };
    const date = jsType === 'date' ? { format: undefined, hasTime: true } : inferDateFormat(spread(texts, 300));
    if (date) {
      const times = present.map((v) => timeOf(v, date.format, timeZone)).filter((t): t is number => t !== null);
      const seconds = times.some((t) => Math.floor(t / 1000) % 60 !== 0);
      style.kind = 'time';
      style.time = { format: date.format, seconds, hasTime: date.hasTime, min: times.reduce((a, b) => Math.min(a, b), Infinity), max: times.reduce((a, b) => Math.max(a, b), -Infinity) };
    }
    // Digits that happen to read as a compact date and time (202608010003) are a key when they are unique.
    let key: KeyStyle | null = null;
    const compact = !!date?.format && /^[yMdHms]+$/.test(date.format);
    if (style.kind === 'time' && !(compact && style.unique)) {
      // a time column
    } else if (style.unique && (key = learnKey(texts))) {
      style.kind = 'key';
      style.key = key;
    } else if (counts.size <= CODE_MAX_DISTINCT && counts.size <= Math.max(2, present.length / 3)) {
      style.kind = 'code';
    } else if (texts.every((t) => /^-?\d+(\.\d+)?$/.test(t)) && !(texts.every((t) => /^\d+$/.test(t)) && texts.some((t) => t.length > 1 && t.startsWith('0')))) {
      const decimals = texts.reduce((m, t) => Math.max(m, t.split('.')[1]?.length ?? 0), 0);
      const scaled = texts.map((t) => Math.round(Number(t) * 10 ** decimals));
      const step = [1000, 100, 50, 10, 5, 2].find((s) => scaled.every((n) => n % s === 0)) ?? 1;
      style.kind = 'number';
      style.number = { decimals, step };
    }
    style.monotone = monotoneOf(values, style, timeZone);
    return style;
  });
}

/** Whether a column's canary value must never be a real row's: keys, and text that is mostly distinct (names, numbers, addresses). */
export function identifying(style: ColumnStyle): boolean {
  if (style.kind === 'key') return true;
  if (style.kind !== 'text' && style.kind !== 'number') return false;
  const present = style.shares.reduce((n, [, k]) => n + k, 0);
  return style.unique || (present >= 5 && style.shares.length / present > 0.5 && style.kind === 'text');
}

const pad = (n: number, w = 2) => String(n).padStart(w, '0');

/** An instant written in a time column's style: a Date where the column holds Dates, else its pattern in the hospital's zone, or UTC ISO. */
export function writeTime(ms: number, style: TimeStyle, jsType: ColumnStyle['jsType'], timeZone: string): unknown {
  if (jsType === 'date') return new Date(ms);
  if (style.format === undefined) return new Date(ms).toISOString();
  return formatDate(new TZDate(ms, timeZone), style.format);
}

/** Round or jitter an instant to the column's precision: whole minutes where the file has no seconds, seconds where it has them. */
function atPrecision(ms: number, style: TimeStyle, rng: Random): number {
  if (!style.hasTime) return ms;
  const minute = Math.floor(ms / 60_000) * 60_000;
  return style.seconds ? minute + (Math.floor(ms / 1000) % 60 === 0 ? rng.int(0, 59) : Math.floor(ms / 1000) % 60) * 1000 : minute;
}

function numberText(n: number, style: NonNullable<ColumnStyle['number']>): string {
  const scaled = Math.round((n * 10 ** style.decimals) / style.step) * style.step;
  return (scaled / 10 ** style.decimals).toFixed(style.decimals);
}

function asJsType(text: string, jsType: ColumnStyle['jsType']): unknown {
  if (jsType === 'number') return Number(text);
  if (jsType === 'bigint') return BigInt(text);
  if (jsType === 'boolean') return text === 'true';
  return text;
}

const CJK = /[\u3400-\u9fff]/;

/** A value shaped like the column's identifying values, but none of them. */
function synthText(style: ColumnStyle, family: Family, rng: Random, taken: ReadonlySet<string>): string {
  const values = style.shares.map(([v]) => v);
  for (let attempt = 0; attempt < 50; attempt++) {
    const template = rng.pick(values);
    let out: string;
    if (/^\d{17}[\dXx]$/.test(template)) {
      const born = (family.mother.birthDate ?? '1995-01-01').replace(/-/g, '');
      const first17 = template.slice(0, 6) + born + pad(rng.int(0, 999), 3);
      out = first17 + idCheckDigit(first17);
    } else if (/\d/.test(template)) {
      // Digits after the first run that looks like a category (a leading letter/prefix) are redrawn.
      const lead = /^\D*\d{0,2}/.exec(template)![0].length;
      out = template.slice(0, lead) + template.slice(lead).replace(/\d/g, () => String(rng.int(0, 9)));
    } else if (CJK.test(template) && template.length <= 4) {
      // A name: a surname from the column, given characters from its other positions.
      const pool = values.flatMap((v) => [...v].slice(1)).filter((ch) => CJK.test(ch));
      out = template[0] + [...template].slice(1).map(() => rng.pick(pool)).join('');
    } else {
      const chars = [...template];
      const pool = values.flatMap((v) => [...v]).filter((ch) => CJK.test(ch));
      const cjk = chars.flatMap((ch, i) => (CJK.test(ch) ? [i] : []));
      for (const i of cjk.slice(-2)) if (pool.length) chars[i] = rng.pick(pool);
      out = chars.join('');
    }
    if (!taken.has(out)) return out;
  }
  throw new StyleError(`column ${style.name}: cannot make a value unlike every real row's`);
}

/** A column cannot be filled convincingly: the export fails with this message. */
export class StyleError extends Error {}

export interface FillContext {
  timeZone: string;
  rng: Random;
  /** Each identifying column's real values (text); values given to canaries are added. */
  taken: ReadonlyMap<number, Set<string>>;
  /** Index of the anchor instant column (baby.birthTime, else the first mapped instant), -1: none. */
  anchor: number;
  /** Per unmapped time column: offsets (ms) from the anchor in the real rows. */
  offsets: ReadonlyMap<number, number[]>;
}

/** Offsets of unmapped time columns from the anchor column, in the real rows. */
export function anchorOffsets(plan: readonly ColumnPlan[], styles: readonly ColumnStyle[], rows: readonly unknown[][], timeZone: string): { anchor: number; offsets: Map<number, number[]> } {
  let anchor = plan.findIndex((c) => c.value?.field === 'baby.birthTime' && styles[plan.indexOf(c)].kind === 'time');
  if (anchor < 0) anchor = plan.findIndex((c, i) => c.value?.kind === 'instant' && styles[i].kind === 'time');
  const offsets = new Map<number, number[]>();
  if (anchor < 0) return { anchor, offsets };
  styles.forEach((s, c) => {
    if (s.kind !== 'time' || plan[c].value) return;
    const list: number[] = [];
    for (const r of spread(rows)) {
      const a = timeOf(r[anchor], styles[anchor].time!.format, timeZone);
      const t = timeOf(r[c], s.time!.format, timeZone);
      if (a !== null && t !== null) list.push(t - a);
    }
    offsets.set(c, list);
  });
  return { anchor, offsets };
}

/**
 * A canary's row in the file's style: mapped fields rendered from its family and restyled as the
 * column writes them; other columns drawn from the column's own codes and distributions. Keys are
 * left null: they are given once the row has its place (fillKeys).
 */
export function styledCanaryRow(plan: readonly ColumnPlan[], styles: readonly ColumnStyle[], family: Family, ctx: FillContext): unknown[] {
  const { rng, timeZone } = ctx;
  const row: unknown[] = plan.map(() => null);
  const anchorMs = ctx.anchor >= 0 && plan[ctx.anchor].value ? Date.parse(String(renderField({ ...plan[ctx.anchor].value!, format: undefined, map: undefined }, family, timeZone))) : NaN;
  const order = plan.map((_, i) => i);
  for (const c of order) {
    const col = plan[c];
    const style = styles[c];
    if (style.kind === 'empty') continue;
    if (col.value) {
      const f = col.value;
      if (f.kind === 'instant' || f.kind === 'date') {
        const raw = renderField({ ...f, format: undefined }, family, timeZone);
        if (raw === null) continue;
        if (!style.time) {
          row[c] = renderField(f, family, timeZone);
          continue;
        }
        const ms = f.kind === 'date' ? Date.parse(`${String(raw)}T00:00:00`) : Date.parse(String(raw));
        if (f.kind === 'date' && style.jsType !== 'date' && style.time!.format) row[c] = formatDate(new Date(ms), style.time!.format);
        else row[c] = writeTime(atPrecision(ms, style.time!, rng), style.time!, style.jsType, timeZone);
        continue;
      }
      let value = renderField(f.kind === 'phone' && !f.phone ? { ...f, phone: inferPhoneStyle(style.shares.map(([v]) => v)) ?? undefined } : f, family, timeZone);
      if (value === null || value === undefined) continue;
      if (style.kind === 'code' && (f.kind === 'sex' || ['ward', 'hospital', 'district'].includes(f.field))) {
        const codes = new Set(style.shares.map(([v]) => v));
        if (!codes.has(String(value))) {
          const sex = f.kind === 'sex' ? inferSexMap([...codes], true) : null;
          const raw = renderField({ ...f, map: undefined, case: undefined }, family, timeZone);
          value = sex ? sex[String(raw)] : rng.weighted(style.shares);
        }
        row[c] = asJsType(String(value), style.jsType);
      } else if (style.kind === 'number' && f.kind === 'number') {
        row[c] = asJsType(numberText(Number(value), style.number!), style.jsType);
      } else {
        row[c] = typeof value === 'string' || typeof value === 'number' ? asJsType(String(value), style.jsType === 'date' ? 'string' : style.jsType) : value;
      }
      continue;
    }
    // Columns with no field: empty as often as the real rows are.
    if (style.kind === 'key') continue;
    if (rng.next() < style.nulls) continue;
    if (style.kind === 'time') {
      const offsets = ctx.offsets.get(c);
      const ms = Number.isFinite(anchorMs) && offsets?.length ? anchorMs + rng.pick(offsets) + (style.time!.seconds ? rng.int(-300, 300) * 1000 : rng.int(-5, 5) * 60_000) : style.time!.min + rng.next() * (style.time!.max - style.time!.min);
      row[c] = style.time!.hasTime ? writeTime(atPrecision(ms, style.time!, rng), style.time!, style.jsType, timeZone) : writeDay(ms, style, timeZone);
    } else if (style.kind === 'code') {
      row[c] = asJsType(rng.weighted(style.shares), style.jsType);
    } else if (style.unique && style.kind === 'text' && !style.shares.some(([v]) => CJK.test(v) || /^\d{17}[\dXx]$/.test(v))) {
      throw new StyleError(`column ${style.name}: its values are unique but follow no pattern Cradle can learn (e.g. ${style.shares[0][0].replace(/[A-Za-z0-9]/g, '#')}); leave it out of the file or say its field with --map`);
    } else if (identifying(style)) {
      const taken = ctx.taken.get(c) ?? new Set<string>();
      const text = synthText(style, family, rng, taken);
      taken.add(text);
      row[c] = asJsType(text, style.jsType);
    } else if (style.kind === 'number') {
      // A measurement or count: the column's own distribution, at its precision.
      const v = Number(rng.weighted(style.shares));
      row[c] = asJsType(numberText(v, style.number!), style.jsType);
    } else {
      row[c] = asJsType(rng.weighted(style.shares), style.jsType);
    }
  }
  return row;
}

function writeDay(ms: number, style: ColumnStyle, timeZone: string): unknown {
  if (style.jsType === 'date') return new Date(ms);
  return formatDate(new TZDate(ms, timeZone), style.time!.format ?? 'yyyy-MM-dd');
}

function keyText(style: KeyStyle, n: bigint): string {
  return style.prefix + (style.digits ? n.toString().padStart(style.digits, '0') : n.toString());
}

function keyNumber(style: ColumnStyle, value: unknown): bigint | null {
  const m = KEY_RE.exec(cellText(value));
  return m && m[1] === style.key!.prefix ? BigInt(m[2]) : null;
}

/** A key column the file is sorted by: a canary's value lies between its neighbours' in the file. */
interface SortedKey {
  c: number;
  style: ColumnStyle;
  key: KeyStyle;
  /** The real rows' numbers, in file order. */
  real: (bigint | null)[];
  asc: boolean;
  /** Values after the largest are the hospital's next ones (see sequenceLike). */
  sequence: boolean;
  floor: bigint;
  ceiling: bigint;
  /** How far before the smallest value (or after the largest, where allowed) a canary's may go. */
  endSpan: bigint;
  /** 10^(digits after the date) for date-prefixed numbers, else 0. */
  unit: bigint;
  /** Values the target holds (found by isTaken), and values it was asked about and does not hold. */
  blocked: Set<bigint>;
  verified: Set<bigint>;
}

const big = (values: readonly bigint[], pick: (a: bigint, b: bigint) => boolean) => values.reduce((a, b) => (pick(a, b) ? a : b));

/**
 * Whether a key's values look issued in order (ids, daily admission numbers, zero-padded serials),
 * so that values after its largest are the ones the hospital's system will issue next: date-prefixed
 * numbers always; other numbers unless they look drawn at random (on average more than 1,000 apart
 * and spread over at least half of their digits' range).
 */
export function sequenceLike(key: KeyStyle): boolean {
  const v = key.values;
  if (key.datePrefix || v.length < 2) return true;
  const span = v[v.length - 1] - v[0];
  if (span / BigInt(v.length - 1) <= 1000n) return true;
  return span * 2n < 10n ** BigInt(v[v.length - 1].toString().length);
}

function sortedKey(c: number, style: ColumnStyle, realRows: readonly unknown[][]): SortedKey {
  const key = style.key!;
  const v = key.values;
  const [min, max] = [v[0], v[v.length - 1]];
  const width = (n: bigint) => n.toString().length;
  return {
    c,
    style,
    key,
    real: realRows.map((r) => keyNumber(style, r[c])),
    asc: style.monotone === 'asc',
    sequence: sequenceLike(key),
    floor: key.digits ? 1n : width(min) > 1 ? 10n ** BigInt(width(min) - 1) : 1n,
    ceiling: 10n ** BigInt(key.digits || width(max)) - 1n,
    endSpan: v.length > 1 ? [2n, (2n * (max - min)) / BigInt(v.length - 1)].reduce((a, b) => (a > b ? a : b)) : 2n,
    unit: key.datePrefix ? 10n ** BigInt(key.digits - key.datePrefix) : 0n,
    blocked: new Set(),
    verified: new Set(),
  };
}

/**
 * The values (inclusive ranges) a canary's key may take in slot `s` (before real row s): strictly
 * between the neighbours' values; before the smallest within endSpan; after the largest only where
 * the key is not sequence-like. Date-prefixed numbers stay on a neighbour's day: between two days,
 * the next numbers of the earlier day or those just before the later day's first.
 */
function slotRanges(k: SortedKey, s: number): [bigint, bigint][] {
  const prev = s > 0 ? k.real[s - 1] : null;
  const next = s < k.real.length ? k.real[s] : null;
  let [a, b] = k.asc ? [prev, next] : [next, prev];
  const [realA, realB] = [a !== null, b !== null];
  if (a === null && b === null) return [];
  if (b === null) {
    if (k.sequence) return [];
    b = a! + k.endSpan + 1n;
  }
  if (a === null) a = b - k.endSpan - 1n;
  if (a < k.floor - 1n) a = k.floor - 1n;
  if (b > k.ceiling + 1n) b = k.ceiling + 1n;
  const u = k.unit;
  if (u) {
    if (!realA && (b / u) * u > a) a = (b / u) * u;
    if (!realB && (a / u) * u + u < b) b = (a / u) * u + u;
    if (a / u !== b / u) {
      const ranges: [bigint, bigint][] = [
        [a + 1n, big([a + 3n, (a / u) * u + u - 1n], (x, y) => x < y)],
        [big([b - 2n, (b / u) * u + 1n], (x, y) => x > y), b - 1n],
      ];
      return ranges.filter(([x, y]) => x <= y);
    }
  }
  return b - a > 1n ? [[a + 1n, b - 1n]] : [];
}

const CAPACITY_CAP = 1_000_000;

/** How many values of the ranges are free (at most CAPACITY_CAP). */
function capacity(k: SortedKey, ranges: readonly [bigint, bigint][]): number {
  let n = 0n;
  for (const [x, y] of ranges) n += y - x + 1n;
  for (const b of k.blocked) if (ranges.some(([x, y]) => b >= x && b <= y)) n--;
  return Number(n > BigInt(CAPACITY_CAP) ? BigInt(CAPACITY_CAP) : n);
}

/** Uniform in [0, size). */
function randomBelow(size: bigint, rng: Random): bigint {
  if (size <= 2n ** 52n) return BigInt(Math.floor(rng.next() * Number(size)));
  let r = 0n;
  for (let bits = 0n; 1n << bits < size * 1024n; bits += 32n) r = (r << 32n) | BigInt(Math.floor(rng.next() * 2 ** 32));
  return r % size;
}

/** `count` distinct free values of the ranges, chosen uniformly. */
function pickFrom(k: SortedKey, ranges: readonly [bigint, bigint][], count: number, rng: Random, chosen: Set<bigint>): bigint[] {
  const out: bigint[] = [];
  if (count <= 0) return out;
  const sizes = ranges.map(([x, y]) => y - x + 1n);
  const total = sizes.reduce((a, b) => a + b, 0n);
  const free = (n: bigint) => !k.blocked.has(n) && !chosen.has(n);
  if (total <= 4096n) {
    const all = ranges.flatMap(([x, y]) => Array.from({ length: Number(y - x + 1n) }, (_, i) => x + BigInt(i))).filter(free);
    while (out.length < count && all.length) {
      const n = all.splice(rng.int(0, all.length - 1), 1)[0];
      out.push(n);
      chosen.add(n);
    }
    return out;
  }
  for (let attempt = 0; out.length < count && attempt < 100 * count + 100; attempt++) {
    let r = randomBelow(total, rng);
    let i = 0;
    while (r >= sizes[i]) r -= sizes[i++];
    const n = ranges[i][0] + r;
    if (!free(n)) continue;
    out.push(n);
    chosen.add(n);
  }
  return out;
}

/**
 * Values for the canaries of one slot, in value order. Between two days of a date-prefixed number,
 * canaries on the later day take the later day's numbers where there are enough.
 */
function pickForSlot(k: SortedKey, s: number, days: readonly (bigint | null)[], rng: Random): bigint[] {
  const ranges = slotRanges(k, s);
  const chosen = new Set<bigint>();
  if (k.unit && ranges.length === 2) {
    const laterDay = ranges[1][0] / k.unit;
    const later = days.filter((d) => d === laterDay).length;
    const hi = pickFrom(k, [ranges[1]], later, rng, chosen);
    const lo = pickFrom(k, [ranges[0]], days.length - hi.length, rng, chosen);
    const more = pickFrom(k, ranges, days.length - hi.length - lo.length, rng, chosen);
    return [...lo, ...hi, ...more].sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
  }
  return pickFrom(k, ranges, days.length, rng, chosen).sort((a, b) => (a < b ? -1 : a > b ? 1 : 0));
}

/** A date or time column the file's order follows, with each real row's instant (running maximum where only nearly sorted). */
interface SortedTime {
  c: number;
  style: ColumnStyle;
  desc: boolean;
  times: Float64Array;
  /** How far before the first row or after the last a canary's time may be moved. */
  endSpan: number;
}

function sortedTime(c: number, style: ColumnStyle, realRows: readonly unknown[][], timeZone: string, near: boolean): SortedTime {
  const times = new Float64Array(realRows.length);
  let max = -Infinity;
  realRows.forEach((r, i) => {
    const t = timeOf(r[c], style.time!.format, timeZone) ?? NaN;
    if (near) {
      if (t > max) max = t;
      times[i] = max;
    } else times[i] = t;
  });
  const span = Math.max(60_000, (style.time!.max - style.time!.min) / Math.max(1, realRows.length));
  return { c, style, desc: !near && style.monotone === 'desc', times, endSpan: Math.ceil((2 * span) / 60_000) * 60_000 };
}

/** The instants a canary's time may take in slot `s` (ends: unbounded, or `endSpan` from the first or last row where `finite`). */
function timeBounds(t: SortedTime, s: number, finite: boolean): [number, number] {
  const n = t.times.length;
  const prev = s > 0 ? t.times[s - 1] : NaN;
  const next = s < n ? t.times[s] : NaN;
  let [lo, hi] = t.desc ? [next, prev] : [prev, next];
  if (Number.isNaN(lo)) lo = finite && !Number.isNaN(hi) ? hi - t.endSpan : -Infinity;
  if (Number.isNaN(hi)) hi = finite && Number.isFinite(lo) ? lo + t.endSpan : Infinity;
  return [lo, hi];
}

/** An instant at the column's precision within [lo, hi] (bounds that are themselves values of the column). */
function timeWithin(ms: number, lo: number, hi: number, style: TimeStyle, rng: Random): number {
  const v = atPrecision(ms, style, rng);
  return v < lo ? lo : v > hi ? hi : v;
}

/**
 * The canary's row for slot `s`: as it is where its own times fit there; else every time of it moved
 * by one shift into the slot's range of the sorted time columns. Returns the row and the shift (ms).
 */
function rowForSlot(
  row: readonly unknown[],
  s: number,
  times: readonly SortedTime[],
  styles: readonly ColumnStyle[],
  rng: Random,
  timeZone: string,
  /** Days (yyyyMMdd) the slot's date-prefixed keys can be on; null: any. */
  days: ReadonlySet<bigint> | null,
): { row: unknown[]; shift: number } {
  const own = times.map((t) => timeOf(row[t.c], t.style.time!.format, timeZone));
  const onDay = (r: readonly unknown[]) => {
    const day = days ? dayNumber(r, styles, timeZone) : null;
    return day === null || days!.has(day);
  };
  const fits = times.every((t, i) => {
    const [lo, hi] = timeBounds(t, s, false);
    return own[i] === null || (own[i]! >= lo && own[i]! <= hi);
  });
  if (fits && onDay(row)) return { row: [...row], shift: 0 };
  let [from, to] = [-Infinity, Infinity];
  const present = times.flatMap((t, i) => (own[i] === null ? [] : [{ t, at: own[i]!, bounds: timeBounds(t, s, true) }]));
  if (present.length === 0) return { row: [...row], shift: 0 };
  for (const { at, bounds } of present) [from, to] = [Math.max(from, bounds[0] - at), Math.min(to, bounds[1] - at)];
  if (!(from <= to) || !Number.isFinite(from) || !Number.isFinite(to)) [from, to] = [present[0].bounds[0] - present[0].at, present[0].bounds[1] - present[0].at];
  if (!Number.isFinite(from) || !Number.isFinite(to) || from > to) return { row: [...row], shift: 0 };
  const moved = (shift: number) => {
    const out = [...row];
    styles.forEach((style, c) => {
      if (style.kind !== 'time') return;
      const at = timeOf(row[c], style.time!.format, timeZone);
      if (at === null) return;
      const sorted = present.find((p) => p.t.c === c);
      const ms = sorted ? timeWithin(at + shift, sorted.bounds[0], sorted.bounds[1], style.time!, rng) : atPrecision(at + shift, style.time!, rng);
      out[c] = style.time!.hasTime ? writeTime(ms, style.time!, style.jsType, timeZone) : writeDay(ms, style, timeZone);
    });
    return out;
  };
  // A shift within the slot's range that also puts the row on a day its keys can have.
  let first: { row: unknown[]; shift: number } | null = null;
  for (let attempt = 0; attempt < 40; attempt++) {
    const shift = Math.round(from + rng.next() * (to - from));
    const out = moved(shift);
    if (onDay(out)) return { row: out, shift };
    first ??= { row: out, shift };
  }
  return first!;
}

/** The row's day (yyyyMMdd) for date-prefixed numbers, as a number. */
function dayNumber(row: readonly unknown[], styles: readonly ColumnStyle[], timeZone: string): bigint | null {
  const day = dayOfRow(row, styles, timeZone);
  return day ? BigInt(day) : null;
}

export interface PlacedRows {
  rows: unknown[][];
  /** 1-based row of each canary. */
  positions: number[];
  /** How far (ms) each canary's times were moved to reach a place with a free key (0: not moved). */
  shifts: number[];
}

/** What choosing canaries' keys needs besides the rows: the file's styles and plan, and what the target holds. */
export interface KeyContext {
  styles: readonly ColumnStyle[];
  plan: readonly ColumnPlan[];
  rng: Random;
  timeZone: string;
  /** Which of these candidate values the target already holds in the column's source. */
  isTaken: (column: number, candidates: string[]) => Promise<Set<string>>;
  /** Whether a column is a key of the target's table (never renumbered). */
  inTarget?: (column: number) => boolean;
}

/**
 * Put the canary rows into the file and give them their keys, deciding both together. Each canary
 * starts at its slot (`slots[i]`: before that real row, from placeCanaries) and stays there where
 * every key column the file is sorted by has a free value between its neighbours; else it moves to
 * the nearest slot that has, its times moved with it into that slot's range of the sorted time
 * columns, so the file stays in order. A value after the largest of a sequence-like key (the
 * hospital's next one) is never taken. Values the target holds (`isTaken`) are tried again
 * elsewhere. No slot with a free value anywhere: a StyleError. Then the other keys, row numbers and
 * unmapped sorted times are filled as fillKeys does.
 */
export async function placeCanaryRows(
  realRows: readonly unknown[][],
  canaryRows: readonly unknown[][],
  /** Where placeCanaries put them: each canary's slot and row, and the nearly sorted time column it went by. */
  placed: { slots: readonly number[]; positions: readonly number[]; near?: number | null },
  context: KeyContext,
): Promise<PlacedRows> {
  const { styles, plan, rng, timeZone, isTaken } = context;
  const { slots, positions: placedAt } = placed;
  const near = placed.near ?? null;
  const n = realRows.length;
  const keys = realRows.length ? styles.flatMap((s, c) => (s.kind === 'key' && s.monotone && !s.key!.ordinal && !plan[c].value ? [sortedKey(c, s, realRows)] : [])) : [];
  const times = styles.flatMap((s, c) => (s.kind === 'time' && plan[c].value && (s.monotone || c === near) && n ? [sortedTime(c, s, realRows, timeZone, c === near && !s.monotone)] : []));
  const slot: (number | null)[] = canaryRows.map(() => null);
  const work: unknown[][] = canaryRows.map((r) => [...r]);
  const shifts = canaryRows.map(() => 0);
  const members = new Map<number, number[]>();
  const dated = keys.filter((k) => k.unit);
  /** The days a slot's date-prefixed keys can be on (every dated key's), null: no such key. */
  const slotDays = (s: number): Set<bigint> | null => {
    if (!dated.length) return null;
    const sets = dated.map((k) => new Set(slotRanges(k, s).flatMap(([x, y]) => [x / k.unit, y / k.unit])));
    return new Set([...sets[0]].filter((d) => sets.every((set) => set.has(d))));
  };
  const assign = (j: number, s: number) => {
    slot[j] = s;
    const { row, shift } = rowForSlot(canaryRows[j], s, times, styles, rng, timeZone, slotDays(s));
    work[j] = row;
    shifts[j] = shift;
    members.set(s, [...(members.get(s) ?? []), j]);
  };
  // Canaries of one slot in the file's order: by the first sorted time column, else as placed.
  const primary = times[0];
  const at = (j: number) => (primary ? timeOf(work[j][primary.c], primary.style.time!.format, timeZone) ?? 0 : 0);
  const inOrder = (list: readonly number[]) => [...list].sort((a, b) => (primary ? (primary.desc ? at(b) - at(a) : at(a) - at(b)) : 0) || placedAt[a] - placedAt[b]);

  if (keys.length === 0) {
    canaryRows.forEach((_, j) => assign(j, slots[j]));
  } else {
    // Slots whose real neighbours leave a value free in every sorted key column.
    const open: number[] = [];
    for (let s = 0; s <= n; s++) if (keys.every((k) => slotRanges(k, s).length > 0)) open.push(s);
    let caps = new Map<number, number>();
    const room = (s: number) => {
      let cap = caps.get(s);
      if (cap === undefined) caps.set(s, (cap = Math.min(...keys.map((k) => capacity(k, slotRanges(k, s))))));
      return cap - (members.get(s)?.length ?? 0);
    };
    const nearestOpen = (pref: number): number | null => {
      if (room(pref) > 0) return pref;
      let [lo, hi] = [0, open.length];
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (open[mid] < pref) lo = mid + 1;
        else hi = mid;
      }
      lo = hi - 1;
      while (lo >= 0 || hi < open.length) {
        const dl = lo >= 0 ? pref - open[lo] : Infinity;
        const dh = hi < open.length ? open[hi] - pref : Infinity;
        const down = dl < dh || (dl === dh && rng.next() < 0.5);
        const s = down ? open[lo--] : open[hi++];
        if (room(s) > 0) return s;
      }
      return null;
    };
    let pending = canaryRows.map((_, j) => j);
    for (let round = 0; pending.length; round++) {
      if (round === 20) throw new StyleError(`column ${keys[0].style.name}: the target holds every value Cradle tried for a canary's key; export fewer canaries`);
      const touched = new Set<number>();
      for (const j of [...pending].sort((a, b) => placedAt[a] - placedAt[b])) {
        const s = nearestOpen(slots[j]);
        if (s === null) {
          const k = keys.length === 1 ? keys[0] : null;
          const after = k?.sequence ? `, and values after the largest, ${keyText(k.key, k.key.values[k.key.values.length - 1])}, are the hospital's next` : '';
          const free = open.reduce((sum, o) => sum + Math.min(...keys.map((key) => capacity(key, slotRanges(key, o)))), 0);
          const names = k ? `column ${k.style.name}` : `columns ${keys.map((key) => key.style.name).join(', ')}`;
          throw new StyleError(
            free === 0
              ? `${names}: no free value for a canary's key anywhere in the file's order (neighbouring rows hold consecutive values${after}); export a part of the table whose keys have gaps, or leave the column out`
              : `${names}: room in the file's order for ${free} of the ${canaryRows.length} canaries' keys (the other neighbouring rows hold consecutive values${after}); export fewer canaries or a part of the table whose keys have gaps`,
          );
        }
        assign(j, s);
        touched.add(s);
      }
      pending = [];
      // Values for every canary of each slot that took a new one, in the file's order; then the target's word.
      const picked = new Map<number, Map<number, bigint>>();
      for (const s of touched) {
        const list = inOrder(members.get(s)!);
        for (const k of keys) {
          const values = pickForSlot(k, s, list.map((j) => (k.unit ? dayNumber(work[j], styles, timeZone) : null)), rng);
          if (values.length < list.length) throw new StyleError(`column ${k.style.name}: no free value left between two rows for a canary's key`);
          if (!k.asc) values.reverse();
          const byCanary = picked.get(k.c) ?? new Map<number, bigint>();
          list.forEach((j, i) => byCanary.set(j, values[i]));
          picked.set(k.c, byCanary);
        }
      }
      const dirty = new Set<number>();
      for (const k of keys) {
        const byCanary = picked.get(k.c)!;
        const ask = new Set<bigint>([...byCanary.values()].filter((v) => !k.verified.has(v)));
        // Small gaps are asked about whole, so that a gap the target fills is known full at once.
        for (const s of touched) {
          const ranges = slotRanges(k, s);
          if (ranges.reduce((m, [x, y]) => m + (y - x + 1n), 0n) <= 64n) for (const [x, y] of ranges) for (let v = x; v <= y; v++) if (!k.verified.has(v) && !k.blocked.has(v)) ask.add(v);
        }
        if (ask.size === 0) continue;
        const asked = [...ask];
        const taken = await isTaken(k.c, asked.map((v) => keyText(k.key, v)));
        for (const v of asked) (taken.has(keyText(k.key, v)) ? k.blocked : k.verified).add(v);
        for (const [j, v] of byCanary) if (k.blocked.has(v)) dirty.add(slot[j]!);
      }
      for (const [c, byCanary] of picked) {
        const style = styles[c];
        for (const [j, v] of byCanary) work[j][c] = style.jsType === 'string' ? keyText(style.key!, v) : asJsType(v.toString(), style.jsType);
      }
      caps = new Map(); // the target's answers change what is free
      if (dirty.size) {
        for (const s of dirty) {
          for (const j of members.get(s)!) {
            slot[j] = null;
            for (const k of keys) work[j][k.c] = null;
            pending.push(j);
          }
          members.delete(s);
        }
      }
    }
  }

  // The merged file: each slot's canaries in order before its real row.
  const rows: unknown[][] = [];
  const positions = new Array<number>(canaryRows.length);
  for (let s = 0; s <= n; s++) {
    for (const j of inOrder(members.get(s) ?? [])) {
      rows.push(work[j]);
      positions[j] = rows.length;
    }
    if (s < n) rows.push([...realRows[s]]);
  }
  const isCanary = rows.map(() => false);
  for (const p of positions) isCanary[p - 1] = true;
  await fillKeys(rows, isCanary, context);
  return { rows, positions, shifts };
}

/**
 * Give each canary its remaining keys once the rows are merged (keys the file is sorted by are given
 * by placeCanaryRows): row numbers renumbered; other keys a fresh value in the column's pattern in a
 * gap between two real values (for date-prefixed numbers within one day, the row's own where it can),
 * never a real row's or one `isTaken` says the target holds, and never after the largest. Unmapped
 * time columns the file is sorted by get a time between the neighbours.
 */
export async function fillKeys(
  rows: unknown[][],
  isCanary: readonly boolean[],
  context: KeyContext,
): Promise<void> {
  const { styles, plan, rng, timeZone, isTaken, inTarget = () => false } = context;
  for (let c = 0; c < styles.length; c++) {
    const style = styles[c];
    if (style.kind === 'key' && style.key!.ordinal && !plan[c].value) {
      if (inTarget(c) && rows.length > 1) throw new StyleError(`column ${style.name}: the table's values ${style.key!.values[0]}…${style.key!.values[style.key!.values.length - 1]} leave no gap for a canary's key; export a part of the table (a --query with a WHERE) or leave the column out`);
      // A row number: every row gets its place's number, as the system that wrote the file would.
      const start = style.key!.values[0];
      rows.forEach((row, r) => (row[c] = style.jsType === 'string' ? keyText(style.key!, start + BigInt(r)) : asJsType((start + BigInt(r)).toString(), style.jsType)));
      continue;
    }
    if (style.kind === 'time' && !plan[c].value && style.monotone) {
      // Between its neighbours in file order.
      for (let r = 0; r < rows.length; r++) {
        if (!isCanary[r]) continue;
        const prev = neighbour(rows, isCanary, r, -1, c, (v) => timeOf(v, style.time!.format, timeZone));
        const next = neighbour(rows, isCanary, r, 1, c, (v) => timeOf(v, style.time!.format, timeZone));
        const [lo, hi] = style.monotone === 'asc' ? [prev, next] : [next, prev];
        const a = lo ?? style.time!.min;
        const b = hi ?? style.time!.max;
        if (rows[r][c] !== null) {
          const t = timeOf(rows[r][c], style.time!.format, timeZone);
          if (t !== null && t >= a && t <= b) continue;
        }
        rows[r][c] = writeTime(timeWithin(a + rng.next() * (b - a), Math.min(a, b), Math.max(a, b), style.time!, rng), style.time!, style.jsType, timeZone);
      }
      continue;
    }
    if (style.kind !== 'key' || plan[c].value) continue;
    const key = style.key!;
    const realSet = new Set(key.values.map(String));
    const given = new Set<string>();
    const canaryRows = rows.flatMap((_, r) => (isCanary[r] && rows[r][c] === null ? [r] : []));
    if (canaryRows.length === 0) continue;
    for (let round = 0; round < 8 && canaryRows.some((r) => rows[r][c] === null); round++) {
      const proposals = new Map<number, bigint>();
      for (const r of canaryRows) {
        if (rows[r][c] !== null) continue;
        const n = proposeKey(key, realSet, given, rng, key.datePrefix ? dayOfRow(rows[r], styles, timeZone) : null);
        if (n !== null) {
          proposals.set(r, n);
          given.add(n.toString());
        }
      }
      if (proposals.size === 0) break;
      const texts = [...proposals.values()].map((n) => keyText(key, n));
      const taken = await isTaken(c, texts);
      for (const [r, n] of proposals) {
        const text = keyText(key, n);
        if (taken.has(text)) continue;
        rows[r][c] = style.jsType === 'string' ? text : asJsType(n.toString(), style.jsType);
      }
    }
    const missing = canaryRows.find((r) => rows[r][c] === null);
    if (missing !== undefined) throw new StyleError(`column ${style.name}: no free value in its sequence for a canary (the real rows' values leave no gap); export fewer canaries or a longer range`);
  }
}

/** yyyyMMdd of the row's first time (in the hospital's zone), for date-prefixed numbers. */
function dayOfRow(row: readonly unknown[], styles: readonly ColumnStyle[], timeZone: string): string | null {
  for (let c = 0; c < styles.length; c++) {
    if (styles[c].kind !== 'time') continue;
    const t = timeOf(row[c], styles[c].time!.format, timeZone);
    if (t !== null) return formatDate(new TZDate(t, timeZone), 'yyyyMMdd');
  }
  return null;
}

function neighbour<T>(rows: readonly unknown[][], isCanary: readonly boolean[], r: number, dir: 1 | -1, c: number, read: (v: unknown) => T | null): T | null {
  for (let i = r + dir; i >= 0 && i < rows.length; i += dir) {
    if (isCanary[i] && rows[i][c] === null) continue;
    const v = read(rows[i][c]);
    if (v !== null) return v;
  }
  return null;
}

function randomBetween(lo: bigint, hi: bigint, rng: Random): bigint {
  // Exclusive of both ends.
  const span = hi - lo - 1n;
  if (span <= 0n) return -1n;
  return lo + 1n + randomBelow(span, rng);
}

/** A key for a column the file is not sorted by: in a gap between two real values (within one day for date-prefixed numbers, the row's own where it has one). */
function proposeKey(key: KeyStyle, realSet: ReadonlySet<string>, given: ReadonlySet<string>, rng: Random, day: string | null): bigint | null {
  const free = (n: bigint) => n >= 0n && !realSet.has(n.toString()) && !given.has(n.toString());
  const sameDay = (a: bigint, b: bigint) => !key.datePrefix || a.toString().padStart(key.digits, '0').slice(0, 8) === b.toString().padStart(key.digits, '0').slice(0, 8);
  const v = key.values;
  const gaps: number[] = [];
  for (let i = 1; i < v.length; i++) if (v[i] - v[i - 1] > 1n && sameDay(v[i - 1], v[i])) gaps.push(i);
  const ownDay = day ? gaps.filter((i) => v[i].toString().padStart(key.digits, '0').startsWith(day)) : [];
  if (ownDay.length) gaps.splice(0, gaps.length, ...ownDay);
  for (let attempt = 0; attempt < 30 && gaps.length; attempt++) {
    const i = rng.pick(gaps);
    const n = randomBetween(v[i - 1], v[i], rng);
    if (free(n)) return n;
  }
  return null;
}
