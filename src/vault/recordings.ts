import crypto from 'node:crypto';
import type { Queryable } from '../db/index.js';
import { storableText } from '../lib/storable.js';
import type { NewContact } from './contacts.js';

// Call recordings (migration 018): a call's audio (an Asterisk MixMonitor file, a Twilio recording),
// kept with its sha256 and linked to the call's contact event. A recording is keyed by (source,
// provider id): a provider's retry, or the same file given twice, is stored once. What was said in
// it, from the provider's transcription or the user's speech-to-text command, is a further contact
// event of the same call (same source, from, to and time; body the transcript), so triage reads a
// name or birth date spoken in a call as it reads one written in an SMS.

export interface NewRecording {
  contactId: number;
  /** twilio or asterisk. */
  source: string;
  /** RecordingSid; for a file, call-<contact id>:sha256:<hex of its bytes>. */
  providerId: string;
  location: string | null;
  durationSeconds: number | null;
  contentType: string | null;
  /** The audio; null while it is still to be fetched. */
  audio: Buffer | null;
  /** The provider's callback as it arrived. */
  callback?: Buffer | null;
  fetchError?: string | null;
}

export interface RecordingRow {
  id: number;
  contact_id: number;
  source: string;
  provider_id: string;
  location: string | null;
  duration_seconds: number | null;
  content_type: string | null;
  sha256: string | null;
  size: number | null;
  fetch_error: string | null;
  created_at: Date;
  stored_at: Date | null;
}

export const sha256Of = (bytes: Buffer): string => crypto.createHash('sha256').update(bytes).digest('hex');

const COLUMNS = 'id, contact_id, source, provider_id, location, duration_seconds, content_type, sha256, octet_length(audio) AS size, fetch_error, created_at, stored_at';

/**
 * Record a recording; `duplicate` when it was there already (the first copy is kept). A duplicate
 * still waiting for its audio takes the audio given now.
 */
