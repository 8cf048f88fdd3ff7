import type { Queryable } from '../db/index.js';

// The alert outbox: rows written with their hit, delivered by the alert worker.

export interface OutboxRow {
  id: number;
  hit_id: number | null;
  incident_id: string | null;
  channel: string;
  payload: Record<string, unknown>;
  attempts: number;
  created_at: Date;
}

/** Pending alerts due by `now`, oldest first. */
export async function dueAlerts(db: Queryable, now: Date, limit = 500): Promise<OutboxRow[]> {
  const { rows } = await db.query<OutboxRow>(
    `SELECT id, hit_id, incident_id, channel, payload, attempts, created_at FROM alert_outbox
      WHERE state = 'pending' AND next_attempt_at <= $1 ORDER BY id LIMIT $2`,
    [now.toISOString(), limit],
  );
  return rows;
}

export async function markAlertsSent(db: Queryable, ids: readonly number[], at: Date): Promise<void> {
  await db.query(`UPDATE alert_outbox SET state = 'sent', sent_at = $2, attempts = attempts + 1, last_error = NULL WHERE id = ANY($1::bigint[])`, [ids, at.toISOString()]);
}

/** A failed attempt: retried at `retryAt`, or given up (state failed) when `retryAt` is null. */
export async function markAlertsFailed(db: Queryable, ids: readonly number[], error: string, retryAt: Date | null): Promise<void> {
  await db.query(
    `UPDATE alert_outbox SET attempts = attempts + 1, last_error = $2,
            state = CASE WHEN $3::timestamptz IS NULL THEN 'failed' ELSE 'pending' END,
            next_attempt_at = coalesce($3::timestamptz, next_attempt_at)
      WHERE id = ANY($1::bigint[])`,
    [ids, error.slice(0, 500), retryAt?.toISOString() ?? null],
  );
}

export async function outboxDepth(db: Queryable): Promise<{ pending: number; failed: number }> {
  const { rows } = await db.query<{ pending: number; failed: number }>(
    `SELECT count(*) FILTER (WHERE state = 'pending')::int AS pending, count(*) FILTER (WHERE state = 'failed')::int AS failed FROM alert_outbox`,
  );
  return rows[0];
}
