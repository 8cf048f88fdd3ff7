import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import { startWatch, type WatchHandle } from '../../src/watch/server.js';
import { watchSecrets } from '../../src/watch/settings.js';
import { BACKENDS, newDatabase, type TestLocation } from '../helpers/db.js';

// SMS forwarding apps on the phones that hold trap SIMs, POSTing to a running `cradle watch` on a real
// vault. Each request is built and signed here the way the app itself does, from its vendor's code and
// docs, not with Cradle's functions:
//  - SMS Gateway for Android (capcom6): its sms:received JSON, X-Signature = hex HMAC-SHA256(key, body + X-Timestamp);
//  - SmsForwarder (pppscn), WebhookUtils.kt: sign = URLEncoder.encode(base64(HMAC-SHA256(secret, "<ms>\n<secret>"))),
//    put into the user's template ([timestamp], [sign]) or, with no template, form fields that encode it again.

const GATEWAY_KEY = 'gw-signing-key-0001';
const FORWARDER_SECRET = 'SEC0123456789abcdef';
const TRAP = '+8613800002222';

const hmac = (key: string, data: string | Buffer) => crypto.createHmac('sha256', key).update(data);
/** What SmsForwarder puts in place of [sign]: Java's URLEncoder on the base64 (space as +). */
const javaUrlEncode = (s: string) => encodeURIComponent(s).replace(/%20/g, '+');
const forwarderSign = (secret: string, ms: string) => javaUrlEncode(hmac(secret, `${ms}\n${secret}`).digest('base64'));

