import crypto from 'node:crypto';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { Readable } from 'node:stream';
import { importAccessLog, type ImportAccessOptions } from '../../src/accesslog/import.js';
import { parseMapOption } from '../../src/accesslog/parse.js';
import type { AccessFormat } from '../../src/domain/access.js';
import { loadConfig, configTemplate, selectHospital } from '../../src/config/index.js';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import { startAmi } from '../../src/ingest/ami.js';
import { CdrRowError, EventError, ingestCdr, ingestEvents, ingestMail, pollGammuFiles, type CdrFormat } from '../../src/ingest/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { runScan } from '../../src/scan/scan.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import { loadMapping } from '../../src/targetdb/mapping.js';
import * as vault from '../../src/vault/index.js';
import { DEFAULT_BODY_LIMIT, startWatch, type WatchHandle } from '../../src/watch/server.js';
import { genericSignature, twilioSignature } from '../../src/watch/signatures.js';
import { parseForm } from '../../src/watch/payloads.js';
import { startTrapSmtp, type TrapSmtp } from '../../src/watch/smtp.js';
import { newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';
import { createTrapVault, MOTHER_MAILBOX, TRAP_NUMBERS, type TrapVault } from '../ingest/trap-vault.js';
import type { FuzzTarget, Outcome } from './harness.js';

// The parsers that take outside input, each as a fuzz target: seeds from the fixtures, the library
// function the CLI calls (or the real server for webhooks and SMTP), and what counts as an outcome.
// One vault per target, created once; per-case work is one call.

const fixture = (...p: string[]) => fs.readFileSync(path.join(FIXTURES_DIR, ...p));
const hasContent = (text: string) => /[\p{L}\p{N}]/u.test(text);
/** Lines with something on them, after the first `skip` (a CSV header); a byte-order mark alone is no text (an empty file re-encoded as UTF-16 is still empty). */
const dataLines = (input: Buffer, skip: number) => input.toString('latin1').replace(/^(?:\xef\xbb\xbf|\xfe\xff|\xff\xfe)/, '').split(/\r?\n|\r/).slice(skip).filter((l) => l.trim()).length;

// ---------------------------------------------------------------------------------------------------
// Access logs: one test hospital with planted canaries, so canary records become tripwires

interface AccessCtx {
  h: TestHospital;
  dir: string;
  canaryKeys: string[];
  reportedRunning: Set<number>;
  options: ImportAccessOptions;
}

const ACCESS_FORMATS: Record<AccessFormat, { seeds: string[]; map?: string; timeZone: string; ext: string; structure: 'csv' | 'jsonl' | 'pgaudit' }> = {
  csv: { seeds: ['his-access.csv', 'his-access-bad.csv'], timeZone: 'Asia/Shanghai', ext: 'csv', structure: 'csv' },
  jsonl: { seeds: ['emr-audit.jsonl', 'emr-audit-bad.jsonl'], map: 'ts=event_time,user=operator.id,action=op,record=patient_ids,ip=client_ip,system=app', timeZone: 'America/New_York', ext: 'jsonl', structure: 'jsonl' },
  fhir: { seeds: ['fhir-audit.ndjson', 'fhir-audit-bad.ndjson'], timeZone: 'Asia/Shanghai', ext: 'ndjson', structure: 'jsonl' },
  pgaudit: { seeds: ['postgresql.csv', 'postgresql-bad.csv'], timeZone: 'UTC', ext: 'csv', structure: 'pgaudit' },
  'mariadb-audit': { seeds: ['mariadb-audit.log', 'mariadb-audit-bad.log'], timeZone: 'Asia/Shanghai', ext: 'log', structure: 'csv' },
  'mysql-general': { seeds: ['mariadb-general.log', 'mysql-general.log', 'mariadb-general-bad.log'], timeZone: 'Asia/Shanghai', ext: 'log', structure: 'csv' },
};
/** A general-log entry that is a statement reading rows: it must come out as an event or a reject. */
const GENERAL_STATEMENT = /^(?:\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d{1,9})?(?:Z|[+-]\d{2}:?\d{2})\t|\d{6} [ \d]\d:\d{2}:\d{2}\t|\t\t) *\d+ (?:Query|Execute)\tselect\b/im;

/** Shared by the formats within one run (one hospital: a target DB, a vault, canaries). */
let accessHospital: Promise<{ h: TestHospital; canaryKeys: string[] }> | null = null;
let accessUsers = 0;

async function accessSetup(): Promise<{ h: TestHospital; canaryKeys: string[] }> {
  const h = await createTestHospital({ backend: 'pglite', schema: 'reference', population: 40, trapNumbers: 10 });
  const now = new Date('2026-11-02T00:00:00Z');
  await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 3, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W45', ...birthWindow(now), seed: 'fuzz' });
  const canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
  return { h, canaryKeys: canaries.map((c) => String(c.target_keys!.birth.birth_id)) };
}

