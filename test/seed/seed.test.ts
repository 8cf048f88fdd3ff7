import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { advanceCanaries, birthWindow, plantCanaries, reconcileBatches, rotate, type SeedRequest } from '../../src/seed/index.js';
import { dialectOf } from '../../src/db/index.js';
import { renderPhone, stepEvent } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS } from '../helpers/db.js';
import { count, createTestHospital, SCHEMAS, targetCounts, type SchemaName, type TestHospital } from '../helpers/hospital.js';
import { describeEachTarget, fieldColumn, refuseInserts, schemaOf, TARGET_CASES, type TargetBackend } from '../helpers/targets.js';

function request(h: TestHospital, extra: Partial<SeedRequest> = {}): SeedRequest {
  const now = new Date();
  return { hospital: h.hospital, mapping: h.mapping, count: 10, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now), ...extra };
}

function tableOf(h: TestHospital, index: number): string {
  return dialectOf(h.target).table(h.mapping.inserts[index]);
}

/** `SELECT 1 FROM <insert's table> WHERE <column> = <value>`, in the target's dialect. */
function rowsWith(h: TestHospital, index: number, column: string, value: unknown): Promise<number> {
  const d = dialectOf(h.target);
  const params: unknown[] = [];
  return count(h.target, `SELECT 1 FROM ${tableOf(h, index)} WHERE ${d.ident(column)} = ${d.param(params, value)}`, params);
}

const SEEDING: [TargetBackend, SchemaName][] = [...BACKENDS.flatMap((b) => SCHEMAS.map((s): [TargetBackend, SchemaName] => [b, s])), ['mariadb', 'mysql-his']];

