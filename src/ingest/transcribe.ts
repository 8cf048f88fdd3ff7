import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import type { Queryable } from '../db/index.js';
import { excerpt } from '../lib/control.js';
import { DEFAULT_TRANSCRIBE_TIMEOUT_MS, MAX_TRANSCRIPT_BYTES, transcribeArgv, type Transcribed, type Transcriber } from '../lib/transcribe.js';
import { recordContact } from '../vault/contacts.js';
import { commandTranscriptId, contactByProviderId, transcriptContact, type CallOfRecording } from '../vault/recordings.js';

// The user's speech-to-text command (config watch.transcribe): run on a recording's audio, written to
// a private temporary file; its standard output is the transcript. A command that fails, times out or
// says nothing gives a warning and no transcript: nothing is stored half-way. Capability I/O (a process,
// a temporary file): `cradle ingest` runs it here, and `cradle watch` is handed recordingTranscriber's
// function by the CLI (capabilities do not import each other); the vault only stores what it wrote.

export type { Transcribed, Transcriber };

/** Run the transcriber on the audio; `ext` names the temporary file's type (.wav, .mp3). */
export async function transcribe(t: Transcriber, audio: Buffer, ext = '.wav'): Promise<Transcribed> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), 'cradle-transcribe-'));
  const file = path.join(dir, `recording${/^\.[a-z0-9]{1,5}$/i.test(ext) ? ext : '.wav'}`);
  const name = path.basename(t.command[0] ?? '?');
  try {
    await fs.writeFile(file, audio, { mode: 0o600 });
    const [cmd, ...args] = transcribeArgv(t.command, file);
    const timeoutMs = t.timeoutMs ?? DEFAULT_TRANSCRIBE_TIMEOUT_MS;
    const result = await new Promise<Transcribed>((resolve) => {
      const child = spawn(cmd, args, { stdio: ['ignore', 'pipe', 'pipe'] });
      const out: Buffer[] = [];
      let size = 0;
      let err = '';
      let why: string | null = null;
      const timer = setTimeout(() => {
        why = `took longer than ${Math.round(timeoutMs / 1000)} s`;
        child.kill('SIGKILL');
      }, timeoutMs);
      child.stdout.on('data', (c: Buffer) => {
        size += c.length;
        if (size > MAX_TRANSCRIPT_BYTES) {
          why ??= `wrote more than ${MAX_TRANSCRIPT_BYTES} bytes`;
          child.kill('SIGKILL');
        } else out.push(c);
      });
      child.stderr.on('data', (c: Buffer) => {
        if (err.length < 2000) err += c.toString('utf8');
      });
      child.on('error', (e) => {
        clearTimeout(timer);
        resolve({ ok: false, warning: `transcriber ${name} could not be run: ${excerpt(e.message)}` });
      });
      child.on('close', (code, signal) => {
        clearTimeout(timer);
        const tail = err.trim() ? `: ${excerpt(err.trim().split('\n').pop() ?? '')}` : '';
        if (why) return resolve({ ok: false, warning: `transcriber ${name} ${why}; no transcript stored` });
        if (code !== 0) return resolve({ ok: false, warning: `transcriber ${name} exited with ${code ?? signal}${tail}; no transcript stored` });
        const raw = Buffer.concat(out);
        const text = raw.toString('utf8').trim();
        if (!text) return resolve({ ok: false, warning: `transcriber ${name} wrote no text; no transcript stored` });
        resolve({ ok: true, text, raw });
      });
    });
    return result;
  } finally {
    await fs.rm(dir, { recursive: true, force: true });
  }
}

/**
 * Transcribe a stored recording's audio with the user's command (once per recording: a transcript
 * made before is returned as it is) and store the transcript as a contact event of the call.
 */
export async function transcribeRecording(
  db: Queryable,
  call: CallOfRecording,
  recording: { id: number; providerId: string; sha256: string | null; location: string | null },
  audio: Buffer,
  transcriber: Transcriber,
): Promise<{ transcript: { contactId: number; duplicate: boolean } | null; warnings: string[] }> {
  const providerId = commandTranscriptId(call, recording.providerId);
  const existing = await contactByProviderId(db, call.source, providerId);
  if (existing !== null) return { transcript: { contactId: existing, duplicate: true }, warnings: [] };
  const ext = recording.location ? path.extname(new URL(recording.location, 'file:///').pathname) : '';
  const t = await transcribe(transcriber, audio, ext || '.wav');
  if (!t.ok) return { transcript: null, warnings: [`recording ${recording.id}: ${t.warning}`] };
  const stored = await recordContact(
    db,
    transcriptContact(call, { providerId, text: t.text, raw: t.raw, origin: 'command', recording: { id: recording.id, sha256: recording.sha256 }, transcriber: path.basename(transcriber.command[0]) }),
  );
  return { transcript: { contactId: stored.id, duplicate: stored.duplicate }, warnings: stored.warnings.map((w) => `recording ${recording.id}: transcript: ${w}`) };
}

/** The function `cradle watch`'s recording fetcher is handed: transcribeRecording with the configured command. */
export function recordingTranscriber(transcriber: Transcriber) {
  return (db: Queryable, call: CallOfRecording, recording: { id: number; providerId: string; sha256: string | null; location: string | null }, audio: Buffer) =>
    transcribeRecording(db, call, recording, audio, transcriber);
}
