import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { keyShape, loadMapping, parseMapping, renderField, renderPhone, renderStamp } from '../../src/targetdb/mapping.js';
import { eventPlan, lifecycleProblems } from '../../src/targetdb/events.js';
import type { Family } from '../../src/domain/index.js';

const family: Family = {
  locale: 'zh-CN',
  mother: { name: { family: '陈', given: '丽华', full: '陈丽华', latin: 'Chen Lihua' }, birthDate: '1995-03-07', age: 31, phone: '+8613812345678', email: 'chenlihua95@qq.com' },
  father: { name: { family: '王', given: '强', full: '王强', latin: 'Wang Qiang' }, birthDate: '1993-01-02', age: 33, phone: null, email: null },
  baby: { name: { family: '陈', given: '丽华之女', full: '陈丽华之女', latin: 'Chen Lihua Zhi Nu' }, sex: 'female', birthTime: '2026-11-20T16:05:00.000Z', weightGrams: 3280 },
  hospital: '示例医院',
  ward: 'NICU',
  admittedAt: '2026-11-20T02:00:00.000Z',
  dischargedAt: null,
  address: { district: '鼓楼区', street: '中山路12号', full: '鼓楼区中山路12号3栋2单元501室' },
};

describe('mapping files', () => {
  it('loads both shipped mappings', () => {
    const ref = loadMapping(path.join(FIXTURES_DIR, 'mappings', 'reference.json'));
    expect(ref.inserts.map((s) => `${s.schema}.${s.table}`)).toEqual(['public.families', 'public.births']);
    expect(ref.recordKey).toEqual({ alias: 'birth', column: 'birth_id' });
    const alt = loadMapping(path.join(FIXTURES_DIR, 'alt-hospital', 'mapping.json'));
    expect(alt.inserts.map((s) => `${s.schema}.${s.table}`)).toEqual(['his.MotherInfo', 'his.infant_record']);
  });

  it('names every problem with its place, one per line', () => {
    const doc = {
      inserts: [
        { as: 'a', table: 't', columns: { x: 'mother.nmae', sex: 'baby.sex', p: { field: 'mother.name', phone: 'e164' } } },
        { as: 'a', table: 'u', columns: { k: { ref: 'zzz.id' }, j: { ref: 'a.nope' } } },
      ],
      recordKey: 'a.missing',
    };
    let message = '';
    try {
      parseMapping(doc, 'm.json');
    } catch (err) {
      message = (err as Error).message;
    }
    const lines = message.split('\n');
    expect(lines).toEqual(
      expect.arrayContaining([
        expect.stringContaining('m.json: inserts[0].columns.x: unknown field "mother.nmae"'),
        expect.stringContaining('m.json: inserts[0].columns.sex: map baby.sex'),
        expect.stringContaining('m.json: inserts[0].columns.p: "phone" applies only to phone fields'),
        expect.stringContaining('m.json: inserts[1].as: alias "a" is used twice'),
        expect.stringContaining('m.json: inserts[1].columns.k: ref "zzz.id" names no earlier insert'),
        expect.stringContaining('m.json: inserts[1].columns.j: ref "a.nope"'),
        expect.stringContaining('m.json: recordKey'),
        expect.stringContaining('no column holds mother.phone'),
      ]),
    );
    expect(lines).toHaveLength(8);
  });

  it('reports structural errors by path', () => {
    expect(() => parseMapping({ inserts: [{ as: 'a', columns: {} }] }, 'm.json')).toThrow(/m.json: inserts\[0\]\.table/);
    expect(() => parseMapping({ inserts: [], extra: 1 }, 'm.json')).toThrow(/m.json/);
  });

  it('renders values the way the hospital stores them', () => {
    expect(renderPhone('+8613812345678', 'national')).toBe('13812345678');
    expect(renderPhone('+8613812345678', '###-####-####')).toBe('138-1234-5678');
    expect(renderPhone('+8613812345678', 'digits')).toBe('8613812345678');
    expect(renderPhone('+12015550123', '(###) ###-####')).toBe('(201) 555-0123');
    expect(() => renderPhone('+8613812345678', '###-####')).toThrow(/has 7 digits/);
    const tz = 'Asia/Shanghai';
    expect(renderField({ type: 'field', field: 'baby.birthTime', kind: 'instant', format: 'yyyy-MM-dd' }, family, tz)).toBe('2026-11-21');
    expect(renderField({ type: 'field', field: 'baby.birthTime', kind: 'instant', format: 'HH:mm:ss' }, family, tz)).toBe('00:05:00');
    expect(renderField({ type: 'field', field: 'baby.birthTime', kind: 'instant' }, family, tz)).toBe('2026-11-20T16:05:00.000Z');
    expect(renderField({ type: 'field', field: 'mother.birthDate', kind: 'date', format: 'yyyy/MM/dd' }, family, tz)).toBe('1995/03/07');
    expect(renderField({ type: 'field', field: 'baby.sex', kind: 'sex', map: { female: '女', male: '男' } }, family, tz)).toBe('女');
    expect(renderField({ type: 'field', field: 'mother.latin', kind: 'text', case: 'upper' }, family, tz)).toBe('CHEN LIHUA');
    expect(renderField({ type: 'field', field: 'mother.name', kind: 'text', order: 'family-comma-given' }, family, tz)).toBe('陈, 丽华');
    expect(renderField({ type: 'field', field: 'father.phone', kind: 'phone', phone: 'national' }, family, tz)).toBeNull();
    expect(renderField({ type: 'field', field: 'baby.weightKg', kind: 'number' }, family, tz)).toBe('3.28');
  });
});

