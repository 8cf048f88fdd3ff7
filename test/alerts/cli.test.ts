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
    fs.writeFileSync(path.join(cwd, 'cradle.config.json'), JSON.stringify({
      ...demoConfig({ 产科一病区: 1 }),
      alerts: {
        email: { host: '127.0.0.1', port: (smtp.server.address() as AddressInfo).port, secure: false, user: 'cradle', from: 'cradle@h.example', to: ['sec@h.example'] },
        webhooks: [{ name: 'slack-sec', url: `http://127.0.0.1:${(web.address() as AddressInfo).port}/x`, format: 'slack' }],
      },
    }));
  });
  afterAll(async () => {
    await new Promise<void>((r) => smtp?.close(() => r()));
    await new Promise<void>((r) => web?.close(() => r()));
  });

  it('sends through every channel, with the SMTP password from the environment only', async () => {
    const ok = json<{ channel: string; ok: boolean }[]>(await cradleInProcess(['alerts', 'test', '--json'], { cwd, env: { CRADLE_SMTP_PASSWORD: 'sesame' } }));
    expect(ok).toEqual([{ channel: 'email', ok: true }, { channel: 'webhook:slack-sec', ok: true }]);
    expect(mails.at(-1)).toMatch(/Subject: \[Cradle\] canary test contacted/);
    status = 500;
    const bad = await cradleInProcess(['alerts', 'test'], { cwd, env: { CRADLE_SMTP_PASSWORD: 'wrong' } });
    expect(bad.code).toBe(1);
    expect(bad.stdout).toMatch(/email: FAILED/);
    expect(bad.stdout).toMatch(/webhook:slack-sec: FAILED: slack-sec: HTTP 500/);
    expect(bad.stdout + bad.stderr).not.toContain('wrong');
  });
});
