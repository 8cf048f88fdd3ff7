import crypto from 'node:crypto';
import { parsePhone } from '../lib/phone.js';
import { WARNINGS_HEADER, type NewContact } from '../vault/contacts.js';
import { parseForm, parseJson, type Arrival, type Parsed } from './payloads.js';
import { safeEqual, verifyGeneric, type Verdict } from './signatures.js';

// SMS forwarding apps and gateways: a phone holding a trap SIM POSTs each message it receives to
// `cradle watch` (`/webhooks/forward/<name>`, one name per phone or SIM in the config's
// watch.forwarders). Each app signs in its own way, checked here as its vendor documents it:
//  - sms-gateway: "SMS Gateway for Android" (capcom6/android-sms-gateway): X-Signature, the hex
//    HMAC-SHA256 of the raw body followed by X-Timestamp (unix seconds), keyed by the app's signing key;
//  - smsforwarder: SmsForwarder (pppscn/SmsForwarder), its webhook with a secret: `sign`, the base64
//    HMAC-SHA256 of "<timestamp>\n<secret>" keyed by the secret, and `timestamp` (milliseconds), as
//    fields of the body (the user's template carries [timestamp] and [sign]) or of the URL's query. It
//    signs the time, not the body: the route must be HTTPS, and a (timestamp, sign) pair is accepted
//    once (it is the contact's provider id, so a replay with another body is a duplicate);
//  - cradle: Cradle's own scheme (X-Cradle-Signature, as on /webhooks/generic), for a gateway the
//    hospital scripts itself.
// What the message says is read from the body by the forwarder's field paths (a template), with the
// app's own defaults; what arrived is stored whole as the evidence.

export const FORWARDER_APPS = ['sms-gateway', 'smsforwarder', 'cradle'] as const;
export type ForwarderApp = (typeof FORWARDER_APPS)[number];

/** Where each contact field is in the body: a dotted path into the JSON or a form field's name. */
export interface ForwarderFields {
  id?: string;
  from?: string;
  to?: string;
  body?: string;
  occurredAt?: string;
  /** smsforwarder: where its timestamp and sign are (defaults `timestamp` and `sign`). */
  timestamp?: string;
  sign?: string;
}

export interface Forwarder {
  name: string;
  app: ForwarderApp;
  secret: string;
  /** The trap number this phone or SIM holds, when the body does not say (E.164, or national in `region`). */
  to?: string;
  region: string;
  fields: ForwarderFields;
}

/** What each app sends, unless the forwarder's `fields` say otherwise. */
const DEFAULT_FIELDS: Record<ForwarderApp, ForwarderFields> = {
  // {"deviceId","event":"sms:received","id","payload":{"messageId","message","sender"|"phoneNumber","recipient","simNumber","receivedAt"},"webhookId"}
  'sms-gateway': { id: 'id', from: 'payload.sender|payload.phoneNumber', to: 'payload.recipient', body: 'payload.message', occurredAt: 'payload.receivedAt' },
  // The app's default form body: from=[from]&content=[content]&timestamp=[timestamp]&sign=[sign].
  smsforwarder: { from: 'from', body: 'content', timestamp: 'timestamp', sign: 'sign' },
  cradle: { id: 'id', from: 'from', to: 'to', body: 'body', occurredAt: 'occurredAt' },
};

/** How long a signature's time is good for: SmsForwarder retries with the first attempt's time. */
export const FORWARDER_WINDOW_SECONDS = 60 * 60;

/** SmsForwarder's sign for a timestamp (milliseconds): base64 HMAC-SHA256 of "<timestamp>\n<secret>". */
export function smsForwarderSign(secret: string, timestamp: string): string {
  return crypto.createHmac('sha256', secret).update(`${timestamp}\n${secret}`, 'utf8').digest('base64');
}

/** SMS Gateway for Android's X-Signature: hex HMAC-SHA256 of the raw body followed by X-Timestamp. */
export function smsGatewaySignature(key: string, raw: Buffer, timestamp: string): string {
  return crypto.createHmac('sha256', key).update(Buffer.concat([raw, Buffer.from(timestamp, 'utf8')])).digest('hex');
}

function fresh(seconds: number, what: string, now: Date): Verdict {
  if (!Number.isFinite(seconds)) return { ok: false, reason: `${what} is not a time` };
  return Math.abs(now.getTime() / 1000 - seconds) <= FORWARDER_WINDOW_SECONDS ? { ok: true } : { ok: false, reason: `${what} is outside the ${FORWARDER_WINDOW_SECONDS / 60}-minute window` };
}

/** The body as fields: JSON, or a form. */
export function forwarderDocument(raw: Buffer, contentType: string): Parsed<unknown> {
  const type = contentType.split(';')[0].trim().toLowerCase();
  if (type === 'application/x-www-form-urlencoded') {
    const form = parseForm(raw);
    return form.ok ? { ok: true, value: Object.fromEntries(form.value) } : form;
  }
  return parseJson(raw);
}

/** The value at a dotted path; `a|b` takes the first present. Numbers become text. */
export function fieldAt(doc: unknown, paths: string | undefined): string | null {
  if (!paths) return null;
  for (const p of paths.split('|')) {
    let v: unknown = doc;
    for (const key of p.split('.')) v = v !== null && typeof v === 'object' && !Array.isArray(v) ? (v as Record<string, unknown>)[key] : undefined;
    if (typeof v === 'string' && v !== '') return v;
    if (typeof v === 'number' && Number.isFinite(v)) return String(v);
  }
  return null;
}