describeEachTarget(SEEDING, 'seeding on %s with the %s schema', (backend, schema) => {
  let h: TestHospital & { trapNumbers: string[] };
  beforeAll(async () => {
    h = await createTestHospital({ backend, schema, population: 500, trapNumbers: 60 });
  });
  afterAll(async () => h?.close());

  it('dry run writes nothing and is reproducible with a seed', async () => {
    const before = await targetCounts(h);
    const a = await plantCanaries(h.vault, h.target, request(h, { dryRun: true, seed: '42', count: 3 }));
    const b = await plantCanaries(h.vault, h.target, request(h, { dryRun: true, seed: '42', count: 3 }));
    expect(a.planted.map((p) => p.family)).toEqual(b.planted.map((p) => p.family));
    expect(a.batchId).toBeNull();
    expect(await targetCounts(h)).toEqual(before);
    expect(await count(h.vault, 'SELECT 1 FROM canaries')).toBe(0);
    expect((await vault.poolCounts(h.vault)).assigned).toBe(0);
  });

  it("with pool.fatherNumbers 'mother', a father recorded with a phone shares the mother's trap number: one number a canary", async () => {
    const res = await plantCanaries(h.vault, h.target, request(h, { hospital: { ...h.hospital, fatherNumbers: 'mother' }, dryRun: true, seed: '11', count: 20 }));
    const withPhone = res.planted.filter((p) => p.family.father?.phone);
    expect(withPhone.length).toBeGreaterThan(5); // zh-CN fathers are recorded with a phone in about 70 % of families
    for (const p of withPhone) expect(p.family.father!.phone).toBe(p.family.mother.phone);
    expect(new Set(res.planted.map((p) => p.family.mother.phone)).size).toBe(20);
    expect(res.planted.every((p) => h.trapNumbers.includes(p.family.mother.phone!))).toBe(true);
  });

  it('plants canaries in the target and records them only in the vault', async () => {
    const before = await targetCounts(h);
    const res = await plantCanaries(h.vault, h.target, request(h, { count: 12, seed: '7' }));
    expect(res.planted).toHaveLength(12);
    expect(await targetCounts(h)).toEqual(before.map((n) => n + 12));

    const rows = await vault.listCanaries(h.vault, { hospital: 'h1' });
    expect(rows).toHaveLength(12);
    for (const c of rows) {
      expect(c.status).toBe('planted');
      expect(h.trapNumbers).toContain(c.mother_phone);
      expect(c.father_phone === null || h.trapNumbers.includes(c.father_phone)).toBe(true);
      expect(c.email === null || c.email.endsWith('@trap.example.org')).toBe(true);
      // The target row found through the vault's keys holds the canary's phone in the hospital's format.
      const last = h.mapping.inserts.length - 1;
      const key = h.mapping.inserts[last].returning[0];
      const keyValue = c.target_keys![h.mapping.inserts[last].alias][key];
      expect(keyValue).toBeDefined();
      expect(await rowsWith(h, last, key, keyValue)).toBe(1);
      const phoneCol = h.mapping.inserts[0].columns.find((col) => col.value.type === 'field' && col.value.field === 'mother.phone')!;
      const style = phoneCol.value.type === 'field' ? phoneCol.value.phone ?? 'e164' : 'e164';
      expect(await rowsWith(h, 0, phoneCol.column, renderPhone(c.mother_phone!, style))).toBe(1);
      const exposures = (await vault.exposuresOf(h.vault, c.id)).map((e) => e.channel).sort();
      expect(exposures).toEqual(['system:his', `ward:${c.ward}`].sort());
    }
    // Every trap number went to one canary only.
    const phones = rows.flatMap((c) => [c.mother_phone, c.father_phone]).filter(Boolean);
    expect(new Set(phones).size).toBe(phones.length);
    const counts = await vault.poolCounts(h.vault);
    expect(counts.assigned).toBe(phones.length);
  });

  it('fails clearly when the pool is short, before touching the target', async () => {
    const before = await targetCounts(h);
    const canariesBefore = await count(h.vault, 'SELECT 1 FROM canaries');
    await expect(plantCanaries(h.vault, h.target, request(h, { count: 500 }))).rejects.toThrow(/the trap pool is short: \d+ CN numbers needed for 500 canaries, \d+ available/);
    expect(await targetCounts(h)).toEqual(before);
    expect(await count(h.vault, 'SELECT 1 FROM canaries')).toBe(canariesBefore);
    expect(await count(h.vault, `SELECT 1 FROM seed_batches WHERE state <> 'planted'`)).toBe(0);
  });

  it('leaves nothing in either store when the target fails mid-batch', async () => {
    const before = await targetCounts(h);
    const canariesBefore = await count(h.vault, 'SELECT 1 FROM canaries');
    const poolBefore = await vault.poolCounts(h.vault);
    const last = h.mapping.inserts.length - 1;
    // A real failure inside the target: the 5th row of this batch's second table is refused.
    const drop = await refuseInserts(h.target, h.mapping.inserts[last], 'cradle_test_fail', `(SELECT count(*) FROM ${tableOf(h, last)}) >= ${before[last] + 4}`, 'injected failure');
    try {
      await expect(plantCanaries(h.vault, h.target, request(h, { count: 8 }))).rejects.toThrow(/seeding failed in the target .*nothing was planted: injected failure/);
    } finally {
      await drop();
    }
    expect(await targetCounts(h)).toEqual(before);
    expect(await count(h.vault, 'SELECT 1 FROM canaries')).toBe(canariesBefore);
    expect(await vault.poolCounts(h.vault)).toEqual(poolBefore);
    expect(await count(h.vault, `SELECT 1 FROM seed_batches WHERE state = 'failed' AND error LIKE '%injected failure%'`)).toBe(1);
  });

  it('reconciles a batch interrupted after the target committed', async () => {
    // The vault refuses the final "planted" record, as if the process died between the two commits.
    await h.vault.exec(`
      CREATE FUNCTION cradle_test_die() RETURNS trigger LANGUAGE plpgsql AS $$ BEGIN RAISE EXCEPTION 'killed'; END $$;
      CREATE TRIGGER cradle_test_die BEFORE INSERT ON exposures FOR EACH ROW EXECUTE FUNCTION cradle_test_die();`);
    const before = await targetCounts(h);
    try {
      await expect(plantCanaries(h.vault, h.target, request(h, { count: 3 }))).rejects.toThrow(/killed/);
    } finally {
      await h.vault.exec('DROP TRIGGER cradle_test_die ON exposures; DROP FUNCTION cradle_test_die();');
    }
    expect(await targetCounts(h)).toEqual(before.map((n) => n + 3));
    expect(await count(h.vault, `SELECT 1 FROM canaries WHERE status = 'pending'`)).toBe(3);
    const results = await reconcileBatches(h.vault, h.target, h.hospital, h.mapping, new Date());
    expect(results).toEqual([expect.objectContaining({ outcome: 'planted', canaries: 3 })]);
    expect(await count(h.vault, `SELECT 1 FROM canaries WHERE status = 'pending'`)).toBe(0);
    expect(await count(h.vault, `SELECT 1 FROM canaries WHERE status = 'planted' AND target_keys IS NOT NULL AND batch_id = $1`, [results[0].batchId])).toBe(3);
    expect(await count(h.vault, `SELECT 1 FROM exposures e JOIN canaries c ON c.id = e.canary_id WHERE c.batch_id = $1`, [results[0].batchId])).toBe(6);
  });

  it('discards a batch interrupted before the target committed and frees its numbers', async () => {
    const poolBefore = await vault.poolCounts(h.vault);
    const dry = await plantCanaries(h.vault, h.target, request(h, { count: 2, dryRun: true }));
    const available = await vault.availableNumbers(h.vault, 'h1', 'CN');
    await h.vault.transaction(async (tx) => {
      await vault.recordBatchIntent(tx, { id: 'crashed', hospital: 'h1', rotationId: null, ward: null, channels: ['system:his'] }, dry.planted.map((p) => ({ id: `x-${p.id}`, family: p.family, isoWeek: '2026-W48' })));
      await vault.assignNumbers(tx, [{ numberId: available[0].id, canaryId: `x-${dry.planted[0].id}`, role: 'mother' }], new Date());
    });
    const results = await reconcileBatches(h.vault, h.target, h.hospital, h.mapping, new Date());
    expect(results).toEqual([{ batchId: 'crashed', outcome: 'discarded', canaries: 2 }]);
    expect(await count(h.vault, `SELECT 1 FROM canaries WHERE batch_id = 'crashed'`)).toBe(0);
    expect(await vault.poolCounts(h.vault)).toEqual(poolBefore);
  });
});

