import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { parseConfig, selectHospital, type HospitalConfig } from '../../src/config/index.js';
import { migrate, openDatabase, readOnly, type Database } from '../../src/db/index.js';
import type { HospitalProfile } from '../../src/domain/index.js';
import { learnProfile } from '../../src/profile/learn.js';
import { comingBirthWindow, plantCanaries, type PlannedCanary } from '../../src/seed/index.js';
import { loadMapping, type Mapping } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import { buildRegionalHospital, REGIONAL_DIR } from '../fixtures/regional/hospital.js';
import { newDatabase, type TestLocation } from '../helpers/db.js';
import { localTrapNumbers } from '../helpers/regional-year.js';

// The time of day of canaries' discharges and of the bookkeeping stamps written with them, on a hospital
// Cradle did not make (the regional fixture): its mothers go home between 08:30 and 11:30 and their rows
// are updated within 15 minutes, so no real updated stamp of a discharge falls at 12:xx; its NICU sends
// babies home between 09:30 and 16:00, days after their mothers. A canary drawn by the hour alone went
// home at 11:50 and was stamped at 12:04; a NICU baby's own discharge, drawn as the mother's plus a gap
// in seconds, fell at any hour of the night. And admissions: a planned caesarean born at 09:00 was admitted
// the day before, which a pooled admission-to-birth time gave only as often as labours are that long.

const NOW = new Date('2025-10-06T03:00:00+08:00');
const NICU = '新生儿科';
const local = (ms: number) => new Date(ms + 8 * 3_600_000).toISOString().slice(11, 19);
const hourOf = (ms: number) => Number(local(ms).slice(0, 2));

