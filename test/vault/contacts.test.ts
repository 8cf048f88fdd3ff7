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

  it('records events without a provider id each time (a visit noted by hand twice is two visits)', async () => {
    await vault.recordContact(db, sms(null, 'a'));
    await vault.recordContact(db, sms(null, 'a'));
    expect((await vault.listContacts(db, { untriaged: true })).filter((c) => c.provider_id === null)).toHaveLength(2);
  });
});
