import crypto from 'node:crypto';
import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SMTPServer } from 'smtp-server';
import { demoConfig } from '../../src/demo/setup.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { scratchDir } from '../helpers/db.js';

// `cradle alerts test` through the CLI (in-process), to a real SMTP server and HTTP receiver.

describe('cradle alerts test', () => {
  const cwd = scratchDir('cli-alerts');
  let smtp: SMTPServer;
  let web: http.Server;
  let ding: http.Server;
  const mails: string[] = [];
  let status = 204;

  beforeAll(async () => {
    smtp = new SMTPServer({
      disabledCommands: ['STARTTLS'],
      authOptional: true,
      onAuth(auth, _session, done) {
        done(auth.password === 'sesame' ? null : new Error('bad password'), auth.password === 'sesame' ? { user: auth.username } : undefined);
      },
      onData(stream, _s, done) {
        let d = '';
        stream.on('data', (c: Buffer) => (d += c.toString()));
        stream.on('end', () => { mails.push(d); done(); });
      },
    });
    await new Promise<void>((r) => smtp.listen(0, '127.0.0.1', r));
    web = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(status).end()); });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    // A DingTalk robot with 加签: the signature recomputed here, the answer in the body's errcode.
    ding = http.createServer((req, res) => {
      req.resume();
      req.on('end', () => {
        const q = new URL(req.url ?? '/', 'http://x').searchParams;
        const sign = crypto.createHmac('sha256', 'SECtest-secret').update(`${q.get('timestamp')}\nSECtest-secret`).digest('base64');
        res.writeHead(200, { 'content-type': 'application/json' }).end(JSON.stringify(q.get('sign') === sign ? { errcode: 0, errmsg: 'ok' } : { errcode: 310000, errmsg: 'sign not match' }));
      });
    });
    await new Promise<void>((r) => ding.listen(0, '127.0.0.1', r));
    fs.writeFileSync(path.join(cwd, 'cradle.config.json'), JSON.stringify({
      ...demoConfig({ 产科一病区: 1 }),
      alerts: {
        email: { host: '127.0.0.1', port: (smtp.server.address() as AddressInfo).port, secure: false, user: 'cradle', from: 'cradle@h.example', to: ['sec@h.example'] },
        webhooks: [{ name: 'slack-sec', url: `http://127.0.0.1:${(web.address() as AddressInfo).port}/x`, format: 'slack' }],
        robots: [{ name: 'ding', kind: 'dingtalk' }],
      },
    }));
  });
  afterAll(async () => {
    await new Promise<void>((r) => smtp?.close(() => r()));
    await new Promise<void>((r) => web?.close(() => r()));
    await new Promise<void>((r) => ding?.close(() => r()));
  });
  const dingUrl = () => `http://127.0.0.1:${(ding.address() as AddressInfo).port}/robot/send?access_token=tok-0123456789abcdef0123`;

  it('sends through every channel, with the SMTP password from the environment only', async () => {
    const ok = json<{ sent: number; failed: number; channels: { channel: string; ok: boolean; error: string | null }[] }>(await cradleInProcess(['alerts', 'test', '--json'], { cwd, env: { CRADLE_SMTP_PASSWORD: 'sesame', CRADLE_ALERT_DING_URL: dingUrl(), CRADLE_ALERT_DING_SECRET: 'SECtest-secret' } }));
    expect(ok).toEqual({ sent: 3, failed: 0, channels: [{ channel: 'email', ok: true, error: null }, { channel: 'webhook:slack-sec', ok: true, error: null }, { channel: 'robot:ding', ok: true, error: null }] });
    expect(mails.at(-1)).toMatch(/Subject: \[Cradle\] canary test contacted/);
    status = 500;
    const bad = await cradleInProcess(['alerts', 'test'], { cwd, env: { CRADLE_SMTP_PASSWORD: 'wrong', CRADLE_ALERT_DING_URL: dingUrl(), CRADLE_ALERT_DING_SECRET: 'SECwrong-secret' } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/email: FAILED/);
    expect(bad.stdout).toMatch(/webhook:slack-sec: FAILED: slack-sec: HTTP 500/);
    expect(bad.stdout).toMatch(/robot:ding: FAILED: ding: DingTalk errcode 310000: sign not match/);
    expect(bad.stdout + bad.stderr).not.toContain('wrong');
    expect(bad.stdout + bad.stderr).not.toContain('tok-0123456789abcdef0123');
  });
});
