import fs from 'node:fs/promises';
import path from 'node:path';
import type { Queryable } from '../db/index.js';
import { quoted } from '../lib/control.js';
import { UserError } from '../lib/errors.js';
import type { Transcriber } from '../lib/transcribe.js';
import { findCall, recordRecording, sha256Of, type CallOfRecording, type NewRecording, type StoredRecording } from '../vault/recordings.js';
import { transcribeRecording } from './transcribe.js';

export { transcriptContact, type CallOfRecording, type StoredRecording } from '../vault/recordings.js';
export { recordingTranscriber, transcribeRecording } from './transcribe.js';

// Recording files of calls (Asterisk MixMonitor): read, found in MixMonitor's folder from a CDR's
// userfield, and stored with their call (src/vault/recordings.ts), transcribed when configured.

const CONTENT_TYPES: Record<string, string> = {
  '.wav': 'audio/wav',
  '.wav49': 'audio/wav',
  '.mp3': 'audio/mpeg',
  '.ogg': 'audio/ogg',
  '.opus': 'audio/ogg',
  '.gsm': 'audio/x-gsm',
  '.flac': 'audio/flac',
  '.m4a': 'audio/mp4',
};

export const contentTypeOf = (file: string): string | null => CONTENT_TYPES[path.extname(file).toLowerCase()] ?? null;

/** Largest recording file read (PostgreSQL's bytea holds up to 1 GiB). */
export const MAX_RECORDING_BYTES = 256 * 1024 * 1024;

/** A recording file's bytes; a UserError naming the file when it cannot be read or is too large. */
export async function readRecordingFile(file: string): Promise<Buffer> {
  let stat;
  try {
    stat = await fs.stat(file);
  } catch (err) {
    throw new UserError(`${file}: cannot read the recording: ${(err as NodeJS.ErrnoException).code === 'ENOENT' ? 'no such file' : (err as Error).message}`);
  }
  if (!stat.isFile()) throw new UserError(`${file}: not a file`);
  if (stat.size > MAX_RECORDING_BYTES) throw new UserError(`${file}: ${stat.size} bytes; recordings up to ${MAX_RECORDING_BYTES} bytes are stored`);
  if (stat.size === 0) throw new UserError(`${file}: empty; a recording has audio`);
  return fs.readFile(file);
}

/** `cradle ingest recording FILE --call <id>`: the call by contact id, or by its provider id (CDR uniqueid, CallSid). */
export async function resolveCall(db: Queryable, ref: string): Promise<CallOfRecording> {
  const call = /^\d{1,15}$/.test(ref) ? await findCall(db, { id: Number(ref) }) : await findCall(db, { providerId: ref });
  if (!call) throw new UserError(`--call ${quoted(ref)}: no such call in the vault (give a contact id, or the call's uniqueid or CallSid)`);
  if (call.kind !== 'call') throw new UserError(`--call ${quoted(ref)}: contact ${call.id} is ${call.kind === 'other' ? 'not a call' : `a ${call.kind}, not a call`}`);
  return call;
}

/**
 * An Asterisk MixMonitor (or any) recording file of a call, known by the call and the file's sha256
 * (two calls' recordings of silence may be the same bytes).
 */
export async function ingestRecordingFile(db: Queryable, file: string, call: CallOfRecording, opts: { transcriber?: Transcriber; source?: string } = {}): Promise<StoredRecording & { file: string; contactId: number; size: number }> {
  const audio = await readRecordingFile(file);
  const stored = await storeCallRecording(
    db,
    call,
    { source: opts.source ?? 'asterisk', providerId: `call-${call.id}:sha256:${sha256Of(audio)}`, location: file, durationSeconds: null, contentType: contentTypeOf(file), audio },
    opts,
  );
  return { file, contactId: call.id, size: audio.length, ...stored };
}

/**
 * The recording file a CDR userfield (or an AMI event) names, inside `dir` (MixMonitor's folder):
 * a bare name or a path under it; a path outside it, or no file there, is null with the reason.
 */
export async function recordingFileIn(dir: string, named: string): Promise<{ file: string } | { reason: string }> {
  const value = named.trim();
  if (!value) return { reason: 'no file named' };
  const root = await fs.realpath(dir);
  const candidate = path.isAbsolute(value) ? value : path.join(root, value);
  let real: string;
  try {
    real = await fs.realpath(candidate);
  } catch {
    return { reason: `${quoted(value)}: no such file in ${dir}` };
  }
  if (real !== root && !real.startsWith(root + path.sep)) return { reason: `${quoted(value)} is outside ${dir}; not read` };
  return { file: real };
}

/** Store a recording of the call and, when it has audio and a transcriber is configured, its transcript. */
export async function storeCallRecording(db: Queryable, call: CallOfRecording, rec: Omit<NewRecording, 'contactId'>, opts: { transcriber?: Transcriber } = {}): Promise<StoredRecording> {
  const r = await recordRecording(db, { ...rec, contactId: call.id });
  const out: StoredRecording = { recordingId: r.id, duplicate: r.duplicate, sha256: r.sha256, transcript: null, warnings: [] };
  if (rec.audio && opts.transcriber) {
    const t = await transcribeRecording(db, call, { id: r.id, providerId: rec.providerId, sha256: r.sha256, location: rec.location }, rec.audio, opts.transcriber);
    out.transcript = t.transcript;
    out.warnings.push(...t.warnings);
  }
  return out;
}
