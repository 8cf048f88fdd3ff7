// An independent thief: given only a dump (the joined rows of the target's tables as `SELECT *` returns
// them, no vault) it builds the features a thief would and tries to tell canaries from real rows. The set
// of canary row ids is used for scoring only. Generic features come from the dump's columns by type
// (frequency of values and of their shapes, characters, prefixes, precision, nulls, key and time order,
// differences between times, categories); the regional extras (ID-card checks) apply to any column that
// holds 18-character ID numbers. Everything but dumpTables is pure.
import type { ReadOnlyQueryable } from '../../src/db/index.js';

export type DumpRow = Record<string, unknown>;

export interface Dump {
  /** Column names as "TABLE.COLUMN". */
  columns: string[];
  rows: DumpRow[];
}

export interface DumpTable {
  table: string;
  schema?: string;
  /** LEFT JOIN this table on its column = an earlier table's "TABLE.COLUMN". */
  on?: [string, string];
}

const qi = (s: string) => `"${s.replace(/"/g, '""')}"`;

/** SELECT * of the tables, joined, one row per row of the first table, columns prefixed by table name. */
export async function dumpTables(db: ReadOnlyQueryable, tables: DumpTable[]): Promise<Dump> {
  const alias = (i: number) => `t${i}`;
  const from = tables.map((t, i) => {
    const name = `${t.schema ? `${qi(t.schema)}.` : ''}${qi(t.table)}`;
    if (i === 0 || !t.on) return `${name} ${alias(i)}`;
    const [table, column] = [t.on[1].slice(0, t.on[1].indexOf('.')), t.on[1].slice(t.on[1].indexOf('.') + 1)];
    const j = tables.findIndex((x) => x.table === table);
    return `LEFT JOIN ${name} ${alias(i)} ON ${alias(i)}.${qi(t.on[0])} = ${alias(j)}.${qi(column)}`;
  });
  const { rows } = await db.query<Record<string, Record<string, unknown> | null>>(`SELECT ${tables.map((_, i) => `to_jsonb(${alias(i)}) AS ${alias(i)}`).join(', ')} FROM ${from.join(' ')}`);
  const columns = new Set<string>();
  const out = rows.map((r) => {
    const row: DumpRow = {};
    tables.forEach((t, i) => {
      for (const [k, v] of Object.entries(r[alias(i)] ?? {})) {
        columns.add(`${t.table}.${k}`);
        row[`${t.table}.${k}`] = v;
      }
    });
    return row;
  });
  for (const row of out) for (const c of columns) if (!(c in row)) row[c] = null;
  return { columns: [...columns], rows: out };
}

// ---------- statistics ----------

/** ROC AUC (Mann-Whitney, ties count half): the chance a random positive scores above a random negative. */
export function rocAuc(scores: readonly number[], labels: readonly boolean[]): number {
  const idx = scores.map((_, i) => i).sort((a, b) => scores[a] - scores[b]);
  let rankSumPos = 0;
  let pos = 0;
  for (let i = 0; i < idx.length; ) {
    let j = i;
    while (j + 1 < idx.length && scores[idx[j + 1]] === scores[idx[i]]) j++;
    const rank = (i + j) / 2 + 1;
    for (let k = i; k <= j; k++)
      if (labels[idx[k]]) {
        rankSumPos += rank;
        pos++;
      }
    i = j + 1;
  }
  const neg = scores.length - pos;
  if (!pos || !neg) return NaN;
  return (rankSumPos - (pos * (pos + 1)) / 2) / (pos * neg);
}

