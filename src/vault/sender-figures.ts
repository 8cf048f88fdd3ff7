import type { Queryable } from '../db/index.js';

// Per-sender figures triage reads for every contact (sql/vault/016_sender_figures.sql): the canaries a
// sender has active hits on (sender_canaries, kept by a trigger on hits), and the numbers it contacted
// that no canary had held at the time (sender_numbers: triaged contacts, added as a batch is marked
// triaged; untriaged ones are read from contact_events). Derived from history: `cradle verify` checks
// them against it (checkSenderFigures), and rebuildSenderFigures makes them again from it.

/** A contact to a number no canary had held when it came (position of '@' excluded: a mailbox is no number). */
const UNRELATED = `position('@' in e.to_address) = 0
  AND NOT EXISTS (SELECT 1 FROM trap_numbers t JOIN trap_assignments a ON a.trap_number_id = t.id
                   WHERE t.e164 = e.to_address AND a.assigned_at <= e.occurred_at)`;

/** sender_canaries as history has it: active hits by sender and canary. */
const CANARIES_FROM_HISTORY = `SELECT e.from_address, h.canary_id, count(*)::int AS active_hits FROM hits h JOIN contact_events e ON e.id = h.event_id
  WHERE h.status = 'active' AND e.from_address IS NOT NULL GROUP BY e.from_address, h.canary_id`;

/** sender_numbers as history has it: triaged contacts to numbers no canary held, by sender and number. */
const NUMBERS_FROM_HISTORY = `SELECT e.from_address, e.to_address, min(e.occurred_at) AS first_at, max(e.occurred_at) AS last_at FROM contact_events e
  WHERE e.triaged_at IS NOT NULL AND e.from_address IS NOT NULL AND ${UNRELATED} GROUP BY e.from_address, e.to_address`;

export interface SenderFigures {
  /** Its active hits, and the distinct canaries they are on. */
  hits: number;
  canaries: number;
  /** Of the canaries asked about, those among them. */
  on: Set<string>;
  /** Distinct numbers no canary held that its triaged contacts reached, and the first and last such contact. */
  numbers: number;
  firstAt: Date | null;
  lastAt: Date | null;
  /**
   * Its untriaged contacts to numbers no canary held that sender_numbers has not (the others add
   * nothing), summed up: how many distinct numbers, and the first and last such contact (null: none).
   * With the round's unheldNumbers: all of its contacts to numbers no canary held, and `numbers` 0.
   */
  untriaged: UntriagedNumbers;
}

/** Distinct numbers no canary held among some of a sender's contacts, and the first and last of those contacts. */
export interface UntriagedNumbers {
  numbers: number;
  firstAt: Date | null;
  lastAt: Date | null;
}

const noNumbers = (): UntriagedNumbers => ({ numbers: 0, firstAt: null, lastAt: null });

/**
 * The sender-by-sender sums of `where` (over contact_events e, to numbers no canary held), in one
 * statement: a row per sender, not per contact (a dialer's backlog in a flood is thousands of contacts,
 * read by every batch).
 */
async function unrelatedSums(db: Queryable, senders: readonly string[], where: string, out: Map<string, SenderFigures>): Promise<void> {
  const { rows } = await db.query<{ from_address: string; n: number; first_at: Date; last_at: Date }>(
    `SELECT e.from_address, count(DISTINCT e.to_address)::int AS n, min(e.occurred_at) AS first_at, max(e.occurred_at) AS last_at
       FROM contact_events e WHERE e.from_address = ANY($1::text[]) AND ${where} AND ${UNRELATED} GROUP BY e.from_address`,
    [senders],
  );
  for (const r of rows) out.get(r.from_address)!.untriaged = { numbers: r.n, firstAt: new Date(r.first_at), lastAt: new Date(r.last_at) };
}

/**
 * Every number no canary held that each of these senders reached, triaged (sender_numbers) or not
 * (contact_events), summed up in one statement: what a round of triage's batches share (a sender read
 * by the first batch it has contacts in). Triage moves a contact from the one to the other, so the sum
 * stays as it is while the round's contacts are triaged (by this round or by another triage); contacts
 * arriving meanwhile count from the next round on.
 */
export async function unheldNumbers(db: Queryable, froms: readonly string[]): Promise<Map<string, UntriagedNumbers>> {
  const out = new Map<string, UntriagedNumbers>();
  const senders = [...new Set(froms)];
  if (senders.length === 0) return out;
  for (const from of senders) out.set(from, noNumbers());
  const { rows } = await db.query<{ from_address: string; n: number; first_at: Date; last_at: Date }>(
    `SELECT u.from_address, count(DISTINCT u.to_address)::int AS n, min(u.first_at) AS first_at, max(u.last_at) AS last_at FROM (
       SELECT e.from_address, e.to_address, e.occurred_at AS first_at, e.occurred_at AS last_at
         FROM contact_events e WHERE e.from_address = ANY($1::text[]) AND e.triaged_at IS NULL AND ${UNRELATED}
       UNION ALL
       SELECT n.from_address, n.to_address, n.first_at, n.last_at FROM sender_numbers n WHERE n.from_address = ANY($1::text[])) u
     GROUP BY u.from_address`,
    [senders],
  );
  for (const r of rows) out.set(r.from_address, { numbers: r.n, firstAt: new Date(r.first_at), lastAt: new Date(r.last_at) });
  return out;
}

