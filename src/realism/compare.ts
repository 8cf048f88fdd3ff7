import { aucWithCi } from '../lib/stats/auc.js';
import { crossValidate } from '../lib/stats/boost.js';
import { chiSquareHomogeneity, totalVariation } from '../lib/stats/chisq.js';
import { ksTwoSample } from '../lib/stats/ks.js';
import { numberPrecision, numeric, precisionRank, shapeOf, textual, timePrecision, type FieldSpec, type Row } from './fields.js';

// Canaries against real rows, as a thief holding the table would compare them: per field and per
// pair of dependent fields, the divergence with the test used, and a classifier's cross-validated
// ROC AUC. Everything returned is an aggregate or a field's name: never a value of any row.

export interface TestResult {
  /** What was compared: the values, their shape (text), their length, their precision, or null-or-not. */
  on: 'values' | 'shape' | 'length' | 'precision' | 'nulls';
  test: 'ks' | 'chi-square';
  /** KS D, or the chi-square statistic. */
  statistic: number;
  df?: number;
  p: number;
  /** Total-variation distance of the two distributions (chi-square tests), or KS D. */
  distance: number;
}

export interface FieldReport {
  field: string;
  kind: FieldSpec['kind'];
  derived: boolean;
  /** Unique per row: compared by nulls, shape and length (and by order in the classifier), not by value. */
  identifier: boolean;
  nullRate: { real: number; canary: number };
  tests: TestResult[];
  /** The largest distance of its tests, and the smallest p-value. */
  distance: number;
  p: number;
  /**
   * How common a row's own value is among the real rows: the mean share of real rows holding the
   * canary's value, against the mean for a real row's value among the other real rows; and the share
   * of canaries whose value no real row holds, against the share of real rows whose value no other holds.
   */
  typicality: { canary: number; real: number; canaryUnseen: number; realUnique: number };
}

export interface PairReport {
  fields: [string, string];
  /** Cramér's V of the two among the real rows: how much they depend on each other. */
  dependence: number;
  test: 'chi-square';
  statistic: number;
  df: number;
  p: number;
  distance: number;
}

export interface ClassifierReport {
  model: string;
  folds: number;
  features: number;
  auc: number;
  se: number;
  low: number;
  high: number;
  ci: string;
  /** The features the classifier relied on most, with their share of its gain. */
  topFeatures: { feature: string; share: number }[];
}

export interface Comparison {
  real: number;
  canaries: number;
  fields: FieldReport[];
  pairs: PairReport[];
  classifier: ClassifierReport | null;
  notes: string[];
}

export interface CompareOptions {
  seed: string;
  folds?: number;
  maxPairs?: number;
  rounds?: number;
  /**
   * Compare times as instants too (their distribution over the calendar, and shared values). Off for
   * a sample drafted in one week, which would differ from a year of rows for that reason alone; the
   * time of day, weekday, precision and gaps between times are compared either way.
   */
  absoluteTimes?: boolean;
}

const round = (v: number, places = 4) => (Number.isFinite(v) ? Math.round(v * 10 ** places) / 10 ** places : v);
const mean = (xs: readonly number[]) => (xs.length ? xs.reduce((s, v) => s + v, 0) / xs.length : 0);

function counts(values: readonly (string | null)[], categories: readonly string[]): number[] {
  const index = new Map(categories.map((c, i) => [c, i]));
  const out = new Array<number>(categories.length).fill(0);
  for (const v of values) {
    const i = index.get(v ?? '\u0000null');
    if (i !== undefined) out[i]++;
  }
  return out;
}

function chiTest(on: TestResult['on'], real: readonly (string | null)[], canary: readonly (string | null)[]): TestResult {
  const cats = [...new Set([...real, ...canary].map((v) => v ?? '\u0000null'))];
  const a = counts(real, cats);
  const b = counts(canary, cats);
  const r = chiSquareHomogeneity(a, b);
  return { on, test: 'chi-square', statistic: round(r.statistic), df: r.df, p: r.p, distance: round(totalVariation(a, b)) };
}

