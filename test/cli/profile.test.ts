import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import type { HospitalProfile } from '../../src/domain/index.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { cradle, cradleInProcess, json } from '../helpers/cli.js';
import { BACKENDS, newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';
import { regionalPopulationSql, REGIONAL_SCHEMA, writeRegionalConfig } from '../fixtures/his-population.js';

// `cradle target profile` on a regional hospital that is not Cradle's mirror, then `cradle seed`
// drawing its canaries' learned columns and precision from the stored profile.

const FAMILIES = 400;
const UNIQUE = { phone: '13776543210', name: '欧阳娜娜', id: '32040219900307243X' };

describe.each(BACKENDS)('cradle target profile on %s', (backend) => {
  let cwd: string;
  let vaultLoc: TestLocation;
  let targetLoc: TestLocation;
  let doc: HospitalProfile;
  // Through the binary when it reads stdin, in-process otherwise.
  const run = (args: string[], input?: string) => (input === undefined ? cradleInProcess(args, { cwd }) : cradle(args, { cwd, input }));

  beforeAll(async () => {
    cwd = scratchDir(`cli-profile-${backend}`);
    vaultLoc = await newDatabase(backend, 'profvault');
    targetLoc = await newDatabase(backend, 'proftarget');
    const target = await openDatabase(targetLoc.location);
    await target.exec(REGIONAL_SCHEMA);
    await target.exec(regionalPopulationSql(FAMILIES));
    await target.query(
      `INSERT INTO his."ZY_BRXX" ("ZYH", "XM", "SFZH", "LXDH", "MZ", "BQ", "RYSJ") VALUES ('ZY202612010099', $1, $2, $3, '汉族', '产科一病区', '2026-12-01 10:11:12')`,
      [UNIQUE.name, UNIQUE.id, UNIQUE.phone],
    );
    await target.close();
    writeRegionalConfig(cwd, vaultLoc.location, targetLoc.location, { displayName: '常州市示例妇幼保健院' });
    json(await run(['init', '--json']));
  }, 120_000);
  afterAll(async () => {
    await vaultLoc?.cleanup();
    await targetLoc?.cleanup();
  });

  it('--show before any profile says how to learn one', async () => {
    const res = await run(['target', 'profile', '--show']);
    expect(res.code).toBe(1);
    expect(res.stderr.trim()).toBe('cradle: no profile of changzhou in the vault yet: learn one with `cradle target profile`');
  });

  it('refuses k below 2 and --k with --show', async () => {
    for (const k of ['1', '0', 'five']) {
      const res = await run(['target', 'profile', '--k', k]);
      expect(res.code).toBe(2);
      expect(res.stderr).toMatch(/--k <n>.*expected a whole number of at least 2/);
    }
    const both = await run(['target', 'profile', '--show', '--k', '3']);
    expect(both.code).toBe(1);
    expect(both.stderr).toMatch(/--k applies when learning a profile, not with --show/);
  });

  it('learns, stores and summarises the profile; --show prints it, --show --json the whole document without single patients', async () => {
    const learned = json<{ id: number; families: number; k: number; columns: number }>(await run(['target', 'profile', '--json']));
    expect(learned).toMatchObject({ families: FAMILIES + 1, k: 5, columns: 20 });
    const human = await run(['target', 'profile', '--k', '6']);
    expect(human.code).toBe(0);
    expect(human.stdout).toMatch(/^stored profile #\d+: profile of changzhou, learned .* from 401 families \(k = 6;/);
    expect(human.stdout).toMatch(/m\.MZ\s+character varying\s+0\.0%\s+values: 汉族 9\d\.\d%/);
    expect(human.stdout).toMatch(/m\.SFZH .*\[identifying: no values kept\].*ID-card numbers/);

    const shown = await run(['target', 'profile', '--show']);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/^profile #\d+: profile of changzhou, .*\(k = 6;/);
    expect(shown.stdout).toMatch(/m\.ZYH .*date yyyyMMdd \+ 4 digits, counter per day/);
    expect(shown.stdout).not.toMatch(/warning/);
    doc = json<HospitalProfile>(await run(['target', 'profile', '--show', '--json']));
    expect(doc).toMatchObject({ version: 1, hospital: 'changzhou', k: 6, families: FAMILIES + 1 });
    expect(doc.columns['b.TZ'].number!.steps['10']).toBeGreaterThan(0.7);
    const text = JSON.stringify(doc);
    for (const v of Object.values(UNIQUE)) expect(text).not.toContain(v);
  });

  it('seed draws the learned columns and the precision from the stored profile', async () => {
    const rng = createRandom('profile-pool');
    const numbers = Array.from({ length: 60 }, () => `1${rng.pick(['39', '58', '86'])}${String(rng.int(0, 99_999_999)).padStart(8, '0')}`);
    fs.writeFileSync(path.join(cwd, 'numbers.txt'), numbers.join('\n'));
    json(await run(['pool', 'add', '--file', 'numbers.txt', '--burn-in', '0', '--json']));
    const seeded = json<{ canaries: unknown[] }>(await run(['seed', '--count', '30', '--json']));
    expect(seeded.canaries).toHaveLength(30);
    const target = await openDatabase(targetLoc.location);
    try {
      const { rows } = await target.query<{ mz: string | null; yz: number | null; fmfs: string | null; tz: number; sec: number }>(
        `SELECT m."MZ" AS mz, b."YZ" AS yz, b."FMFS" AS fmfs, b."TZ" AS tz, extract(second FROM m."RYSJ")::int AS sec
           FROM his."ZY_BRXX" m JOIN his."XSE_XX" b ON b."MQID" = m."ID" WHERE m."ID" > $1`,
        [FAMILIES + 1],
      );
      expect(rows).toHaveLength(30);
      // Every learned value is one the profile kept (shared by at least k real families).
      const kept = (key: string) => Object.keys(doc.columns[key].values!.values);
      expect(kept('m.MZ')).toContain('汉族');
      expect(rows.every((r) => r.mz !== null && kept('m.MZ').includes(r.mz))).toBe(true);
      expect(rows.every((r) => r.yz !== null && kept('b.YZ').includes(String(r.yz)))).toBe(true);
      expect(rows.every((r) => r.fmfs !== null && kept('b.FMFS').includes(r.fmfs))).toBe(true);
      expect(new Set(rows.map((r) => r.fmfs)).size).toBeGreaterThan(1);
      // The hospital writes seconds and mostly weighs to 10 g: so do its canaries.
      expect(rows.filter((r) => r.sec !== 0).length).toBeGreaterThanOrEqual(24);
      expect(rows.filter((r) => r.tz % 10 === 0).length).toBeGreaterThanOrEqual(18);
    } finally {
      await target.close();
    }
  });
});
