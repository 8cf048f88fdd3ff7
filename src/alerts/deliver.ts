import crypto from 'node:crypto';
import { createRequire } from 'node:module';
import type { AlertsConfig } from '../config/index.js';
import type { Database } from '../db/index.js';
import { errorMessage, UserError } from '../lib/errors.js';
import * as vault from '../vault/index.js';
import { renderAlerts, webhookBody, type AlertPayload } from './render.js';
import { redact, robotRefusal, robotRequest } from './robots.js';
import { sendSyslog, syslogMessages } from './syslog.js';

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

/** The channels the config sets up: `email`, `webhook:<name>`, `robot:<name>` and `syslog:<name>`. */
export function alertChannels(config: AlertsConfig | undefined): string[] {
  if (!config) return [];
  return [
    ...(config.email ? ['email'] : []),
    ...(config.webhooks ?? []).map((w) => `webhook:${w.name}`),
    ...(config.robots ?? []).map((r) => `robot:${r.name}`),
    ...(config.syslog ?? []).map((s) => `syslog:${s.name}`),
  ];
}

/** The environment variable of a robot's URL or secret: CRADLE_ALERT_<NAME>_URL, CRADLE_ALERT_<NAME>_SECRET. */
export function robotVariable(name: string, what: 'URL' | 'SECRET'): string {
  return `CRADLE_ALERT_${name.toUpperCase().replace(/-/g, '_')}_${what}`;
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
  (config.robots ?? []).forEach((r, i) => {
    const url = env[robotVariable(r.name, 'URL')] || r.url;
    if (!url) throw new UserError(`alerts.robots.${i} (${r.name}): no URL: set ${robotVariable(r.name, 'URL')} (the webhook URL holds the robot's token) or "url"`);
    const secret = env[robotVariable(r.name, 'SECRET')] || undefined;
    // Everything said about this robot leaves out its token, key, signature and secret.
    const parsed = new URL(url);
    const hidden = [url, secret, ...[...parsed.searchParams.values(), ...parsed.pathname.split('/')].filter((part) => part.length >= 16)];
    transports.push({
      channel: `robot:${r.name}`,
      async send(alerts) {
        const request = robotRequest(r, url, alerts, secret);
        let refusal: string | null;
        try {
          const res = await fetch(request.url, {
            method: 'POST',
            headers: { 'content-type': 'application/json; charset=utf-8' },
            body: JSON.stringify(request.body),
            signal: AbortSignal.timeout(10_000),
          });
          refusal = robotRefusal(r.kind, res.status, await res.text());
        } catch (err) {
          const cause = err instanceof Error && err.cause !== undefined ? `: ${errorMessage(err.cause)}` : '';
          refusal = `${errorMessage(err)}${cause}`;
        }
        if (refusal) throw new Error(redact(`${r.name}: ${refusal}`, hidden));
      },
    });
  });
  for (const s of config.syslog ?? []) {
    transports.push({
      channel: `syslog:${s.name}`,
      async send(alerts, key) {
        try {
          await sendSyslog(s, syslogMessages(s, alerts, key));
        } catch (err) {
          throw new Error(`${s.name}: syslog ${s.transport} ${s.host}: ${errorMessage(err)}`);
        }
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
export async function deliverDue(
  db: Database,
  transports: readonly AlertTransport[],
  options: { now?: Date; digestAbove?: number; onError?: (channel: string, error: string) => void } = {},
): Promise<DeliveryResult> {
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
        options.onError?.(channel, `${errorMessage(err)} (attempt ${attempts} of ${MAX_ATTEMPTS}${giveUp ? ', given up' : ''})`);
        await vault.markAlertsFailed(db, ids, errorMessage(err), giveUp ? null : new Date(now.getTime() + backoffSeconds(attempts) * 1000));
        if (giveUp) result.failed += batch.length;
        else result.retried += batch.length;
      }
    }
  }
  return result;
}