/** The effective field paths: the app's, with the forwarder's own over them. */
export function fieldsOf(f: Pick<Forwarder, 'app' | 'fields'>): ForwarderFields {
  return { ...DEFAULT_FIELDS[f.app], ...f.fields };
}

/** Check the request's signature as the forwarder's app makes it. */
export function verifyForwarder(f: Forwarder, raw: Buffer, doc: unknown, headers: { get: (name: string) => string | undefined }, query: URLSearchParams, now: Date): Verdict {
  if (f.app === 'sms-gateway') {
    const signature = headers.get('x-signature');
    const timestamp = headers.get('x-timestamp')?.trim();
    if (!signature) return { ok: false, reason: 'missing X-Signature' };
    if (!timestamp || !/^\d{1,12}$/.test(timestamp)) return { ok: false, reason: 'missing or malformed X-Timestamp' };
    const time = fresh(Number(timestamp), 'X-Timestamp', now);
    if (!time.ok) return time;
    return safeEqual(signature.trim().toLowerCase(), smsGatewaySignature(f.secret, raw, timestamp)) ? { ok: true } : { ok: false, reason: 'X-Signature does not match' };
  }
  if (f.app === 'smsforwarder') {
    const fields = fieldsOf(f);
    const timestamp = fieldAt(doc, fields.timestamp) ?? query.get('timestamp');
    const sign = fieldAt(doc, fields.sign) ?? query.get('sign');
    if (!timestamp || !/^\d{10,15}$/.test(timestamp)) return { ok: false, reason: 'missing or malformed timestamp' };
    if (!sign) return { ok: false, reason: 'missing sign' };
    const time = fresh(Number(timestamp) / 1000, 'timestamp', now);
    if (!time.ok) return time;
    // The app URL-encodes its base64 sign, once more in a form body.
    let given = sign.trim();
    for (let i = 0; i < 2 && /%[0-9A-Fa-f]{2}/.test(given); i++) {
      try {
        given = decodeURIComponent(given);
      } catch {
        break;
      }
    }
    return safeEqual(given, smsForwarderSign(f.secret, timestamp)) ? { ok: true } : { ok: false, reason: 'sign does not match' };
  }
  return verifyGeneric(f.secret, headers.get('x-cradle-signature'), headers.get('x-cradle-timestamp'), raw, now);
}

/** A time as the app writes it: ISO 8601 with an offset, or unix seconds or milliseconds. */
function timeOf(text: string | null): Date | null {
  if (!text) return null;
  if (/^\d{10}$/.test(text)) return new Date(Number(text) * 1000);
  if (/^\d{13}$/.test(text)) return new Date(Number(text));
  if (!/(Z|[+-]\d\d:?\d\d)$/.test(text)) return null; // a local time without its zone: not guessed
  const d = new Date(text);
  return Number.isNaN(d.getTime()) ? null : d;
}

export type ForwardedContact = { ok: true; value: NewContact } | { ok: true; ignored: string } | { ok: false; reason: string };

/** The contact a forwarder's (verified) body describes; an app's other events are ignored, not stored. */
export function forwardedContact(f: Forwarder, doc: unknown, arrival: Arrival): ForwardedContact {
  if (f.app === 'sms-gateway') {
    const event = fieldAt(doc, 'event');
    if (event !== 'sms:received') return { ok: true, ignored: `event ${event ?? '(none)'} is not an incoming SMS` };
  }
  const fields = fieldsOf(f);
  const from = fieldAt(doc, fields.from);
  const body = fieldAt(doc, fields.body);
  const toText = fieldAt(doc, fields.to) ?? f.to ?? null;
  if (!toText) return { ok: false, reason: `the body names no recipient and forwarder ${f.name} has no "to" number in the config` };
  const to = parsePhone(toText, f.region)?.number;
  if (!to) return { ok: false, reason: `recipient ${toText} is not a phone number` };
  if (body === null && from === null) return { ok: false, reason: `no sender and no text at ${fields.from} / ${fields.body}` };
  const when = fieldAt(doc, fields.occurredAt);
  const occurredAt = timeOf(when) ?? arrival.receivedAt;
  // A provider id: the app's own where it has one; for SmsForwarder the signed time alone, so that a
  // signature is accepted once whatever else a replay changes.
  let id = fieldAt(doc, fields.id);
  if (!id && f.app === 'smsforwarder') id = `signed:${fieldAt(doc, fields.timestamp) ?? ''}`;
  if (!id) id = crypto.createHash('sha256').update(arrival.raw).digest('hex');
  return {
    ok: true,
    value: {
      source: `forwarder:${f.name}`,
      providerId: id,
      kind: 'sms',
      from: from ? (parsePhone(from, f.region)?.number ?? from) : null,
      to,
      occurredAt,
      body,
      remoteAddr: arrival.remoteAddr,
      headers: { ...arrival.headers, ...(when && !timeOf(when) ? { [WARNINGS_HEADER]: [`time ${when} has no zone: the arrival time is used`] } : {}) },
      raw: arrival.raw,
    },
  };
}
