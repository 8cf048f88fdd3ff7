import type { Queryable } from '../db/index.js';
import type { CanaryStatus, Family } from '../domain/index.js';
import { sealRows } from './ledger.js';

// Canary bookkeeping: the batch intent, the canaries, their state. Only the vault holds any of this.

export interface CanaryRow {
  id: string;
  hospital: string;
  batch_id: string | null;
  export_id: string | null;
  /** Set for a canary of a shared code pool (with code_position). */
  code_pool_id?: string | null;
  code_position?: number | null;
  status: CanaryStatus;
  iso_week: string;
  ward: string;
  family: Family;
  mother_name: string;
  father_name: string | null;
  mother_phone: string | null;
  father_phone: string | null;
  email: string | null;
  target_keys: Record<string, Record<string, unknown>> | null;
  created_at: Date;
  planted_at: Date | null;
  retired_at: Date | null;
}

export interface NewCanary {
  id: string;
  family: Family;
  isoWeek: string;
  /** Its position in the code pool, for a canary of one (origin.codePoolId). */
  codePosition?: number;
}

export interface BatchIntent {
  id: string;
  hospital: string;
  rotationId: number | null;
  ward: string | null;
  channels: string[];
}

/** Record what is about to be written to the target, before it is. */
export async function recordBatchIntent(db: Queryable, batch: BatchIntent, canaries: readonly NewCanary[]): Promise<void> {
  await db.query(
    `INSERT INTO seed_batches (id, hospital, rotation_id, ward, channels, state, requested) VALUES ($1, $2, $3, $4, $5, 'intent', $6)`,
    [batch.id, batch.hospital, batch.rotationId, batch.ward, JSON.stringify(batch.channels), canaries.length],
  );
  await insertCanaries(db, { hospital: batch.hospital, batchId: batch.id, exportId: null, status: 'pending', at: null }, canaries);
}

export interface CanaryOrigin {
  hospital: string;
  batchId: string | null;
  exportId: string | null;
  status: CanaryStatus;
  /** planted_at, for canaries that are in place as they are recorded (an export's). */
  at: Date | null;
  /** A shared code pool, instead of a batch or an export. */
  codePoolId?: string | null;
}

export async function insertCanaries(db: Queryable, origin: CanaryOrigin, canaries: readonly NewCanary[]): Promise<void> {
  await db.query(
    `INSERT INTO canaries (id, hospital, batch_id, export_id, status, planted_at, iso_week, ward, family, mother_name, father_name, mother_phone, father_phone, email, code_pool_id, code_position)
     SELECT c.id, $1, $2, $3, $4, $5, c.week, c.ward, c.family, c.mother_name, c.father_name, c.mother_phone, c.father_phone, c.email, $15::text, c.code_position
       FROM unnest($6::text[], $7::text[], $8::text[], $9::jsonb[], $10::text[], $11::text[], $12::text[], $13::text[], $14::text[], $16::int[])
         AS c(id, week, ward, family, mother_name, father_name, mother_phone, father_phone, email, code_position)`,
    [
      origin.hospital,
      origin.batchId,
      origin.exportId,
      origin.status,
      origin.at?.toISOString() ?? null,
      canaries.map((c) => c.id),
      canaries.map((c) => c.isoWeek),
      canaries.map((c) => c.family.ward),
      canaries.map((c) => JSON.stringify(c.family)),
      canaries.map((c) => c.family.mother.name.full),
      canaries.map((c) => c.family.father?.name.full ?? null),
      canaries.map((c) => c.family.mother.phone),
      canaries.map((c) => c.family.father?.phone ?? null),
      canaries.map((c) => c.family.mother.email ?? c.family.father?.email ?? null),
      origin.codePoolId ?? null,
      canaries.map((c) => c.codePosition ?? null),
    ],
  );
  // In place as they are recorded (an export's, a code pool's): sealed now; pending ones when planted.
  if (origin.status !== 'pending') await sealRows(db, 'canaries', canaries.map((c) => c.id));
}