/**
 * The figures of these senders, with `canaries` asked about (each sender's `on`), in three statements;
 * in one when `unheld` (unheldNumbers, read for the round) has each of them: its sums then stand in
 * `untriaged`, with no `numbers`.
 */
export async function senderFigures(db: Queryable, froms: readonly string[], canaries: readonly string[], unheld?: ReadonlyMap<string, UntriagedNumbers>): Promise<Map<string, SenderFigures>> {
  const out = new Map<string, SenderFigures>();
  const senders = [...new Set(froms)];
  if (senders.length === 0) return out;
  for (const from of senders) out.set(from, { hits: 0, canaries: 0, on: new Set(), numbers: 0, firstAt: null, lastAt: null, untriaged: noNumbers() });
  const { rows: cs } = await db.query<{ from_address: string; hits: number; n: number; on: string[] | null }>(
    `SELECT from_address, sum(active_hits)::int AS hits, count(*)::int AS n, array_agg(canary_id) FILTER (WHERE canary_id = ANY($2::text[])) AS on
       FROM sender_canaries WHERE from_address = ANY($1::text[]) GROUP BY from_address`,
    [senders, [...new Set(canaries)]],
  );
  for (const r of cs) Object.assign(out.get(r.from_address)!, { hits: r.hits, canaries: r.n, on: new Set(r.on ?? []) });
  if (unheld && senders.every((from) => unheld.has(from))) {
    for (const from of senders) out.get(from)!.untriaged = { ...unheld.get(from)! };
    return out;
  }
  const { rows: ns } = await db.query<{ from_address: string; n: number; first_at: Date; last_at: Date }>(
    `SELECT from_address, count(*)::int AS n, min(first_at) AS first_at, max(last_at) AS last_at
       FROM sender_numbers WHERE from_address = ANY($1::text[]) GROUP BY from_address`,
    [senders],
  );
  for (const r of ns) Object.assign(out.get(r.from_address)!, { numbers: r.n, firstAt: new Date(r.first_at), lastAt: new Date(r.last_at) });
  // Only those to numbers sender_numbers has not: a flood from one sender to one number is a backlog of
  // thousands, read (and parsed) again by every batch, that counts for nothing once the number is known.
  await unrelatedSums(db, senders, `e.triaged_at IS NULL
        AND NOT EXISTS (SELECT 1 FROM sender_numbers n WHERE n.from_address = e.from_address AND n.to_address = e.to_address)`, out);
  return out;
}

/**
 * The same figures counted from history alone (hits, contacts, trap assignments), every contact to a
 * number no canary held summed in `untriaged` and none in `numbers`: what the kept tables stand for, to
 * check them against (TriageOptions.figures, the tests), at a cost that grows with each
 * sender's history.
 */
export async function senderFiguresFromHistory(db: Queryable, froms: readonly string[], canaries: readonly string[]): Promise<Map<string, SenderFigures>> {
  const out = new Map<string, SenderFigures>();
  const senders = [...new Set(froms)];
  if (senders.length === 0) return out;
  for (const from of senders) out.set(from, { hits: 0, canaries: 0, on: new Set(), numbers: 0, firstAt: null, lastAt: null, untriaged: noNumbers() });
  const { rows: cs } = await db.query<{ from_address: string; hits: number; n: number; on: string[] | null }>(
    `SELECT e.from_address, count(*)::int AS hits, count(DISTINCT h.canary_id)::int AS n, array_agg(DISTINCT h.canary_id) FILTER (WHERE h.canary_id = ANY($2::text[])) AS on
       FROM hits h JOIN contact_events e ON e.id = h.event_id WHERE e.from_address = ANY($1::text[]) AND h.status = 'active' GROUP BY e.from_address`,
    [senders, [...new Set(canaries)]],
  );
  for (const r of cs) Object.assign(out.get(r.from_address)!, { hits: r.hits, canaries: r.n, on: new Set(r.on ?? []) });
  await unrelatedSums(db, senders, 'true', out);
  return out;
}

/**
 * Distinct numbers no canary held that the sender contacted within `windowMs` of `at` (as
 * senderUnrelatedNumbers counts them from history), from its figures; null when its triaged numbers
 * reach outside the window, or its untriaged ones lie both inside and outside it, so that which of
 * them count needs history.
 */
