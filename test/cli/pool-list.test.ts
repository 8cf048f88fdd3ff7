import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate, openDatabase } from '../../src/db/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { BACKENDS, newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';

// `cradle pool list` is read-only: numbers whose burn-in or cool-down has ended show as available (as
// the next seeding's refresh will make them), but the vault's rows are left exactly as they were.

interface Listed {
  counts: Record<string, number>;
  numbers: { e164: string; state: string; burnInUntil: string | null; cooldownUntil: string | null }[];
}

describe.each(BACKENDS)('pool list writes nothing on %s', (backend) => {
  let cwd: string;
  let vaultLoc: TestLocation;
  const run = (args: string[]) => cradleInProcess(['--vault', vaultLoc.location, ...args], { cwd });
  const rows = async () => {
    const db = await openDatabase(vaultLoc.location);
    try {
      return (await db.query('SELECT * FROM trap_numbers ORDER BY id')).rows;
    } finally {
      await db.close();
    }
  };

  beforeAll(async () => {
    cwd = scratchDir(`cli-pool-list-${backend}`);
    vaultLoc = await newDatabase(backend, 'poollist', 'vault');
    const db = await openDatabase(vaultLoc.location);
    await migrate(db);
    await db.close();
    fs.writeFileSync(path.join(cwd, 'numbers.txt'), '13700000001\n13700000002\n13700000003\n');
    json(await run(['pool', 'add', '--file', 'numbers.txt', '--json'])); // in burn-in for 14 days
    const vault = await openDatabase(vaultLoc.location);
    try {
      // One burn-in over, one number retired with its cool-down over, one still in burn-in.
      await vault.query(`UPDATE trap_numbers SET burn_in_until = now() - interval '1 day' WHERE e164 = '+8613700000001'`);
      await vault.query(`UPDATE trap_numbers SET state = 'retired', burn_in_until = NULL, retired_at = now() - interval '800 days', cooldown_until = now() - interval '70 days' WHERE e164 = '+8613700000002'`);
    } finally {
      await vault.close();
    }
  }, 60_000);
  afterAll(async () => {
    await vaultLoc?.cleanup();
  });

  it('shows ended burn-ins and cool-downs as available and leaves the rows as they were', async () => {
    const before = await rows();
    const list = json<Listed>(await run(['pool', 'list', '--json']));
    expect(list.counts).toMatchObject({ available: 2, burn_in: 1, retired: 0 });
    const byNumber = new Map(list.numbers.map((n) => [n.e164, n]));
    expect(byNumber.get('+8613700000001')).toMatchObject({ state: 'available', burnInUntil: null });
    expect(byNumber.get('+8613700000002')).toMatchObject({ state: 'available' });
    expect(byNumber.get('+8613700000003')?.state).toBe('burn_in');
    expect(byNumber.get('+8613700000003')?.burnInUntil).not.toBeNull();
    // --state filters on the state shown.
    expect(json<Listed>(await run(['pool', 'list', '--state', 'available', '--json'])).numbers.map((n) => n.e164)).toEqual(['+8613700000001', '+8613700000002']);
    expect(json<Listed>(await run(['pool', 'list', '--state', 'burn_in', '--json'])).numbers.map((n) => n.e164)).toEqual(['+8613700000003']);
    const after = await rows();
    expect(after).toEqual(before);
    expect(after.map((r) => r.state)).toEqual(['burn_in', 'retired', 'burn_in']);
  });

  it("gives the weeks of the hospital's rotation plan the pool covers, and warns under four", async () => {
    // No config: no plan to measure against.
    expect(json<{ supply: unknown }>(await run(['pool', 'list', '--json'])).supply).toBeNull();
    const hospital = (rotation: object) => ({ target: 'postgres://unused@127.0.0.1:1/none', mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'), wards: ['产科一病区', 'NICU'], districts: ['鼓楼区'], rotation });
    fs.writeFileSync(path.join(cwd, 'cradle.config.json'), JSON.stringify({ defaultHospital: 'h1', hospitals: { h1: hospital({ perWeek: 2, minPerWard: 0 }), h2: hospital({ perWard: { 产科一病区: 1, NICU: 0 } }) } }));
    // Three numbers available or in burn-in, no canary yet (one number each): 2 a week, 1 week.
    const h1 = await run(['pool', 'list', '--json']);
    expect(JSON.parse(h1.stdout).supply).toEqual({ hospital: 'h1', canariesPerWeek: 2, numbersPerCanary: 1, numbersPerWeek: 2, numbers: 3, weeks: 1, sharing: 'exclusive', numbersNeeded: null, horizon: null, low: true });
    expect(h1.stderr).toBe("cradle: warning: the pool holds 1 week of h1's rotation plan, fewer than 4: add numbers now (cradle pool add), new ones need their burn-in\n");
    const h2 = await run(['--hospital', 'h2', 'pool', 'list']);
    expect(h2.stdout).toContain("supply: 3 numbers available or in burn-in; h2's rotation plan (1 canary a week, 1 number each so far) takes 1 a week: enough for 3 weeks\n");
    expect(h2.stderr).toMatch(/holds 3 weeks of h2's rotation plan, fewer than 4/);

    // pool plan: h1's 2 canaries a week, no canary yet, so zh-CN families' 1 + 0.95 × 0.75 numbers each,
    // the 730-day cool-down: none comes back within the 104 weeks.
    const plan = JSON.parse((await run(['pool', 'plan', '--json'])).stdout);
    expect(plan).toMatchObject({ hospital: 'h1', pool: 3, perWeek: 4, peak: Math.ceil(2 * 1.71 * 104), shortFrom: 0, accuracy: null });
    expect(plan.plan).toEqual({ rotationPerWeek: 2, exportsPerWeek: 0, canariesPerExport: 3, numbersPerCanary: 1.71, cooldownDays: 730, weeks: 104, numbersPerCanaryFrom: 'zh-CN families' });
    const text = await run(['pool', 'plan', '--exports-per-week', '5', '--numbers-per-canary', '1', '--weeks', '8']);
    expect(text.stdout).toContain('plan: 2 rotation canaries a week, 5 exports a week × 3 canaries, 1 number a canary (given), cool-down 730 days, 8 weeks\nneeds: 136 numbers at most, taking 17 a week\npool: 3 numbers (blocked ones aside): short from week 1\n');
    // --shared: the plan on shared numbers, traced (a small plan and few runs: seeded, the same every time).
    const shared = JSON.parse((await run(['pool', 'plan', '--exports-per-week', '2', '--weeks', '12', '--shared', '--numbers', '10', '--runs', '20', '--json'])).stdout);
    expect(shared.accuracy).toMatchObject({ numbers: 10, numbersNeeded: 6, short: 0 });
    expect(shared.accuracy.figures.map((f: { nameShare: number; runs: number }) => [f.nameShare, f.runs])).toEqual([[0.5, 20], [0, 20]]);
    for (const f of shared.accuracy.figures) expect(f.firstOverall).toBeGreaterThan(0);
    const sharedText = await run(['pool', 'plan', '--exports-per-week', '2', '--weeks', '12', '--shared', '--numbers', '10', '--runs', '20']);
    expect(sharedText.stdout).toMatch(/shared numbers: the plan needs 6 at least; on 10:\n {2}50% of contacts name the family: source first in \d+\.\d% of the \d+ of 20 leaks that can tell it, \d+\.\d% of all; \d+ candidates a contact that names no family\n {2}no contact names the family: /);
    const bad = await run(['pool', 'plan', '--numbers-per-canary', '3']);
    expect([bad.code, bad.stderr]).toEqual([2, "error: option '--numbers-per-canary <x>' argument '3' is invalid. expected a number from 1 to 2, such as 1.7\n"]);

    // Shared numbers (pool.sharing "shared") are reused, not used up: the weeks are the plan played on
    // the pool as `pool plan --shared` plays it. 7 canaries a week need 6 numbers that way: on 3 the
    // warning is true (each ward's canary needs a number its ward has not held for 30 days: short from
    // week 4); on 10 the plan runs the 104 weeks simulated and no warning
    // is given, where exclusive numbers would last one week.
    const sharedConfig = { defaultHospital: 'h3', hospitals: { h3: { ...hospital({ perWeek: 7, minPerWard: 0 }), pool: { sharing: 'shared' } }, h4: hospital({ perWeek: 7, minPerWard: 0 }) } };
    fs.writeFileSync(path.join(cwd, 'cradle.config.json'), JSON.stringify(sharedConfig));
    const few = await run(['pool', 'list', '--json']);
    expect(JSON.parse(few.stdout).supply).toMatchObject({ hospital: 'h3', sharing: 'shared', numbers: 3, numbersNeeded: 6, weeks: 3, low: true });
    expect(few.stderr).toMatch(/holds 3 weeks of h3's rotation plan, fewer than 4/);
    fs.writeFileSync(path.join(cwd, 'more.txt'), '13700000004\n13700000005\n13700000006\n13700000007\n13700000008\n13700000009\n13700000010\n');
    json(await run(['pool', 'add', '--file', 'more.txt', '--burn-in', '0', '--json']));
    const enough = await run(['pool', 'list', '--json']);
    expect(JSON.parse(enough.stdout).supply).toEqual({ hospital: 'h3', canariesPerWeek: 7, numbersPerCanary: 1, numbersPerWeek: 7, numbers: 10, weeks: 104, sharing: 'shared', numbersNeeded: 6, horizon: 104, low: false });
    expect(enough.stderr).toBe('');
    expect((await run(['pool', 'list'])).stdout).toContain("supply: 10 shared numbers (blocked ones aside); h3's rotation plan (7 canaries a week) needs 6 that way: enough for the 104 weeks simulated\n");
    // pool plan --shared says the same of the plan: 6 numbers.
    expect(JSON.parse((await run(['pool', 'plan', '--weeks', '104', '--shared', '--runs', '1', '--json'])).stdout).accuracy).toMatchObject({ numbers: 10, numbersNeeded: 6, short: 0 });
    // The same pool as exclusive numbers: 10 free over 7 a week.
    const exclusive = await run(['--hospital', 'h4', 'pool', 'list', '--json']);
    expect(JSON.parse(exclusive.stdout).supply).toMatchObject({ sharing: 'exclusive', numbers: 10, weeks: 1, low: true });
    fs.rmSync(path.join(cwd, 'cradle.config.json'));
    const noPlan = await run(['pool', 'plan']);
    expect([noPlan.code, noPlan.stderr]).toEqual([1, 'cradle: no rotation plan to measure: give --per-week, or a config whose hospital has rotation.perWeek or rotation.perWard\n']);
  });
});