export async function markBatchPlanted(db: Queryable, batchId: string, keys: ReadonlyMap<string, unknown>, at: Date): Promise<void> {
  const ids = [...keys.keys()];
  await db.query(
    `UPDATE canaries c SET status = 'planted', planted_at = $3, target_keys = k.keys
       FROM unnest($1::text[], $2::jsonb[]) AS k(id, keys) WHERE c.id = k.id`,
    [ids, ids.map((id) => JSON.stringify(keys.get(id))), at.toISOString()],
  );
  await sealRows(db, 'canaries', ids);
  await db.query(`UPDATE seed_batches SET state = 'planted', finished_at = $2 WHERE id = $1`, [batchId, at.toISOString()]);
}

/** Forget a batch that never reached the target: its canaries go, the batch stays as a failed record. */
export async function discardBatch(db: Queryable, batchId: string, error: string, at: Date): Promise<void> {
  await db.query(`DELETE FROM canaries WHERE batch_id = $1`, [batchId]);
  await db.query(`UPDATE seed_batches SET state = 'failed', error = $2, finished_at = $3 WHERE id = $1`, [batchId, error, at.toISOString()]);
}

export async function openBatches(db: Queryable, hospital: string): Promise<{ id: string; rotation_id: number | null; channels: string[]; created_at: Date }[]> {
  const { rows } = await db.query<{ id: string; rotation_id: number | null; channels: string[]; created_at: Date }>(
    `SELECT id, rotation_id, channels, created_at FROM seed_batches WHERE hospital = $1 AND state = 'intent' ORDER BY created_at`,
    [hospital],
  );
  return rows;
}

export async function canariesOfBatch(db: Queryable, batchId: string): Promise<CanaryRow[]> {
  const { rows } = await db.query<CanaryRow>(`SELECT * FROM canaries WHERE batch_id = $1 ORDER BY id`, [batchId]);
  return rows;
}

export interface CanaryFilter {
  hospital?: string;
  week?: string;
  status?: CanaryStatus;
  limit?: number;
}

export async function listCanaries(db: Queryable, filter: CanaryFilter = {}): Promise<CanaryRow[]> {
  const { rows } = await db.query<CanaryRow>(
    `SELECT * FROM canaries
      WHERE ($1::text IS NULL OR hospital = $1) AND ($2::text IS NULL OR iso_week = $2) AND ($3::text IS NULL OR status = $3)
      ORDER BY created_at, id
      LIMIT $4`,
    [filter.hospital ?? null, filter.week ?? null, filter.status ?? null, filter.limit ?? 1_000_000],
  );
  return rows;
}

