import type { Family } from '../domain/index.js';
import type { Random } from '../lib/generate/index.js';
import { FIELDS, renderField, type ColumnValue, type Mapping } from '../targetdb/mapping.js';

// Pure planning of an export: which family field each output column holds, how many canaries the
// file gets, and where they go so that they follow the file's own order and do not cluster.

export type FieldValue = Extract<ColumnValue, { type: 'field' }>;

export interface ColumnPlan {
  name: string;
  /** How a canary's value is written in this column; null = copied from a real row of the file. */
  value: FieldValue | null;
}

/** Match output columns to family fields: --map first, then the mapping's own column names, then field names. */
export function planColumns(
  columns: readonly string[],
  mapping: Mapping,
  overrides: Record<string, string> = {},
  sources?: readonly ({ mapped: boolean; value?: ColumnValue } | null)[],
): ColumnPlan[] {
  const byColumn = new Map<string, FieldValue>();
  for (const step of mapping.inserts) {
    for (const { column, value } of step.columns) if (value.type === 'field' && !byColumn.has(column)) byColumn.set(column, value);
  }
  return columns.map((name, i) => {
    const field = overrides[name];
    if (field) return { name, value: { type: 'field', field, kind: FIELDS[field].kind } };
    // A column whose table and column are known holds what the mapping writes there, or no field.
    const source = sources?.[i];
    if (source?.mapped) return { name, value: source.value?.type === 'field' ? source.value : null };
    const mapped = byColumn.get(name);
    if (mapped) return { name, value: mapped };
    if (FIELDS[name]) return { name, value: { type: 'field', field: name, kind: FIELDS[name].kind } };
    return { name, value: null };
  });
}

/** One cell as it is written to a file: instants as ISO strings, null as empty. */
export function cellText(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (value instanceof Date) return value.toISOString();
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

/** A canary's row in the file's columns; columns Cradle cannot fill take a value from a random real row. */
export function canaryRow(plan: readonly ColumnPlan[], family: Family, timeZone: string, realRows: readonly unknown[][], rng: Random): unknown[] {
  const donor = realRows.length ? realRows[rng.int(0, realRows.length - 1)] : [];
  return plan.map((col, i) => (col.value ? renderField(col.value, family, timeZone) : (donor[i] ?? null)));
}

/**
 * How many canaries a file of `rows` real rows gets by default. A slice holding a fraction f of the
 * rows holds a given canary with probability f, so it holds at least one of K with 1 - (1 - f)^K.
 * K = 300 makes that 95% for a 1% slice; the cap of 2% of the file keeps canaries from standing out in
 * small files, where a week, ward or district is a larger slice anyway.
 */
export function defaultCanaryCount(rows: number): number {
  return Math.max(3, Math.min(300, Math.ceil(rows * 0.02)));
}

/** Probability that a slice with a fraction f of the rows holds at least one of k canaries. */
export function sliceCoverage(k: number, f: number): number {
  return 1 - (1 - f) ** k;
}

const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}/;

/** A comparable key: the database gives instants as Dates, canaries carry them as ISO strings. */
function sortable(value: unknown): number | string | null {
  if (value === null || value === undefined || value === '') return null;
  if (value instanceof Date) return value.getTime();
  if (typeof value === 'number') return value;
  const text = String(value);
  return ISO_INSTANT.test(text) && !Number.isNaN(Date.parse(text)) ? Date.parse(text) : text;
}

/**
 * The column the real rows are sorted by (ascending or descending), if any: `preferred` columns (dates
 * and times) first; any other column only in a file long enough that its order is no accident.
 */
export function sortColumn(rows: readonly unknown[][], columns: number, preferred: readonly number[] = []): { index: number; descending: boolean } | null {
  if (rows.length < 3) return null;
  const others = rows.length >= 20 ? Array.from({ length: columns }, (_, c) => c).filter((c) => !preferred.includes(c)) : [];
  for (const c of [...preferred, ...others]) {
    let asc = true;
    let desc = true;
    let distinct = false;
    for (let r = 1; r < rows.length && (asc || desc); r++) {
      const a = sortable(rows[r - 1][c]);
      const b = sortable(rows[r][c]);
      if (a === null || b === null || typeof a !== typeof b) {
        asc = desc = false;
        break;
      }
      if (a < b) desc = false;
      if (a > b) asc = false;
      if (a !== b) distinct = true;
    }
    if (distinct && (asc || desc)) return { index: c, descending: !asc };
  }
  return null;
}

