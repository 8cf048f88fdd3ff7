import path from 'node:path';
import type { Command } from 'commander';
import { clockNow } from '../lib/clock.js';
import { UserError } from '../lib/errors.js';
import { checkOutFile } from '../lib/out-file.js';
import { commandLine } from '../lib/redact.js';
import { REPORT_LANGS, type ReportLang } from '../report/data.js';
import type * as IncidentReport from '../workflows/incident-report.js';
import { oneOf, positiveInt, reportFormatOf } from './args.js';
import { globals, onAction, withVault } from './context.js';

// The action's modules, loaded when the command runs (src/cli/context.ts).
let writeIncidentReport: typeof IncidentReport.writeIncidentReport;
async function load(): Promise<void> {
  ({ writeIncidentReport } = await import('../workflows/incident-report.js'));
}

// `cradle report <incident>`: the document at the end of an investigation, for the hospital's
// security committee, the regulator or the police: summary, timeline chart, evidence, ranked
// suspects with reasons, the model's assumptions, chain of custody, recommended actions.

export type Format = 'html' | 'md' | 'json' | 'pdf';
const FORMATS: Format[] = ['html', 'md', 'json', 'pdf'];

export function registerReport(program: Command): void {
  const first = program.commands.length;
  program
    .command('report')
    .argument('<incident>', 'incident id (cradle incidents lists them)')
    .description('write the incident report: summary, timeline chart, evidence, ranked suspects, assumptions, chain of custody, recommended actions')
    .option('--format <format>', `html, md, json or pdf (default: from --out's extension, else html)`, oneOf(...FORMATS))
    .option('--out <file>', 'the file to write (a new file unless --force); --format json without it prints to standard output')
    .option('--force', 'replace an existing --out file (atomically)')
    .option('--lang <lang>', `language of the report: ${REPORT_LANGS.join(' or ')}`, oneOf(...REPORT_LANGS), 'en')
    .option('--unmasked', "show callers' numbers in full (masked to the last four digits by default)")
    .option('--top <n>', 'suspects to rank', positiveInt, 10)
    .addHelpText('after', `
The report is written for someone who never ran Cradle: what leaked, the most likely source
and how sure, when; a timeline chart (SVG in the HTML, printed into the PDF); the hits or the
scan's matches with their evidence hashes; the ranked suspects with their reasons; the trace
model's assumptions; the chain of custody (file hashes, ledger entries, the ledger head to anchor
outside Cradle); and what to do next. Canary numbers are shown; callers' numbers are masked
unless --unmasked. Times are UTC. Each report written is recorded in the ledger.
The PDF needs Chromium: Debian's /usr/bin/chromium, or set CRADLE_CHROMIUM.

Examples:
  cradle report INC-7Q2KX9 --out INC-7Q2KX9.html
  cradle report INC-7Q2KX9 --format pdf --out INC-7Q2KX9.pdf --lang zh-CN
  cradle report INC-7Q2KX9 --format md --out INC-7Q2KX9.md --unmasked   # for the police
  cradle report INC-7Q2KX9 --format json | jq '.suspects[0]'`)
    .action(async (incident: string, o: { format?: Format; out?: string; force?: boolean; lang: ReportLang; unmasked?: boolean; top: number }, cmd: Command) => {
      const opts = globals(cmd);
      const now = clockNow();
      const format: Format = o.format ?? reportFormatOf(FORMATS, o.out);
      if (!o.out && format !== 'json') throw new UserError(`--out <file> is needed for --format ${format} (only json can go to standard output)`);
      if (o.out) checkOutFile(o.out, { force: o.force });
      const out = o.out ? path.resolve(o.out) : null;
      await withVault(opts, async (db) => {
        const { data, written } = await writeIncidentReport(db, incident, { format, out, force: !!o.force, lang: o.lang, unmasked: !!o.unmasked, top: o.top, now, command: commandLine(['cradle', ...process.argv.slice(2)]) });
        if (!written) return void process.stdout.write(JSON.stringify(data, null, 2) + '\n');
        process.stdout.write(`wrote ${o.out} (${format}, ${o.lang}, ${written.bytes} bytes) sha256 ${written.sha256}; ledger entry #${written.ledgerSeq}\n`);
      });
    });
  onAction(program.commands.slice(first), load);
}
