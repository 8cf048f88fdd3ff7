import { describe, expect, it } from '@jest/globals';
import { buildFeatures, columnKind, crossValidate, knnAuc, rocAuc, shape, skeleton, stratifiedFolds, uniform, type Dump } from '../../helpers/thief.js';
import { families, idCheckDigit, validIdCard } from '../../fixtures/regional/generate.js';

// The thief's pure parts (test/helpers/thief.ts) and the regional generator's ID cards.

describe('rocAuc', () => {
  it('is 1 for a perfect ranking, 0 for a reversed one and 0.5 for ties', () => {
    expect(rocAuc([1, 2, 3, 4], [false, false, true, true])).toBe(1);
    expect(rocAuc([4, 3, 2, 1], [false, false, true, true])).toBe(0);
    expect(rocAuc([1, 1, 1, 1], [false, true, false, true])).toBe(0.5);
    expect(rocAuc([1, 3, 2, 4], [false, true, false, true])).toBe(1);
    expect(rocAuc([1, 3, 2, 4], [false, false, true, true])).toBe(0.75);
  });
});

describe('stratifiedFolds', () => {
  it('spreads each class evenly over the folds', () => {
    const labels = Array.from({ length: 103 }, (_, i) => i % 10 === 0);
    const folds = stratifiedFolds(labels, 5, 3);
    for (let f = 0; f < 5; f++) {
      const pos = labels.filter((l, i) => l && folds[i] === f).length;
      expect(pos === 2 || pos === 3).toBe(true);
      expect(folds.filter((x) => x === f).length).toBeGreaterThanOrEqual(20);
    }
  });
});

describe('value shapes', () => {
  it('compresses character classes and keeps an address skeleton', () => {
    expect(shape('常州市武进区12幢3单元502室')).toBe('H9H9H9H');
    expect(skeleton('常州市武进区湖塘镇花园社区12幢3单元502室', new Set(['区', '镇', '幢', '单', '元', '室']))).toBe('区镇区#幢#单元#室');
    expect(columnKind([1, 2, null])).toBe('number');
    expect(columnKind(['2025-01-01T08:00:01', null])).toBe('time');
    expect(columnKind(['1990-05-06'])).toBe('date');
    expect(columnKind(['陈丽', '2025'])).toBe('text');
  });
});

describe('the classifier', () => {
  const rand = uniform(5);
  const rows = Array.from({ length: 400 }, (_, i) => ({ 'T.ID': i + 1, 'T.X': Math.round(rand() * 1000), 'T.C': rand() < 0.5 ? '甲' : '乙', pos: i % 8 === 0 }));
  const dump: Dump = { columns: ['T.ID', 'T.X', 'T.C'], rows };
  it('separates a signal it can see, out of fold', () => {
    const labelled = rows.map((r) => ({ ...r, 'T.X': r.pos ? r['T.X'] * 10 + 5 : r['T.X'] * 10 }));
    const m = buildFeatures({ columns: dump.columns, rows: labelled });
    expect(m.names).toContain('T.X:mod10');
    const cv = crossValidate(m, labelled.map((r) => r.pos));
    expect(rocAuc(cv.scores, labelled.map((r) => r.pos))).toBeGreaterThan(0.95);
  });
  it('finds nothing in labels that are noise', () => {
    const m = buildFeatures(dump);
    const labels = rows.map(() => rand() < 0.2);
    expect(Math.abs(rocAuc(crossValidate(m, labels).scores, labels) - 0.5)).toBeLessThan(0.12);
  });
  it('has a second thief, k nearest neighbours, that sees a plain signal and no noise', () => {
    const labelled = rows.map((r) => ({ ...r, 'T.C': r.pos ? '丙' : r['T.C'] }));
    const m = buildFeatures({ columns: dump.columns, rows: labelled });
    expect(knnAuc(m, labelled.map((r) => r.pos), { k: 15 })).toBeGreaterThan(0.9);
    const labels = rows.map(() => rand() < 0.2);
    expect(Math.abs(knnAuc(buildFeatures(dump), labels, { k: 15 }) - 0.5)).toBeLessThan(0.12);
  });
});

describe('regional ID cards', () => {
  it('computes the GB 11643 check digit', () => {
    expect(idCheckDigit('11010519491231002')).toBe('X');
    expect(validIdCard('11010519491231002X')).toBe(true);
    expect(validIdCard('110105194912310021')).toBe(false);
  });
  it('gives every generated mother a valid number, deterministically per seed', () => {
    const a = families('s', 50, Date.parse('2025-01-01T00:00:00Z'), Date.parse('2025-02-01T00:00:00Z'));
    const b = families('s', 50, Date.parse('2025-01-01T00:00:00Z'), Date.parse('2025-02-01T00:00:00Z'));
    expect(a.every((f) => validIdCard(f.mother.SFZH))).toBe(true);
    expect(a.map((f) => f.mother.XM)).toEqual(b.map((f) => f.mother.XM));
  });
});
