import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type { Database } from '../db/index.js';
import { cliActor, recordReport, sha256Hex } from '../vault/index.js';
import { UserError } from '../lib/errors.js';
import { checkOutFile, writeOutFile } from '../lib/out-file.js';
import { commandLine } from '../lib/redact.js';
import { PACKAGE_ROOT } from '../lib/paths.js';
import { REPORT_LANGS, type ReportLang } from '../report/data.js';
import { loadIncidentReport } from '../report/load.js';
import { htmlToPdf } from '../report/pdf.js';
import { renderHtml, renderMarkdown } from '../report/render.js';
import { TRACE_EVIDENCE_DELAY, TRACE_MERGE_PRIOR, TRACE_NOISE, TRACE_UNKNOWN_PRIOR } from '../trace/model.js';
import { oneOf, positiveInt } from './args.js';
import { globals, withVault } from './context.js';

// `cradle report <incident>`: the document at the end of an investigation, for the hospital's
// security committee, the regulator or the police: summary, timeline chart, evidence, ranked
// suspects with reasons, the model's assumptions, chain of custody, recommended actions.

export type Format = 'html' | 'md' | 'json' | 'pdf';
const FORMATS: Format[] = ['html', 'md', 'json', 'pdf'];

export interface WrittenReport {
  file: string;
  bytes: number;
  sha256: string;
  ledgerSeq: number;
}

/**
 * Load an incident's report data and write it in one format (JSON to standard output when `out` is
 * null), recording the file in the ledger. Shared by `cradle report`, `cradle demo` and `cradle evidence export`.
 */
export async function writeIncidentReport(
  db: Database,
  incident: string,
  options: { format: Format; out: string | null; lang: ReportLang; unmasked?: boolean; top?: number; command: string; force?: boolean },
): Promise<WrittenReport | null> {
  // Refused before anything is loaded or recorded: an existing file without force, a directory.
  if (options.out) checkOutFile(options.out, { force: options.force });
  const version = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const data = await loadIncidentReport(db, incident, {
    model: { noise: TRACE_NOISE, unknownPrior: TRACE_UNKNOWN_PRIOR, mergePrior: TRACE_MERGE_PRIOR, evidenceDelayDays: TRACE_EVIDENCE_DELAY / 86_400_000 },
    unmasked: !!options.unmasked,
    top: options.top ?? 10,
    generatedBy: cliActor(),
    command: options.command,
    tool: `cradle ${version}`,
  });
  if (!options.out) {
    process.stdout.write(JSON.stringify(data, null, 2) + '\n');
    return null;
  }
  const out = options.out;
  const { format, lang } = options;
  const text = format === 'json' ? JSON.stringify(data, null, 2) + '\n' : format === 'md' ? renderMarkdown(data, lang) : renderHtml(data, lang);
  const bytes = await writeOutFile(
    out,
    async (file) => {
      file.write(format === 'pdf' ? await htmlToPdf(text) : text);
      return file.readBack();
    },
    { force: options.force },
  );
  const sha256 = sha256Hex(bytes);
  // The report itself goes into the ledger: which file, with what hash, made by whom.
  const entry = await db.transaction((tx) => recordReport(tx, { incident: data.incident.id, format, file: out, sha256, lang }));
  return { file: out, bytes: bytes.length, sha256, ledgerSeq: entry.seq };
}

export function registerReport(program: Command): void {
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
      const ext = o.out ? path.extname(o.out).slice(1).toLowerCase() : '';
      const format: Format = o.format ?? (FORMATS.includes(ext as Format) ? (ext as Format) : ext === 'htm' ? 'html' : ext === 'markdown' ? 'md' : o.out ? 'html' : 'json');
      if (!o.out && format !== 'json') throw new UserError(`--out <file> is needed for --format ${format} (only json can go to standard output)`);
      if (o.out) checkOutFile(o.out, { force: o.force });
      const out = o.out ? path.resolve(o.out) : null;
      await withVault(opts, async (db) => {
        const written = await writeIncidentReport(db, incident, { format, out, force: !!o.force, lang: o.lang, unmasked: !!o.unmasked, top: o.top, command: commandLine(['cradle', ...process.argv.slice(2)]) });
        if (!written) return;
        process.stdout.write(`wrote ${o.out} (${format}, ${o.lang}, ${written.bytes} bytes) sha256 ${written.sha256}; ledger entry #${written.ledgerSeq}\n`);
      });
    });
}
