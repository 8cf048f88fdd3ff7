import type { Queryable } from '../db/index.js';
import type { TrapHolder } from './hits.js';

// Canary mailboxes: an address on one of the vault's trap domains that a canary holds (its e-mail,
// or the mother's or father's in its family record). Compared without regard to case. Used by the
// SMTP listener and mail import (is it a trap?) and by triage (whose is it?).

/** SQL: canary `c` holds the lower-cased address `a`. */
const HOLDS = (c: string, a: string) =>
  `(lower(${c}.email) = ${a} OR lower(${c}.family->'mother'->>'email') = ${a} OR lower(${c}.family->'father'->>'email') = ${a})`;

export function domainOf(address: string): string {
  const at = address.lastIndexOf('@');
  return at < 0 ? '' : address.slice(at + 1).toLowerCase();
}

/** Which of these addresses are canary mailboxes on a trap domain (lower-cased), for one hospital or all. */
export async function canaryMailboxes(db: Queryable, addresses: readonly string[], hospital?: string): Promise<Set<string>> {
  const wanted = [...new Set(addresses.map((a) => a.trim().toLowerCase()).filter((a) => a.includes('@')))];
  if (wanted.length === 0) return new Set();
  const { rows } = await db.query<{ address: string }>(
    `SELECT DISTINCT a.address
       FROM unnest($1::text[]) AS a(address)
       JOIN trap_domains d ON d.domain = lower(split_part(a.address, '@', 2))
                          AND ($2::text IS NULL OR d.hospital IS NULL OR d.hospital = $2)
      WHERE EXISTS (
        SELECT 1 FROM canaries c
         WHERE ($2::text IS NULL OR c.hospital = $2)
           AND ${HOLDS('c', 'a.address')})`,
    [wanted, hospital ?? null],
  );
  return new Set(rows.map((r) => r.address));
}

/** Is this address on a trap domain at all (for the refusal reason)? */
export async function isTrapDomain(db: Queryable, domain: string, hospital?: string): Promise<boolean> {
  const { rows } = await db.query(
    `SELECT 1 FROM trap_domains WHERE domain = lower($1) AND ($2::text IS NULL OR hospital IS NULL OR hospital = $2)`,
    [domain, hospital ?? null],
  );
  return rows.length > 0;
}

/** Canaries whose e-mail address this is (any case), the latest first. */
export async function mailboxHolders(db: Queryable, address: string): Promise<TrapHolder[]> {
  const { rows } = await db.query<TrapHolder>(
    `SELECT c.id AS canary_id, c.family, coalesce(c.planted_at, c.created_at) AS assigned_at, c.retired_at AS released_at
       FROM canaries c WHERE ${HOLDS('c', 'lower($1)')}
      ORDER BY c.created_at DESC`,
    [address],
  );
  return rows;
}