describe.each(BACKENDS)('forwarding apps into cradle watch on %s', (backend) => {
  let loc: TestLocation;
  let db: Database;
  let watch: WatchHandle;
  const logs: string[] = [];

  beforeAll(async () => {
    loc = await newDatabase(backend, 'forwarders', 'vault');
    db = await openDatabase(loc.location, { role: 'vault' });
    await migrate(db);
    // As the config and the environment give them: the gateway's key from the environment.
    const secrets = watchSecrets(
      { CRADLE_FORWARDER_WARD_GW_1_SECRET: GATEWAY_KEY },
      {
        forwarders: {
          'ward-gw-1': { app: 'sms-gateway' },
          'sim-7': { app: 'smsforwarder', secret: FORWARDER_SECRET, to: '13800002222' },
          'sim-8': { app: 'smsforwarder', secret: FORWARDER_SECRET, to: TRAP, fields: { from: 'sender', body: 'text', occurredAt: 'time', timestamp: 'ts', sign: 'sig' } },
          'no-number': { app: 'smsforwarder', secret: FORWARDER_SECRET },
          unsigned: { app: 'smsforwarder' },
        },
      },
    );
    expect(secrets.forwarders!.map((f) => f.name)).toEqual(['ward-gw-1', 'sim-7', 'sim-8', 'no-number']);
    watch = await startWatch(db, { port: 0, secrets, log: (line) => logs.push(line) });
  });
  afterAll(async () => {
    await watch?.close();
    await db?.close();
    await loc?.cleanup();
  });

  const contacts = async () =>
    (await db.query<{ source: string; provider_id: string; from_address: string; to_address: string; occurred_at: Date; body: string; raw: Buffer }>(
      `SELECT source, provider_id, from_address, to_address, occurred_at, body, raw FROM contact_events ORDER BY id`,
    )).rows;

  const gatewayPost = (body: string, opts: { key?: string; timestamp?: string } = {}) => {
    const ts = opts.timestamp ?? String(Math.floor(Date.now() / 1000));
    return fetch(`${watch.url}/webhooks/forward/ward-gw-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': hmac(opts.key ?? GATEWAY_KEY, body + ts).digest('hex'), 'x-timestamp': ts },
      body,
    });
  };

  it('SMS Gateway for Android: a signed sms:received is stored byte for byte, a retry once, other events ignored', async () => {
    const body = JSON.stringify({
      deviceId: 'ffffffffceb0b1db0000018e937c815b',
      event: 'sms:received',
      id: 'Ey6ECgOkVVFjz3CL48B8C',
      payload: { messageId: 'abc123', message: '王丽华您好，宝宝满月写真免费', sender: '13900001111', recipient: TRAP, simNumber: 1, receivedAt: '2026-12-07T09:46:11.000+08:00' },
      webhookId: 'LreFUt-Z3sSq0JufY9uWB',
    });
    const res = await gatewayPost(body);
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, duplicate: false });
    const again = await gatewayPost(body);
    expect(await again.json()).toMatchObject({ ok: true, duplicate: true });
    const [c, ...rest] = await contacts();
    expect(rest).toEqual([]);
    expect(c).toMatchObject({ source: 'forwarder:ward-gw-1', provider_id: 'Ey6ECgOkVVFjz3CL48B8C', from_address: '+8613900001111', to_address: TRAP, body: '王丽华您好，宝宝满月写真免费' });
    expect(new Date(c.occurred_at).toISOString()).toBe('2026-12-07T01:46:11.000Z');
    expect(Buffer.from(c.raw).toString('utf8')).toBe(body);

    const ping = JSON.stringify({ deviceId: 'ffff', event: 'system:ping', id: 'p1', payload: { health: { status: 'pass' } }, webhookId: 'w2' });
    const pinged = await gatewayPost(ping);
    expect(await pinged.json()).toEqual({ ok: true, ignored: 'event system:ping is not an incoming SMS' });
    expect(await contacts()).toHaveLength(1);
  });

  it('SMS Gateway for Android: a wrong key, a stale time or a changed body is refused and nothing is stored', async () => {
    const body = JSON.stringify({ event: 'sms:received', id: 'x1', payload: { message: 'hi', sender: '13900001111', recipient: TRAP } });
    expect((await gatewayPost(body, { key: 'another-key' })).status).toBe(403);
    expect((await gatewayPost(body, { timestamp: String(Math.floor(Date.now() / 1000) - 2 * 3600) })).status).toBe(403);
    const ts = String(Math.floor(Date.now() / 1000));
    const tampered = await fetch(`${watch.url}/webhooks/forward/ward-gw-1`, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-signature': hmac(GATEWAY_KEY, body + ts).digest('hex'), 'x-timestamp': ts },
      body: body.replace('hi', 'ho'),
    });
    expect(tampered.status).toBe(403);
    expect(await contacts()).toHaveLength(1);
    expect(logs.filter((l) => / 403 POST \/webhooks\/forward\/ward-gw-1 /.test(l))).toHaveLength(3);
  });

  it('SmsForwarder with no template: its form, the trap number from the config, a replay with another body a duplicate', async () => {
    const ms = String(Date.now());
    const sign = forwarderSign(FORWARDER_SECRET, ms);
    // The app's default: from=[from]&content=[content]&timestamp=[timestamp]&sign=[sign], each value form-encoded.
    const form = (content: string) => new URLSearchParams({ from: '+8613900003333', content, timestamp: ms, sign }).toString();
    const post = (content: string) => fetch(`${watch.url}/webhooks/forward/sim-7`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(content) });
    const res = await post('李娜女士您好，这里是医院影楼\n+8613900003333\nSIM1_中国移动');
    expect(res.status).toBe(200);
    expect(await res.json()).toMatchObject({ ok: true, duplicate: false });
    // Whoever saw the request cannot reuse its sign for a message of their own, from another sender either.
    const replay = await fetch(`${watch.url}/webhooks/forward/sim-7`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: new URLSearchParams({ from: '+8613900009999', content: 'another text', timestamp: ms, sign }).toString() });
    expect(await replay.json()).toMatchObject({ ok: true, duplicate: true });
    const stored = (await contacts()).filter((c) => c.source === 'forwarder:sim-7');
    expect(stored).toHaveLength(1);
    expect(stored[0]).toMatchObject({ from_address: '+8613900003333', to_address: TRAP, body: '李娜女士您好，这里是医院影楼\n+8613900003333\nSIM1_中国移动' });
  });

  it('SmsForwarder with a JSON template of the hospital’s own: fields where the template puts them, the receive time read', async () => {
    const ms = String(Date.now());
    // The template set in the app: {"sender":"[from]","text":"[org_content]","time":"[receive_time:yyyy-MM-dd'T'HH:mm:ssXXX]","ts":"[timestamp]","sig":"[sign]"}
    const body = `{"sender":"13900004444","text":"张敏妈妈您好，宝宝12月1日出生，免费新生儿摄影","time":"2026-12-07T10:15:00+08:00","ts":"${ms}","sig":"${forwarderSign(FORWARDER_SECRET, ms)}"}`;
    const res = await fetch(`${watch.url}/webhooks/forward/sim-8`, { method: 'POST', headers: { 'content-type': 'application/json' }, body });
    expect(res.status).toBe(200);
    const c = (await contacts()).find((x) => x.source === 'forwarder:sim-8')!;
    expect(c).toMatchObject({ from_address: '+8613900004444', to_address: TRAP, body: '张敏妈妈您好，宝宝12月1日出生，免费新生儿摄影', provider_id: `signed:${ms}` });
    expect(new Date(c.occurred_at).toISOString()).toBe('2026-12-07T02:15:00.000Z');
  });

  it('answers signed junk with 200 (ignored), 400 or 413, never an error, and stays up', async () => {
    let seed = 7;
    const rnd = () => ((seed = (seed * 1103515245 + 12345) % 2 ** 31) / 2 ** 31);
    const junk = (): Buffer => {
      const pick = Math.floor(rnd() * 6);
      if (pick === 0) return Buffer.from(Array.from({ length: 1 + Math.floor(rnd() * 300) }, () => Math.floor(rnd() * 256)));
      if (pick === 1) return Buffer.from(`${'['.repeat(5000)}${']'.repeat(5000)}`);
      if (pick === 2) return Buffer.from(JSON.stringify({ event: 'sms:received', id: 'j', payload: { message: 'x'.repeat(100_000), sender: '1', recipient: TRAP } }));
      if (pick === 3) return Buffer.from(JSON.stringify({ event: 'sms:received', id: rnd(), payload: { message: [1, { a: null }], sender: { x: 1 }, recipient: 'not a number', receivedAt: 'yesterday' } }));
      if (pick === 4) return Buffer.from(JSON.stringify({ event: 'sms:received', payload: null }));
      return Buffer.from(JSON.stringify([null, 'sms:received', { payload: {} }]));
    };
    for (let i = 0; i < 60; i++) {
      const body = junk();
      const ts = String(Math.floor(Date.now() / 1000));
      const sig = crypto.createHmac('sha256', GATEWAY_KEY).update(Buffer.concat([body, Buffer.from(ts)])).digest('hex');
      const res = await fetch(`${watch.url}/webhooks/forward/ward-gw-1`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-signature': sig, 'x-timestamp': ts }, body: new Uint8Array(body) });
      expect([200, 400, 413]).toContain(res.status);
      const answer = (await res.json()) as { ok?: boolean; ignored?: string; error?: string };
      if (res.status === 200) expect(answer.ignored ?? answer.ok).toBeTruthy();
      else expect(answer.error).toEqual(expect.any(String));
    }
    expect((await fetch(`${watch.url}/healthz`)).status).toBe(200);
  });

  it('refuses a wrong secret (403), a forwarder without a number (400), and names it is not configured (503)', async () => {
    const ms = String(Date.now());
    const form = (secret: string) => new URLSearchParams({ from: '13900005555', content: 'x', timestamp: ms, sign: forwarderSign(secret, ms) }).toString();
    const post = (name: string, secret: string) => fetch(`${watch.url}/webhooks/forward/${name}`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded' }, body: form(secret) });
    const before = (await contacts()).length;
    expect((await post('sim-7', 'not-the-secret')).status).toBe(403);
    const noNumber = await post('no-number', FORWARDER_SECRET);
    expect(noNumber.status).toBe(400);
    expect(await noNumber.json()).toEqual({ error: 'the body names no recipient and forwarder no-number has no "to" number in the config' });
    for (const name of ['unsigned', 'nobody']) {
      const res = await post(name, FORWARDER_SECRET);
      expect([res.status, await res.json()]).toEqual([503, { error: `forwarder ${name} is not configured` }]);
    }
    expect((await contacts()).length).toBe(before);
  });
});
