import { createHash } from 'node:crypto';
import os from 'node:os';
import type { Queryable } from '../db/index.js';

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
  const entries = Object.entries(value as Record<string, unknown>).filter(([, v]) => v !== undefined);
  entries.sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${canonicalJson(v)}`).join(',')}}`;
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

/** Append one entry, chained to the current head. Call inside the transaction that writes what it records. */
export async function appendLedger(tx: Queryable, entry: NewLedgerEntry): Promise<LedgerEntry> {
  if (tx.kind === 'postgres') await tx.query(`SELECT pg_advisory_xact_lock($1)`, [LEDGER_LOCK]);
  const { rows } = await tx.query<{ seq: number; hash: string }>(`SELECT seq, hash FROM ledger ORDER BY seq DESC LIMIT 1`);
  // Content goes through JSON once so what is stored (jsonb) and what is hashed are the same value.
  const content = JSON.parse(canonicalJson(entry.content)) as unknown;
  // Timestamps are kept to the millisecond: what JavaScript and the hash can hold.
  const at = new Date(Math.floor((entry.at ?? new Date()).getTime()));
  const base = {
    seq: rows.length ? rows[0].seq + 1 : 1,
    at,
    kind: entry.kind,
    ref: entry.ref,
    incident_id: entry.incidentId ?? null,
    actor: entry.actor ?? null,
    content_hash: contentHash(content),
    prev_hash: rows.length ? rows[0].hash : GENESIS,
  };
  const full: LedgerEntry = { ...base, content, hash: entryHash(base) };
  await tx.query(
    `INSERT INTO ledger (seq, at, kind, ref, incident_id, actor, content, content_hash, prev_hash, hash) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
    [full.seq, at.toISOString(), full.kind, full.ref, full.incident_id, full.actor, JSON.stringify(content), full.content_hash, full.prev_hash, full.hash],
  );
  return full;
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
    columns: `h.id AS key, h.id, h.event_id, h.canary_id, h.confidence, h.reasons, h.incident_id`,
    content: (r) => ({ id: num(r.id), event_id: num(r.event_id), canary_id: r.canary_id, confidence: num(r.confidence), reasons: r.reasons, incident_id: r.incident_id ?? null }),
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
    columns: `i.id AS key, i.id,
                    (SELECT json_agg(json_build_object('file', f.file, 'sha256', f.sha256, 'bytes', f.bytes)) FROM scan_files f WHERE f.incident_id = i.id) AS files,
                    (SELECT count(*)::int FROM scan_matches m WHERE m.incident_id = i.id) AS matches,
                    (SELECT array_agg(DISTINCT m.canary_id) FROM scan_matches m WHERE m.incident_id = i.id) AS canaries,
                    (SELECT encode(sha256(convert_to(coalesce(string_agg(concat_ws(E'\\t', m.canary_id, m.file, m.place, coalesce(m.column_name, ''), array_to_string(m.kinds, ','), m.matched, m.confidence::text, m.reason), E'\\n' ORDER BY m.id), ''), 'UTF8')), 'hex')
                       FROM scan_matches m WHERE m.incident_id = i.id) AS matches_sha256`,
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
              (SELECT count(*)::int FROM tripwires t WHERE t.import_id = i.id) AS tripwires`,
    filter: `i.state = 'done'`,
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

export const sealContact = (tx: Queryable, id: number, meta?: SealMeta) => sealEvidence(tx, 'contact', id, meta);
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
