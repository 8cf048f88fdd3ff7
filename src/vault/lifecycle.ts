import type { Queryable } from '../db/index.js';
import type { CanaryStatus, Family } from '../domain/index.js';
import { insertCanaries, type BatchIntent, type NewCanary } from './canaries.js';
import { sealRows } from './ledger.js';

// The schedule of canaries' lives in the target (migration 012): one row per canary and event,
// due_at when it is to be written, started_at just before the target write, done_at once recorded.

/** own_discharge: the discharge of a row whose own discharge comes apart from the family's (targetdb apartDischarges). */
export type CanaryEventKind = 'admission' | 'birth' | 'discharge' | 'own_discharge';

export interface ScheduledEvent {
  canaryId: string;
  kind: CanaryEventKind;
  dueAt: Date;
  /** The moment the row records, when it is written later than it happens (a discharge recorded after the patient left). */
  occursAt?: Date;
}

export async function addCanaryEvents(db: Queryable, events: readonly ScheduledEvent[]): Promise<void> {
  if (events.length === 0) return;
  await db.query(
    `INSERT INTO canary_events (canary_id, kind, due_at, occurs_at) SELECT * FROM unnest($1::text[], $2::text[], $3::timestamptz[], $4::timestamptz[])`,
    [events.map((e) => e.canaryId), events.map((e) => e.kind), events.map((e) => e.dueAt.toISOString()), events.map((e) => e.occursAt?.toISOString() ?? null)],
  );
}

/** Record a batch whose canaries are written into the target later, event by event: state and status "scheduled". */
export async function recordBatchSchedule(db: Queryable, batch: BatchIntent, canaries: readonly NewCanary[], events: readonly ScheduledEvent[]): Promise<void> {
  await db.query(
    `INSERT INTO seed_batches (id, hospital, rotation_id, ward, channels, state, requested) VALUES ($1, $2, $3, $4, $5, 'scheduled', $6)`,
    [batch.id, batch.hospital, batch.rotationId, batch.ward, JSON.stringify(batch.channels), canaries.length],
  );
  await insertCanaries(db, { hospital: batch.hospital, batchId: batch.id, exportId: null, status: 'scheduled', at: null }, canaries);
  await addCanaryEvents(db, events);
}

export interface DueEvent {
  canary_id: string;
  kind: CanaryEventKind;
  due_at: Date;
  /** When it can be written: its due time, or later that of an earlier event of its canary it depends on. */
  ready_at: Date;
  /** The moment the row records; null: due_at. */
  occurs_at: Date | null;
  started_at: Date | null;
  status: CanaryStatus;
  ward: string;
  family: Family;
  target_keys: Record<string, Record<string, unknown>> | null;
  batch_id: string | null;
  channels: string[] | null;
}

/**
 * Events of the hospital ready by `until` and not done, in the order they are to be written; canaries
 * still at batch intent wait. An event is ready when it is due and so are the canary's admission and
 * birth still to write before it (the rows it references or updates): a mother recorded hours after she
 * was admitted can be due after her baby's birth, and the birth then waits for her row (`ready_at`).
 */
export async function dueEvents(db: Queryable, hospital: string, until: Date, limit = 100_000): Promise<DueEvent[]> {
  const { rows } = await db.query<DueEvent>(
    `SELECT e.canary_id, e.kind, e.due_at, e.occurs_at, e.started_at, c.status, c.ward, c.family, c.target_keys, c.batch_id, b.channels,
            greatest(e.due_at, w.after) AS ready_at
       FROM canary_events e JOIN canaries c ON c.id = e.canary_id LEFT JOIN seed_batches b ON b.id = c.batch_id
       LEFT JOIN LATERAL (
         SELECT max(p.due_at) AS after FROM canary_events p
          WHERE p.canary_id = e.canary_id AND p.done_at IS NULL AND p.kind IN ('admission', 'birth')
            AND array_position(ARRAY['admission', 'birth', 'discharge', 'own_discharge'], p.kind) < array_position(ARRAY['admission', 'birth', 'discharge', 'own_discharge'], e.kind)
       ) w ON true
      WHERE c.hospital = $1 AND e.done_at IS NULL AND greatest(e.due_at, w.after) <= $2 AND c.status <> 'pending'
      ORDER BY greatest(e.due_at, w.after), array_position(ARRAY['admission', 'birth', 'discharge', 'own_discharge'], e.kind), e.canary_id
      LIMIT $3`,
    [hospital, until.toISOString(), limit],
  );
  return rows;
}

