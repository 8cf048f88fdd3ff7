import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { applyProfile } from '../../src/canary/profile.js';
import { openDatabase, readOnly, type Database } from '../../src/db/index.js';
import type { Family, HospitalProfile } from '../../src/domain/index.js';
import { createRandom, generateFamily } from '../../src/lib/generate/index.js';
import { learnProfile } from '../../src/profile/learn.js';
import { parseMapping } from '../../src/targetdb/index.js';
import { buildRegionalHospital, REGIONAL_DIR } from '../fixtures/regional/hospital.js';
import { newDatabase, type TestLocation } from '../helpers/db.js';

// Empty columns drawn for canaries from the null patterns of a hospital whose mothers are not all
// delivered when it is profiled: a mother admitted before her birth has no delivery mode (FMFS, written
// at the birth) and no discharge yet. The patterns were drawn over every mother, so a canary, who
// always gives birth, got a baby and no delivery mode now and then (2 of 435 in `cradle realism`),
// which no delivered mother of the hospital lacks. A canary's empties come from the patterns of
// discharged rows now (its final state).

const REAL = 400;
const CANARIES = 400;
const TZ = 'Asia/Shanghai';

describe('empty columns of canaries on a hospital with mothers not yet delivered', () => {
  let targetLoc: TestLocation;
  let target: Database;
  let profile: HospitalProfile;
  let families: Family[];

  beforeAll(async () => {
    targetLoc = await newDatabase('pglite', 'empties-final-target');
    target = await openDatabase(targetLoc.location);
    await buildRegionalHospital(target, { seed: 'empties-final', families: REAL, from: '2025-06-01', to: '2025-12-01' });
    // One mother in ten admitted before her birth (no baby, delivery mode or discharge yet); the
    // address missing on one mother in five, delivered or not.
    await target.exec(`
      DELETE FROM "XSE_XX" WHERE "MQID" % 10 = 3;
      UPDATE "ZY_MQXX" SET "FMFS" = NULL, "CYSJ" = NULL WHERE "ID" % 10 = 3;
      UPDATE "ZY_MQXX" SET "JTDZ" = NULL WHERE "ID" % 5 = 0;`);
    const mapping = parseMapping(JSON.parse(fs.readFileSync(path.join(REGIONAL_DIR, 'mapping-full.json'), 'utf8')), 'mapping-full.json');
    profile = await readOnly(target, (tx) => learnProfile(tx, mapping, { hospital: 'changzhou', k: 5, timeZone: TZ }));
    const rng = createRandom('empties-final');
    families = Array.from({ length: CANARIES }, () =>
      generateFamily(rng, {
        locale: 'zh-CN', hospital: 'changzhou', ward: '产科一病区', nicu: false, districts: ['武进区', '新北区'], timeZone: TZ,
        birthFrom: new Date('2025-11-03T00:00:00+08:00'), birthTo: new Date('2025-11-10T00:00:00+08:00'),
        phone: () => '+8613900000000', emailDomain: () => null, profile: profile.family,
      }),
    );
    applyProfile(families, profile, mapping, TZ, createRandom('empties-final:profile'));
  }, 240_000);
  afterAll(async () => {
    await target?.close();
    await targetLoc?.cleanup();
  });

  it('learns the undelivered mothers’ pattern (no delivery mode, no discharge) under the k rule', () => {
    const joint = profile.nullPatterns!.mother;
    const [fmfs, cysj] = [joint.columns.indexOf('FMFS'), joint.columns.indexOf('CYSJ')];
    const undelivered = Object.entries(joint.patterns.values).filter(([p]) => p[fmfs] === 'N');
    expect(undelivered.length).toBeGreaterThan(0);
    for (const [p, n] of undelivered) {
      expect(p[cysj]).toBe('N');
      expect(n).toBeGreaterThanOrEqual(5);
    }
  });

  it('never leaves a canary, who gives birth, without a delivery mode; other empties still follow the hospital', () => {
    expect(families.every((f) => f.deliveryMode)).toBe(true);
    // Before: 41 of 400 (the undelivered tenth's pattern).
    expect(families.filter((f) => f.blank?.includes('deliveryMode'))).toEqual([]);
    const noAddress = families.filter((f) => f.blank?.includes('address')).length / CANARIES;
    expect(noAddress).toBeGreaterThan(0.12);
    expect(noAddress).toBeLessThan(0.28);
  });
});
