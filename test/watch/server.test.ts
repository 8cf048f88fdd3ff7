import crypto from 'node:crypto';
import http from 'node:http';
import net from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import twilio from 'twilio';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import * as vault from '../../src/vault/index.js';
import { clientAddress, startWatch, type WatchHandle } from '../../src/watch/server.js';
import { genericSignature } from '../../src/watch/signatures.js';
import { BACKENDS, newDatabase, type TestLocation } from '../helpers/db.js';

// A running watch server on a real vault, driven over HTTP with fetch, signed by independent signers.

const TOKEN = 'twilio-auth-token-for-tests-0001';
const SECRET = 'generic-secret-for-tests';
const PUBLIC = 'https://traps.example.org';
const telnyx = crypto.generateKeyPairSync('ed25519');
const TELNYX_KEY = telnyx.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');

const form = (params: Record<string, string>) => new URLSearchParams(params).toString();
const unixNow = (offset = 0) => String(Math.floor(Date.now() / 1000) + offset);

async function openVault(backend: (typeof BACKENDS)[number], label: string): Promise<{ loc: TestLocation; db: Database }> {
  const loc = await newDatabase(backend, label, 'vault');
  const db = await openDatabase(loc.location, { role: 'vault', create: true });
  await migrate(db);
  return { loc, db };
}