/** Seeded uniform [0,1) (mulberry32), for folds and splits. */
export function uniform(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

/** Stratified k folds: fold index per row. */
export function stratifiedFolds(labels: readonly boolean[], k: number, seed = 1): number[] {
  const rand = uniform(seed);
  const fold = new Array<number>(labels.length);
  for (const cls of [true, false]) {
    const idx = labels.map((l, i) => (l === cls ? i : -1)).filter((i) => i >= 0);
    for (let i = idx.length - 1; i > 0; i--) {
      const j = Math.floor(rand() * (i + 1));
      [idx[i], idx[j]] = [idx[j], idx[i]];
    }
    idx.forEach((row, n) => (fold[row] = n % k));
  }
  return fold;
}

// ---------- features ----------

type Kind = 'number' | 'time' | 'date' | 'text';
const TIME_RE = /^\d{4}-\d{2}-\d{2}[T ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?/;
const DATE_RE = /^\d{4}-\d{2}-\d{2}$/;
const CJK = /[\u3400-\u9fff]/;

export function columnKind(values: readonly unknown[]): Kind {
  const present = values.filter((v) => v !== null && v !== undefined && v !== '');
  if (!present.length) return 'text';
  if (present.every((v) => typeof v === 'number' || (typeof v === 'string' && /^-?\d+(\.\d+)?$/.test(v) && v.length < 10))) return 'number';
  if (present.every((v) => v instanceof Date || (typeof v === 'string' && TIME_RE.test(v)))) return 'time';
  if (present.every((v) => typeof v === 'string' && DATE_RE.test(v))) return 'date';
  return 'text';
}

function toMs(v: unknown): number {
  if (v === null || v === undefined || v === '') return NaN;
  if (v instanceof Date) return v.getTime();
  const s = String(v);
  return Date.parse(s.length >= 19 ? `${s.slice(0, 10)}T${s.slice(11, 19)}Z` : `${s.slice(0, 10)}T00:00:00Z`);
}

const isNull = (v: unknown) => v === null || v === undefined || v === '';

/** Character class shape of a value: runs of digits, latin letters and CJK compressed (9, a, H). */
export function shape(s: string): string {
  return s.replace(/\d+/g, '9').replace(/[A-Za-z]+/g, 'a').replace(/[\u3400-\u9fff]+/g, 'H');
}

/** Address-like template: digit runs as #, characters kept only when they are the column's frequent structure words. */
export function skeleton(s: string, keep: Set<string>): string {
  let out = '';
  for (const ch of s.replace(/\d+/g, '#')) if (ch === '#' || ch === '-' || keep.has(ch)) out += ch;
  return out;
}

function counter<T>(xs: Iterable<T>): Map<T, number> {
  const m = new Map<T, number>();
  for (const x of xs) m.set(x, (m.get(x) ?? 0) + 1);
  return m;
}

function ranks(values: readonly number[]): number[] {
  const idx = values.map((_, i) => i).filter((i) => !Number.isNaN(values[i])).sort((a, b) => values[a] - values[b]);
  const r = new Array<number>(values.length).fill(NaN);
  idx.forEach((row, k) => (r[row] = k / Math.max(1, idx.length - 1)));
  return r;
}

/** How the unsupervised score reads a feature: a log count (rarer = more suspicious), or by its empirical rarity. */
export type FeatureType = 'logcount' | 'value';

export interface FeatureMatrix {
  names: string[];
  types: FeatureType[];
  /** Column-major: values[f][row]; NaN = missing. */
  values: Float64Array[];
  rows: number;
}

/** Every feature a thief builds from the dump's columns alone. */
export function buildFeatures(dump: Dump): FeatureMatrix {
  const n = dump.rows.length;
  const names: string[] = [];
  const types: FeatureType[] = [];
  const values: Float64Array[] = [];
  const add = (name: string, type: FeatureType, f: (i: number) => number) => {
    const v = new Float64Array(n);
    for (let i = 0; i < n; i++) v[i] = f(i);
    // constant features carry nothing
    let varies = false;
    for (let i = 1; i < n && !varies; i++) if (!(v[i] === v[0] || (Number.isNaN(v[i]) && Number.isNaN(v[0])))) varies = true;
    if (!varies) return;
    names.push(name);
    types.push(type);
    values.push(v);
  };
  const logCount = <T>(keys: readonly T[]) => {
    const c = counter(keys);
    return (i: number) => (keys[i] === undefined || keys[i] === null ? NaN : Math.log(c.get(keys[i])!));
  };

  const col = (c: string) => dump.rows.map((r) => r[c]);
  const kinds = new Map(dump.columns.map((c) => [c, columnKind(col(c))]));
  const times = dump.columns.filter((c) => kinds.get(c) === 'time' || kinds.get(c) === 'date');
  const ms = new Map(times.map((c) => [c, col(c).map(toMs)]));
  const dumpMax = Math.max(...[...ms.values()].flat().filter((x) => !Number.isNaN(x)));

  for (const c of dump.columns) {
    const v = col(c);
    const kind = kinds.get(c)!;
    add(`${c}:null`, 'value', (i) => (isNull(v[i]) ? 1 : 0));
    if (kind === 'number') {
      const x = v.map((y) => (isNull(y) ? NaN : Number(y)));
      add(`${c}:value`, 'value', (i) => x[i]);
      add(`${c}:mod10`, 'value', (i) => (Number.isNaN(x[i]) ? NaN : x[i] % 10 === 0 ? 1 : 0));
      add(`${c}:mod100`, 'value', (i) => (Number.isNaN(x[i]) ? NaN : x[i] % 100 === 0 ? 1 : 0));
      add(`${c}:freq`, 'logcount', logCount(v.map((y) => (isNull(y) ? null : String(y)))));
    } else if (kind === 'time' || kind === 'date') {
      const t = ms.get(c)!;
      add(`${c}:freq`, 'logcount', logCount(v.map((y) => (isNull(y) ? null : String(y)))));
      if (kind === 'time') {
        add(`${c}:sec0`, 'value', (i) => (Number.isNaN(t[i]) ? NaN : t[i] % 60_000 === 0 ? 1 : 0));
        add(`${c}:min0`, 'value', (i) => (Number.isNaN(t[i]) ? NaN : t[i] % 3_600_000 === 0 ? 1 : 0));
        add(`${c}:hour`, 'value', (i) => (Number.isNaN(t[i]) ? NaN : (t[i] % 86_400_000) / 3_600_000));
        add(`${c}:weekday`, 'value', (i) => (Number.isNaN(t[i]) ? NaN : new Date(t[i]).getUTCDay()));
      }
      // never filled although the row's other times are long past
      add(`${c}:nullSince`, 'value', (i) => {
        if (!Number.isNaN(t[i])) return -1;
        let latest = -Infinity;
        for (const o of times) if (o !== c && !Number.isNaN(ms.get(o)![i])) latest = Math.max(latest, ms.get(o)![i]);
        return latest === -Infinity ? NaN : (dumpMax - latest) / 86_400_000;
      });
    } else {
      const s = v.map((y) => (isNull(y) ? null : typeof y === 'string' ? y : JSON.stringify(y)));
      const present = s.filter((y): y is string => y !== null);
      const distinct = new Set(present);
      add(`${c}:freq`, 'logcount', logCount(s));
      add(`${c}:len`, 'value', (i) => (s[i] === null ? NaN : [...s[i]!].length));
      add(`${c}:shape`, 'logcount', logCount(s.map((y) => (y === null ? null : shape(y)))));
      if (distinct.size <= 12) for (const val of distinct) add(`${c}=${val}`, 'value', (i) => (s[i] === val ? 1 : 0));
      const cjk = present.filter((y) => CJK.test(y)).length > present.length / 2;
      if (cjk) {
        const first = s.map((y) => (y === null ? null : [...y][0]));
        add(`${c}:first`, 'logcount', logCount(first));
        const rest = s.map((y) => (y === null ? null : [...y].slice(1).join('')));
        add(`${c}:rest`, 'logcount', logCount(rest));
        const chars = counter(present.flatMap((y) => [...y].slice(1)));
        add(`${c}:restChars`, 'logcount', (i) => {
          const cs = s[i] === null ? [] : [...s[i]!].slice(1);
          return cs.length ? cs.reduce((a, ch) => a + Math.log(chars.get(ch)!), 0) / cs.length : NaN;
        });
        add(`${c}:redup`, 'value', (i) => {
          const cs = s[i] === null ? [] : [...s[i]!];
          return cs.length >= 3 ? (cs[cs.length - 1] === cs[cs.length - 2] ? 1 : 0) : NaN;
        });
        for (const k of [2, 3, 6]) add(`${c}:prefix${k}`, 'logcount', logCount(s.map((y) => (y === null || [...y].length <= k + 1 ? null : [...y].slice(0, k).join('')))));
        // structure words: characters present in at least 15 % of the values
        const docFreq = counter(present.flatMap((y) => [...new Set(y)]));
        const keep = new Set([...docFreq].filter(([ch, k]) => k >= 0.15 * present.length && CJK.test(ch)).map(([ch]) => ch));
        if (keep.size) {
          add(`${c}:skeleton`, 'logcount', logCount(s.map((y) => (y === null ? null : skeleton(y, keep)))));
          // vocabulary between structure words (estate, community, village names)
          const words = s.map((y) => (y === null ? [] : y.split(/[\d#-]+/).flatMap((part) => part.split(new RegExp(`(?<=[${[...keep].join('')}])`))).filter((w) => w.length >= 2)));
          const wc = counter(words.flat());
          add(`${c}:words`, 'logcount', (i) => (words[i].length ? Math.min(...words[i].map((w) => Math.log(wc.get(w)!))) : NaN));
        }
      }
      const digits = s.map((y) => (y === null ? null : y.replace(/\D/g, '')));
      if (present.length && digits.filter((d) => d && d.length >= 7).length > present.length / 2) {
        add(`${c}:digits7`, 'logcount', logCount(digits.map((d) => (d && d.length >= 7 ? d.slice(0, 7) : null))));
        add(`${c}:digits3`, 'logcount', logCount(digits.map((d) => (d && d.length >= 7 ? d.slice(0, 3) : null))));
        add(`${c}:digitsLen`, 'value', (i) => (digits[i] === null ? NaN : digits[i]!.length));
      }
      if (present.some((y) => y.includes('@'))) add(`${c}:domain`, 'logcount', logCount(s.map((y) => (y && y.includes('@') ? y.slice(y.indexOf('@') + 1).toLowerCase() : null))));
      if (present.filter((y) => /^\d{17}[\dXx]$/.test(y)).length > present.length / 2) {
        // regional extra: ID-card numbers (check digit, birth date against the dump's dates, region code)
        add(`${c}:idValid`, 'value', (i) => (s[i] && /^\d{17}[\dXx]$/.test(s[i]!) ? (idCheck(s[i]!) ? 1 : 0) : NaN));
        add(`${c}:region`, 'logcount', logCount(s.map((y) => (y ? y.slice(0, 6) : null))));
        const dates = dump.columns.filter((d) => kinds.get(d) === 'date');
        add(`${c}:dateMatch`, 'value', (i) => (s[i] ? (dates.some((d) => String(dump.rows[i][d] ?? '').replace(/-/g, '') === s[i]!.slice(6, 14)) ? 1 : 0) : NaN));
      }
    }
  }

  // relations between text columns of the row: the same value (a father on the mother's phone), the same
  // first character (a baby with the father's surname); kept where they hold in at least 1 % of rows
  const texts = dump.columns.filter((c) => kinds.get(c) === 'text');
  for (let a = 0; a < texts.length; a++)
    for (let b = a + 1; b < texts.length; b++) {
      const [va, vb] = [col(texts[a]), col(texts[b])];
      const both = (i: number) => typeof va[i] === 'string' && typeof vb[i] === 'string' && va[i] !== '' && vb[i] !== '';
      const same = (i: number) => (both(i) ? (va[i] === vb[i] ? 1 : 0) : NaN);
      const sameFirst = (i: number) => (both(i) && CJK.test(String(va[i])[0]) ? ((va[i] as string)[0] === (vb[i] as string)[0] ? 1 : 0) : NaN);
      const pairName = `${texts[a]}~${texts[b]}`.replace(/~/, '&');
      for (const [suffix, f] of [['same', same], ['sameFirst', sameFirst]] as const) {
        let k = 0;
        for (let i = 0; i < n; i++) if (f(i) === 1) k++;
        if (k >= 0.01 * n && k <= 0.99 * n) add(`${pairName}:${suffix}`, 'value', f);
      }
    }

  // key order: unique integers (ids) against times and against digit codes (admission numbers)
  const keys = dump.columns.filter((c) => kinds.get(c) === 'number' && new Set(col(c).filter((x) => !isNull(x))).size >= 0.95 * col(c).filter((x) => !isNull(x)).length && col(c).filter((x) => !isNull(x)).length > n / 2);
  const codes = dump.columns.filter((c) => kinds.get(c) === 'text' && col(c).filter((x) => typeof x === 'string' && /^[A-Za-z]{0,3}\d{6,15}$/.test(x)).length > n / 2);
  for (const k of keys) {
    const id = col(k).map((x) => (isNull(x) ? NaN : Number(x)));
    const idRank = ranks(id);
    const order = id.map((_, i) => i).filter((i) => !Number.isNaN(id[i])).sort((a, b) => id[a] - id[b]);
    const pos = new Array<number>(n).fill(-1);
    order.forEach((row, p) => (pos[row] = p));
    const table = k.slice(0, k.indexOf('.'));
    for (const t of times.filter((x) => x.startsWith(`${table}.`))) {
      const tm = ms.get(t)!;
      const tRank = ranks(tm);
      add(`${k}~${t}:rankGap`, 'value', (i) => (Number.isNaN(idRank[i]) || Number.isNaN(tRank[i]) ? NaN : idRank[i] - tRank[i]));
      add(`${k}~${t}:neighbourHours`, 'value', (i) => {
        if (pos[i] < 0 || Number.isNaN(tm[i])) return NaN;
        const near: number[] = [];
        for (const d of [-2, -1, 1, 2]) {
          const j = order[pos[i] + d];
          if (j !== undefined && !Number.isNaN(tm[j])) near.push(Math.abs(tm[i] - tm[j]) / 3_600_000);
        }
        near.sort((a, b) => a - b);
        return near.length ? Math.log1p(near[Math.floor((near.length - 1) / 2)]) : NaN;
      });
    }
    for (const c of codes) {
      const num = col(c).map((x) => (typeof x === 'string' && /\d{6,}$/.test(x) ? Number(x.replace(/\D/g, '')) : NaN));
      const cRank = ranks(num);
      add(`${k}~${c}:rankGap`, 'value', (i) => (Number.isNaN(idRank[i]) || Number.isNaN(cRank[i]) ? NaN : idRank[i] - cRank[i]));
      add(`${c}:nextGap`, 'value', (i) => {
        const j = order[pos[i] + 1];
        return pos[i] < 0 || j === undefined || Number.isNaN(num[i]) || Number.isNaN(num[j]) ? NaN : Math.sign(num[j] - num[i]) * Math.log1p(Math.abs(num[j] - num[i]));
      });
    }
  }
  for (const c of codes) {
    const s = col(c).map((x) => (typeof x === 'string' ? x.replace(/\D/g, '') : ''));
    for (const t of times) add(`${c}~${t}:datePrefix`, 'value', (i) => (Number.isNaN(ms.get(t)![i]) ? NaN : s[i].includes(new Date(ms.get(t)![i]).toISOString().slice(0, 10).replace(/-/g, '')) ? 1 : 0));
  }
  // differences between the row's times (stays, labour, bookkeeping delays)
  for (let a = 0; a < times.length; a++)
    for (let b = a + 1; b < times.length; b++) {
      const [ta, tb] = [ms.get(times[a])!, ms.get(times[b])!];
      add(`${times[b]}-${times[a]}:hours`, 'value', (i) => (tb[i] - ta[i]) / 3_600_000);
    }
  return { names, types, values, rows: n };
}

function idCheck(id: string): boolean {
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(id[i]) * w[i];
  return '10X98765432'[sum % 11] === id[17].toUpperCase();
}

// ---------- unsupervised typicality ----------

/**
 * Per row, the summed surprisal over the discrete features (log counts of values, shapes, prefixes and
 * characters; flags and categories): -log of the share of rows that share the row's value, missing
 * values by their share. Continuous features (times, gaps, weights) are left to the classifier: summed
 * in, their noise drowns the rare values a thief looks for first. (Tried and worse on an on-the-minute
 * fake set: the mean over every feature, and standardised surprisals above 2 sd.)
 */
export function typicalityScores(m: FeatureMatrix): number[] {
  const n = m.rows;
  const score = new Array<number>(n).fill(0);
  m.values.forEach((v, f) => {
    const present = [...v].filter((x) => !Number.isNaN(x));
    const valueCount = counter(present);
    if (m.types[f] !== 'logcount' && valueCount.size > 12) return;
    const missS = -Math.log(Math.max(n - present.length, 1) / n);
    const logN = Math.log(n);
    for (let i = 0; i < n; i++) {
      const x = v[i];
      score[i] += Number.isNaN(x) ? missS : m.types[f] === 'logcount' ? logN - x : -Math.log(valueCount.get(x)! / n);
    }
  });
  return score;
}

// ---------- supervised: gradient-boosted trees on binned features ----------

interface Node {
  feature: number;
  bin: number;
  left: Node | number;
  right: Node | number;
}

export interface BoostOptions {
  rounds: number;
  depth: number;
  rate: number;
  minLeaf: number;
  lambda: number;
  bins: number;
}

export const DEFAULT_BOOST: BoostOptions = { rounds: 60, depth: 3, rate: 0.15, minLeaf: 8, lambda: 1, bins: 32 };

/** Quantile bins per feature (bin 0 = missing). */
export function binFeatures(m: FeatureMatrix, bins: number): Uint8Array[] {
  return m.values.map((v) => {
    const present = [...v].filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
    const cuts: number[] = [];
    for (let k = 1; k < bins - 1; k++) {
      const c = present[Math.floor((k * present.length) / (bins - 1))];
      if (c !== undefined && (cuts.length === 0 || c > cuts[cuts.length - 1])) cuts.push(c);
    }
    const out = new Uint8Array(v.length);
    for (let i = 0; i < v.length; i++) {
      if (Number.isNaN(v[i])) continue;
      let lo = 0, hi = cuts.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (cuts[mid] <= v[i]) lo = mid + 1;
        else hi = mid;
      }
      out[i] = lo + 1;
    }
    return out;
  });
}

function predictTree(t: Node | number, binned: Uint8Array[], i: number): number {
  while (typeof t !== 'number') t = binned[t.feature][i] <= t.bin ? t.left : t.right;
  return t;
}

/** Train on `train` rows, return the model's scores for every row, and gain per feature. */
export function boost(binned: Uint8Array[], labels: readonly boolean[], train: readonly number[], opts: BoostOptions = DEFAULT_BOOST): { scores: Float64Array; gain: Float64Array } {
  const n = labels.length;
  const F = binned.length;
  const pos = train.filter((i) => labels[i]).length;
  const base = Math.log(Math.max(pos, 0.5) / Math.max(train.length - pos, 0.5));
  const margin = new Float64Array(n).fill(base);
  const gain = new Float64Array(F);
  const g = new Float64Array(n);
  const h = new Float64Array(n);
  const B = opts.bins + 1;
  const hg = new Float64Array(F * B);
  const hh = new Float64Array(F * B);
  const hc = new Uint32Array(F * B);
  const grow = (rows: number[], depth: number): Node | number => {
    let G = 0, Hs = 0;
    for (const i of rows) {
      G += g[i];
      Hs += h[i];
    }
    const leaf = (-G / (Hs + opts.lambda)) * opts.rate;
    if (depth === 0 || rows.length < 2 * opts.minLeaf) return leaf;
    hg.fill(0);
    hh.fill(0);
    hc.fill(0);
    for (let f = 0; f < F; f++) {
      const b = binned[f];
      const o = f * B;
      for (const i of rows) {
        const k = o + b[i];
        hg[k] += g[i];
        hh[k] += h[i];
        hc[k]++;
      }
    }
    const parent = (G * G) / (Hs + opts.lambda);
    let best = 0, bestF = -1, bestBin = -1;
    for (let f = 0; f < F; f++) {
      let gl = 0, hl = 0, cl = 0;
      const o = f * B;
      for (let k = 0; k < B - 1; k++) {
        gl += hg[o + k];
        hl += hh[o + k];
        cl += hc[o + k];
        const cr = rows.length - cl;
        if (cl < opts.minLeaf || cr < opts.minLeaf) continue;
        const gr = G - gl, hr = Hs - hl;
        const gainHere = (gl * gl) / (hl + opts.lambda) + (gr * gr) / (hr + opts.lambda) - parent;
        if (gainHere > best) {
          best = gainHere;
          bestF = f;
          bestBin = k;
        }
      }
    }
    if (bestF < 0) return leaf;
    gain[bestF] += best;
    const left: number[] = [], right: number[] = [];
    for (const i of rows) (binned[bestF][i] <= bestBin ? left : right).push(i);
    return { feature: bestF, bin: bestBin, left: grow(left, depth - 1), right: grow(right, depth - 1) };
  };
  for (let r = 0; r < opts.rounds; r++) {
    for (const i of train) {
      const p = 1 / (1 + Math.exp(-margin[i]));
      g[i] = p - (labels[i] ? 1 : 0);
      h[i] = Math.max(p * (1 - p), 1e-6);
    }
    const tree = grow([...train], opts.depth);
    for (let i = 0; i < n; i++) margin[i] += predictTree(tree, binned, i);
  }
  return { scores: margin, gain };
}

/** Out-of-fold scores of k-fold stratified cross-validation, and the summed gain per feature. */
export function crossValidate(m: FeatureMatrix, labels: readonly boolean[], k = 5, seed = 1, opts: BoostOptions = DEFAULT_BOOST): { scores: number[]; gain: Float64Array } {
  const binned = binFeatures(m, opts.bins);
  const folds = stratifiedFolds(labels, k, seed);
  const scores = new Array<number>(labels.length).fill(0);
  const gain = new Float64Array(m.values.length);
  for (let f = 0; f < k; f++) {
    const train = folds.map((x, i) => (x === f ? -1 : i)).filter((i) => i >= 0);
    const model = boost(binned, labels, train, opts);
    folds.forEach((x, i) => x === f && (scores[i] = model.scores[i]));
    model.gain.forEach((gn, j) => (gain[j] += gn));
  }
  return { scores, gain };
}

// ---------- the thief's report ----------

export interface ThiefReport {
  rows: number;
  canaries: number;
  /** Unsupervised per-field typicality: AUC of the mean surprisal (canaries expected rarer). */
  typicalityAuc: number;
  /** Gradient-boosted trees, 5-fold stratified cross-validation, out-of-fold AUC. */
  supervisedAuc: number;
  /** Features that separate best alone, the best one per source: AUC oriented so that 0.5 is no signal and 1 is perfect. */
  topUnivariate: { feature: string; auc: number }[];
  /** The classifier trained on one source's features only (a column, "order" for key order, "times" for time differences), best first. */
  bySource: { source: string; auc: number }[];
  /** Features the classifier used most (share of total gain). */
  topGain: { feature: string; share: number }[];
  features: number;
}

export interface ThiefOptions {
  folds?: number;
  seed?: number;
  top?: number;
  boost?: Partial<BoostOptions>;
  /** Also train the classifier on each source alone (default true; costs about one more cross-validation). */
  bySource?: boolean;
}

/** Score a dump: `isCanary(row)` is used for labels (scoring) only, never for features. */
export function thief(dump: Dump, isCanary: (row: DumpRow) => boolean, opts: ThiefOptions = {}): ThiefReport {
  const labels = dump.rows.map(isCanary);
  const m = buildFeatures(dump);
  const top = opts.top ?? 10;
  const typ = typicalityScores(m);
  const cv = crossValidate(m, labels, opts.folds ?? 5, opts.seed ?? 1, { ...DEFAULT_BOOST, ...opts.boost });
  const uni = m.names.map((feature, f) => {
    const v = [...m.values[f]].map((x) => (Number.isNaN(x) ? -1e300 : x));
    const a = rocAuc(v, labels);
    return { feature, auc: Math.max(a, 1 - a) };
  });
  const totalGain = cv.gain.reduce((a, b) => a + b, 0) || 1;
  const groups = new Map<string, number[]>();
  m.names.forEach((name, f) => groups.set(featureSource(name), [...(groups.get(featureSource(name)) ?? []), f]));
  const bySource = opts.bySource === false ? [] : [...groups].map(([source, fs]) => {
    const sub: FeatureMatrix = { names: fs.map((f) => m.names[f]), types: fs.map((f) => m.types[f]), values: fs.map((f) => m.values[f]), rows: m.rows };
    return { source, auc: rocAuc(crossValidate(sub, labels, opts.folds ?? 5, opts.seed ?? 1, { ...DEFAULT_BOOST, rounds: 30, ...opts.boost }).scores, labels) };
  });
  const bestPerSource = new Map<string, { feature: string; auc: number }>();
  for (const u of uni.sort((a, b) => b.auc - a.auc)) if (!bestPerSource.has(featureSource(u.feature))) bestPerSource.set(featureSource(u.feature), u);
  return {
    rows: dump.rows.length,
    canaries: labels.filter(Boolean).length,
    typicalityAuc: rocAuc(typ, labels),
    supervisedAuc: rocAuc(cv.scores, labels),
    topUnivariate: [...bestPerSource.values()].slice(0, top),
    bySource: bySource.sort((a, b) => b.auc - a.auc),
    topGain: m.names.map((feature, f) => ({ feature, share: cv.gain[f] / totalGain })).sort((a, b) => b.share - a.share).slice(0, top),
    features: m.names.length,
  };
}

/** What a feature is computed from: its column, "relations" (between columns), "order" (key order) or "times" (differences between times). */
export function featureSource(feature: string): string {
  if (feature.includes('&')) return 'relations';
  if (feature.includes('~')) return 'order';
  if (feature.endsWith(':hours')) return 'times';
  return feature.split(/[:=]/)[0];
}

/** The report as text lines. */
export function formatThiefReport(r: ThiefReport): string[] {
  return [
    `thief: ${r.rows} rows, ${r.canaries} canaries, ${r.features} features`,
    `  unsupervised typicality ROC AUC  ${r.typicalityAuc.toFixed(3)}`,
    `  supervised (boosted trees, 5-fold CV) ROC AUC  ${r.supervisedAuc.toFixed(3)}`,
    '  classifier on one source alone (AUC):',
    ...r.bySource.map((u) => `    ${u.auc.toFixed(3)}  ${u.source}`),
    '  best single feature per source (AUC):',
    ...r.topUnivariate.map((u) => `    ${u.auc.toFixed(3)}  ${u.feature}`),
    '  classifier gain:',
    ...r.topGain.map((u) => `    ${(100 * u.share).toFixed(1).padStart(5)} %  ${u.feature}`),
  ];
}

// ---------- a second thief: k nearest neighbours ----------

/**
 * A thief of another kind: k nearest neighbours (L1 distance) over every feature rank-scaled to [0, 1]
 * (missing values their own place below 0), out-of-fold ROC AUC of stratified `folds`-fold
 * cross-validation; the score of a row is the share of canaries among its k nearest training rows.
 * Real rows beyond `maxRealPerCanary` times the canaries are left out at random (the AUC does not
 * depend on the classes' ratio) to keep the distances affordable.
 */
export function knnAuc(m: FeatureMatrix, labels: readonly boolean[], opts: { k?: number; folds?: number; seed?: number; maxRealPerCanary?: number } = {}): number {
  const k = opts.k ?? 25;
  const rand = uniform(opts.seed ?? 7);
  const canaries = labels.filter(Boolean).length;
  const keepReal = Math.min(1, ((opts.maxRealPerCanary ?? 4) * canaries) / Math.max(1, labels.length - canaries));
  const rows = labels.map((_, i) => i).filter((i) => labels[i] || rand() < keepReal);
  const y = rows.map((i) => labels[i]);
  const d = m.values.length;
  const n = rows.length;
  // Rank-scaled features, row-major.
  const x = new Float32Array(n * d);
  for (let f = 0; f < d; f++) {
    const col = rows.map((i) => m.values[f][i]);
    const present = col.map((v, r) => [v, r] as const).filter(([v]) => !Number.isNaN(v)).sort((a, b) => a[0] - b[0]);
    const scaled = new Float32Array(n).fill(-0.25);
    let start = 0;
    while (start < present.length) {
      let end = start;
      while (end + 1 < present.length && present[end + 1][0] === present[start][0]) end++;
      const rank = present.length > 1 ? (start + end) / 2 / (present.length - 1) : 0.5;
      for (let j = start; j <= end; j++) scaled[present[j][1]] = rank;
      start = end + 1;
    }
    for (let r = 0; r < n; r++) x[r * d + f] = scaled[r];
  }
  const fold = stratifiedFolds(y, opts.folds ?? 5, opts.seed ?? 7);
  const scores = new Array<number>(n).fill(0);
  const dist = new Float64Array(n);
  for (let r = 0; r < n; r++) {
    const train: number[] = [];
    for (let s = 0; s < n; s++) {
      if (fold[s] === fold[r]) continue;
      let sum = 0;
      for (let f = 0; f < d; f++) sum += Math.abs(x[r * d + f] - x[s * d + f]);
      dist[s] = sum;
      train.push(s);
    }
    train.sort((a, b) => dist[a] - dist[b]);
    const near = train.slice(0, k);
    scores[r] = near.filter((s) => y[s]).length / near.length;
  }
  return rocAuc(scores, y);
}
