import crypto from 'node:crypto';
import type { Queryable } from '../db/index.js';
import { WARNINGS_HEADER, type ContactKind, type NewContact } from '../domain/contact.js';
import { indexableKey, isStorableInstant, MAX_INDEXED_CHARS, NUL_SHOWN_AS, storableJson, storableText } from '../lib/storable.js';

export { WARNINGS_HEADER, type ContactKind, type NewContact };

// Contact events: what reached a trap number or mailbox, kept byte for byte before anything is
// done with it. Provider retries carry the same provider id and are recorded once.

export interface ContactRow {
  id: number;
  source: string;
  provider_id: string | null;
  kind: ContactKind;
  from_address: string | null;
  to_address: string;
  occurred_at: Date;
  received_at: Date;
  body: string | null;
  remote_addr: string | null;
  headers: Record<string, unknown>;
  sha256: string;
  triaged_at: Date | null;
}

/**
 * The contact as the vault can hold it, and what had to change. This is the one place untrusted
 * contact text is made storable: U+0000 is shown as ␀ (text and jsonb cannot hold it), an indexed
 * value (provider id, from, to) over 512 characters or with a NUL becomes its start and a sha256 of
 * the whole, an instant outside the years 1000-9999 becomes the time received. `raw` is never
 * touched: it keeps every byte, and is what the warnings point to.
 */
export function storableContact(c: NewContact, receivedAt: Date): { contact: NewContact; warnings: string[] } {
  const warnings: string[] = [];
  const key = (field: string, value: string | null): string | null => {
    if (value === null) return null;
    const stored = indexableKey(value);
    if (stored !== value) {
      const why = value.length > MAX_INDEXED_CHARS ? `${value.length} characters` : `a NUL or an unpaired surrogate`;
      warnings.push(`${field}: ${why}; stored as its start and the sha256 of the whole; the full value is in raw`);
    }
    return stored;
  };
  const providerId = key('provider id', c.providerId);
  const from = key('from', c.from);
  const to = key('to', c.to)!;
  const body = c.body === null ? null : storableText(c.body);
  if (body !== c.body) warnings.push(`body: NUL shown as ${NUL_SHOWN_AS} (or an unpaired surrogate as U+FFFD); the exact bytes are in raw`);
  const headers = storableJson(c.headers ?? {}) as Record<string, unknown>;
  if (JSON.stringify(headers) !== JSON.stringify(c.headers ?? {})) warnings.push(`headers: NUL shown as ${NUL_SHOWN_AS} (or an unpaired surrogate as U+FFFD); the exact bytes are in raw`);
  let occurredAt = c.occurredAt;
  if (!isStorableInstant(occurredAt)) {
    const given = Number.isFinite(occurredAt.getTime()) ? occurredAt.toISOString() : 'not a time';
    warnings.push(`occurred at: ${given} is outside the years 1000-9999; the time received is stored instead`);
    occurredAt = receivedAt;
  }
  // Warnings the caller found first (a message only partly parsed) come before these.
  const prior = Array.isArray(headers[WARNINGS_HEADER]) ? (headers[WARNINGS_HEADER] as unknown[]).map(String) : [];
  warnings.unshift(...prior);
  if (warnings.length) headers[WARNINGS_HEADER] = warnings;
  const remoteAddr = c.remoteAddr === undefined || c.remoteAddr === null ? null : storableText(c.remoteAddr);
  return { contact: { ...c, providerId, from, to, body, headers, occurredAt, remoteAddr }, warnings };
}

export interface RecordedContact {
  id: number;
  duplicate: boolean;
  warnings: string[];
}

/**
 * Record one contact; `duplicate` when the provider already delivered it (same source and provider
 * id): the first copy is kept and its id returned. `warnings` say what storableContact changed.
 */
