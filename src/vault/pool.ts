import type { Queryable } from '../db/index.js';
import type { TrapNumberState } from '../domain/index.js';

// The trap pool: phone numbers and e-mail domains the security team controls.

export interface TrapNumberRow {
  id: number;
  e164: string;
  region: string;
  hospital: string | null;
  state: TrapNumberState;
  added_at: Date;
  burn_in_until: Date | null;
  retired_at: Date | null;
  cooldown_until: Date | null;
  note: string | null;
  canary_id: string | null;
}

/**
 * Move numbers whose burn-in or cool-down has ended to available. A reader that only shows the pool
 * (`cradle pool list`) passes `asOf` to listTrapNumbers and poolCounts instead: the same view, no write.
 */
export async function refreshPool(db: Queryable, now: Date): Promise<void> {
  await db.query(
    `UPDATE trap_numbers SET state = 'available', burn_in_until = NULL
      WHERE state = 'burn_in' AND burn_in_until <= $1`,
    [now.toISOString()],
  );
  await db.query(
    `UPDATE trap_numbers SET state = 'available'
      WHERE state = 'retired' AND cooldown_until <= $1`,
    [now.toISOString()],
  );
}

export interface NewNumber {
  e164: string;
  region: string;
}

/** Add numbers; those already in the pool are returned apart and left as they are. */
export async function addTrapNumbers(
  db: Queryable,
  numbers: readonly NewNumber[],
  options: { hospital: string | null; burnInUntil: Date | null; note?: string; /** When they came (default now): the demo's pool served its burn-in before installation. */ addedAt?: Date },
): Promise<{ added: string[]; existing: string[] }> {
  const { rows } = await db.query<{ e164: string }>(
    `INSERT INTO trap_numbers (e164, region, hospital, state, burn_in_until, note, added_at)
     SELECT n.e164, n.region, $3, $4, $5, $6, coalesce($7::timestamptz, now()) FROM unnest($1::text[], $2::text[]) AS n(e164, region)
     ON CONFLICT (e164) DO NOTHING
     RETURNING e164`,
    [
      numbers.map((n) => n.e164),
      numbers.map((n) => n.region),
      options.hospital,
      options.burnInUntil ? 'burn_in' : 'available',
      options.burnInUntil?.toISOString() ?? null,
      options.note ?? null,
      options.addedAt?.toISOString() ?? null,
    ],
  );
  const added = new Set(rows.map((r) => r.e164));
  return { added: [...added], existing: numbers.map((n) => n.e164).filter((e) => !added.has(e)) };
}

export async function addTrapDomain(db: Queryable, domain: string, hospital: string | null): Promise<boolean> {
  const res = await db.query('INSERT INTO trap_domains (domain, hospital) VALUES ($1, $2) ON CONFLICT (domain) DO NOTHING', [domain, hospital]);
  return res.rowCount > 0;
}

export async function trapDomains(db: Queryable, hospital?: string): Promise<{ domain: string; hospital: string | null; added_at: Date }[]> {
  const { rows } = await db.query<{ domain: string; hospital: string | null; added_at: Date }>(
    `SELECT domain, hospital, added_at FROM trap_domains
      WHERE $1::text IS NULL OR hospital IS NULL OR hospital = $1 ORDER BY domain`,
    [hospital ?? null],
  );
  return rows;
}

/**
 * The trap numbers as stored, or with `asOf` as refreshPool(asOf) would leave them (burn-in or
 * cool-down ended: available, the burn-in's end cleared), computed in the query: nothing is written.
 * `$n` is the asOf parameter's number.
 */
function poolAsOf(n: number): string {
  const ended = `$${n}::timestamptz IS NOT NULL AND ((state = 'burn_in' AND burn_in_until <= $${n}) OR (state = 'retired' AND cooldown_until <= $${n}))`;
  return `(SELECT id, e164, region, hospital,
                  CASE WHEN ${ended} THEN 'available' ELSE state END AS state,
                  added_at,
                  CASE WHEN $${n}::timestamptz IS NOT NULL AND state = 'burn_in' AND burn_in_until <= $${n} THEN NULL ELSE burn_in_until END AS burn_in_until,
                  retired_at, cooldown_until, note
             FROM trap_numbers)`;
}

