import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import { randomMobile } from '../../src/demo/setup.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { advanceCanaries, rotate } from '../../src/seed/index.js';
import { checkTarget, nextKeys, parseMapping, type Mapping } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import type { HospitalConfig } from '../../src/config/index.js';
import { BACKENDS, newDatabase, type TestLocation } from '../helpers/db.js';
import { count, hospitalConfig } from '../helpers/hospital.js';

// Canaries that live in the target like real patients: a hospital system that numbers admissions
// 20261207#### itself (max + 1 of the day) keeps admitting real mothers before, between and after the
// canaries' own admissions, births and discharges, which `advance` writes as the simulated clock reaches them.

const SCHEMA = `
CREATE TABLE admissions (
  id            serial PRIMARY KEY,
  adm_no        text NOT NULL UNIQUE,
  mother_name   text NOT NULL,
  mother_phone  text,
  ward          text NOT NULL,
  admitted_at   timestamptz NOT NULL,
  birth_time    timestamptz,
  weight_g      integer,
  discharged_at timestamptz,
  created_at    timestamptz NOT NULL,
  updated_at    timestamptz NOT NULL
);
CREATE INDEX admissions_phone ON admissions (mother_phone);
CREATE TABLE babies (
  id            serial PRIMARY KEY,
  admission_id  integer NOT NULL REFERENCES admissions (id),
  baby_name     text,
  sex           char(1) NOT NULL,
  birth_time    timestamptz NOT NULL,
  created_at    timestamptz NOT NULL
);`;

const MAPPING = {
  inserts: [
    {
      as: 'adm',
      table: 'admissions',
      at: 'admission',
      returning: ['id'],
      columns: {
        adm_no: { key: '{yyyyMMdd}####' },
        mother_name: 'mother.name',
        mother_phone: { field: 'mother.phone', phone: 'national' },
        ward: 'ward',
        admitted_at: 'admittedAt',
        birth_time: 'baby.birthTime',
        weight_g: 'baby.weightGrams',
        discharged_at: 'dischargedAt',
        created_at: { stamp: 'created' },
        updated_at: { stamp: 'updated' },
      },
    },
    {
      as: 'baby',
      table: 'babies',
      returning: ['id'],
      columns: {
        admission_id: { ref: 'adm.id' },
        baby_name: 'baby.name',
        sex: { field: 'baby.sex', map: { female: 'F', male: 'M' } },
        birth_time: 'baby.birthTime',
        created_at: { stamp: 'created' },
      },
    },
  ],
};

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The hospital's own system: admits a real mother at `at`, numbering her admission max + 1 of the day. */
async function admitReal(target: Database, rng: ReturnType<typeof createRandom>, at: Date, issued: string[]): Promise<void> {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(at).replace(/-/g, '');
  await target.transaction(async (tx) => {
    const { rows } = await tx.query<{ max: string | null }>(`SELECT max(adm_no) AS max FROM admissions WHERE adm_no LIKE $1`, [`${day}%`]);
    const next = `${day}${String(Number((rows[0].max ?? `${day}0000`).slice(8)) + 1).padStart(4, '0')}`;
    await tx.query(
      `INSERT INTO admissions (adm_no, mother_name, mother_phone, ward, admitted_at, created_at, updated_at) VALUES ($1, $2, $3, '产科一病区', $4, $4, $4)`,
      [next, `真实${issued.length}`, randomMobile(rng).slice(3), at.toISOString()],
    );
    issued.push(next);
  });
}

