import { describe, expect, it } from '@jest/globals';
import { compareRows, engineerFeatures } from '../../src/realism/compare.js';
import { deriveFields, numberPrecision, refineKind, shapeOf, timePrecision, type FieldSpec, type Row } from '../../src/realism/fields.js';

// The comparison's pure parts: precision and shape, the derived fields, the features a thief's
// classifier gets (key order against time order among them), and the per-field tests.

const HOUR = 3_600_000;

describe('fields', () => {
  it('precision of numbers and times, shapes of text', () => {
    expect([3250, 3257, 3300, 3000, 3.5].map(numberPrecision)).toEqual(['10', '1', '100', '1000', 'fraction']);
    expect([Date.UTC(2026, 0, 1, 8, 0, 0), Date.UTC(2026, 0, 1, 8, 5, 0), Date.UTC(2026, 0, 1, 8, 5, 7), Date.UTC(2026, 0, 1, 8, 5, 7) + 5].map(timePrecision)).toEqual(['hour', 'minute', 'second', 'sub-second']);
    expect(shapeOf('常州市南大街12号')).toBe('汉汉汉汉汉汉99汉');
    expect(shapeOf('Z2611000123')).toBe('A9999999999');
  });

  it('few distinct values make a category', () => {
    expect(refineKind('text', ['产一科', '产二科', '新生儿监护室', '产一科'])).toBe('category');
    expect(refineKind('text', Array.from({ length: 100 }, (_, i) => `name${i}`))).toBe('text');
    expect(refineKind('number', [37, 38, 39, 40, 41])).toBe('category');
  });

  it('derives hour, weekday and the gap between two times', () => {
    const rows: Row[] = [{ a: new Date(Date.UTC(2026, 10, 2, 9)), b: new Date(Date.UTC(2026, 10, 5, 21)) }];
    const derived = deriveFields([{ key: 'a', kind: 'time' }, { key: 'b', kind: 'time' }], rows);
    expect(derived.map((d) => d.key)).toEqual(['a#hour', 'a#weekday', 'b#hour', 'b#weekday', 'b − a']);
    expect(rows[0]).toMatchObject({ 'a#hour': 9, 'a#weekday': 1, 'b − a': 84 });
  });
});

describe('features', () => {
  it('a row whose id comes after its time has a large gap to its id-neighbours', () => {
    const specs: FieldSpec[] = [{ key: 'id', kind: 'number', identifier: true }, { key: 't', kind: 'time' }];
    const rows: Row[] = Array.from({ length: 50 }, (_, i) => ({ id: i + 1, t: new Date(Date.UTC(2026, 0, 1) + i * HOUR) }));
    rows.push({ id: 51, t: new Date(Date.UTC(2026, 0, 1) + 10 * HOUR) }); // written 40 hours late
    const f = engineerFeatures(specs, rows);
    const gap = f.find((x) => x.name === 'id order against t')!.values;
    expect(gap[50]).toBeLessThan(-30);
    expect(Math.max(...gap.slice(2, 47).map(Math.abs))).toBeLessThanOrEqual(1); // away from the ends and the late row
    // An identifier's value itself is no feature: it is unique by nature.
    expect(f.map((x) => x.name)).not.toContain('id:value');
  });

  it('a shared value is frequent, a value nobody else holds is not', () => {
    const rows: Row[] = [...Array.from({ length: 20 }, (_, i) => ({ c: `v${i}` })), { c: 'same' }, { c: 'same' }, { c: 'same' }];
    const freq = engineerFeatures([{ key: 'c', kind: 'text' }], rows).find((x) => x.name === 'c:frequency')!.values;
    expect(freq[0]).toBe(0);
    expect(freq[22]).toBeCloseTo(2 / 22, 12);
  });
});

describe('compareRows', () => {
  it('finds a precision tell and reports no row value', () => {
    const real: Row[] = Array.from({ length: 300 }, (_, i) => ({ w: 2500 + ((i * 37) % 200) * 10, ward: i % 3 === 0 ? 'A' : 'B' }));
    const canaries: Row[] = Array.from({ length: 40 }, (_, i) => ({ w: 2501 + ((i * 53) % 1999), ward: i % 3 === 0 ? 'A' : 'B' }));
    const r = compareRows([{ key: 'w', kind: 'number' }, { key: 'ward', kind: 'category' }], real, canaries, { seed: 't' });
    const w = r.fields.find((f) => f.field === 'w')!;
    expect(w.tests.find((t) => t.on === 'precision')!.p).toBeLessThan(1e-10);
    expect(r.fields.find((f) => f.field === 'ward')!.p).toBeGreaterThan(0.05);
    // About one canary in ten ends in 0 like every real weight: the best AUC is near 0.95.
    expect(r.classifier!.auc).toBeGreaterThan(0.85);
    expect(r.classifier!.topFeatures[0].feature).toMatch(/^w:(precision|last digit)$/);
    expect(JSON.stringify(r)).not.toMatch(/"(A|B)"/);
  });
});
