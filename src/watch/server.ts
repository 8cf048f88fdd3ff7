import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { KeyObject } from 'node:crypto';
import type { Database } from '../db/index.js';
import { contactRecorder, isPermanentDataError, recordContact, type NewContact, type RecordedContact } from '../vault/contacts.js';
import { maskDigits } from '../lib/phone.js';
import { forwardedContact, forwarderDocument, verifyForwarder, type Forwarder } from './forwarders.js';
import { genericContact, parseForm, parseJson, telnyxContact, twilioContact, twilioRecording, type Arrival, type Parsed } from './payloads.js';
import { RecordingFetcher, type TranscribeRecording } from './recordings.js';
import { findCall, recordRecording, transcriptContact } from '../vault/recordings.js';
import { RateLimiter, type RateLimit } from './ratelimit.js';
import { DEFAULT_HOST, DEFAULT_RATE_LIMIT, DEFAULT_RECORDING_ORIGINS, type WatchSecrets } from './settings.js';
import { telnyxPublicKey, verifyGeneric, verifyTelnyx, verifyTwilio, type Verdict } from './signatures.js';
import { startTrapSmtp, type TrapSmtpEvent } from './smtp.js';

// `cradle watch`'s HTTP side: the telephony providers' webhooks. Evidence first: a signed request is
// written to the vault, in its own transaction, before the provider gets its 2xx; a failed write is a
// 500 so the provider retries. Unsigned or badly signed requests get 403 and one audit line, and are
// not stored. The vault handle belongs to the caller, who closes it after close().

export interface WatchOptions {
  /** Default 127.0.0.1 (loopback): put a TLS proxy in front to reach it from the providers. */
  host?: string;
  /** Default 8787 here too; 0 picks a free port (see the returned url). */
  port?: number;
  /** The base URL the providers call, as they see it (behind a proxy), e.g. https://traps.example.org. */
  publicUrl?: string;
  secrets: WatchSecrets;
  /** Largest request body accepted, bytes (default 64 KiB; more is 413). */
  bodyLimit?: number;
  rateLimit?: RateLimit;
  /** Whole request, headers and body (default 15 s). */
  requestTimeoutMs?: number;
  headersTimeoutMs?: number;
  /** Audit and error lines (default: standard error). Never given a secret or a full phone number. */
  log?: (line: string) => void;
  /**
   * The trap mailboxes' SMTP listener (src/watch/smtp.ts) on this port, when set. Started and closed
   * with the HTTP server: see `listeners` in startWatch.
   */
  smtpPort?: number;
  /**
   * Behind a reverse proxy on this machine: take the client's address from the last hop of
   * X-Forwarded-For (the one the proxy added) when the connection comes from loopback. Off by
   * default: a client could write the header itself.
   */
  trustProxy?: boolean;
  /**
   * Twilio recordings (POST /webhooks/twilio/recording): where their audio may be fetched from
   * (default https://api.twilio.com) and what transcribes them (watch.transcribe's command, handed over
   * by the CLI as src/ingest/transcribe.ts's recordingTranscriber).
   */
  recordings?: { origins?: readonly string[]; transcribe?: TranscribeRecording; fetchTimeoutMs?: number };
}

export interface WatchHandle {
  /** http://host:port actually listened on. */
  url: string;
  host: string;
  port: number;
  /** The trap mailboxes' SMTP port, when `smtpPort` was given (0 picks a free one). */
  smtpPort: number | null;
  /** Stop accepting, let requests in flight finish (their vault writes included), then return. */
  close(): Promise<void>;
  /** Webhook contacts stored since the start (duplicates included): lets the caller see whether a flood is still arriving. */
  stored(): number;
}

export const DEFAULT_BODY_LIMIT = 64 * 1024;

type Source = 'twilio-sms' | 'twilio-voice' | 'twilio-recording' | 'telnyx' | 'generic';

