import { createHash } from 'node:crypto';
import os from 'node:os';
import type { Database, Queryable } from '../db/index.js';

// The evidence ledger (sql/vault/007_ledger.sql): append-only, hash-chained.
//   content_hash = sha256(canonical JSON of content)
//   hash         = sha256(prev_hash | seq | at | kind | ref | incident | actor | content_hash)
// The first entry's prev_hash is GENESIS. Appends are serialised (an advisory lock on a server; PGlite
// runs one transaction at a time), so seq has no gaps and each entry chains to the one before.

export const GENESIS = '0'.repeat(64);
const LEDGER_LOCK = 0x6c656467; // "ledg"

export interface LedgerEntry {
  seq: number;
  at: Date;
  kind: string;
  ref: string;
  incident_id: string | null;
  actor: string | null;
  content: unknown;
  content_hash: string;
  prev_hash: string;
  hash: string;
}

export interface NewLedgerEntry {
  kind: string;
  ref: string;
  incidentId?: string | null;
  actor?: string | null;
  content: unknown;
  at?: Date;
}

/** JSON with object keys sorted at every level, so the same content always hashes the same. */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value !== 'object') return JSON.stringify(value ?? null);
  if (value instanceof Date) return JSON.stringify(value.toISOString());
  if (Array.isArray(value)) return `[${value.map((v) => canonicalJson(v === undefined ? null : v)).join(',')}]`;
  // Keys in code-unit order (sort's default, as < compares strings), built by concatenation: every
  // entry sealed goes through here (a triage batch's hundred contacts, under a flood of webhooks).
  const object = value as Record<string, unknown>;
  let out = '';
  for (const k of Object.keys(object).sort()) {
    const v = object[k];
    if (v !== undefined) out += `${out ? ',' : ''}${JSON.stringify(k)}:${canonicalJson(v)}`;
  }
  return `{${out}}`;
}

export function sha256Hex(text: string | Buffer): string {
  return createHash('sha256').update(text).digest('hex');
}

export function contentHash(content: unknown): string {
  return sha256Hex(canonicalJson(content));
}

export function entryHash(e: Omit<LedgerEntry, 'hash' | 'content'>): string {
  return sha256Hex([e.prev_hash, e.seq, e.at.toISOString(), e.kind, e.ref, e.incident_id ?? '', e.actor ?? '', e.content_hash].join('|'));
}

/**
 * Transactions that keep the ledger's head in memory between appends (holdLedger): the first append
 * takes the lock and reads the head; the lock is held until the transaction ends, so no one else can
 * move the head meanwhile, and later appends chain to the one kept here.
 */
const heldHeads = new WeakMap<Queryable, { seq: number; hash: string } | null>();

/**
 * Keep the ledger's head in memory for the rest of this transaction (its own Queryable, as
 * Database.transaction hands it out: never the Database itself, and with no savepoint rolled back
 * after an append). Saves a lock request and a read per append for a transaction that appends many.
 */
export function holdLedger(tx: Queryable, options: { defer?: boolean } = {}): void {
  if (!heldHeads.has(tx)) heldHeads.set(tx, null);
  if (options.defer && !deferred.has(tx)) deferred.set(tx, []);
}

/**
 * Entries appended but not written yet, by transaction (holdLedger with `defer`): each is chained in
 * memory as it is appended (the same seq, hash and `at` as written at once), and flushLedger writes them
 * all in one INSERT, in order. Nothing in such a transaction may read the ledger before the flush.
 */
const deferred = new WeakMap<Queryable, LedgerEntry[]>();

/** Write the entries a deferring transaction (holdLedger with `defer`) has appended, in one INSERT; call before it commits. */
export async function flushLedger(tx: Queryable): Promise<void> {
  const pending = deferred.get(tx);
  if (!pending?.length) return;
  deferred.set(tx, []);
  await insertLedgerEntries(tx, pending);
}

/** Append one entry, chained to the current head. Call inside the transaction that writes what it records. */
export async function appendLedger(tx: Queryable, entry: NewLedgerEntry): Promise<LedgerEntry> {
  return (await appendLedgerEntries(tx, [entry]))[0];
}

