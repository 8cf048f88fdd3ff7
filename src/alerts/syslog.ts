import dgram from 'node:dgram';
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import tls from 'node:tls';
import { SYSLOG_FACILITIES, type AlertsConfig } from '../config/index.js';
import { CRADLE_VERSION } from '../lib/version.js';
import { describeAlert, renderAlerts, type AlertPayload } from './render.js';

// Alerts to a SIEM by syslog: one RFC 5424 message per alert (a digest is still one event per alert),
// its MSG plain text or an ArcSight CEF event, sent over UDP (RFC 5426: one datagram each, nothing
// confirms it), TCP (RFC 6587 octet counting: "LEN SP MSG") or TLS (RFC 5425, the same framing).
// Syslog has no answer: over TCP and TLS an alert counts as sent once every frame is written and the
// connection closed cleanly; over UDP once the datagrams are handed to the network.

export type SyslogConfig = NonNullable<AlertsConfig['syslog']>[number];

const SEVERITY = { alert: 1, warning: 4 } as const;

/** Syslog severity: a tripwire, or a contact triage is sure of (≥ 0.9), is an alert (1); else a warning (4). */
function syslogSeverity(a: AlertPayload): number {
  return a.type === 'tripwire' || a.confidence >= 0.9 ? SEVERITY.alert : SEVERITY.warning;
}

/** CEF severity, 0 to 10: a tripwire 9; a contact its confidence × 10, at least 3. */
function cefSeverity(a: AlertPayload): number {
  return a.type === 'tripwire' ? 9 : Math.max(3, Math.min(10, Math.round(a.confidence * 10)));
}