export async function getCanary(db: Queryable, id: string): Promise<CanaryRow | null> {
  const { rows } = await db.query<CanaryRow>(`SELECT * FROM canaries WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

/** Every parent name any canary in the vault uses (tests and reports; generation protects only earlierHolderNames). */
export async function canaryParentNames(db: Queryable): Promise<string[]> {
  const { rows } = await db.query<{ name: string }>(
    `SELECT mother_name AS name FROM canaries UNION SELECT father_name FROM canaries WHERE father_name IS NOT NULL`,
  );
  return rows.map((r) => r.name);
}

/** Canaries of a hospital's seed batches that are (or were) rows of the target, per ward. */
export async function plantedCanariesPerWard(db: Queryable, hospital: string): Promise<Record<string, number>> {
  const { rows } = await db.query<{ ward: string; n: number }>(
    `SELECT ward, count(*)::int AS n FROM canaries WHERE hospital = $1 AND batch_id IS NOT NULL AND status IN ('planted', 'retired') GROUP BY ward`,
    [hospital],
  );
  return Object.fromEntries(rows.map((r) => [r.ward, r.n]));
}

/** The target keys of this hospital's planted canaries that held each of these trap numbers (their rows stay in the target). */
export async function plantedKeysOfNumbers(db: Queryable, hospital: string, numberIds: readonly number[]): Promise<Map<number, Record<string, Record<string, unknown>>[]>> {
  const out = new Map<number, Record<string, Record<string, unknown>>[]>();
  if (numberIds.length === 0) return out;
  const { rows } = await db.query<{ id: string; keys: Record<string, Record<string, unknown>> }>(
    `SELECT a.trap_number_id AS id, c.target_keys AS keys
       FROM trap_assignments a JOIN canaries c ON c.id = a.canary_id
      WHERE c.hospital = $1 AND c.batch_id IS NOT NULL AND c.target_keys IS NOT NULL AND a.trap_number_id = ANY($2::bigint[])`,
    [hospital, numberIds],
  );
  for (const r of rows) out.set(Number(r.id), [...(out.get(Number(r.id)) ?? []), r.keys]);
  return out;
}

export interface HeldName {
  canaryId: string;
  full: string;
  latin: string;
  /** The holder's baby's birth time (ISO), for keeping birth dates apart on a shared number. */
  birthTime: string | null;
}

/**
 * The parent names of every canary that ever held each of these trap numbers (any hospital, any
 * status), with its baby's birth time: triage tells a number's holders apart by the names a contact
 * gives, else its birth date (src/triage), so a new holder's name must stay clear of them (and, on a
 * shared number, its baby's birth date). Uses the trap_assignments (trap_number_id, …) index.
 */
export async function earlierHolderNames(db: Queryable, numberIds: readonly number[]): Promise<Map<number, HeldName[]>> {
  const out = new Map<number, HeldName[]>();
  if (numberIds.length === 0) return out;
  const { rows } = await db.query<{ id: string; canary_id: string; full: string; latin: string | null; birth_time: string | null }>(
    `SELECT a.trap_number_id AS id, a.canary_id, p.name->>'full' AS full, p.name->>'latin' AS latin, c.family->'baby'->>'birthTime' AS birth_time
       FROM trap_assignments a JOIN canaries c ON c.id = a.canary_id
       CROSS JOIN LATERAL (VALUES (c.family->'mother'->'name'), (c.family->'father'->'name')) AS p(name)
      WHERE a.trap_number_id = ANY($1::bigint[]) AND p.name IS NOT NULL AND jsonb_typeof(p.name) = 'object'`,
    [numberIds],
  );
  for (const r of rows) {
    const id = Number(r.id);
    const list = out.get(id) ?? [];
    list.push({ canaryId: r.canary_id, full: r.full, latin: r.latin ?? r.full, birthTime: r.birth_time });
    out.set(id, list);
  }
  return out;
}

export async function canaryEmails(db: Queryable, emails: readonly string[]): Promise<Set<string>> {
  const { rows } = await db.query<{ email: string }>(`SELECT lower(email) AS email FROM canaries WHERE lower(email) = ANY($1::text[])`, [emails.map((e) => e.toLowerCase())]);
  return new Set(rows.map((r) => r.email));
}

/** Retire planted canaries of earlier weeks; they stay in the target and stay watched. Returns their ids. */
export async function retireCanariesBefore(db: Queryable, hospital: string, week: string, at: Date): Promise<string[]> {
  const { rows } = await db.query<{ id: string }>(
    `UPDATE canaries SET status = 'retired', retired_at = $3
      WHERE hospital = $1 AND status = 'planted' AND iso_week < $2
        AND batch_id IN (SELECT id FROM seed_batches WHERE rotation_id IS NOT NULL)
      RETURNING id`,
    [hospital, week, at.toISOString()],
  );
  if (rows.length) await sealRows(db, 'canaries', rows.map((r) => r.id));
  return rows.map((r) => r.id);
}

export interface ExposureView {
  channel: string;
  exposed_at: Date;
  source: string;
}

export async function exposuresOf(db: Queryable, canaryId: string): Promise<ExposureView[]> {
  const { rows } = await db.query<ExposureView>(
    `SELECT ch.kind || ':' || ch.name AS channel, e.exposed_at, e.source
       FROM exposures e JOIN channels ch ON ch.id = e.channel_id WHERE e.canary_id = $1 ORDER BY e.exposed_at, ch.kind, ch.name`,
    [canaryId],
  );
  return rows;
}

export async function trapNumbersOf(db: Queryable, canaryId: string): Promise<{ e164: string; role: string; assigned_at: Date; released_at: Date | null; state: string }[]> {
  const { rows } = await db.query<{ e164: string; role: string; assigned_at: Date; released_at: Date | null; state: string }>(
    `SELECT t.e164, a.role, a.assigned_at, a.released_at, t.state
       FROM trap_assignments a JOIN trap_numbers t ON t.id = a.trap_number_id WHERE a.canary_id = $1 ORDER BY a.role = 'father', a.assigned_at`,
    [canaryId],
  );
  return rows;
}