describe('the life cycle in a mapping', () => {
  it('inserts a row at birth when it holds baby fields, else at admission; "at" says otherwise', () => {
    const ref = loadMapping(path.join(FIXTURES_DIR, 'mappings', 'reference.json'));
    expect(ref.inserts.map((s) => [s.alias, s.at])).toEqual([['family', 'admission'], ['birth', 'birth']]);
    const oneTable = parseMapping({ inserts: [{ as: 'a', table: 'adm', at: 'admission', returning: ['id'], columns: { phone: 'mother.phone', born: 'baby.birthTime', out: 'dischargedAt' } }] });
    expect(oneTable.inserts[0].at).toBe('admission');
    expect(eventPlan(oneTable, 'admission')).toEqual({ inserts: [oneTable.inserts[0]], updates: [] });
    expect(eventPlan(oneTable, 'birth').updates.map((u) => u.columns)).toEqual([['born']]);
    expect(eventPlan(oneTable, 'discharge').updates.map((u) => u.columns)).toEqual([['out']]);
    // Without a key its row could not be found again for those updates.
    const keyless = parseMapping({ inserts: [{ as: 'a', table: 'adm', at: 'admission', columns: { phone: 'mother.phone', born: 'baby.birthTime' } }] }, 'm.json');
    expect(lifecycleProblems(keyless)).toEqual([expect.stringMatching(/^m\.json: insert "a" \(public\.adm\) gets born at birth but has no key to find its row again/)]);
    expect(() => parseMapping({ inserts: [{ as: 'b', table: 'b', columns: { phone: 'mother.phone', w: 'baby.weightGrams' } }, { as: 'm', table: 'm', at: 'admission', columns: { b: { ref: 'b.w' } } }] })).toThrow(
      /inserts\[1\]\.at: "admission", but it refers to a row inserted at birth/,
    );
  });

  it('reads numbered keys and bookkeeping times, and refuses a key without one run of #', () => {
    const m = parseMapping({ inserts: [{ as: 'a', table: 'adm', columns: { phone: 'mother.phone', no: { key: 'ZY{yyyyMMdd}####', sequence: 'his.mrn' }, made: { stamp: 'created' }, touched: { stamp: 'updated', format: 'yyyy-MM-dd HH:mm:ss' } } }] });
    expect(m.inserts[0].columns.slice(1).map((c) => c.value)).toEqual([
      { type: 'key', pattern: 'ZY{yyyyMMdd}####', sequence: 'his.mrn' },
      { type: 'stamp', stamp: 'created', format: undefined },
      { type: 'stamp', stamp: 'updated', format: 'yyyy-MM-dd HH:mm:ss' },
    ]);
    // 23:30 UTC on 6 December is already 7 December in Shanghai.
    const at = new Date('2026-12-06T23:30:00Z');
    expect(keyShape('ZY{yyyyMMdd}####', at, 'Asia/Shanghai')).toEqual({ prefix: 'ZY20261207', suffix: '', width: 4 });
    expect(renderStamp({ type: 'stamp', stamp: 'updated', format: 'yyyy-MM-dd HH:mm:ss' }, at, 'Asia/Shanghai')).toBe('2026-12-07 07:30:00');
    expect(renderStamp({ type: 'stamp', stamp: 'created' }, at, 'Asia/Shanghai')).toBe('2026-12-06T23:30:00.000Z');
    expect(() => parseMapping({ inserts: [{ as: 'a', table: 'adm', columns: { phone: 'mother.phone', no: { key: 'ZY##-##' } } }] })).toThrow(/columns\.no\.key: a key pattern needs one run of # for its counter/);
  });
});
