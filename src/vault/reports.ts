import type { Queryable } from '../db/index.js';
import type { ScanFileRecord, ScanMatchRecord } from './incidents.js';

// What `cradle report` reads besides the trace: a scan incident's evidence (the files read, with
// their hashes, and every match) and the access-log files behind an account's log lines.

export async function scanEvidence(db: Queryable, incidentId: string): Promise<{ files: ScanFileRecord[]; matches: ScanMatchRecord[] }> {
  const { rows: files } = await db.query<ScanFileRecord>(
    `SELECT file, sha256, bytes::float8 AS bytes, format, encoding, records::float8 AS records, warnings FROM scan_files WHERE incident_id = $1 ORDER BY file`,
    [incidentId],
  );
  const { rows: matches } = await db.query<ScanMatchRecord>(
    `SELECT canary_id AS "canaryId", file, place, column_name AS "column", kinds, matched, confidence, reason
       FROM scan_matches WHERE incident_id = $1 ORDER BY file, id`,
    [incidentId],
  );
  return { files: files.map((f) => ({ ...f, bytes: Number(f.bytes), records: Number(f.records) })), matches };
}

export interface AccessImportFile {
  id: number;
  path: string;
  sha256: string;
  size_bytes: number;
  started_at: Date;
}

/** The imports of these access-log files (by the path they were imported from), removed ones left out. */
export async function accessImportsByPath(db: Queryable, paths: readonly string[]): Promise<AccessImportFile[]> {
  if (paths.length === 0) return [];
  const { rows } = await db.query<AccessImportFile>(
    `SELECT id::int AS id, path, sha256, size_bytes::float8 AS size_bytes, started_at FROM access_imports WHERE path = ANY($1::text[]) AND state <> 'removed' ORDER BY started_at, id`,
    [paths],
  );
  return rows.map((r) => ({ ...r, size_bytes: Number(r.size_bytes) }));
}

/** Where a canary exists: planted in the target (seeded), or only in export files (an export's own, or a shared code pool's). */
export interface CanaryOriginRow {
  canary_id: string;
  origin: 'seeded' | 'export' | 'code';
  /** The export files an export-only canary was written into (none for a seeded one), oldest first. */
  exports: { id: string; file: string; recipient: string; at: Date }[];
}

/** The origin of these canaries, and for the export-only ones the export files that hold them. */
export async function canaryOrigins(db: Queryable, canaryIds: readonly string[]): Promise<CanaryOriginRow[]> {
  if (canaryIds.length === 0) return [];
  const { rows } = await db.query<{ canary_id: string; origin: CanaryOriginRow['origin']; export_id: string | null; file_name: string | null; recipient: string | null; created_at: Date | null }>(
    `SELECT c.id AS canary_id, CASE WHEN c.batch_id IS NOT NULL THEN 'seeded' WHEN c.export_id IS NOT NULL THEN 'export' ELSE 'code' END AS origin,
            x.id AS export_id, x.file_name, ch.name AS recipient, x.created_at
       FROM canaries c
       LEFT JOIN export_rows r ON c.batch_id IS NULL AND r.canary_id = c.id
       LEFT JOIN exports x ON x.id = r.export_id
       LEFT JOIN channels ch ON ch.id = x.channel_id
      WHERE c.id = ANY($1::text[])
      ORDER BY c.id, x.created_at, x.id`,
    [canaryIds],
  );
  const out = new Map<string, CanaryOriginRow>();
  for (const r of rows) {
    const o = out.get(r.canary_id) ?? { canary_id: r.canary_id, origin: r.origin, exports: [] };
    if (r.export_id) o.exports.push({ id: r.export_id, file: r.file_name!, recipient: r.recipient!, at: r.created_at! });
    out.set(r.canary_id, o);
  }
  return [...out.values()];
}
