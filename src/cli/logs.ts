import fs from 'node:fs';
import type { Command } from 'commander';
import type * as Import from '../accesslog/import.js';
import type { ImportAccessResult } from '../accesslog/import.js';
import { DEFAULT_MAX_REJECTS } from '../accesslog/limits.js';
import type * as Fields from '../accesslog/fields.js';
import type * as Summary from '../accesslog/summary.js';
import { ACCESS_FORMATS, type AccessField, type AccessFormat } from '../domain/access.js';
import type * as Alerts from '../alerts/deliver.js';
import type * as ConfigModule from '../config/index.js';
import { UserError } from '../lib/errors.js';
import { checkOutFile, writeOutFile } from '../lib/out-file.js';
import type * as MappingModule from '../targetdb/mapping.js';
import type * as Time from '../lib/time.js';
import type * as Vault from '../vault/index.js';
import { accessMap, actionsArg, encodingArg, oneOf, readBeforeAction, shareArg, timeFormatArg, timeZoneArg } from './args.js';
import { action, onAction, readConfig, withVault, type JsonOption } from './context.js';
import { emit, isoDate, progress, progressDone, table } from './output.js';
import type * as Remove from '../accesslog/remove.js';
import { hospitalFilter, vaultAction } from './context.js';

// The actions' modules, loaded when one of these commands runs (src/cli/context.ts).
let importAccessLog: typeof Import.importAccessLog;
let TooManyRejects: typeof Import.TooManyRejects;
let actionWords: typeof Fields.actionWords;
let rejectsCsv: typeof Summary.rejectsCsv;
let tripwireAccounts: typeof Summary.tripwireAccounts;
let alertChannels: typeof Alerts.alertChannels;
let selectHospital: typeof ConfigModule.selectHospital;
let loadMapping: typeof MappingModule.loadMapping;
let recordKeyColumn: typeof MappingModule.recordKeyColumn;
let parseDuration: typeof Time.parseDuration;
let vault: typeof Vault;
let removalLines: typeof Remove.removalLines;
let removeImport: typeof Remove.removeImport;
async function load(): Promise<void> {
  const [imp, fields, summary, alerts, config, mapping, time, v, remove] = [
    await import('../accesslog/import.js'),
    await import('../accesslog/fields.js'),
    await import('../accesslog/summary.js'),
    await import('../alerts/deliver.js'),
    await import('../config/index.js'),
    await import('../targetdb/mapping.js'),
    await import('../lib/time.js'),
    await import('../vault/index.js'),
    await import('../accesslog/remove.js'),
  ];
  ({ importAccessLog, TooManyRejects } = imp);
  ({ actionWords } = fields);
  ({ rejectsCsv, tripwireAccounts } = summary);
  ({ alertChannels } = alerts);
  ({ selectHospital } = config);
  ({ loadMapping, recordKeyColumn } = mapping);
  ({ parseDuration } = time);
  vault = v;
  ({ removalLines, removeImport } = remove);
}

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
  const first = program.commands.length;
  const logs = program.command('logs').description("the hospital's access logs: who opened which records");
  const importCommand = logs
    .command('import')
    .argument('<file>', 'the log file')
    .description('import an access log (CSV, JSON Lines, FHIR AuditEvent, pgaudit csvlog, MariaDB server_audit, MySQL/MariaDB general query log); accesses to canary records become exposures and tripwires')
    .requiredOption('--format <format>', `log format: ${ACCESS_FORMATS.join(', ')}`, oneOf(...ACCESS_FORMATS))
    .option('--map <pairs>', 'field=column pairs: the CSV columns or JSON keys of the fields ts, user, action, record, ip, system: ts=event_time,user=operator,… (repeatable)', accessMap)
    .option('--time-zone <zone>', "zone of timestamps written without an offset (default: the hospital's timeZone)", timeZoneArg)
    .option('--encoding <name>', 'text encoding of the log: utf-8, gb18030 (gbk), utf-16le, utf-16be… (default: detected)', encodingArg)
    .option('--time-format <pattern>', 'date-fns pattern of the timestamps, e.g. dd/MM/yyyy HH:mm:ss (default: ISO, YYYY/MM/DD, 年月日 and epoch forms detected)')
    .option('--actions <pairs>', "action words and what they mean, over the built-in zh-CN/en words and the hospital's accessActions: 调阅=view,打印=print,列表=list")
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
  cradle logs import /var/lib/mysql/server_audit.log --format mariadb-audit
  cradle logs import /var/lib/mysql/general.log.1 --format mysql-general --time-zone Asia/Shanghai
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
        for (const w of result.warnings) process.stderr.write(`cradle: warning: ${file}: ${w.lines} line(s), the first at line ${w.firstLine}: ${w.message}\n`);
        const rejectFile = result.rejects.length ? (opts.rejects ?? `${file}.rejects.csv`) : null;
        if (rejectFile) await writeOutFile(rejectFile, (out) => out.write(rejectsCsv(result.rejects)), rejectsOptions);
        const { rejects, ...rest } = result;
        emit(!!opts.json, { ...rest, rejectFile, firstRejects: rejects.slice(0, 20) }, () => summary(result, rejectFile));
      });
    }));
  // Read with date-fns, loaded with the action: a bad value is still bad usage (exit 2).
  readBeforeAction(importCommand, 'timeFormat', timeFormatArg);
  readBeforeAction(importCommand, 'actions', actionsArg);
  registerImportObjects(logs);

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
        const lines = wires.map((w) => ({ id: Number(w.id), at: w.at, account: w.account, action: w.action, scope: w.scope, canaryId: w.canary_id, system: w.system, ip: w.ip, file: w.path, line: Number(w.line) }));
        const data = { since: since.toISOString(), accounts, lines };
        emit(!!opts.json, data, () => {
          if (wires.length === 0) return `no account opened a canary record in the last ${opts.since}`;
          const out = [table(['ACCOUNT', 'SINGLE', 'BULK', 'CANARIES', 'FIRST', 'LAST'], accounts.map((a) => [a.account, a.single, a.bulk, a.canaries.length, isoDate(a.first), isoDate(a.last)]))];
          if (opts.account) out.push('', table(['WHEN', 'ACTION', 'SCOPE', 'CANARY', 'SYSTEM', 'IP', 'LOG LINE'], wires.map((w) => [isoDate(w.at), w.action, w.scope, w.canary_id, w.system, w.ip, `${w.path}:${w.line}`])));
          return out;
        });
      });
    }));
  onAction(program.commands.slice(first), load);
}