const ROUTES: Record<string, Source> = {
  '/webhooks/twilio/sms': 'twilio-sms',
  '/webhooks/twilio/voice': 'twilio-voice',
  '/webhooks/twilio/recording': 'twilio-recording',
  '/webhooks/telnyx': 'telnyx',
  '/webhooks/generic': 'generic',
};

/** A forwarding app's route: /webhooks/forward/<name>, the name of its entry in watch.forwarders. */
export const FORWARD_ROUTE = '/webhooks/forward/';

const EMPTY_TWIML = '<?xml version="1.0" encoding="UTF-8"?><Response/>';

/** Headers kept as evidence, minus credentials a proxy might forward (never our own secrets: those are not sent). */
function evidenceHeaders(req: http.IncomingMessage): Record<string, unknown> {
  const out: Record<string, unknown> = {};
  for (const [name, value] of Object.entries(req.headers)) {
    out[name] = name === 'authorization' || name === 'proxy-authorization' || name === 'cookie' ? '[redacted]' : value;
  }
  return out;
}

function header(req: http.IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

type Body = { ok: true; raw: Buffer } | { ok: false; tooLarge: true };

/** The body, up to `limit` bytes; beyond it the rest is read and thrown away (up to 16 x the limit). */
function readBody(req: http.IncomingMessage, limit: number): Promise<Body> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    let over = Number(req.headers['content-length']) > limit;
    let done = false;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) over = true;
      if (!over) chunks.push(chunk);
      else chunks.length = 0;
      if (size > 16 * limit) req.socket.destroy();
    });
    req.on('end', () => {
      done = true;
      resolve(over ? { ok: false, tooLarge: true } : { ok: true, raw: Buffer.concat(chunks) });
    });
    req.on('error', (err) => {
      if (!done) reject(err);
    });
    req.on('close', () => {
      if (!done) reject(new Error('request closed before its body ended'));
    });
  });
}

const LOOPBACK = /^(127\.|::1$|::ffff:127\.)/;

/** The client's address: the socket's, or with `trustProxy` the proxy's last X-Forwarded-For hop when the proxy is local. */
export function clientAddress(req: http.IncomingMessage, trustProxy: boolean): string | null {
  const peer = req.socket.remoteAddress ?? null;
  if (!trustProxy || !peer || !LOOPBACK.test(peer)) return peer;
  const header = req.headers['x-forwarded-for'];
  const hops = (Array.isArray(header) ? header.join(',') : (header ?? '')).split(',').map((h) => h.trim()).filter(Boolean);
  return hops.length ? hops[hops.length - 1] : peer;
}

