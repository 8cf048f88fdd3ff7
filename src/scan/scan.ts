import { customAlphabet } from 'nanoid';
import type { Database } from '../db/index.js';
import * as vault from '../vault/index.js';
import { attribute, UNKNOWN_SOURCE } from './attribute.js';
import { cellIndexAt, readRecords, type FileFacts, type ScanRecord, type ScanWarning } from './files.js';
import { CanaryMatcher } from './matcher.js';
import { signatureOf } from './signature.js';

// `cradle scan`: read seized files, find canaries however they were reformatted, record the incident
// with the files' hashes and every match, and say which exports or channels explain what was found.

const incidentId = customAlphabet('0123456789abcdefghjkmnpqrstvwxyz', 10);

/**
 * Matches at or above CONFIDENT (a trap phone or e-mail, or a masked phone confirmed by a name) are
 * evidence of a source and are kept one by one. Weaker ones (names alone, an unconfirmed masked phone)
 * are common by chance in any population, so they are only counted per canary: memory stays bounded
 * by the number of canaries, not the size of the dump.
 */
export const CONFIDENT = 0.85;
export const WEAK = 0.3;
/** Confident matches kept in detail; past this they are counted only. */
export const MAX_KEPT = 100_000;

export type ScanMatch = vault.ScanMatchRecord;

export interface RankedSource {
  source: string;
  kind: string;
  hospital: string | null;
  posterior: number;
  explains: string[];
  unexplained: string[];
  export: { id: string; operator: string | null; file: string | null; sha256: string | null; exportedAt: Date | null } | null;
  /** For two merged leaks: the two sources. */
  parts?: { source: string; kind: string; exportId: string | null; operator: string | null }[];
}

function sourceOf(s: vault.SourceRow): { source: string; kind: string; exportId: string | null; operator: string | null } {
  return { source: s.label, kind: s.export_id ? 'export' : s.kind, exportId: s.export_id, operator: s.operator };
}

export interface ScanResult {
  incidentId: string | null;
  files: (FileFacts & { records: number; warnings: ScanWarning[] })[];
  /** Confident matches, with their place. */
  matches: ScanMatch[];
  /** Canaries found confidently, with how many places. */
  canaries: { id: string; confidence: number; matches: number }[];
  /** Canaries with weak evidence only (names, unconfirmed masked phones): counted, not attributed. */
  weak: { id: string; confidence: number; matches: number }[];
  sources: RankedSource[];
}

function placeOf(r: ScanRecord): string {
  return r.sheet !== undefined ? `sheet ${r.sheet} row ${r.row}` : `line ${r.line}`;
}

function columnOf(r: ScanRecord, offset: number): string | null {
  if (!r.delimiter) return null;
  const index = cellIndexAt(r.text, offset, r.delimiter);
  return r.header?.[index] || `column ${index + 1}`;
}

export async function runScan(vaultDb: Database, files: readonly string[], onProgress?: (file: string, records: number) => void): Promise<ScanResult> {
  const matcher = new CanaryMatcher((await vault.allCanaryFamilies(vaultDb)).map((c) => signatureOf(c.id, c.family)));
  const result: ScanResult = { incidentId: null, files: [], matches: [], canaries: [], weak: [], sources: [] };
  const confident = new Map<string, { confidence: number; matches: number }>();
  const weak = new Map<string, { confidence: number; matches: number }>();
  const tally = (into: typeof weak, id: string, confidence: number) => {
    const b = into.get(id) ?? { confidence: 0, matches: 0 };
    into.set(id, { confidence: Math.max(b.confidence, confidence), matches: b.matches + 1 });
  };
  for (const file of files) {
    const facts: FileFacts = { file, bytes: 0, sha256: '', format: '', encoding: '' };
    const warnings: ScanWarning[] = [];
    let records = 0;
    try {
      for await (const record of readRecords(file, facts, (w) => warnings.push(w))) {
        records++;
        if (records % 50_000 === 0) onProgress?.(file, records);
        for (const m of matcher.matchRecord(record.text)) {
          if (m.confidence < CONFIDENT) {
            if (m.confidence >= WEAK) tally(weak, m.canaryId, m.confidence);
            continue;
          }
          tally(confident, m.canaryId, m.confidence);
          if (result.matches.length >= MAX_KEPT) continue;
          const first = m.hits[0];
          result.matches.push({
            canaryId: m.canaryId,
            file: facts.file,
            place: placeOf(record),
            column: columnOf(record, first.start),
            kinds: [...new Set(m.hits.map((h) => h.kind))],
            matched: m.hits.map((h) => h.matched).join(' / '),
            confidence: m.confidence,
            reason: m.reason,
          });
        }
      }
    } catch (err) {
      // An unreadable file is a warning; the scan goes on with the rest.
      warnings.push({ file, message: `cannot read: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}` });
    }
    result.files.push({ ...facts, records, warnings });
  }

  const ranked = (m: typeof weak) => [...m.entries()].map(([id, b]) => ({ id, ...b })).sort((a, b) => b.confidence - a.confidence || a.id.localeCompare(b.id));
  result.canaries = ranked(confident);
  result.weak = ranked(weak).filter((w) => !confident.has(w.id));
  const found = result.canaries.map((c) => c.id);
  if (found.length) {
    const { sources, seen } = await vault.sourcesOfCanaries(vaultDb, found);
    const explains = new Map<string, Set<string>>();
    for (const s of seen) (explains.get(s.key) ?? explains.set(s.key, new Set()).get(s.key)!).add(s.canary_id);
    const byKey = new Map(sources.map((s) => [s.key, s]));
    const scores = attribute(found, sources.map((s) => ({ key: s.key, size: s.size, explains: explains.get(s.key) ?? new Set() })), await vault.countCanaries(vaultDb));
    result.sources = scores.map((r) => {
      if (r.parts) {
        const [a, b] = r.parts.map((k) => byKey.get(k)!);
        return { source: `${a.label} + ${b.label}`, kind: 'merged', hospital: a.hospital === b.hospital ? a.hospital : null, posterior: r.posterior, explains: r.explains, unexplained: r.unexplained, export: null, parts: r.parts.map((k) => sourceOf(byKey.get(k)!)) };
      }
      const s = byKey.get(r.key);
      return {
        source: s ? s.label : UNKNOWN_SOURCE,
        kind: s ? (s.export_id ? 'export' : s.kind) : 'unknown',
        hospital: s?.hospital ?? null,
        posterior: r.posterior,
        explains: r.explains,
        unexplained: r.unexplained,
        export: s?.export_id ? { id: s.export_id, operator: s.operator, file: s.file_name, sha256: s.sha256, exportedAt: s.exported_at } : null,
      };
    });
  }

  if (result.matches.length) {
    result.incidentId = incidentId();
    const top = result.sources[0];
    const title = `scan of ${files.length} file(s): ${result.canaries.length} canaries found${top ? `, most likely from ${top.source}${top.export ? ` (export ${top.export.id})` : ''}` : ''}`;
    await vaultDb.transaction((tx) =>
      vault.recordScanIncident(
        tx,
        result.incidentId!,
        title,
        { canaries: result.canaries, weak: result.weak.length, sources: result.sources },
        result.files.map((f) => ({ file: f.file, sha256: f.sha256, bytes: f.bytes, format: f.format, encoding: f.encoding, records: f.records, warnings: f.warnings })),
        result.matches,
      ),
    );
  }
  return result;
}
