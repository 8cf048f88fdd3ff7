import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS, newDatabase, type TestLocation } from '../helpers/db.js';

// The evidence store of issue 4: what arrives is kept byte for byte, once per provider event.

describe.each(BACKENDS)('contact events on %s', (backend) => {
  let location: TestLocation;
  let db: Database;
  beforeAll(async () => {
    location = await newDatabase(backend, 'contacts', 'vault');
    db = await openDatabase(location.location, { role: 'vault', create: true });
    await migrate(db);
  });
  afterAll(async () => {
    await db?.close();
    await location?.cleanup();
  });

  const sms = (sid: string | null, body: string): vault.NewContact => ({
    source: 'twilio-sms', providerId: sid, kind: 'sms', from: '+8613900001111', to: '+8613800002222',
    occurredAt: new Date('2026-11-28T10:00:00Z'), body, remoteAddr: '127.0.0.1', headers: { 'content-type': 'application/x-www-form-urlencoded' },
    raw: Buffer.from(`MessageSid=${sid}&Body=${encodeURIComponent(body)}\u0000\u00ff`, 'latin1'),
  });

  it('keeps the raw bytes and their sha256, and records a provider retry once', async () => {
    const first = await vault.recordContact(db, sms('SM1', '您好，宝宝写真'));
    expect(first.duplicate).toBe(false);
    const again = await vault.recordContact(db, sms('SM1', '您好，宝宝写真'));
    expect(again).toEqual({ id: first.id, duplicate: true, warnings: [] });
    const row = await vault.getContact(db, first.id);
    expect(row).toMatchObject({ source: 'twilio-sms', provider_id: 'SM1', kind: 'sms', to_address: '+8613800002222', body: '您好，宝宝写真', triaged_at: null });
    const raw = await vault.contactRaw(db, first.id);
    expect(raw!.equals(sms('SM1', '您好，宝宝写真').raw)).toBe(true);
    expect(row!.sha256).toMatch(/^[0-9a-f]{64}$/);
    expect(await vault.countContacts(db)).toBe(1);
  });

  it('records a list with one statement: duplicates of the vault and inside the list get the first id, in order', async () => {
    const before = await vault.recordContact(db, sms('SMB0', 'already here'));
    const results = await vault.recordContacts(db, [sms('SMB1', 'one'), sms('SMB0', 'retry of the vault'), sms(null, 'no id'), sms('SMB1', 'retry in the list'), sms('SMB2', 'two\u0000'), sms(null, 'no id')]);
    const values = results.map((r) => (r.status === 'fulfilled' ? r.value : r.reason));
    expect(values).toEqual([
      { id: expect.any(Number), duplicate: false, warnings: [] },
      { id: before.id, duplicate: true, warnings: [] },
      { id: expect.any(Number), duplicate: false, warnings: [] },
      { id: values[0].id, duplicate: true, warnings: [] },
      { id: expect.any(Number), duplicate: false, warnings: [expect.stringMatching(/^body: NUL shown as/)] },
      { id: expect.any(Number), duplicate: false, warnings: [] },
    ]);
    // New ids follow the order of arrival, as one by one.
    const fresh = [values[0].id, values[2].id, values[4].id, values[5].id];
    expect([...fresh].sort((a, b) => a - b)).toEqual(fresh);
    expect(new Set(fresh).size).toBe(4);
    const first = await vault.getContact(db, values[0].id);
    expect(first).toMatchObject({ provider_id: 'SMB1', body: 'one' });
    expect((await vault.contactRaw(db, values[0].id))!.equals(sms('SMB1', 'one').raw)).toBe(true);
    expect(first!.sha256).toBe(crypto.createHash('sha256').update(sms('SMB1', 'one').raw).digest('hex'));
    const fifth = await vault.getContact(db, values[4].id);
    expect(fifth).toMatchObject({ provider_id: 'SMB2', body: 'two\u2400' });
    // One statement, one transaction (one by one, each would have its own now()).
    expect(fifth!.received_at).toEqual(first!.received_at);
    expect(await vault.getContact(db, values[2].id)).toMatchObject({ provider_id: null, body: 'no id', headers: { 'content-type': 'application/x-www-form-urlencoded' } });
  });

  it('a contact the vault refuses in a list fails only itself; the others are stored', async () => {
    // A data exception (22P02) on a body starting "bad": what escaping might one day miss.
    await db.query(`ALTER TABLE contact_events ADD CONSTRAINT bad_is_refused CHECK (body NOT LIKE 'bad%' OR body::numeric IS NOT NULL) NOT VALID`);
    try {
      const results = await vault.recordContacts(db, [sms('SMC1', 'good'), sms('SMC2', 'bad one'), sms('SMC1', 'retry'), sms('SMC3', 'good too')]);
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'rejected', 'fulfilled', 'fulfilled']);
      expect(vault.isPermanentDataError((results[1] as PromiseRejectedResult).reason)).toBe(true);
      const [a, , b, c] = results.map((r) => (r.status === 'fulfilled' ? r.value : null));
      expect(b).toEqual({ id: a!.id, duplicate: true, warnings: [] });
      expect(c!.duplicate).toBe(false);
      expect(await vault.getContact(db, c!.id)).toMatchObject({ provider_id: 'SMC3', body: 'good too' });
      expect((await db.query(`SELECT 1 FROM contact_events WHERE provider_id = 'SMC2'`)).rows).toHaveLength(0);
    } finally {
      await db.query(`ALTER TABLE contact_events DROP CONSTRAINT bad_is_refused`);
    }
  });

  it('group commit: contacts recorded together are answered each, the bad one alone refused', async () => {
    await db.query(`ALTER TABLE contact_events ADD CONSTRAINT bad_is_refused CHECK (body NOT LIKE 'bad%' OR body::numeric IS NOT NULL) NOT VALID`);
    try {
      const record = vault.contactRecorder(db, { maxInFlight: 1, maxBatch: 3 });
      const sent = [sms('SMD1', 'a'), sms('SMD2', 'b'), sms('SMD1', 'a again'), sms('SMD3', 'bad'), sms('SMD4', 'c'), sms('SMD4', 'c again'), sms('SMD5', 'd')];
      const results = await Promise.allSettled(sent.map((c) => record(c)));
      expect(results.map((r) => r.status)).toEqual(['fulfilled', 'fulfilled', 'fulfilled', 'rejected', 'fulfilled', 'fulfilled', 'fulfilled']);
      const v = results.map((r) => (r.status === 'fulfilled' ? r.value : null));
      expect(v[2]).toEqual({ id: v[0]!.id, duplicate: true, warnings: [] });
      // Across two statements (batches of 3): the retry finds the copy committed before it.
      expect(v[5]).toEqual({ id: v[4]!.id, duplicate: true, warnings: [] });
      expect([v[0], v[1], v[4], v[6]].map((x) => x!.duplicate)).toEqual([false, false, false, false]);
      const { rows } = await db.query<{ provider_id: string }>(`SELECT provider_id FROM contact_events WHERE provider_id LIKE 'SMD%' ORDER BY id`);
      expect(rows.map((r) => r.provider_id)).toEqual(['SMD1', 'SMD2', 'SMD4', 'SMD5']);
    } finally {
      await db.query(`ALTER TABLE contact_events DROP CONSTRAINT bad_is_refused`);
    }
  });

  it('records events without a provider id each time (a visit noted by hand twice is two visits)', async () => {
    await vault.recordContact(db, sms(null, 'a'));
    await vault.recordContact(db, sms(null, 'a'));
    expect((await vault.listContacts(db, { untriaged: true })).filter((c) => c.provider_id === null && c.body === 'a')).toHaveLength(2);
  });
});
