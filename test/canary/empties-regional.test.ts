import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig, selectHospital, type HospitalConfig } from '../../src/config/index.js';
import { migrate, openDatabase, readOnly, type Database } from '../../src/db/index.js';
import type { HospitalProfile } from '../../src/domain/index.js';
import { learnProfile } from '../../src/profile/learn.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { parseMapping, type Mapping } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import { buildRegionalHospital, REGIONAL_DIR } from '../fixtures/regional/hospital.js';
import { newDatabase, type TestLocation } from '../helpers/db.js';
import { localTrapNumbers } from '../helpers/regional-year.js';

// Empty columns and created times on a hospital Cradle did not make (the regional fixture, with
// emptiness of its own written on top): columns the hospital leaves empty together stay empty together
// on canaries; a column whose empties are '' gets '' on canaries, never NULL; a created-at column the
// mapping leaves to its CURRENT_TIMESTAMP default gets the canary's own admission time plus the
// hospital's recording delay, not the moment of planting.

const REAL = 500;
const CANARIES = 120;
const NOW = new Date('2025-12-01T10:00:00+08:00');

type Row = Record<string, string | number | null>;

describe('empty columns and created times on the regional hospital', () => {
  let vaultLoc: TestLocation;
  let targetLoc: TestLocation;
  let vaultDb: Database;
  let target: Database;
  let hospital: HospitalConfig;
  let mapping: Mapping;
  let profile: HospitalProfile;
  let real: Row[];
  let canaries: Row[];

  beforeAll(async () => {
    vaultLoc = await newDatabase('pglite', 'empties-vault');
    targetLoc = await newDatabase('pglite', 'empties-target');
    target = await openDatabase(targetLoc.location);
    await buildRegionalHospital(target, { seed: 'empties', families: REAL, from: '2025-06-01', to: '2025-12-01' });
    // The hospital's own habits: address and ethnicity missing together (a form never finished) in a
    // fifth of mothers; an ID number typed as '' (never NULL) for a quarter; the father's phone never
    // recorded without his name.
    await target.exec(`
      UPDATE "ZY_MQXX" SET "JTDZ" = NULL, "MZ" = NULL WHERE "ID" % 5 = 0;
      UPDATE "ZY_MQXX" SET "SFZH" = '' WHERE "ID" % 4 = 1;
      UPDATE "ZY_MQXX" SET "ZFDH" = NULL WHERE "ZFXM" IS NULL;`);
    // The full mapping without its created/updated stamps: CJSJ is left to its default (LOCALTIMESTAMP).
    const doc = JSON.parse(fs.readFileSync(path.join(REGIONAL_DIR, 'mapping-full.json'), 'utf8')) as { inserts: { columns: Record<string, unknown> }[] };
    for (const step of doc.inserts) {
      delete step.columns.CJSJ;
      delete step.columns.GXSJ;
    }
    mapping = parseMapping(doc, 'mapping-unstamped.json');
    const config = JSON.parse(fs.readFileSync(path.join(REGIONAL_DIR, 'cradle.config.json'), 'utf8')) as { vault: string; hospitals: Record<string, Record<string, unknown>> };
    config.vault = vaultLoc.location;
    config.hospitals.changzhou.target = targetLoc.location;
    hospital = selectHospital(parseConfig(config, 'cradle.config.json'));
    vaultDb = await openDatabase(vaultLoc.location);
    await migrate(vaultDb);
    await vault.ensureHospital(vaultDb, hospital.name, hospital.locale);
    await vault.addTrapNumbers(vaultDb, localTrapNumbers(400, 'empties').map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
    profile = await readOnly(target, (tx) => learnProfile(tx, mapping, { hospital: hospital.name, k: 5, timeZone: hospital.timeZone }));
    await vault.saveProfile(vaultDb, profile);
    const res = await plantCanaries(vaultDb, target, { hospital, mapping, count: CANARIES, channels: [hospital.seedChannel], now: NOW, isoWeek: '2025-W49', ...birthWindow(NOW), seed: 'empties' });
    expect(res.planted).toHaveLength(CANARIES);
    const select = `SELECT "ID", "SFZH", "JTDZ", "MZ", "ZFXM", "ZFDH", "LXDH", "RYSJ"::text AS "RYSJ", "CJSJ"::text AS "CJSJ",
                           extract(epoch FROM "CJSJ" - "RYSJ")::float8 AS delay FROM "ZY_MQXX"`;
    real = (await target.query<Row>(`${select} WHERE "ID" <= $1 ORDER BY "ID"`, [REAL])).rows;
    canaries = (await target.query<Row>(`${select} WHERE "ID" > $1 ORDER BY "ID"`, [REAL])).rows;
  });
  afterAll(async () => {
    await target?.close();
    await vaultDb?.close();
    await targetLoc?.cleanup();
    await vaultLoc?.cleanup();
  });

  const share = (rows: Row[], f: (r: Row) => boolean) => rows.filter(f).length / rows.length;

  it('learns the empty-text share apart from NULL, and which columns are empty together, under the k rule', () => {
    expect(profile.columns['mother.SFZH']).toMatchObject({ emptyShare: 1 });
    expect(profile.columns['mother.SFZH'].nullShare).toBeCloseTo(0.25, 2);
    expect(profile.columns['mother.JTDZ'].emptyShare).toBeUndefined();
    const joint = profile.nullPatterns!.mother;
    expect(joint.columns).toEqual(expect.arrayContaining(['SFZH', 'JTDZ', 'MZ', 'ZFXM', 'ZFDH', 'CYSJ']));
    const at = (c: string) => joint.columns.indexOf(c);
    // Every kept pattern has address and ethnicity empty together or filled together; every one was seen k times.
    for (const [p, n] of Object.entries(joint.patterns.values)) {
      expect(p[at('JTDZ')] === '-').toBe(p[at('MZ')] === '-');
      expect(p[at('SFZH')]).not.toBe('N');
      expect(n).toBeGreaterThanOrEqual(5);
    }
    expect(joint.patterns.total).toBe(REAL);
  });

  it('leaves on canaries the columns real rows leave empty together, together, about as often', () => {
    expect(share(real, (r) => r.JTDZ === null)).toBeCloseTo(0.2, 2);
    expect(canaries.every((r) => (r.JTDZ === null) === (r.MZ === null))).toBe(true);
    // 120 canaries at 20%: within 0.08–0.34 but for a 1-in-1,000 draw (seeded here).
    expect(share(canaries, (r) => r.JTDZ === null)).toBeGreaterThan(0.08);
    expect(share(canaries, (r) => r.JTDZ === null)).toBeLessThan(0.34);
    // No father's phone without his name, as in the real rows; the trap phone always there.
    expect(canaries.every((r) => r.ZFXM !== null || r.ZFDH === null)).toBe(true);
    expect(canaries.every((r) => typeof r.LXDH === 'string' && r.LXDH !== '')).toBe(true);
  });

  it("writes '' where the hospital writes '', never NULL", () => {
    expect(share(real, (r) => r.SFZH === null)).toBe(0);
    expect(canaries.filter((r) => r.SFZH === null)).toEqual([]);
    expect(share(canaries, (r) => r.SFZH === '')).toBeGreaterThan(0.1);
    expect(share(canaries, (r) => r.SFZH === '')).toBeLessThan(0.42);
  });

  it('gives a created-at column left to its default the admission time plus the learned delay, not the moment of planting', () => {
    expect(profile.columns['mother.CJSJ']).toMatchObject({ writeTime: true });
    const [lo, hi] = [Math.min(...real.map((r) => Number(r.delay))), Math.max(...real.map((r) => Number(r.delay)))];
    expect(lo).toBeGreaterThanOrEqual(40);
    expect(hi).toBeLessThanOrEqual(900);
    for (const c of canaries) {
      // Within the real rows' range but for the second the times are written to.
      expect(Number(c.delay)).toBeGreaterThanOrEqual(lo - 1);
      expect(Number(c.delay)).toBeLessThanOrEqual(hi + 1);
      expect(String(c.CJSJ) < '2025-12-01 10:00:00').toBe(true);
    }
  });

  it("writes the baby's discharge at its own second, minutes after the mother's as the hospital does, not the very same one", async () => {
    const gaps = async (op: string) =>
      (await target.query<{ gap: number }>(
        `SELECT extract(epoch FROM b."CYSJ" - m."CYSJ")::float8 AS gap FROM "ZY_MQXX" m JOIN "XSE_XX" b ON b."MQID" = m."ID"
          WHERE m."ID" ${op} $1 AND b."CYSJ" IS NOT NULL AND m."CYSJ" IS NOT NULL AND b."KSMC" <> '新生儿科'`,
        [REAL],
      )).rows.map((r) => Number(r.gap));
    const [realGaps, canaryGaps] = [await gaps('<='), await gaps('>')];
    expect(Math.min(...realGaps)).toBeGreaterThanOrEqual(0);
    expect(canaryGaps.length).toBeGreaterThan(20);
    expect(canaryGaps.filter((g) => g === 0).length).toBeLessThan(canaryGaps.length / 4);
    for (const g of canaryGaps) {
      expect(g).toBeGreaterThanOrEqual(-1);
      expect(g).toBeLessThanOrEqual(3601);
    }
  });
});