// `cradle logs list|show|remove`: imports as objects (src/vault/access-imports.ts).

interface RemoveOptions extends JsonOption {
  reason: string;
}

/** An import as `logs list`, `show` and `remove` print it in JSON. */
function importJson(i: Vault.AccessImportSummary) {
  const r = i.removed;
  return {
    id: i.id,
    hospital: i.hospital,
    file: i.path,
    sha256: i.sha256,
    sizeBytes: i.size_bytes,
    format: i.format,
    state: i.state,
    startedAt: i.started_at,
    finishedAt: i.finished_at,
    lines: i.lines_done,
    added: i.added,
    duplicates: i.duplicates,
    rejected: i.rejected,
    tripwires: i.tripwires,
    error: i.error,
    removed: r ? { at: i.removed_at, by: i.removed_by, reason: i.removal_reason, ...removedCountsJson(r) } : null,
  };
}

function removedCountsJson(c: Vault.RemovedCounts) {
  return { events: c.events, blocks: c.blocks, tripwires: c.tripwires, exposures: c.exposures, channels: c.channels, rejects: c.rejects, alertsCancelled: c.alerts_cancelled, alertsKept: c.alerts_kept };
}

function registerImportObjects(logs: Command): void {
  logs
    .command('list')
    .description('list access-log imports, oldest first: file, digest, format, counts, state (removed ones too)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  cradle logs list\n  cradle logs list --json')
    .action(vaultAction<JsonOption>(async ({ opts, db, config }) => {
      const imports = await vault.listAccessImports(db, hospitalFilter(opts, config));
      emit(!!opts.json, { count: imports.length, imports: imports.map(importJson) }, () =>
        imports.length
          ? table(
              ['ID', 'STATE', 'FILE', 'SHA256', 'FORMAT', 'WHEN', 'LINES', 'ADDED', 'DUPLICATES', 'REJECTED', 'TRIPWIRES'],
              imports.map((i) => [i.id, i.state, i.path, `${i.sha256.slice(0, 12)}…`, i.format, isoDate(i.finished_at ?? i.started_at), i.lines_done, i.added, i.duplicates, i.rejected, i.tripwires]),
            )
          : 'no access logs imported yet',
      );
    }));

  logs
    .command('show')
    .argument('<import>', 'the import: its id, or its file when one import (not removed) has it')
    .description('one access-log import: its file and digest, options, counts, what it stored, its alerts, its ledger entries, its removal')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  cradle logs show 3\n  cradle logs show audit-2026-11.csv --json')
    .action(vaultAction<JsonOption, [string]>(async ({ opts, db, config }, ref) => {
      const i = await vault.findAccessImport(db, ref, hospitalFilter(opts, config));
      const d = await vault.accessImportDetail(db, i.id);
      const data = {
        ...importJson(i),
        timeZone: i.time_zone,
        options: i.options,
        stored: { blocks: d.blocks, events: d.events, from: d.from, to: d.to, single: d.single, bulk: d.bulk, accounts: d.accounts, canaries: d.canaries, exposures: d.exposures },
        alerts: d.alerts,
        rejectsKept: d.rejects,
        ledger: d.ledger.map((e) => ({ seq: e.seq, at: e.at, actor: e.actor, hash: e.hash })),
      };
      emit(!!opts.json, data, () => [
        `import ${i.id} of ${i.path} (${i.hospital}): ${i.state}${i.error ? ` (${i.error})` : ''}`,
        `  sha256    ${i.sha256} (${i.size_bytes} bytes)`,
        `  format    ${i.format}; time zone ${i.time_zone}; options ${JSON.stringify(i.options)}`,
        `  when      started ${isoDate(i.started_at)}${i.finished_at ? `, finished ${isoDate(i.finished_at)}` : ''}`,
        `  counts    ${i.lines_done} lines read; ${i.added} events added, ${i.duplicates} already in the vault, ${i.rejected} rejected; ${i.tripwires} tripwire(s)`,
        `  stored    ${d.events} event(s) in ${d.blocks} block(s)${d.from ? ` from ${isoDate(d.from)} to ${isoDate(d.to)}` : ''}; ${d.single} single-record and ${d.bulk} bulk tripwire(s) on ${d.canaries} canary(ies) by ${d.accounts} account(s), ${d.exposures} exposure(s); ${d.rejects} rejected line(s) kept`,
        `  alerts    ${Object.entries(d.alerts).map(([state, n]) => `${n} ${state}`).join(', ') || 'none'}`,
        ...(i.removed
          ? [`  removed   ${isoDate(i.removed_at)} by ${i.removed_by ?? 'unknown'}: ${i.removal_reason}; it took ${i.removed.events} event(s), ${i.removed.tripwires} tripwire(s), ${i.removed.exposures} exposure(s); ${i.removed.alerts_cancelled} alert(s) cancelled`]
          : []),
        `  ledger    ${d.ledger.map((e) => `#${e.seq} (${isoDate(e.at)}, ${e.actor ?? 'unknown'})`).join(', ') || 'no entry (sealed when the import is done)'}`,
      ]);
    }));

  logs
    .command('remove')
    .argument('<import>', 'the import: its id, or its file when one import (not removed) has it')
    .description("take an import back: its events, tripwires and exposures go, alerts not sent yet are cancelled; recorded in the evidence ledger")
    .requiredOption('--reason <text>', 'why, kept with the import and in the ledger')
    .option('--json', 'print JSON')
    .addHelpText('after', `
In one transaction: the import's event blocks, tripwires, the exposures they made, its rejected lines
and account channels left with no exposure are deleted; its tripwire alerts not sent yet are
cancelled (sent ones stay); the import stays in \`logs list\`, marked removed with who, when, why and
the counts; the ledger records every deleted row and the removal. Hits, incidents, traces and
reports already made stay as they are. The same file, or a corrected one, can then be imported again.

Examples:
  cradle logs remove 3 --reason "wrong --map: the op column was mapped as the action"
  cradle logs remove audit-2026-11.csv --reason "imported into the wrong hospital" --json`)
    .action(vaultAction<RemoveOptions, [string]>(async ({ opts, db, config }, ref) => {
      const removed = await removeImport(db, ref, { reason: opts.reason, hospital: hospitalFilter(opts, config) });
      const data = {
        import: importJson(removed.import),
        removed: removedCountsJson(removed.counts),
        stays: { incidents: removed.leaves.incidents, laterImports: removed.leaves.laterDuplicates.map((l) => ({ id: l.id, file: l.path, duplicates: l.duplicates })) },
        ledger: { seq: removed.entry.seq, hash: removed.entry.hash, actor: removed.entry.actor },
      };
      emit(!!opts.json, data, () => removalLines(removed));
    }));
}