/** Append entries in order, each chained to the one before, in one INSERT. Call inside the transaction that writes what they record. */
export async function appendLedgerEntries(tx: Queryable, entries: readonly NewLedgerEntry[]): Promise<LedgerEntry[]> {
  if (entries.length === 0) return [];
  let head = heldHeads.get(tx) ?? null;
  if (!head) {
    await tx.serialize(LEDGER_LOCK);
    const { rows } = await tx.query<{ seq: number; hash: string }>(`SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1`);
    head = rows.length ? { seq: Number(rows[0].seq), hash: rows[0].hash } : { seq: 0, hash: GENESIS };
  }
  const out: LedgerEntry[] = [];
  for (const entry of entries) {
    // Content goes through JSON once so what is stored (jsonb) and what is hashed are the same value.
    // canonicalJson of the value parsed back is the text it was parsed from (keys sorted, plain JSON
    // values only), so that text is what is hashed.
    const text = canonicalJson(entry.content);
    const content = JSON.parse(text) as unknown;
    // Timestamps are kept to the millisecond: what JavaScript and the hash can hold.
    const at = new Date(Math.floor((entry.at ?? new Date()).getTime()));
    const base = {
      seq: head.seq + 1,
      at,
      kind: entry.kind,
      ref: entry.ref,
      incident_id: entry.incidentId ?? null,
      actor: entry.actor ?? null,
      content_hash: sha256Hex(text),
      prev_hash: head.hash,
    };
    const full: LedgerEntry = { ...base, content, hash: entryHash(base) };
    contentTexts.set(full, text);
    out.push(full);
    head = { seq: full.seq, hash: full.hash };
  }
  const pending = deferred.get(tx);
  if (pending) pending.push(...out);
  else await insertLedgerEntries(tx, out);
  if (heldHeads.has(tx)) heldHeads.set(tx, head);
  return out;
}

/** Each entry's content as hashed (canonicalJson), to be stored as it is: the same jsonb, not made again. */
const contentTexts = new WeakMap<LedgerEntry, string>();

