import type { Counts } from '../domain/index.js';

// The k rule of a hospital profile: a value is kept only when at least k real families share it, so
// that no aggregate names one person. Pure.

/** Counts from (value, families) pairs, leaving out values shared by fewer than k families. Null values are not counted. */
export function countsOf(pairs: Iterable<readonly [string | null, number]>, k: number): Counts {
  const out: Counts = { total: 0, values: {}, other: 0 };
  for (const [value, n] of pairs) {
    if (value === null) continue;
    out.total += n;
    if (n >= k) out.values[value] = (out.values[value] ?? 0) + n;
    else out.other += n;
  }
  return out;
}

/** The kept values with their shares of all counted families, most frequent first. */
export function shares(counts: Counts): [string, number][] {
  return Object.entries(counts.values)
    .map(([v, n]): [string, number] => [v, counts.total ? n / counts.total : 0])
    .sort((a, b) => b[1] - a[1] || (a[0] < b[0] ? -1 : 1));
}
