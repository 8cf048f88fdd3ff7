import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase, type Database } from '../../src/db/index.js';
import { validIdCard } from '../fixtures/regional/generate.js';
import { admitMore, buildRegionalHospital, REGIONAL_MAPPING, RegionalHospital } from '../fixtures/regional/hospital.js';
import { loadMapping } from '../../src/targetdb/index.js';
import { BACKENDS, newDatabase, type TestLocation } from '../helpers/db.js';
import { dumpTables, thief, uniform, type Dump } from '../helpers/thief.js';

// The measuring instrument of issue 12: the regional hospital fixture looks like a hospital of its own
// (names, NICU, keys, ID cards), and the thief is honest: it finds an obvious fake and nothing in a
// random split of real rows.

type Mother = { ID: number; ZYH: string; XM: string; SFZH: string; CSRQ: string; RYSJ: string; CJSJ: string; CYSJ: string | null };
type Baby = { ID: number; MQID: number; XM: string; TZ: number; KSMC: string; CJSJ: string };

describe.each(BACKENDS)('the regional hospital on %s', (backend) => {
  let loc: TestLocation;
  let db: Database;
  let mothers: Mother[];
  let babies: Baby[];
  let dump: Dump;

  beforeAll(async () => {
    loc = await newDatabase(backend, 'regional');
    db = await openDatabase(loc.location);
    await buildRegionalHospital(db, { seed: 'test', families: 600, from: '2025-01-01', to: '2026-01-01' });
    mothers = (await db.query<Mother>(`SELECT "ID", "ZYH", "XM", "SFZH", to_char("CSRQ", 'YYYY-MM-DD') AS "CSRQ", "RYSJ"::text AS "RYSJ", "CJSJ"::text AS "CJSJ", "CYSJ"::text AS "CYSJ" FROM "ZY_MQXX" ORDER BY "ID"`)).rows;
    babies = (await db.query<Baby>(`SELECT "ID", "MQID", "XM", "TZ", "KSMC", "CJSJ"::text AS "CJSJ" FROM "XSE_XX" ORDER BY "ID"`)).rows;
    dump = await dumpTables(db, [{ table: 'ZY_MQXX' }, { table: 'XSE_XX', on: ['MQID', 'ZY_MQXX.ID'] }]);
  });
  afterAll(async () => {
    await db.close();
    await loc.cleanup();
  });

  it('writes every family, with a mapping Cradle accepts', () => {
    expect(mothers).toHaveLength(600);
    expect(babies.length).toBeGreaterThan(590);
    expect(loadMapping(REGIONAL_MAPPING).inserts.map((s) => s.table)).toEqual(['ZY_MQXX', 'XSE_XX']);
  });

  it('repeats whole names and reduplicates some, as a real year does', () => {
    const given = new Map<string, number>();
    for (const m of mothers) given.set(m.XM.slice(1), (given.get(m.XM.slice(1)) ?? 0) + 1);
    const full = new Map<string, number>();
    for (const m of mothers) full.set(m.XM, (full.get(m.XM) ?? 0) + 1);
    expect(Math.max(...given.values())).toBeGreaterThanOrEqual(15);
    expect([...full.values()].filter((k) => k >= 2).length).toBeGreaterThanOrEqual(3);
    const redup = mothers.filter((m) => m.XM.length === 3 && m.XM[1] === m.XM[2]).length / mothers.length;
    expect(redup).toBeGreaterThan(0.03);
    expect(redup).toBeLessThan(0.1);
    const placeholders = babies.filter((b) => /之[女子]$/.test(b.XM)).length / babies.length;
    expect(placeholders).toBeGreaterThan(0.1);
    expect(placeholders).toBeLessThan(0.35);
  });

  it('puts about 8 % of births in 新生儿科 with low weights, recorded to 10 g', () => {
    const nicu = babies.filter((b) => b.KSMC === '新生儿科');
    const term = babies.filter((b) => b.KSMC !== '新生儿科');
    const mean = (xs: Baby[]) => xs.reduce((a, b) => a + b.TZ, 0) / xs.length;
    expect(nicu.length / babies.length).toBeGreaterThan(0.04);
    expect(nicu.length / babies.length).toBeLessThan(0.13);
    expect(mean(nicu)).toBeGreaterThan(2400);
    expect(mean(nicu)).toBeLessThan(3100);
    expect(nicu.filter((b) => b.TZ < 2500).length / nicu.length).toBeGreaterThan(0.2);
    expect(mean(term)).toBeGreaterThan(3150);
    expect(babies.every((b) => b.TZ % 10 === 0)).toBe(true);
  });

  it('gives ids in time order and admission numbers in sequence per day', () => {
    for (const rows of [mothers, babies]) for (let i = 1; i < rows.length; i++) expect(rows[i].CJSJ >= rows[i - 1].CJSJ).toBe(true);
    const lastOfDay = new Map<string, number>();
    for (const m of mothers) {
      expect(m.ZYH.slice(0, 8)).toBe(m.RYSJ.slice(0, 10).replace(/-/g, ''));
      const seq = Number(m.ZYH.slice(8));
      expect(seq).toBe((lastOfDay.get(m.ZYH.slice(0, 8)) ?? 0) + 1);
      lastOfDay.set(m.ZYH.slice(0, 8), seq);
    }
  });

  it('writes valid ID-card numbers with the mother\'s birth date', () => {
    expect(mothers.every((m) => validIdCard(m.SFZH) && m.SFZH.slice(6, 14) === m.CSRQ.replace(/-/g, ''))).toBe(true);
    expect(mothers.filter((m) => m.SFZH.startsWith('3204')).length / mothers.length).toBeGreaterThan(0.7);
  });

  it('continues its own admissions after the year with the next ids and numbers', async () => {
    const before = mothers[mothers.length - 1].ID;
    const more = await admitMore(db, 4, { seed: 'test', at: new Date('2026-01-05T02:00:00Z') });
    expect(more.collisions).toEqual([]);
    expect(more.admitted.map((a) => a.ID)).toEqual([before + 1, before + 2, before + 3, before + 4]);
    expect(more.admitted[0].ZYH).toBe(`${more.admitted[0].RYSJ.slice(0, 10).replace(/-/g, '')}0001`);
  });

  it('reports, not throws, an admission refused because someone took its number', async () => {
    const at = new Date('2026-02-02T01:00:00Z'); // 09:00 local
    await db.query(`INSERT INTO "ZY_MQXX" ("ZYH", "XM", "KSMC", "RYSJ") VALUES ('202602020001', '某某', '产科一病区', '2026-02-02 09:00:00')`);
    const more = await admitMore(db, 2, { seed: 'x', at, numbering: 'counter' });
    expect(more.collisions.map((c) => [c.column, c.value])).toEqual([['ZYH', '202602020001']]);
    expect(more.admitted.map((a) => a.ZYH)).toEqual(['202602020002']);
  });

  it('records its admissions that a row holding its next number or id made fail', async () => {
    const loc2 = await newDatabase(backend, 'regional2');
    const db2 = await openDatabase(loc2.location);
    try {
      const sim = await buildRegionalHospital(db2, { seed: 'c', families: 40, from: '2025-03-01', to: '2025-03-08', numbering: 'counter' });
      expect(sim.collisions).toEqual([]);
      const last = (await db2.query<{ id: number }>('SELECT max("ID") AS id FROM "ZY_MQXX"')).rows[0].id;
      // a row with an explicit id two ahead of the sequence, and one holding the counter's next number of 03-10
      await db2.query(`INSERT INTO "ZY_MQXX" ("ID", "ZYH", "XM", "KSMC", "RYSJ") VALUES ($1, '202503100001', '某某', '产科一病区', '2025-03-09 12:00:00')`, [last + 2]);
      const later = new RegionalHospital(db2, { seed: 'd', families: 30, from: '2025-03-10', to: '2025-03-12', numbering: 'counter' });
      await later.runUntil(new Date('2025-03-20T00:00:00Z'));
      expect(later.collisions.map((c) => [c.column, c.value])).toEqual(expect.arrayContaining([['ID', String(last + 2)], ['ZYH', '202503100001']]));
      expect(later.collisions).toHaveLength(2);
    } finally {
      await db2.close();
      await loc2.cleanup();
    }
  });

  it('lets the thief find rows written on the minute', () => {
    const rand = uniform(7);
    const fake = new Set<number>();
    const rows = dump.rows.map((r) => {
      if (rand() >= 0.12) return r;
      fake.add(r['ZY_MQXX.ID'] as number);
      const copy = { ...r };
      for (const c of ['ZY_MQXX.RYSJ', 'ZY_MQXX.CYSJ', 'ZY_MQXX.CJSJ', 'ZY_MQXX.GXSJ', 'XSE_XX.CSSJ', 'XSE_XX.CJSJ']) if (typeof copy[c] === 'string') copy[c] = `${(copy[c] as string).slice(0, 17)}00`;
      return copy;
    });
    const report = thief({ columns: dump.columns, rows }, (r) => fake.has(r['ZY_MQXX.ID'] as number));
    expect(report.supervisedAuc).toBeGreaterThan(0.9);
    // one flag in six columns is a small part of ~150 discrete features: the unsupervised score sees it, weakly
    expect(report.typicalityAuc).toBeGreaterThan(0.6);
    expect(report.topUnivariate[0].feature).toMatch(/sec0/);
  });

  it('finds nothing in a random split of real rows', () => {
    const rand = uniform(11);
    const picked = new Set(dump.rows.filter(() => rand() < 0.15).map((r) => r['ZY_MQXX.ID'] as number));
    const report = thief(dump, (r) => picked.has(r['ZY_MQXX.ID'] as number));
    expect(Math.abs(report.supervisedAuc - 0.5)).toBeLessThan(0.1);
    expect(Math.abs(report.typicalityAuc - 0.5)).toBeLessThan(0.1);
  });
});