function ksTest(on: TestResult['on'], real: readonly number[], canary: readonly number[]): TestResult {
  const r = ksTwoSample(real, canary);
  return { on, test: 'ks', statistic: round(r.d), p: r.p, distance: round(r.d) };
}

function frequencyTable(values: readonly (string | null)[]): Map<string | null, number> {
  const m = new Map<string | null, number>();
  for (const v of values) m.set(v, (m.get(v) ?? 0) + 1);
  return m;
}

function typicality(real: readonly (string | null)[], canary: readonly (string | null)[]): FieldReport['typicality'] {
  const freq = frequencyTable(real);
  const n = real.length;
  const c = canary.map((v) => (freq.get(v) ?? 0) / Math.max(n, 1));
  const r = real.map((v) => ((freq.get(v) ?? 1) - 1) / Math.max(n - 1, 1));
  return {
    canary: round(mean(c)),
    real: round(mean(r)),
    canaryUnseen: round(mean(canary.map((v) => (freq.has(v) ? 0 : 1)))),
    realUnique: round(mean(real.map((v) => (freq.get(v) === 1 ? 1 : 0)))),
  };
}

function fieldReport(spec: FieldSpec, real: readonly Row[], canaries: readonly Row[], absoluteTimes: boolean): FieldReport {
  const rv = real.map((r) => r[spec.key]);
  const cv = canaries.map((r) => r[spec.key]);
  const isNull = (v: unknown) => v === null || v === undefined;
  const tests: TestResult[] = [];
  const nullRate = { real: round(mean(rv.map((v) => (isNull(v) ? 1 : 0)))), canary: round(mean(cv.map((v) => (isNull(v) ? 1 : 0)))) };
  const rText = rv.map(textual);
  const cText = cv.map(textual);
  const present = <T>(xs: T[]) => xs.filter((v) => !isNull(v));
  if (spec.identifier) {
    // Unique by nature: its nulls and its form, not its values (its order against time is the classifier's).
    tests.push(chiTest('nulls', rv.map((v) => (isNull(v) ? 'null' : 'value')), cv.map((v) => (isNull(v) ? 'null' : 'value'))));
    const rs = present(rText) as string[];
    const cs = present(cText) as string[];
    tests.push(chiTest('shape', rs.map(shapeOf), cs.map(shapeOf)));
    tests.push(ksTest('length', rs.map((s) => [...s].length), cs.map((s) => [...s].length)));
  } else if (spec.kind === 'category') {
    tests.push(chiTest('values', rText, cText));
  } else {
    tests.push(chiTest('nulls', rv.map((v) => (isNull(v) ? 'null' : 'value')), cv.map((v) => (isNull(v) ? 'null' : 'value'))));
    if (spec.kind === 'number' || spec.kind === 'time') {
      const rn = present(rv).map(numeric);
      const cn = present(cv).map(numeric);
      if (spec.kind === 'number' || absoluteTimes) tests.push(ksTest('values', rn, cn));
      const precision = spec.kind === 'time' ? timePrecision : numberPrecision;
      tests.push(chiTest('precision', rn.map(precision), cn.map(precision)));
    } else {
      const rs = present(rText) as string[];
      const cs = present(cText) as string[];
      tests.push(chiTest('shape', rs.map(shapeOf), cs.map(shapeOf)));
      tests.push(ksTest('length', rs.map((s) => [...s].length), cs.map((s) => [...s].length)));
    }
  }
  const informative = tests.filter((t) => t.df !== 0);
  return {
    field: spec.key,
    kind: spec.kind,
    derived: !!spec.from,
    identifier: !!spec.identifier,
    nullRate,
    tests,
    distance: round(Math.max(0, ...informative.map((t) => t.distance))),
    p: Math.min(1, ...informative.map((t) => t.p)),
    typicality: spec.identifier || (spec.kind === 'time' && !absoluteTimes) ? { canary: NaN, real: NaN, canaryUnseen: NaN, realUnique: NaN } : typicality(rText, cText),
  };
}