describe.each(BACKENDS)('cradle watch over HTTP on %s', (backend) => {
  let loc: TestLocation;
  let db: Database;
  let watch: WatchHandle;
  const logs: string[] = [];

  beforeAll(async () => {
    ({ loc, db } = await openVault(backend, 'watch'));
    watch = await startWatch(db, {
      port: 0,
      publicUrl: PUBLIC,
      secrets: { twilioAuthToken: TOKEN, telnyxPublicKey: TELNYX_KEY, webhookSecret: SECRET },
      log: (line) => logs.push(line),
    });
  });
  afterAll(async () => {
    await watch?.close();
    await db?.close();
    await loc?.cleanup();
  });

  const twilioPost = (path: string, params: Record<string, string>, signature?: string) =>
    fetch(watch.url + path, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', ...(signature === '' ? {} : { 'x-twilio-signature': signature ?? twilio.getExpectedTwilioSignature(TOKEN, PUBLIC + path, params) }) },
      body: form(params),
    });

  const sms = { MessageSid: 'SM11111111111111111111111111111111', AccountSid: 'AC1', From: '+8613900001111', To: '+8613800002222', Body: '王丽华您好，宝宝满月写真 50% off', NumMedia: '0' };

  it('stores a signed Twilio SMS byte for byte before answering with empty TwiML, and a retry once', async () => {
    const res = await twilioPost('/webhooks/twilio/sms', sms);
    expect(res.status).toBe(200);
    expect(res.headers.get('content-type')).toMatch(/^text\/xml/);
    expect(await res.text()).toMatch(/<Response\/>$/);
    const rows = await vault.listContacts(db);
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ source: 'twilio-sms', provider_id: sms.MessageSid, kind: 'sms', from_address: '+8613900001111', to_address: '+8613800002222', body: sms.Body });
    expect(rows[0].remote_addr).toMatch(/127\.0\.0\.1/);
    expect(rows[0].headers['x-twilio-signature']).toBeTruthy();
    expect((await vault.contactRaw(db, rows[0].id))!.toString('utf8')).toBe(form(sms));
    expect(rows[0].sha256).toBe(crypto.createHash('sha256').update(form(sms)).digest('hex'));

    const again = await twilioPost('/webhooks/twilio/sms', sms);
    expect(again.status).toBe(200);
    expect(await vault.countContacts(db)).toBe(1);
    // What `cradle watch` reads to tell a flood still arriving (triage rests between rounds only then).
    expect(watch.stored()).toBe(2);
  });

  it('stores a burst of concurrent retries of one message once, answering 200 to each', async () => {
    const burst = { ...sms, MessageSid: 'SMburst' };
    const statuses = await Promise.all(Array.from({ length: 8 }, () => twilioPost('/webhooks/twilio/sms', burst).then((r) => r.status)));
    expect(statuses).toEqual(Array(8).fill(200));
    expect((await vault.listContacts(db)).filter((r) => r.provider_id === 'SMburst')).toHaveLength(1);
  });

  it('checks the signature over the URL with its query string', async () => {
    const res = await twilioPost('/webhooks/twilio/sms?hospital=gulou', { ...sms, MessageSid: 'SM2' });
    expect(res.status).toBe(200);
    const wrongUrl = twilio.getExpectedTwilioSignature(TOKEN, `${PUBLIC}/webhooks/twilio/sms`, { ...sms, MessageSid: 'SM3' });
    expect((await twilioPost('/webhooks/twilio/sms?hospital=gulou', { ...sms, MessageSid: 'SM3' }, wrongUrl)).status).toBe(403);
  });

  it('refuses bad and missing Twilio signatures with 403, one masked audit line each, nothing stored', async () => {
    const before = await vault.countContacts(db);
    logs.length = 0;
    const forged = await twilioPost('/webhooks/twilio/sms', { ...sms, MessageSid: 'SM4' }, twilio.getExpectedTwilioSignature('wrong-token', PUBLIC + '/webhooks/twilio/sms', { ...sms, MessageSid: 'SM4' }));
    expect(forged.status).toBe(403);
    const missing = await twilioPost('/webhooks/twilio/sms', { ...sms, MessageSid: 'SM5' }, '');
    expect(missing.status).toBe(403);
    expect(await vault.countContacts(db)).toBe(before);
    expect(logs).toHaveLength(2);
    expect(logs[0]).toMatch(/^cradle watch: 403 POST \/webhooks\/twilio\/sms from \S*127\.0\.0\.1: X-Twilio-Signature does not match$/);
    expect(logs[1]).toMatch(/missing X-Twilio-Signature$/);
    for (const line of logs) {
      expect(line).not.toContain(TOKEN);
      expect(line).not.toContain('13900001111');
    }
  });

  it('keeps a call and its transcription as two events', async () => {
    const call = { CallSid: 'CA1', From: '+8613900001111', To: '+8613800002222', CallStatus: 'ringing' };
    expect((await twilioPost('/webhooks/twilio/voice', call)).status).toBe(200);
    const transcript = { ...call, CallStatus: 'completed', TranscriptionSid: 'TR1', TranscriptionText: '请问是王丽华吗' };
    expect((await twilioPost('/webhooks/twilio/voice', transcript)).status).toBe(200);
    const rows = (await vault.listContacts(db)).filter((r) => r.source === 'twilio-voice');
    expect(rows.map((r) => [r.provider_id, r.kind, r.body])).toEqual([
      ['CA1', 'call', null],
      ['CA1:transcription:TR1', 'call', '请问是王丽华吗'],
    ]);
  });

  const telnyxPost = (doc: unknown, options: { ts?: string; sign?: boolean; key?: crypto.KeyObject } = {}) => {
    const body = JSON.stringify(doc);
    const ts = options.ts ?? unixNow();
    const headers: Record<string, string> = { 'content-type': 'application/json', 'telnyx-timestamp': ts };
    if (options.sign !== false) headers['telnyx-signature-ed25519'] = crypto.sign(null, Buffer.from(`${ts}|${body}`), options.key ?? telnyx.privateKey).toString('base64');
    return fetch(`${watch.url}/webhooks/telnyx`, { method: 'POST', headers, body });
  };
  const telnyxEvent = (id: string) => ({
    data: { record_type: 'event', id, event_type: 'message.received', occurred_at: new Date().toISOString(), payload: { from: { phone_number: '+8613900003333' }, to: [{ phone_number: '+8613800002222' }], text: '宝宝写真优惠' } },
    meta: { attempt: 1, delivered_to: `${PUBLIC}/webhooks/telnyx` },
  });

  it('stores signed Telnyx events once, and refuses unsigned, forged and stale ones', async () => {
    const ok = await telnyxPost(telnyxEvent('evt-1'));
    expect(ok.status).toBe(200);
    const first = (await ok.json()) as { id: number; duplicate: boolean };
    expect(first.duplicate).toBe(false);
    const retry = await telnyxPost(telnyxEvent('evt-1'));
    expect(await retry.json()).toEqual({ ok: true, id: first.id, duplicate: true });
    expect(await vault.getContact(db, first.id)).toMatchObject({ source: 'telnyx', provider_id: 'evt-1', kind: 'sms', from_address: '+8613900003333', body: '宝宝写真优惠' });

    const before = await vault.countContacts(db);
    expect((await telnyxPost(telnyxEvent('evt-2'), { sign: false })).status).toBe(403);
    expect((await telnyxPost(telnyxEvent('evt-3'), { key: crypto.generateKeyPairSync('ed25519').privateKey })).status).toBe(403);
    expect((await telnyxPost(telnyxEvent('evt-4'), { ts: unixNow(-301) })).status).toBe(403);
    expect(await vault.countContacts(db)).toBe(before);
  });

  const genericPost = (body: string, options: { ts?: string; secret?: string } = {}) => {
    const ts = options.ts ?? unixNow();
    return fetch(`${watch.url}/webhooks/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-cradle-timestamp': ts, 'x-cradle-signature': genericSignature(options.secret ?? SECRET, ts, Buffer.from(body)) },
      body,
    });
  };

  it('stores signed generic events; refuses bad signatures (403) and bad JSON or fields (400)', async () => {
    const event = JSON.stringify({ id: 'visit-1', kind: 'visit', from: null, to: '+8613800002222', occurredAt: '2026-11-27T09:00:00Z', body: 'a man asked for 王丽华 at the door' });
    const res = await genericPost(event);
    expect(res.status).toBe(200);
    const { id } = (await res.json()) as { id: number };
    expect(await vault.getContact(db, id)).toMatchObject({ source: 'generic', kind: 'visit', occurred_at: new Date('2026-11-27T09:00:00Z') });
    const before = await vault.countContacts(db);
    expect((await genericPost(event.replace('visit-1', 'visit-2'), { secret: 'wrong' })).status).toBe(403);
    expect((await genericPost(event.replace('visit-1', 'visit-3'), { ts: unixNow(-600) })).status).toBe(403);
    const badJson = await genericPost('{"id": ');
    expect(badJson.status).toBe(400);
    const badFields = await genericPost(JSON.stringify({ id: 'x', kind: 'fax', to: '+1' }));
    expect(badFields.status).toBe(400);
    expect(((await badFields.json()) as { error: string }).error).toMatch(/kind/);
    expect(await vault.countContacts(db)).toBe(before);
  });

  it('answers each of a burst of events stored together: copies of one event share its id, one not a duplicate', async () => {
    const event = (id: string) => JSON.stringify({ id, kind: 'sms', from: '+8613900001111', to: '+8613800002222', occurredAt: '2026-11-27T09:00:00Z', body: `burst ${id}` });
    const ids = ['gc-1', 'gc-2', 'gc-1', 'gc-3', 'gc-1', 'gc-2'];
    const answers = await Promise.all(ids.map(async (id) => {
      const res = await genericPost(event(id));
      return { status: res.status, ...((await res.json()) as { id: number; duplicate: boolean }) };
    }));
    expect(answers.map((a) => a.status)).toEqual(Array(ids.length).fill(200));
    for (const id of ['gc-1', 'gc-2', 'gc-3']) {
      const mine = answers.filter((_, i) => ids[i] === id);
      expect(new Set(mine.map((a) => a.id)).size).toBe(1);
      expect(mine.filter((a) => !a.duplicate)).toHaveLength(1);
      expect(await vault.getContact(db, mine[0].id)).toMatchObject({ source: 'generic', provider_id: id, body: `burst ${id}` });
    }
  });

  it('answers 413 over 64 KiB, 405 for other methods, 404 elsewhere, 400 for a non-form Twilio body', async () => {
    const big = await twilioPost('/webhooks/twilio/sms', { ...sms, MessageSid: 'SMbig', Body: 'x'.repeat(70 * 1024) });
    expect(big.status).toBe(413);
    const get = await fetch(`${watch.url}/webhooks/twilio/sms`);
    expect(get.status).toBe(405);
    expect(get.headers.get('allow')).toBe('POST');
    expect((await fetch(`${watch.url}/healthz`, { method: 'POST' })).status).toBe(405);
    expect((await fetch(`${watch.url}/nope`)).status).toBe(404);
    expect((await fetch(`${watch.url}/webhooks/twilio/sms`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' })).status).toBe(400);
  });

  it('records the socket address, not what a client writes in X-Forwarded-For', async () => {
    const event = JSON.stringify({ id: 'xff-1', kind: 'visit', from: null, to: '+8613800002222', occurredAt: '2026-11-27T09:00:00Z', body: null });
    const ts = unixNow();
    const res = await fetch(`${watch.url}/webhooks/generic`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-forwarded-for': '203.0.113.9', 'x-cradle-timestamp': ts, 'x-cradle-signature': genericSignature(SECRET, ts, Buffer.from(event)) },
      body: event,
    });
    const { id } = (await res.json()) as { id: number };
    expect((await vault.getContact(db, id))?.remote_addr).toMatch(/127\.0\.0\.1/);
  });

  it('reports health with the number of contacts', async () => {
    const res = await fetch(`${watch.url}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ ok: true, vault: 'reachable', contacts: await vault.countContacts(db), outbox: 0 });
  });
});

