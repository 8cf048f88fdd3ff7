import fs from 'node:fs';
import type { Command } from 'commander';
import type * as ConfigModule from '../config/index.js';
import type { Config, HospitalConfig } from '../config/index.js';
import { regionOfLocale } from '../domain/index.js';
import { errorMessage, UserError } from '../lib/errors.js';
import type * as Ingest from '../ingest/index.js';
import type * as Settings from '../watch/settings.js';
import type { CdrFormat, IngestSummary } from '../ingest/index.js';
import { cdrMap, checkCdrMap, oneOf, positiveInt, regionArg, timeZoneArg } from './args.js';
import { action, hospitalFilter, namedHospital, onAction, withVault, type GlobalOptions, type JsonOption } from './context.js';
import { inputLabel, readInput } from './input.js';
import { emit, progress, progressDone } from './output.js';
import { openSmsSource, smsToArg, type SmsFormat } from './sms-source.js';

// The actions' modules, loaded when one of these commands runs (src/cli/context.ts).
let defaultHospital: typeof ConfigModule.defaultHospital;
let CdrRowError: typeof Ingest.CdrRowError;
let EventError: typeof Ingest.EventError;
let ingestCdr: typeof Ingest.ingestCdr;
let ingestEvents: typeof Ingest.ingestEvents;
let ingestMail: typeof Ingest.ingestMail;
let ingestRecordingFile: typeof Ingest.ingestRecordingFile;
let resolveCall: typeof Ingest.resolveCall;
let transcriberOf: typeof Settings.transcriberOf;
async function load(): Promise<void> {
  [{ defaultHospital }, { CdrRowError, EventError, ingestCdr, ingestEvents, ingestMail, ingestRecordingFile, resolveCall }, { transcriberOf }] = [
    await import('../config/index.js'),
    await import('../ingest/index.js'),
    await import('../watch/settings.js'),
  ];
}

// `cradle ingest`: contacts that reached the traps while nothing was listening, or through channels
// that cannot call a webhook (the PBX's call records, a mailbox export, a visit at the front desk).

interface CdrOptions extends JsonOption {
  format: 'asterisk' | 'csv';
  map?: Record<string, string>;
  timeZone?: string;
  region?: string;
  verbose?: boolean;
  recordings?: string;
  transcribe: boolean;
}

interface RecordingOptions extends JsonOption {
  call: string;
  transcribe: boolean;
}

interface MailOptions extends JsonOption {
  verbose?: boolean;
}

interface SmsOptions extends JsonOption {
  format: SmsFormat;
  dir?: string;
  source?: string;
  to?: string[];
  table?: string;
  timeZone?: string;
  region?: string;
  partsWait: number;
  follow?: boolean;
  every: number;
}

interface EventOptions {
  /** `--json event.json` names the input file too. */
  json?: string | boolean;
  region?: string;
}

/** The hospital the import is for: --hospital, else the config's default or only one, else none. */
function hospitalOf(opts: GlobalOptions, config: Config | null): HospitalConfig | null {
  return namedHospital(opts, config) ?? defaultHospital(config);
}

function summaryLines(s: IngestSummary, unit: string, total: number, verbose: boolean): string[] {
  const lines = [`${s.file}: ${total} ${unit}; ${s.recorded} recorded, ${s.duplicates} already in the vault, ${s.skipped} skipped, ${s.rejected} rejected`];
  if (s.recorded === 0 && s.duplicates > 0) lines.push('nothing new: every contact in this file was recorded before');
  if (verbose) lines.push(...s.skippedDetail.map((d) => `skipped: ${d}`));
  return lines;
}

/**
 * Rejections and storage warnings on standard error, one `cradle: warning:` line each, whatever the
 * output format; a file of which nothing at all could be read is an error instead.
 */