export async function startWatch(db: Database, options: WatchOptions): Promise<WatchHandle> {
  const trustProxy = !!options.trustProxy;
  const host = options.host ?? DEFAULT_HOST;
  const bodyLimit = options.bodyLimit ?? DEFAULT_BODY_LIMIT;
  const limiter = new RateLimiter(options.rateLimit ?? DEFAULT_RATE_LIMIT);
  const log = options.log ?? ((line: string) => void process.stderr.write(`${line}\n`));
  const secrets = options.secrets;
  let telnyxKey: KeyObject | undefined;
  if (secrets.telnyxPublicKey) {
    try {
      telnyxKey = telnyxPublicKey(secrets.telnyxPublicKey);
    } catch (err) {
      throw new Error(`TELNYX_PUBLIC_KEY: ${(err as Error).message}`);
    }
  }
  const configured: Record<Source, boolean> = {
    'twilio-sms': !!secrets.twilioAuthToken,
    'twilio-voice': !!secrets.twilioAuthToken,
    'twilio-recording': !!secrets.twilioAuthToken,
    telnyx: !!telnyxKey,
    generic: !!secrets.webhookSecret,
  };

  const fetcher = secrets.twilioAuthToken
    ? new RecordingFetcher(db, {
        authToken: secrets.twilioAuthToken,
        origins: options.recordings?.origins ?? DEFAULT_RECORDING_ORIGINS,
        transcribe: options.recordings?.transcribe,
        timeoutMs: options.recordings?.fetchTimeoutMs,
        log,
      })
    : null;

  const forwarders = new Map((secrets.forwarders ?? []).map((f) => [f.name, f]));
  // Webhooks arriving together are written with one statement (group commit), each answered after it commits.
  const record = contactRecorder(db);

  let inFlight = 0;
  let idle: (() => void) | null = null;
  let storedCount = 0;

  const send = (res: http.ServerResponse, status: number, body: string | object, headers: Record<string, string | number> = {}) => {
    const text = typeof body === 'string' ? body : JSON.stringify(body);
    res.writeHead(status, {
      'content-type': typeof body === 'string' && body.startsWith('<?xml') ? 'text/xml; charset=utf-8' : typeof body === 'string' ? 'text/plain; charset=utf-8' : 'application/json',
      'content-length': Buffer.byteLength(text),
      'cache-control': 'no-store',
      ...headers,
    });
    res.end(text);
  };

  const audit = (req: http.IncomingMessage, path: string, status: number, reason: string) => {
    log(`cradle watch: ${status} ${req.method} ${maskDigits(path)} from ${clientAddress(req, trustProxy) ?? '?'}: ${maskDigits(reason)}`);
  };

  async function health(res: http.ServerResponse, head: boolean) {
    try {
      const { rows } = await db.query<{ contacts: number; outbox: number }>(
        `SELECT (SELECT count(*)::int FROM contact_events) AS contacts, (SELECT count(*)::int FROM alert_outbox WHERE state = 'pending') AS outbox`,
      );
      const body = { ok: true, vault: 'reachable', contacts: rows[0].contacts, outbox: rows[0].outbox };
      if (head) res.writeHead(200).end();
      else send(res, 200, body);
    } catch {
      if (head) res.writeHead(503).end();
      else send(res, 503, { ok: false, vault: 'unreachable' });
    }
  }

  async function webhook(req: http.IncomingMessage, res: http.ServerResponse, source: Source, path: string) {
    const receivedAt = new Date();
    const body = await readBody(req, bodyLimit);
    if (!body.ok) return send(res, 413, { error: `body larger than ${bodyLimit} bytes` }, { connection: 'close' });
    const raw = body.raw;
    const arrival: Arrival = { raw, headers: evidenceHeaders(req), remoteAddr: clientAddress(req, trustProxy), receivedAt };

    let verdict: Verdict;
    let contact: Parsed<NewContact>;
    if (source === 'twilio-sms' || source === 'twilio-voice' || source === 'twilio-recording') {
      const type = (header(req, 'content-type') ?? '').split(';')[0].trim().toLowerCase();
      if (type !== 'application/x-www-form-urlencoded') return send(res, 400, { error: 'expected application/x-www-form-urlencoded' });
      const form = parseForm(raw);
      if (!form.ok) return send(res, 400, { error: form.reason });
      const base = options.publicUrl ?? `http://${header(req, 'host') ?? `${host}:${port}`}`;
      verdict = verifyTwilio(secrets.twilioAuthToken!, header(req, 'x-twilio-signature'), base + (req.url ?? path), form.value);
      if (!verdict.ok) {
        audit(req, path, 403, verdict.reason);
        return send(res, 403, { error: 'signature check failed' });
      }
      if (source === 'twilio-recording') return recording(req, res, path, form.value, arrival);
      contact = twilioContact(source === 'twilio-sms' ? 'sms' : 'call', form.value, arrival);
    } else {
      verdict =
        source === 'telnyx'
          ? verifyTelnyx(telnyxKey!, header(req, 'telnyx-signature-ed25519'), header(req, 'telnyx-timestamp'), raw, receivedAt)
          : verifyGeneric(secrets.webhookSecret!, header(req, 'x-cradle-signature'), header(req, 'x-cradle-timestamp'), raw, receivedAt);
      if (!verdict.ok) {
        audit(req, path, 403, verdict.reason);
        return send(res, 403, { error: 'signature check failed' });
      }
      const doc = parseJson(raw);
      if (!doc.ok) return send(res, 400, { error: doc.reason });
      contact = source === 'telnyx' ? telnyxContact(doc.value, arrival) : genericContact(doc.value, arrival);
    }
    if (!contact.ok) return send(res, 400, { error: contact.reason });
    return store(req, res, path, contact.value, source === 'twilio-sms' || source === 'twilio-voice');
  }

  /** A forwarding app's webhook (src/watch/forwarders.ts): its signature, its fields, then stored as any contact. */
  async function forwarded(req: http.IncomingMessage, res: http.ServerResponse, f: Forwarder, path: string, query: URLSearchParams) {
    const receivedAt = new Date();
    const body = await readBody(req, bodyLimit);
    if (!body.ok) return send(res, 413, { error: `body larger than ${bodyLimit} bytes` }, { connection: 'close' });
    const raw = body.raw;
    const doc = forwarderDocument(raw, header(req, 'content-type') ?? '');
    // A body that is not JSON or a form cannot carry SmsForwarder's sign; the others sign the bytes.
    const verdict = verifyForwarder(f, raw, doc.ok ? doc.value : null, { get: (name) => header(req, name) }, query, receivedAt);
    if (!verdict.ok) {
      audit(req, path, 403, verdict.reason);
      return send(res, 403, { error: 'signature check failed' });
    }
    if (!doc.ok) return send(res, 400, { error: doc.reason });
    const contact = forwardedContact(f, doc.value, { raw, headers: evidenceHeaders(req), remoteAddr: clientAddress(req, trustProxy), receivedAt });
    if (!contact.ok) return send(res, 400, { error: contact.reason });
    if ('ignored' in contact) return send(res, 200, { ok: true, ignored: contact.ignored });
    return store(req, res, path, contact.value, false);
  }

  /**
   * A Twilio recording or transcription callback: the call (recorded from the callback when the voice
   * webhook did not reach us and the callback names the trap), the recording (its audio fetched after
   * the answer), and the provider's transcript as a contact event of the call; then empty TwiML.
   */
  async function recording(req: http.IncomingMessage, res: http.ServerResponse, path: string, params: [string, string][], arrival: Arrival) {
    const parsed = twilioRecording(params);
    if (!parsed.ok) return send(res, 400, { error: parsed.reason });
    const cb = parsed.value;
    const from = clientAddress(req, trustProxy) ?? '?';
    let fetchId: number | null = null;
    try {
      let call = await findCall(db, { source: 'twilio-voice', providerId: cb.callSid });
      if (!call) {
        const made = twilioContact('call', params, arrival);
        if (!made.ok || !cb.to) {
          log(`cradle watch: 422 ${req.method} ${path} from ${from}: no call ${maskDigits(cb.callSid)} in the vault and no To in the callback (point the number's voice webhook at /webhooks/twilio/voice)`);
          return send(res, 422, { error: 'unknown CallSid and no To parameter' });
        }
        const stored = await recordContact(db, { ...made.value, providerId: cb.callSid, body: null });
        call = await findCall(db, { id: stored.id });
      }
      let rec: { id: number; sha256: string | null } | null = null;
      if (cb.recordingSid) {
        const r = await recordRecording(db, {
          contactId: call!.id, source: 'twilio', providerId: cb.recordingSid, location: cb.recordingUrl, durationSeconds: cb.durationSeconds, contentType: null, audio: null, callback: arrival.raw,
        });
        rec = r;
        const completed = cb.recordingStatus === null || cb.recordingStatus === 'completed';
        if (r.sha256 === null && cb.recordingUrl && cb.accountSid && completed) fetchId = r.id;
      }
      if (cb.transcriptionText) {
        await recordContact(
          db,
          transcriptContact(call!, {
            providerId: `${cb.callSid}:transcription:${cb.transcriptionSid ?? cb.recordingSid}`, text: cb.transcriptionText, raw: arrival.raw, origin: 'provider', recording: rec ?? undefined, headers: arrival.headers,
          }),
        );
      }
    } catch (err) {
      if (isPermanentDataError(err)) {
        log(`cradle watch: 422 ${req.method} ${path} from ${from}: the vault refused the event: ${maskDigits((err as Error).message)}`);
        return send(res, 422, { error: 'the event cannot be stored; do not retry' });
      }
      log(`cradle watch: 500 ${req.method} ${path} from ${from}: vault write failed: ${maskDigits((err as Error).message)}`);
      return send(res, 500, { error: 'could not store the event; retry' });
    }
    send(res, 200, EMPTY_TWIML);
    if (fetchId !== null) fetcher!.enqueue(fetchId, cb.accountSid!);
  }

  async function store(req: http.IncomingMessage, res: http.ServerResponse, path: string, c: NewContact, twiml: boolean) {
    let stored: RecordedContact;
    try {
      // An INSERT ... ON CONFLICT statement (with the contacts that arrived with this one): its own
      // transaction, committed before the answer. A contact the vault refuses fails only itself.
      // recordContact escapes what the vault cannot hold (NUL, oversized ids, impossible dates).
      stored = await record(c);
      storedCount++;
    } catch (err) {
      const from = clientAddress(req, trustProxy) ?? '?';
      // A retry of the same body would fail the same way: refuse it for good rather than ask for it again.
      if (isPermanentDataError(err)) {
        log(`cradle watch: 422 ${req.method} ${path} from ${from}: the vault refused the event: ${maskDigits((err as Error).message)}`);
        return send(res, 422, { error: 'the event cannot be stored; do not retry' });
      }
      log(`cradle watch: 500 ${req.method} ${path} from ${from}: vault write failed: ${maskDigits((err as Error).message)}`);
      return send(res, 500, { error: 'could not store the event; retry' });
    }
    if (stored.warnings.length) log(`cradle watch: 200 ${req.method} ${path}: contact ${stored.id} stored with warnings: ${maskDigits(stored.warnings.join('; '))}`);
    if (twiml) return send(res, 200, EMPTY_TWIML);
    return send(res, 200, { ok: true, id: stored.id, duplicate: stored.duplicate, ...(stored.warnings.length ? { warnings: stored.warnings } : {}) });
  }

  async function handle(req: http.IncomingMessage, res: http.ServerResponse) {
    const path = new URL(req.url ?? '/', 'http://localhost').pathname;
    if (path === '/healthz') {
      if (req.method === 'GET' || req.method === 'HEAD') return health(res, req.method === 'HEAD');
      return send(res, 405, { error: 'use GET' }, { allow: 'GET, HEAD' });
    }
    const forwarder = path.startsWith(FORWARD_ROUTE) ? path.slice(FORWARD_ROUTE.length) : null;
    const source = ROUTES[path];
    if (!source && !forwarder) return send(res, 404, { error: 'not found' });
    if (req.method !== 'POST') return send(res, 405, { error: 'use POST' }, { allow: 'POST' });
    const take = limiter.take(clientAddress(req, trustProxy) ?? '?', Date.now());
    if (!take.ok) return send(res, 429, { error: 'too many requests' }, { 'retry-after': take.retryAfterSeconds });
    if (forwarder) {
      const f = forwarders.get(forwarder);
      if (!f) {
        audit(req, path, 503, `forwarder ${forwarder} is not configured (no such name, or no secret)`);
        return send(res, 503, { error: `forwarder ${forwarder} is not configured` });
      }
      return forwarded(req, res, f, path, new URL(req.url ?? '/', 'http://localhost').searchParams);
    }
    if (!configured[source]) {
      audit(req, path, 503, `${source} is not configured (no secret)`);
      return send(res, 503, { error: `${source} webhooks are not configured` });
    }
    return webhook(req, res, source, path);
  }

  const server = http.createServer(
    {
      requestTimeout: options.requestTimeoutMs ?? 15_000,
      headersTimeout: options.headersTimeoutMs ?? 10_000,
      keepAliveTimeout: 5_000,
      // How often the timeouts above are enforced (Node's default, 30 s, would let a slow client linger).
      connectionsCheckingInterval: Math.min(1_000, options.headersTimeoutMs ?? 1_000),
    },
    (req, res) => {
      // In flight until the response is handed to the socket (or the client is gone): close() waits for it.
      inFlight++;
      res.once('close', () => {
        if (--inFlight === 0 && idle) idle();
      });
      handle(req, res).catch((err: Error) => {
        log(`cradle watch: 500 ${req.method} ${maskDigits(req.url ?? '')}: ${maskDigits(err.message)}`);
        if (!res.headersSent) send(res, 500, { error: 'internal error' });
        else res.destroy();
      });
    },
  );
  // Malformed or too slow requests never reach the handler: answer them plainly and hang up.
  server.on('clientError', (err: NodeJS.ErrnoException, socket) => {
    const status = err.code === 'ERR_HTTP_REQUEST_TIMEOUT' ? '408 Request Timeout' : err.code === 'HPE_HEADER_OVERFLOW' ? '431 Request Header Fields Too Large' : '400 Bad Request';
    if (socket.writable) socket.end(`HTTP/1.1 ${status}\r\nConnection: close\r\nContent-Length: 0\r\n\r\n`);
    else socket.destroy();
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 8787, host, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;

  // Further listeners started with the HTTP server and closed after it: the SMTP side (options.smtpPort)
  // goes here.
  const listeners: { close(): Promise<void> }[] = [];
  let smtpPort: number | null = null;
  if (options.smtpPort !== undefined) {
    try {
      const onEvent = (e: TrapSmtpEvent) => {
        if (e.type === 'refused') log(`smtp: ${e.code} to ${e.remoteAddr}: ${e.reason}`);
        else if (e.warnings.length) log(`smtp: 250 to ${e.remoteAddr}: contact ${e.ids.join(', ')} stored with warnings: ${e.warnings.join('; ')}`);
      };
      const smtp = await startTrapSmtp(db, { host, port: options.smtpPort, onEvent });
      smtpPort = smtp.port;
      listeners.push(smtp);
    } catch (err) {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      throw err;
    }
  }

  // Recordings whose audio a fetch has not brought yet (a failure, or a watch stopped first): now and every minute.
  void fetcher?.retryPending().catch((err: Error) => log(`cradle watch: recordings: ${maskDigits(err.message)}`));
  const retry = setInterval(() => void fetcher?.retryPending().catch((err: Error) => log(`cradle watch: recordings: ${maskDigits(err.message)}`)), 60_000);
  retry.unref();

  let closing: Promise<void> | undefined;
  const urlHost = host.includes(':') ? `[${host}]` : host;
  return {
    stored: () => storedCount,
    url: `http://${urlHost}:${port}`,
    host,
    port,
    smtpPort,
    close() {
      closing ??= (async () => {
        const closed = new Promise<void>((resolve) => server.close(() => resolve()));
        server.closeIdleConnections();
        if (inFlight > 0) {
          await Promise.race([new Promise<void>((resolve) => (idle = resolve)), new Promise((resolve) => setTimeout(resolve, 10_000).unref())]);
        }
        server.closeAllConnections();
        await closed;
        clearInterval(retry);
        await fetcher?.stop();
        for (const l of listeners.reverse()) await l.close();
      })();
      return closing;
    },
  };
}
