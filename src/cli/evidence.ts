import type { Command } from 'commander';
import { checkOutFile } from '../lib/out-file.js';
import { commandLine } from '../lib/redact.js';
import { REPORT_LANGS, type ReportLang } from '../report/data.js';
import type * as EvidenceExport from '../workflows/evidence-export.js';
import { oneOf } from './args.js';
import { action, onAction, withVault, type JsonOption } from './context.js';
import { emit } from './output.js';

// The action's modules, loaded when the command runs (src/cli/context.ts).
let exportEvidence: typeof EvidenceExport.exportEvidence;
async function load(): Promise<void> {
  ({ exportEvidence } = await import('../workflows/evidence-export.js'));
}

// `cradle evidence export <incident> --out bundle.tar.gz`: everything needed to check an incident's
// evidence without Cradle, in one file for the police or a regulator: the raw contact events, the
// export manifests, the report, the ledger slice, checksums (src/report/bundle.ts lays it out).

interface EvidenceOptions extends JsonOption {
  out: string;
  force?: boolean;
  unmasked?: boolean;
  lang: ReportLang;
}

export function registerEvidence(program: Command): void {
  const first = program.commands.length;
  const evidence = program.command('evidence').description("an incident's evidence, packed to be checked without Cradle");
  evidence
    .command('export')
    .argument('<incident>', 'incident id (cradle incidents lists them)')
    .description('write a tar.gz bundle of the incident: raw contact events, export manifests, the report, the ledger slice, checksums')
    .requiredOption('--out <file>', 'the bundle to write, e.g. bundle.tar.gz (a new file unless --force)')
    .option('--force', 'replace an existing --out file (atomically)')
    .option('--unmasked', "show callers' numbers in full in the JSON files and the reports (the raw events always hold them)")
    .option('--lang <lang>', `language of the report: ${REPORT_LANGS.join(' or ')}`, oneOf(...REPORT_LANGS), 'en')
    .option('--json', 'print JSON')
    .addHelpText('after', `
The bundle is for the police or a regulator: a directory evidence-<incident>/ holding README.txt
(what it is and how to check it), incident.json (incident, canaries, trace), report.html and
report.md, hits.json, events/<id>.raw (each contact as it arrived, byte for byte) with
events/<id>.json, exports/<id>.json (manifests only, never the exported files: they hold real
patients), scan/ for a scan incident, ledger.jsonl (the ledger entries about the incident and its
evidence) with ledger-head.txt, and SHA256SUMS. Callers' numbers are masked to the last four digits
in the JSON and the reports unless --unmasked; the raw events are evidence and stay raw. The reports
and the bundle itself are recorded in the ledger.

Examples:
  cradle evidence export INC-7Q2KX9 --out INC-7Q2KX9.tar.gz
  cradle evidence export INC-7Q2KX9 --out /media/usb/INC-7Q2KX9.tar.gz --unmasked   # for the police
  tar -xzf INC-7Q2KX9.tar.gz && cd evidence-INC-7Q2KX9 && sha256sum -c SHA256SUMS`)
    .action(action<EvidenceOptions, [string]>(async (opts, incident) => {
      const out = checkOutFile(opts.out, { force: opts.force });
      await withVault(opts, async (db) => {
        const res = await exportEvidence(db, incident, { out, force: !!opts.force, unmasked: !!opts.unmasked, lang: opts.lang, command: commandLine(['cradle', ...process.argv.slice(2)]) });
        for (const w of res.warnings) process.stderr.write(`cradle: warning: ${w}\n`);
        emit(!!opts.json, res, () => `wrote ${opts.out} (${res.files.length} files, ${res.bytes} bytes) sha256 ${res.sha256}; ledger entry #${res.ledgerSeq}`);
      });
    }));
  onAction(program.commands.slice(first), load);
}
