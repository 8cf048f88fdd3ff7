import fs from 'node:fs';
import type { Command } from 'commander';
import { DEFAULT_MAX_REJECTS, importAccessLog, TooManyRejects, type ImportAccessResult } from '../accesslog/import.js';
import { actionWords } from '../accesslog/parse.js';
import { rejectsCsv, tripwireAccounts } from '../accesslog/summary.js';
import { ACCESS_FORMATS, type AccessField, type AccessFormat } from '../domain/access.js';
import { alertChannels } from '../alerts/deliver.js';
import { selectHospital } from '../config/index.js';
import { UserError } from '../lib/errors.js';
import { checkOutFile, writeOutFile } from '../lib/out-file.js';
import { loadMapping, recordKeyColumn } from '../targetdb/mapping.js';
import { parseDuration } from '../lib/time.js';
import * as vault from '../vault/index.js';
import { accessMap, actionsArg, encodingArg, oneOf, shareArg, timeFormatArg, timeZoneArg } from './args.js';
import { action, readConfig, withVault, type JsonOption } from './context.js';
import { emit, isoDate, progress, progressDone, table } from './output.js';

// `cradle logs import` and `cradle tripwires`: the hospital's audit trail, read for who opened canary
// records. Nobody has a reason to open a family that does not exist.

interface ImportOptions extends JsonOption {
  format: AccessFormat;
  map?: Partial<Record<AccessField, string>>;
  timeZone?: string;
  encoding?: string;
  timeFormat?: string;
  actions?: Record<string, string>;
  maxRejects?: number;
  rejects?: string;
}

interface TripwiresOptions extends JsonOption {
  since: string;
  account?: string;
}

function summary(r: ImportAccessResult, rejectFile: string | null): string[] {
  if (r.alreadyImported) return [`${r.file}: imported before with these options (${r.added} events, ${r.rejected} rejected); nothing added`];
  const lines = [
    `${r.file}: ${r.lines} lines read; ${r.added} events added, ${r.duplicates} already in the vault, ${r.rejected} rejected`,
    `${r.tripwires} access(es) to canary records; ${r.alerts} tripwire alert(s) queued`,
  ];
  if (r.resumedFrom > 0) lines.unshift(`resuming an interrupted import after line ${r.resumedFrom}`);
  if (rejectFile) lines.push(`rejected lines with their reasons: ${rejectFile}`);
  return lines;
}