export async function recordContact(db: Queryable, contact: NewContact): Promise<RecordedContact> {
  const { contact: c, warnings } = storableContact(contact, new Date());
  const sha256 = crypto.createHash('sha256').update(c.raw).digest('hex');
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO contact_events (source, provider_id, kind, from_address, to_address, occurred_at, body, remote_addr, headers, raw, sha256)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)
     ON CONFLICT (source, provider_id) DO NOTHING RETURNING id`,
    [c.source, c.providerId, c.kind, c.from, c.to, c.occurredAt.toISOString(), c.body, c.remoteAddr ?? null, JSON.stringify(c.headers ?? {}), c.raw, sha256],
  );
  if (rows.length) return { id: rows[0].id, duplicate: false, warnings };
  const { rows: first } = await db.query<{ id: number }>(`SELECT id FROM contact_events WHERE source = $1 AND provider_id = $2`, [c.source, c.providerId]);
  return { id: first[0].id, duplicate: true, warnings };
}

/** A contact's place in the unique index, or null (no provider id: never a duplicate). */
const contactKey = (source: string, providerId: string | null): string | null => (providerId === null ? null : JSON.stringify([source, providerId]));

/**
 * Record several contacts with one INSERT (one commit), each answered as recordContact would answer
 * it alone, in order: a provider retry of a contact already in the vault, or of one earlier in the
 * same list, is a duplicate with the first copy's id. When the statement fails (a permanent data
 * error on one contact, a deadlock with another writer, a dropped connection), nothing of it was
 * kept and every contact is recorded again alone, so one bad contact fails only itself.
 */
export async function recordContacts(db: Queryable, contacts: readonly NewContact[]): Promise<PromiseSettledResult<RecordedContact>[]> {
  if (contacts.length > 1) {
    try {
      return (await insertContacts(db, contacts)).map((value) => ({ status: 'fulfilled', value }));
    } catch {
      // Fall through: one by one, in order, each with its own answer or error.
    }
  }
  const out: PromiseSettledResult<RecordedContact>[] = [];
  for (const c of contacts) {
    try {
      out.push({ status: 'fulfilled', value: await recordContact(db, c) });
    } catch (reason) {
      out.push({ status: 'rejected', reason });
    }
  }
  return out;
}

async function insertContacts(db: Queryable, contacts: readonly NewContact[]): Promise<RecordedContact[]> {
  const receivedAt = new Date();
  const made = contacts.map((contact) => storableContact(contact, receivedAt));
  // The first copy of each provider event in the list is inserted; later copies answer with its id.
  const firstOf = new Map<string, number>();
  const inserted: number[] = [];
  made.forEach(({ contact: c }, i) => {
    const key = contactKey(c.source, c.providerId);
    if (key !== null && firstOf.has(key)) return;
    if (key !== null) firstOf.set(key, i);
    inserted.push(i);
  });
  // One JSON document of the rows (node-postgres escapes a text[] element by element, a cost per
  // request the profile showed), the raw bytes as hex; in arrival order, so ids follow it as they do
  // one by one.
  const doc = JSON.stringify(
    inserted.map((i, n) => {
      const c = made[i].contact;
      return {
        n, source: c.source, provider_id: c.providerId, kind: c.kind, from_address: c.from, to_address: c.to, occurred_at: c.occurredAt.toISOString(), body: c.body,
        remote_addr: c.remoteAddr ?? null, headers: c.headers ?? {}, raw: c.raw.toString('hex'), sha256: crypto.createHash('sha256').update(c.raw).digest('hex'),
      };
    }),
  );
  const { rows } = await db.query<{ id: number; source: string; provider_id: string | null }>(
    `INSERT INTO contact_events (source, provider_id, kind, from_address, to_address, occurred_at, body, remote_addr, headers, raw, sha256)
     SELECT x.source, x.provider_id, x.kind, x.from_address, x.to_address, x.occurred_at, x.body, x.remote_addr, x.headers, decode(x.raw, 'hex'), x.sha256
       FROM json_to_recordset($1::json) AS x(n int, source text, provider_id text, kind text, from_address text, to_address text, occurred_at timestamptz, body text, remote_addr text, headers jsonb, raw text, sha256 text)
      ORDER BY x.n
     ON CONFLICT (source, provider_id) DO NOTHING RETURNING id, source, provider_id`,
    [doc],
  );
  const ids = new Map<string, { id: number; duplicate: boolean }>();
  // Rows without a provider id are always inserted, and come back in the order they went in.
  const unkeyed: number[] = [];
  for (const r of rows) {
    const key = contactKey(r.source, r.provider_id);
    if (key === null) unkeyed.push(r.id);
    else ids.set(key, { id: r.id, duplicate: false });
  }
  const missing = [...firstOf.keys()].filter((k) => !ids.has(k)).map((k) => JSON.parse(k) as [string, string]);
  if (missing.length) {
    const { rows: first } = await db.query<{ id: number; source: string; provider_id: string }>(
      `SELECT e.id, e.source, e.provider_id FROM contact_events e JOIN unnest($1::text[], $2::text[]) AS k(source, provider_id) ON e.source = k.source AND e.provider_id = k.provider_id`,
      [missing.map((m) => m[0]), missing.map((m) => m[1])],
    );
    for (const r of first) ids.set(contactKey(r.source, r.provider_id)!, { id: r.id, duplicate: true });
  }
  let nextUnkeyed = 0;
  return made.map(({ contact: c, warnings }, i) => {
    const key = contactKey(c.source, c.providerId);
    if (key === null) {
      const id = unkeyed[nextUnkeyed++];
      if (id === undefined) throw new Error('a contact without a provider id was not inserted');
      return { id, duplicate: false, warnings };
    }
    const found = ids.get(key);
    if (!found) throw new Error('a duplicate contact was not found in the vault');
    return { id: found.id, duplicate: found.duplicate || firstOf.get(key) !== i, warnings };
  });
}

/**
 * Group commit for a stream of contacts (`cradle watch`'s webhooks): the contacts that arrive together
 * (in the same turn of the event loop, or while earlier ones are being written) go to the vault as
 * one recordContacts statement, and each promise settles once that statement has committed, so every
 * contact is still stored durably before its answer. At most `maxInFlight` statements at a time,
 * of at most `maxBatch` contacts.
 */
export function contactRecorder(db: Queryable, options: { maxBatch?: number; maxInFlight?: number } = {}): (contact: NewContact) => Promise<RecordedContact> {
  const maxBatch = options.maxBatch ?? 256;
  const maxInFlight = options.maxInFlight ?? 2;
  const waiting: { contact: NewContact; resolve: (r: RecordedContact) => void; reject: (err: unknown) => void }[] = [];
  let inFlight = 0;
  let scheduled = false;
  const flush = () => {
    scheduled = false;
    while (waiting.length && inFlight < maxInFlight) {
      const batch = waiting.splice(0, maxBatch);
      inFlight++;
      void recordContacts(db, batch.map((w) => w.contact))
        .then(
          (results) => results.forEach((r, i) => (r.status === 'fulfilled' ? batch[i].resolve(r.value) : batch[i].reject(r.reason))),
          (err: unknown) => batch.forEach((w) => w.reject(err)),
        )
        .finally(() => {
          inFlight--;
          flush();
        });
    }
  };
  return (contact) =>
    new Promise<RecordedContact>((resolve, reject) => {
      waiting.push({ contact, resolve, reject });
      // After the I/O callbacks of this turn: the requests parsed with this one join its statement.
      if (!scheduled && inFlight < maxInFlight) {
        scheduled = true;
        setImmediate(flush);
      }
    });
}

/**
 * Whether a vault error is about the data (SQLSTATE class 22, data exception, or 54, a limit such as
 * an index entry's size), so the same contact will never be stored: refuse it for good, don't ask
 * for a retry. storableContact should leave none; this is the net under it.
 */
export function isPermanentDataError(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^(22|54)/.test(code);
}

const CONTACT_COLUMNS = 'id, source, provider_id, kind, from_address, to_address, occurred_at, received_at, body, remote_addr, headers, sha256, triaged_at';

export async function getContact(db: Queryable, id: number): Promise<ContactRow | null> {
  const { rows } = await db.query<ContactRow>(`SELECT ${CONTACT_COLUMNS} FROM contact_events WHERE id = $1`, [id]);
  return rows[0] ?? null;
}

/** The raw bytes of a contact, as they arrived. */
export async function contactRaw(db: Queryable, id: number): Promise<Buffer | null> {
  const { rows } = await db.query<{ raw: Buffer | Uint8Array }>(`SELECT raw FROM contact_events WHERE id = $1`, [id]);
  return rows[0] ? Buffer.from(rows[0].raw) : null;
}

export async function listContacts(db: Queryable, filter: { since?: Date; untriaged?: boolean; limit?: number } = {}): Promise<ContactRow[]> {
  const { rows } = await db.query<ContactRow>(
    `SELECT ${CONTACT_COLUMNS} FROM contact_events
      WHERE ($1::timestamptz IS NULL OR received_at >= $1) AND (NOT $2 OR triaged_at IS NULL)
      ORDER BY id LIMIT $3`,
    [filter.since?.toISOString() ?? null, filter.untriaged ?? false, filter.limit ?? 10_000],
  );
  return rows;
}

/**
 * Untriaged contacts, likely hits first: those to a trap number or a mailbox from the senders with
 * the fewest untriaged contacts (a stranger with the list before a dialer's thousands), then the rest;
 * a sender's contacts to traps stay in arrival order, as do its others. For triage of a flood (`cradle watch`).
 * The order is decided on the backlog's ids, senders and numbers alone (trap_numbers hashed once), and
 * only the round's rows are read whole: joining every waiting contact back before the LIMIT read each
 * one twice (0.6-0.8 s a round with 60,000 waiting).
 */
export async function listUntriagedLikelyHitsFirst(db: Queryable, limit: number): Promise<ContactRow[]> {
  const { rows } = await db.query<ContactRow>(
    `WITH p AS (
       SELECT e.id, position('@' in e.to_address) > 0 OR e.to_address IN (SELECT t.e164 FROM trap_numbers t) AS likely,
              count(*) OVER (PARTITION BY e.from_address) AS sent
         FROM contact_events e WHERE e.triaged_at IS NULL),
     picked AS MATERIALIZED (SELECT p.id, p.likely, p.sent FROM p ORDER BY p.likely DESC, p.sent, p.id LIMIT $1)
     SELECT ${CONTACT_COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')} FROM picked JOIN contact_events e ON e.id = picked.id
      ORDER BY picked.likely DESC, picked.sent, picked.id`,
    [limit],
  );
  return rows;
}

export async function countContacts(db: Queryable): Promise<number> {
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM contact_events`);
  return rows[0].n;
}

/** The contact a hit was made from. */
export async function getContactOfHit(db: Queryable, hitId: number): Promise<ContactRow | null> {
  const { rows } = await db.query<ContactRow>(`SELECT ${CONTACT_COLUMNS.split(', ').map((c) => `e.${c}`).join(', ')} FROM contact_events e JOIN hits h ON h.event_id = e.id WHERE h.id = $1`, [hitId]);
  return rows[0] ?? null;
}
