import { describe, expect, it } from '@jest/globals';
import { progressBar, table, writeJson } from '../../src/cli/output.js';

describe('terminal output', () => {
  it('draws a progress bar for the fraction done, clamped to 0–100%', () => {
    expect(progressBar(0, 10)).toBe('[░░░░░░░░░░]   0%');
    expect(progressBar(0.5, 10)).toBe('[█████░░░░░]  50%');
    expect(progressBar(0.999, 10)).toBe('[██████████]  99%');
    expect(progressBar(1.7, 4)).toBe('[████] 100%');
    expect(progressBar(Number.NaN, 4)).toBe('[░░░░]   0%');
  });

  it('pads table columns, counting CJK characters double', () => {
    expect(table(['A', 'B'], [['产科', 1], ['x', null]])).toBe('A     B\n产科  1\nx');
  });
});

describe('writeJson', () => {
  const written = (data: unknown) => {
    const parts: string[] = [];
    writeJson(data, (s) => parts.push(s));
    return parts;
  };

  it('writes the bytes of JSON.stringify(data, null, 2) and a line end', () => {
    const cases: unknown[] = [
      {},
      { a: [] },
      { a: [1, 'two', null, { b: [3, { c: 'x\ny "q"' }] }], d: { e: [] }, f: 'g' },
      { skip: undefined, fn: () => 1, arr: [undefined, () => 1, Symbol('s'), new Date(0), , 5], at: new Date(0) }, // eslint-disable-line no-sparse-arrays
      { nested: { toJSON: () => ({ x: 1 }) }, list: [{ toJSON: () => 'y' }], '10': 'numeric key first', z: 0 },
      { only: undefined },
      [1, [2, 3]],
      'text',
      42,
      null,
      { toJSON: () => [1, 2] },
    ];
    for (const data of cases) expect(written(data).join('')).toBe(JSON.stringify(data, null, 2) + '\n');
  });

  it('writes a long array in pieces, none of them the whole', () => {
    const matches: unknown[] = Array.from({ length: 20_000 }, (_, i) => ({ canaryId: `c${i}`, reason: '手机号 138 0013 8000 与姓名'.repeat(4), line: i }));
    delete matches[1500]; // a hole: null
    matches[2500] = undefined;
    const data = { incidentId: 'x', matches, 'odd [key]': Array.from({ length: 1001 }, (_, i) => [i, { a: '[' }]), empty: [], last: { n: 1 } };
    const parts = written(data);
    expect(parts.join('')).toBe(JSON.stringify(data, null, 2) + '\n');
    expect(parts.length).toBeGreaterThan(2);
    expect(Math.max(...parts.map((p) => p.length))).toBeLessThan(2 << 20);
  });
});