/**
 * A date or time column the rows are nearly sorted by (a list in admission order shows births nearly
 * in order): at least 80% of neighbouring pairs ascending. Canaries go by its running maximum.
 */
export function nearlySortedColumn(rows: readonly unknown[][], preferred: readonly number[]): number | null {
  if (rows.length < 20) return null;
  for (const c of preferred) {
    let up = 0;
    let pairs = 0;
    for (let r = 1; r < rows.length; r++) {
      const a = sortable(rows[r - 1][c]);
      const b = sortable(rows[r][c]);
      if (a === null || b === null || typeof a !== typeof b) continue;
      pairs++;
      if (a <= b) up++;
    }
    if (pairs >= rows.length * 0.9 && up >= pairs * 0.8) return c;
  }
  return null;
}

/**
 * Merge canary rows into the real rows: by the sort column where the file has one (so a canary sits
 * where its own value belongs), at uniformly random places otherwise. Returns the merged rows, the
 * 1-based row number of each canary, its slot (the index of the real row it goes before; the number
 * of real rows: after the last) and the nearly sorted time column it was placed by, if any.
 */
export function placeCanaries(
  realRows: readonly unknown[][],
  canaries: readonly unknown[][],
  rng: Random,
  preferred: readonly number[] = [],
): { rows: unknown[][]; positions: number[]; slots: number[]; near: number | null } {
  const exact = sortColumn(realRows, realRows[0]?.length ?? canaries[0]?.length ?? 0, preferred);
  const near = exact && preferred.includes(exact.index) ? null : nearlySortedColumn(realRows, preferred);
  let sort = exact;
  let sortRows = realRows;
  if (near !== null) {
    // By the running maximum of a nearly sorted time column: every row before a canary is no later than it.
    let max: number | string | null = null;
    sortRows = realRows.map((r) => {
      const v = sortable(r[near]);
      if (v !== null && (max === null || v > max)) max = v;
      const out = [...r];
      out[near] = max;
      return out;
    });
    sort = { index: near, descending: false };
  }
  const slots: number[] = canaries.map((row) => {
    if (!sort) return rng.int(0, realRows.length);
    const key = sortable(row[sort.index]);
    if (key === null) return rng.int(0, realRows.length);
    // First index whose value sorts after the canary's; ties are broken at random among equals.
    let lo = 0;
    let hi = sortRows.length;
    const descending = sort.descending;
    const after = (v: number | string | null) => v !== null && (descending ? v < key : v > key);
    while (lo < hi) {
      const mid = (lo + hi) >> 1;
      if (after(sortable(sortRows[mid][sort.index]))) hi = mid;
      else lo = mid + 1;
    }
    let first = lo;
    while (first > 0 && sortable(sortRows[first - 1][sort.index]) === key) first--;
    return rng.int(first, lo);
  });
  // Canaries that fall between the same two real rows go in the file's order among themselves too.
  const keys = canaries.map((row) => (sort ? sortable(row[sort.index]) : null));
  const byKey = (a: number, b: number) => {
    const [x, y] = [keys[a], keys[b]];
    if (x === null || y === null || x === y) return 0;
    return (x < y) !== !!sort?.descending ? -1 : 1;
  };
  const order = canaries.map((_, i) => i).sort((a, b) => slots[a] - slots[b] || byKey(a, b) || a - b);
  const rows: unknown[][] = [];
  const positions = new Array<number>(canaries.length);
  let next = 0;
  for (let r = 0; r <= realRows.length; r++) {
    while (next < order.length && slots[order[next]] === r) {
      rows.push([...canaries[order[next]]]);
      positions[order[next]] = rows.length;
      next++;
    }
    if (r < realRows.length) rows.push([...realRows[r]]);
  }
  return { rows, positions, slots, near };
}

/** Values of a column in the real rows, with their counts: canaries take wards and districts as the file has them. */
export function valueShares(rows: readonly unknown[][], index: number): [string, number][] {
  const counts = new Map<string, number>();
  for (const row of rows) {
    const v = row[index];
    if (v === null || v === undefined || v === '') continue;
    counts.set(String(v), (counts.get(String(v)) ?? 0) + 1);
  }
  return [...counts.entries()];
}

