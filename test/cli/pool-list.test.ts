import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate, openDatabase } from '../../src/db/index.js';
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
});
