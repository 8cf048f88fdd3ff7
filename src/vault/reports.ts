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
