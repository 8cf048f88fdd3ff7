import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Command } from 'commander';
import type { Database } from '../db/index.js';
import { checkOutFile, writeOutFile } from '../lib/out-file.js';
import { commandLine } from '../lib/redact.js';
import { PACKAGE_ROOT } from '../lib/paths.js';
import { bundleFiles, bundleRoot, packBundle, type PackedFile } from '../report/bundle.js';
import { REPORT_LANGS, type ReportLang } from '../report/data.js';
import { loadEvidence } from '../report/evidence.js';
import { TRACE_EVIDENCE_DELAY, TRACE_MERGE_PRIOR, TRACE_NOISE, TRACE_UNKNOWN_PRIOR } from '../trace/model.js';
import * as vault from '../vault/index.js';
import { oneOf } from './args.js';
import { action, withVault, type JsonOption } from './context.js';
import { emit } from './output.js';
import { writeIncidentReport } from './report.js';

// `cradle evidence export <incident> --out bundle.tar.gz`: everything needed to check an incident's
// evidence without Cradle, in one file for the police or a regulator: the raw contact events, the
// export manifests, the report, the ledger slice, checksums (src/report/bundle.ts lays it out).

export interface EvidenceExportResult {
  file: string;
  bytes: number;
  sha256: string;
  files: PackedFile[];
  ledgerSeq: number;
  warnings: string[];
}

export async function exportEvidence(db: Database, incident: string, options: { out: string; unmasked: boolean; lang: ReportLang; command: string; now?: Date; force?: boolean }): Promise<EvidenceExportResult> {
  // Refused before the reports inside are written and recorded.
  checkOutFile(options.out, { force: options.force });
  const head = await vault.incidentHead(db, incident);
  const version = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `cradle-evidence-${head.id.replace(/[^\w-]/g, '_')}-`));
  try {
    // The reports first: each is recorded in the ledger, so the slice read next holds their entries.
    const reports: Record<'html' | 'md', Buffer> = { html: Buffer.alloc(0), md: Buffer.alloc(0) };
    for (const format of ['html', 'md'] as const) {
      const file = path.join(tmp, `report.${format}`);
      await writeIncidentReport(db, head.id, { format, out: file, lang: options.lang, unmasked: options.unmasked, command: options.command });
      reports[format] = fs.readFileSync(file);
    }
    const data = await loadEvidence(db, head.id, {
      model: { noise: TRACE_NOISE, unknownPrior: TRACE_UNKNOWN_PRIOR, mergePrior: TRACE_MERGE_PRIOR, evidenceDelayDays: TRACE_EVIDENCE_DELAY / 86_400_000 },
      unmasked: options.unmasked,
      now: options.now ?? new Date(),
      generatedBy: vault.cliActor(),
      command: options.command,
      tool: `cradle ${version}`,
    });
    const warnings: string[] = [];
    const stored = new Map(data.contacts.map((c) => [c.id, c.sha256]));
    const raw = async (id: number): Promise<Buffer> => {
      const bytes = await vault.contactRaw(db, id);
      if (!bytes) throw new Error(`contact ${id} disappeared while the bundle was written`);
      if (vault.sha256Hex(bytes) !== stored.get(id)) warnings.push(`contact ${id}: its raw bytes do not match their stored sha256 (packed as they are; cradle verify)`);
      return bytes;
    };

    let packed: PackedFile[] = [];
    const hash = createHash('sha256');
    let bytes = 0;
    await writeOutFile(options.out, async (file) => {
      const { stream, done } = packBundle(bundleFiles(data, reports, raw), { root: bundleRoot(head.id), mtime: new Date(data.generatedAt) });
      const tap = new Transform({
        transform(chunk: Buffer, _enc, cb) {
          hash.update(chunk);
          bytes += chunk.length;
          cb(null, chunk);
        },
      });
      await pipeline(stream, tap, file.stream());
      packed = (await done).files;
    }, { force: options.force });
    const sha256 = hash.digest('hex');
    // Handing the bundle over is a step taken with the evidence: recorded after the head it states.
    const entry = await db.transaction((tx) =>
      vault.appendLedger(tx, {
        kind: 'evidence',
        ref: head.id,
        incidentId: head.id,
        actor: vault.cliActor(),
        content: {
          action: 'export',
          incident: head.id,
          file: options.out,
          sha256,
          bytes,
          unmasked: options.unmasked,
          ledger_head: data.head ? { seq: data.head.seq, hash: data.head.hash } : null,
          files: packed.map((f) => ({ path: f.path, sha256: f.sha256, bytes: f.bytes })),
        },
      }),
    );
    return { file: options.out, bytes, sha256, files: packed, ledgerSeq: Number(entry.seq), warnings };
  } finally {
    fs.rmSync(tmp, { recursive: true, force: true });
  }
}

interface EvidenceOptions extends JsonOption {
  out: string;
  force?: boolean;
  unmasked?: boolean;
  lang: ReportLang;
}

export function registerEvidence(program: Command): void {
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
}