/** RFC 5424 §6.3.3: inside a PARAM-VALUE, '"', '\' and ']' are escaped with '\'. */
export function sdEscape(value: string): string {
  return value.replace(/["\\\]]/g, (c) => `\\${c}`);
}

/** CEF header fields: '\' and '|' escaped; no line breaks. */
export function cefHeaderEscape(value: string): string {
  return value.replace(/[\\|]/g, (c) => `\\${c}`).replace(/\r\n|[\r\n]/g, ' ');
}

/** CEF extension values: '\' and '=' escaped, line breaks written \n and \r. */
export function cefValueEscape(value: string): string {
  return value.replace(/[\\=]/g, (c) => `\\${c}`).replace(/\r/g, '\\r').replace(/\n/g, '\\n');
}

function oneLine(text: string): string {
  return text.replace(/\s*\n\s*/g, ' ').trim();
}

/** The structured data of an alert: [cradle@PEN key="…" …]. */
function structuredData(a: AlertPayload, key: string, enterpriseId: number): string {
  const params: [string, string | number | null][] = a.type === 'tripwire'
    ? [['type', 'tripwire'], ['tripwire', a.tripwire], ['canary', a.canary], ['account', a.account], ['action', a.action], ['at', a.at], ['system', a.system], ['ip', a.ip]]
    : [['type', 'hit'], ['hit', a.hit], ['canary', a.canary], ['incident', a.incident], ['kind', a.kind], ['at', a.at], ['from', a.from], ['confidence', a.confidence.toFixed(2)]];
  params.push(['exposedTo', a.exposedTo.join(',')], ['key', key]);
  return `[cradle@${enterpriseId}${params.filter(([, v]) => v !== null && v !== '').map(([n, v]) => ` ${n}="${sdEscape(String(v))}"`).join('')}]`;
}

/** The CEF event of an alert (CEF:0|Cradle|Cradle|version|signature|name|severity|extension). */
export function cefEvent(a: AlertPayload, key: string): string {
  const at = Date.parse(a.at);
  const ext: [string, string | number | null][] = [
    ['rt', Number.isFinite(at) ? at : null],
    ['msg', oneLine(describeAlert(a))],
    ['externalId', a.type === 'tripwire' ? a.tripwire : a.hit],
    ['cs1Label', 'canary'], ['cs1', a.canary],
    ['cs2Label', 'exposedTo'], ['cs2', a.exposedTo.join(',')],
    ['cs6Label', 'deliveryKey'], ['cs6', key],
  ];
  if (a.type === 'tripwire') {
    ext.push(['suser', a.account], ['act', a.action], ['cs3Label', 'system'], ['cs3', a.system]);
    if (a.ip && net.isIP(a.ip)) ext.push(['src', a.ip]);
  } else {
    ext.push(['cs3Label', 'incident'], ['cs3', a.incident], ['cs4Label', 'contactKind'], ['cs4', a.kind], ['cs5Label', 'from'], ['cs5', a.from], ['cfp1Label', 'confidence'], ['cfp1', a.confidence.toFixed(2)]);
  }
  const header = ['CEF:0', 'Cradle', 'Cradle', CRADLE_VERSION, a.type === 'tripwire' ? 'tripwire' : 'canary-hit', renderAlerts([a]).subject, String(cefSeverity(a))].map(cefHeaderEscape);
  return `${header.join('|')}|${ext.filter(([, v]) => v !== null && v !== '').map(([k, v]) => `${k}=${cefValueEscape(String(v))}`).join(' ')}`;
}

/** A printable-ASCII HOSTNAME for RFC 5424 (this machine's name, spaces and others replaced). */
function headerToken(value: string, max: number): string {
  return value.replace(/[^\x21-\x7e]/g, '-').slice(0, max) || '-';
}

/** The RFC 5424 messages (unframed) for a batch of alerts: one per alert. */
export function syslogMessages(cfg: SyslogConfig, alerts: readonly AlertPayload[], key: string, now: Date = new Date()): string[] {
  const facility = SYSLOG_FACILITIES.indexOf(cfg.facility);
  const hostname = headerToken(cfg.hostname ?? os.hostname(), 255);
  return alerts.map((a, i) => {
    const pri = facility * 8 + syslogSeverity(a);
    const msgid = a.type === 'tripwire' ? 'tripwire' : 'hit';
    const head = `<${pri}>1 ${now.toISOString()} ${hostname} ${cfg.appName} ${process.pid} ${msgid}`;
    const k = alerts.length > 1 ? `${key}.${i + 1}` : key;
    // CEF events go bare (SIEM parsers look for "CEF:" at the start of MSG); plain text is marked UTF-8 with a BOM (§6.4).
    if (cfg.format === 'cef') return `${head} - ${cefEvent(a, k)}`;
    return `${head} ${structuredData(a, k, cfg.enterpriseId)} \uFEFF${oneLine(describeAlert(a))}`;
  });
}

/** RFC 6587 §3.4.1 octet counting: the length in bytes, a space, the message. */
export function octetCounted(message: string): Buffer {
  const body = Buffer.from(message, 'utf8');
  return Buffer.concat([Buffer.from(`${body.length} `, 'ascii'), body]);
}

const TIMEOUT_MS = 10_000;

/** Send the messages to one syslog receiver; resolves once sent as described at the top. */
export async function sendSyslog(cfg: SyslogConfig, messages: readonly string[]): Promise<void> {
  const port = cfg.port ?? (cfg.transport === 'tls' ? 6514 : 514);
  if (cfg.transport === 'udp') {
    const socket = dgram.createSocket(net.isIPv6(cfg.host) ? 'udp6' : 'udp4');
    try {
      for (const m of messages) {
        await new Promise<void>((resolve, reject) => socket.send(Buffer.from(m, 'utf8'), port, cfg.host, (err) => (err ? reject(err) : resolve())));
      }
    } finally {
      socket.close();
    }
    return;
  }
  const frames = Buffer.concat(messages.map(octetCounted));
  await new Promise<void>((resolve, reject) => {
    let failed: Error | null = null;
    const socket = cfg.transport === 'tls'
      ? tls.connect({
        host: cfg.host,
        port,
        servername: cfg.servername ?? (net.isIP(cfg.host) ? undefined : cfg.host),
        ...(cfg.ca ? { ca: fs.readFileSync(cfg.ca) } : {}),
        ...(cfg.cert && cfg.key ? { cert: fs.readFileSync(cfg.cert), key: fs.readFileSync(cfg.key) } : {}),
      })
      : net.connect({ host: cfg.host, port });
    socket.setTimeout(TIMEOUT_MS, () => socket.destroy(new Error(`no answer from ${cfg.host}:${port} within ${TIMEOUT_MS / 1000} s`)));
    socket.once(cfg.transport === 'tls' ? 'secureConnect' : 'connect', () => socket.end(frames));
    socket.on('error', (err) => (failed ??= err));
    socket.once('close', () => (failed ? reject(failed) : resolve()));
  });
}
