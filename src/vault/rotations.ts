import type { Queryable } from '../db/index.js';

export interface RotationRow {
  id: number;
  hospital: string;
  iso_week: string;
  plan: Record<string, number>;
  planned: number;
  planted: number;
  started_at: Date;
  completed_at: Date | null;
}

/** The rotation record for a week, created on first call with the plan; the plan of an existing one is kept. */
export async function openRotation(db: Queryable, hospital: string, week: string, plan: Record<string, number>): Promise<RotationRow> {
  const planned = Object.values(plan).reduce((a, b) => a + b, 0);
  await db.query(
    `INSERT INTO rotations (hospital, iso_week, plan, planned) VALUES ($1, $2, $3, $4) ON CONFLICT (hospital, iso_week) DO NOTHING`,
    [hospital, week, JSON.stringify(plan), planned],
  );
  const { rows } = await db.query<RotationRow>(`SELECT * FROM rotations WHERE hospital = $1 AND iso_week = $2`, [hospital, week]);
  return rows[0];
}

/** Planted canaries per ward for a rotation (what a resumed rotation still owes). */
export async function plantedPerWard(db: Queryable, rotationId: number): Promise<Record<string, number>> {
  const { rows } = await db.query<{ ward: string; n: number }>(
    `SELECT c.ward, count(*)::int AS n FROM canaries c JOIN seed_batches b ON b.id = c.batch_id
      WHERE b.rotation_id = $1 AND c.status IN ('scheduled', 'planted', 'retired') GROUP BY c.ward`,
    [rotationId],
  );
  return Object.fromEntries(rows.map((r) => [r.ward, r.n]));
}

export async function completeRotation(db: Queryable, rotationId: number, planted: number, at: Date): Promise<void> {
  await db.query(`UPDATE rotations SET planted = $2, completed_at = $3 WHERE id = $1`, [rotationId, planted, at.toISOString()]);
}

export async function listRotations(db: Queryable, hospital: string): Promise<RotationRow[]> {
  const { rows } = await db.query<RotationRow>(`SELECT * FROM rotations WHERE hospital = $1 ORDER BY iso_week`, [hospital]);
  return rows;
}