function reportProblems(s: IngestSummary, unit: string): void {
  // One line each: a value quoted from the file must not start a line of its own or carry escapes.
  const oneLine = (line: string) => line.replace(/\p{Cc}/gu, (c) => `\\x${c.charCodeAt(0).toString(16).padStart(2, '0')}`);
  if (s.rejected > 0 && s.recorded + s.duplicates + s.skipped === 0) {
    throw new UserError([...s.rejectedDetail.slice(0, 5).map(oneLine), `no ${unit.replace(/s$/, '')} of ${s.file} could be read (${s.rejected} rejected); nothing was imported`].join('\n'));
  }
  const lines = [...s.rejectedDetail.map((d) => `rejected: ${d}`), ...s.warnings];
  const more = s.rejected - s.rejectedDetail.length;
  if (more > 0) lines.push(`${more} more ${unit} rejected`);
  for (const line of lines) process.stderr.write(`cradle: warning: ${oneLine(line)}\n`);
}

export function registerIngest(program: Command): void {
  const first = program.commands.length;
  const ingest = program
    .command('ingest')
    .description('import contacts with the traps: call-detail records, saved mail, events noted by hand')
    .addHelpText(
      'after',
      `
Every contact is kept in the vault byte for byte, and importing a file again records nothing new.
A row or message that cannot be read is rejected with a warning naming file:line, and the rest is
recorded; text the vault cannot hold (NUL, oversized ids, dates outside 1000-9999) is stored escaped,
with a warning. See docs/deployment.md ("Contact evidence from hostile senders").

Examples:
  cradle ingest cdr /var/log/asterisk/cdr-csv/Master.csv --format asterisk
  cradle ingest cdr calls.csv --format csv --map src=Caller,dst=Called,start=Time,id=CallId
  cradle ingest mail suspicious.eml
  cradle ingest mail trap-inbox.mbox --json
  cradle ingest event --json front-desk-visit.json
  cradle ingest sms --format gammu-files --dir /var/spool/gammu/inbox --to +8613912345678`,
    );

  ingest
    .command('cdr <file>')
    .description('import call-detail records; only calls to trap numbers are kept')
    .option('--format <format>', 'asterisk (cdr_csv Master.csv, no header) or csv (a header row, with --map)', oneOf('asterisk', 'csv'), 'asterisk')
    .option('--map <fields>', 'for --format csv: field=column pairs: src, dst and start required; id, duration, disposition, recording optional (repeatable)', cdrMap)
    .option('--time-zone <zone>', "zone of times written without an offset (default: the hospital's timeZone; use UTC with Asterisk's usegmtime)", timeZoneArg)
    .option('--region <CC>', 'country of numbers written without +code (default: from the hospital locale, else CN)', regionArg)
    .option('--verbose', 'list the rows skipped as not a trap')
    .option('--recordings <folder>', "MixMonitor's folder: store the recording a row's userfield (or the --map recording column) names, with its call")
    .option('--no-transcribe', "with --recordings: do not run the config's watch.transcribe command")
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Asterisk columns (cdr_csv): accountcode, src, dst, dcontext, clid, channel, dstchannel, lastapp,
lastdata, start, answer, end, duration, billsec, disposition, amaflags[, uniqueid, userfield].
The provider id is uniqueid (or the --map id column), else a hash of the row. A row without dst,
with an unreadable start time or broken CSV quoting is rejected (a warning with file:line); the other
rows are recorded. A file none of whose rows can be read fails with exit 1.

Examples:
  cradle ingest cdr Master.csv
  cradle ingest cdr Master.csv --time-zone UTC            # usegmtime=yes in cdr.conf
  cradle ingest cdr pbx-export.csv --format csv --map src=Caller,dst=Called,start=Time
  cradle ingest cdr Master.csv --recordings /var/spool/asterisk/monitor   # Set(CDR(userfield)=\${MIXMONITOR_FILENAME})`,
    )
    .hook('preAction', (cmd) => {
      // src, dst and start are judged once every --map is read: a bad map is bad usage (exit 2).
      const map = cmd.opts<{ map?: Record<string, string> }>().map;
      if (!map) return;
      try {
        checkCdrMap(map);
      } catch (err) {
        cmd.error(`error: option '--map <fields>' argument is invalid. ${errorMessage(err)}`);
      }
    })
    .action(action<CdrOptions, [string]>(async (opts, file) => {
      if (opts.format === 'csv' && !opts.map) throw new UserError('--format csv needs --map src=<column>,dst=<column>,start=<column>');
      if (opts.format === 'asterisk' && opts.map) throw new UserError('--map is for --format csv; Asterisk files have a fixed column order');
      if (file !== '-' && !fs.existsSync(file)) throw new UserError(`${file}: no such file`);
      if (opts.recordings && !fs.statSync(opts.recordings, { throwIfNoEntry: false })?.isDirectory()) throw new UserError(`--recordings ${opts.recordings}: no such folder`);
      await withVault(opts, async (db, config) => {
        const hospital = hospitalOf(opts, config);
        const timeZone = opts.timeZone ?? hospital?.timeZone;
        if (!timeZone) throw new UserError("call records carry local times: pass --time-zone (e.g. Asia/Shanghai, or UTC), or run with a config naming the hospital's timeZone");
        const region = opts.region ?? regionOfLocale(hospital?.locale ?? 'zh-CN');
        const format: CdrFormat = opts.format === 'csv' ? { format: 'csv', map: checkCdrMap(opts.map!) } : { format: 'asterisk' };
        const label = inputLabel(file);
        const input = file === '-' ? process.stdin : fs.createReadStream(file);
        let result;
        try {
          result = await ingestCdr(db, input, format, {
            label,
            timeZone,
            region,
            hospital: hospitalFilter(opts, config),
            onProgress: (n) => progress(`${label}: ${n.toLocaleString('en')} rows…`),
            recordings: opts.recordings ? { dir: opts.recordings, transcriber: opts.transcribe ? transcriberOf(config?.watch) : undefined } : undefined,
          });
        } catch (err) {
          if (err instanceof CdrRowError) throw new UserError(`${err.message}\nnothing was imported; fix the row and run again`);
          throw err;
        } finally {
          progressDone();
        }
        reportProblems(result, 'rows');
        emit(!!opts.json, result, () => [
          ...summaryLines(result, 'rows', result.rows, !!opts.verbose),
          ...(result.recordings !== undefined ? [`${result.recordings} recordings stored, ${result.transcripts} transcribed`] : []),
        ]);
      });
    }));

  ingest
    .command('recording <file>')
    .description("store a call's recording (an Asterisk MixMonitor file) as evidence, with its transcript")
    .requiredOption('--call <id>', "the call: its contact id, or its provider id (the CDR's uniqueid, Twilio's CallSid)")
    .option('--no-transcribe', "do not run the config's watch.transcribe command")
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
The file's bytes are stored with their sha256, linked to the call; storing the same file again adds
nothing. When the config has watch.transcribe (a speech-to-text command, its standard output the
transcript), the transcript is stored as a further contact event of the call, which triage reads as
it reads an SMS: a name or birth date said in the call counts. A command that fails or times out is a
warning, and no transcript is stored. See docs/deployment.md ("Recording calls").

