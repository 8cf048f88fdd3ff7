import type { Queryable } from '../db/index.js';
import type { Family } from '../domain/index.js';
import { sealRows } from './ledger.js';

// Code pools: canaries shared by exports, each export holding a distinct codeword of its pool's
// canaries (sql/vault/004_codes.sql, docs/codes.md).

export interface CodePoolRecord {
  id: string;
  hospital: string;
  weight: number;
  field: number;
  degree: number;
  length: number;
  createdAt: Date;
}

export async function createCodePool(db: Queryable, pool: CodePoolRecord): Promise<void> {
  await db.query(
    `INSERT INTO code_pools (id, hospital, construction, weight, field, degree, length, created_at) VALUES ($1, $2, 'reed-solomon', $3, $4, $5, $6, $7)`,
    [pool.id, pool.hospital, pool.weight, pool.field, pool.degree, pool.length, pool.createdAt.toISOString()],
  );
  await sealRows(db, 'code_pools', [pool.id]);
}

export interface CodePoolView extends Omit<CodePoolRecord, 'createdAt'> {
  created_at: Date;
  /** Codewords given out so far. */
  used: number[];
  /** The pool's canaries by position (0..L-1). */
  canaries: { id: string; position: number; family: Family }[];
}

/** A hospital's code pools, newest first, with their canaries and the codewords already given out. */
export async function codePools(db: Queryable, hospital: string): Promise<CodePoolView[]> {
  const { rows: pools } = await db.query<Omit<CodePoolView, 'used' | 'canaries'>>(
    `SELECT id, hospital, weight, field, degree, length, created_at FROM code_pools WHERE hospital = $1 ORDER BY created_at DESC, id`,
    [hospital],
  );
  if (pools.length === 0) return [];
  const ids = pools.map((p) => p.id);
  const { rows: used } = await db.query<{ pool_id: string; codeword: number }>(`SELECT pool_id, codeword FROM export_codewords WHERE pool_id = ANY($1::text[])`, [ids]);
  const { rows: canaries } = await db.query<{ id: string; pool_id: string; position: number; family: Family }>(
    `SELECT id, code_pool_id AS pool_id, code_position AS position, family FROM canaries WHERE code_pool_id = ANY($1::text[]) ORDER BY code_position`,
    [ids],
  );
  return pools.map((p) => ({
    ...p,
    used: used.filter((u) => u.pool_id === p.id).map((u) => u.codeword),
    canaries: canaries.filter((c) => c.pool_id === p.id).map(({ id, position, family }) => ({ id, position, family })),
  }));
}

export async function recordCodeword(db: Queryable, c: { exportId: string; poolId: string; codeword: number; positions: readonly number[] }): Promise<void> {
  await db.query(`INSERT INTO export_codewords (export_id, pool_id, codeword, positions) VALUES ($1, $2, $3, $4::int[])`, [c.exportId, c.poolId, c.codeword, c.positions]);
  await sealRows(db, 'export_codewords', [c.exportId]);
}

export interface ExportCodeword {
  pool_id: string;
  codeword: number;
  positions: number[];
  weight: number;
  length: number;
  canary_ids: string[];
}

/** The codeword an export holds, or null for an export with canaries of its own only. */
export async function exportCodeword(db: Queryable, exportId: string): Promise<ExportCodeword | null> {
  return (await exportCodewords(db, [exportId])).get(exportId) ?? null;
}

/** The codewords of these exports (those that have one), with their canaries' ids in position order. */
export async function exportCodewords(db: Queryable, exportIds: readonly string[]): Promise<Map<string, ExportCodeword>> {
  if (exportIds.length === 0) return new Map();
  const { rows } = await db.query<ExportCodeword & { export_id: string }>(
    `SELECT x.export_id, x.pool_id, x.codeword, x.positions, p.weight, p.length,
            array(SELECT c.id FROM canaries c WHERE c.code_pool_id = x.pool_id AND c.code_position = ANY(x.positions) ORDER BY c.code_position) AS canary_ids
       FROM export_codewords x JOIN code_pools p ON p.id = x.pool_id
      WHERE x.export_id = ANY($1::text[])`,
    [exportIds],
  );
  return new Map(rows.map(({ export_id, ...c }) => [export_id, c]));
}
