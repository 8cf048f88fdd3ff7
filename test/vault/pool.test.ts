import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS, newDatabase, type TestLocation } from '../helpers/db.js';

const DAY = 86_400_000;

describe.each(BACKENDS)('trap pool lifecycle on %s', (backend) => {
  let loc: TestLocation;
  let db: Database;
  beforeAll(async () => {
    loc = await newDatabase(backend, 'pool', 'vault');
    db = await openDatabase(loc.location);
    await migrate(db);
    await vault.ensureHospital(db, 'h1', 'zh-CN');
    await vault.ensureHospital(db, 'h2', 'zh-CN');
  });
  afterAll(async () => {
    await db.close();
    await loc.cleanup();
  });

  it('keeps burn-in numbers out of use until the burn-in ends', async () => {
    const now = new Date();
    await vault.addTrapNumbers(db, [{ e164: '+8613900000001', region: 'CN' }], { hospital: null, burnInUntil: new Date(now.getTime() + 14 * DAY) });
    await vault.refreshPool(db, now);
    expect(await vault.availableNumbers(db, 'h1', 'CN')).toEqual([]);
    await vault.refreshPool(db, new Date(now.getTime() + 15 * DAY));
    expect((await vault.availableNumbers(db, 'h1', 'CN')).map((n) => n.e164)).toEqual(['+8613900000001']);
  });

  it("gives a hospital its own share first and never another hospital's", async () => {
    await vault.addTrapNumbers(db, [{ e164: '+8613900000002', region: 'CN' }], { hospital: 'h2', burnInUntil: null });
    await vault.addTrapNumbers(db, [{ e164: '+8613900000003', region: 'CN' }], { hospital: 'h1', burnInUntil: null });
    expect((await vault.availableNumbers(db, 'h1', 'CN')).map((n) => n.e164)).toEqual(['+8613900000003', '+8613900000001']);
    expect((await vault.availableNumbers(db, 'h2', 'CN')).map((n) => n.e164)).toEqual(['+8613900000002', '+8613900000001']);
    expect(await vault.availableNumbers(db, 'h1', 'US')).toEqual([]);
  });

  it('rests a retired number for the whole cool-down before reuse, and never double-assigns', async () => {
    const [n] = (await vault.availableNumbers(db, 'h1', 'CN')).filter((x) => x.e164 === '+8613900000003');
    const now = new Date();
    await db.query(`INSERT INTO seed_batches (id, hospital, channels, state, requested) VALUES ('b1', 'h1', '[]', 'planted', 1)`);
    await db.query(`INSERT INTO canaries (id, hospital, batch_id, status, iso_week, ward, family, mother_name) VALUES ('c1', 'h1', 'b1', 'planted', '2026-W40', 'A', '{}', '某某')`);
    expect(await vault.assignNumbers(db, [{ numberId: n.id, canaryId: 'c1', role: 'mother' }], now)).toBe(true);
    // A second assignment of the same number is refused: the update is conditional on "available".
    expect(await vault.assignNumbers(db, [{ numberId: n.id, canaryId: 'c1', role: 'mother' }], now)).toBe(false);
    expect(await vault.retireNumbersOf(db, ['c1'], now, 730)).toBe(1);
    await vault.refreshPool(db, new Date(now.getTime() + 729 * DAY));
    expect((await vault.availableNumbers(db, 'h1', 'CN')).map((x) => x.e164)).not.toContain('+8613900000003');
    await vault.refreshPool(db, new Date(now.getTime() + 731 * DAY));
    expect((await vault.availableNumbers(db, 'h1', 'CN')).map((x) => x.e164)).toContain('+8613900000003');
    const listed = await vault.listTrapNumbers(db, { hospital: 'h1' });
    expect(listed.find((x) => x.e164 === '+8613900000003')).toMatchObject({ state: 'available' });
  });

  it('adds numbers once, reporting the ones already there', async () => {
    const res = await vault.addTrapNumbers(db, [{ e164: '+8613900000001', region: 'CN' }, { e164: '+8613900000009', region: 'CN' }], { hospital: null, burnInUntil: null });
    expect(res).toEqual({ added: ['+8613900000009'], existing: ['+8613900000001'] });
  });
});