export async function listTrapNumbers(db: Queryable, filter: { hospital?: string; state?: string; /** Show the pool as refreshPool(asOf) would leave it, without writing. */ asOf?: Date } = {}): Promise<TrapNumberRow[]> {
  const { rows } = await db.query<TrapNumberRow>(
    `SELECT t.*, a.canary_id
       FROM ${poolAsOf(3)} t
       LEFT JOIN LATERAL (
         SELECT canary_id FROM trap_assignments WHERE trap_number_id = t.id ORDER BY assigned_at DESC, id DESC LIMIT 1
       ) a ON t.state IN ('assigned', 'retired')
      WHERE ($1::text IS NULL OR t.hospital IS NULL OR t.hospital = $1)
        AND ($2::text IS NULL OR t.state = $2)
      ORDER BY t.e164`,
    [filter.hospital ?? null, filter.state ?? null, filter.asOf?.toISOString() ?? null],
  );
  return rows;
}

/**
 * Numbers a hospital may use in a region, its own share first, in a stable order. With `asOf`, numbers
 * whose burn-in or cool-down has ended by then count too (a dry run, which must not write the refresh).
 */
export async function availableNumbers(db: Queryable, hospital: string, region: string, asOf?: Date): Promise<{ id: number; e164: string }[]> {
  const { rows } = await db.query<{ id: number; e164: string }>(
    `SELECT id, e164 FROM trap_numbers
      WHERE region = $2 AND (hospital = $1 OR hospital IS NULL)
        AND (state = 'available'
             OR ($3::timestamptz IS NOT NULL AND ((state = 'burn_in' AND burn_in_until <= $3) OR (state = 'retired' AND cooldown_until <= $3))))
      ORDER BY (hospital IS NULL), e164`,
    [hospital, region, asOf?.toISOString() ?? null],
  );
  return rows;
}

/**
 * pool.sharing "shared": the numbers a new canary may share (out of burn-in, not blocked), each with the
 * channels of the canaries holding it or that released it within `apartDays` (ward:<ward> for a seeded
 * canary, export:<id>, code:<pool>), the hospital's own first. A number goes to a canary whose channel
 * is not among them (src/canary/draft.ts).
 */
export async function shareableNumbers(db: Queryable, hospital: string, region: string, asOf: Date, apartDays: number): Promise<{ id: number; e164: string; channels: string[] }[]> {
  const { rows } = await db.query<{ id: number; e164: string; channels: string[] }>(
    `SELECT t.id, t.e164,
            coalesce(array_agg(DISTINCT CASE WHEN c.export_id IS NOT NULL THEN 'export:' || c.export_id
                                             WHEN c.code_pool_id IS NOT NULL THEN 'code:' || c.code_pool_id
                                             ELSE 'ward:' || c.ward END) FILTER (WHERE c.id IS NOT NULL), '{}') AS channels
       FROM trap_numbers t
       LEFT JOIN trap_assignments a ON a.trap_number_id = t.id AND (a.released_at IS NULL OR a.released_at > $3::timestamptz - make_interval(days => $4))
       LEFT JOIN canaries c ON c.id = a.canary_id
      WHERE t.region = $2 AND (t.hospital = $1 OR t.hospital IS NULL)
        AND (t.state IN ('available', 'assigned', 'retired') OR (t.state = 'burn_in' AND t.burn_in_until <= $3))
      GROUP BY t.id, t.e164, t.hospital
      ORDER BY (t.hospital IS NULL), t.e164`,
    [hospital, region, asOf.toISOString(), apartDays],
  );
  return rows.map((r) => ({ ...r, id: Number(r.id) }));
}

export async function blockNumbers(db: Queryable, ids: readonly number[], note: string): Promise<void> {
  if (ids.length) await db.query(`UPDATE trap_numbers SET state = 'blocked', note = $2 WHERE id = ANY($1::bigint[])`, [ids, note]);
}

/**
 * Take these numbers for canaries. Fails (returns false) if any is no longer available, so two seeders
 * can never hand out the same number: the UPDATE is conditional on the state.
 */
export async function assignNumbers(db: Queryable, assignments: readonly { numberId: number; canaryId: string; role: 'mother' | 'father' }[], at: Date, options: { /** pool.sharing "shared": numbers other canaries hold (or rest from) may be taken too. */ shared?: boolean } = {}): Promise<boolean> {
  if (assignments.length === 0) return true;
  const ids = assignments.map((a) => a.numberId);
  const res = await db.query(
    `UPDATE trap_numbers SET state = 'assigned', burn_in_until = NULL
      WHERE id = ANY($1::bigint[]) AND (state = 'available' OR ($2 AND (state IN ('assigned', 'retired') OR (state = 'burn_in' AND burn_in_until <= $3))))`,
    [ids, !!options.shared, at.toISOString()],
  );
  if (res.rowCount !== new Set(ids).size) return false;
  await db.query(
    `INSERT INTO trap_assignments (trap_number_id, canary_id, role, assigned_at)
     SELECT * FROM unnest($1::bigint[], $2::text[], $3::text[], $4::timestamptz[])`,
    [ids, assignments.map((a) => a.canaryId), assignments.map((a) => a.role), assignments.map(() => at.toISOString())],
  );
  return true;
}

