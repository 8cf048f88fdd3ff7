import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import pg from 'pg';
import { migrate, openDatabase } from '../../src/db/index.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { newDatabase, scratchDir, SERVER_URL, type TestLocation } from '../helpers/db.js';

// An auditor checks the ledger with a role that can only read the vault: opening the vault must not
// try to create or change anything when its schema is current.

const describeServer = SERVER_URL ? describe : describe.skip;

describeServer('cradle verify with a read-only role', () => {
  let loc: TestLocation;
  const role = `cradle_auditor_${process.pid}`;
  let readOnlyUrl: string;

  beforeAll(async () => {
    loc = await newDatabase('postgres', 'readonly');
    const db = await openDatabase(loc.location);
    await migrate(db);
    await vault.ensureHospital(db, 'h1', 'zh-CN');
    await db.transaction((tx) => vault.appendLedger(tx, { kind: 'note', ref: 'r1', content: { text: 'first' } }));
    await db.close();
    const admin = new pg.Client({ connectionString: loc.location });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.query(`CREATE ROLE ${role} LOGIN`);
    await admin.query(`REVOKE CREATE ON SCHEMA public FROM PUBLIC`);
    await admin.query(`GRANT SELECT ON ALL TABLES IN SCHEMA public TO ${role}`);
    await admin.end();
    const url = new URL(loc.location);
    url.username = role;
    readOnlyUrl = url.toString();
  });
  afterAll(async () => {
    await loc?.cleanup();
    const admin = new pg.Client({ connectionString: SERVER_URL });
    await admin.connect();
    await admin.query(`DROP ROLE IF EXISTS ${role}`);
    await admin.end();
  });

  it('verifies the chain without write rights', async () => {
    const res = await cradleInProcess(['--vault', readOnlyUrl, 'verify', '--json'], { cwd: scratchDir('readonly') });
    expect(res.stderr).toBe('');
    expect(json<{ ok: boolean }>(res).ok).toBe(true);
  });
});