export function registerLogs(program: Command): void {
  const logs = program.command('logs').description("the hospital's access logs: who opened which records");
  logs
    .command('import')
    .argument('<file>', 'the log file')
    .description('import an access log (CSV, JSON Lines, FHIR AuditEvent, pgaudit csvlog); accesses to canary records become exposures and tripwires')
    .requiredOption('--format <format>', `log format: ${ACCESS_FORMATS.join(', ')}`, oneOf(...ACCESS_FORMATS))
    .option('--map <pairs>', 'CSV columns or JSON keys for the fields ts, user, action, record, ip, system: ts=event_time,user=operator,…', accessMap)
    .option('--time-zone <zone>', "zone of timestamps written without an offset (default: the hospital's timeZone)", timeZoneArg)
    .option('--encoding <name>', 'text encoding of the log: utf-8, gb18030 (gbk), utf-16le, utf-16be… (default: detected)', encodingArg)
    .option('--time-format <pattern>', 'date-fns pattern of the timestamps, e.g. dd/MM/yyyy HH:mm:ss (default: ISO, YYYY/MM/DD, 年月日 and epoch forms detected)', timeFormatArg)
    .option('--actions <pairs>', "action words and what they mean, over the built-in zh-CN/en words and the hospital's accessActions: 调阅=view,打印=print,列表=list", actionsArg)
    .option('--max-rejects <share>', `stop, exiting 1, when more than this share of lines is rejected (0..1; default ${DEFAULT_MAX_REJECTS.share} once ${DEFAULT_MAX_REJECTS.minLines} lines were read)`, shareArg)
    .option('--rejects <file>', 'where to write the lines that could not be read (default: <file>.rejects.csv; replaced by each import)')
    .option('--json', 'print JSON')
    .addHelpText('after', `
Importing is idempotent: a file (or an overlapping one) adds no event twice, and an interrupted
import resumes where it stopped. Rows link to canaries through the mapping's recordKey; an action
on one canary record (view, print, export) queues a tripwire alert, a list that merely includes one
is an exposure of the canary to the account without an alert. See docs/access-logs.md.

Examples:
  cradle logs import audit-2026-11.csv --format csv --map ts=event_time,user=operator,action=op,record=patient_id,ip=client_ip,system=app
  cradle logs import audit.jsonl --format jsonl
  cradle logs import auditevents.ndjson --format fhir
  cradle logs import postgresql.csv --format pgaudit --time-zone UTC
  cradle logs import his-audit.csv --format csv --map ts=操作时间,user=工号,action=操作,record=病历号 --actions 调阅=view,批量导出=list`)
    .action(action<ImportOptions, [string]>(async (opts, file) => {
      if (!fs.existsSync(file) || !fs.statSync(file).isFile()) throw new UserError(`cannot read ${file}: no such file`);
      // The rejects file is Cradle's own output beside the log: each import replaces it (never
      // writing through a link planted there); checked first so a directory there fails before importing.
      const rejectsOptions = { force: true, flag: '--rejects' };
      checkOutFile(opts.rejects ?? `${file}.rejects.csv`, rejectsOptions);
      const config = readConfig(opts);
      const hospital = selectHospital(config, opts.hospital);
      // The hospital's words, then --actions, over the built-in ones; a word meaning no action is refused here.
      const actions = { ...hospital.accessActions, ...opts.actions };
      actionWords({ source: `${config.file}: hospitals.${hospital.name}.accessActions`, words: hospital.accessActions ?? {} });
      const recordKey = recordKeyColumn(loadMapping(hospital.mappingFile));
      if (!recordKey) process.stderr.write(`cradle: warning: the mapping has no recordKey, so no log line can be linked to a canary (add "recordKey": "alias.column")\n`);
      await withVault(opts, async (db) => {
        const result = await importAccessLog(db, file, {
          hospital: hospital.name,
          format: opts.format,
          timeZone: opts.timeZone ?? hospital.timeZone,
          map: opts.map,
          encoding: opts.encoding,
          timeFormat: opts.timeFormat,
          actions,
          maxRejects: opts.maxRejects === undefined ? DEFAULT_MAX_REJECTS : { share: opts.maxRejects, minLines: 0 },
          onEncoding: (encoding, detected) => {
            if (encoding !== 'utf-8') process.stderr.write(`cradle: warning: ${file}: read as ${encoding.toUpperCase()} (${detected ? 'detected; give --encoding if that is wrong' : 'as --encoding says'})\n`);
          },
          recordKey,
          alertChannels: alertChannels(config.alerts),
          onProgress: (p) => progress(`${file}: ${p.lines.toLocaleString('en')} lines`, p.bytes / Math.max(p.size, 1)),
        }).catch(async (err: unknown) => {
          // Stopped past --max-rejects: the rejected lines of the batch it did not commit go to the rejects file too.
          if (!(err instanceof TooManyRejects)) throw err;
          progressDone();
          const rejectFile = opts.rejects ?? `${file}.rejects.csv`;
          await writeOutFile(rejectFile, (out) => out.write(rejectsCsv(err.rejects)), rejectsOptions);
          throw new UserError(`${err.message}; rejected lines with their reasons: ${rejectFile}`);
        });
        progressDone();
        const rejectFile = result.rejects.length ? (opts.rejects ?? `${file}.rejects.csv`) : null;
        if (rejectFile) await writeOutFile(rejectFile, (out) => out.write(rejectsCsv(result.rejects)), rejectsOptions);
        const { rejects, ...rest } = result;
        emit(!!opts.json, { ...rest, rejectFile, firstRejects: rejects.slice(0, 20) }, () => summary(result, rejectFile));
      });
    }));

  program
    .command('tripwires')
    .description('accounts that opened canary records, from the imported access logs')
    .option('--since <duration>', 'only accesses in this last stretch of time, e.g. 30d, 12h', '30d')
    .option('--account <id>', 'one account only, with every line')
    .option('--json', 'print JSON')
    .addHelpText('after', `
A single-record action on a canary (view, print, export) is a tripwire: the family does not exist,
so nobody has a reason to open it. A list that merely included one is shown as "bulk".

Examples:
  cradle tripwires --since 30d
  cradle tripwires --account nurse042
  cradle tripwires --json | jq '.accounts[] | select(.single > 0)'`)
    .action(action<TripwiresOptions>(async (opts) => {
      const since = new Date(Date.now() - parseDuration(opts.since));
      await withVault(opts, async (db, config) => {
        const hospital = opts.hospital && config ? selectHospital(config, opts.hospital).name : undefined;
        const wires = await vault.listTripwires(db, { hospital, since, account: opts.account });
        const accounts = tripwireAccounts(wires);
        const data = { since: since.toISOString(), accounts, lines: wires };
        emit(!!opts.json, data, () => {
          if (wires.length === 0) return `no account opened a canary record in the last ${opts.since}`;
          const out = [table(['ACCOUNT', 'SINGLE', 'BULK', 'CANARIES', 'FIRST', 'LAST'], accounts.map((a) => [a.account, a.single, a.bulk, a.canaries.length, isoDate(a.first), isoDate(a.last)]))];
          if (opts.account) out.push('', table(['WHEN', 'ACTION', 'SCOPE', 'CANARY', 'SYSTEM', 'IP', 'LOG LINE'], wires.map((w) => [isoDate(w.at), w.action, w.scope, w.canary_id, w.system, w.ip, `${w.path}:${w.line}`])));
          return out;
        });
      });
    }));
}