describe.each(BACKENDS)('canaries living in the target on %s', (backend) => {
  let locations: TestLocation[];
  let target: Database;
  let vaultDb: Database;
  let hospital: HospitalConfig;
  let mapping: Mapping;
  const rng = createRandom('lifecycle');
  const issued: string[] = [];
  const T0 = new Date('2026-11-30T01:00:00Z'); // Monday 09:00 in Shanghai: the rotation's cron job

  beforeAll(async () => {
    locations = [await newDatabase(backend, 'vault'), await newDatabase(backend, 'target')];
    target = await openDatabase(locations[1].location);
    await target.exec(SCHEMA);
    vaultDb = await openDatabase(locations[0].location);
    await migrate(vaultDb);
    hospital = hospitalConfig('reference', locations[1].location, { 产科一病区: 3, NICU: 1 });
    mapping = parseMapping(MAPPING, 'lifecycle mapping');
    await vault.ensureHospital(vaultDb, hospital.name, hospital.locale);
    const traps = new Set<string>();
    const trapRng = createRandom('lifecycle:traps');
    while (traps.size < 20) traps.add(randomMobile(trapRng));
    await vault.addTrapNumbers(vaultDb, [...traps].map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
    // Real admissions in the days before the rotation.
    for (let t = T0.getTime() - 3 * DAY; t < T0.getTime(); t += 5 * HOUR) await admitReal(target, rng, new Date(t), issued);
  });
  afterAll(async () => {
    await target?.close();
    await vaultDb?.close();
    for (const l of locations ?? []) await l.cleanup();
  });

  it('the mapping fits the schema, with no warning', async () => {
    expect(await checkTarget(target, mapping)).toEqual([]);
  });

  it('admits, delivers and discharges each canary when due, in sequence with the real patients', async () => {
    const rotation = await rotate(vaultDb, target, { hospital, mapping, week: '2026-W49', now: T0, seed: 'lifecycle' });
    const canaries = rotation.plantedNow.flatMap((p) => p.canaries);
    expect(canaries).toHaveLength(4);
    const realBefore = await count(target, 'SELECT 1 FROM admissions');
    expect(await count(target, 'SELECT 1 FROM babies')).toBe(0);
    for (const c of canaries) expect(new Date(c.family.admittedAt) > T0).toBe(true);
    const phones = canaries.map((c) => c.family.mother.phone!.slice(3));
    const inTarget = () => count(target, 'SELECT 1 FROM admissions WHERE mother_phone = ANY($1::text[])', [phones]);

    // --dry-run shows what is due and writes nothing, in either store.
    const dryUntil = T0.getTime() + 5 * DAY;
    const dry = await advanceCanaries(vaultDb, target, { hospital, mapping, until: new Date(dryUntil), simulated: true, dryRun: true });
    expect(dry.events.map((e) => `${e.canaryId} ${e.event}`).sort()).toEqual(
      canaries.flatMap((c) => c.events!.filter((e) => Date.parse(e.dueAt) <= dryUntil).map((e) => `${c.id} ${e.kind}`)).sort(),
    );
    expect(dry.events[0].writes?.insert).toBeDefined();
    expect(await inTarget()).toBe(0);
    expect(await count(vaultDb, 'SELECT 1 FROM canary_events WHERE done_at IS NOT NULL OR started_at IS NOT NULL')).toBe(0);
    expect(await count(vaultDb, `SELECT 1 FROM exposures`)).toBe(0);

    // The clock runs until the last discharge: the cron job's advance every half hour, a real admission every 3 hours.
    const end = Math.max(...canaries.flatMap((c) => c.events!.map((e) => Date.parse(e.dueAt)))) + HOUR;
    const issuedBefore = issued.length;
    // The first birth's vault record is lost once, as if the process died right after the target commit.
    let crashed = false;
    const afterTargetCommit = (e: { event: string }) => {
      if (e.event === 'birth' && !crashed) {
        crashed = true;
        throw new Error('killed after the target commit');
      }
    };
    let reconciled = 0;
    for (let t = T0.getTime() + HOUR; t <= end; t += HOUR / 2) {
      const until = new Date(t);
      try {
        // leaseMs 0: the simulated clock runs faster than the 10 minutes a claim is normally left to its run.
        const res = await advanceCanaries(vaultDb, target, { hospital, mapping, until, simulated: true, afterTargetCommit, leaseMs: 0 });
        reconciled += res.events.filter((e) => e.reconciled).length;
      } catch (err) {
        expect(String(err)).toMatch(/killed after the target commit/);
      }
      // Canaries appear only when due: exactly those admitted by now are there.
      expect(await inTarget()).toBe(canaries.filter((c) => new Date(c.family.admittedAt).getTime() <= t).length);
      if (t % (3 * HOUR) === 0) await admitReal(target, rng, until, issued);
    }
    expect(crashed).toBe(true);
    expect(reconciled).toBe(1);
    expect(await count(vaultDb, 'SELECT 1 FROM canary_events WHERE done_at IS NULL')).toBe(0);

    const { rows } = await target.query<{ id: number; adm_no: string; mother_phone: string; admitted_at: Date; birth_time: Date | null; discharged_at: Date | null; created_at: Date; updated_at: Date }>(
      'SELECT id, adm_no, mother_phone, admitted_at, birth_time, discharged_at, created_at, updated_at FROM admissions ORDER BY id',
    );
    expect(rows.length).toBe(realBefore + 4 + issued.length - issuedBefore);
    // Ids, admission numbers and created times all grow together: canaries sit among real rows in time order.
    for (let i = 1; i < rows.length; i++) {
      expect(rows[i].created_at.getTime()).toBeGreaterThan(rows[i - 1].created_at.getTime());
      expect(rows[i].adm_no > rows[i - 1].adm_no).toBe(true);
    }
    const canaryRows = rows.filter((r) => phones.includes(r.mother_phone));
    expect(canaryRows).toHaveLength(4);
    const firstId = rows[0].id;
    const lastId = rows[rows.length - 1].id;
    expect(canaryRows.every((r) => r.id > firstId && r.id < lastId)).toBe(true);
    // Every admission number is unique and none the hospital issued (before or after) is a canary's.
    expect(new Set(rows.map((r) => r.adm_no)).size).toBe(rows.length);
    for (const r of canaryRows) expect(issued).not.toContain(r.adm_no);
    // Each canary row: created when admitted, its birth filled in, discharged, updated at discharge.
    for (const c of canaries) {
      const r = canaryRows.find((x) => x.mother_phone === c.family.mother.phone!.slice(3))!;
      expect(r.created_at.toISOString()).toBe(c.family.admittedAt);
      expect(r.birth_time!.toISOString()).toBe(c.family.baby.birthTime);
      expect(r.discharged_at).not.toBeNull();
      expect(r.updated_at.getTime()).toBe(r.discharged_at!.getTime());
      const day = new Intl.DateTimeFormat('en-CA', { timeZone: 'Asia/Shanghai' }).format(r.created_at).replace(/-/g, '');
      expect(r.adm_no.startsWith(day)).toBe(true);
    }
    // No two rows share a created time.
    expect(new Set(rows.map((r) => r.created_at.getTime())).size).toBe(rows.length);
    // One baby per canary, though one birth was interrupted after its commit; created at the birth.
    const { rows: babies } = await target.query<{ admission_id: number; birth_time: Date; created_at: Date }>('SELECT admission_id, birth_time, created_at FROM babies');
    expect(babies).toHaveLength(4);
    expect(new Set(babies.map((b) => b.admission_id))).toEqual(new Set(canaryRows.map((r) => r.id)));
    for (const b of babies) expect(b.created_at.getTime()).toBe(b.birth_time.getTime());

    // The vault: planted when admitted, exposed from then, the discharge recorded, keys kept.
    const planted = await vault.listCanaries(vaultDb, { hospital: hospital.name });
    for (const c of planted) {
      expect(c.status).toBe('planted');
      expect(c.family.dischargedAt).not.toBeNull();
      expect(c.planted_at!.toISOString()).toBe(c.family.admittedAt);
      expect(c.target_keys).toMatchObject({ adm: { id: expect.any(Number), adm_no: expect.any(String) }, baby: { id: expect.any(Number) } });
      const exposures = await vault.exposuresOf(vaultDb, c.id);
      expect(exposures.map((e) => e.channel).sort()).toEqual([hospital.seedChannel.kind + ':' + hospital.seedChannel.name, `ward:${c.ward}`].sort());
      expect(exposures.every((e) => e.exposed_at.toISOString() === c.family.admittedAt)).toBe(true);
    }
    expect(await count(vaultDb, `SELECT 1 FROM seed_batches WHERE state = 'planted'`)).toBe(2);
  }, 300_000);

  it('leaves an event claimed by a run at work alone, and discharges canaries retired before their discharge', async () => {
    const T1 = new Date('2026-12-14T01:00:00Z');
    const next = await rotate(vaultDb, target, { hospital, mapping, week: '2026-W51', now: T1, seed: 'lifecycle' });
    const ids = next.plantedNow.flatMap((p) => p.canaries.map((c) => c.id));
    // A week later all are admitted and born; the next rotation retires them, some before their discharge.
    const T2 = new Date(T1.getTime() + 7 * DAY);
    // A run still at work on the first canary's admission (claimed a moment ago): this run leaves that
    // canary alone, admission and all later events, and carries out the others'.
    const first = next.plantedNow.flatMap((p) => p.canaries).sort((a, b) => a.family.admittedAt.localeCompare(b.family.admittedAt))[0];
    expect(await vault.claimEvent(vaultDb, first.id, 'admission', 600_000)).toEqual({ claimed: true, previous: null });
    const busy = await advanceCanaries(vaultDb, target, { hospital, mapping, until: T2, simulated: true });
    expect(busy.events.some((e) => e.canaryId === first.id)).toBe(false);
    expect(busy.planted).toBe(3);
    expect(await count(target, 'SELECT 1 FROM admissions WHERE mother_phone = $1', [first.family.mother.phone!.slice(3)])).toBe(0);
    // Its claim expired (the run died before writing): the next run looks in the target, finds nothing, writes it once.
    const resumed = await advanceCanaries(vaultDb, target, { hospital, mapping, until: T2, simulated: true, leaseMs: 0 });
    expect(resumed.events.filter((e) => e.canaryId === first.id).map((e) => [e.event, e.reconciled])).toEqual(
      first.events!.filter((e) => Date.parse(e.dueAt) <= T2.getTime()).map((e) => [e.kind, false]),
    );
    expect(await count(target, 'SELECT 1 FROM admissions WHERE mother_phone = $1', [first.family.mother.phone!.slice(3)])).toBe(1);
    const retiring = await rotate(vaultDb, target, { hospital, mapping, week: '2026-W52', now: T2, seed: 'lifecycle' });
    expect(retiring.retired).toBe(4);
    const retired = await vault.listCanaries(vaultDb, { week: '2026-W51' });
    expect(retired.every((c) => c.status === 'retired')).toBe(true);
    expect(retired.some((c) => c.family.dischargedAt === null)).toBe(true);
    await advanceCanaries(vaultDb, target, { hospital, mapping, until: new Date(T2.getTime() + 60 * DAY), simulated: true });
    expect(await count(vaultDb, `SELECT 1 FROM canary_events WHERE canary_id = ANY($1::text[]) AND done_at IS NULL`, [ids])).toBe(0);
    expect((await vault.listCanaries(vaultDb, { week: '2026-W51' })).every((c) => c.status === 'retired' && c.family.dischargedAt !== null)).toBe(true);
    const phones = next.plantedNow.flatMap((p) => p.canaries.map((c) => c.family.mother.phone!.slice(3)));
    expect(await count(target, 'SELECT 1 FROM admissions WHERE mother_phone = ANY($1::text[]) AND discharged_at IS NOT NULL', [phones])).toBe(4);
  }, 120_000);

  it('takes a key from the hospital system\'s own sequence when it keeps its counter there', async () => {
    await target.exec(`CREATE SEQUENCE mrn_seq START 4711; CREATE TABLE records (mrn text PRIMARY KEY, mother_phone text);`);
    const m = parseMapping({ inserts: [{ as: 'r', table: 'records', columns: { mrn: { key: 'ZY{yyyyMMdd}######', sequence: 'mrn_seq' }, mother_phone: 'mother.phone' } }] });
    const at = new Date('2026-12-06T23:30:00Z');
    const keys = await target.transaction((tx) => nextKeys(tx, m.inserts[0], 2, at, 'Asia/Shanghai'));
    expect(keys.get('mrn')).toEqual(['ZY20261207004711', 'ZY20261207004712']);
    // The hospital's next number comes after Cradle's.
    expect((await target.query<{ n: string }>(`SELECT nextval('mrn_seq')::text AS n`)).rows[0].n).toBe('4713');
  });
});