function accessTarget(format: AccessFormat): FuzzTarget<AccessCtx> {
  const spec = ACCESS_FORMATS[format];
  return {
    name: `logs-${format}`,
    structure: spec.structure,
    async setup() {
      accessUsers++;
      accessHospital ??= accessSetup();
      const { h, canaryKeys } = await accessHospital;
      const { rows } = await h.vault.query<{ id: number }>(`SELECT id FROM access_imports WHERE state = 'running'`);
      return {
        h,
        canaryKeys,
        dir: scratchDir(`fuzz-logs-${format}`),
        reportedRunning: new Set(rows.map((r) => r.id)),
        options: {
          hospital: h.hospital.name,
          format,
          timeZone: spec.timeZone,
          map: spec.map ? parseMapOption(spec.map) : undefined,
          recordKey: { alias: 'birth', table: 'births', column: 'birth_id' },
          alertChannels: ['email'],
          batchRows: 50,
        },
      };
    },
    seeds(ctx) {
      const seeds = spec.seeds.map((f) => fixture('access', f));
      // The same logs with a canary's record: the line becomes a tripwire, an exposure and an alert.
      return [...seeds, ...seeds.map((s) => Buffer.from(s.toString('utf8').replaceAll('48213', ctx.canaryKeys[0]).replaceAll('48214', ctx.canaryKeys[1])))];
    },
    async run(ctx, input, caseNo) {
      const file = path.join(ctx.dir, `case-${caseNo}.${spec.ext}`);
      fs.writeFileSync(file, input);
      try {
        const r = await importAccessLog(ctx.h.vault, file, ctx.options);
        const accounted = r.added + r.duplicates + r.rejected;
        const text = input.toString('utf8');
        const matters =
          format === 'pgaudit' ? text.includes('AUDIT:')
          : format === 'mariadb-audit' ? /,QUERY,.*',0\r?$/m.test(text)
          : format === 'mysql-general' ? GENERAL_STATEMENT.test(text)
          : dataLines(input, format === 'csv' ? 1 : 0) > 0;
        if (r.alreadyImported || accounted > 0) return r.rejected ? { kind: 'warned', detail: `${r.rejected} rejected` } : { kind: 'stored' };
        if (matters) return { kind: 'silent', detail: `${r.lines} lines read, nothing added or rejected` };
        return { kind: 'stored', detail: 'nothing to import' };
      } finally {
        fs.rmSync(file, { force: true });
      }
    },
    async check(ctx) {
      const { rows } = await ctx.h.vault.query<{ id: number; path: string }>(`SELECT id, path FROM access_imports WHERE state = 'running'`);
      const fresh = rows.filter((r) => !ctx.reportedRunning.has(r.id));
      for (const r of fresh) ctx.reportedRunning.add(r.id);
      return fresh.length ? `import ${fresh.map((r) => r.id).join(', ')} left running` : null;
    },
    async teardown() {
      if (--accessUsers === 0 && accessHospital) {
        const { h } = await accessHospital;
        accessHospital = null;
        await h.close();
      }
    },
  };
}

export const accessTargets = (['csv', 'jsonl', 'fhir', 'pgaudit', 'mariadb-audit', 'mysql-general'] as const).map(accessTarget);

// ---------------------------------------------------------------------------------------------------
// Call records, mail, mbox, events: one trap vault each

function trapTarget(name: string, structure: FuzzTarget['structure'], seeds: () => Buffer[], run: (v: TrapVault, input: Buffer) => Promise<Outcome>, extra: Partial<FuzzTarget<TrapVault>> = {}): FuzzTarget<TrapVault> {
  return {
    name,
    structure,
    seeds,
    setup: () => createTrapVault('pglite', `fuzz-${name}`),
    run: (v, input) => run(v, input),
    teardown: (v) => v.close(),
    ...extra,
  };
}

const cdrRun = (format: CdrFormat, header: number) => async (v: TrapVault, input: Buffer): Promise<Outcome> => {
  const r = await ingestCdr(v.db, Readable.from([input]), format, { label: 'calls.csv', timeZone: 'Asia/Shanghai', region: 'CN' });
  if (r.recorded + r.duplicates > 0) return { kind: 'stored' };
  if (r.skipped + r.rejected > 0) return { kind: 'warned', detail: `${r.skipped} skipped, ${r.rejected} rejected` };
  return dataLines(input, header) > 0 ? { kind: 'silent', detail: `${r.rows} rows, nothing recorded or skipped` } : { kind: 'stored', detail: 'empty' };
};

const trapSeedLines = (csv: Buffer) => Buffer.from(csv.toString('utf8').replace(/13500001111/g, '13812345678'));

