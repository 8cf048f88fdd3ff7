import type { Counts } from '../domain/index.js';
import type { Random } from './generate/random.js';

// Trap numbers that look like the hospital's patients' numbers: a thief who sees canary mothers'
// numbers in segments (the first seven digits of a mobile) no real patient uses can filter them out.
// Pure.

/** The 7-digit segment of a mainland mobile number in E.164 (+86 1xx xxxx xxxx), else null. */
export function segmentOf(e164: string): string | null {
  const national = e164.replace(/^\+86/, '');
  return /^1[3-9]\d{9}$/.test(national) ? national.slice(0, 7) : null;
}

/**
 * The pool's numbers in the order to hand them out: each next number is of a segment drawn by the
 * real patients' shares among the segments the pool still has (numbers in no kept segment stand for
 * the real numbers too rare to keep), so that canaries' segments follow the real ones as far as the
 * pool allows. Numbers within a segment come in random order.
 */
export function orderBySegments<T extends { e164: string }>(rng: Random, numbers: readonly T[], segments: Counts): T[] {
  const bySegment = new Map<string, T[]>();
  for (const n of numbers) {
    const seg = segmentOf(n.e164);
    const key = seg !== null && (segments.values[seg] ?? 0) > 0 ? seg : '';
    const list = bySegment.get(key) ?? [];
    list.push(n);
    bySegment.set(key, list);
  }
  for (const list of bySegment.values()) {
    for (let i = list.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [list[i], list[j]] = [list[j], list[i]];
    }
  }
  const weight = (key: string): number => (key === '' ? Math.max(segments.other, 1e-6 * segments.total) : segments.values[key]);
  const out: T[] = [];
  const keys = [...bySegment.keys()];
  while (keys.length) {
    const key = rng.weighted(keys.map((k) => [k, weight(k)] as const));
    const list = bySegment.get(key)!;
    out.push(list.pop()!);
    if (list.length === 0) keys.splice(keys.indexOf(key), 1);
  }
  return out;
}

/** The share of real numbers whose (kept) segment the pool has no number in. */
export function uncoveredSegmentShare(segments: Counts, poolE164: readonly string[]): number {
  if (segments.total === 0) return 0;
  const pool = new Set(poolE164.map(segmentOf).filter((s): s is string => s !== null));
  let missing = 0;
  for (const [seg, n] of Object.entries(segments.values)) if (!pool.has(seg)) missing += n;
  return missing / segments.total;
}

/** How far a pool covers the real patients' segments: the uncovered share and the most common segments it lacks. */
export interface SegmentCoverage {
  /** Share of real numbers whose (kept) segment the pool has no number in. */
  uncoveredShare: number;
  /** The most common real segments the pool has none of (at most three). */
  missing: string[];
}

export function segmentCoverage(segments: Counts, poolE164: readonly string[]): SegmentCoverage {
  const pool = new Set(poolE164.map(segmentOf).filter((s): s is string => s !== null));
  const missing = Object.entries(segments.values)
    .filter(([seg]) => !pool.has(seg))
    .sort((a, b) => b[1] - a[1])
    .slice(0, 3)
    .map(([seg]) => seg);
  return { uncoveredShare: uncoveredSegmentShare(segments, poolE164), missing };
}

/** The warning for a coverage at least `threshold` uncovered, else null. */
export function coverageWarning(coverage: SegmentCoverage, who = "real mothers' numbers", threshold = SEGMENT_WARN_SHARE): string | null {
  if (coverage.uncoveredShare < threshold) return null;
  return `${Math.round(coverage.uncoveredShare * 100)}% of ${who} are in segments your pool has none of (most common: ${coverage.missing.join(', ')}); canaries in other segments are easier to tell apart: add numbers in those segments with \`cradle pool add\``;
}

/** Uncovered shares from this one up are warned of. */
export const SEGMENT_WARN_SHARE = 0.1;

/** A warning when the pool cannot match the real patients' segments (at least `threshold` of them uncovered), else null. */
export function segmentWarning(segments: Counts | undefined, poolE164: readonly string[], who = "real mothers' numbers", threshold = SEGMENT_WARN_SHARE): string | null {
  if (!segments || segments.total === 0) return null;
  return coverageWarning(segmentCoverage(segments, poolE164), who, threshold);
}
