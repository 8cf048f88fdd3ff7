import type { ColumnProfile, NumberProfile, TimeProfile } from '../../domain/index.js';
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

/** Round as the hospital records: a step drawn by the shares of values that are multiples of each step (e.g. 80% to 10 g). */
export function roundToProfile(rng: Random, value: number, number: Pick<NumberProfile, 'steps' | 'step'>): number {
  const u = rng.next();
  // steps[s] is the share of values that are multiples of s; larger steps have smaller shares.
  const step = STEPS.find((s) => u < (number.steps[String(s)] ?? 0)) ?? number.step;
  const rounded = Math.round(value / step) * step;
  return Number(rounded.toFixed(Math.max(0, -Math.floor(Math.log10(step)))));
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
    const v = pickCounts(rng, p.values.values);
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
