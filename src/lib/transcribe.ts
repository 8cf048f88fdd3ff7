// The user's speech-to-text command (config watch.transcribe), as configured: what it is and how its
// argv is made (pure). Running it is src/ingest/transcribe.ts's.

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
