import { spawn, type ChildProcessWithoutNullStreams } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import twilio from 'twilio';
import { migrate, openDatabase } from '../../src/db/index.js';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';
import * as vault from '../../src/vault/index.js';
import { closeLingering } from '../../src/db/index.js';
import { genericSignature } from '../../src/watch/signatures.js';
import { cradleInProcess } from '../helpers/cli.js';
import { BACKENDS, newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';

// The real `cradle watch` binary: started on a free port, posted to, stopped with SIGTERM.

const TOKEN = 'cli-twilio-token-000000000000001';

interface Running {
  child: ChildProcessWithoutNullStreams;
  firstLine: string;
  stderr: () => string;
  exit: Promise<number | null>;
}

async function startCradle(args: string[], cwd: string, env: Record<string, string>): Promise<Running> {
  await closeLingering();
  return new Promise((resolve, reject) => {
    const child = spawn(process.execPath, [path.join(PACKAGE_ROOT, 'bin', 'cradle'), ...args], { cwd, env: { ...process.env, CRADLE_VAULT: '', CRADLE_CONFIG: '', ...env } });
    let stdout = '';
    let stderr = '';
    const exit = new Promise<number | null>((done) => child.on('close', (code) => done(code)));
    child.stderr.on('data', (d) => (stderr += d));
    child.stdout.on('data', (d) => {
      stdout += d;
      const nl = stdout.indexOf('\n');
      if (nl >= 0) resolve({ child, firstLine: stdout.slice(0, nl), stderr: () => stderr, exit });
    });
    child.on('error', reject);
    exit.then((code) => reject(new Error(`cradle watch exited ${code} before listening: ${stderr}`)));
  });
}

describe.each(BACKENDS)('the cradle watch binary on %s', (backend) => {
  let loc: TestLocation;
  const cwd = scratchDir('watch-cli');
  beforeAll(async () => {
    loc = await newDatabase(backend, 'watchcli', 'vault');
    const db = await openDatabase(loc.location, { role: 'vault', create: true });
    await migrate(db);
    await db.close();
  });
  afterAll(async () => {
    await loc?.cleanup();
  });

  it('listens on a free port, stores a signed SMS, and stops cleanly on SIGTERM', async () => {
    const run = await startCradle(['--vault', loc.location, 'watch', '--port', '0'], cwd, { TWILIO_AUTH_TOKEN: TOKEN });
    expect(run.firstLine).toMatch(/^listening on http:\/\/127\.0\.0\.1:\d+$/);
    const url = run.firstLine.replace('listening on ', '');
    // Without --public-url the URL signed is the one the client called.
    const params = { MessageSid: 'SMcli1', From: '+8613900001111', To: '+8613800002222', Body: '王丽华 宝宝' };
    const res = await fetch(`${url}/webhooks/twilio/sms`, {
      method: 'POST',
      headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(TOKEN, `${url}/webhooks/twilio/sms`, params) },
      body: new URLSearchParams(params).toString(),
    });
    expect(res.status).toBe(200);
    const health = await fetch(`${url}/healthz`);
    expect(await health.json()).toMatchObject({ ok: true, vault: 'reachable', contacts: 1 });
    const forged = await fetch(`${url}/webhooks/twilio/sms`, { method: 'POST', headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': 'AAAA' }, body: 'MessageSid=SMx&To=%2B8613800002222' });
    expect(forged.status).toBe(403);
    run.child.kill('SIGTERM');
    expect(await run.exit).toBe(0);
    const stderr = run.stderr();
    expect(stderr).toMatch(/not configured \(answering 503\): telnyx, generic/);
    expect(stderr).toMatch(/403 POST \/webhooks\/twilio\/sms from .*X-Twilio-Signature does not match/);
    expect(stderr).not.toContain(TOKEN);
    expect(stderr).not.toMatch(/^\s+at /m);

    const db = await openDatabase(loc.location, { role: 'vault' });
    try {
      const rows = await vault.listContacts(db);
      expect(rows.map((r) => [r.provider_id, r.body])).toEqual([['SMcli1', '王丽华 宝宝']]);
    } finally {
      await db.close();
    }
  });

  it('checks signatures against --public-url, prints JSON with --json, and stops on SIGINT', async () => {
    const run = await startCradle(['--vault', loc.location, 'watch', '--port', '0', '--json', '--public-url', 'https://traps.example.org/'], cwd, { TWILIO_AUTH_TOKEN: TOKEN });
    const started = JSON.parse(run.firstLine) as { url: string; publicUrl: string; configured: Record<string, boolean> };
    expect(started).toMatchObject({ publicUrl: 'https://traps.example.org', configured: { twilio: true, telnyx: false, generic: false } });
    const params = { CallSid: 'CAcli1', From: '+8613900001111', To: '+8613800002222', CallStatus: 'ringing' };
    const post = (signedUrl: string) =>
      fetch(`${started.url}/webhooks/twilio/voice`, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilio.getExpectedTwilioSignature(TOKEN, signedUrl, params) },
        body: new URLSearchParams(params).toString(),
      });
    expect((await post(`${started.url}/webhooks/twilio/voice`)).status).toBe(403);
    expect((await post('https://traps.example.org/webhooks/twilio/voice')).status).toBe(200);
    run.child.kill('SIGINT');
    expect(await run.exit).toBe(0);
  });

  it('keeps every acknowledged event when killed (SIGKILL) in the middle of a load', async () => {
    const secret = 'kill-test-secret';
    const run = await startCradle(['--vault', loc.location, 'watch', '--port', '0'], cwd, { CRADLE_WEBHOOK_SECRET: secret });
    const url = run.firstLine.replace('listening on ', '');
    const acked: string[] = [];
    let killed = false;
    const worker = async (w: number) => {
      for (let i = 0; !killed || i === 0; i++) {
        const id = `kill-${w}-${i}`;
        const body = JSON.stringify({ id, kind: 'sms', from: '+8613900001111', to: '+8613800002222', body: 'load' });
        const ts = String(Math.floor(Date.now() / 1000));
        try {
          const res = await fetch(`${url}/webhooks/generic`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', 'x-cradle-timestamp': ts, 'x-cradle-signature': genericSignature(secret, ts, Buffer.from(body)) },
            body,
          });
          if (res.status === 200) acked.push(id);
          else if (res.status !== 429) throw new Error(`unexpected ${res.status}`);
        } catch (err) {
          if (!killed) throw err;
          return;
        }
        if (acked.length >= 60 && !killed) {
          killed = true;
          run.child.kill('SIGKILL');
        }
      }
    };
    await Promise.all(Array.from({ length: 6 }, (_, w) => worker(w)));
    expect(await run.exit).toBe(null);
    expect(acked.length).toBeGreaterThanOrEqual(60);
    const db = await openDatabase(loc.location, { role: 'vault' });
    try {
      const stored = new Set((await vault.listContacts(db)).map((r) => r.provider_id));
      expect(acked.filter((id) => !stored.has(id))).toEqual([]);
    } finally {
      await db.close();
    }
  });

  it('refuses a bad --public-url and shows examples in --help', async () => {
    const bad = await cradleInProcess(['--vault', loc.location, 'watch', '--port', '0', '--public-url', 'ftp://x.org'], { cwd });
    expect(bad.code).toBe(1);
    expect(bad.stderr.trim()).toBe('cradle: --public-url: "ftp://x.org" is not an http(s) URL');
    const help = await cradleInProcess(['watch', '--help'], { cwd });
    expect(help.stdout).toMatch(/Examples:\n\s+TWILIO_AUTH_TOKEN=\.\.\. cradle watch --public-url/);
    const port = await cradleInProcess(['watch', '--port', 'x'], { cwd });
    expect(port.code).toBe(2);
  });
});