export async function recordRecording(db: Queryable, r: NewRecording): Promise<{ id: number; duplicate: boolean; sha256: string | null }> {
  const sha = r.audio ? sha256Of(r.audio) : null;
  const duration = r.durationSeconds !== null && Number.isSafeInteger(r.durationSeconds) && Math.abs(r.durationSeconds) < 2 ** 31 ? r.durationSeconds : null;
  const text = (v: string | null | undefined) => (v === null || v === undefined ? null : storableText(v));
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO call_recordings (contact_id, source, provider_id, location, duration_seconds, content_type, audio, sha256, fetch_error, callback, stored_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, CASE WHEN $7::bytea IS NULL THEN NULL ELSE now() END)
     ON CONFLICT (source, provider_id) DO NOTHING RETURNING id`,
    [r.contactId, r.source, text(r.providerId), text(r.location), duration, text(r.contentType), r.audio, sha, text(r.fetchError), r.callback ?? null],
  );
  if (rows.length) return { id: Number(rows[0].id), duplicate: false, sha256: sha };
  const { rows: first } = await db.query<{ id: number; sha256: string | null }>(`SELECT id, sha256 FROM call_recordings WHERE source = $1 AND provider_id = $2`, [r.source, text(r.providerId)]);
  const id = Number(first[0].id);
  if (first[0].sha256 === null && r.audio) {
    await storeRecordingAudio(db, id, r.audio, r.contentType);
    return { id, duplicate: true, sha256: sha };
  }
  return { id, duplicate: true, sha256: first[0].sha256 };
}

/** The audio of a recording that was waiting for it (a fetch that succeeded); a stored audio is never replaced. */
export async function storeRecordingAudio(db: Queryable, id: number, audio: Buffer, contentType: string | null): Promise<boolean> {
  const { rowCount } = await db.query(
    `UPDATE call_recordings SET audio = $2, sha256 = $3, content_type = coalesce($4, content_type), fetch_error = NULL, stored_at = now() WHERE id = $1 AND audio IS NULL`,
    [id, audio, sha256Of(audio), contentType === null ? null : storableText(contentType)],
  );
  return (rowCount ?? 0) > 0;
}

export async function setRecordingFetchError(db: Queryable, id: number, error: string): Promise<void> {
  await db.query(`UPDATE call_recordings SET fetch_error = $2 WHERE id = $1 AND audio IS NULL`, [id, storableText(error).slice(0, 1000)]);
}

export async function getRecording(db: Queryable, id: number): Promise<RecordingRow | null> {
  const { rows } = await db.query<RecordingRow>(`SELECT ${COLUMNS} FROM call_recordings WHERE id = $1`, [id]);
  return rows[0] ? normal(rows[0]) : null;
}

export async function recordingAudio(db: Queryable, id: number): Promise<Buffer | null> {
  const { rows } = await db.query<{ audio: Buffer | Uint8Array | null }>(`SELECT audio FROM call_recordings WHERE id = $1`, [id]);
  return rows[0]?.audio ? Buffer.from(rows[0].audio) : null;
}

export async function recordingsOfContact(db: Queryable, contactId: number): Promise<RecordingRow[]> {
  const { rows } = await db.query<RecordingRow>(`SELECT ${COLUMNS} FROM call_recordings WHERE contact_id = $1 ORDER BY id`, [contactId]);
  return rows.map(normal);
}

/** What a fetch that will never succeed (the provider said 4xx) leaves in fetch_error: not tried again. */
export const GAVE_UP = 'gave up: ';

/** Recordings of `source` whose audio is still to be fetched (and may still come), oldest first, with their callbacks. */
export async function pendingRecordings(db: Queryable, source: string, limit = 20): Promise<(RecordingRow & { callback: Buffer | null })[]> {
  const { rows } = await db.query<RecordingRow & { callback: Buffer | Uint8Array | null }>(
    `SELECT ${COLUMNS}, callback FROM call_recordings WHERE audio IS NULL AND source = $1 AND location IS NOT NULL AND (fetch_error IS NULL OR fetch_error NOT LIKE $2) ORDER BY id LIMIT $3`,
    [source, `${GAVE_UP}%`, limit],
  );
  return rows.map((r) => ({ ...normal(r), callback: r.callback ? Buffer.from(r.callback) : null }));
}

function normal(r: RecordingRow): RecordingRow {
  return { ...r, id: Number(r.id), contact_id: Number(r.contact_id), size: r.size === null ? null : Number(r.size) };
}

/** The call a recording belongs to: by contact id, or by the provider id of a call (CallSid, CDR uniqueid). */
export async function findCall(db: Queryable, ref: { id: number } | { source?: string; providerId: string }): Promise<{ id: number; source: string; provider_id: string | null; kind: string; from_address: string | null; to_address: string; occurred_at: Date } | null> {
  const cols = 'id, source, provider_id, kind, from_address, to_address, occurred_at';
  const { rows } =
    'id' in ref
      ? await db.query(`SELECT ${cols} FROM contact_events WHERE id = $1`, [ref.id])
      : await db.query(`SELECT ${cols} FROM contact_events WHERE provider_id = $1 AND kind = 'call' AND ($2::text IS NULL OR source = $2) ORDER BY id LIMIT 1`, [ref.providerId, ref.source ?? null]);
  const r = rows[0] as { id: number; source: string; provider_id: string | null; kind: string; from_address: string | null; to_address: string; occurred_at: Date } | undefined;
  return r ? { ...r, id: Number(r.id) } : null;
}

export interface CallOfRecording {
  id: number;
  source: string;
  provider_id: string | null;
  from_address: string | null;
  to_address: string;
  occurred_at: Date;
}

/** Headers linking a transcript to its call and recording. */
export const CALL_HEADER = 'x-cradle-call';
export const RECORDING_HEADER = 'x-cradle-recording';

/** What a call is known by in provider ids: its own provider id, else its contact id. */
const callKey = (call: CallOfRecording) => call.provider_id ?? `contact-${call.id}`;

/** The provider id of the transcript the user's command makes of a recording: one per recording. */
export function commandTranscriptId(call: CallOfRecording, recordingProviderId: string): string {
  return `${callKey(call)}:recording:${recordingProviderId}:transcript`;
}

/** A transcript as a contact event of the call: triage reads its body as an SMS's. */
export function transcriptContact(
  call: CallOfRecording,
  t: { providerId: string; text: string; raw: Buffer; origin: 'provider' | 'command'; recording?: { id: number; sha256: string | null }; transcriber?: string; headers?: Record<string, unknown> },
): NewContact {
  return {
    source: call.source,
    providerId: t.providerId,
    kind: 'call',
    from: call.from_address,
    to: call.to_address,
    occurredAt: call.occurred_at,
    body: t.text,
    headers: {
      ...(t.headers ?? {}),
      [CALL_HEADER]: call.id,
      'x-cradle-transcript': t.origin,
      ...(t.recording ? { [RECORDING_HEADER]: t.recording.id, 'x-cradle-recording-sha256': t.recording.sha256 } : {}),
      ...(t.transcriber ? { 'x-cradle-transcriber': t.transcriber } : {}),
    },
    raw: t.raw,
  };
}

export interface StoredRecording {
  recordingId: number;
  duplicate: boolean;
  sha256: string | null;
  /** The transcript's contact event, when the command made one now or before. */
  transcript: { contactId: number; duplicate: boolean } | null;
  warnings: string[];
}

/** The contact event of a source and provider id, if stored (a transcript made before). */
export async function contactByProviderId(db: Queryable, source: string, providerId: string): Promise<number | null> {
  const { rows } = await db.query<{ id: number }>(`SELECT id FROM contact_events WHERE source = $1 AND provider_id = $2`, [source, providerId]);
  return rows[0] ? Number(rows[0].id) : null;
}
