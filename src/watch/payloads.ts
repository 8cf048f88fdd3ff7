import { z } from 'zod';
import type { ContactKind, NewContact } from '../vault/contacts.js';

// Provider payloads into contact events, pure. What arrived is kept whole in `raw`; these pick out the
// fields triage needs. A payload that lacks them is refused (400) rather than stored half-read.

export interface Arrival {
  raw: Buffer;
  headers: Record<string, unknown>;
  remoteAddr: string | null;
  receivedAt: Date;
}

export type Parsed<T> = { ok: true; value: T } | { ok: false; reason: string };

/** application/x-www-form-urlencoded into ordered name/value pairs; refuses bytes that are not UTF-8. */
export function parseForm(raw: Buffer): Parsed<[string, string][]> {
  let text: string;
  try {
    text = new TextDecoder('utf-8', { fatal: true }).decode(raw);
  } catch {
    return { ok: false, reason: 'form body is not UTF-8' };
  }
  if (/%(?![0-9A-Fa-f]{2})/.test(text)) return { ok: false, reason: 'form body has a malformed %-escape' };
  return { ok: true, value: [...new URLSearchParams(text)] };
}

export function parseJson(raw: Buffer): Parsed<unknown> {
  try {
    return { ok: true, value: JSON.parse(new TextDecoder('utf-8', { fatal: true }).decode(raw)) as unknown };
  } catch {
    return { ok: false, reason: 'body is not UTF-8 JSON' };
  }
}

function first(params: readonly (readonly [string, string])[], name: string): string | null {
  const hit = params.find(([n]) => n === name);
  return hit && hit[1] !== '' ? hit[1] : null;
}

const CALL_START_STATES = new Set(['queued', 'ringing', 'in-progress']);

/**
 * A Twilio SMS or voice webhook. SMS: provider id MessageSid, body Body. Voice: provider id CallSid
 * for the call itself; a transcription, a <Gather> result or a status callback for the same call is a
 * further event of that call and gets CallSid plus a suffix, so it is kept rather than taken for a retry.
 */
export function twilioContact(kind: 'sms' | 'call', params: readonly (readonly [string, string])[], arrival: Arrival): Parsed<NewContact> {
  const to = first(params, 'To');
  if (!to) return { ok: false, reason: 'no To parameter' };
  let providerId: string | null;
  let body: string | null;
  if (kind === 'sms') {
    providerId = first(params, 'MessageSid') ?? first(params, 'SmsSid');
    if (!providerId) return { ok: false, reason: 'no MessageSid parameter' };
    body = first(params, 'Body');
  } else {
    const callSid = first(params, 'CallSid');
    if (!callSid) return { ok: false, reason: 'no CallSid parameter' };
    const transcriptionSid = first(params, 'TranscriptionSid');
    const speech = first(params, 'SpeechResult');
    const digits = first(params, 'Digits');
    const status = first(params, 'CallStatus');
    if (transcriptionSid) providerId = `${callSid}:transcription:${transcriptionSid}`;
    else if (speech !== null || digits !== null) providerId = `${callSid}:gather`;
    else if (status && !CALL_START_STATES.has(status)) providerId = `${callSid}:status:${status}`;
    else providerId = callSid;
    body = first(params, 'TranscriptionText') ?? speech;
  }
  return {
    ok: true,
    value: {
      source: kind === 'sms' ? 'twilio-sms' : 'twilio-voice',
      providerId,
      kind,
      from: first(params, 'From'),
      to,
      occurredAt: arrival.receivedAt,
      body,
      remoteAddr: arrival.remoteAddr,
      headers: arrival.headers,
      raw: arrival.raw,
    },
  };
}

const isObject = (v: unknown): v is Record<string, unknown> => typeof v === 'object' && v !== null && !Array.isArray(v);

/** A Telnyx number: a string (call events), { phone_number } (messages), or a list of those (message `to`). */
function telnyxNumber(v: unknown): string | null {
  if (typeof v === 'string') return v || null;
  if (Array.isArray(v)) return v.length ? telnyxNumber(v[0]) : null;
  if (isObject(v) && typeof v.phone_number === 'string') return v.phone_number || null;
  return null;
}

function validDate(v: unknown): Date | null {
  if (typeof v !== 'string') return null;
  const d = new Date(v);
  return Number.isNaN(d.getTime()) ? null : d;
}

/**
 * A Telnyx webhook: provider id data.id (the event id, shared by retries); message.received is an SMS,
 * call.* a call; any other event is kept as kind other.
 */
