import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { defaultCanaryCount, placeCanaries, planColumns, sliceCoverage, sortColumn } from '../../src/exports/plan.js';
import { encodeRows } from '../../src/exports/write.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { loadMapping } from '../../src/targetdb/index.js';

describe('export planning', () => {
  it('maps columns by --map, the mapping and field names', () => {
    const mapping = loadMapping(path.join(FIXTURES_DIR, 'mappings', 'reference.json'));
    const plan = planColumns(['mother_phone', 'baby.name', 'tel', 'note'], mapping, { tel: 'father.phone' });
    expect(plan.map((c) => c.value && [c.value.field, c.value.type === 'field' ? c.value.phone ?? null : null])).toEqual([
      ['mother.phone', 'national'],
      ['baby.name', null],
      ['father.phone', null],
      null,
    ]);
  });

  it('states its default canary count and the slice coverage it gives', () => {
    expect(defaultCanaryCount(50)).toBe(3);
    expect(defaultCanaryCount(1000)).toBe(20);
    expect(defaultCanaryCount(1_000_000)).toBe(300);
    expect(sliceCoverage(300, 0.01)).toBeGreaterThan(0.95);
    expect(sliceCoverage(20, 0.25)).toBeGreaterThan(0.99);
  });

  it('finds the sort column, ascending or descending', () => {
    const rows = [['b', new Date('2026-01-01')], ['a', new Date('2026-01-02')], ['c', new Date('2026-01-02')], ['d', new Date('2026-01-05')]];
    expect(sortColumn(rows, 2, [1])).toEqual({ index: 1, descending: false });
    expect(sortColumn([...rows].reverse(), 2, [1])).toEqual({ index: 1, descending: true });
    expect(sortColumn([['x', 1], ['a', 3], ['m', 2]], 2, [1])).toBeNull();
    // In a short file, an order of names is an accident: only date and time columns count.
    expect(sortColumn([['张三', 1], ['李四', 3], ['王五', 2]], 2, [1])).toBeNull();
    const long = Array.from({ length: 30 }, (_, i) => [`id${String(i).padStart(3, '0')}`, 30 - (i % 7)]);
    expect(sortColumn(long, 2, [1])).toEqual({ index: 0, descending: false });
  });

  it('places canaries where their value belongs in a sorted file, and spreads them otherwise', () => {
    const real = Array.from({ length: 100 }, (_, i) => [`r${i}`, new Date(Date.UTC(2026, 0, 1) + i * 3_600_000)]);
    const canaries = [['c1', '2026-01-01T10:30:00.000Z'], ['c2', '2026-01-03T00:30:00.000Z'], ['c3', '2026-01-01T00:00:00.000Z']];
    const { rows, positions } = placeCanaries(real, canaries, createRandom(1));
    expect(rows).toHaveLength(103);
    expect(rows[positions[0] - 1][0]).toBe('c1');
    expect(rows[positions[0] - 2][0]).toBe('r10');
    expect(rows[positions[1] - 2][0]).toBe('r48');
    expect(positions[2]).toBeLessThanOrEqual(2);
    // Canaries falling between the same two real rows keep the file's order among themselves.
    const gap = placeCanaries(real.slice(0, 20), [['late', '2026-01-01T01:50:00.000Z'], ['early', '2026-01-01T01:10:00.000Z'], ['mid', '2026-01-01T01:30:00.000Z']], createRandom(3));
    expect(gap.rows.slice(0, 6).map((r) => r[0])).toEqual(['r0', 'r1', 'early', 'mid', 'late', 'r2']);
    const unsorted = Array.from({ length: 1000 }, (_, i) => [`r${(i * 7919) % 1000}`]);
    const spread = placeCanaries(unsorted, Array.from({ length: 50 }, (_, i) => [`c${i}`]), createRandom(2)).positions.sort((a, b) => a - b);
    // Uniform positions: each quarter of the file gets some, none gets nearly all.
    for (let q = 0; q < 4; q++) {
      const n = spread.filter((p) => p > q * 262 && p <= (q + 1) * 262).length;
      expect(n).toBeGreaterThan(3);
      expect(n).toBeLessThan(25);
    }
  });

  it('encodes CSV with quoting, TSV without, and JSON with types', () => {
    const rows = [['陈丽, "小"', 3200, null, new Date('2026-01-01T00:00:00Z')]];
    expect([...encodeRows('csv', ['name', 'w', 'x', 't'], rows)].join('')).toBe('name,w,x,t\r\n"陈丽, ""小""",3200,,2026-01-01T00:00:00.000Z\r\n');
    expect([...encodeRows('tsv', ['a'], [['x\ty\nz']])].join('')).toBe('a\nx y z\n');
    expect(JSON.parse([...encodeRows('json', ['name', 'w', 'x', 't'], rows)].join(''))).toEqual([{ name: '陈丽, "小"', w: 3200, x: null, t: '2026-01-01T00:00:00.000Z' }]);
    expect(JSON.parse([...encodeRows('json', ['a'], [])].join(''))).toEqual([]);
  });
});