export function unrelatedNumbersAt(f: SenderFigures, at: Date, windowMs: number): number | null {
  const [lo, hi] = [at.getTime() - windowMs, at.getTime() + windowMs];
  if (f.numbers > 0 && (f.firstAt!.getTime() < lo || f.lastAt!.getTime() > hi)) return null;
  const u = f.untriaged;
  if (u.numbers === 0 || u.lastAt!.getTime() < lo || u.firstAt!.getTime() > hi) return f.numbers;
  // All of them inside the window count (their numbers are distinct and none is in sender_numbers);
  // some inside and some out: history says which.
  if (u.firstAt!.getTime() >= lo && u.lastAt!.getTime() <= hi) return f.numbers + u.numbers;
  return null;
}

/** Add these contacts, being marked triaged, to sender_numbers (those to numbers no canary held). */
export async function addSenderNumbers(db: Queryable, eventIds: readonly number[]): Promise<void> {
  if (eventIds.length === 0) return;
  await db.query(
    `INSERT INTO sender_numbers (from_address, to_address, first_at, last_at)
     SELECT e.from_address, e.to_address, min(e.occurred_at), max(e.occurred_at) FROM contact_events e
      WHERE e.id = ANY($1::bigint[]) AND e.from_address IS NOT NULL AND ${UNRELATED}
      GROUP BY e.from_address, e.to_address
     ON CONFLICT (from_address, to_address) DO UPDATE
        SET first_at = least(sender_numbers.first_at, excluded.first_at), last_at = greatest(sender_numbers.last_at, excluded.last_at)`,
    [eventIds],
  );
}

/** Make both tables again from history (after a restore, or if `cradle verify` found them wrong). */
export async function rebuildSenderFigures(db: Queryable): Promise<void> {
  await db.query(`DELETE FROM sender_canaries`);
  await db.query(`INSERT INTO sender_canaries (from_address, canary_id, active_hits) ${CANARIES_FROM_HISTORY}`);
  await db.query(`DELETE FROM sender_numbers`);
  await db.query(`INSERT INTO sender_numbers (from_address, to_address, first_at, last_at) ${NUMBERS_FROM_HISTORY}`);
}

export interface SenderFigureProblem {
  table: 'sender_canaries' | 'sender_numbers';
  from: string;
  /** The canary or number. */
  key: string;
  /** What the table holds, and what history says (null: no row). */
  tableHas: string | null;
  historyHas: string | null;
}

export interface SenderFigureCheck {
  /** Rows of the two tables. */
  checked: number;
  /** Where they disagree with history (the first `limit`). */
  problems: SenderFigureProblem[];
}

/** Whether sender_canaries and sender_numbers agree with history: where they do not (at most `limit`). */
export async function checkSenderFigures(db: Queryable, limit = 100): Promise<SenderFigureCheck> {
  const { rows: [{ n }] } = await db.query<{ n: number }>(`SELECT (SELECT count(*) FROM sender_canaries) + (SELECT count(*) FROM sender_numbers) AS n`);
  const { rows: cs } = await db.query<{ from_address: string; canary_id: string; t: number | null; h: number | null }>(
    `SELECT coalesce(s.from_address, x.from_address) AS from_address, coalesce(s.canary_id, x.canary_id) AS canary_id, s.active_hits AS t, x.active_hits AS h
       FROM sender_canaries s FULL JOIN (${CANARIES_FROM_HISTORY}) x ON x.from_address = s.from_address AND x.canary_id = s.canary_id
      WHERE s.active_hits IS DISTINCT FROM x.active_hits ORDER BY 1, 2 LIMIT $1`,
    [limit],
  );
  const { rows: ns } = await db.query<{ from_address: string; to_address: string; t: string | null; h: string | null }>(
    `SELECT coalesce(s.from_address, x.from_address) AS from_address, coalesce(s.to_address, x.to_address) AS to_address,
            CASE WHEN s.from_address IS NOT NULL THEN to_json(s.first_at)::text || ' to ' || to_json(s.last_at)::text END AS t,
            CASE WHEN x.from_address IS NOT NULL THEN to_json(x.first_at)::text || ' to ' || to_json(x.last_at)::text END AS h
       FROM sender_numbers s FULL JOIN (${NUMBERS_FROM_HISTORY}) x ON x.from_address = s.from_address AND x.to_address = s.to_address
      WHERE s.first_at IS DISTINCT FROM x.first_at OR s.last_at IS DISTINCT FROM x.last_at ORDER BY 1, 2 LIMIT $1`,
    [limit],
  );
  const problems = [
    ...cs.map((r): SenderFigureProblem => ({ table: 'sender_canaries', from: r.from_address, key: r.canary_id, tableHas: r.t === null ? null : `${r.t} active hits`, historyHas: r.h === null ? null : `${r.h} active hits` })),
    ...ns.map((r): SenderFigureProblem => ({ table: 'sender_numbers', from: r.from_address, key: r.to_address, tableHas: r.t, historyHas: r.h })),
  ].slice(0, limit);
  return { checked: Number(n), problems };
}
