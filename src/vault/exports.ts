import type { Queryable } from '../db/index.js';
import { sealRows } from './ledger.js';

// The manifest of every export: what was queried, who ran it, the file's hash, and which canaries it holds.

export interface ExportRecord {
  id: string;
  hospital: string;
  channelId: number;
  operator: string | null;
  query: string;
  params: unknown[];
  format: string;
  fileName: string;
  rowCount: number;
  canaryCount: number;
  sha256: string;
  bytes: number;
  createdAt: Date;
}

export async function recordExport(db: Queryable, e: ExportRecord): Promise<void> {
  await db.query(
    `INSERT INTO exports (id, hospital, channel_id, operator, query, params, format, file_name, row_count, canary_count, sha256, bytes, created_at)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13)`,
    [e.id, e.hospital, e.channelId, e.operator, e.query, JSON.stringify(e.params), e.format, e.fileName, e.rowCount, e.canaryCount, e.sha256, e.bytes, e.createdAt.toISOString()],
  );
}

export async function recordExportRows(db: Queryable, exportId: string, rows: readonly { canaryId: string; rowNumber: number }[]): Promise<void> {
  await db.query(
    `INSERT INTO export_rows (export_id, canary_id, row_number) SELECT $1, * FROM unnest($2::text[], $3::int[])`,
    [exportId, rows.map((r) => r.canaryId), rows.map((r) => r.rowNumber)],
  );
  // Where each canary sits in the file is sealed with it (the export entry holds only which canaries).
  await sealRows(db, 'export_rows', rows.map((r) => `${exportId}:${r.canaryId}`));
}

export interface ExportRow {
  id: string;
  hospital: string;
  channel: string;
  operator: string | null;
  query: string;
  params: unknown[];
  format: string;
  file_name: string;
  row_count: number;
  canary_count: number;
  sha256: string;
  bytes: number;
  created_at: Date;
}

const SELECT_EXPORT = `SELECT x.id, x.hospital, ch.kind || ':' || ch.name AS channel, x.operator, x.query, x.params, x.format, x.file_name,
                              x.row_count, x.canary_count, x.sha256, x.bytes, x.created_at
                         FROM exports x JOIN channels ch ON ch.id = x.channel_id`;

export async function listExports(db: Queryable, hospital?: string): Promise<ExportRow[]> {
  const { rows } = await db.query<ExportRow>(`${SELECT_EXPORT} WHERE $1::text IS NULL OR x.hospital = $1 ORDER BY x.created_at, x.id`, [hospital ?? null]);
  return rows;
}

export async function getExport(db: Queryable, id: string): Promise<ExportRow | null> {
  const { rows } = await db.query<ExportRow>(`${SELECT_EXPORT} WHERE x.id = $1`, [id]);
  return rows[0] ?? null;
}

/** The canaries in an export file by row; `shared`: a code pool's canary, in other exports too. */
export async function exportCanaries(db: Queryable, id: string): Promise<{ canary_id: string; row_number: number; mother_name: string; mother_phone: string | null; shared: boolean }[]> {
  const { rows } = await db.query<{ canary_id: string; row_number: number; mother_name: string; mother_phone: string | null; shared: boolean }>(
    `SELECT r.canary_id, r.row_number, c.mother_name, c.mother_phone, c.code_pool_id IS NOT NULL AS shared FROM export_rows r JOIN canaries c ON c.id = r.canary_id
      WHERE r.export_id = $1 ORDER BY r.row_number`,
    [id],
  );
  return rows;
}

/** Every canary that went out in an export file: its own and the seeded ones its query returned. */
export async function canariesInExport(db: Queryable, id: string): Promise<{ id: string; family: import('../domain/index.js').Family; own: boolean }[]> {
  const { rows } = await db.query<{ id: string; family: import('../domain/index.js').Family; own: boolean }>(
    `SELECT DISTINCT c.id, c.family, c.export_id IS NOT DISTINCT FROM $1 AS own FROM exposures e JOIN canaries c ON c.id = e.canary_id
      WHERE e.detail->>'export' = $1 ORDER BY c.id`,
    [id],
  );
  return rows;
}
