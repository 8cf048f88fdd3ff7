// The fields a thief compares, as plain numbers and categories: each column's kind, its values
// normalised (times as epoch milliseconds, numbers as numbers, text as text), and the fields derived
// from them (hour of day, weekday, the gap between two times, precision, text shape). Pure code.

export type FieldKind = 'number' | 'time' | 'category' | 'text';

export interface FieldSpec {
  /** `alias.column`, or a derived field's name (`alias.column#hour`, `a.x − b.y`). */
  key: string;
  kind: FieldKind;
  /** A column whose values identify a row (unique): compared for order against times, not as values. */
  identifier?: boolean;
  /** For a derived field: the columns it comes from. */
  from?: string[];
}

export type Row = Record<string, unknown>;

/** The kind of a column from its information_schema data_type (text refined by cardinality later). */
export function kindOfType(dataType: string): FieldKind {
  const t = dataType.toLowerCase();
  if (/^(smallint|integer|bigint|numeric|decimal|real|double precision)$/.test(t)) return 'number';
  if (/^(timestamp|date|time)/.test(t)) return 'time';
  if (t === 'boolean') return 'category';
  return 'text';
}

/** A value as a number (NaN for null or unparsable): times as epoch milliseconds. */
export function numeric(v: unknown): number {
  if (v === null || v === undefined) return NaN;
  if (typeof v === 'number') return v;
  if (typeof v === 'bigint') return Number(v);
  if (typeof v === 'boolean') return v ? 1 : 0;
  if (v instanceof Date) return v.getTime();
  const s = String(v).trim();
  if (s === '') return NaN;
  const n = Number(s);
  if (!Number.isNaN(n)) return n;
  const t = Date.parse(s);
  return Number.isNaN(t) ? NaN : t;
}

/** A value as a category or text (null stays null). */
export function textual(v: unknown): string | null {
  if (v === null || v === undefined) return null;
  if (v instanceof Date) return Number.isNaN(v.getTime()) ? 'Invalid Date' : v.toISOString();
  if (typeof v === 'object') return JSON.stringify(v);
  return String(v);
}

/** A text's shape: digits 9, Latin letters A/a, Han characters 汉, other characters themselves; at most 40. */
export function shapeOf(s: string): string {
  let out = '';
  for (const ch of [...s].slice(0, 40)) {
    if (/\d/.test(ch)) out += '9';
    else if (/[A-Z]/.test(ch)) out += 'A';
    else if (/[a-z]/.test(ch)) out += 'a';
    else if (/\p{Script=Han}/u.test(ch)) out += '汉';
    else out += ch;
  }
  return out;
}

/** How finely a number was recorded: the largest power of ten (to 1000) it is a multiple of, or "fraction". */
export function numberPrecision(v: number): string {
  if (Number.isNaN(v)) return 'null';
  if (!Number.isInteger(v)) return 'fraction';
  if (v % 1000 === 0) return '1000';
  if (v % 100 === 0) return '100';
  if (v % 10 === 0) return '10';
  return '1';
}

/** How finely a time was recorded: to the hour, minute, second, or below. */
export function timePrecision(ms: number): string {
  if (Number.isNaN(ms)) return 'null';
  if (ms % 1000 !== 0) return 'sub-second';
  if (ms % 60_000 !== 0) return 'second';
  if (ms % 3_600_000 !== 0) return 'minute';
  return 'hour';
}

export const precisionRank: Record<string, number> = { null: NaN, fraction: 0, 'sub-second': 0, '1': 1, second: 1, '10': 2, minute: 2, '100': 3, hour: 3, '1000': 4 };

/** Text columns with few distinct values among the real rows are categories (wards, codes). */
export function refineKind(kind: FieldKind, realValues: readonly unknown[]): FieldKind {
  if (kind !== 'text' && kind !== 'number') return kind;
  const present = realValues.filter((v) => v !== null && v !== undefined);
  const distinct = new Set(present.map((v) => textual(v))).size;
  if (kind === 'number') return distinct <= 12 ? 'category' : 'number';
  return distinct <= Math.max(30, present.length * 0.02) ? 'category' : 'text';
}

const HOUR_MS = 3_600_000;

/**
 * Derived fields added to every row: each time's hour of day and weekday (of the instant as read,
 * the same reading for canaries and real rows), and the gap in hours between every two times (a stay,
 * a record made hours after the birth) among the first `maxTimes` time columns.
 */
export function deriveFields(specs: readonly FieldSpec[], rows: Row[], maxTimes = 6): FieldSpec[] {
  const times = specs.filter((s) => s.kind === 'time').slice(0, maxTimes);
  const out: FieldSpec[] = [];
  for (const t of times) {
    out.push({ key: `${t.key}#hour`, kind: 'category', from: [t.key] }, { key: `${t.key}#weekday`, kind: 'category', from: [t.key] });
  }
  for (let i = 0; i < times.length; i++) {
    for (let j = i + 1; j < times.length; j++) out.push({ key: `${times[j].key} − ${times[i].key}`, kind: 'number', from: [times[j].key, times[i].key] });
  }
  for (const row of rows) {
    for (const t of times) {
      const ms = numeric(row[t.key]);
      const d = new Date(ms);
      row[`${t.key}#hour`] = Number.isNaN(ms) ? null : d.getUTCHours();
      row[`${t.key}#weekday`] = Number.isNaN(ms) ? null : d.getUTCDay();
    }
    for (let i = 0; i < times.length; i++) {
      for (let j = i + 1; j < times.length; j++) {
        const gap = (numeric(row[times[j].key]) - numeric(row[times[i].key])) / HOUR_MS;
        row[`${times[j].key} − ${times[i].key}`] = Number.isNaN(gap) ? null : Math.round(gap * 100) / 100;
      }
    }
  }
  return out;
}
