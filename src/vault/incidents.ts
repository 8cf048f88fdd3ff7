import type { Queryable } from '../db/index.js';
import { exportCodewords } from './codes.js';
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

export interface SourceRow {
  key: string;
  label: string;
  kind: string;
  hospital: string;
  size: number;
  export_id: string | null;
  operator: string | null;
  file_name: string | null;
  sha256: string | null;
  exported_at: Date | null;
  first_exposed: Date;
  /** For an export holding a codeword of a shared code pool: the codeword's canaries (w of them); else null. */
  code: string[] | null;
}

/**
 * Every source that saw any of these canaries, with how many canaries it saw in all: an export file
 * (key export-file:<id>) or any other channel (key channel:<id>).
 */
export async function sourcesOfCanaries(db: Queryable, canaryIds: readonly string[]): Promise<{ sources: SourceRow[]; seen: { key: string; canary_id: string }[] }> {
  const { rows: seen } = await db.query<{ key: string; canary_id: string }>(
    `SELECT DISTINCT CASE WHEN e.detail->>'export' IS NOT NULL THEN 'export-file:' || (e.detail->>'export') ELSE 'channel:' || e.channel_id END AS key, e.canary_id
       FROM exposures e WHERE e.canary_id = ANY($1::text[])`,
    [canaryIds],
  );
  const keys = [...new Set(seen.map((s) => s.key))];
  const { rows: sources } = await db.query<Omit<SourceRow, 'code'>>(
    `WITH keyed AS (
       SELECT CASE WHEN e.detail->>'export' IS NOT NULL THEN 'export-file:' || (e.detail->>'export') ELSE 'channel:' || e.channel_id END AS key,
              e.canary_id, e.channel_id, e.detail->>'export' AS export_id, e.exposed_at
         FROM exposures e)
     SELECT k.key, ch.kind || ':' || ch.name AS label, ch.kind, ch.hospital, count(DISTINCT k.canary_id)::int AS size,
            k.export_id, x.operator, x.file_name, x.sha256, x.created_at AS exported_at, min(k.exposed_at) AS first_exposed
       FROM keyed k JOIN channels ch ON ch.id = k.channel_id LEFT JOIN exports x ON x.id = k.export_id
      WHERE k.key = ANY($1::text[])
      GROUP BY k.key, ch.kind, ch.name, ch.hospital, k.export_id, x.operator, x.file_name, x.sha256, x.created_at`,
    [keys],
  );
  const codewords = await exportCodewords(db, sources.flatMap((s) => (s.export_id ? [s.export_id] : [])));
  return { sources: sources.map((s) => ({ ...s, code: (s.export_id && codewords.get(s.export_id)?.canary_ids) || null })), seen };
}

export async function countCanaries(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM canaries WHERE status <> 'pending'`);
  return rows[0].n;
}