describe('the client address behind a reverse proxy', () => {
  const request = (peer: string, forwarded?: string | string[]) => ({ socket: { remoteAddress: peer }, headers: forwarded === undefined ? {} : { 'x-forwarded-for': forwarded } }) as unknown as http.IncomingMessage;
  it('takes the last X-Forwarded-For hop only when trusted and the proxy is local', () => {
    expect(clientAddress(request('127.0.0.1', '203.0.113.9, 198.51.100.7'), true)).toBe('198.51.100.7');
    expect(clientAddress(request('::ffff:127.0.0.1', ['203.0.113.9', '198.51.100.8']), true)).toBe('198.51.100.8');
    expect(clientAddress(request('127.0.0.1', '203.0.113.9'), false)).toBe('127.0.0.1');
    expect(clientAddress(request('192.0.2.1', '203.0.113.9'), true)).toBe('192.0.2.1');
    expect(clientAddress(request('127.0.0.1'), true)).toBe('127.0.0.1');
  });
});

describe.each(BACKENDS)('cradle watch when things go wrong on %s', (backend) => {
  it('rate-limits per address with 429 and Retry-After, and answers 503 for a source without a secret', async () => {
    const { loc, db } = await openVault(backend, 'watchlimit');
    const logs: string[] = [];
    const watch = await startWatch(db, { port: 0, secrets: {}, rateLimit: { perSecond: 0.1, burst: 2 }, log: (l) => logs.push(l) });
    try {
      const post = () => fetch(`${watch.url}/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: '{}' });
      const statuses = [];
      for (let i = 0; i < 3; i++) statuses.push(await post());
      expect(statuses.map((r) => r.status)).toEqual([503, 503, 429]);
      expect(await statuses[0].json()).toEqual({ error: 'generic webhooks are not configured' });
      expect(statuses[2].headers.get('retry-after')).toBe('10');
      expect(logs[0]).toMatch(/503 POST \/webhooks\/generic .*not configured/);
      expect(await vault.countContacts(db)).toBe(0);
    } finally {
      await watch.close();
      await db.close();
      await loc.cleanup();
    }
  });

  it('answers 500 when the vault cannot take the write, so the provider retries, and 503 on /healthz', async () => {
    const { loc, db } = await openVault(backend, 'watchfail');
    const logs: string[] = [];
    const watch = await startWatch(db, { port: 0, secrets: { webhookSecret: SECRET }, log: (l) => logs.push(l) });
    try {
      await db.close();
      const body = JSON.stringify({ id: 'e1', kind: 'sms', from: '+8613900001111', to: '+8613800002222' });
      const ts = unixNow();
      const res = await fetch(`${watch.url}/webhooks/generic`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'x-cradle-timestamp': ts, 'x-cradle-signature': genericSignature(SECRET, ts, Buffer.from(body)) },
        body,
      });
      expect(res.status).toBe(500);
      expect(logs.join('\n')).toMatch(/500 POST \/webhooks\/generic .*vault write failed/);
      expect((await fetch(`${watch.url}/healthz`)).status).toBe(503);
    } finally {
      await watch.close();
      await loc.cleanup();
    }
  });

  it('drops a client that sends its headers too slowly (408)', async () => {
    const { loc, db } = await openVault(backend, 'watchslow');
    const watch = await startWatch(db, { port: 0, secrets: {}, headersTimeoutMs: 500, requestTimeoutMs: 1000 });
    try {
      const started = Date.now();
      const reply = await new Promise<string>((resolve, reject) => {
        const socket = net.connect(watch.port, '127.0.0.1', () => socket.write('POST /webhooks/generic HTTP/1.1\r\nHost: x\r\n'));
        let text = '';
        socket.on('data', (d) => (text += d));
        socket.on('close', () => resolve(text));
        socket.on('error', reject);
      });
      expect(reply).toMatch(/^HTTP\/1\.1 408/);
      expect(Date.now() - started).toBeLessThan(5000);
    } finally {
      await watch.close();
      await db.close();
      await loc.cleanup();
    }
  });

  it('lets a request in flight finish, and its event be stored, when it is closed', async () => {
    const { loc, db } = await openVault(backend, 'watchclose');
    const watch = await startWatch(db, { port: 0, secrets: { webhookSecret: SECRET } });
    try {
      const body = JSON.stringify({ id: 'late-1', kind: 'call', from: '+8613900001111', to: '+8613800002222' });
      const ts = unixNow();
      let closed = false;
      const status = await new Promise<number>((resolve, reject) => {
        const req = http.request(`${watch.url}/webhooks/generic`, {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'content-length': Buffer.byteLength(body), 'x-cradle-timestamp': ts, 'x-cradle-signature': genericSignature(SECRET, ts, Buffer.from(body)) },
        });
        req.on('response', (res) => {
          res.resume();
          resolve(res.statusCode!);
        });
        req.on('error', reject);
        req.write(body.slice(0, 10));
        setTimeout(() => {
          void watch.close().then(() => (closed = true));
          setTimeout(() => req.end(body.slice(10)), 200);
        }, 200);
      });
      expect(status).toBe(200);
      await new Promise((r) => setTimeout(r, 100));
      expect(closed).toBe(true);
      expect((await vault.listContacts(db)).map((r) => r.provider_id)).toEqual(['late-1']);
      await expect(fetch(`${watch.url}/healthz`)).rejects.toThrow();
    } finally {
      await watch.close().catch(() => undefined);
      await db.close();
      await loc.cleanup();
    }
  });

  it('refuses a Telnyx key that is not one', async () => {
    const { loc, db } = await openVault(backend, 'watchkey');
    try {
      await expect(startWatch(db, { port: 0, secrets: { telnyxPublicKey: 'c2hvcnQ=' } })).rejects.toThrow(/TELNYX_PUBLIC_KEY: not a base64-encoded 32-byte/);
    } finally {
      await db.close();
      await loc.cleanup();
    }
  });
});
