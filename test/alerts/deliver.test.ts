import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { SMTPServer } from 'smtp-server';
import { alertChannels, backoffSeconds, deliverDue, transportsFor } from '../../src/alerts/deliver.js';
import type { AlertsConfig } from '../../src/config/index.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { BACKENDS } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';

// Alerts go through the outbox to a real SMTP server (smtp-server from npm) and a real HTTP
// receiver: retried with backoff when the receiver fails, sent once, bursts as one digest.

describe.each(BACKENDS)('alert delivery on %s', (backend) => {
  let h: TestHospital;
  let smtp: SMTPServer;
  let web: http.Server;
  const mails: string[] = [];
  const posts: { headers: http.IncomingHttpHeaders; body: { type: string; alerts: { canary: string }[] } }[] = [];
  let failNext = 0;
  let config: AlertsConfig;
  let canary: vault.CanaryRow;

  beforeAll(async () => {
    smtp = new SMTPServer({
      disabledCommands: ['AUTH', 'STARTTLS'],
      onData(stream, _session, done) {
        let data = '';
        stream.on('data', (c: Buffer) => (data += c.toString()));
        stream.on('end', () => { mails.push(data); done(); });
      },
    });
    await new Promise<void>((resolve) => smtp.listen(0, '127.0.0.1', resolve));
    web = http.createServer((req, res) => {
      let body = '';
      req.on('data', (c: Buffer) => (body += c.toString()));
      req.on('end', () => {
        if (failNext > 0) {
          failNext--;
          res.writeHead(500).end();
          return;
        }
        posts.push({ headers: req.headers, body: JSON.parse(body) });
        res.writeHead(204).end();
      });
    });
    await new Promise<void>((resolve) => web.listen(0, '127.0.0.1', resolve));
    config = {
      email: { host: '127.0.0.1', port: (smtp.server.address() as AddressInfo).port, secure: false, from: 'cradle@hospital.example', to: ['security@hospital.example'] },
      webhooks: [{ name: 'ops', url: `http://127.0.0.1:${(web.address() as AddressInfo).port}/hook`, format: 'json' }],
      digestAbove: 5,
    };
    h = await createTestHospital({ backend, schema: 'reference', population: 100, trapNumbers: 20 });
    const now = new Date();
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 2, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now), seed: 'alerts' });
    [canary] = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
  });
  afterAll(async () => {
    await new Promise<void>((resolve) => smtp?.close(() => resolve()));
    await new Promise<void>((resolve) => web?.close(() => resolve()));
    await h?.close();
  });

  const contact = (id: string, from: string) => vault.recordContact(h.vault, {
    source: 'generic', providerId: id, kind: 'sms', from, to: canary.family.mother.phone!, occurredAt: new Date(),
    body: `${canary.family.mother.name.full}您好`, raw: Buffer.from(id),
  });

  it('sends by e-mail at once, retries a failing webhook later, and sends nothing twice', async () => {
    expect(alertChannels(config)).toEqual(['email', 'webhook:ops']);
    await contact('a1', '+8613312345678');
    await triagePending(h.vault, { alertChannels: alertChannels(config) });
    failNext = 1;
    const transports = transportsFor(config, {});
    const first = await deliverDue(h.vault, transports);
    expect(first).toEqual({ sent: 1, digests: 0, retried: 1, failed: 0 });
    expect(mails).toHaveLength(1);
    expect(mails[0]).toContain(canary.id);
    expect(mails[0]).toContain('Message-ID: <cradle-alert-');
    expect(mails[0]).not.toContain('13312345678');
    // Not due yet: nothing happens; due after the backoff: the webhook gets it once.
    expect(await deliverDue(h.vault, transports)).toEqual({ sent: 0, digests: 0, retried: 0, failed: 0 });
    const later = new Date(Date.now() + backoffSeconds(1) * 1000 + 1000);
    expect(await deliverDue(h.vault, transports, { now: later })).toEqual({ sent: 1, digests: 0, retried: 0, failed: 0 });
    expect(posts).toHaveLength(1);
    expect(posts[0].body).toMatchObject({ type: 'cradle.alert', alerts: [expect.objectContaining({ canary: canary.id })] });
    expect(posts[0].headers['idempotency-key']).toMatch(/^\d+$/);
    expect(await deliverDue(h.vault, transports, { now: later })).toEqual({ sent: 0, digests: 0, retried: 0, failed: 0 });
    expect(await vault.outboxDepth(h.vault)).toEqual({ pending: 0, failed: 0 });
  });

  it('groups a burst into one digest per channel instead of dropping or flooding', async () => {
    for (let i = 0; i < 7; i++) await contact(`burst${i}`, `+861580000000${i}`);
    await triagePending(h.vault, { alertChannels: alertChannels(config) });
    const before = { mails: mails.length, posts: posts.length };
    const res = await deliverDue(h.vault, transportsFor(config, {}));
    expect(res).toEqual({ sent: 14, digests: 2, retried: 0, failed: 0 });
    expect(mails.length - before.mails).toBe(1);
    expect(posts.length - before.posts).toBe(1);
    expect(posts.at(-1)!.body.type).toBe('cradle.alert.digest');
    expect(posts.at(-1)!.body.alerts).toHaveLength(7);
    expect(mails.at(-1)).toMatch(/Subject: \[Cradle\] 7 canary contacts/);
  });
});
