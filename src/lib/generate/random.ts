// Deterministic, seedable randomness. Canary generation must be reproducible under `--seed`
// (tests, demos) and unpredictable otherwise, so an unseeded generator draws its seed from the
// operating system's CSPRNG. sfc32 is small, fast and passes PractRand; it is not cryptographic,
// which is fine: what must stay secret is which rows are canaries, and that lives in the vault.
import { randomInt } from 'node:crypto';

export interface Random {
  /** Uniform in [0, 1). */
  next(): number;
  /** Uniform integer in [min, maxInclusive]. */
  int(min: number, maxInclusive: number): number;
  pick<T>(items: readonly T[]): T;
  /** Linear scan; fine for a handful of items. Use weightedTable for big tables. */
  weighted<T>(items: readonly (readonly [T, number])[]): T;
  normal(mean: number, sd: number): number;
  chance(p: number): boolean;
}

/** cyrb128: spreads any string over four 32-bit words, so "1" and "2" give unrelated streams. */
function hashSeed(text: string): [number, number, number, number] {
  let h1 = 1779033703, h2 = 3144134277, h3 = 1013904242, h4 = 2773480762;
  for (let i = 0; i < text.length; i++) {
    const k = text.charCodeAt(i);
    h1 = h2 ^ Math.imul(h1 ^ k, 597399067);
    h2 = h3 ^ Math.imul(h2 ^ k, 2869860233);
    h3 = h4 ^ Math.imul(h3 ^ k, 951274213);
    h4 = h1 ^ Math.imul(h4 ^ k, 2716044179);
  }
  h1 = Math.imul(h3 ^ (h1 >>> 18), 597399067);
  h2 = Math.imul(h4 ^ (h2 >>> 22), 2869860233);
  h3 = Math.imul(h1 ^ (h3 >>> 17), 951274213);
  h4 = Math.imul(h2 ^ (h4 >>> 19), 2716044179);
  h1 ^= h2 ^ h3 ^ h4;
  h2 ^= h1;
  h3 ^= h1;
  h4 ^= h1;
  return [h1 >>> 0, h2 >>> 0, h3 >>> 0, h4 >>> 0];
}

function sfc32(a: number, b: number, c: number, d: number): () => number {
  return () => {
    a |= 0; b |= 0; c |= 0; d |= 0;
    const t = (((a + b) | 0) + d) | 0;
    d = (d + 1) | 0;
    a = b ^ (b >>> 9);
    b = (c + (c << 3)) | 0;
    c = (c << 21) | (c >>> 11);
    c = (c + t) | 0;
    return (t >>> 0) / 4294967296;
  };
}

export function createRandom(seed?: number | string): Random {
  // randomInt's range is limited to 2^48, so two draws give ~96 bits of seed.
  const text = seed === undefined ? `os:${randomInt(2 ** 47)}:${randomInt(2 ** 47)}` : String(seed);
  const next = sfc32(...hashSeed(text));
  for (let i = 0; i < 12; i++) next(); // sfc32 needs a few rounds to mix a fresh state
  const int = (min: number, max: number): number => min + Math.floor(next() * (max - min + 1));
  return {
    next,
    int,
    pick: (items) => {
      if (items.length === 0) throw new Error('pick from an empty list');
      return items[int(0, items.length - 1)];
    },
    weighted: (items) => {
      const total = items.reduce((sum, [, w]) => sum + w, 0);
      let x = next() * total;
      for (const [item, w] of items) if ((x -= w) < 0) return item;
      if (items.length === 0) throw new Error('weighted pick from an empty list');
      return items[items.length - 1][0];
    },
    normal: (mean, sd) => {
      // Box-Muller; 1 - next() keeps the logarithm finite.
      const u = 1 - next();
      return mean + sd * Math.sqrt(-2 * Math.log(u)) * Math.cos(2 * Math.PI * next());
    },
    chance: (p) => next() < p,
  };
}

/** Normal draw restricted to [min, max) by redrawing, so the bounds do not pile up as spikes. */
export function truncatedNormal(rng: Random, mean: number, sd: number, min: number, max: number): number {
  for (let i = 0; i < 1000; i++) {
    const x = rng.normal(mean, sd);
    if (x >= min && x < max) return x;
  }
  return Math.min(Math.max(mean, min), max); // only reachable with absurd parameters
}

/** A frequency table prepared for O(log n) sampling. */
export interface WeightedTable<T> {
  readonly items: readonly T[];
  /** Normalised shares, summing to 1, in item order. */
  readonly shares: readonly number[];
  sample(rng: Random): T;
  /** Normalised share of one item (0 when absent). */
  share(item: T): number;
}

export function weightedTable<T>(entries: readonly (readonly [T, number])[]): WeightedTable<T> {
  if (entries.length === 0) throw new Error('weighted table is empty');
  const cumulative: number[] = [];
  let total = 0;
  for (const [item, w] of entries) {
    if (!(w > 0) || !Number.isFinite(w)) throw new Error(`weight of ${String(item)} must be positive, got ${w}`);
    cumulative.push((total += w));
  }
  const items = entries.map(([item]) => item);
  const shares = entries.map(([, w]) => w / total);
  const index = new Map<T, number>();
  items.forEach((item, i) => index.set(item, (index.get(item) ?? 0) + shares[i]));
  return {
    items,
    shares,
    share: (item) => index.get(item) ?? 0,
    sample: (rng) => {
      const x = rng.next() * total;
      let lo = 0, hi = cumulative.length - 1;
      while (lo < hi) {
        const mid = (lo + hi) >>> 1;
        if (cumulative[mid] > x) hi = mid;
        else lo = mid + 1;
      }
      return items[lo];
    },
  };
}
