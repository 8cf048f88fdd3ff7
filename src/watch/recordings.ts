import type { Queryable } from '../db/index.js';
import { errorMessage } from '../lib/errors.js';
import { maskDigits } from '../lib/phone.js';
import * as vault from '../vault/index.js';

// Twilio recordings' audio, fetched from RecordingUrl with the account's credentials (HTTP basic:
// the AccountSid of the signed callback and the auth token) after the callback is stored and answered,
// then transcribed by the user's command when one is configured. One fetch at a time; a fetch that
// fails is tried again later (retryPending), unless Twilio answered 4xx (the recording is gone).

export interface RecordingFetchOptions {
  authToken: string;
  /** Origins a RecordingUrl may point to (default https://api.twilio.com). */
  origins: readonly string[];
  /**
   * Transcribe fetched audio and store the transcript (the configured watch.transcribe command, as
   * `cradle watch` hands it over: src/ingest/transcribe.ts, recordingTranscriber); absent, none.
   */
  transcribe?: TranscribeRecording;
  /** Default 60 s. */
  timeoutMs?: number;
  /** Largest recording fetched (default 256 MiB). */
  maxBytes?: number;
  log: (line: string) => void;
}

/** What transcribes a recording's audio and stores the transcript as a contact of its call. */
export type TranscribeRecording = (
  db: Queryable,
  call: vault.CallOfRecording,
  recording: { id: number; providerId: string; sha256: string | null; location: string | null },
  audio: Buffer,
) => Promise<{ warnings: string[] }>;

type Fetched = { ok: true; audio: Buffer; contentType: string | null } | { ok: false; error: string; permanent: boolean };

/** GET the recording's audio; Twilio serves WAV at the URL as given. */
export async function fetchTwilioAudio(url: string, accountSid: string, opts: Pick<RecordingFetchOptions, 'authToken' | 'origins' | 'timeoutMs' | 'maxBytes'>): Promise<Fetched> {
  let parsed: URL;
  try {
    parsed = new URL(url);
  } catch {
    return { ok: false, error: 'RecordingUrl is not a URL', permanent: true };
  }
  if (!opts.origins.includes(parsed.origin)) return { ok: false, error: `RecordingUrl's origin ${parsed.origin} is not among watch.recordingOrigins (${opts.origins.join(', ')})`, permanent: true };
  const max = opts.maxBytes ?? 256 * 1024 * 1024;
  try {
    const res = await fetch(parsed, {
      headers: { authorization: `Basic ${Buffer.from(`${accountSid}:${opts.authToken}`).toString('base64')}` },
      signal: AbortSignal.timeout(opts.timeoutMs ?? 60_000),
    });
    if (!res.ok) {
      await res.body?.cancel();
      return { ok: false, error: `HTTP ${res.status} from ${parsed.origin}`, permanent: res.status >= 400 && res.status < 500 && res.status !== 429 && res.status !== 408 };
    }
    if (Number(res.headers.get('content-length')) > max) {
      await res.body?.cancel();
      return { ok: false, error: `larger than ${max} bytes`, permanent: true };
    }
    const chunks: Buffer[] = [];
    let size = 0;
    for await (const chunk of res.body ?? []) {
      size += (chunk as Uint8Array).length;
      if (size > max) return { ok: false, error: `larger than ${max} bytes`, permanent: true };
      chunks.push(Buffer.from(chunk as Uint8Array));
    }
    if (size === 0) return { ok: false, error: 'an empty body', permanent: false };
    return { ok: true, audio: Buffer.concat(chunks), contentType: res.headers.get('content-type') };
  } catch (err) {
    return { ok: false, error: errorMessage(err), permanent: false };
  }
}

export class RecordingFetcher {
  private queue: { id: number; accountSid: string }[] = [];
  private running: Promise<void> | null = null;

  constructor(
    private readonly db: Queryable,
    private readonly opts: RecordingFetchOptions,
  ) {}

  /** Fetch this recording's audio soon (after the answer to its callback). */
  enqueue(id: number, accountSid: string): void {
    if (!this.queue.some((q) => q.id === id)) this.queue.push({ id, accountSid });
    this.running ??= this.drain().finally(() => {
      this.running = null;
    });
  }

  /** Queue the recordings whose audio is still missing (a fetch failed, or the watch stopped first). */
  async retryPending(): Promise<void> {
    for (const r of await vault.pendingRecordings(this.db, 'twilio')) {
      const accountSid = r.callback ? new URLSearchParams(r.callback.toString('utf8')).get('AccountSid') : null;
      if (accountSid) this.enqueue(r.id, accountSid);
    }
  }

  /** Until the queue is empty. */
  async idle(): Promise<void> {
    while (this.running) await this.running;
  }

  /** Drop what is queued and wait for the fetch under way (close). */
  async stop(): Promise<void> {
    this.queue.length = 0;
    await this.idle();
  }

  private async drain(): Promise<void> {
    for (let next = this.queue.shift(); next; next = this.queue.shift()) {
      try {
        await this.fetchOne(next.id, next.accountSid);
      } catch (err) {
        this.opts.log(`cradle watch: recording ${next.id}: ${maskDigits(errorMessage(err))}`);
      }
    }
  }

  private async fetchOne(id: number, accountSid: string): Promise<void> {
    const rec = await vault.getRecording(this.db, id);
    if (!rec || rec.sha256 !== null || !rec.location) return;
    const got = await fetchTwilioAudio(rec.location, accountSid, this.opts);
    if (!got.ok) {
      await vault.setRecordingFetchError(this.db, id, `${got.permanent ? vault.GAVE_UP : ''}${got.error}`);
      this.opts.log(`cradle watch: recording ${id}: could not fetch its audio: ${maskDigits(got.error)}${got.permanent ? '' : '; tried again later'}`);
      return;
    }
    await vault.storeRecordingAudio(this.db, id, got.audio, got.contentType);
    if (!this.opts.transcribe) return;
    const call = await vault.findCall(this.db, { id: rec.contact_id });
    if (!call) return;
    const t = await this.opts.transcribe(this.db, call, { id, providerId: rec.provider_id, sha256: vault.sha256Of(got.audio), location: rec.location }, got.audio);
    for (const w of t.warnings) this.opts.log(`cradle watch: ${maskDigits(w)}`);
  }
}
