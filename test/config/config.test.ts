import { describe, expect, it } from '@jest/globals';
import { hospitalWarnings, parseConfig, selectHospital } from '../../src/config/index.js';
import { isoWeekOf, isoWeekRange, parseDuration } from '../../src/lib/time.js';

const hospital = { target: 'postgres://u@h/db', mapping: 'm.json', wards: ['A', 'NICU'], districts: ['鼓楼区'], rotation: { perWard: { A: 2 } } };

describe('config', () => {
  it('resolves paths relative to the file and keeps URLs', () => {
    const c = parseConfig({ vault: 'v', hospitals: { one: { ...hospital, target: 'db-dir' } } }, '/srv/cradle/cradle.config.json');
    expect(c.vault).toBe('/srv/cradle/v');
    const h = selectHospital(c);
    expect(h.target).toBe('/srv/cradle/db-dir');
    expect(h.mappingFile).toBe('/srv/cradle/m.json');
    expect(h.seedChannel).toEqual({ kind: 'system', name: 'his' });
    expect(h.cooldownDays).toBe(730);
  });

  it('names each problem by field', () => {
    let message = '';
    try {
      parseConfig({ hospitals: { one: { ...hospital, timeZone: 'Mars/Base', seedChannel: 'nowhere', rotation: { perWard: { B: 1 } } } } }, 'c.json');
    } catch (err) {
      message = (err as Error).message;
    }
    expect(message).toMatch(/c.json: hospitals.one.seedChannel: a channel is kind:name/);
    const second = (() => {
      try {
        parseConfig({ hospitals: { one: { ...hospital, timeZone: 'Mars/Base', rotation: { perWard: { B: 1 } } } } }, 'c.json');
      } catch (err) {
        return (err as Error).message;
      }
      return '';
    })();
    expect(second.split('\n')).toEqual([
      'c.json: hospitals.one.timeZone: unknown time zone "Mars/Base"',
      'c.json: hospitals.one.rotation.perWard.B: not one of the hospital\'s wards (A, NICU)',
    ]);
  });

  it('takes NICU wards as declared, checks them against the wards, and warns when they are guessed', () => {
    const declared = selectHospital(parseConfig({ hospitals: { one: { ...hospital, wards: ['产科', '新生儿科'], nicuWards: ['新生儿科'], rotation: undefined } } }, 'c.json'));
    expect([declared.nicuWards, declared.nicuWardsDeclared]).toEqual([['新生儿科'], true]);
    expect(hospitalWarnings({ file: 'c.json' }, declared)).toEqual([]);
    // Not declared: the old guess by name (NICU, 新生儿重症), and a warning since 新生儿科 looks neonatal but is not taken.
    const guessed = selectHospital(parseConfig({ hospitals: { one: { ...hospital, wards: ['A', '新生儿科', 'NICU'], rotation: undefined } } }, 'c.json'));
    expect([guessed.nicuWards, guessed.nicuWardsDeclared]).toEqual([['NICU'], false]);
    expect(hospitalWarnings({ file: 'c.json' }, guessed)).toEqual([
      'c.json: hospitals.one.nicuWards: not declared; guessed "NICU" from the ward names ("新生儿科", "NICU" look neonatal): declare "nicuWards": [...] (or []) so that canaries there get the right babies',
    ]);
    // No ward looks neonatal: nothing to say.
    const plain = selectHospital(parseConfig({ hospitals: { one: { ...hospital, wards: ['A', 'B'], rotation: undefined } } }, 'c.json'));
    expect([plain.nicuWards, hospitalWarnings({ file: 'c.json' }, plain)]).toEqual([[], []]);
    expect(() => parseConfig({ hospitals: { one: { ...hospital, nicuWards: ['NICU', '新生儿科'] } } }, 'c.json')).toThrow(
      'c.json: hospitals.one.nicuWards.1: "新生儿科" is not one of the hospital\'s wards (A, NICU)',
    );
  });

  it('takes a weekly total shared by births, or an explicit plan per ward, never both', () => {
    const weekly = selectHospital(parseConfig({ hospitals: { one: { ...hospital, rotation: { perWeek: 10 } } } }, 'c.json'));
    expect([weekly.rotation, weekly.rotationPerWeek]).toEqual([null, { total: 10, allocation: 'births', minPerWard: 1 }]);
    const explicit = selectHospital(parseConfig({ hospitals: { one: hospital } }, 'c.json'));
    expect([explicit.rotation, explicit.rotationPerWeek]).toEqual([{ A: 2 }, null]);
    expect(() => parseConfig({ hospitals: { one: { ...hospital, rotation: { perWeek: 3, perWard: { A: 1 } } } } }, 'c.json')).toThrow(
      'c.json: hospitals.one.rotation: give either perWeek (shared among wards by allocation) or perWard (an explicit plan), not both',
    );
    expect(() => parseConfig({ hospitals: { one: { ...hospital, rotation: { allocation: 'equal' } } } }, 'c.json')).toThrow(/not neither/);
    expect(() => parseConfig({ hospitals: { one: { ...hospital, rotation: { perWeek: 3, minPerWard: 2 } } } }, 'c.json')).toThrow(
      'c.json: hospitals.one.rotation.perWeek: 3 cannot give each of the 2 wards minPerWard 2; raise perWeek to at least 4 or lower minPerWard',
    );
  });

  it('takes the realism warning threshold per hospital, between 0.5 and 1', () => {
    const set = selectHospital(parseConfig({ hospitals: { one: { ...hospital, realism: { warnAbove: 0.55 } } } }, 'c.json'));
    expect(set.realismWarnAbove).toBe(0.55);
    const unset = selectHospital(parseConfig({ hospitals: { one: hospital } }, 'c.json'));
    expect(unset.realismWarnAbove).toBeUndefined();
    expect(() => parseConfig({ hospitals: { one: { ...hospital, realism: { warnAbove: 1.2 } } } }, 'c.json')).toThrow('c.json: hospitals.one.realism.warnAbove: an ROC AUC between 0.5 and 1');
    expect(() => parseConfig({ hospitals: { one: { ...hospital, realism: { warnAbove: 0.4 } } } }, 'c.json')).toThrow('c.json: hospitals.one.realism.warnAbove: an ROC AUC between 0.5 and 1');
    expect(() => parseConfig({ hospitals: { one: { ...hospital, realism: { warnAbove: 0.7, failAbove: 0.8 } } } }, 'c.json')).toThrow(/c\.json: hospitals\.one\.realism: .*failAbove/);
  });

  it('asks for --hospital when several are configured', () => {
    const c = parseConfig({ hospitals: { a: hospital, b: hospital } }, '/x/c.json');
    expect(() => selectHospital(c)).toThrow(/choose one with --hospital/);
    expect(selectHospital(c, 'b').name).toBe('b');
    expect(() => selectHospital(c, 'z')).toThrow(/no hospital "z"/);
  });
});