describe('discharge times of day on the regional hospital', () => {
  let vaultLoc: TestLocation;
  let targetLoc: TestLocation;
  let vaultDb: Database;
  let target: Database;
  let hospital: HospitalConfig;
  let mapping: Mapping;
  let profile: HospitalProfile;
  let planted: PlannedCanary[];
  let nicuPlanted: PlannedCanary[];

  beforeAll(async () => {
    vaultLoc = await newDatabase('pglite', 'dtimes-vault');
    targetLoc = await newDatabase('pglite', 'dtimes-target');
    target = await openDatabase(targetLoc.location);
    await buildRegionalHospital(target, { seed: 'dtimes', families: 1500, from: '2025-01-01', to: '2025-10-01' });
    mapping = loadMapping(path.join(REGIONAL_DIR, 'mapping-full.json'));
    const config = JSON.parse(fs.readFileSync(path.join(REGIONAL_DIR, 'cradle.config.json'), 'utf8')) as { vault: string; hospitals: Record<string, Record<string, unknown>> };
    config.vault = vaultLoc.location;
    config.hospitals.changzhou.target = targetLoc.location;
    hospital = selectHospital(parseConfig(config, 'cradle.config.json'));
    vaultDb = await openDatabase(vaultLoc.location);
    await migrate(vaultDb);
    await vault.ensureHospital(vaultDb, hospital.name, hospital.locale);
    await vault.addTrapNumbers(vaultDb, localTrapNumbers(900, 'dtimes').map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
    profile = await readOnly(target, (tx) => learnProfile(tx, mapping, { hospital: hospital.name, k: 5, timeZone: hospital.timeZone }));
    await vault.saveProfile(vaultDb, profile);
    // Scheduled as a rotation schedules them: nothing is written now, each event has its due time.
    const plant = async (count: number, ward: string | undefined, seed: string) =>
      (await plantCanaries(vaultDb, target, { hospital, mapping, count, ward, channels: [hospital.seedChannel], now: NOW, isoWeek: '2025-W41', ...comingBirthWindow(NOW), seed, schedule: true })).planted;
    planted = await plant(250, '产科一病区', 'dtimes:term');
    nicuPlanted = await plant(60, NICU, 'dtimes:nicu');
  }, 300_000);
  afterAll(async () => {
    await target?.close();
    await vaultDb?.close();
    await targetLoc?.cleanup();
    await vaultLoc?.cleanup();
  });

  const due = (p: PlannedCanary, kind: string) => Date.parse(p.events!.find((e) => e.kind === kind)!.dueAt);
  const stamps = async (table: string, where: string) =>
    (await target.query<{ t: string }>(`SELECT to_char("GXSJ", 'HH24:MI:SS') AS t FROM "${table}" WHERE "CYSJ" IS NOT NULL AND ${where}`)).rows.map((r) => r.t);

  it("writes a mother's discharge when the hospital would stamp it: never at an hour or a minute its own discharges are not stamped", async () => {
    const real = await stamps('ZY_MQXX', 'true');
    const hours = new Set(real.map((t) => Number(t.slice(0, 2))));
    const latest = real.reduce((a, b) => (a > b ? a : b));
    expect(latest < '12:00:00').toBe(true);
    const stamped = planted.map((p) => due(p, 'discharge'));
    expect(stamped).toHaveLength(250);
    expect(stamped.filter((t) => !hours.has(hourOf(t))).map(local)).toEqual([]);
    // The learned ten-minute slots hold the discharge within the hospital's hours, and its stamp within minutes of them.
    expect(stamped.filter((t) => local(t) > latest).map(local).length).toBeLessThanOrEqual(3);
  });

  it('admits a caesarean born in the morning as the hospital admits its planned sections, the day before, not hours before as a labour', async () => {
    // Real: the share of caesareans born 06:00–11:59 admitted more than 12 hours before the birth.
    const { rows } = await target.query<{ long: boolean }>(
      `SELECT extract(epoch FROM b."CSSJ" - m."RYSJ") > 43200 AS long FROM "ZY_MQXX" m JOIN "XSE_XX" b ON b."MQID" = m."ID"
        WHERE m."FMFS" = '剖宫产' AND extract(hour FROM b."CSSJ") BETWEEN 6 AND 11`,
    );
    const realShare = rows.filter((r) => r.long).length / rows.length;
    expect(realShare).toBeGreaterThan(0.6);
    const hourOfBirth = (p: PlannedCanary) => hourOf(Date.parse(p.family.baby.birthTime));
    const morning = [...planted, ...nicuPlanted].filter((p) => p.family.deliveryMode === 'caesarean' && hourOfBirth(p) >= 6 && hourOfBirth(p) < 12);
    expect(morning.length).toBeGreaterThan(20);
    const share = morning.filter((p) => Date.parse(p.family.baby.birthTime) - Date.parse(p.family.admittedAt) > 43_200_000).length / morning.length;
    expect(Math.abs(share - realShare)).toBeLessThan(0.15);
  });

  it("discharges a NICU baby apart from its mother, days later, at the hours the NICU's own babies go home", async () => {
    const real = await stamps('XSE_XX', `"KSMC" = '${NICU}'`);
    const hours = new Set(real.map((t) => Number(t.slice(0, 2))));
    expect(Math.min(...hours)).toBeGreaterThanOrEqual(9);
    const own = nicuPlanted.filter((p) => p.family.columnTimes?.['baby.CYSJ']);
    expect(own.length).toBeGreaterThan(50);
    const apart = own.filter((p) => p.events!.some((e) => e.kind === 'own_discharge'));
    // A NICU stay is days apart from the mother's; the odd baby sent home the same hour goes with her.
    expect(apart.length).toBeGreaterThan(own.length * 0.8);
    for (const p of apart) {
      const at = due(p, 'own_discharge');
      expect(at).toBe(Date.parse(p.family.columnTimes!['baby.GXSJ']));
      expect(Math.abs(at - due(p, 'discharge'))).toBeGreaterThan(3_600_000);
    }
    const outside = apart.map((p) => Date.parse(p.family.columnTimes!['baby.GXSJ'])).filter((t) => !hours.has(hourOf(t)));
    expect(outside.map(local)).toEqual([]);
  });
});
