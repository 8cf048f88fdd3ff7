import crypto from 'node:crypto';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { backoffSeconds, deliverDue, transportsFor } from '../../src/alerts/deliver.js';
import type { AlertPayload } from '../../src/alerts/render.js';
import { redact, robotRefusal, truncateUtf8 } from '../../src/alerts/robots.js';
import { parseConfig, type AlertsConfig } from '../../src/config/index.js';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS, newDatabase, type TestLocation } from '../helpers/db.js';

// The chat robots against local receivers that behave as the vendors document: each receiver checks
// the signature by recomputing it here (not with Cradle's signing functions), and answers HTTP 200
// with the vendor's code: 0 for delivered, the vendor's error code otherwise. A refused message is a
// failed delivery, retried as webhooks are; the logged error never holds the token, key or secret.

const DINGTALK_TOKEN = 'a3f1c0ffee0123456789abcdef0123456789abcdef0123456789abcdef012345';
const DINGTALK_SECRET = 'SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcd';
const WECOM_KEY = '693a91f6-7a1c-4bc4-97a0-0ec2f1a5aaa1';
const FEISHU_HOOK = '5e3d587e-d78e-4a07-bd07-265f269f86fd';
const FEISHU_SECRET = 'nIMtb7r3N9pkXyXdtAbx6e';
const TEAMS_SIG = 'Zq3xV9r2K8pLmN4tYbW6cJdE1fGhQ7sA0uIoPzXyRvT';

interface Received {
  path: string;
  query: URLSearchParams;
  rawQuery: string;
  body: Record<string, unknown>;
}

const hit: AlertPayload = {
  hit: 7, incident: 'INC-1', canary: 'c-42', kind: 'sms', at: '2026-12-07T08:00:00.000Z', from: '+86133****5678', confidence: 0.96,
  reasons: ['the message names the mother 王芳'], exposedTo: ['export:insurer'],
};

