import type { Queryable } from '../db/index.js';

// Which numbers a call import takes as traps: every trap number in the vault (any state: retired
// numbers stay watched), or with a hospital (--hospital) its share and the shared ones. `cradle ingest
// cdr` and the live AMI source of `cradle watch` ask the same question, the same way.

const TRAPS = `SELECT e164 FROM trap_numbers WHERE ($1::text IS NULL OR hospital IS NULL OR hospital = $1)`;

/** E.164 of every trap number of the hospital (all, without one). */
export async function trapNumberSet(db: Queryable, hospital?: string): Promise<Set<string>> {
  const { rows } = await db.query<{ e164: string }>(TRAPS, [hospital ?? null]);
  return new Set(rows.map((r) => r.e164));
}

/** Whether `e164` is a trap number of the hospital (any, without one). */
export async function isTrapNumber(db: Queryable, e164: string, hospital?: string): Promise<boolean> {
  return (await db.query(`${TRAPS} AND e164 = $2`, [hospital ?? null, e164])).rows.length > 0;
}
