import { spawn } from 'node:child_process';
import fs from 'node:fs/promises';
import os from 'node:os';
import path from 'node:path';
import { excerpt } from '../lib/control.js';

// The user's speech-to-text command (config watch.transcribe): run on a recording's audio, written to
// a private temporary file; its standard output is the transcript. A command that fails, times out or
// says nothing gives a warning and no transcript: nothing is stored half-way.

export interface Transcriber {
  /** argv; `{file}` in any argument is replaced by the audio file's path (appended when no argument has it). */
  command: readonly string[];
  /** Default 300 s. */
  timeoutMs?: number;
}

export const DEFAULT_TRANSCRIBE_TIMEOUT_MS = 300_000;
/** Most transcript bytes kept from standard output; more is a failure (not a transcript). */
export const MAX_TRANSCRIPT_BYTES = 1024 * 1024;

export type Transcribed = { ok: true; text: string; raw: Buffer } | { ok: false; warning: string };

/** The argv with {file} put in. */
export function transcribeArgv(command: readonly string[], file: string): string[] {
  const argv = command.map((a) => a.replaceAll('{file}', file));
  return command.some((a) => a.includes('{file}')) ? argv : [...argv, file];
}

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