describe('chat robots: signing, answers, redaction', () => {
  let server: http.Server;
  let base = '';
  const received: Received[] = [];
  /** Answers to give, per robot path, before answering success. */
  const refuse: Record<string, number> = {};

  beforeAll(async () => {
    server = http.createServer((req, res) => {
      let raw = '';
      req.on('data', (c: Buffer) => (raw += c.toString('utf8')));
      req.on('end', () => {
        const url = new URL(req.url ?? '/', 'http://x');
        const body = JSON.parse(raw) as Record<string, unknown>;
        received.push({ path: url.pathname, query: url.searchParams, rawQuery: url.search, body });
        const json = (answer: unknown, status = 200) => res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify(answer));
        const refusing = (refuse[url.pathname] ?? 0) > 0;
        if (refusing) refuse[url.pathname]--;
        if (url.pathname === '/robot/send') {
          // DingTalk 加签: HMAC-SHA256(secret, timestamp + "\n" + secret), base64, in the query.
          const ts = url.searchParams.get('timestamp') ?? '';
          const expected = crypto.createHmac('sha256', DINGTALK_SECRET).update(ts + '\n' + DINGTALK_SECRET).digest('base64');
          const given = url.searchParams.get('sign') ?? '';
          const fresh = Math.abs(Date.now() - Number(ts)) < 3_600_000;
          if (url.searchParams.get('access_token') !== DINGTALK_TOKEN) return json({ errcode: 300001, errmsg: 'token is not exist' });
          if (!fresh || given.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected))) return json({ errcode: 310000, errmsg: 'sign not match, more: [https://ding-doc.dingtalk.com/doc#/serverapi2/qf2nxq]' });
          if (refusing) return json({ errcode: 660026, errmsg: `send too fast, exceed 20 times per minute; token ${DINGTALK_TOKEN}` });
          return json({ errcode: 0, errmsg: 'ok' });
        }
        if (url.pathname === '/cgi-bin/webhook/send') {
          if (url.searchParams.get('key') !== WECOM_KEY) return json({ errcode: 93000, errmsg: 'invalid webhook url, hint: [1701234567_1_abc], from ip: 127.0.0.1' });
          if (refusing) return json({ errcode: 45009, errmsg: 'api freq out of limit, hint: [1701234567_2_def]' });
          return json({ errcode: 0, errmsg: 'ok' });
        }
        if (url.pathname === `/open-apis/bot/v2/hook/${FEISHU_HOOK}`) {
          // Feishu: HMAC-SHA256 keyed with timestamp + "\n" + secret over an empty message, base64, in the body.
          const ts = String(body.timestamp);
          const expected = crypto.createHmac('sha256', ts + '\n' + FEISHU_SECRET).update('').digest('base64');
          const given = String(body.sign);
          const fresh = Math.abs(Date.now() / 1000 - Number(ts)) < 3600;
          if (!fresh || given.length !== expected.length || !crypto.timingSafeEqual(Buffer.from(given), Buffer.from(expected))) return json({ code: 19021, data: {}, msg: 'sign match fail or timestamp is not within one hour from current time' });
          if (refusing) return json({ code: 9499, data: {}, msg: 'Bad Request' });
          return json({ StatusCode: 0, StatusMessage: 'success', code: 0, data: {}, msg: 'success' });
        }
        if (url.pathname === '/workflows/abc/triggers/manual/paths/invoke') {
          if (url.searchParams.get('sig') !== TEAMS_SIG) return json({ error: { code: 'DirectApiAuthorizationRequired', message: 'The request must be authenticated' } }, 401);
          if (refusing) return json({ error: { code: 'InvalidRequestContent', message: 'The input body for trigger manual of type Request did not match its schema' } }, 400);
          return res.writeHead(202).end();
        }
        json({ errcode: 404, errmsg: 'unknown path' }, 404);
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    base = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
  });
  afterAll(async () => {
    await new Promise<void>((r) => server?.close(() => r()));
  });

  const config = (): AlertsConfig => ({
    digestAbove: 5,
    robots: [
      { name: 'ding', kind: 'dingtalk' },
      { name: 'wecom', kind: 'wecom', msgtype: 'text' },
      { name: 'lark', kind: 'feishu', url: `${base}/open-apis/bot/v2/hook/${FEISHU_HOOK}` },
      { name: 'teams', kind: 'teams' },
    ],
  });
  const env = (over: Record<string, string> = {}) => ({
    CRADLE_ALERT_DING_URL: `${base}/robot/send?access_token=${DINGTALK_TOKEN}`,
    CRADLE_ALERT_DING_SECRET: DINGTALK_SECRET,
    CRADLE_ALERT_WECOM_URL: `${base}/cgi-bin/webhook/send?key=${WECOM_KEY}`,
    CRADLE_ALERT_LARK_SECRET: FEISHU_SECRET,
    CRADLE_ALERT_TEAMS_URL: `${base}/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=${TEAMS_SIG}`,
    ...over,
  });
  const sendAll = async (e: Record<string, string>) => {
    const results: Record<string, string> = {};
    for (const t of transportsFor(config(), e)) {
      try {
        await t.send([hit], 'k1');
        results[t.channel] = 'ok';
      } catch (err) {
        results[t.channel] = (err as Error).message;
      }
    }
    return results;
  };

  it('signs DingTalk (query) and Feishu (body) as their vendors document, and each receiver accepts', async () => {
    received.length = 0;
    expect(await sendAll(env())).toEqual({ 'robot:ding': 'ok', 'robot:wecom': 'ok', 'robot:lark': 'ok', 'robot:teams': 'ok' });
    const [ding, wecom, lark, teams] = received;
    // The signature travels URL-encoded: no raw +, / or = of base64 in the query string.
    expect(ding.rawQuery).toMatch(/[?&]sign=[A-Za-z0-9%]+(&|$)/);
    expect(ding.body).toMatchObject({ msgtype: 'markdown', markdown: { title: expect.stringContaining('c-42') } });
    expect(JSON.stringify(ding.body)).toContain('王芳');
    expect(wecom.body).toEqual({ msgtype: 'text', text: { content: expect.stringContaining('canary c-42 contacted by sms') } });
    expect(lark.body).toMatchObject({ msg_type: 'text', content: { text: expect.stringContaining('c-42') }, timestamp: expect.stringMatching(/^\d{10}$/) });
    expect(teams.body).toMatchObject({
      type: 'message',
      attachments: [{ contentType: 'application/vnd.microsoft.card.adaptive', content: { type: 'AdaptiveCard', version: '1.4', body: expect.arrayContaining([expect.objectContaining({ type: 'TextBlock', wrap: true })]) } }],
    });
  });

  it('counts a wrong signature or key as a failure, with the vendor error and no secret in the message', async () => {
    const results = await sendAll(env({
      CRADLE_ALERT_DING_SECRET: 'SECwrongwrongwrong',
      CRADLE_ALERT_LARK_SECRET: 'wrong-secret-value',
      CRADLE_ALERT_WECOM_URL: `${base}/cgi-bin/webhook/send?key=00000000-dead-beef-0000-000000000000`,
      CRADLE_ALERT_TEAMS_URL: `${base}/workflows/abc/triggers/manual/paths/invoke?api-version=1&sig=forgedforgedforgedforged`,
    }));
    expect(results['robot:ding']).toMatch(/^ding: DingTalk errcode 310000: sign not match/);
    expect(results['robot:wecom']).toMatch(/^wecom: WeCom errcode 93000: invalid webhook url/);
    expect(results['robot:lark']).toMatch(/^lark: Feishu code 19021: sign match fail/);
    expect(results['robot:teams']).toMatch(/^teams: Teams workflow answered HTTP 401: The request must be authenticated/);
    const all = Object.values(results).join('\n');
    for (const secret of ['SECwrongwrongwrong', 'wrong-secret-value', '00000000-dead-beef', 'forgedforged', DINGTALK_TOKEN]) expect(all).not.toContain(secret);
  });

  it('a robot without a URL is a config error naming the variable', () => {
    expect(() => transportsFor(config(), env({ CRADLE_ALERT_DING_URL: '' }))).toThrow(/alerts\.robots\.0 \(ding\): no URL: set CRADLE_ALERT_DING_URL/);
  });

  it('checks robot settings in the config', () => {
    const at = (robots: unknown) => () => parseConfig({ hospitals: { h: { target: 't', mapping: 'm.json', wards: ['w'], districts: ['d'] } }, alerts: { robots } }, 'c.json');
    expect(at([{ name: 'a', kind: 'feishu', msgtype: 'markdown' }])).toThrow(/alerts\.robots\.0\.msgtype: msgtype is for dingtalk and wecom robots only/);
    expect(at([{ name: 'a', kind: 'wecom' }, { name: 'a', kind: 'dingtalk' }])).toThrow(/alerts\.robots\.1\.name: the name "a" is used twice/);
    expect(at([{ name: 'a', kind: 'slack' }])).toThrow(/alerts\.robots\.0\.kind/);
    expect(at([{ name: 'A b', kind: 'teams' }])).toThrow(/alerts\.robots\.0\.name: channel names use a-z, 0-9 and -/);
  });

  it('reads the answers as the vendors write them', () => {
    expect(robotRefusal('dingtalk', 200, '{"errcode":0,"errmsg":"ok"}')).toBeNull();
    expect(robotRefusal('wecom', 200, '{"errcode":0,"errmsg":"ok"}')).toBeNull();
    expect(robotRefusal('feishu', 200, '{"code":0,"data":{},"msg":"success"}')).toBeNull();
    expect(robotRefusal('feishu', 200, '{"StatusCode":0,"StatusMessage":"success"}')).toBeNull();
    expect(robotRefusal('teams', 202, '')).toBeNull();
    expect(robotRefusal('dingtalk', 200, '')).toMatch(/without the JSON code/);
    expect(robotRefusal('wecom', 200, '<html>proxy</html>')).toMatch(/without the JSON code/);
    expect(robotRefusal('feishu', 200, '{"code":19024,"msg":"Key Words Not Found"}')).toBe('Feishu code 19024: Key Words Not Found');
    expect(robotRefusal('dingtalk', 502, 'Bad Gateway')).toBe('DingTalk answered HTTP 502: Bad Gateway');
    expect(redact('failed at https://oapi.dingtalk.com/robot/send?access_token=abc&sign=x: key=123 secret s3cr3t', ['s3cr3t'])).toBe('failed at https://oapi.dingtalk.com/… key=… secret …');
    const cut = truncateUtf8('王'.repeat(2000), 2048);
    expect(Buffer.byteLength(cut)).toBeLessThanOrEqual(2048);
    expect(cut).toMatch(/\(cut: see cradle hits\)$/);
  });

  describe.each(BACKENDS)('through the outbox on %s', (backend) => {
    let loc: TestLocation;
    let db: Database;
    beforeAll(async () => {
      loc = await newDatabase(backend, 'robots', 'vault');
      db = await openDatabase(loc.location);
      await migrate(db);
    });
    afterAll(async () => {
      await db?.close();
      await loc?.cleanup();
    });

    it('retries a refused robot message later and marks it sent only when the code is 0', async () => {
      for (const channel of ['robot:ding', 'robot:wecom', 'robot:lark', 'robot:teams']) {
        await db.query(`INSERT INTO alert_outbox (channel, payload) VALUES ($1, $2)`, [channel, JSON.stringify(hit)]);
      }
      refuse['/robot/send'] = 1;
      refuse['/cgi-bin/webhook/send'] = 1;
      refuse[`/open-apis/bot/v2/hook/${FEISHU_HOOK}`] = 1;
      refuse['/workflows/abc/triggers/manual/paths/invoke'] = 1;
      const logged: string[] = [];
      const transports = transportsFor(config(), env());
      // A second on: a row inserted in the same millisecond as the run is not yet due (the server keeps
      // microseconds, a Date milliseconds).
      const now = new Date(Date.now() + 1000);
      const first = await deliverDue(db, transports, { now, onError: (channel, error) => logged.push(`${channel}: ${error}`) });
      expect(first).toEqual({ sent: 0, digests: 0, retried: 4, failed: 0 });
      expect(logged).toEqual([
        expect.stringMatching(/^robot:ding: ding: DingTalk errcode 660026: send too fast.*\(attempt 1 of 8\)$/),
        'robot:wecom: wecom: WeCom errcode 45009: api freq out of limit, hint: [1701234567_2_def] (attempt 1 of 8)',
        'robot:lark: lark: Feishu code 9499: Bad Request (attempt 1 of 8)',
        'robot:teams: teams: Teams workflow answered HTTP 400: The input body for trigger manual of type Request did not match its schema (attempt 1 of 8)',
      ]);
      expect(logged.join('\n')).not.toContain(DINGTALK_TOKEN);
      const { rows } = await db.query<{ last_error: string }>(`SELECT last_error FROM alert_outbox ORDER BY id`);
      expect(rows[0].last_error).toMatch(/send too fast/);
      expect(rows.map((r) => r.last_error).join('\n')).not.toContain(DINGTALK_TOKEN);
      const later = new Date(now.getTime() + backoffSeconds(1) * 1000 + 1000);
      expect(await deliverDue(db, transports, { now: later })).toEqual({ sent: 4, digests: 0, retried: 0, failed: 0 });
      expect(await vault.outboxDepth(db)).toEqual({ pending: 0, failed: 0 });
    });
  });
});