Examples:
  cradle ingest recording /var/spool/asterisk/monitor/1733571000.42.wav --call 1733571000.42
  cradle ingest recording call.wav --call 118 --json`,
    )
    .action(action<RecordingOptions, [string]>(async (opts, file) => {
      await withVault(opts, async (db, config) => {
        const call = await resolveCall(db, opts.call);
        const result = await ingestRecordingFile(db, file, call, { transcriber: opts.transcribe ? transcriberOf(config?.watch) : undefined });
        for (const w of result.warnings) process.stderr.write(`cradle: warning: ${w.replace(/\p{Cc}/gu, '?')}\n`);
        emit(!!opts.json, result, () => [
          `${file}: ${result.size} bytes, sha256 ${result.sha256}; ${result.duplicate ? 'already in the vault as' : 'stored as'} recording ${result.recordingId} of call ${result.contactId}`,
          ...(result.transcript ? [`transcript: contact ${result.transcript.contactId}${result.transcript.duplicate ? ' (made before)' : ''}`] : []),
        ]);
      });
    }));

  ingest
    .command('mail <file>')
    .description('import a saved message (.eml) or a mailbox (.mbox); only mail to canary mailboxes is kept')
    .option('--verbose', 'list the messages skipped as addressed to no canary mailbox')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
A file starting with a "From " line is an mbox (mboxrd ">From " lines are unescaped); anything
else is one message. A message counts for each canary mailbox among its To, Cc, Delivered-To and
X-Original-To addresses; its Message-ID (else a hash of it) makes a second import a no-op.

Examples:
  cradle ingest mail forwarded.eml
  cradle ingest mail ~/Mail/trap-inbox.mbox --verbose`,
    )
    .action(action<MailOptions, [string]>(async (opts, file) => {
      const data = readInput(file);
      await withVault(opts, async (db, config) => {
        const result = await ingestMail(db, data, { label: inputLabel(file), hospital: hospitalFilter(opts, config) });
        if (result.messages === 0) throw new UserError(`${file}: no messages found`);
        reportProblems(result, 'messages');
        emit(!!opts.json, result, () => summaryLines(result, 'messages', result.messages, !!opts.verbose));
      });
    }));

  ingest
    .command('event [file]')
    .description('record contacts noted by hand (a visit, a letter, a call someone took) from a JSON file')
    .option('--json [file]', 'print JSON; `--json event.json` also names the input file')
    .option('--region <CC>', 'country of phone numbers written without +code (default: from the hospital locale, else CN)', regionArg)
    .addHelpText(
      'after',
      `
The file holds one event or an array of them:
  { "kind": "visit", "to": "+8613912345678", "occurredAt": "2026-11-28T09:30:00+08:00",
    "from": "+8613700001111", "body": "a man asked for the baby's photos at the front desk", "id": "desk-2026-114" }
kind is sms, call, email, visit, letter or other; from, body and id are optional. Give an id to make
a second import of the same file a no-op: events without one are recorded each time.

Examples:
  cradle ingest event --json front-desk-visit.json
  cradle ingest event letters.json
  echo '{"kind":"letter","to":"c-7f3a","occurredAt":"2026-11-27T00:00:00Z"}' | cradle ingest event -`,
    )
    .action(action<EventOptions, [string | undefined]>(async (opts, fileArg) => {
      const file = fileArg ?? (typeof opts.json === 'string' ? opts.json : undefined);
      if (!file) throw new UserError('name the event file: cradle ingest event <file> (or --json <file>)');
      const text = readInput(file).toString('utf8');
      const label = inputLabel(file);
      await withVault(opts, async (db, config) => {
        const hospital = hospitalOf(opts, config);
        let result;
        try {
          result = await ingestEvents(db, text, { label, region: opts.region ?? regionOfLocale(hospital?.locale ?? 'zh-CN') });
        } catch (err) {
          if (err instanceof EventError) throw new UserError(`${err.message}\nnothing was recorded`);
          throw err;
        }
        reportProblems(result, 'events');
        emit(opts.json !== undefined, result, () => summaryLines(result, result.events === 1 ? 'event' : 'events', result.events, false));
      });
    }));
  ingest
    .command('sms')
    .description("import the SMS a SIM received, from Gammu SMSD's inbox (files or SQL backend); --follow keeps polling")
    .requiredOption('--format <format>', 'gammu-files (the InboxPath folder) or gammu-sql (the inbox table)', oneOf('gammu-files', 'gammu-sql'))
    .option('--dir <folder>', "gammu-files: SMSD's InboxPath")
    .option('--source <url>', "gammu-sql: SMSD's database, postgres://user@host:5432/smsd or mysql://user@host:3306/smsd (only read)")
    .option('--to <number>', "the trap number of the SIM (file names and rows carry the sender, not it); for SQL shared by several modems, PhoneID=number (repeatable)", smsToArg)
    .option('--table <name>', 'gammu-sql: the inbox table (default inbox)')
    .option('--time-zone <zone>', "zone of the times SMSD writes without an offset (default: the hospital's timeZone)", timeZoneArg)
    .option('--region <CC>', 'country of sender numbers written without +code (default: from the hospital locale, else CN)', regionArg)
    .option('--parts-wait <seconds>', 'how long a multi-part message waits for a missing part before it is stored without it', positiveInt, 600)
    .option('--follow', 'keep polling the inbox until stopped (Ctrl-C)')
    .option('--every <seconds>', 'with --follow: seconds between polls', positiveInt, 10)
    .option('--json', 'print JSON (with --follow: one line per poll that read something)')
    .addHelpText(
      'after',
      `
Each message becomes an SMS contact to the --to trap number, its parts joined (by their UDH
reference, or for unicode/standard inbox files by the file part numbers), its text decoded (UCS-2,
or GSM 7-bit with the extension table), and its raw bytes kept: the inbox file, or the rows as JSON.
The vault remembers which files or rows it consumed: running again adds nothing. A part whose
message is not whole waits (--parts-wait); a file or row that cannot be read is rejected once, with a
warning. Any InboxFormat is read; detail keeps the most (UDH, SMSC). See docs/deployment.md ("SIM trap numbers with Gammu SMSD").

Examples:
  cradle ingest sms --format gammu-files --dir /var/spool/gammu/inbox --to +8613912345678
  cradle ingest sms --format gammu-sql --source postgres://cradle@smsd-host/smsd --to +8613912345678
  cradle ingest sms --format gammu-sql --source mysql://cradle@127.0.0.1:3306/smsd --to modem1=+8613912345678 --to modem2=+8613812345678 --follow`,
    )
    .action(action<SmsOptions>(async (opts) => {
      await withVault(opts, async (db, config) => {
        const hospital = hospitalOf(opts, config);
        const timeZone = opts.timeZone ?? hospital?.timeZone;
        if (!timeZone) throw new UserError("SMSD writes local times: pass --time-zone (the SMSD machine's zone, e.g. Asia/Shanghai), or run with a config naming the hospital's timeZone");
        const region = opts.region ?? regionOfLocale(hospital?.locale ?? 'zh-CN');
        const source = await openSmsSource(db, { format: opts.format, dir: opts.dir, source: opts.source, to: opts.to ?? [], table: opts.table }, region);
        try {
          // With --follow, a message waiting for a part is said once, not at every poll.
          const said = new Set<string>();
          const poll = async (first: boolean) => {
            const result = await source.poll(db, { timeZone, region, waitMs: opts.partsWait * 1000 });
            for (const line of [...result.rejectedDetail.map((d) => `rejected: ${d}`), ...result.warnings.filter((w) => !said.has(w))]) process.stderr.write(`cradle: warning: ${line.replace(/\p{Cc}/gu, '?')}\n`);
            for (const w of result.warnings) said.add(w);
            if (opts.follow && !first && result.items === 0) return;
            // Followed, one line of JSON per poll (a reader takes each line as it comes).
            if (opts.follow && opts.json) return void process.stdout.write(`${JSON.stringify(result)}\n`);
            emit(!!opts.json, result, () => [
              `${result.file}: ${result.items} new ${opts.format === 'gammu-files' ? 'files' : 'rows'}, ${result.messages} messages; ${result.recorded} recorded, ${result.duplicates} already in the vault, ${result.rejected} rejected${result.pending ? `, ${result.pending} parts waiting for the rest of their message` : ''}`,
            ]);
          };
          await poll(true);
          if (!opts.follow) return;
          let stop = false;
          const stopped = new Promise<void>((resolve) => {
            const end = () => {
              stop = true;
              resolve();
            };
            process.once('SIGINT', end);
            process.once('SIGTERM', end);
          });
          while (!stop) {
            await Promise.race([stopped, new Promise((r) => setTimeout(r, opts.every * 1000).unref())]);
            if (!stop) await poll(false);
          }
        } finally {
          await source.close();
        }
      });
    }));
  onAction(program.commands.slice(first), load);
}
