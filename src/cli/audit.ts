import path from 'node:path';
import { InvalidArgumentError, type Command } from 'commander';
import { clockNow } from '../lib/clock.js';
import { UserError } from '../lib/errors.js';
import { checkOutFile } from '../lib/out-file.js';
import { commandLine } from '../lib/redact.js';
import { parseDay } from '../report/day.js';
import { REPORT_LANGS, type ReportLang } from '../report/data.js';
import type { Config } from '../config/index.js';
import type { Database } from '../db/index.js';
import type * as AuditReport from '../workflows/audit-report.js';
import type { AuditReportOptions } from '../workflows/audit-report.js';
import { oneOf, reportFormatOf } from './args.js';
import { globals, onAction, withHospital, withVault } from './context.js';

// The action's modules, loaded when the command runs (src/cli/context.ts).
let writeAuditReport: typeof AuditReport.writeAuditReport;
async function load(): Promise<void> {
  ({ writeAuditReport } = await import('../workflows/audit-report.js'));
}

// `cradle audit --from --to`: the program-level report for auditors: rotations done and missed per
// week, canaries live per ward and per export recipient, trap-pool health, hits and incidents,
// tripwires, and the ledger's verification. Written like `cradle report`, and recorded in the ledger.

type AuditFormat = 'html' | 'md' | 'json';
const FORMATS: AuditFormat[] = ['html', 'md', 'json'];

function dayArg(value: string): string {
  try {
    parseDay(value, '');
  } catch {
    throw new InvalidArgumentError('expected a date written yyyy-mm-dd, like 2026-10-01');
  }
  return value.trim();
}

export function registerAudit(program: Command): void {
  const first = program.commands.length;
  program
    .command('audit')
    .description('write the audit report for a period: rotations done and missed, canaries live, trap-pool health, hits and incidents, tripwires, ledger verification')
    .requiredOption('--from <date>', 'first day of the period, yyyy-mm-dd (in the hospital time zone)', dayArg)
    .option('--to <date>', 'last day of the period, yyyy-mm-dd (default: today in the hospital time zone)', dayArg)
    .option('--format <format>', `html, md or json (default: from --out's extension, else html)`, oneOf(...FORMATS))
    .option('--out <file>', 'the file to write (a new file unless --force); --format json without it prints to standard output')
    .option('--force', 'replace an existing --out file (atomically)')
    .option('--lang <lang>', `language of the report: ${REPORT_LANGS.join(' or ')}`, oneOf(...REPORT_LANGS), 'en')
    .option('--realism', "add the realism audit (as `cradle realism`, with a dry-run sample of 100): reads the hospital's target, read-only; needs the config")
    .addHelpText('after', `
The audit is the program-level view for the hospital's auditors and security committee, over the
calendar days --from to --to (both included, days in the hospital's time zone; --to defaults to
today there): every ISO week of the period that has started, with its rotation done, started but
not completed, or missed (the current week is "due"; weeks before the hospital's first rotation are
not missed); the seeded canaries live at the end of the period per ward, and the export canaries
per recipient; the trap pool by state, how many weeks of rotations its numbers cover (a warning under 4 weeks) and its
burn-in noise (contacts numbers got before any canary held them, the noisiest listed; the carriers'
bills and notices, watch.knownSenders and network messages left out); the hits and
incidents with their status; the tripwires (single-record opens of canaries in imported access
logs) and, apart, the lists that included canaries; and the ledger verified as
\`cradle verify\` does. The hospital is --hospital, or the config's default. The HTML is one
self-contained file. Each report written is recorded in the ledger.

Examples:
  cradle audit --from 2026-10-01 --to 2026-12-31 --out q4.html
  cradle audit --from 2026-10-01 --to 2026-12-31 --out q4.md --lang zh-CN --hospital main
  cradle audit --from 2026-10-01 --to 2026-12-31 --format json | jq '.rotations.missed'
  cradle audit --from 2026-10-01 --to 2026-12-31 --out q4.html --realism`)
    .action(async (o: { from: string; to?: string; format?: AuditFormat; out?: string; force?: boolean; lang: ReportLang; realism?: boolean }, cmd: Command) => {
      const opts = globals(cmd);
      const now = clockNow();
      const format: AuditFormat = o.format ?? reportFormatOf(FORMATS, o.out);
      if (!o.out && format !== 'json') throw new UserError(`--out <file> is needed for --format ${format} (only json can go to standard output)`);
      if (o.to && o.from > o.to) throw new UserError(`--from ${o.from} is after --to ${o.to}`);
      if (o.out) checkOutFile(o.out, { force: o.force });
      const out = o.out ? path.resolve(o.out) : null;
      const write = async (db: Database, config: Config | null, realism?: AuditReportOptions['realism']) => {
        const { data, written } = await writeAuditReport(db, config, { hospital: opts.hospital, from: o.from, to: o.to, now, format, out, force: !!o.force, lang: o.lang, command: commandLine(['cradle', ...process.argv.slice(2)]), realism });
        if (data.pool.segments?.warning) process.stderr.write(`cradle: warning: ${data.pool.segments.warning}\n`);
        if (!written) return void process.stdout.write(JSON.stringify(data, null, 2) + '\n');
        process.stdout.write(`wrote ${o.out} (${format}, ${o.lang}, ${written.bytes} bytes) sha256 ${written.sha256}; ledger entry #${written.ledgerSeq}\n`);
        if (data.realism?.warning) process.stderr.write(`cradle: WARNING: canaries are separable from real rows: ROC AUC ${data.realism.auc?.toFixed(3)}, above ${data.realism.warnAbove} (see the report's realism section)\n`);
      };
      if (o.realism) await withHospital(opts, ({ vault, config, hospital, mapping, target }) => write(vault, config, { target, hospital, mapping }));
      else await withVault(opts, (db, config) => write(db, config));
    });
  onAction(program.commands.slice(first), load);
}
