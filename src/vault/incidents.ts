import type { Queryable } from '../db/index.js';
import { sealRows, sealScan } from './ledger.js';

// Incidents and the evidence of a scan: files read (with their hashes) and canary matches.

export interface ScanFileRecord {
  file: string;
  sha256: string;
  bytes: number;
  format: string;
  encoding: string;
  records: number;
  warnings: unknown[];
}

export interface ScanMatchRecord {
  canaryId: string;
  file: string;
  place: string;
  column: string | null;
  kinds: string[];
  matched: string;
  confidence: number;
  reason: string;
}

/** Record a scan's incident, files and matches, and seal them in the evidence ledger: call in a transaction. */
export async function recordScanIncident(db: Queryable, id: string, title: string, summary: unknown, files: readonly ScanFileRecord[], matches: readonly ScanMatchRecord[], actor?: string): Promise<void> {
  await insertScanIncident(db, id, title, summary, files, matches);
  await sealScan(db, id, { actor });
  await sealRows(db, 'incidents', [id], { actor, incidentId: id });
}

async function insertScanIncident(db: Queryable, id: string, title: string, summary: unknown, files: readonly ScanFileRecord[], matches: readonly ScanMatchRecord[]): Promise<void> {
  await db.query(`INSERT INTO incidents (id, source, title, summary) VALUES ($1, 'scan', $2, $3)`, [id, title, JSON.stringify(summary)]);
  for (const f of files) {
    await db.query(
      `INSERT INTO scan_files (incident_id, file, sha256, bytes, format, encoding, records, warnings) VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
      [id, f.file, f.sha256, f.bytes, f.format, f.encoding, f.records, JSON.stringify(f.warnings)],
    );
  }
  if (matches.length === 0) return;
  await db.query(
    `INSERT INTO scan_matches (incident_id, canary_id, file, place, column_name, kinds, matched, confidence, reason)
     SELECT $1, m.canary_id, m.file, m.place, m.column_name, string_to_array(m.kinds, ','), m.matched, m.confidence, m.reason
       FROM unnest($2::text[], $3::text[], $4::text[], $5::text[], $6::text[], $7::text[], $8::real[], $9::text[])
         AS m(canary_id, file, place, column_name, kinds, matched, confidence, reason)`,
    [
      id,
      matches.map((m) => m.canaryId),
      matches.map((m) => m.file),
      matches.map((m) => m.place),
      matches.map((m) => m.column),
      matches.map((m) => m.kinds.join(',')),
      matches.map((m) => m.matched),
      matches.map((m) => m.confidence),
      matches.map((m) => m.reason),
    ],
  );
}

export interface CanaryExposureRow {
  canary_id: string;
  channel: string;
  kind: string;
  exposed_at: Date;
  export_id: string | null;
  operator: string | null;
  file_name: string | null;
  export_created_at: Date | null;
}

/** Every exposure of these canaries, with the export behind it where there is one. */
export async function exposuresOfCanaries(db: Queryable, canaryIds: readonly string[]): Promise<CanaryExposureRow[]> {
  const { rows } = await db.query<CanaryExposureRow>(
    `SELECT e.canary_id, ch.kind || ':' || ch.name AS channel, ch.kind, e.exposed_at,
            x.id AS export_id, x.operator, x.file_name, x.created_at AS export_created_at
       FROM exposures e
       JOIN channels ch ON ch.id = e.channel_id
       LEFT JOIN exports x ON x.id = e.detail->>'export'
      WHERE e.canary_id = ANY($1::text[])`,
    [canaryIds],
  );
  return rows;
}

/** The families of every canary, for building the scan's matcher. */
export async function allCanaryFamilies(db: Queryable): Promise<{ id: string; family: import('../domain/index.js').Family }[]> {
  const { rows } = await db.query<{ id: string; family: import('../domain/index.js').Family }>(`SELECT id, family FROM canaries WHERE status <> 'pending'`);
  return rows;
}
