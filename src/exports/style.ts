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

/**
 * Give each canary its keys once the rows are merged: a fresh value in the column's pattern, within
 * its sequence (between the real neighbours where the file is sorted by it, else in a gap between two
 * real values, for date-prefixed numbers within one day), never a real row's or one `isTaken` says the
 * target holds. Unmapped time columns the file is sorted by get a time between the neighbours too.
 */
export async function fillKeys(
  rows: unknown[][],
  isCanary: readonly boolean[],
  styles: readonly ColumnStyle[],
  plan: readonly ColumnPlan[],
  rng: Random,
  timeZone: string,
  isTaken: (column: number, candidates: string[]) => Promise<Set<string>>,
  /** Whether a column is a key of the target's table (never renumbered). */
  inTarget: (column: number) => boolean = () => false,
): Promise<void> {
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
        rows[r][c] = writeTime(atPrecision(a + rng.next() * (b - a), style.time!, rng), style.time!, style.jsType, timeZone);
      }
      continue;
    }
    if (style.kind !== 'key' || plan[c].value) continue;
    const key = style.key!;
    const realSet = new Set(key.values.map(String));
    const given = new Set<string>();
    const canaryRows = rows.flatMap((_, r) => (isCanary[r] ? [r] : []));
    for (let round = 0; round < 8 && canaryRows.some((r) => rows[r][c] === null); round++) {
      const proposals = new Map<number, bigint>();
      for (const r of canaryRows) {
        if (rows[r][c] !== null) continue;
        const n = proposeKey(rows, isCanary, r, c, style, realSet, given, rng, key.datePrefix ? dayOfRow(rows[r], styles, timeZone) : null);
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
  const pick = span > 1_000_000n ? BigInt(Math.floor(rng.next() * 1_000_000)) * (span / 1_000_000n) : BigInt(rng.int(0, Number(span) - 1));
  return lo + 1n + pick;
}

function proposeKey(
  rows: readonly unknown[][],
  isCanary: readonly boolean[],
  r: number,
  c: number,
  style: ColumnStyle,
  realSet: ReadonlySet<string>,
  given: ReadonlySet<string>,
  rng: Random,
  day: string | null,
): bigint | null {
  const key = style.key!;
  const free = (n: bigint) => n >= 0n && !realSet.has(n.toString()) && !given.has(n.toString());
  const sameDay = (a: bigint, b: bigint) => !key.datePrefix || a.toString().padStart(key.digits, '0').slice(0, 8) === b.toString().padStart(key.digits, '0').slice(0, 8);
  if (style.monotone) {
    const read = (v: unknown) => keyNumber(style, v);
    const prev = neighbour(rows, isCanary, r, -1, c, read);
    const next = neighbour(rows, isCanary, r, 1, c, read);
    const [lo, hi] = style.monotone === 'asc' ? [prev, next] : [next, prev];
    if (lo !== null && hi !== null) {
      if (key.datePrefix && !sameDay(lo, hi)) {
        // Neighbours on two days: the next number of the earlier day or one before the later's, on the row's own day where it says.
        const near = [lo + 1n, lo + 2n, lo + 3n, hi - 1n, hi - 2n].filter((n) => n > lo && n < hi && free(n) && (sameDay(n, lo) || sameDay(n, hi)));
        const onDay = day ? near.filter((n) => n.toString().padStart(key.digits, '0').startsWith(day)) : [];
        return onDay.length ? rng.pick(onDay) : near.length ? rng.pick(near) : null;
      }
      for (let i = 0; i < 20; i++) {
        const n = randomBetween(lo, hi, rng);
        if (n > lo && free(n) && (sameDay(n, lo) || sameDay(n, hi))) return n;
      }
      return null;
    }
  }
  // A gap between two real values of the sequence (within one day for date-prefixed numbers).
  const v = key.values;
  const gaps: number[] = [];
  for (let i = 1; i < v.length; i++) if (v[i] - v[i - 1] > 1n && sameDay(v[i - 1], v[i])) gaps.push(i);
  // Date-prefixed numbers: a gap on the row's own day where there is one.
  const ownDay = day ? gaps.filter((i) => v[i].toString().padStart(key.digits, '0').startsWith(day)) : [];
  if (ownDay.length) gaps.splice(0, gaps.length, ...ownDay);
  for (let attempt = 0; attempt < 30 && gaps.length; attempt++) {
    const i = rng.pick(gaps);
    const n = randomBetween(v[i - 1], v[i], rng);
    if (free(n)) return n;
  }
  return null;
}