/** A shared number (pool.sharing "shared") stays assigned while a canary other than these still holds it. */
const HELD_BY_OTHERS = (ids: string) =>
  `NOT EXISTS (SELECT 1 FROM trap_assignments o WHERE o.trap_number_id = trap_numbers.id AND o.released_at IS NULL AND NOT (o.canary_id = ANY(${ids}::text[])))`;

/** Give the numbers of these canaries back to the pool (a batch that never reached the target). */
export async function releaseNumbersOf(db: Queryable, canaryIds: readonly string[]): Promise<void> {
  await db.query(
    `UPDATE trap_numbers SET state = 'available'
      WHERE state = 'assigned' AND id IN (SELECT trap_number_id FROM trap_assignments WHERE canary_id = ANY($1::text[]))
        AND ${HELD_BY_OTHERS('$1')}`,
    [canaryIds],
  );
}

/** Retire the numbers of retired canaries: they stay watched but rest for the cool-down before reuse. */
export async function retireNumbersOf(db: Queryable, canaryIds: readonly string[], at: Date, cooldownDays: number): Promise<number> {
  const res = await db.query(
    `UPDATE trap_numbers SET state = 'retired', retired_at = $2, cooldown_until = $2::timestamptz + make_interval(days => $3)
      WHERE state = 'assigned' AND id IN (SELECT trap_number_id FROM trap_assignments WHERE canary_id = ANY($1::text[]))
        AND ${HELD_BY_OTHERS('$1')}`,
    [canaryIds, at.toISOString(), cooldownDays],
  );
  await db.query(`UPDATE trap_assignments SET released_at = $2 WHERE canary_id = ANY($1::text[]) AND released_at IS NULL`, [canaryIds, at.toISOString()]);
  return res.rowCount;
}

/** Numbers by state; with `asOf`, as refreshPool(asOf) would leave them (nothing is written). */
export async function poolCounts(db: Queryable, hospital?: string, asOf?: Date): Promise<Record<TrapNumberState, number>> {
  const { rows } = await db.query<{ state: TrapNumberState; n: number }>(
    `SELECT state, count(*)::int AS n FROM ${poolAsOf(2)} t WHERE $1::text IS NULL OR hospital IS NULL OR hospital = $1 GROUP BY state`,
    [hospital ?? null, asOf?.toISOString() ?? null],
  );
  const counts: Record<TrapNumberState, number> = { burn_in: 0, available: 0, assigned: 0, retired: 0, blocked: 0 };
  for (const r of rows) counts[r.state] = r.n;
  return counts;
}

/** Weeks of numbers below which `audit` and `pool list` warn: new numbers need their burn-in first. */
export const POOL_WEEKS_WANTED = 4;

/** What the pool holds against a weekly plan: numbers available or in burn-in, and the weeks they last. */
export interface PoolSupply {
  counts: Record<TrapNumberState, number>;
  /** Numbers available or in burn-in. */
  supply: number;
  /** Trap numbers the hospital's canaries have held, per canary (1 before any canary). */
  numbersPerCanary: number;
  /** The canaries that rate comes from. */
  canaries: number;
  /** Numbers a week of the plan takes at that rate. */
  perWeek: number;
  /** Weeks of the plan the supply covers; null without a plan. */
  weeksLeft: number | null;
}

/** The pool's supply for a plan of `canariesPerWeek`, at the rate of numbers per canary the hospital has used so far. */
export async function poolSupply(db: Queryable, hospital: string, canariesPerWeek: number, asOf?: Date): Promise<PoolSupply> {
  const counts = await poolCounts(db, hospital, asOf);
  const { rows } = await db.query<{ numbers: number; canaries: number }>(
    `SELECT count(*)::int AS numbers, count(DISTINCT a.canary_id)::int AS canaries
       FROM trap_assignments a JOIN canaries c ON c.id = a.canary_id WHERE c.hospital = $1`,
    [hospital],
  );
  const numbersPerCanary = rows[0]?.canaries ? rows[0].numbers / rows[0].canaries : 1;
  const perWeek = Math.ceil(canariesPerWeek * numbersPerCanary);
  const supply = counts.available + counts.burn_in;
  return { counts, supply, numbersPerCanary, canaries: rows[0]?.canaries ?? 0, perWeek, weeksLeft: perWeek > 0 ? Math.floor(supply / perWeek) : null };
}