/** The next events still to come after `after`: how many, and the first one's due time. */
export async function upcomingEvents(db: Queryable, hospital: string, after: Date): Promise<{ count: number; next: Date | null }> {
  const { rows } = await db.query<{ count: number; next: Date | null }>(
    `SELECT count(*)::int AS count, min(e.due_at) AS next FROM canary_events e JOIN canaries c ON c.id = e.canary_id
      WHERE c.hospital = $1 AND e.done_at IS NULL AND e.due_at > $2`,
    [hospital, after.toISOString()],
  );
  return rows[0];
}

/**
 * Claim an event before writing it to the target: started_at becomes the vault's clock, unless the
 * event is done or another run claimed it less than `leaseMs` ago. `previous` is an earlier, expired
 * claim: a run that died, perhaps after its target commit, so the target must be looked at first.
 */
export async function claimEvent(db: Queryable, canaryId: string, kind: CanaryEventKind, leaseMs: number): Promise<{ claimed: boolean; previous: Date | null }> {
  const { rows } = await db.query<{ previous: Date | null }>(
    `WITH old AS (SELECT canary_id, kind, started_at FROM canary_events WHERE canary_id = $1 AND kind = $2 FOR UPDATE)
     UPDATE canary_events e SET started_at = clock_timestamp() FROM old
      WHERE e.canary_id = old.canary_id AND e.kind = old.kind AND e.done_at IS NULL
        AND (old.started_at IS NULL OR old.started_at <= clock_timestamp() - make_interval(secs => $3::double precision / 1000))
      RETURNING old.started_at AS previous`,
    [canaryId, kind, leaseMs],
  );
  return rows.length ? { claimed: true, previous: rows[0].previous } : { claimed: false, previous: null };
}

/**
 * Record an event written in the target: done, the canary's keys, its discharge; a canary's first
 * write plants it (returns true then: its exposures start now). Its batch is planted when none of its
 * canaries waits any more.
 */
export async function markEventDone(
  db: Queryable,
  e: { canaryId: string; kind: CanaryEventKind; at: Date; keys: Record<string, Record<string, unknown>>; wroteRows: boolean; dischargedAt?: string },
): Promise<boolean> {
  await db.query(`UPDATE canary_events SET done_at = $3 WHERE canary_id = $1 AND kind = $2`, [e.canaryId, e.kind, e.at.toISOString()]);
  const { rows: before } = await db.query<{ status: CanaryStatus }>(`SELECT status FROM canaries WHERE id = $1 FOR UPDATE`, [e.canaryId]);
  const plantsNow = before[0]?.status === 'scheduled' && e.wroteRows;
  const { rows } = await db.query<{ batch_id: string | null }>(
    `UPDATE canaries SET target_keys = $2,
            family = CASE WHEN $5::text IS NULL THEN family ELSE jsonb_set(family, '{dischargedAt}', to_jsonb($5::text)) END,
            planted_at = CASE WHEN status = 'scheduled' AND $4 THEN $3::timestamptz ELSE planted_at END,
            status = CASE WHEN status = 'scheduled' AND $4 THEN 'planted' ELSE status END
      WHERE id = $1
      RETURNING batch_id`,
    [e.canaryId, JSON.stringify(e.keys), e.at.toISOString(), plantsNow, e.dischargedAt ?? null],
  );
  await sealRows(db, 'canaries', [e.canaryId]);
  const batch = rows[0]?.batch_id;
  if (batch) {
    await db.query(
      `UPDATE seed_batches SET state = 'planted', finished_at = $2
        WHERE id = $1 AND state = 'scheduled' AND NOT EXISTS (SELECT 1 FROM canaries WHERE batch_id = $1 AND status = 'scheduled')`,
      [batch, e.at.toISOString()],
    );
  }
  return plantsNow;
}
