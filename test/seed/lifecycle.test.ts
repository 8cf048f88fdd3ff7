import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { dialectOf, migrate, openDatabase, type Database, type Queryable } from '../../src/db/index.js';
import { demoPopulation, randomMobile } from '../../src/demo/setup.js';
import { format as formatDate } from 'date-fns/format';
import { TZDate } from '@date-fns/tz';
import { createRandom } from '../../src/lib/generate/index.js';
import { advanceCanaries, rotate } from '../../src/seed/index.js';
import { checkTarget, nextKeys, parseMapping, writeEvents, type EventWrite, type Mapping } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import type { HospitalConfig } from '../../src/config/index.js';
import { newDatabase, type TestLocation } from '../helpers/db.js';
import { count, hospitalConfig } from '../helpers/hospital.js';
import { newMariadbDatabase } from '../helpers/mariadb.js';
import { describeEachTarget, TARGET_CASES } from '../helpers/targets.js';

// Canaries that live in the target like real patients: a hospital system that numbers admissions
// 20261207#### itself (max + 1 of the day) keeps admitting real mothers before, between and after the
// canaries' own admissions, births and discharges, which `advance` writes as the simulated clock reaches them.
// On MariaDB the same hospital keeps its times as DATETIME(3) in its own zone, and its mapping says so
// with a "format" on each time (target check refuses a bare instant there).