/** A field's value as one of at most 6 bins for the pair tables: top categories, or real-row quintiles. */
function binner(spec: FieldSpec, real: readonly Row[]): ((v: unknown) => string) | null {
  if (spec.identifier || spec.kind === 'text') return null;
  if (spec.kind === 'category') {
    const freq = [...frequencyTable(real.map((r) => textual(r[spec.key]))).entries()].filter(([v]) => v !== null).sort((a, b) => b[1] - a[1]);
    if (freq.length < 2) return null;
    const top = new Map(freq.slice(0, 5).map(([v], i) => [v, `c${i}`]));
    return (v) => (v === null || v === undefined ? 'null' : (top.get(textual(v)) ?? 'other'));
  }
  const xs = real.map((r) => numeric(r[spec.key])).filter((v) => !Number.isNaN(v)).sort((a, b) => a - b);
  if (xs.length < 10) return null;
  const cuts = [...new Set([1, 2, 3, 4].map((q) => xs[Math.floor((q * xs.length) / 5)]))];
  if (cuts.length < 1 || xs[0] === xs[xs.length - 1]) return null;
  return (v) => {
    const x = numeric(v);
    if (Number.isNaN(x)) return 'null';
    let b = 0;
    while (b < cuts.length && x >= cuts[b]) b++;
    return `q${b}`;
  };
}

function cramersV(a: readonly string[], b: readonly string[]): number {
  const ai = [...new Set(a)];
  const bi = [...new Set(b)];
  if (ai.length < 2 || bi.length < 2) return 0;
  const n = a.length;
  const table = new Map<string, number>();
  const ra = frequencyTable(a);
  const rb = frequencyTable(b);
  for (let i = 0; i < n; i++) table.set(`${a[i]}\u0000${b[i]}`, (table.get(`${a[i]}\u0000${b[i]}`) ?? 0) + 1);
  let chi = 0;
  for (const x of ai) {
    for (const y of bi) {
      const e = ((ra.get(x) ?? 0) * (rb.get(y) ?? 0)) / n;
      chi += ((table.get(`${x}\u0000${y}`) ?? 0) - e) ** 2 / e;
    }
  }
  return Math.sqrt(chi / (n * (Math.min(ai.length, bi.length) - 1)));
}

function pairReports(specs: readonly FieldSpec[], real: readonly Row[], canaries: readonly Row[], maxPairs: number): PairReport[] {
  const binned = specs.flatMap((s) => {
    const f = binner(s, real);
    return f ? [{ spec: s, real: real.map((r) => f(r[s.key])), canary: canaries.map((r) => f(r[s.key])) }] : [];
  });
  const candidates: { i: number; j: number; v: number }[] = [];
  for (let i = 0; i < binned.length; i++) {
    for (let j = i + 1; j < binned.length; j++) {
      const [a, b] = [binned[i].spec, binned[j].spec];
      // A derived field against its own source says nothing new.
      if (a.from?.includes(b.key) || b.from?.includes(a.key) || (a.from && b.from && a.from.some((k) => b.from!.includes(k)))) continue;
      const v = cramersV(binned[i].real, binned[j].real);
      if (v >= 0.1 && v < 0.95) candidates.push({ i, j, v });
    }
  }
  candidates.sort((x, y) => y.v - x.v);
  const reports: PairReport[] = candidates.slice(0, maxPairs).map(({ i, j, v }) => {
    const join = (x: { real: string[]; canary: string[] }, y: { real: string[]; canary: string[] }, side: 'real' | 'canary') => x[side].map((s, k) => `${s}|${y[side][k]}`);
    const t = chiTest('values', join(binned[i], binned[j], 'real'), join(binned[i], binned[j], 'canary'));
    return { fields: [binned[i].spec.key, binned[j].spec.key], dependence: round(v, 3), test: 'chi-square', statistic: t.statistic, df: t.df ?? 0, p: t.p, distance: t.distance };
  });
  return reports.sort((a, b) => a.p - b.p || b.distance - a.distance);
}

