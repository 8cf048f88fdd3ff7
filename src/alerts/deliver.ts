import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import type { AlertsConfig } from '../config/index.js';
import type { Database } from '../db/index.js';
import * as vault from '../vault/index.js';
import { renderAlerts, webhookBody, type AlertPayload } from './render.js';

// nodemailer is required on first use: most commands send no mail.
const require = createRequire(import.meta.url);
const nodemailer = () => require('nodemailer') as typeof import('nodemailer');

// The alert worker: delivers the outbox. An alert row is written with its hit; this marks it sent
// only after the receiver accepted it, and retries with backoff otherwise, so an alert is never lost.
// A crash between the send and the mark can send it again: receivers get an idempotency key (the
// Message-ID of an e-mail, the Idempotency-Key header of a webhook) to drop the repeat.

const MAX_ATTEMPTS = 8;

export interface AlertTransport {
  channel: string;
  send(alerts: readonly AlertPayload[], key: string): Promise<void>;
}

/** The channels the config sets up: `email`, and `webhook:<name>` for each webhook. */
export function alertChannels(config: AlertsConfig | undefined): string[] {
  if (!config) return [];
  return [...(config.email ? ['email'] : []), ...(config.webhooks ?? []).map((w) => `webhook:${w.name}`)];
}

export function transportsFor(config: AlertsConfig | undefined, env: NodeJS.ProcessEnv = process.env): AlertTransport[] {
  if (!config) return [];
  const transports: AlertTransport[] = [];
  if (config.email) {
    const e = config.email;
    const mailer = nodemailer().createTransport({
      host: e.host,
      port: e.port,
      secure: e.secure ?? e.port === 465,
      ...(e.user ? { auth: { user: e.user, pass: env.CRADLE_SMTP_PASSWORD ?? '' } } : {}),
      connectionTimeout: 10_000,
      socketTimeout: 20_000,
    });
    transports.push({
      channel: 'email',
      async send(alerts, key) {
        const { subject, text } = renderAlerts(alerts);
        await mailer.sendMail({ from: e.from, to: e.to, subject, text, messageId: `<cradle-alert-${key}@cradle.invalid>` });
      },
    });
  }
  for (const w of config.webhooks ?? []) {
    transports.push({
      channel: `webhook:${w.name}`,
      async send(alerts, key) {
        const body = JSON.stringify(webhookBody(w.format, alerts));
        const headers: Record<string, string> = { 'content-type': 'application/json', 'idempotency-key': key };
        const secret = env.CRADLE_ALERT_WEBHOOK_SECRET;
        if (secret) {
          const timestamp = String(Math.floor(Date.now() / 1000));
          headers['x-cradle-timestamp'] = timestamp;
          headers['x-cradle-signature'] = crypto.createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex');
        }
        const res = await fetch(w.url, { method: 'POST', headers, body, signal: AbortSignal.timeout(10_000) });
        if (!res.ok) throw new Error(`${w.name}: HTTP ${res.status}`);
      },
    });
  }
  return transports;
}

export interface DeliveryResult {
  sent: number;
  digests: number;
  retried: number;
  failed: number;
}

/** Seconds before the next attempt: 30 s, 1 min, 2 min… at most an hour. */
export function backoffSeconds(attempts: number): number {
  return Math.min(3600, 30 * 2 ** attempts);
}

/** Deliver every alert that is due. More than `digestAbove` due on one channel go as one digest. */
export async function deliverDue(db: Database, transports: readonly AlertTransport[], options: { now?: Date; digestAbove?: number } = {}): Promise<DeliveryResult> {
  const now = options.now ?? new Date();
  const digestAbove = options.digestAbove ?? 5;
  const result: DeliveryResult = { sent: 0, digests: 0, retried: 0, failed: 0 };
  const due = await vault.dueAlerts(db, now);
  const byChannel = new Map<string, vault.OutboxRow[]>();
  for (const row of due) (byChannel.get(row.channel) ?? byChannel.set(row.channel, []).get(row.channel)!).push(row);
  for (const [channel, rows] of byChannel) {
    const transport = transports.find((t) => t.channel === channel);
    if (!transport) {
      await vault.markAlertsFailed(db, rows.map((r) => r.id), `channel ${channel} is no longer configured`, null);
      result.failed += rows.length;
      continue;
    }
    const batches = rows.length > digestAbove ? [rows] : rows.map((r) => [r]);
    for (const batch of batches) {
      const ids = batch.map((r) => r.id);
      try {
        await transport.send(batch.map((r) => r.payload as unknown as AlertPayload), ids.join('-'));
        await vault.markAlertsSent(db, ids, new Date());
        result.sent += batch.length;
        if (batch.length > 1) result.digests++;
      } catch (err) {
        const attempts = Math.max(...batch.map((r) => r.attempts)) + 1;
        const giveUp = attempts >= MAX_ATTEMPTS;
        await vault.markAlertsFailed(db, ids, (err as Error).message, giveUp ? null : new Date(now.getTime() + backoffSeconds(attempts) * 1000));
        if (giveUp) result.failed += batch.length;
        else result.retried += batch.length;
      }
    }
  }
  return result;
}
