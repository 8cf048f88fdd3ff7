import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import * as vault from '../../src/vault/index.js';
import { newDatabase, type Backend, type TestLocation } from '../helpers/db.js';

// A vault with what ingest and the SMTP listener look for: two trap numbers, the trap domain and one
// canary whose mother's mailbox is in canaries.email and whose father's is only in the family record.

export const TRAP_NUMBERS = ['+8613912345678', '+8613812345678'];
export const MOTHER_MAILBOX = 'li.na@trap.example.org';
export const FATHER_MAILBOX = 'wang.wei@trap.example.org';

export interface TrapVault {
  location: TestLocation;
  db: Database;
  close(): Promise<void>;
}

export async function createTrapVault(backend: Backend, label = 'ingest'): Promise<TrapVault> {
  const location = await newDatabase(backend, label, 'vault');
  const db = await openDatabase(location.location, { role: 'vault', create: true });
  await migrate(db);
  await plantTrapCanary(db);
  let closed = false;
  return {
    location,
    db,
    async close() {
      if (!closed) await db.close();
      closed = true;
      await location.cleanup();
    },
  };
}

export async function plantTrapCanary(db: Database): Promise<void> {
  await vault.ensureHospital(db, 'h1', 'zh-CN');
  await vault.addTrapNumbers(db, TRAP_NUMBERS.map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
  await vault.addTrapDomain(db, 'trap.example.org', null);
  await db.query(`INSERT INTO seed_batches (id, hospital, channels, state, requested) VALUES ('b1', 'h1', '[]', 'planted', 1)`);
  const family = { mother: { name: { full: '李娜' }, phone: TRAP_NUMBERS[0], email: 'Li.Na@trap.example.org' }, father: { name: { full: '王伟' }, phone: TRAP_NUMBERS[1], email: FATHER_MAILBOX } };
  await db.query(
    `INSERT INTO canaries (id, hospital, batch_id, status, iso_week, ward, family, mother_name, father_name, mother_phone, father_phone, email)
     VALUES ('c1', 'h1', 'b1', 'planted', '2026-W48', 'NICU', $1, '李娜', '王伟', $2, $3, 'Li.Na@trap.example.org')`,
    [JSON.stringify(family), TRAP_NUMBERS[0], TRAP_NUMBERS[1]],
  );
}
