import { groupOfValue, type ColumnProfile, type NumberProfile, type TimeProfile } from '../../domain/index.js';
import { idCheckDigit } from './id-number.js';
import type { Random } from './random.js';

// Drawing a column's value from a hospital's learned profile (src/domain/profile-columns.ts): a
// categorical value by its share, a number from the quantiles rounded to the learned step, a time from
// its offset to the family's other times (or its hours and weekdays) in the learned precision, text
// from a learned shape with its digits filled, an ID-card number with a valid check character. Pure.
// Times are wall-clock times in the hospital's time zone, written `yyyy-MM-dd HH:mm:ss[.SSS]`.

export interface DrawContext {
  /** The family's times by `alias.column` of the columns that hold them, as wall-clock times (`yyyy-MM-dd HH:mm:ss`). */
  anchors?: Record<string, string>;
  /** A calendar date (yyyy-MM-dd) to use for date prefixes and times without an anchor (e.g. the admission day). */
  day?: string;
  /** The person's birth date (yyyy-MM-dd), for ID-card numbers. */
  birthDate?: string;
  /** The family's numbers by `alias.column` (the birth weight), for columns drawn jointly with one (ColumnProfile.byWeight). */
  numbers?: Record<string, number>;
  /** The family's ward, for columns drawn with the weight per ward (ColumnProfile.byWeight.wards). */
  ward?: string;
}

const NUMBER_TYPES = new Set(['smallint', 'integer', 'bigint', 'numeric', 'real', 'double precision']);
const STEPS = [1000, 100, 10, 1, 0.1, 0.01, 0.001];
const LETTERS = 'ABCDEFGHJKLMNPQRSTUVWXYZ';
const CJK = '王李张刘陈杨黄赵吴周徐孙马朱胡郭何高林罗';

/** A value at a uniformly drawn level between the first and last quantile, interpolated linearly. */
export function fromQuantiles(rng: Random, levels: readonly number[], quantiles: readonly number[]): number {
  if (quantiles.length === 0) return NaN;
  if (quantiles.length === 1) return quantiles[0];
  const u = levels[0] + rng.next() * (levels[levels.length - 1] - levels[0]);
  let i = 1;
  while (i < levels.length - 1 && levels[i] < u) i++;
  const [l0, l1, q0, q1] = [levels[i - 1], levels[i], quantiles[i - 1], quantiles[i]];
  return l1 === l0 ? q0 : q0 + ((u - l0) / (l1 - l0)) * (q1 - q0);
}

/**
 * Round as the hospital records: to a step drawn so that the rounded values are multiples of each step
 * in the learned shares (e.g. 10 % of weights multiples of 100 g, 1 % of 1,000 g, all of 10 g).
 * A value rounded to a fine step is already a multiple of a coarser one now and then (one in ten values
 * rounded to 10 g is a multiple of 100 g), so a step's share is not the chance of rounding to it: the
 * chances are solved from the finest step up, each the share left over by the values rounded finer
 * (drawing the shares themselves as chances doubled the round hundreds of canary weights).
 */
export function roundToProfile(rng: Random, value: number, number: Pick<NumberProfile, 'steps' | 'step'>): number {
  const chances = roundingChances(number);
  let u = rng.next();
  let i = 0;
  while (i < chances.length - 1 && u >= chances[i].chance) u -= chances[i++].chance;
  const step = chances[i]?.step ?? number.step;
  const rounded = Math.round(value / step) * step;
  return Number(rounded.toFixed(Math.max(0, -Math.floor(Math.log10(step)))));
}

/**
 * The chance of rounding to each step from the coarsest to the recording step, such that the share of
 * multiples of each step comes out as learned: with steps s₁ > … > sₙ (sₙ the recording step, every
 * value a multiple of it) and chances h, the share of multiples of sₖ is Σ_{i≤k} hᵢ + Σ_{i>k} hᵢ·sᵢ/sₖ;
 * solved from sₙ up, negatives (sampling noise) clipped and the rest renormalised.
 */