interface FeatureColumn {
  name: string;
  values: number[];
}

/** An identifier as a number to order by: itself, or the digits of a text one (ZY0001234 → 1234). */
export function identifierNumber(v: unknown): number {
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v);
  const t = textual(v);
  const digits = t?.replace(/\D/g, '').slice(-15) ?? '';
  return digits ? Number(digits) : NaN;
}

/** Leave-one-out frequency of each row's key among all rows (real and canary alike, as a thief sees the dump). */
function looFrequency(keys: readonly (string | null)[]): number[] {
  const freq = frequencyTable(keys);
  return keys.map((k) => ((freq.get(k) ?? 1) - 1) / Math.max(keys.length - 1, 1));
}

/**
 * The classifier's features for every row (real then canary): per field a null flag and, by kind, the
 * value, its precision, its time of day, its frequency in the dump; for text its length, shape, first
 * and last characters, prefix, repeated last character; and each identifier's order against each
 * time (how far a row's time is from its id-neighbours').
 */
export function engineerFeatures(specs: readonly FieldSpec[], rows: readonly Row[], absoluteTimes = true): FeatureColumn[] {
  const out: FeatureColumn[] = [];
  const add = (name: string, values: number[]) => {
    const present = values.filter((v) => !Number.isNaN(v));
    if (present.length === 0 || (present.length === values.length && present.every((v) => v === present[0]))) return; // constant: no signal
    out.push({ name, values });
  };
  for (const s of specs) {
    const raw = rows.map((r) => r[s.key]);
    const txt = raw.map(textual);
    add(`${s.key}:null`, raw.map((v) => (v === null || v === undefined ? 1 : 0)));
    if (s.identifier) {
      // Unique by nature: its value says nothing, its form and its order (below) may.
      if (s.kind === 'text') {
        add(`${s.key}:length`, txt.map((t) => (t === null ? NaN : [...t].length)));
        add(`${s.key}:shape frequency`, looFrequency(txt.map((t) => (t === null ? null : shapeOf(t)))));
        add(`${s.key}:prefix frequency`, looFrequency(txt.map((t) => (t === null ? null : [...t].slice(0, 4).join('')))));
      }
      continue;
    }
    if (s.kind === 'number' || s.kind === 'time') {
      const xs = raw.map(numeric);
      const absolute = s.kind === 'number' || absoluteTimes;
      if (absolute) add(`${s.key}:value`, xs);
      add(`${s.key}:precision`, xs.map((x) => precisionRank[s.kind === 'time' ? timePrecision(x) : numberPrecision(x)]));
      if (absolute) add(`${s.key}:frequency`, looFrequency(txt));
      if (s.kind === 'number') add(`${s.key}:last digit`, xs.map((x) => (Number.isNaN(x) ? NaN : Math.abs(Math.round(x)) % 10)));
      if (s.kind === 'time') {
        add(`${s.key}:minute`, xs.map((x) => (Number.isNaN(x) ? NaN : new Date(x).getUTCMinutes())));
        add(`${s.key}:second`, xs.map((x) => (Number.isNaN(x) ? NaN : new Date(x).getUTCSeconds())));
      }
    } else if (s.kind === 'category') {
      add(`${s.key}:frequency`, looFrequency(txt));
    } else {
      const strs = txt.map((t) => (t === null ? null : [...t]));
      const part = (f: (cs: string[]) => string) => looFrequency(strs.map((cs) => (cs === null ? null : f(cs))));
      add(`${s.key}:frequency`, looFrequency(txt));
      add(`${s.key}:length`, strs.map((cs) => (cs === null ? NaN : cs.length)));
      add(`${s.key}:shape frequency`, part((cs) => shapeOf(cs.join(''))));
      add(`${s.key}:first character frequency`, part((cs) => cs[0] ?? ''));
      add(`${s.key}:last character frequency`, part((cs) => cs[cs.length - 1] ?? ''));
      add(`${s.key}:prefix frequency`, part((cs) => cs.slice(0, 3).join('')));
      add(`${s.key}:repeated last character`, strs.map((cs) => (cs === null || cs.length < 2 ? NaN : cs[cs.length - 1] === cs[cs.length - 2] ? 1 : 0)));
    }
  }
  // Structure: where a row's identifier puts it among the others against when its times say it happened.
  const ids = specs.filter((s) => s.identifier).slice(0, 3);
  const times = specs.filter((s) => s.kind === 'time' && !s.from).slice(0, 4);
  for (const id of ids) {
    const key = rows.map((r) => identifierNumber(r[id.key]));
    const order = rows.map((_, i) => i).filter((i) => !Number.isNaN(key[i])).sort((a, b) => key[a] - key[b]);
    add(`${id.key}:rank`, (() => {
      const rank = new Array<number>(rows.length).fill(NaN);
      order.forEach((row, k) => (rank[row] = k / Math.max(order.length - 1, 1)));
      return rank;
    })());
    for (const t of times) {
      const tv = rows.map((r) => numeric(r[t.key]));
      const gap = new Array<number>(rows.length).fill(NaN);
      order.forEach((row, k) => {
        const near = [order[k - 2], order[k - 1], order[k + 1], order[k + 2]].filter((x) => x !== undefined).map((x) => tv[x]).filter((x) => !Number.isNaN(x)).sort((a, b) => a - b);
        if (near.length && !Number.isNaN(tv[row])) gap[row] = (tv[row] - near[Math.floor(near.length / 2)]) / 3_600_000;
      });
      add(`${id.key} order against ${t.key}`, gap);
    }
  }
  return out;
}