export const ingestTargets: FuzzTarget<TrapVault>[] = [
  trapTarget('cdr-asterisk', 'csv', () => [fixture('ingest', 'Master.csv'), fixture('ingest', 'Master-bad.csv')], cdrRun({ format: 'asterisk' }, 0), { userErrors: [CdrRowError] }),
  trapTarget(
    'cdr-csv',
    'csv',
    () => [fixture('ingest', 'pbx-export.csv'), trapSeedLines(fixture('ingest', 'pbx-export.csv'))],
    cdrRun({ format: 'csv', map: { src: 'Caller', dst: 'Called', start: 'Time', id: 'CallId' } }, 1),
    { userErrors: [CdrRowError] },
  ),
  trapTarget('mail', 'mime', () => [fixture('ingest', 'message.eml')], async (v, input) => {
    const r = await ingestMail(v.db, input, { label: 'message.eml' });
    // The CLI: `<file>: no messages found` is its user error.
    if (r.messages === 0) return { kind: 'user-error', message: 'message.eml: no messages found' };
    if (r.recorded + r.duplicates > 0) return { kind: 'stored' };
    return r.skipped + r.rejected > 0 ? { kind: 'warned', detail: `${r.skipped} skipped, ${r.rejected} rejected` } : { kind: 'silent', detail: `${r.messages} messages, nothing recorded or skipped` };
  }),
  trapTarget('mbox', 'mime', () => [fixture('ingest', 'box.mbox')], async (v, input) => {
    const r = await ingestMail(v.db, input, { label: 'box.mbox' });
    if (r.messages === 0) return { kind: 'user-error', message: 'box.mbox: no messages found' };
    if (r.recorded + r.duplicates > 0) return { kind: 'stored' };
    return r.skipped + r.rejected > 0 ? { kind: 'warned', detail: `${r.skipped} skipped, ${r.rejected} rejected` } : { kind: 'silent', detail: `${r.messages} messages, nothing recorded or skipped` };
  }),
  trapTarget(
    'event',
    'json',
    () => [fixture('ingest', 'visit.json'), fixture('ingest', 'visit-bad.json'), Buffer.from(JSON.stringify([JSON.parse(fixture('ingest', 'visit.json').toString()), { kind: 'sms', to: MOTHER_MAILBOX, occurredAt: '2026-11-28T10:00:00Z', body: 'hi', id: 'sms-1' }]))],
    async (v, input) => {
      const r = await ingestEvents(v.db, input.toString('utf8'), { label: 'event.json', region: 'CN' });
      if (r.recorded + r.duplicates === r.events && r.events > 0) return { kind: 'stored' };
      // Events the vault refused are named as rejects (`cradle: warning: rejected: …`).
      return r.rejected > 0 ? { kind: 'warned', detail: `${r.rejected} rejected` } : { kind: 'silent', detail: `${r.events} events, ${r.recorded} recorded` };
    },
    { userErrors: [EventError] },
  ),
  // A Gammu SMSD inbox file (detail: an SMS backup; unicode: FE FF and UTF-16), one new file a case.
  trapTarget(
    'sms-gammu-files',
    'text',
    () => [fixture('gammu', 'detail-multipart.txt'), Buffer.concat([Buffer.from([0xfe, 0xff]), Buffer.from('李娜您好', 'utf16le').swap16(), Buffer.alloc(8)])],
    async (v, input) => {
      const dir = scratchDir('fuzz-gammu');
      try {
        fs.writeFileSync(path.join(dir, 'IN20261207_101559_00_+8613700002222_00.txt'), input);
        const r = await pollGammuFiles(v.db, dir, TRAP_NUMBERS[0], { timeZone: 'Asia/Shanghai', region: 'CN', waitMs: 600_000, now: new Date('2026-12-07T10:20:00Z') });
        if (r.recorded + r.duplicates > 0) return { kind: 'stored' };
        if (r.rejected + r.pending > 0 || r.warnings.length) return { kind: 'warned', detail: `${r.rejected} rejected, ${r.pending} parts waiting` };
        return { kind: 'silent', detail: `${r.items} files, nothing recorded, rejected or waiting` };
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    },
  ),
];

// ---------------------------------------------------------------------------------------------------
// Webhooks: the real server, signed requests, each provider's route

const TOKEN = 'twilio-auth-token-for-fuzz-0001';
const SECRET = 'generic-secret-for-fuzz';
const PUBLIC = 'https://traps.example.org';

interface WatchCtx {
  loc: TestLocation;
  db: Database;
  watch: WatchHandle;
  telnyxKey: crypto.KeyObject;
  /** The server's last audit or error line: why a request got a 5xx. */
  lastLog: string;
}

let watchShared: Promise<WatchCtx> | null = null;
let watchUsers = 0;

async function watchSetup(): Promise<WatchCtx> {
  const pair = crypto.generateKeyPairSync('ed25519');
  const telnyxPublic = pair.publicKey.export({ format: 'der', type: 'spki' }).subarray(-32).toString('base64');
  const loc = await newDatabase('pglite', 'fuzz-watch');
  const db = await openDatabase(loc.location, { role: 'vault', create: true });
  await migrate(db);
  const ctx = { loc, db, telnyxKey: pair.privateKey, lastLog: '' } as WatchCtx;
  ctx.watch = await startWatch(db, {
    port: 0,
    publicUrl: PUBLIC,
    secrets: { twilioAuthToken: TOKEN, telnyxPublicKey: telnyxPublic, webhookSecret: SECRET },
    rateLimit: { perSecond: 1e6, burst: 1e6 },
    log: (line) => (ctx.lastLog = line),
    // Recordings are fetched from a closed local port only: a fuzzed RecordingUrl never reaches out.
    recordings: { origins: ['http://127.0.0.1:9'] },
  });
  return ctx;
}

/** The answer to a signed request: 2xx stored (checked in the vault), 4xx a permanent refusal, 5xx makes the provider retry. */
async function webhookOutcome(ctx: WatchCtx, res: Response): Promise<Outcome> {
  const text = await res.text();
  if (res.status >= 500) return { kind: 'retry-forever', detail: `HTTP ${res.status}: ${ctx.lastLog.replace(/^cradle watch: \d+ POST \S+ from \S+: /, '').slice(0, 200)}` };
  if (res.status >= 400) return { kind: 'refused', detail: `HTTP ${res.status}` };
  if (res.status !== 200) return { kind: 'unexpected', message: `HTTP ${res.status}` };
  if (text.startsWith('{')) {
    const { id } = JSON.parse(text) as { id: number };
    const { rows } = await ctx.db.query(`SELECT 1 FROM contact_events WHERE id = $1`, [id]);
    if (!rows.length) return { kind: 'silent', detail: `HTTP 200 with id ${id}, not in the vault` };
  }
  return { kind: 'stored' };
}

function webhookTarget(name: string, route: string, structure: 'form' | 'json', seeds: Buffer[], request: (ctx: WatchCtx, body: Buffer) => RequestInit): FuzzTarget<WatchCtx> {
  return {
    name,
    structure,
    seeds: () => seeds,
    async setup() {
      watchUsers++;
      watchShared ??= watchSetup();
      return watchShared;
    },
    async run(ctx, input) {
      let res: Response;
      try {
        res = await fetch(ctx.watch.url + route, { method: 'POST', ...request(ctx, input), body: new Uint8Array(input) });
      } catch (err) {
        // The server answers 413 to a body over its limit and hangs up past 16x the limit (documented):
        // the upload then fails mid-way. For a body within the limit it is a finding.
        if (input.length > DEFAULT_BODY_LIMIT) return { kind: 'refused', detail: 'oversized body: connection closed' };
        throw err;
      }
      return webhookOutcome(ctx, res);
    },
    async teardown(ctx) {
      if (--watchUsers === 0) {
        watchShared = null;
        await ctx.watch.close();
        await ctx.db.close();
        await ctx.loc.cleanup();
      }
    },
    budget: { baseMs: 1500 },
  };
}

const form = (params: Record<string, string>) => Buffer.from(new URLSearchParams(params).toString());
const unixNow = () => String(Math.floor(Date.now() / 1000));

function twilioRequest(route: string) {
  return (_ctx: WatchCtx, body: Buffer): RequestInit => {
    const parsed = parseForm(body);
    const signature = twilioSignature(TOKEN, PUBLIC + route, parsed.ok ? parsed.value : []);
    return { headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': signature } };
  };
}

export const webhookTargets: FuzzTarget<WatchCtx>[] = [
  webhookTarget(
    'webhook-twilio-sms',
    '/webhooks/twilio/sms',
    'form',
    [form({ MessageSid: 'SM11111111111111111111111111111111', AccountSid: 'AC1', From: '+8613900001111', To: TRAP_NUMBERS[0], Body: '王丽华您好，宝宝满月写真 50% off', NumMedia: '0' })],
    twilioRequest('/webhooks/twilio/sms'),
  ),
  webhookTarget(
    'webhook-twilio-voice',
    '/webhooks/twilio/voice',
    'form',
    [
      form({ CallSid: 'CA11111111111111111111111111111111', AccountSid: 'AC1', From: '+8613900001111', To: TRAP_NUMBERS[0], CallStatus: 'ringing' }),
      form({ CallSid: 'CA11111111111111111111111111111112', TranscriptionSid: 'TR1', TranscriptionText: '您好，这里是妇幼保健院', From: '+8613900001111', To: TRAP_NUMBERS[0] }),
    ],
    twilioRequest('/webhooks/twilio/voice'),
  ),
  webhookTarget(
    'webhook-twilio-recording',
    '/webhooks/twilio/recording',
    'form',
    [
      form({ AccountSid: 'AC1', CallSid: 'CA21111111111111111111111111111111', From: '+8613900001111', To: TRAP_NUMBERS[0], CallStatus: 'completed', RecordingSid: 'RE1', RecordingUrl: 'http://127.0.0.1:9/2010-04-01/Accounts/AC1/Recordings/RE1', RecordingDuration: '14' }),
      form({ AccountSid: 'AC1', CallSid: 'CA21111111111111111111111111111111', RecordingSid: 'RE1', RecordingUrl: 'http://127.0.0.1:9/2010-04-01/Accounts/AC1/Recordings/RE1', RecordingStatus: 'completed', RecordingDuration: '14', RecordingChannels: '1' }),
      form({ AccountSid: 'AC1', CallSid: 'CA21111111111111111111111111111112', From: '+8613900001111', To: TRAP_NUMBERS[0], RecordingSid: 'RE2', TranscriptionSid: 'TR2', TranscriptionStatus: 'completed', TranscriptionText: '王丽华女士您好' }),
    ],
    twilioRequest('/webhooks/twilio/recording'),
  ),
  webhookTarget(
    'webhook-telnyx',
    '/webhooks/telnyx',
    'json',
    [
      Buffer.from(JSON.stringify({ data: { id: 'evt-1', event_type: 'message.received', occurred_at: '2026-11-28T11:59:58.000+00:00', payload: { from: { phone_number: '+8613900001111' }, to: [{ phone_number: TRAP_NUMBERS[0] }], text: '宝宝写真' } } })),
      Buffer.from(JSON.stringify({ data: { id: 'evt-2', event_type: 'call.initiated', payload: { from: '+8613900001111', to: TRAP_NUMBERS[1] } } })),
      Buffer.from(JSON.stringify({ data: { id: 'evt-3', event_type: 'call.transcription', payload: { from: '+8613900001111', to: TRAP_NUMBERS[1], transcription_data: { transcript: '王女士您好' } } } })),
    ],
    (ctx, body) => {
      const ts = unixNow();
      const signature = crypto.sign(null, Buffer.concat([Buffer.from(`${ts}|`), body]), ctx.telnyxKey).toString('base64');
      return { headers: { 'content-type': 'application/json', 'telnyx-timestamp': ts, 'telnyx-signature-ed25519': signature } };
    },
  ),
  webhookTarget(
    'webhook-generic',
    '/webhooks/generic',
    'json',
    [
      Buffer.from(JSON.stringify({ id: 'g-1', kind: 'sms', from: '+8613900001111', to: TRAP_NUMBERS[0], occurredAt: '2026-11-28T10:00:00+08:00', body: '您好' })),
      Buffer.from(JSON.stringify({ id: 'g-2', kind: 'email', from: 'a@b.example', to: MOTHER_MAILBOX, body: null })),
    ],
    (_ctx, body) => {
      const ts = unixNow();
      return { headers: { 'content-type': 'application/json', 'x-cradle-timestamp': ts, 'x-cradle-signature': genericSignature(SECRET, ts, body) } };
    },
  ),
];

// ---------------------------------------------------------------------------------------------------
// The SMTP listener: a real dialogue with the trap mailbox listener

interface SmtpCtx {
  v: TrapVault;
  smtp: TrapSmtp;
  /** The listener's last refusal reason (a 451's vault error). */
  lastRefusal: string;
}

/** Replies to one SMTP dialogue: each command's final reply line ("250 …"), in order. */
function smtpDialogue(port: number, message: Buffer, timeoutMs: number): Promise<string[]> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1');
    const replies: string[] = [];
    let buffer = '';
    // Dot-stuffing, CRLF line ends and the terminating dot: as a sending MTA would do it.
    const data = Buffer.concat([Buffer.from(message.toString('latin1').replace(/\r?\n/g, '\r\n').replace(/^\./gm, '..'), 'latin1'), Buffer.from('\r\n.\r\n')]);
    const steps: (string | Buffer)[] = ['EHLO fuzz.example\r\n', 'MAIL FROM:<sender@spam.example>\r\n', `RCPT TO:<${MOTHER_MAILBOX}>\r\n`, 'DATA\r\n', data, 'QUIT\r\n'];
    const timer = setTimeout(() => {
      socket.destroy();
      reject(new Error(`SMTP: no reply after ${replies.length} replies`));
    }, timeoutMs);
    const finish = () => {
      clearTimeout(timer);
      resolve(replies);
    };
    socket.on('data', (chunk) => {
      buffer += chunk.toString('latin1');
      for (let nl = buffer.indexOf('\n'); nl >= 0; nl = buffer.indexOf('\n')) {
        const line = buffer.slice(0, nl).replace(/\r$/, '');
        buffer = buffer.slice(nl + 1);
        if (/^\d{3}-/.test(line)) continue; // a continuation of a multi-line reply
        replies.push(line);
        // The banner is reply 0; after each final reply, the next step (stop at a refusal).
        const code = Number(line.slice(0, 3));
        const step = replies.length - 1;
        if (code >= 400 && step < steps.length - 1) {
          socket.end('QUIT\r\n');
          continue;
        }
        if (step < steps.length) socket.write(steps[step]);
      }
    });
    socket.on('error', () => finish());
    socket.on('close', finish);
  });
}