export function roundingChances(number: Pick<NumberProfile, 'steps' | 'step'>): { step: number; chance: number }[] {
  const steps = STEPS.filter((s) => s >= number.step);
  const n = steps.length;
  const share = (k: number) => (k === n - 1 ? 1 : Math.min(1, Math.max(0, number.steps[String(steps[k])] ?? 0)));
  const h = new Array<number>(n).fill(0);
  // Row k (k < n-1), with Σh = 1: 1 − Σ_{i>k} hᵢ(1 − sᵢ/sₖ) = tₖ, so h_{k+1} follows from the finer ones.
  for (let k = n - 2; k >= 0; k--) {
    let rest = 1 - share(k);
    for (let i = k + 2; i < n; i++) rest -= h[i] * (1 - steps[i] / steps[k]);
    h[k + 1] = Math.max(0, rest / (1 - steps[k + 1] / steps[k]));
  }
  h[0] = Math.max(0, 1 - h.slice(1).reduce((a, b) => a + b, 0));
  const total = h.reduce((a, b) => a + b, 0);
  return steps.map((step, i) => ({ step, chance: total > 0 ? h[i] / total : i === n - 1 ? 1 : 0 }));
}

const pad = (n: number, width = 2) => String(n).padStart(width, '0');

/** Wall-clock milliseconds (as if UTC) of `yyyy-MM-dd[ HH:mm:ss[.SSS]]`. */
export function wallMs(text: string): number {
  return Date.parse(`${text.replace(' ', 'T').slice(0, 23)}${text.length <= 10 ? 'T00:00:00' : ''}Z`);
}