/** Compare canary rows with real rows over `specs` (derived fields already filled in on the rows). */
export function compareRows(specs: readonly FieldSpec[], real: readonly Row[], canaries: readonly Row[], options: CompareOptions): Comparison {
  const notes: string[] = [];
  const fields = specs
    .map((s) => fieldReport(s, real, canaries, options.absoluteTimes ?? true))
    .sort((a, b) => a.p - b.p || b.distance - a.distance || a.field.localeCompare(b.field));
  const pairs = pairReports(specs, real, canaries, options.maxPairs ?? 12);
  let classifier: ClassifierReport | null = null;
  const folds = Math.min(options.folds ?? 5, canaries.length);
  if (folds < 2 || real.length < folds) {
    notes.push(`too few rows for a cross-validated classifier (${canaries.length} canaries, ${real.length} real rows)`);
  } else {
    const rows = [...real, ...canaries];
    const labels = rows.map((_, i) => i >= real.length);
    const features = engineerFeatures(specs, rows, options.absoluteTimes ?? true);
    const x = rows.map((_, i) => features.map((f) => f.values[i]));
    const cv = crossValidate(x, labels, folds, options.seed, { rounds: options.rounds });
    const r = aucWithCi(cv.scores, labels);
    classifier = {
      model: 'gradient-boosted stumps (logistic loss, classes weighted equally)',
      folds,
      features: features.length,
      auc: round(r.auc),
      se: round(r.se),
      low: round(r.low),
      high: round(r.high),
      ci: '95%, DeLong',
      topFeatures: features
        .map((f, i) => ({ feature: f.name, share: round(cv.importance[i], 3) }))
        .filter((f) => f.share > 0)
        .sort((a, b) => b.share - a.share)
        .slice(0, 8),
    };
  }
  return { real: real.length, canaries: canaries.length, fields, pairs, classifier, notes };
}