export const smtpTarget: FuzzTarget<SmtpCtx> = {
  name: 'smtp',
  structure: 'mime',
  seeds: () => [fixture('ingest', 'message.eml'), Buffer.from(`From: a@spam.example\nTo: ${MOTHER_MAILBOX}\nSubject: 宝宝写真\nMessage-ID: <m1@spam.example>\nDate: Fri, 27 Nov 2026 09:30:00 +0800\n\n您好\n`)],
  async setup() {
    const v = await createTrapVault('pglite', 'fuzz-smtp');
    const ctx = { v, lastRefusal: '' } as SmtpCtx;
    ctx.smtp = await startTrapSmtp(v.db, { port: 0, maxBytes: 4 * 1024 * 1024, onEvent: (e) => (ctx.lastRefusal = e.type === 'refused' ? e.reason : '') });
    return ctx;
  },
  async run(ctx, input) {
    const replies = await smtpDialogue(ctx.smtp.port, input, 60_000);
    // 0 banner, 1 EHLO, 2 MAIL, 3 RCPT, 4 DATA (354), 5 the message's verdict.
    const verdict = replies[5];
    if (!verdict) return { kind: 'retry-forever', detail: `connection ended before the message's verdict (replies: ${replies.map((r) => r.slice(0, 3)).join(' ')})` };
    const code = Number(verdict.slice(0, 3));
    if (code === 250) return { kind: 'stored' };
    if (code >= 500) return { kind: 'refused', detail: verdict };
    return { kind: 'retry-forever', detail: `SMTP ${verdict.slice(0, 3)}: ${ctx.lastRefusal.slice(0, 200)}` };
  },
  async teardown(ctx) {
    await ctx.smtp.close();
    await ctx.v.close();
  },
};

