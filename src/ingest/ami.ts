import net from 'node:net';
import type { Queryable } from '../db/index.js';
import { escapeControls } from '../lib/control.js';
import { errorMessage } from '../lib/errors.js';
import { maskDigits } from '../lib/phone.js';
import type { Transcriber } from '../lib/transcribe.js';
import { isPermanentDataError, recordContact } from '../vault/contacts.js';
import { findCall } from '../vault/recordings.js';
import { AmiParser, amiAction, amiField, cdrEventCall, type AmiMessage } from './ami-parse.js';
import { contentTypeOf, ingestRecordingFile, recordingFileIn } from './recording.js';
import { isTrapNumber } from './traps.js';

// `cradle watch`'s live Asterisk source: a client of the Asterisk Manager Interface (AMI, TCP, port
// 5038 by default) that logs in and records each Cdr event (cdr_manager: one per call, when it ends)
// for a trap number (of --hospital's, as the CDR import) as the contact `cradle ingest cdr` would make of its Master.csv row: same source,
// provider id (UniqueID), columns and time, so importing the CSV later adds nothing. A MixMonitor file
// named in UserField is stored with the call when a recordings folder is given. The connection is
// re-made with backoff (1 s doubling to 60 s) whenever it drops or the login is refused. The secret is
// sent only in the Login action and never logged.

export interface AmiOptions {
  host: string;
  port: number;
  username: string;
  secret: string;
  /** Zone of the PBX's CDR times (cdr_manager writes local times unless usegmtime). */
  timeZone: string;
  region: string;
  /**
   * --hospital: only its trap numbers (its share and the shared ones) are traps, as for `cradle ingest
   * cdr --hospital`; an event for another hospital's number is "not a trap". Absent: every trap number.
   */
  hospital?: string;
  /** MixMonitor's folder: the file a Cdr's UserField names is stored with its call. */
  recordings?: { dir: string; transcriber?: Transcriber };
  log: (line: string) => void;
  /** Called after each Cdr event is handled (tests, monitoring). */
  onCall?: (e: { contactId: number | null; outcome: 'recorded' | 'duplicate' | 'not a trap' | 'rejected' }) => void;
  /** First reconnection delay (default 1 s); doubles to maxBackoffMs (default 60 s). */
  backoffMs?: number;
  maxBackoffMs?: number;
}

export interface AmiHandle {
  /** Stop: close the connection, stop reconnecting, wait for the event being stored. */
  close(): Promise<void>;
}

export function startAmi(db: Queryable, opts: AmiOptions): AmiHandle {
  const where = `${opts.host}:${opts.port}`;
  const log = (line: string) => opts.log(`cradle watch: ami ${where}: ${maskDigits(escapeControls(line))}`);
  let stopped = false;
  let socket: net.Socket | null = null;
  let timer: NodeJS.Timeout | null = null;
  let delay = opts.backoffMs ?? 1000;
  let work: Promise<void> = Promise.resolve();
  let events = 0;


  async function handleCdr(m: AmiMessage) {
    const call = cdrEventCall(m, ++events, { label: `ami ${where} event`, timeZone: opts.timeZone, region: opts.region });
    if (!('providerId' in call)) {
      log(`rejected: ${call.reason}`);
      return opts.onCall?.({ contactId: null, outcome: 'rejected' });
    }
    if (!call.toIsPhone || !(await isTrapNumber(db, call.to, opts.hospital))) return opts.onCall?.({ contactId: null, outcome: 'not a trap' });
    let stored;
    try {
      stored = await recordContact(db, { source: 'cdr', providerId: call.providerId, kind: 'call', from: call.from, to: call.to, occurredAt: call.occurredAt, body: null, headers: call.fields, raw: call.raw });
    } catch (err) {
      if (!isPermanentDataError(err)) throw err;
      log(`the vault refused the call ${call.providerId}: ${errorMessage(err)}`);
      return opts.onCall?.({ contactId: null, outcome: 'rejected' });
    }
    for (const w of stored.warnings) log(`call ${stored.id} stored with a warning: ${w}`);
    const named = call.fields.userfield?.trim();
    if (opts.recordings && named && contentTypeOf(named)) {
      const found = await recordingFileIn(opts.recordings.dir, named);
      if ('reason' in found) log(`call ${stored.id}: recording ${found.reason}`);
      else {
        try {
          const r = await ingestRecordingFile(db, found.file, (await findCall(db, { id: stored.id }))!, { transcriber: opts.recordings.transcriber });
          for (const w of r.warnings) log(w);
        } catch (err) {
          log(`call ${stored.id}: recording: ${errorMessage(err)}`);
        }
      }
    }
    opts.onCall?.({ contactId: stored.id, outcome: stored.duplicate ? 'duplicate' : 'recorded' });
  }

  function connect() {
    timer = null;
    if (stopped) return;
    const parser = new AmiParser();
    let loggedIn = false;
    let refused = false;
    const s = net.connect({ host: opts.host, port: opts.port });
    socket = s;
    s.setKeepAlive(true, 30_000);
    s.on('connect', () => {
      // Only the Cdr events (class cdr) and the answers to our actions.
      s.write(amiAction({ Action: 'Login', ActionID: 'cradle-login', Username: opts.username, Secret: opts.secret, Events: 'cdr' }));
    });
    s.on('data', (chunk: Buffer) => {
      for (const item of parser.push(chunk)) {
        if (item.type === 'banner') {
          if (!/^Asterisk Call Manager\//.test(item.text)) log(`unexpected banner ${JSON.stringify(item.text.slice(0, 80))}`);
          continue;
        }
        if (item.type === 'error') {
          log(item.reason);
          continue;
        }
        const m = item.message;
        if (!loggedIn && amiField(m, 'ActionID') === 'cradle-login') {
          if (amiField(m, 'Response')?.toLowerCase() === 'success') {
            loggedIn = true;
            delay = opts.backoffMs ?? 1000;
            log(`logged in as ${opts.username}`);
          } else {
            refused = true;
            log(`login as ${opts.username} refused: ${amiField(m, 'Message') ?? 'no message'}`);
            s.destroy();
          }
          continue;
        }
        if (loggedIn && amiField(m, 'Event')?.toLowerCase() === 'cdr') {
          work = work.then(() => handleCdr(m)).catch((err: unknown) => log(`could not store a call: ${errorMessage(err)}`));
        }
      }
    });
    s.on('error', (err) => {
      if (!stopped) log(`connection: ${errorMessage(err)}`);
    });
    s.on('close', () => {
      socket = null;
      if (parser.pending > 0) log(`the connection closed in the middle of a message (${parser.pending} bytes); dropped`);
      if (stopped) return;
      const wait = refused ? Math.max(delay, 10_000) : delay;
      log(`${loggedIn ? 'connection closed' : 'not connected'}; trying again in ${Math.round(wait / 100) / 10} s`);
      delay = Math.min(delay * 2, opts.maxBackoffMs ?? 60_000);
      timer = setTimeout(connect, wait);
    });
  }

  connect();
  return {
    async close() {
      stopped = true;
      if (timer) clearTimeout(timer);
      if (socket) {
        const s = socket;
        await new Promise<void>((resolve) => {
          s.once('close', () => resolve());
          s.end(amiAction({ Action: 'Logoff' }));
          setTimeout(() => s.destroy(), 1000).unref();
        });
      }
      await work;
    },
  };
}