async function insertLedgerEntries(tx: Queryable, out: readonly LedgerEntry[]): Promise<void> {
  const text = (e: LedgerEntry) => contentTexts.get(e) ?? JSON.stringify(e.content);
  if (out.length === 1) {
    const [full] = out;
    await tx.query(
      `INSERT INTO ledger (seq, at, kind, ref, incident_id, actor, content, content_hash, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
      [full.seq, full.at.toISOString(), full.kind, full.ref, full.incident_id, full.actor, text(full), full.content_hash, full.prev_hash, full.hash],
    );
  } else {
    // One JSON document, each content in it as its text: node-postgres escapes array parameters element
    // by element (a hundred contents of a triage batch held the event loop for milliseconds).
    const json = (v: string | null) => JSON.stringify(v);
    const doc = `[${out.map((e) => `{"seq":${e.seq},"at":${json(e.at.toISOString())},"kind":${json(e.kind)},"ref":${json(e.ref)},"incident_id":${json(e.incident_id)},"actor":${json(e.actor)},"content":${text(e)},"content_hash":${json(e.content_hash)},"prev_hash":${json(e.prev_hash)},"hash":${json(e.hash)}}`).join(',')}]`;
    await tx.query(
      `INSERT INTO ledger (seq, at, kind, ref, incident_id, actor, content, content_hash, prev_hash, hash)
       SELECT seq, at, kind, ref, incident_id, actor, content, content_hash, prev_hash, hash
         FROM json_to_recordset($1::json)
              AS e(seq bigint, at timestamptz, kind text, ref text, incident_id text, actor text, content jsonb, content_hash text, prev_hash text, hash text)
        ORDER BY seq`,
      [doc],
    );
  }
}

export async function ledgerHead(db: Queryable): Promise<{ seq: number; hash: string; at: Date } | null> {
  const { rows } = await db.query<{ seq: number; hash: string; at: Date }>(`SELECT seq, hash, at FROM ledger ORDER BY seq DESC LIMIT 1`);
  return rows[0] ?? null;
}

/** Entries in seq order: all, a range, one incident's, or those about given refs. */
export async function ledgerEntries(db: Queryable, filter: { fromSeq?: number; toSeq?: number; incident?: string; kind?: string; refs?: readonly string[]; limit?: number } = {}): Promise<LedgerEntry[]> {
  const { rows } = await db.query<LedgerEntry>(
    `SELECT seq, at, kind, ref, incident_id, actor, content, content_hash, prev_hash, hash FROM ledger
      WHERE ($1::bigint IS NULL OR seq >= $1) AND ($2::bigint IS NULL OR seq <= $2)
        AND ($3::text IS NULL OR incident_id = $3) AND ($4::text IS NULL OR kind = $4) AND ($5::text[] IS NULL OR ref = ANY($5))
      ORDER BY seq LIMIT $6`,
    [filter.fromSeq ?? null, filter.toSeq ?? null, filter.incident ?? null, filter.kind ?? null, filter.refs ?? null, filter.limit ?? null],
  );
  return rows;
}

// ---------------------------------------------------------------------------------------------------
// Sealing evidence. What an entry holds about a piece of evidence is read back from the vault, in the
// transaction that wrote it, through the same queries `cradle verify` uses to check the rows later
// (EVIDENCE below): what was stored (a real rounded, a timestamp cut to the millisecond) is what is
// hashed, and the check compares like with like.

let osUser: string | undefined;

/** Who runs this process: the OS user, for entries made by CLI commands. */
export function cliActor(): string {
  if (osUser === undefined) {
    try {
      osUser = os.userInfo().username;
    } catch {
      osUser = process.env.USER ?? process.env.USERNAME ?? 'unknown';
    }
  }
  return osUser;
}

export interface SealMeta {
  actor?: string | null;
  incidentId?: string | null;
  at?: Date;
}

/** The kinds of evidence rows sealed in the ledger and checked by `cradle verify`. */
export type EvidenceKind = 'contact' | 'hit' | 'export' | 'scan' | 'import';

export interface EvidenceSource {
  /** The rows' key, for paging: id > $1 ORDER BY key. */
  keyType: 'bigint' | 'text';
  /** The table, with its alias (keyColumn's). */
  table: string;
  /** Tables joined to it, if any. */
  join?: string;
  /** The columns `content` needs, and the key as `key`. */
  columns: string;
  keyColumn: string;
  /** Which rows of the table are evidence of this kind (and-ed into the WHERE). */
  filter?: string;
  /** The content of an entry about this row. */
  content(row: Record<string, unknown>): unknown;
  /** The row's incident, where it has one. */
  incident?(row: Record<string, unknown>): string | null;
}

const iso = (v: unknown): string | null => (v === null || v === undefined ? null : v instanceof Date ? v.toISOString() : new Date(String(v)).toISOString());
const num = (v: unknown): number | null => (v === null || v === undefined ? null : Number(v));
const sortedIds = (v: unknown): string[] => (Array.isArray(v) ? (v as unknown[]).filter((x) => x !== null).map(String) : []).sort();

/** What an import entry says of its removal (`cradle logs remove`): when, who, why, and the counts of what went. */
function removedContent(r: Record<string, unknown>): Record<string, unknown> {
  const counts = (r.removed && typeof r.removed === 'object' ? r.removed : {}) as Record<string, unknown>;
  return {
    at: iso(r.removed_at),
    by: r.removed_by ?? null,
    reason: r.removal_reason ?? null,
    ...Object.fromEntries(Object.keys(counts).map((k) => [k, num(counts[k])])),
  };
}

export const EVIDENCE: Record<EvidenceKind, EvidenceSource> = {
  contact: {
    keyType: 'bigint',
    keyColumn: 'e.id',
    table: 'contact_events e',
    columns: `e.id AS key, e.id, e.source, e.provider_id, e.kind, e.from_address, e.to_address, e.occurred_at, e.received_at, e.sha256, e.body, e.triaged_at`,
    content: (r) => ({
      id: num(r.id),
      source: r.source,
      provider_id: r.provider_id ?? null,
      kind: r.kind,
      from: r.from_address ?? null,
      to: r.to_address,
      occurred_at: iso(r.occurred_at),
      received_at: iso(r.received_at),
      sha256: r.sha256,
      body_sha256: r.body === null || r.body === undefined ? null : sha256Hex(String(r.body)),
    }),
  },
  hit: {
    keyType: 'bigint',
    keyColumn: 'h.id',
    table: 'hits h',
    columns: `h.id AS key, h.id, h.event_id, h.canary_id, h.confidence, h.reasons, h.incident_id, h.status, h.candidates`,
    // status only once a hit is dismissed (migration 013), candidates only for an ambiguous hit
    // (migration 017): entries made before them keep matching.
    content: (r) => ({
      id: num(r.id),
      event_id: num(r.event_id),
      canary_id: r.canary_id,
      confidence: num(r.confidence),
      reasons: r.reasons,
      incident_id: r.incident_id ?? null,
      ...(r.status !== undefined && r.status !== null && r.status !== 'active' ? { status: r.status } : {}),
      ...(Array.isArray(r.candidates) ? { candidates: r.candidates } : {}),
    }),
    incident: (r) => (r.incident_id as string | null) ?? null,
  },
  export: {
    keyType: 'text',
    keyColumn: 'x.id',
    table: 'exports x',
    join: 'JOIN channels ch ON ch.id = x.channel_id',
    columns: `x.id AS key, x.id, ch.kind || ':' || ch.name AS channel, x.operator, x.file_name, x.sha256, x.bytes, x.row_count, x.canary_count, x.created_at,
              (SELECT array_agg(r.canary_id) FROM export_rows r WHERE r.export_id = x.id) AS canaries`,
    content: (r) => ({
      id: r.id,
      channel: r.channel,
      operator: r.operator ?? null,
      file_name: r.file_name,
      sha256: r.sha256,
      bytes: num(r.bytes),
      row_count: num(r.row_count),
      canary_count: num(r.canary_count),
      created_at: iso(r.created_at),
      canaries: sortedIds(r.canaries),
    }),
  },
  scan: {
    keyType: 'text',
    keyColumn: 'i.id',
    table: 'incidents i',
    // The matches read once for all three of their figures (a scan keeps up to 100,000): an aggregate
    // with no GROUP BY gives one row even for none (0, null, the hash of '').
    join: `CROSS JOIN LATERAL (
             SELECT count(*)::int AS matches, array_agg(DISTINCT m.canary_id) AS canaries,
                    encode(sha256(convert_to(coalesce(string_agg(concat_ws(E'\\t', m.canary_id, m.file, m.place, coalesce(m.column_name, ''), array_to_string(m.kinds, ','), m.matched, m.confidence::text, m.reason), E'\\n' ORDER BY m.id), ''), 'UTF8')), 'hex') AS matches_sha256
               FROM scan_matches m WHERE m.incident_id = i.id) sm`,
    columns: `i.id AS key, i.id,
                    (SELECT json_agg(json_build_object('file', f.file, 'sha256', f.sha256, 'bytes', f.bytes)) FROM scan_files f WHERE f.incident_id = i.id) AS files,
                    sm.matches, sm.canaries, sm.matches_sha256`,
    filter: `i.source = 'scan'`,
    content: (r) => ({
      incident: r.id,
      files: ((r.files as { file: string; sha256: string; bytes: number }[] | null) ?? []).map((f) => ({ file: f.file, sha256: f.sha256, bytes: Number(f.bytes) })).sort((a, b) => (a.file < b.file ? -1 : a.file > b.file ? 1 : 0)),
      matches: num(r.matches),
      matches_sha256: r.matches_sha256,
      canaries: sortedIds(r.canaries),
    }),
    incident: (r) => r.id as string,
  },
  import: {
    keyType: 'bigint',
    keyColumn: 'i.id',
    table: 'access_imports i',
    columns: `i.id AS key, i.id, i.path, i.sha256, i.format, i.state, i.lines_done, i.added, i.duplicates, i.rejected,
              (SELECT count(*)::int FROM tripwires t WHERE t.import_id = i.id) AS tripwires, i.removed_at, i.removed_by, i.removal_reason, i.removed`,
    // A finished import, and one taken back by `cradle logs remove` (sealed again then, with `removed`).
    filter: `i.state IN ('done', 'removed')`,
    content: (r) => ({
      id: num(r.id),
      file: r.path,
      sha256: r.sha256,
      format: r.format,
      lines: num(r.lines_done),
      added: num(r.added),
      duplicates: num(r.duplicates),
      rejected: num(r.rejected),
      tripwires: num(r.tripwires),
      ...(r.state === 'removed' ? { removed: removedContent(r) } : {}),
    }),
  },
};

/** SELECT … FROM … for one kind of evidence, `WHERE` to follow; `extra` columns added. */
export function evidenceSelect(src: EvidenceSource, extra = ''): string {
  return `SELECT ${src.columns}${extra ? `, ${extra}` : ''} FROM ${src.table}${src.join ? ` ${src.join}` : ''}`;
}

/** The evidence rows with these keys, as EVIDENCE[kind] selects them. */
export async function evidenceRows(db: Queryable, kind: EvidenceKind, keys: readonly (string | number)[]): Promise<Record<string, unknown>[]> {
  const src = EVIDENCE[kind];
  const { rows } = await db.query<Record<string, unknown>>(`${evidenceSelect(src)} WHERE ${src.filter ? `${src.filter} AND ` : ''}${src.keyColumn} = ANY($1::${src.keyType}[])`, [keys.map(String)]);
  return rows;
}

/** Append an entry holding what the vault now holds about one evidence row (written in this transaction). */
export async function sealEvidence(tx: Queryable, kind: EvidenceKind, key: string | number, meta: SealMeta = {}): Promise<LedgerEntry> {
  const [row] = await evidenceRows(tx, kind, [key]);
  if (!row) throw new Error(`cannot seal ${kind} ${key}: no such row`);
  const src = EVIDENCE[kind];
  return appendLedger(tx, {
    kind,
    ref: String(key),
    incidentId: meta.incidentId !== undefined ? meta.incidentId : (src.incident?.(row) ?? null),
    actor: meta.actor === undefined ? cliActor() : meta.actor,
    content: src.content(row),
    at: meta.at,
  });
}

/**
 * Many evidence rows of one kind at once, in key order, in one append: the same entries as sealEvidence
 * on each in turn. Returns the entries.
 */
export async function sealEvidenceMany(tx: Queryable, kind: EvidenceKind, keys: readonly (string | number)[], meta: Omit<SealMeta, 'incidentId'> = {}): Promise<LedgerEntry[]> {
  if (keys.length === 0) return [];
  const src = EVIDENCE[kind];
  const byKey = new Map((await evidenceRows(tx, kind, keys)).map((r) => [String(r.key), r]));
  return appendLedgerEntries(tx, keys.map((key) => {
    const row = byKey.get(String(key));
    if (!row) throw new Error(`cannot seal ${kind} ${key}: no such row`);
    return { kind, ref: String(key), incidentId: src.incident?.(row) ?? null, actor: meta.actor === undefined ? cliActor() : meta.actor, content: src.content(row), at: meta.at };
  }));
}

/**
 * Contacts triaged with no incident (ignored, or below the threshold before any incident), all at
 * once: a `contact` entry for each, in key order, and their metadata in `rows` entries (up to
 * ROWS_PER_ENTRY contacts each) rather than one per contact.
 */
export async function sealContacts(tx: Queryable, ids: readonly number[], meta: Omit<SealMeta, 'incidentId'> = {}): Promise<void> {
  if (ids.length === 0) return;
  await sealEvidenceMany(tx, 'contact', ids, meta);
  await sealRows(tx, 'contact_events', ids, meta);
}

/** A contact as it is triaged: its `contact` entry, and its full metadata (headers, remote address…) as a sealed row. */
export async function sealContact(tx: Queryable, id: number, meta?: SealMeta): Promise<LedgerEntry> {
  const entry = await sealEvidence(tx, 'contact', id, meta);
  await sealRows(tx, 'contact_events', [id], meta);
  return entry;
}

/**
 * What sealContact and sealContacts read of each contact, read for many contacts at once (one
 * statement): for a batch that seals its contacts one by one as it triages them, and changes none of
 * what is sealed meanwhile. By contact id.
 */
/**
 * Contacts hashed or sealed in one go by readContactSeals and sealContactsRead before they let the event
 * loop run (setImmediate): in `cradle watch` they share the process with the webhooks, each answered
 * only once stored, which must not wait for a triage batch's hundred hashes.
 */
const SEAL_CHUNK = 25;
const breathe = () => new Promise<void>((resolve) => setImmediate(resolve));

export interface ContactSeal {
  evidence: Record<string, unknown>;
  /** The contact_events row's hash for its `rows` entry. */
  rowHash: string;
}

export async function readContactSeals(tx: Queryable, ids: readonly number[]): Promise<Map<number, ContactSeal>> {
  const out = new Map<number, ContactSeal>();
  if (ids.length === 0) return out;
  const keys = [...new Set(ids.map(String))];
  // One read: the row's columns (ROWS) hold every column its `contact` entry takes (EVIDENCE.contact).
  const { rows } = await tx.query<Record<string, unknown> & { key: string }>(`${rowSelect('contact_events')} WHERE ${ROWS.contact_events.key} = ANY($1::bigint[])`, [keys]);
  for (let i = 0; i < rows.length; i++) {
    if (i && i % SEAL_CHUNK === 0) await breathe();
    out.set(Number(rows[i].key), { evidence: rows[i], rowHash: rowHash('contact_events', rows[i]) });
  }
  return out;
}

function contactSeal(seals: ReadonlyMap<number, ContactSeal>, id: number): ContactSeal {
  const seal = seals.get(id);
  if (!seal) throw new Error(`cannot seal contact ${id}: no such row`);
  return seal;
}

/** sealContact from what readContactSeals read: the same two entries, no read. */
export async function sealContactRead(tx: Queryable, seals: ReadonlyMap<number, ContactSeal>, id: number, meta: SealMeta = {}): Promise<LedgerEntry> {
  const seal = contactSeal(seals, id);
  const actor = meta.actor === undefined ? cliActor() : meta.actor;
  const [entry] = await appendLedgerEntries(tx, [
    { kind: 'contact', ref: String(id), incidentId: meta.incidentId !== undefined ? meta.incidentId : null, actor, content: EVIDENCE.contact.content(seal.evidence), at: meta.at },
    { kind: 'rows', ref: 'contact_events', incidentId: meta.incidentId ?? null, actor, content: { table: 'contact_events', rows: { [String(id)]: seal.rowHash } }, at: meta.at },
  ]);
  return entry;
}

/** sealContacts from what readContactSeals read: the same entries, no read. */
export async function sealContactsRead(tx: Queryable, seals: ReadonlyMap<number, ContactSeal>, ids: readonly number[], meta: Omit<SealMeta, 'incidentId'> = {}): Promise<void> {
  if (ids.length === 0) return;
  const actor = meta.actor === undefined ? cliActor() : meta.actor;
  // The contacts' entries SEAL_CHUNK at a time, the event loop let run between (the same entries in the same order).
  for (let i = 0; i < ids.length; i += SEAL_CHUNK) {
    if (i) await breathe();
    await appendLedgerEntries(tx, ids.slice(i, i + SEAL_CHUNK).map((id) => ({ kind: 'contact', ref: String(id), incidentId: null, actor, content: EVIDENCE.contact.content(contactSeal(seals, id).evidence), at: meta.at })));
  }
  const entries: NewLedgerEntry[] = [];
  const unique = [...new Set(ids)];
  for (let i = 0; i < unique.length; i += ROWS_PER_ENTRY) {
    const rows = Object.fromEntries(unique.slice(i, i + ROWS_PER_ENTRY).map((id) => [String(id), contactSeal(seals, id).rowHash]));
    entries.push({ kind: 'rows', ref: 'contact_events', incidentId: null, actor, content: { table: 'contact_events', rows }, at: meta.at });
  }
  await appendLedgerEntries(tx, entries);
}

/** The columns of a hit its `hit` entry holds, for `RETURNING` (as EVIDENCE.hit selects them). */
export const HIT_EVIDENCE_COLUMNS = 'id AS key, id, event_id, canary_id, confidence, reasons, incident_id, status, candidates';

/** sealHit from the hit's row as just written (RETURNING HIT_EVIDENCE_COLUMNS): the same entry, no read. */
export function sealHitRow(tx: Queryable, row: Record<string, unknown>, meta: SealMeta = {}): Promise<LedgerEntry> {
  const src = EVIDENCE.hit;
  return appendLedger(tx, {
    kind: 'hit',
    ref: String(row.key),
    incidentId: meta.incidentId !== undefined ? meta.incidentId : (src.incident?.(row) ?? null),
    actor: meta.actor === undefined ? cliActor() : meta.actor,
    content: src.content(row),
    at: meta.at,
  });
}

export const sealHit = (tx: Queryable, id: number, meta?: SealMeta) => sealEvidence(tx, 'hit', id, meta);
export const sealExport = (tx: Queryable, id: string, meta?: SealMeta) => sealEvidence(tx, 'export', id, meta);
export const sealScan = (tx: Queryable, incidentId: string, meta?: SealMeta) => sealEvidence(tx, 'scan', incidentId, meta);
export const sealImport = (tx: Queryable, id: number, meta?: SealMeta) => sealEvidence(tx, 'import', id, meta);

export interface TraceRecord {
  incident: string;
  suspects: { key: string; posterior: number }[];
  canaries: number;
  vaultSize: number;
}

/** A trace run: who ran it and what it concluded (posteriors to 6 digits). */
export async function recordTrace(tx: Queryable, t: TraceRecord, meta: SealMeta = {}): Promise<LedgerEntry> {
  return appendLedger(tx, {
    kind: 'trace',
    ref: t.incident,
    incidentId: t.incident,
    actor: meta.actor === undefined ? cliActor() : meta.actor,
    content: { incident: t.incident, suspects: t.suspects.map((s) => ({ key: s.key, posterior: Math.round(s.posterior * 1e6) / 1e6 })), canaries: t.canaries, vault_size: t.vaultSize },
    at: meta.at,
  });
}

export interface ReportRecord {
  /** The incident it is about; null for a report on the whole program (`cradle audit`). */
  incident: string | null;
  /** The entry's ref; default the incident. */
  ref?: string;
  /** What a report without an incident covers (an audit's period and hospital), kept in the entry's content. */
  scope?: Record<string, unknown>;
  format: string;
  /** The report file as written (its name or path). */
  file: string;
  /** Of the file's bytes. */
  sha256: string;
  lang: string;
  /** Who made it; default the OS user. */
  actor?: string | null;
  at?: Date;
}

/** A report written (about an incident, or an audit): call in a transaction once the file is complete. */
export async function recordReport(tx: Queryable, r: ReportRecord): Promise<LedgerEntry> {
  return appendLedger(tx, {
    kind: 'report',
    ref: r.ref ?? r.incident ?? 'audit',
    incidentId: r.incident,
    actor: r.actor === undefined ? cliActor() : r.actor,
    content: { incident: r.incident, format: r.format, file: r.file, sha256: r.sha256, lang: r.lang, ...(r.scope ? { scope: r.scope } : {}) },
    at: r.at,
  });
}

// ---------------------------------------------------------------------------------------------------
// Sealing rows. What decides who is blamed (every row the trace reads: exposures, channels, canaries,
// export manifests and codewords, incidents, contact metadata, access events as stored in their blocks,
// tripwires) is sealed by `rows` entries, written in the transaction that writes the rows:
//   ref = the table; content = { table, rows: { <row key>: sha256 of the row's canonical content | null } }
// (null: Cradle deleted the row). The newest entry naming a row is what the row must match; a row no
// entry names was inserted behind Cradle's back. Hashes, not copies: the entries stay small, and a block
// of 50,000 access events is one sha256 of its stored text, computed by the database.

export type SealedTable = 'incidents' | 'canaries' | 'channels' | 'exposures' | 'export_rows' | 'export_codewords' | 'code_pools' | 'contact_events' | 'tripwires' | 'access_blocks';

export interface RowSource {
  /** The key's type, for paging: key > $1 ORDER BY key. */
  keyType: 'bigint' | 'text';
  /** The row key as SQL over `from`'s alias. */
  key: string;
  from: string;
  /** The columns `content` needs. */
  columns: string;
  /** The rows with the keys in $1 (text[]), through an index; default: key = ANY($1). */
  lookup?: string;
  /** Rows that are not sealed yet by design (sealed later by their own write path): no entry is no problem. */
  unsealed?: string;
  content(row: Record<string, unknown>): unknown;
}

const pick = (r: Record<string, unknown>, names: readonly string[], times: readonly string[] = []): Record<string, unknown> => {
  const out: Record<string, unknown> = {};
  for (const n of names) out[n] = r[n] === undefined ? null : typeof r[n] === 'bigint' ? Number(r[n]) : r[n];
  for (const t of times) out[t] = iso(r[t]);
  return out;
};

export const ROWS: Record<SealedTable, RowSource> = {
  incidents: {
    keyType: 'text',
    key: 'i.id',
    from: 'incidents i',
    columns: 'i.id, i.source, i.title, i.status, i.summary, i.created_at, i.merged_into',
    // merged_into only for a merged incident (migration 013): rows sealed before it keep their hash.
    content: (r) => ({ ...pick(r, ['id', 'source', 'title', 'status', 'summary'], ['created_at']), ...(r.merged_into ? { merged_into: r.merged_into } : {}) }),
  },
  canaries: {
    keyType: 'text',
    key: 'c.id',
    from: 'canaries c',
    columns: 'c.*',
    // A canary is sealed once it is in place (planted, or written into an export): a pending one is not yet.
    unsealed: `c.status = 'pending'`,
    content: (r) =>
      pick(
        r,
        ['id', 'hospital', 'batch_id', 'export_id', 'code_pool_id', 'code_position', 'status', 'iso_week', 'ward', 'family', 'mother_name', 'father_name', 'mother_phone', 'father_phone', 'email', 'target_keys'],
        ['created_at', 'planted_at', 'retired_at'],
      ),
  },
  channels: {
    keyType: 'bigint',
    key: 'ch.id',
    from: 'channels ch',
    columns: 'ch.id, ch.hospital, ch.kind, ch.name, ch.created_at',
    content: (r) => ({ ...pick(r, ['hospital', 'kind', 'name'], ['created_at']), id: num(r.id) }),
  },
  exposures: {
    keyType: 'bigint',
    key: 'e.id',
    from: 'exposures e',
    columns: 'e.id, e.canary_id, e.channel_id, e.exposed_at, e.source, e.detail',
    content: (r) => ({ ...pick(r, ['canary_id', 'source', 'detail'], ['exposed_at']), id: num(r.id), channel_id: num(r.channel_id) }),
  },
  export_rows: {
    keyType: 'text',
    key: `(r.export_id || ':' || r.canary_id)`,
    from: 'export_rows r',
    lookup: `r.export_id = ANY(SELECT split_part(k, ':', 1) FROM unnest($1::text[]) k) AND (r.export_id || ':' || r.canary_id) = ANY($1::text[])`,
    columns: 'r.export_id, r.canary_id, r.row_number',
    content: (r) => pick(r, ['export_id', 'canary_id', 'row_number']),
  },
  export_codewords: {
    keyType: 'text',
    key: 'w.export_id',
    from: 'export_codewords w',
    columns: 'w.export_id, w.pool_id, w.codeword, w.positions',
    content: (r) => pick(r, ['export_id', 'pool_id', 'codeword', 'positions']),
  },
  code_pools: {
    keyType: 'text',
    key: 'p.id',
    from: 'code_pools p',
    columns: 'p.id, p.hospital, p.construction, p.weight, p.field, p.degree, p.length, p.created_at',
    content: (r) => pick(r, ['id', 'hospital', 'construction', 'weight', 'field', 'degree', 'length'], ['created_at']),
  },
  contact_events: {
    keyType: 'bigint',
    key: 'ce.id',
    from: 'contact_events ce',
    // Everything but the raw bytes (checked against sha256) and triaged_at (set after the seal).
    columns: 'ce.id, ce.source, ce.provider_id, ce.kind, ce.from_address, ce.to_address, ce.occurred_at, ce.received_at, ce.body, ce.remote_addr, ce.headers, ce.sha256',
    // Sealed when triaged, with its `contact` entry (docs/ledger.md, "Contacts not sealed yet").
    unsealed: 'ce.triaged_at IS NULL',
    content: (r) => ({ ...pick(r, ['source', 'provider_id', 'kind', 'from_address', 'to_address', 'body', 'remote_addr', 'headers', 'sha256'], ['occurred_at', 'received_at']), id: num(r.id) }),
  },
  tripwires: {
    keyType: 'bigint',
    key: 't.id',
    from: 'tripwires t',
    columns: 't.id, t.import_id, t.line, t.canary_id, t.hospital, t.account, t.action, t.at, t.scope, t.system, t.ip',
    content: (r) => ({ ...pick(r, ['canary_id', 'hospital', 'account', 'action', 'scope', 'system', 'ip'], ['at']), id: num(r.id), import_id: num(r.import_id), line: num(r.line) }),
  },
  access_blocks: {
    keyType: 'bigint',
    key: 'b.id',
    from: 'access_blocks b',
    // The events as stored, as one hash computed by the database: the block is never unpacked.
    columns: `b.id, b.hospital, b.import_id, b.first_line, b.last_line, b.from_at, b.to_at, b.events_count, encode(sha256(convert_to(b.events, 'UTF8')), 'hex') AS events_sha256`,
    content: (r) => ({
      ...pick(r, ['hospital', 'events_sha256'], ['from_at', 'to_at']),
      id: num(r.id),
      import_id: num(r.import_id),
      first_line: num(r.first_line),
      last_line: num(r.last_line),
      events_count: num(r.events_count),
    }),
  },
};

export const SEALED_TABLES = Object.keys(ROWS) as SealedTable[];
/** Most rows one entry seals: keeps entries (and the baseline's) a few hundred KB at most. */
export const ROWS_PER_ENTRY = 5000;

/** The hash a `rows` entry keeps for a row. */
export function rowHash(table: SealedTable, row: Record<string, unknown>): string {
  return contentHash(ROWS[table].content(row));
}

/** SELECT key, columns FROM the table; `WHERE …` to follow. */
export function rowSelect(table: SealedTable, extra = ''): string {
  const src = ROWS[table];
  return `SELECT ${ROWS_COLUMNS(table)}${extra ? `, ${extra}` : ''} FROM ${src.from}`;
}

/** The key and columns sealRows reads of a table (with its alias: an INSERT … AS alias can RETURNING them). */
export function ROWS_COLUMNS(table: SealedTable): string {
  const src = ROWS[table];
  return `${src.key}::text AS key, ${src.columns}`;
}

/** RETURNING key, columns: a row as rowSelect reads it, from the INSERT that writes it (INSERT INTO the table AS `from`'s alias). */
export function rowReturning(table: SealedTable): string {
  return `RETURNING ${ROWS_COLUMNS(table)}`;
}

/**
 * Seal these rows of a table as they now are (written or deleted in this transaction): one `rows`
 * entry per ROWS_PER_ENTRY keys. A key with no row is recorded as deleted.
 */
export async function sealRows(tx: Queryable, table: SealedTable, keys: readonly (string | number)[], meta: SealMeta & { baseline?: boolean } = {}): Promise<LedgerEntry[]> {
  const entries: LedgerEntry[] = [];
  const unique = [...new Set(keys.map(String))];
  for (let i = 0; i < unique.length; i += ROWS_PER_ENTRY) {
    const chunk = unique.slice(i, i + ROWS_PER_ENTRY);
    const src = ROWS[table];
    const lookup = src.lookup ?? `${src.key} = ANY($1::${src.keyType}[])`;
    const { rows } = await tx.query<Record<string, unknown> & { key: string }>(`${rowSelect(table)} WHERE ${lookup}`, [chunk]);
    entries.push(await sealRowsRead(tx, table, chunk, rows, meta));
  }
  return entries;
}

/** sealRows of rows as just written (RETURNING rowReturning(table)), at most ROWS_PER_ENTRY: the same entry, no read. */
export function sealRowsOf(tx: Queryable, table: SealedTable, rows: readonly (Record<string, unknown> & { key: string })[], meta: SealMeta = {}): Promise<LedgerEntry> {
  if (rows.length > ROWS_PER_ENTRY) throw new Error(`sealRowsOf: ${rows.length} rows, more than one entry seals`);
  return sealRowsRead(tx, table, [...new Set(rows.map((r) => r.key))], rows, meta);
}

/** sealRows' entry for at most ROWS_PER_ENTRY keys from their rows as read (ROWS_COLUMNS) or just written (RETURNING them): a key with no row is recorded as deleted. */
export async function sealRowsRead(tx: Queryable, table: SealedTable, keys: readonly string[], rows: readonly (Record<string, unknown> & { key: string })[], meta: SealMeta & { baseline?: boolean } = {}): Promise<LedgerEntry> {
  const hashes: Record<string, string | null> = Object.fromEntries(keys.map((k) => [k, null]));
  for (const r of rows) hashes[r.key] = rowHash(table, r);
  return appendLedger(tx, {
    kind: 'rows',
    ref: table,
    incidentId: meta.incidentId ?? null,
    actor: meta.actor === undefined ? cliActor() : meta.actor,
    content: { table, ...(meta.baseline ? { baseline: true } : {}), rows: hashes },
    at: meta.at,
  });
}

/**
 * A vault upgraded to migration 010 that held rows of the sealed tables gets them sealed once, in
 * `rows` entries marked `baseline` (docs/ledger.md, "Vaults older than the ledger"). Runs after the
 * migrations (the CLI's vault opening); a no-op (one read) otherwise. Refused once any row was sealed
 * the ordinary way: a marker planted later must not get rows inserted since then sealed.
 */
export async function sealRowsBaseline(db: Database, actor: string | null = 'baseline'): Promise<number> {
  const { rows: pending } = await db.query<{ n: number }>(`SELECT count(*)::int AS n FROM ledger_rows_baseline WHERE sealed_seq IS NULL`);
  if (!pending[0].n) return 0;
  return db.transaction(async (tx) => {
    const { rows: marker } = await tx.query<{ sealed_seq: number | null }>(`SELECT sealed_seq FROM ledger_rows_baseline FOR UPDATE`);
    if (!marker.length || marker[0].sealed_seq !== null) return 0;
    const { rows: sealed } = await tx.query<{ n: number }>(`SELECT count(*)::int AS n FROM ledger WHERE kind = 'rows'`);
    if (sealed[0].n) {
      await tx.query(`UPDATE ledger_rows_baseline SET sealed_seq = 0`);
      return 0;
    }
    let count = 0;
    for (const table of SEALED_TABLES) {
      const src = ROWS[table];
      const { rows } = await tx.query<{ key: string }>(`SELECT ${src.key}::text AS key FROM ${src.from}${src.unsealed ? ` WHERE NOT (${src.unsealed})` : ''}`);
      if (rows.length) await sealRows(tx, table, rows.map((r) => r.key), { actor, baseline: true });
      count += rows.length;
    }
    const head = await ledgerHead(tx);
    await tx.query(`UPDATE ledger_rows_baseline SET sealed_seq = $1`, [head?.seq ?? 0]);
    return count;
  });
}