// ---------------------------------------------------------------------------------------------------
// Scan readers: a vault with the leak scenario's seeded canaries; each case scans the fuzzed file and
// a small good file after it (a bad file must not lose the rest of the run)

interface ScanCtx {
  db: Database;
  loc: TestLocation;
  dir: string;
  good: string;
}

let scanShared: Promise<ScanCtx> | null = null;
let scanUsers = 0;

async function scanSetup(): Promise<ScanCtx> {
  const scenario = JSON.parse(fixture('leaks', 'scenario.json').toString('utf8')) as {
    hospital: { name: string; locale: 'zh-CN' };
    seeded: { batchId: string; channel: string; plantedAt: string; canaries: Parameters<typeof vault.recordBatchIntent>[2] & { id: string }[] };
  };
  const loc = await newDatabase('pglite', 'fuzz-scan');
  const db = await openDatabase(loc.location, { role: 'vault', create: true });
  await migrate(db);
  await vault.ensureHospital(db, scenario.hospital.name, scenario.hospital.locale);
  const s = scenario.seeded;
  await db.transaction(async (tx) => {
    await vault.recordBatchIntent(tx, { id: s.batchId, hospital: scenario.hospital.name, rotationId: null, ward: null, channels: [s.channel] }, s.canaries);
    await vault.markBatchPlanted(tx, s.batchId, new Map(s.canaries.map((c, i) => [c.id, { birth: { birth_id: 9001 + i } }])), new Date(s.plantedAt));
  });
  const dir = scratchDir('fuzz-scan');
  const good = path.join(dir, 'good.csv');
  fs.writeFileSync(good, fixture('leaks', 'vaccine-one-district.csv').subarray(0, 1500));
  return { db, loc, dir, good };
}