const PG_SCHEMA = `
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

const MYSQL_SCHEMA = `
CREATE TABLE admissions (
  id            INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  adm_no        VARCHAR(20) NOT NULL UNIQUE,
  mother_name   VARCHAR(64) NOT NULL,
  mother_phone  VARCHAR(20),
  ward          VARCHAR(32) NOT NULL,
  admitted_at   DATETIME(3) NOT NULL,
  birth_time    DATETIME(3),
  weight_g      INT,
  discharged_at DATETIME(3),
  created_at    DATETIME(3) NOT NULL,
  updated_at    DATETIME(3) NOT NULL,
  KEY admissions_phone (mother_phone)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;
CREATE TABLE babies (
  id            INT NOT NULL AUTO_INCREMENT PRIMARY KEY,
  admission_id  INT NOT NULL,
  baby_name     VARCHAR(64),
  sex           CHAR(1) NOT NULL,
  birth_time    DATETIME(3) NOT NULL,
  created_at    DATETIME(3) NOT NULL,
  FOREIGN KEY (admission_id) REFERENCES admissions (id)
) ENGINE=InnoDB DEFAULT CHARSET=utf8mb4;`;

/** The hospital's times as its MySQL columns hold them: wall-clock in its zone, to the millisecond. */
const LOCAL = 'yyyy-MM-dd HH:mm:ss.SSS';
const TZ = 'Asia/Shanghai';

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

/** The mapping for a MySQL target: each instant and stamp with the LOCAL format. */
function mysqlMapping(): typeof MAPPING {
  const withFormat = (v: unknown): unknown => {
    if (typeof v === 'string' && /At$|Time$/.test(v)) return { field: v, format: LOCAL };
    if (v && typeof v === 'object' && 'stamp' in v) return { ...v, format: LOCAL };
    return v;
  };
  return { inserts: MAPPING.inserts.map((s) => ({ ...s, columns: Object.fromEntries(Object.entries(s.columns).map(([k, v]) => [k, withFormat(v)])) })) } as typeof MAPPING;
}

/** A moment as the target's column takes it: ISO for timestamptz, local wall-clock for DATETIME. */
function timeValue(db: Pick<Queryable, 'kind'>, at: Date): string {
  return dialectOf(db).name === 'mysql' ? formatDate(new TZDate(at.getTime(), TZ), LOCAL) : at.toISOString();
}

/** A time read back: a Date from PostgreSQL, local wall-clock text (Asia/Shanghai, UTC+8) from MySQL. */
function instant(v: Date | string | null): Date | null {
  if (v === null || v instanceof Date) return v;
  return new Date(`${v.replace(' ', 'T')}+08:00`);
}

const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** The hospital's own system: admits a real mother at `at`, numbering her admission max + 1 of the day. */
async function admitReal(target: Database, rng: ReturnType<typeof createRandom>, at: Date, issued: string[]): Promise<void> {
  const day = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(at).replace(/-/g, '');
  const d = dialectOf(target);
  await target.transaction(async (tx) => {
    const like: unknown[] = [];
    const { rows } = await tx.query<{ max: string | null }>(`SELECT max(adm_no) AS max FROM admissions WHERE adm_no LIKE ${d.param(like, `${day}%`)}`, like);
    const next = `${day}${String(Number((rows[0].max ?? `${day}0000`).slice(8)) + 1).padStart(4, '0')}`;
    const params: unknown[] = [];
    const t = timeValue(tx, at);
    const values = [next, `真实${issued.length}`, randomMobile(rng).slice(3), t, t, t].map((v) => d.param(params, v));
    await tx.query(`INSERT INTO admissions (adm_no, mother_name, mother_phone, admitted_at, created_at, updated_at, ward) VALUES (${values.join(', ')}, '产科一病区')`, params);
    issued.push(next);
  });
}

describeEachTarget(TARGET_CASES, 'canaries living in the target on %s', (backend) => {
  let locations: TestLocation[];
  let target: Database;
  let vaultDb: Database;
  let hospital: HospitalConfig;
  let mapping: Mapping;
  const rng = createRandom('lifecycle');
  const issued: string[] = [];
  const T0 = new Date('2026-11-30T01:00:00Z'); // Monday 09:00 in Shanghai: the rotation's cron job

  beforeAll(async () => {
    locations = backend === 'mariadb' ? [await newDatabase('pglite', 'vault', 'vault'), await newMariadbDatabase('lifecycle')] : [await newDatabase(backend, 'vault'), await newDatabase(backend, 'target')];
    target = await openDatabase(locations[1].location);
    const mysql = dialectOf(target).name === 'mysql';
    await target.exec(mysql ? MYSQL_SCHEMA : PG_SCHEMA);
    vaultDb = await openDatabase(locations[0].location);
    await migrate(vaultDb);
    hospital = hospitalConfig('reference', locations[1].location, { 产科一病区: 3, NICU: 1 });
    mapping = parseMapping(mysql ? mysqlMapping() : MAPPING, 'lifecycle mapping');
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
    const inTarget = () => {
      const params: unknown[] = [];
      return count(target, `SELECT 1 FROM admissions WHERE ${dialectOf(target).inText('mother_phone', phones, params)}`, params);
    };

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

    type Times<K extends string> = Record<K, Date | string | null>;
    const { rows: read } = await target.query<{ id: number; adm_no: string; mother_phone: string } & Times<'admitted_at' | 'birth_time' | 'discharged_at' | 'created_at' | 'updated_at'>>(
      'SELECT id, adm_no, mother_phone, admitted_at, birth_time, discharged_at, created_at, updated_at FROM admissions ORDER BY id',
    );
    const rows = read.map((r) => ({ ...r, admitted_at: instant(r.admitted_at)!, birth_time: instant(r.birth_time), discharged_at: instant(r.discharged_at), created_at: instant(r.created_at)!, updated_at: instant(r.updated_at)! }));
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
      const day = new Intl.DateTimeFormat('en-CA', { timeZone: TZ }).format(r.created_at).replace(/-/g, '');
      expect(r.adm_no.startsWith(day)).toBe(true);
    }
    // No two rows share a created time.
    expect(new Set(rows.map((r) => r.created_at.getTime())).size).toBe(rows.length);
    // One baby per canary, though one birth was interrupted after its commit; created at the birth.
    const babies = (await target.query<{ admission_id: number; birth_time: Date | string; created_at: Date | string }>('SELECT admission_id, birth_time, created_at FROM babies')).rows.map((b) => ({ ...b, birth_time: instant(b.birth_time)!, created_at: instant(b.created_at)! }));
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
    const firstRows = () => {
      const params: unknown[] = [];
      return count(target, `SELECT 1 FROM admissions WHERE mother_phone = ${dialectOf(target).param(params, first.family.mother.phone!.slice(3))}`, params);
    };
    expect(await firstRows()).toBe(0);
    // Its claim expired (the run died before writing): the next run looks in the target, finds nothing, writes it once.
    const resumed = await advanceCanaries(vaultDb, target, { hospital, mapping, until: T2, simulated: true, leaseMs: 0 });
    expect(resumed.events.filter((e) => e.canaryId === first.id).map((e) => [e.event, e.reconciled])).toEqual(
      first.events!.filter((e) => Date.parse(e.dueAt) <= T2.getTime()).map((e) => [e.kind, false]),
    );
    expect(await firstRows()).toBe(1);
    const retiring = await rotate(vaultDb, target, { hospital, mapping, week: '2026-W52', now: T2, seed: 'lifecycle' });
    expect(retiring.retired).toBe(4);
    const retired = await vault.listCanaries(vaultDb, { week: '2026-W51' });
    expect(retired.every((c) => c.status === 'retired')).toBe(true);
    expect(retired.some((c) => c.family.dischargedAt === null)).toBe(true);
    await advanceCanaries(vaultDb, target, { hospital, mapping, until: new Date(T2.getTime() + 60 * DAY), simulated: true });
    expect(await count(vaultDb, `SELECT 1 FROM canary_events WHERE canary_id = ANY($1::text[]) AND done_at IS NULL`, [ids])).toBe(0);
    expect((await vault.listCanaries(vaultDb, { week: '2026-W51' })).every((c) => c.status === 'retired' && c.family.dischargedAt !== null)).toBe(true);
    const phones = next.plantedNow.flatMap((p) => p.canaries.map((c) => c.family.mother.phone!.slice(3)));
    const params: unknown[] = [];
    expect(await count(target, `SELECT 1 FROM admissions WHERE ${dialectOf(target).inText('mother_phone', phones, params)} AND discharged_at IS NOT NULL`, params)).toBe(4);
  }, 120_000);

  it('takes a key from the hospital system\'s own sequence when it keeps its counter there', async () => {
    await target.exec(`CREATE SEQUENCE mrn_seq START WITH 4711; CREATE TABLE records (mrn varchar(32) PRIMARY KEY, mother_phone varchar(20));`);
    const m = parseMapping({ inserts: [{ as: 'r', table: 'records', columns: { mrn: { key: 'ZY{yyyyMMdd}######', sequence: 'mrn_seq' }, mother_phone: 'mother.phone' } }] });
    const at = new Date('2026-12-06T23:30:00Z');
    const keys = await target.transaction((tx) => nextKeys(tx, m.inserts[0], 2, at, 'Asia/Shanghai'));
    expect(keys.get('mrn')).toEqual(['ZY20261207004711', 'ZY20261207004712']);
    // The hospital's next number comes after Cradle's.
    const nextval = dialectOf(target).name === 'mysql' ? 'NEXTVAL(mrn_seq)' : "nextval('mrn_seq')";
    expect(Number((await target.query<{ n: string | number }>(`SELECT ${nextval} AS n`)).rows[0].n)).toBe(4713);
  });

  it('writes many events in one batch as one at a time would: each table in event order, numbered keys taken in it', async () => {
    // Three mothers admitted an hour apart on a day with no admission yet; their babies come in another order.
    const day = new Date('2027-01-10T01:00:00Z');
    const families = [...demoPopulation(createRandom('batch'), 3, day)].map((f, i) => ({
      ...f,
      mother: { ...f.mother, name: { ...f.mother.name, full: `批量${i}` } },
      admittedAt: new Date(day.getTime() + (i + 1) * HOUR).toISOString(),
      baby: { ...f.baby, name: { ...f.baby.name, full: `宝宝${i}` }, birthTime: new Date(day.getTime() + [2.5, 5, 4][i] * HOUR).toISOString() },
      dischargedAt: new Date(day.getTime() + (3 + i) * DAY).toISOString(),
    }));
    const keys = families.map(() => ({}));
    const writes: EventWrite[] = families
      .flatMap((family, i) => (['admission', 'birth', 'discharge'] as const).map((event) => ({ event, family, keys: keys[i], timeZone: TZ, at: new Date(event === 'admission' ? family.admittedAt : event === 'birth' ? family.baby.birthTime : family.dischargedAt) })))
      .sort((a, b) => a.at.getTime() - b.at.getTime());
    const written = await target.transaction((tx) => writeEvents(tx, mapping, writes));
    const { rows: adm } = await target.query<{ id: number; adm_no: string; mother_name: string; discharged_at: Date | string | null }>(
      `SELECT id, adm_no, mother_name, discharged_at FROM admissions WHERE adm_no LIKE '20270110%' ORDER BY id`,
    );
    expect(adm.map((r) => [r.adm_no, r.mother_name])).toEqual([['202701100001', '批量0'], ['202701100002', '批量1'], ['202701100003', '批量2']]);
    expect(adm.map((r) => instant(r.discharged_at)?.toISOString())).toEqual(families.map((f) => f.dischargedAt));
    const { rows: babies } = await target.query<{ id: number; admission_id: number; baby_name: string }>(
      `SELECT id, admission_id, baby_name FROM babies WHERE baby_name LIKE '宝宝%' ORDER BY id`,
    );
    // Babies in birth order, each pointing to its mother's admission; every write returns its family's keys.
    expect(babies.map((b) => b.baby_name)).toEqual(['宝宝0', '宝宝2', '宝宝1']);
    for (const b of babies) expect(adm.find((a) => a.id === b.admission_id)?.mother_name).toBe(`批量${b.baby_name.slice(2)}`);
    writes.forEach((w, i) => {
      const n = families.indexOf(w.family as (typeof families)[number]);
      expect(written[i]).toMatchObject({ adm: { id: adm[n].id, adm_no: adm[n].adm_no }, baby: { id: babies.find((b) => b.baby_name === `宝宝${n}`)!.id } });
    });
  });
  it('writes a birth after its mother\'s admission when her row is recorded after the birth is due (a daily cron tick): the birth waits for it', async () => {
    const h10 = { ...hospital, name: 'h10' };
    await vault.ensureHospital(vaultDb, h10.name, h10.locale);
    const traps = new Set<string>();
    const trapRng = createRandom('lifecycle:h10');
    while (traps.size < 10) traps.add(randomMobile(trapRng));
    await vault.addTrapNumbers(vaultDb, [...traps].map((e164) => ({ e164, region: 'CN' })), { hospital: 'h10', burnInUntil: null });
    const T3 = new Date('2027-03-01T01:00:00Z');
    const rotation = await rotate(vaultDb, target, { hospital: h10, mapping, week: '2027-W09', now: T3, seed: 'lifecycle:h10' });
    const canaries = rotation.plantedNow.flatMap((p) => p.canaries);
    expect(canaries.length).toBeGreaterThanOrEqual(2);
    const ids = canaries.map((c) => c.id);
    // Each mother's row recorded two hours after her baby's birth is due (a recording delay longer than her labour).
    await vaultDb.query(
      `UPDATE canary_events a SET due_at = b.due_at + interval '2 hours' FROM canary_events b
        WHERE a.canary_id = b.canary_id AND a.kind = 'admission' AND b.kind = 'birth' AND a.canary_id = ANY($1::text[])`,
      [ids],
    );
    const due = async (kind: string) => (await vaultDb.query<{ id: string; at: Date }>(`SELECT canary_id AS id, due_at AS at FROM canary_events WHERE kind = $1 AND canary_id = ANY($2::text[])`, [kind, ids])).rows;
    const births = await due('birth');
    const first = births.reduce((a, b) => (new Date(a.at) < new Date(b.at) ? a : b));
    // A tick after the first birth is due and before its mother's row: nothing of that canary is written, and nothing fails.
    const early = await advanceCanaries(vaultDb, target, { hospital: h10, mapping, until: new Date(new Date(first.at).getTime() + 60_000), simulated: true });
    expect(early.events.filter((e) => e.canaryId === first.id)).toEqual([]);
    expect(early.upcoming.count).toBeGreaterThan(0);
    // A daily tick past every admission: each mother's row, then her baby's.
    const last = Math.max(...(await due('admission')).map((r) => new Date(r.at).getTime()));
    const day = await advanceCanaries(vaultDb, target, { hospital: h10, mapping, until: new Date(last + 60_000), simulated: true });
    for (const c of canaries) expect(day.events.filter((e) => e.canaryId === c.id && e.event !== 'discharge').map((e) => e.event)).toEqual(['admission', 'birth']);
    expect(await count(vaultDb, `SELECT 1 FROM canary_events WHERE kind IN ('admission', 'birth') AND done_at IS NULL AND canary_id = ANY($1::text[])`, [ids])).toBe(0);
    for (const c of canaries) {
      const params: unknown[] = [];
      const { rows } = await target.query<{ created_at: Date | string; baby_created: Date | string }>(
        `SELECT a.created_at, b.created_at AS baby_created FROM admissions a JOIN babies b ON b.admission_id = a.id WHERE ${dialectOf(target).inText('a.mother_phone', [c.family.mother.phone!.slice(3)], params)}`,
        params,
      );
      expect(rows).toHaveLength(1);
      expect(instant(rows[0].baby_created)!.getTime()).toBeGreaterThan(instant(rows[0].created_at)!.getTime());
    }
  }, 120_000);

  it('on the real clock stamps a row with its due time, not the run\'s moment (a 5-minute timer would mark every canary), and exposes it from the write', async () => {
    // A hospital of its own on the same stores, rotated six days ago; its cron job runs now.
    const h9 = { ...hospital, name: 'h9' };
    await vault.ensureHospital(vaultDb, h9.name, h9.locale);
    const traps = new Set<string>();
    const trapRng = createRandom('lifecycle:h9');
    while (traps.size < 10) traps.add(randomMobile(trapRng));
    await vault.addTrapNumbers(vaultDb, [...traps].map((e164) => ({ e164, region: 'CN' })), { hospital: 'h9', burnInUntil: null });
    const rotatedAt = new Date(Date.now() - 6 * DAY);
    const rotation = await rotate(vaultDb, target, { hospital: h9, mapping, week: formatDate(rotatedAt, "RRRR-'W'II"), now: rotatedAt, seed: 'lifecycle:h9' });
    const canaries = rotation.plantedNow.flatMap((p) => p.canaries);
    const runAt = Date.now();
    const res = await advanceCanaries(vaultDb, target, { hospital: h9, mapping, until: new Date(runAt) });
    const admissions = res.events.filter((e) => e.event === 'admission');
    expect(admissions.length).toBeGreaterThan(0);
    for (const e of admissions) {
      const family = canaries.find((c) => c.id === e.canaryId)!.family;
      const params: unknown[] = [];
      const { rows } = await target.query<{ created_at: Date | string }>(`SELECT created_at FROM admissions WHERE ${dialectOf(target).inText('mother_phone', [family.mother.phone!.slice(3)], params)}`, params);
      expect(rows).toHaveLength(1);
      // Its due time (rows created later by the hospital lie in this test's future, so no reorder moves it).
      expect(instant(rows[0].created_at)!.getTime()).toBe(e.dueAt.getTime());
      expect(e.dueAt.getTime()).toBeLessThan(runAt - 60_000);
      // The vault's record and exposure start when the row was written.
      expect(e.writtenAt.getTime()).toBeGreaterThanOrEqual(runAt);
    }
  });
});
