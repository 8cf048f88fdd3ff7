import { spawn } from 'node:child_process';
import fs from 'node:fs';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { demoConfig } from '../../src/demo/setup.js';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { closeLingering } from '../../src/db/index.js';
import { genericSignature } from '../../src/watch/signatures.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { count, createTestHospital, type TestHospital } from '../helpers/hospital.js';

// The whole chain in the real `cradle watch`: a signed webhook to a canary's trap is stored,
// triaged into a hit and an incident, and its alert reaches the security team's webhook.

const SECRET = 'loop-secret-0123456789';

describe.each(BACKENDS)('cradle watch from webhook to alert on %s', (backend) => {
  let h: TestHospital;
  let receiver: http.Server;
  const alerts: { type: string; alerts: { canary: string; from: string }[] }[] = [];
  let canary: vault.CanaryRow;
  const cwd = scratchDir('watch-loop');

  beforeAll(async () => {
    receiver = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c));
      req.on('end', () => { alerts.push(JSON.parse(body)); res.writeHead(204).end(); });
    });
    await new Promise<void>((r) => receiver.listen(0, '127.0.0.1', r));
    h = await createTestHospital({ backend, schema: 'reference', population: 100, trapNumbers: 20 });
    const now = new Date();
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 2, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now), seed: 'loop' });
    [canary] = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    await h.vault.close();
    fs.writeFileSync(path.join(cwd, 'cradle.config.json'), JSON.stringify({
      ...demoConfig({ 产科一病区: 1 }),
      vault: h.vaultLocation,
      alerts: { webhooks: [{ name: 'sec', url: `http://127.0.0.1:${(receiver.address() as AddressInfo).port}/alerts`, format: 'json' }] },
    }));
  });
  afterAll(async () => {
    await new Promise<void>((r) => receiver?.close(() => r()));
    if (h) {
      h.vault = await openDatabase(h.vaultLocation);
      await h.close();
    }
  });

  it('stores, triages and alerts within seconds, and stops cleanly', async () => {
    await closeLingering();
    const child = spawn(process.execPath, [path.join(PACKAGE_ROOT, 'bin', 'cradle'), 'watch', '--port', '0', '--json'], { cwd, env: { ...process.env, CRADLE_VAULT: '', CRADLE_CONFIG: '', CRADLE_WEBHOOK_SECRET: SECRET } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exit = new Promise<number | null>((done) => child.on('close', done));
    const started = await new Promise<{ url: string }>((resolve, reject) => {
      let out = '';
      child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(JSON.parse(out.slice(0, out.indexOf('\n'))));
      });
      void exit.then((code) => reject(new Error(`exited ${code}: ${stderr}`)));
    });
    const raw = Buffer.from(JSON.stringify({ id: 'evt-1', kind: 'sms', from: '+8613312345678', to: canary.family.mother.phone, body: `${canary.family.mother.name.full}您好，宝宝写真免费拍` }));
    const timestamp = String(Math.floor(Date.now() / 1000));
    const res = await fetch(`${started.url}/webhooks/generic`, { method: 'POST', headers: { 'content-type': 'application/json', 'x-cradle-timestamp': timestamp, 'x-cradle-signature': genericSignature(SECRET, timestamp, raw) }, body: raw });
    expect(res.status).toBe(200);
    for (let i = 0; i < 100 && alerts.length === 0; i++) await new Promise((r) => setTimeout(r, 100));
    expect(alerts).toEqual([expect.objectContaining({ type: 'cradle.alert', alerts: [expect.objectContaining({ canary: canary.id, from: '+*********5678' })] })]);
    child.kill('SIGTERM');
    expect(await exit).toBe(0);
    expect(stderr).not.toMatch(/^\s+at /m);
    const db = await openDatabase(h.vaultLocation);
    try {
      const [hit] = await vault.listHits(db);
      expect(hit).toMatchObject({ canary_id: canary.id, from_address: '+8613312345678' });
      expect(hit.confidence).toBeGreaterThan(0.95);
      expect(await count(db, `SELECT id FROM alert_outbox WHERE state = 'sent'`)).toBe(1);
      expect(await count(db, `SELECT id FROM contact_events WHERE triaged_at IS NULL`)).toBe(0);
    } finally {
      await db.close();
    }
  });
});