function scanTarget(kind: string, ext: string, structure: FuzzTarget['structure'], seeds: () => Buffer[]): FuzzTarget<ScanCtx> {
  return {
    name: `scan-${kind}`,
    structure,
    seeds,
    async setup() {
      scanUsers++;
      scanShared ??= scanSetup();
      return scanShared;
    },
    async run(ctx, input, caseNo) {
      const file = path.join(ctx.dir, `case-${caseNo}.${ext}`);
      fs.writeFileSync(file, input);
      try {
        const r = await runScan(ctx.db, [file, ctx.good], undefined, { threads: 1 });
        const mine = r.files.find((f) => f.file === file);
        const other = r.files.find((f) => f.file === ctx.good);
        if (!mine || !other || other.records === 0) return { kind: 'silent', detail: `the run lost ${!mine ? 'the fuzzed file' : "the other file's records"}` };
        if (mine.warnings.length) return { kind: 'warned', detail: mine.warnings[0].message };
        if (mine.records > 0) return { kind: 'stored' };
        // Nothing read and nothing said: silent, unless there was nothing to read (no text; for CSV and
        // TSV nothing past the header line).
        const lines = input.toString('utf8').split('\n').filter(hasContent).length;
        const nothing = ext !== 'xlsx' && (lines === 0 || ((mine.format === 'csv' || mine.format === 'tsv') && lines === 1 && !/\r(?!\n)/.test(input.toString('latin1'))));
        return nothing ? { kind: 'stored', detail: 'no text' } : { kind: 'silent', detail: `${mine.format} file of ${input.length} bytes: no records, no warning${/\r(?!\n)/.test(input.toString('latin1')) ? ' (CR line ends)' : ''}` };
      } finally {
        fs.rmSync(file, { force: true });
      }
    },
    async teardown(ctx) {
      if (--scanUsers === 0) {
        scanShared = null;
        await ctx.db.close();
        await ctx.loc.cleanup();
      }
    },
  };
}