/** The insert made at the birth (the baby's row). */
function birthStep(h: TestHospital) {
  return h.mapping.inserts.find((s) => stepEvent(s) === 'birth')!;
}

/** The ward of the row a birth insert writes, as SQL over its NEW row: its own column, or its mother's row's through the ref. */
function wardOfNew(h: TestHospital): string {
  const d = dialectOf(h.target);
  const ward = fieldColumn(h.mapping, 'ward');
  const birth = birthStep(h);
  if (ward.step === birth) return `NEW.${d.ident(ward.column)}`;
  const ref = birth.columns.find((c) => c.value.type === 'ref' && c.value.alias === ward.step.alias)!;
  const key = (ref.value as { column: string }).column;
  return `(SELECT ${d.ident(ward.column)} FROM ${d.table(ward.step)} WHERE ${d.ident(key)} = NEW.${d.ident(ref.column)})`;
}

describeEachTarget(TARGET_CASES, 'weekly rotation on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: schemaOf(backend), population: 200, trapNumbers: 40, rotation: { 产科一病区: 2, NICU: 1 } });
  });
  afterAll(async () => h?.close());

  it('schedules the week once, writes nothing until advance, carries a failed event over, and retires earlier weeks', async () => {
    const now = new Date();
    const before = await targetCounts(h);
    const first = await rotate(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, week: '2026-W40', now });
    expect(first.plantedNow.map((p) => [p.ward, p.canaries.length])).toEqual([['产科一病区', 2], ['NICU', 1]]);
    // A past week is scheduled from its end: admissions and births in the days after it, not before
    // (births in the seven days from 30 hours after it: weekly runs leave no hour of the week without).
    const weekEnd = new Date('2026-10-04T16:00:00Z');
    for (const c of first.plantedNow.flatMap((p) => p.canaries)) {
      expect(new Date(c.family.admittedAt) >= weekEnd).toBe(true);
      expect(new Date(c.family.baby.birthTime) < new Date(weekEnd.getTime() + 30 * 3_600_000 + 7 * 86_400_000)).toBe(true);
      expect(c.events!.map((e) => e.kind)).toEqual(['admission', 'birth', 'discharge']);
    }
    expect(await targetCounts(h)).toEqual(before);
    expect((await vault.listCanaries(h.vault, { week: '2026-W40' })).map((c) => c.status)).toEqual(['scheduled', 'scheduled', 'scheduled']);
    const again = await rotate(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, week: '2026-W40', now });
    expect(again.plantedNow).toEqual([]);
    expect(again.alreadyComplete).toBe(true);
    expect(await targetCounts(h)).toEqual(before);

    // The NICU canary's birth is refused by the target: the run stops there, what came before is recorded.
    const drop = await refuseInserts(h.target, birthStep(h), 'cradle_test_nicu', `${wardOfNew(h)} = 'NICU'`, 'NICU insert refused');
    const until = new Date(weekEnd.getTime() + 30 * 86_400_000);
    await expect(advanceCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, until, simulated: true })).rejects.toThrow(/birth .*failed in the target .*NICU insert refused.*a run after 10 minute\(s\) looks for it in the target/);
    await drop();
    // The failed birth stays claimed for the lease (10 minutes); a run after it writes the birth.
    const early = await advanceCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, until, simulated: true });
    expect(early.events.some((e) => e.ward === 'NICU')).toBe(false);
    const resumed = await advanceCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, until, simulated: true, leaseMs: 0 });
    expect(resumed.events.filter((e) => e.ward === 'NICU').map((e) => e.event)).toEqual(['birth', 'discharge']);
    expect(await targetCounts(h)).toEqual(before.map((n) => n + 3));
    expect(await count(h.vault, `SELECT 1 FROM canary_events WHERE done_at IS NULL`)).toBe(0);
    // Every row still without a discharge is one of the population's (keys 1…n): the canaries were all discharged.
    const discharge = fieldColumn(h.mapping, 'dischargedAt');
    const d = dialectOf(h.target);
    const undischarged = `SELECT 1 FROM ${d.table(discharge.step)} WHERE ${d.ident(discharge.column)} IS NULL`;
    const params: unknown[] = [];
    expect(await count(h.target, undischarged)).toBe(await count(h.target, `${undischarged} AND ${d.ident(discharge.step.returning[0])} <= ${d.param(params, before[discharge.index])}`, params));

    const w41 = await rotate(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, week: '2026-W41', now });
    expect(w41.plantedNow.map((p) => [p.ward, p.canaries.length])).toEqual([['产科一病区', 2], ['NICU', 1]]);
    expect(w41.retired).toBe(3);
    const w40 = await vault.listCanaries(h.vault, { week: '2026-W40' });
    expect(w40.map((c) => c.status)).toEqual(['retired', 'retired', 'retired']);
    // Retired canaries stay in the target and keep their (now resting) numbers.
    for (const c of w40) {
      const numbers = await vault.trapNumbersOf(h.vault, c.id);
      expect(numbers.every((n) => n.state === 'retired' && n.released_at !== null)).toBe(true);
    }
    expect(await count(h.vault, `SELECT 1 FROM trap_numbers WHERE state = 'retired' AND cooldown_until > now() + interval '700 days'`)).toBeGreaterThanOrEqual(3);
    expect((await vault.listCanaries(h.vault, { week: '2026-W41' })).every((c) => c.status === 'scheduled')).toBe(true);
    expect(await vault.listRotations(h.vault, 'h1')).toEqual([expect.objectContaining({ iso_week: '2026-W40', planted: 3 }), expect.objectContaining({ iso_week: '2026-W41', planted: 3 })]);
  });

  it('refuses a week that has not started', async () => {
    await expect(rotate(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, week: '2099-W01', now: new Date() })).rejects.toThrow(/has not started yet/);
  });
});
