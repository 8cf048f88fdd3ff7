import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import type { Database } from '../db/index.js';
import { checkOutFile, writeOutFile } from '../lib/out-file.js';
import { CRADLE_TOOL } from '../lib/version.js';
import { bundleFiles, bundleRoot, packBundle, type PackedFile } from '../report/bundle.js';
import type { ReportLang } from '../report/data.js';
import { loadEvidence } from '../report/evidence.js';
import { traceIncident } from '../trace/trace.js';
import * as vault from '../vault/index.js';
import { TRACE_MODEL, writeIncidentReport } from './incident-report.js';

// `cradle evidence export`: the incident's bundle for the police or a regulator. Writes and records
// the incident report (HTML and Markdown), traces the incident for the bundle's data, packs the raw
// contact events, export manifests, reports and ledger slice (src/report/bundle.ts lays it out), and
// records the bundle in the ledger.

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
  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), `cradle-evidence-${head.id.replace(/[^\w-]/g, '_')}-`));
  try {
    // The reports first: each is recorded in the ledger, so the slice read next holds their entries.
    const reports: Record<'html' | 'md', Buffer> = { html: Buffer.alloc(0), md: Buffer.alloc(0) };
    for (const format of ['html', 'md'] as const) {
      const file = path.join(tmp, `report.${format}`);
      await writeIncidentReport(db, head.id, { format, out: file, lang: options.lang, unmasked: options.unmasked, command: options.command });
      reports[format] = fs.readFileSync(file);
    }
    const data = await loadEvidence(db, await traceIncident(db, head.id), {
      model: TRACE_MODEL,
      unmasked: options.unmasked,
      now: options.now ?? new Date(),
      generatedBy: vault.cliActor(),
      command: options.command,
      tool: CRADLE_TOOL,
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