describe('ISO weeks and durations', () => {
  it('computes weeks in the hospital time zone', () => {
    // Sunday 2026-11-29 17:00 UTC is Monday 01:00 in Shanghai: already week 49 there.
    expect(isoWeekOf(new Date('2026-11-29T17:00:00Z'), 'Asia/Shanghai')).toBe('2026-W49');
    expect(isoWeekOf(new Date('2026-11-29T17:00:00Z'), 'America/New_York')).toBe('2026-W48');
    const r = isoWeekRange('2026-W48', 'Asia/Shanghai');
    expect(r.start.toISOString()).toBe('2026-11-22T16:00:00.000Z');
    expect(r.end.toISOString()).toBe('2026-11-29T16:00:00.000Z');
    expect(isoWeekRange('2021-W01', 'UTC').start.toISOString()).toBe('2021-01-04T00:00:00.000Z');
    expect(() => isoWeekRange('2026-W60', 'UTC')).toThrow(/no ISO week 60/);
    expect(() => isoWeekRange('2026-48', 'UTC')).toThrow(/not an ISO week/);
  });

  it('parses durations', () => {
    expect(parseDuration('14d')).toBe(14 * 86_400_000);
    expect(parseDuration('12h')).toBe(12 * 3_600_000);
    expect(parseDuration('2w')).toBe(14 * 86_400_000);
    expect(() => parseDuration('soon')).toThrow(/not a duration/);
  });
});