export function telnyxContact(doc: unknown, arrival: Arrival): Parsed<NewContact> {
  if (!isObject(doc) || !isObject(doc.data)) return { ok: false, reason: 'no data object' };
  const data = doc.data;
  if (typeof data.id !== 'string' || !data.id) return { ok: false, reason: 'no data.id' };
  if (typeof data.event_type !== 'string' || !data.event_type) return { ok: false, reason: 'no data.event_type' };
  const payload = isObject(data.payload) ? data.payload : {};
  const kind: ContactKind = data.event_type === 'message.received' ? 'sms' : data.event_type.startsWith('call.') ? 'call' : 'other';
  const to = telnyxNumber(payload.to);
  if (!to && kind !== 'other') return { ok: false, reason: 'no data.payload.to' };
  const transcript = isObject(payload.transcription_data) && typeof payload.transcription_data.transcript === 'string' ? payload.transcription_data.transcript : null;
  const text = typeof payload.text === 'string' ? payload.text : null;
  return {
    ok: true,
    value: {
      source: 'telnyx',
      providerId: data.id,
      kind,
      from: telnyxNumber(payload.from),
      to: to ?? '',
      occurredAt: validDate(data.occurred_at) ?? arrival.receivedAt,
      body: text ?? transcript,
      remoteAddr: arrival.remoteAddr,
      headers: arrival.headers,
      raw: arrival.raw,
    },
  };
}

const GenericEvent = z.object({
  id: z.string().min(1).max(200),
  kind: z.enum(['sms', 'call', 'email', 'visit', 'letter', 'other']),
  from: z.string().max(320).nullable(),
  to: z.string().min(1).max(320),
  occurredAt: z.string().refine((s) => validDate(s) !== null, 'not a date').optional(),
  body: z.string().nullable().optional(),
});

/** The generic webhook: {id, kind, from, to, occurredAt?, body?}. */
export function genericContact(doc: unknown, arrival: Arrival): Parsed<NewContact> {
  const parsed = GenericEvent.safeParse(doc);
  if (!parsed.success) return { ok: false, reason: parsed.error.issues.map((i) => `${i.path.map(String).join('.') || 'body'}: ${i.message}`).join('; ') };
  const e = parsed.data;
  return {
    ok: true,
    value: {
      source: 'generic',
      providerId: e.id,
      kind: e.kind,
      from: e.from,
      to: e.to,
      occurredAt: e.occurredAt ? validDate(e.occurredAt)! : arrival.receivedAt,
      body: e.body ?? null,
      remoteAddr: arrival.remoteAddr,
      headers: arrival.headers,
      raw: arrival.raw,
    },
  };
}


export interface TwilioRecordingCallback {
  callSid: string;
  accountSid: string | null;
  recordingSid: string | null;
  recordingUrl: string | null;
  /** completed, absent, failed…; null for a <Record> action callback (which means completed). */
  recordingStatus: string | null;
  durationSeconds: number | null;
  transcriptionSid: string | null;
  transcriptionText: string | null;
  /** Who the call was for and from, when the callback says (a <Record> action or transcribeCallback does; RecordingStatusCallback does not). */
  to: string | null;
}

/**
 * A Twilio recording callback: RecordingStatusCallback, a <Record> action, or a transcribeCallback
 * (which also carries RecordingSid). Refused without a CallSid, or with neither a recording nor a transcription.
 */
export function twilioRecording(params: readonly (readonly [string, string])[]): Parsed<TwilioRecordingCallback> {
  const callSid = first(params, 'CallSid');
  if (!callSid) return { ok: false, reason: 'no CallSid parameter' };
  const recordingSid = first(params, 'RecordingSid');
  const transcriptionStatus = first(params, 'TranscriptionStatus');
  const transcriptionText = transcriptionStatus === 'failed' ? null : first(params, 'TranscriptionText');
  const transcriptionSid = first(params, 'TranscriptionSid');
  if (!recordingSid && !transcriptionSid) return { ok: false, reason: 'no RecordingSid or TranscriptionSid parameter' };
  const duration = first(params, 'RecordingDuration');
  return {
    ok: true,
    value: {
      callSid,
      accountSid: first(params, 'AccountSid'),
      recordingSid,
      recordingUrl: first(params, 'RecordingUrl'),
      recordingStatus: first(params, 'RecordingStatus'),
      durationSeconds: duration !== null && /^\d{1,9}$/.test(duration) ? Number(duration) : null,
      transcriptionSid,
      transcriptionText: transcriptionText?.trim() ? transcriptionText : null,
      to: first(params, 'To'),
    },
  };
}