// Shared-canary codes (docs/codes.md). A code pool holds L = w·p canaries in w blocks of p; codeword m
// is the polynomial f over GF(p) whose coefficients are the base-p digits of m (degree < k), and holds
// canary f(x) of block x for x = 0..w-1: a Reed–Solomon code written as a constant-weight code, as
// Kautz and Singleton built superimposed codes. Two distinct polynomials of degree < k agree on at most
// k - 1 points, so two codewords share at most k - 1 canaries; and since codewords are handed out in
// order of m, the first p^j of them are polynomials of degree < j and share at most j - 1.

export interface CodeSpec {
  /** w: canaries each export holds. */
  weight: number;
  /** p: a prime >= w; the pool has p canaries per block. */
  field: number;
  /** k: codewords are the polynomials of degree < k, p^k of them. */
  degree: number;
}

/** w = 7 over GF(7), quadratics: 49 canaries, 343 codewords; the first 49 share at most one canary, all at most two. */
export const DEFAULT_CODE: CodeSpec = { weight: 7, field: 7, degree: 3 };

function isPrime(n: number): boolean {
  if (!Number.isInteger(n) || n < 2) return false;
  for (let d = 2; d * d <= n; d++) if (n % d === 0) return false;
  return true;
}

export function checkCodeSpec(spec: CodeSpec): void {
  const { weight, field, degree } = spec;
  if (!isPrime(field)) throw new Error(`a code's field size must be a prime, not ${field}`);
  if (!Number.isInteger(weight) || weight < 2 || weight > field) throw new Error(`a code's weight must be a whole number from 2 to its field size ${field}, not ${weight}`);
  if (!Number.isInteger(degree) || degree < 1 || degree >= weight || field ** degree > 2 ** 31) throw new Error(`a code's degree must be from 1 to ${weight - 1} (and p^k < 2^31), not ${degree}`);
}

/** L: canaries in a pool. */
export function codeLength(spec: CodeSpec): number {
  return spec.weight * spec.field;
}

/** How many exports a pool can tell apart: p^k codewords. */
export function codeCapacity(spec: CodeSpec): number {
  return spec.field ** spec.degree;
}

/** At most how many canaries any two of the first `n` codewords share. */
export function codeOverlap(spec: CodeSpec, n: number): number {
  let degree = 0;
  while (degree < spec.degree && spec.field ** degree < n) degree++;
  return Math.max(0, degree - 1);
}

/** The pool positions (0..L-1, one per block) codeword m holds. */
export function codewordPositions(spec: CodeSpec, m: number): number[] {
  const { weight, field: p, degree } = spec;
  if (!Number.isInteger(m) || m < 0 || m >= codeCapacity(spec)) throw new Error(`codeword ${m} is outside 0..${codeCapacity(spec) - 1}`);
  const coefficients: number[] = [];
  for (let i = 0, rest = m; i < degree; i++, rest = Math.floor(rest / p)) coefficients.push(rest % p);
  return Array.from({ length: weight }, (_, x) => {
    let y = 0;
    for (let i = degree - 1; i >= 0; i--) y = (y * x + coefficients[i]) % p; // Horner, mod p
    return x * p + y;
  });
}

/** The first codeword not yet given out. */
export function nextCodeword(spec: CodeSpec, used: readonly number[]): number | null {
  const taken = new Set(used);
  for (let m = 0; m < codeCapacity(spec); m++) if (!taken.has(m)) return m;
  return null;
}

/**
 * Whether a pool's canaries can go into a file without standing out: every one born within the file's
 * births (a day either side) and on a ward the file holds. Null bounds: the file does not show them.
 */
export function poolFitsFile(families: readonly Family[], births: { from: Date; to: Date } | null, wards: ReadonlySet<string> | null): boolean {
  const slack = 86_400_000;
  return families.every((f) => {
    const t = Date.parse(f.baby.birthTime);
    if (births && (t < births.from.getTime() - slack || t > births.to.getTime() + slack)) return false;
    return !wards || wards.has(f.ward);
  });
}