export function wallText(ms: number, withMs = false): string {
  const d = new Date(ms);
  const base = `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;
  return withMs ? `${base}.${pad(d.getUTCMilliseconds(), 3)}` : base;
}

/** A time in the learned precision: to the day, to the minute, with non-zero seconds, or with fractions, by their shares. */
export function withTimePrecision(rng: Random, ms: number, precision: TimeProfile['precision']): number {
  const total = precision.day + precision.minute + precision.second + precision.ms;
  if (total <= 0) return ms;
  const u = rng.next() * total;
  const minute = Math.floor(ms / 60_000) * 60_000;
  if (u < precision.day) return Math.floor(ms / 86_400_000) * 86_400_000;
  if (u < precision.day + precision.minute) return minute;
  // A time that has its own seconds (or fractions) keeps them: they carry an offset drawn to the second.
  const second = Math.floor(ms / 1000) * 1000;
  if (u < precision.day + precision.minute + precision.second) return second !== minute ? second : minute + rng.int(1, 59) * 1000;
  return ms % 1000 !== 0 ? ms : second + rng.int(1, 999);
}

function pickCounts(rng: Random, values: Record<string, number>): string | null {
  const entries = Object.entries(values);
  if (entries.length === 0) return null;
  return rng.weighted(entries.sort((a, b) => (a[0] < b[0] ? -1 : 1)));
}

/**
 * A category given the family's number (a gestational week given the weight): a group of values
 * (`groupOfValue`: 39 and 39+3) by its kept values' counts times the density of the number among its
 * rows near `x` (from its quantiles, over a window of a fortieth of the numbers' range; groups too rare
 * for quantiles take the pooled density), then a value of the group by its count. Null when no group's
 * rows come near `x`.
 */
export function pickGivenNumber(rng: Random, counts: Record<string, number>, groups: Record<string, { quantileLevels: number[]; quantiles: number[] }>, x: number, masses?: Record<string, number>): string | null {
  const all = Object.values(groups);
  if (all.length === 0) return null;
  const lo = Math.min(...all.map((q) => q.quantiles[0]));
  const hi = Math.max(...all.map((q) => q.quantiles[q.quantiles.length - 1]));
  const h = Math.max(1e-9, (hi - lo) / 40);
  const density = (q: { quantileLevels: number[]; quantiles: number[] }) => (cdfAt(q, x + h) - cdfAt(q, x - h)) / (2 * h);
  const mass = new Map<string, number>();
  // A group's mass: its rows in the ward where given (only the ward's groups), else its values' counts.
  if (masses) for (const [g, n] of Object.entries(masses)) mass.set(g, n);
  else for (const [v, n] of Object.entries(counts)) mass.set(groupOfValue(v), (mass.get(groupOfValue(v)) ?? 0) + n);
  const entries = [...mass].sort((a, b) => (a[0] < b[0] ? -1 : 1));
  const known = entries.filter(([g]) => groups[g]);
  const knownMass = known.reduce((a, [, n]) => a + n, 0);
  const pooled = knownMass > 0 ? known.reduce((a, [g, n]) => a + n * density(groups[g]), 0) / knownMass : 0;
  const weights = entries.map(([g, n]) => [g, n * (groups[g] ? density(groups[g]) : pooled)] as [string, number]).filter(([, w]) => w > 0);
  // A ward's weight beyond all its groups' (a term ward's lightest): the group nearest to it, never another ward's.
  const distance = (q: { quantiles: number[] }) => Math.max(0, q.quantiles[0] - x, x - q.quantiles[q.quantiles.length - 1]);
  const nearest = masses && weights.length === 0 ? known.sort((a, b) => distance(groups[a[0]]) - distance(groups[b[0]]))[0]?.[0] : undefined;
  if (weights.length === 0 && nearest === undefined) return null;
  const group = nearest ?? rng.weighted(weights);
  return pickCounts(rng, Object.fromEntries(Object.entries(counts).filter(([v]) => groupOfValue(v) === group)));
}

/**
 * The distribution function at `x` of values given by quantiles at levels: linear between them, and
 * beyond the ends (the k families outside) with the mean slope of the whole range until 0 or 1.
 */
function cdfAt(q: { quantileLevels: number[]; quantiles: number[] }, x: number): number {
  const { quantileLevels: l, quantiles: v } = q;
  const last = v.length - 1;
  const slope = v[last] > v[0] ? (l[last] - l[0]) / (v[last] - v[0]) : Infinity;
  if (x <= v[0]) return x === v[0] ? l[0] : Math.max(0, l[0] - (v[0] - x) * slope);
  if (x >= v[last]) return x === v[last] ? l[last] : Math.min(1, l[last] + (x - v[last]) * slope);
  let i = 1;
  while (v[i] < x) i++;
  return v[i] === v[i - 1] ? l[i] : l[i - 1] + ((x - v[i - 1]) / (v[i] - v[i - 1])) * (l[i] - l[i - 1]);
}

/** The value at `level` of a distribution given by quantiles (linear between levels, clamped to the ends). */
function quantileAt(levels: readonly number[], quantiles: readonly number[], level: number): number {
  if (level <= levels[0]) return quantiles[0];
  for (let i = 1; i < levels.length; i++) {
    if (level <= levels[i]) return levels[i] === levels[i - 1] ? quantiles[i] : quantiles[i - 1] + ((level - levels[i - 1]) / (levels[i] - levels[i - 1])) * (quantiles[i] - quantiles[i - 1]);
  }
  return quantiles[quantiles.length - 1];
}

function drawTime(rng: Random, time: TimeProfile, ctx: DrawContext): string | null {
  let ms: number | null = null;
  // From the family's time it follows most closely (the narrowest offset: a record created minutes after
  // the birth it records, rather than a day after the admission).
  let best: { at: string; offset: NonNullable<TimeProfile['offsets']>[string]; spread: number } | null = null;
  for (const [anchor, offset] of Object.entries(time.offsets ?? {})) {
    const at = ctx.anchors?.[anchor];
    if (!at || offset.quantiles.length === 0) continue;
    const spread = quantileAt(offset.quantileLevels, offset.quantiles, 0.9) - quantileAt(offset.quantileLevels, offset.quantiles, 0.1);
    if (!best || spread < best.spread) best = { at, offset, spread };
  }
  if (best) ms = wallMs(best.at) + Math.round(fromQuantiles(rng, best.offset.quantileLevels, best.offset.quantiles) * 1000);
  if (ms === null) {
    const day = ctx.day ?? new Date().toISOString().slice(0, 10);
    const hours = time.hours.map((share, h) => [h, share] as const).filter(([, s]) => s > 0);
    const hour = hours.length ? rng.weighted(hours) : 12;
    ms = wallMs(day) + hour * 3_600_000 + rng.int(0, 3_599_999);
  }
  const precise = withTimePrecision(rng, ms, time.precision);
  return wallText(precise, precise % 1000 !== 0);
}

/** Fill a learned shape: # a digit, A a capital letter, 汉 a common CJK character, a date prefix from the day. */
function fillShape(rng: Random, shape: string, p: ColumnProfile, ctx: DrawContext): string {
  const chars = [...shape];
  const date = p.key?.datePrefix;
  if (date && ctx.day) {
    const [y, m, d] = ctx.day.split('-');
    const text = { yyyyMMdd: `${y}${m}${d}`, yyMMdd: `${y.slice(2)}${m}${d}`, yyyyMM: `${y}${m}`, yyyy: y }[date.pattern];
    for (let i = 0; i < text.length && date.offset + i < chars.length; i++) chars[date.offset + i] = text[i];
  }
  return chars.map((c) => (c === '#' ? String(rng.int(0, 9)) : c === 'A' ? rng.pick([...LETTERS]) : c === '汉' ? rng.pick([...CJK]) : c)).join('');
}

function drawIdCard(rng: Random, p: ColumnProfile, ctx: DrawContext): string {
  const card = p.key!.idCard!;
  const region = pickCounts(rng, card.regions.values) ?? '320402';
  const birth = (ctx.birthDate ?? `${rng.int(1980, 2000)}-${pad(rng.int(1, 12))}-${pad(rng.int(1, 28))}`).replace(/-/g, '');
  const first17 = `${region}${birth}${pad(rng.int(0, 999), 3)}`;
  return `${first17}${idCheckDigit(first17)}`;
}

/**
 * A value for a column drawn from its profile, or null or '' (by the column's null and empty shares,
 * unless `present`: a value whenever the profile can say one), or null when the profile says too
 * little. Numbers come back as numbers, everything else as text.
 */
export function drawColumnValue(rng: Random, p: ColumnProfile, ctx: DrawContext = {}, opts: { present?: boolean } = {}): string | number | null {
  const isNumber = NUMBER_TYPES.has(p.dataType);
  // Empty as the real rows are: empty text ('') with its share among the empties, else NULL.
  if (!opts.present && rng.next() < p.nullShare) return !isNumber && rng.next() < (p.emptyShare ?? 0) ? '' : null;
  // Categorical: by share, when the kept values cover most families.
  if (p.values && p.values.total > 0 && p.values.other / p.values.total < 0.5) {
    const given = p.byWeight ? ctx.numbers?.[p.byWeight.column] : undefined;
    const ward = given !== undefined && ctx.ward !== undefined ? p.byWeight?.wards?.[ctx.ward] : undefined;
    const masses = ward ? Object.fromEntries(Object.entries(ward).map(([g, q]) => [g, q.n])) : undefined;
    const v =
      (ward ? pickGivenNumber(rng, p.values.values, ward, given!, masses) : null) ??
      (given !== undefined ? pickGivenNumber(rng, p.values.values, p.byWeight!.groups, given) : null) ??
      pickCounts(rng, p.values.values);
    if (v !== null) return isNumber ? Number(v) : v;
  }
  if (p.time) return drawTime(rng, p.time, ctx);
  if (p.number && p.number.quantiles.length) return roundToProfile(rng, fromQuantiles(rng, p.number.quantileLevels, p.number.quantiles), p.number);
  if (p.key?.idCard) return drawIdCard(rng, p, ctx);
  if (p.text) {
    const shape = pickCounts(rng, p.text.shapes.values);
    if (shape !== null) {
      const text = fillShape(rng, shape, p, ctx);
      return isNumber ? Number(text) : text;
    }
  }
  return null;
}