const leak = (f: string) => fixture('leaks', f);

export const scanTargets: FuzzTarget<ScanCtx>[] = [
  scanTarget('csv', 'csv', 'csv', () => [leak('insurer-renamed-columns.csv').subarray(0, 6000), leak('merged-two-exports.csv'), leak('vaccine-one-district.csv')]),
  scanTarget('tsv', 'tsv', 'csv', () => [leak('birth-office-gbk.tsv').subarray(0, 6000), Buffer.from(leak('vaccine-one-district.csv').toString('utf8').replace(/,/g, '\t'))]),
  scanTarget('json', 'json', 'json', () => [Buffer.from(JSON.stringify(leak('app-vendor-sample.jsonl').toString('utf8').trim().split('\n').map((l) => JSON.parse(l) as unknown), null, 2))]),
  scanTarget('jsonl', 'jsonl', 'jsonl', () => [leak('app-vendor-sample.jsonl')]),
  scanTarget('xlsx', 'xlsx', 'xlsx', () => [leak('hearing-screening.xlsx'), leak('photo-vendor-converted.xlsx'), leak('truncated.xlsx')]),
  scanTarget('text', 'txt', 'text', () => [leak('broker-listing.txt'), leak('junk.bin').subarray(0, 1024)]),
  scanTarget('encodings', 'csv', 'text', () => [leak('utf16-no-bom.csv'), leak('vaccine-mixed-encoding.csv').subarray(0, 6000), leak('birth-office-gbk.tsv').subarray(0, 4000)]),
];

// ---------------------------------------------------------------------------------------------------
// Config and mapping files: parsed as the CLI loads them

interface FileCtx {
  dir: string;
}

export const configTargets: FuzzTarget<FileCtx>[] = [
  {
    name: 'config',
    structure: 'json',
    seeds: () => [
      Buffer.from(JSON.stringify(configTemplate('.cradle/vault', 'postgres://cradle@db.example/hospital'), null, 2)),
      Buffer.from(JSON.stringify({ vault: 'v', hospitals: { a: { target: 't', mapping: 'm.json', wards: ['NICU'], districts: ['d'] } }, watch: { port: 8787, publicUrl: 'https://traps.example.org', rateLimit: { perSecond: 5, burst: 10 } }, alerts: { email: { host: 'smtp.example', port: 25, from: 'a@b.c', to: ['x@y.z'] } } })),
    ],
    setup: async () => ({ dir: scratchDir('fuzz-config') }),
    async run(ctx, input) {
      const file = path.join(ctx.dir, 'cradle.config.json');
      fs.writeFileSync(file, input);
      const config = loadConfig(file);
      selectHospital(config);
      return { kind: 'stored' };
    },
    teardown: async (ctx) => fs.rmSync(ctx.dir, { recursive: true, force: true }),
    budget: { baseMs: 300 },
  },
  {
    name: 'mapping',
    structure: 'json',
    seeds: () => [fixture('mappings', 'reference.json'), fixture('alt-hospital', 'mapping.json')],
    setup: async () => ({ dir: scratchDir('fuzz-mapping') }),
    async run(ctx, input) {
      const file = path.join(ctx.dir, 'mapping.json');
      fs.writeFileSync(file, input);
      loadMapping(file);
      return { kind: 'stored' };
    },
    teardown: async (ctx) => fs.rmSync(ctx.dir, { recursive: true, force: true }),
    budget: { baseMs: 300 },
  },
];

// ---------------------------------------------------------------------------------------------------
// Asterisk's Manager Interface: what a PBX (or whatever answers on its port) sends once `cradle watch`
// has logged in, through the real client over TCP, one connection a case.

interface AmiCtx {
  v: TrapVault;
  server: net.Server;
  port: number;
  /** The bytes the next connection is sent after the login succeeds. */
  next: Buffer;
}

