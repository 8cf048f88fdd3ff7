import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { REGIONAL_DIR } from '../fixtures/regional/hospital.js';
import { runRegionalYear, type YearResult } from '../helpers/regional-year.js';

// Canaries living in the regional hospital (test/fixtures/regional) beside its own writes, with the
// full mapping (mother's ward column mapped to `motherWard`) and a coarse 3-hour cron, the worst case
// for key order: an admission due at 09:10 is written at the 12:00 tick, after real rows created
// between. Its created time still follows the newest row before it, so ids run in created order; and
// a NICU canary's mother lies on an obstetric ward, as real NICU mothers do.

type Row = Record<string, unknown>;

describe('canaries on the regional hospital: key order and the mother of a NICU baby', () => {
  let year: YearResult;
  let mothers: Row[];
  let babies: Row[];

  beforeAll(async () => {
    year = await runRegionalYear({
      seed: 'order',
      families: 500,
      from: '2025-01-01',
      to: '2025-03-01',
      installAt: '2025-01-27',
      tickMinutes: 180,
      perWard: { 产科一病区: 2, 新生儿科: 4 },
      trapNumbers: 200,
      admitAfter: 20,
      mappingFile: path.join(REGIONAL_DIR, 'mapping-full.json'),
    });
    mothers = (await year.ctx.target.query<Row>(`SELECT "ID", "KSMC", "CJSJ"::text AS "CJSJ" FROM "ZY_MQXX" ORDER BY "ID"`)).rows;
    babies = (await year.ctx.target.query<Row>(`SELECT "ID", "MQID", "KSMC", "TZ", "CJSJ"::text AS "CJSJ" FROM "XSE_XX" ORDER BY "ID"`)).rows;
  }, 300_000);
  afterAll(async () => {
    await year?.close();
  });

  it('plants canaries, NICU babies among them, without a key collision', () => {
    expect(year.canaryIds.size).toBeGreaterThanOrEqual(12);
    const nicu = babies.filter((b) => year.canaryIds.has(Number(b.MQID)) && b.KSMC === '新生儿科');
    expect(nicu.length).toBeGreaterThanOrEqual(6);
    expect(year.ctx.sim.collisions).toHaveLength(0);
    expect(year.after.collisions).toHaveLength(0);
  });

  it('puts no canary mother on the NICU: her ward is one real mothers of NICU babies are on', () => {
    const realWards = new Set(mothers.filter((m) => !year.canaryIds.has(Number(m.ID))).map((m) => m.KSMC));
    expect(realWards.has('新生儿科')).toBe(false);
    const canaryMothers = mothers.filter((m) => year.canaryIds.has(Number(m.ID)));
    for (const m of canaryMothers) expect(realWards.has(m.KSMC)).toBe(true);
  });

  it('keeps ids in created order in both tables, canaries and real rows alike', () => {
    for (const rows of [mothers, babies]) {
      const out = rows.filter((r, i) => i > 0 && String(r.CJSJ) < String(rows[i - 1].CJSJ));
      expect(out.map((r) => [r.ID, r.CJSJ])).toEqual([]);
    }
  });
});
