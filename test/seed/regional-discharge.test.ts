import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import path from 'node:path';
import { REGIONAL_DIR } from '../fixtures/regional/hospital.js';
import { defaultTick, runRegionalYear, type YearResult } from '../helpers/regional-year.js';

// A NICU baby goes home days after its mother. Its discharge is an event of its own, written by
// `canaries advance` when it is due: a dump taken during its stay shows the mother discharged and the
// baby not yet, as the hospital's own rows do, never a discharge time still to come. Checked at every
// cron tick of two months of the regional hospital (test/fixtures/regional) with canaries beside it.

type Row = Record<string, unknown>;
const fmt = (d: Date) => new Date(d.getTime() + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' ');

describe("a NICU baby's own discharge on the regional hospital", () => {
  let year: YearResult;
  const future: string[] = [];
  let inStay = 0;

  beforeAll(async () => {
    year = await runRegionalYear({
      seed: 'nicu-out',
      families: 400,
      from: '2025-01-01',
      to: '2025-03-15',
      installAt: '2025-01-27',
      tickMinutes: 180,
      perWard: { 产科一病区: 1, 新生儿科: 4 },
      trapNumbers: 200,
      admitAfter: 5,
      mappingFile: path.join(REGIONAL_DIR, 'mapping-full.json'),
      tick: async (ctx, now) => {
        const next = await defaultTick(ctx, now);
        // What a thief's dump would hold at this moment: no time in any row is later than now.
        const { rows } = await ctx.target.query<Row>(
          `SELECT b."ID", b."CYSJ"::text AS "CYSJ", b."GXSJ"::text AS "GXSJ" FROM "XSE_XX" b WHERE b."CYSJ" > $1::timestamp OR b."GXSJ" > $1::timestamp`,
          [fmt(now)],
        );
        for (const r of rows) future.push(`${fmt(now)}: baby ${String(r.ID)} CYSJ ${String(r.CYSJ)} GXSJ ${String(r.GXSJ)}`);
        const { rows: stay } = await ctx.target.query<{ n: number }>(
          `SELECT count(*)::int AS n FROM "XSE_XX" b JOIN "ZY_MQXX" m ON m."ID" = b."MQID" WHERE b."KSMC" = '新生儿科' AND m."CYSJ" IS NOT NULL AND b."CYSJ" IS NULL`,
        );
        inStay = Math.max(inStay, stay[0].n);
        return next;
      },
    });
  }, 600_000);
  afterAll(async () => {
    await year?.close();
  });

  it('never shows a discharge still to come, and writes each NICU canary baby its own discharge days after its mother', async () => {
    expect(future).toEqual([]);
    // Real and canary NICU babies still on the ward while their mothers are home.
    expect(inStay).toBeGreaterThan(0);
    const { rows } = await year.ctx.target.query<{ id: number; gap: number | null }>(
      `SELECT m."ID" AS id, extract(epoch FROM b."CYSJ" - m."CYSJ")::float8 AS gap FROM "XSE_XX" b JOIN "ZY_MQXX" m ON m."ID" = b."MQID" WHERE b."KSMC" = '新生儿科'`,
    );
    const canaries = rows.filter((r) => year.canaryIds.has(Number(r.id)));
    expect(canaries.length).toBeGreaterThanOrEqual(10);
    const done = canaries.filter((r) => r.gap !== null);
    expect(done.length).toBeGreaterThanOrEqual(5);
    expect(done.filter((r) => Math.abs(Number(r.gap)) > 86_400).length).toBeGreaterThan(done.length / 2);
    // The vault knows each written event: a baby whose own discharge is done was discharged in the target.
    const { rows: events } = await year.ctx.vault.query<{ n: number }>(`SELECT count(*)::int AS n FROM canary_events WHERE kind = 'own_discharge' AND done_at IS NOT NULL`);
    expect(events[0].n).toBeGreaterThanOrEqual(5);
    expect(year.ctx.sim.collisions).toHaveLength(0);
  });
});