const AMI_SECRET = 'fuzz-ami-secret';
const amiCdr = (dst: string, uniqueid: string, start = '2026-11-24 10:15:02') =>
  `Event: Cdr\r\nPrivilege: cdr,all\r\nAccountCode: \r\nSource: 13700001111\r\nDestination: ${dst}\r\nDestinationContext: from-trunk\r\nCallerID: "Zhang Wei" <13700001111>\r\n` +
  `Channel: SIP/trunk-00000001\r\nDestinationChannel: SIP/201-00000002\r\nLastApplication: Dial\r\nLastData: SIP/201,30\r\nStartTime: ${start}\r\nAnswerTime: \r\nEndTime: ${start}\r\n` +
  `Duration: 69\r\nBillableSeconds: 62\r\nDisposition: ANSWERED\r\nAMAFlags: DOCUMENTATION\r\nUniqueID: ${uniqueid}\r\nUserField: \r\n\r\n`;

export const amiTarget: FuzzTarget<AmiCtx> = {
  name: 'ami',
  structure: 'text',
  seeds: () => [
    Buffer.from(`Event: FullyBooted\r\nPrivilege: system,all\r\nStatus: Fully Booted\r\n\r\n${amiCdr('13912345678', '1764000902.1')}${amiCdr('13511112222', '1764000903.2')}`),
    Buffer.from(`${amiCdr('008613812345678', '1764042000.3', '2026-11-24 21:40:00')}Event: Hangup\r\nChannel: SIP/trunk-00000003\r\nUniqueid: 1764042000.3\r\nCause: 16\r\n\r\n`),
  ],
  async setup() {
    const v = await createTrapVault('pglite', 'fuzz-ami');
    const ctx = { v, next: Buffer.alloc(0) } as AmiCtx;
    ctx.server = net.createServer((sock) => {
      sock.on('error', () => undefined);
      sock.write('Asterisk Call Manager/5.0.1\r\n');
      let seen = '';
      let answered = false;
      sock.on('data', (chunk: Buffer) => {
        seen += chunk.toString('latin1');
        if (answered || !seen.includes('\r\n\r\n')) return;
        answered = true;
        if (!seen.startsWith('Action: Login\r\n') || !seen.includes(`Secret: ${AMI_SECRET}\r\n`)) return void sock.end();
        sock.write('Response: Success\r\nActionID: cradle-login\r\nMessage: Authentication accepted\r\n\r\n');
        // In two writes, split in the middle: a message may arrive in pieces.
        const half = Math.floor(ctx.next.length / 2);
        sock.write(ctx.next.subarray(0, half));
        sock.end(ctx.next.subarray(half));
      });
    });
    await new Promise<void>((r) => ctx.server.listen(0, '127.0.0.1', r));
    ctx.port = (ctx.server.address() as net.AddressInfo).port;
    return ctx;
  },
  async run(ctx, input) {
    ctx.next = input;
    const outcomes: string[] = [];
    const logs: string[] = [];
    let closed!: () => void;
    const ended = new Promise<void>((r) => (closed = r));
    const client = startAmi(ctx.v.db, {
      host: '127.0.0.1', port: ctx.port, username: 'cradle', secret: AMI_SECRET, timeZone: 'Asia/Shanghai', region: 'CN', backoffMs: 3_600_000,
      log: (l) => {
        logs.push(l);
        if (/connection closed|not connected/.test(l)) closed();
      },
      onCall: (c) => outcomes.push(c.outcome),
    });
    await ended;
    await client.close();
    const control = (l: string) => [...l].some((c) => c.charCodeAt(0) < 0x20 || c.charCodeAt(0) === 0x7f);
    const bad = logs.find((l) => /could not store a call/.test(l) || l.length > 4000 || control(l));
    if (bad) return { kind: 'unexpected', message: bad };
    if (outcomes.some((o) => o === 'recorded' || o === 'duplicate')) return { kind: 'stored' };
    const said = logs.filter((l) => /rejected|dropped|unexpected banner|refused/.test(l));
    if (outcomes.length || said.length) return { kind: 'warned', detail: `${outcomes.join(', ')} ${said.length} lines` };
    // The stream is mostly other events, ignored by design; only a Cdr event must come out as something.
    return /(?:^|\n)Event: *Cdr\r?\n/i.test(input.toString('latin1')) ? { kind: 'silent', detail: 'a Cdr event neither recorded, skipped nor rejected' } : { kind: 'stored', detail: 'no Cdr event' };
  },
  teardown: async (ctx) => {
    await new Promise((r) => ctx.server.close(r));
    await ctx.v.close();
  },
  budget: { baseMs: 1500 },
};

export const ALL_TARGETS: FuzzTarget<never>[] = [...accessTargets, ...ingestTargets, ...webhookTargets, smtpTarget, amiTarget, ...scanTargets, ...configTargets] as unknown as FuzzTarget<never>[];
