import { createHash } from 'node:crypto';
import type { Queryable } from '../db/index.js';
import type { AccessRow } from '../accesslog/types.js';

// Access-log imports, their events and the tripwires they set off.

export interface AccessImportRow {
  id: number;
  hospital: string;
  path: string;
  format: string;
  sha256: string;
  state: 'running' | 'done';
  lines_done: number;
  added: number;
  duplicates: number;
  rejected: number;
  started_at: Date;
  finished_at: Date | null;
}

export interface AccessImportKey {
  hospital: string;
  path: string;
  format: string;
  sha256: string;
  sizeBytes: number;
  timeZone: string;
  options: Record<string, unknown>;
}

/** The import of this file with these options: the one already begun (to resume or report), or a new one. */
export async function beginAccessImport(db: Queryable, key: AccessImportKey): Promise<AccessImportRow> {
  const options = JSON.stringify(key.options);
  await db.query(
    `INSERT INTO access_imports (hospital, path, format, sha256, size_bytes, time_zone, options, state)
     VALUES ($1, $2, $3, $4, $5, $6, $7, 'running') ON CONFLICT (hospital, sha256, format, options) DO NOTHING`,
    [key.hospital, key.path, key.format, key.sha256, key.sizeBytes, key.timeZone, options],
  );
  const { rows } = await db.query<AccessImportRow>(
    `SELECT id, hospital, path, format, sha256, state, lines_done, added, duplicates, rejected, started_at, finished_at
       FROM access_imports WHERE hospital = $1 AND sha256 = $2 AND format = $3 AND options = $4::jsonb`,
    [key.hospital, key.sha256, key.format, options],
  );
  return rows[0];
}

export async function finishAccessImport(db: Queryable, importId: number, at: Date): Promise<void> {
  await db.query(`UPDATE access_imports SET state = 'done', finished_at = $2 WHERE id = $1`, [importId, at.toISOString()]);
}

/** The record key of every planted canary of the hospital: target_keys[alias][column] as text. */
export async function canaryRecordKeys(db: Queryable, hospital: string, recordKey: { alias: string; column: string }): Promise<Map<string, string>> {
  const { rows } = await db.query<{ id: string; record: string }>(
    `SELECT id, target_keys -> $2::text ->> $3::text AS record FROM canaries
      WHERE hospital = $1 AND status <> 'pending' AND target_keys -> $2::text ->> $3::text IS NOT NULL`,
    [hospital, recordKey.alias, recordKey.column],
  );
  return new Map(rows.map((r) => [r.record, r.id]));
}

/** One parsed line as the import stages it: see `stageLine`. */
export interface StagedAccess {
  line: number;
  row: AccessRow;
  /** Canaries whose records the row names. */
  canaries: string[];
}

const UNIT = '\x1e';
const needsQuotes = new RegExp(`[",\r\n${UNIT}]`);
const field = (v: string | null) => (v === null ? '' : needsQuotes.test(v) || v === '' ? `"${v.replace(/"/g, '""')}"` : v);
const list = (v: readonly string[]) => (v.length === 0 ? '' : v.some((x) => needsQuotes.test(x)) ? `"${v.map((x) => x.replace(/"/g, '""')).join(UNIT)}"` : v.join(UNIT));

/** The event's identity: a hash of its normalised fields, so the same event in two files is one. */
export function eventKey(atMs: number, account: string, action: string, records: readonly string[], system: string | null, ip: string | null): string {
  const hex = createHash('md5').update(`${atMs}\x1f${account}\x1f${action}\x1f${records.join(UNIT)}\x1f${system ?? ''}\x1f${ip ?? ''}`).digest('hex');
  return `${hex.slice(0, 8)}-${hex.slice(8, 12)}-${hex.slice(12, 16)}-${hex.slice(16, 20)}-${hex.slice(20)}`;
}

/**
 * A staged event as one line of CSV for COPY: its key, the time as epoch milliseconds, lists joined
 * by U+001E. Built by hand, not through objects: the import's hot path.
 */
export function stageLine(line: number, atMs: number, account: string, action: string, scope: 'single' | 'bulk', records: readonly string[], system: string | null, ip: string | null, canaries: readonly string[]): string {
  const key = eventKey(atMs, account, action, records, system, ip);
  return `${key},${line},${atMs},${field(account)},${field(action)},${scope},${list(records)},${field(system)},${field(ip)},${list(canaries)}\n`;
}

export function stagedLine(s: StagedAccess): string {
  return stageLine(s.line, s.row.at.getTime(), s.row.account, s.row.action, s.row.scope, s.row.records, s.row.system, s.row.ip, s.canaries);
}

export interface NewTripwire {
  tripwire: number;
  event: number;
  line: number;
  canary: string;
  account: string;
  action: string;
  scope: 'single' | 'bulk';
  at: Date;
  system: string | null;
  ip: string | null;
}


/**
 * `fresh`: the rows of `source` not stored yet (the caller stages each event of a batch once). There
 * is no unique index to lean on (it made every insert a random index probe); a log is written in time
 * order, so the events already stored in the batch's time span are read once and left out, usually
 * none.
 */
function freshEvents(): string {
  return `known AS MATERIALIZED (
       SELECT event_key FROM access_events
        WHERE hospital = $1 AND at BETWEEN (SELECT timestamptz 'epoch' + min(at_ms) * interval '1 millisecond' FROM access_stage)
                                       AND (SELECT timestamptz 'epoch' + max(at_ms) * interval '1 millisecond' FROM access_stage)),
     fresh AS (SELECT * FROM ${STAGED} s WHERE NOT EXISTS (SELECT 1 FROM known WHERE known.event_key = s.key))`;
}

/** Imports of one hospital's logs take turns: without a unique index, two at once could both store an event. */
async function lockAccessImports(tx: Queryable, hospital: string): Promise<void> {
  if (tx.kind === 'postgres') await tx.query(`SELECT pg_advisory_xact_lock(hashtext('cradle access import ' || $1))`, [hospital]);
}

const STAGE_COLUMNS = ['key', 'line', 'at_ms', 'account', 'action', 'scope', 'records', 'system', 'ip', 'canaries'];
const STAGED = `(SELECT key, line, timestamptz 'epoch' + at_ms * interval '1 millisecond' AS at, account, action, scope,
                  coalesce(string_to_array(records, chr(30)), '{}') AS records, system, ip,
                  coalesce(string_to_array(canaries, chr(30)), '{}') AS canaries FROM access_stage)`;

/**
 * Store a batch of staged lines (`stageLine`, `count` of them) in one statement: COPY into a staging
 * table, then insert what is not stored yet (the key is a hash of the normalised event, computed by
 * the server), and record a tripwire for every new event that names a canary's record. Call inside a
 * transaction.
 */
export async function storeAccessBatch(tx: Queryable, hospital: string, importId: number, staged: string): Promise<{ added: number; tripwires: NewTripwire[] }> {
  await lockAccessImports(tx, hospital);
  await tx.exec(
    `CREATE TEMP TABLE access_stage (key uuid, line bigint, at_ms bigint, account text, action text, scope text, records text, system text, ip text, canaries text) ON COMMIT DROP`,
  );
  await tx.copyCsvText('access_stage', STAGE_COLUMNS, staged);
  const { rows } = await tx.query<{ added: number; tripwires: { id: number; line: number; canaries: string[]; account: string; action: string; scope: 'single' | 'bulk'; at: string; system: string | null; ip: string | null }[] }>(
    `WITH ${freshEvents()},
     ins AS (
       INSERT INTO access_events (hospital, event_key, at, account, action, scope, records, system, ip, import_id, line)
       SELECT $1, key, at, account, action, scope, records, system, ip, $2, line FROM fresh
       RETURNING id, line)
     SELECT (SELECT count(*)::int FROM ins) AS added,
            (SELECT coalesce(json_agg(json_build_object('id', ins.id, 'line', ins.line, 'canaries', string_to_array(s.canaries, chr(30)), 'account', s.account,
                                                        'action', s.action, 'scope', s.scope, 'at', timestamptz 'epoch' + s.at_ms * interval '1 millisecond',
                                                        'system', s.system, 'ip', s.ip) ORDER BY ins.line), '[]'::json)
               FROM ins JOIN access_stage s USING (line) WHERE s.canaries IS NOT NULL) AS tripwires`,
    [hospital, importId],
  );
  const wires = rows[0].tripwires.flatMap((t) => t.canaries.map((canary) => ({ event: t.id, line: Number(t.line), canary, row: { ...t, at: new Date(t.at) } })));
  if (wires.length === 0) return { added: rows[0].added, tripwires: [] };
  const { rows: ids } = await tx.query<{ id: number }>(
    `INSERT INTO tripwires (event_id, canary_id, hospital, account, at, scope)
     SELECT e, c, h, a, at, s FROM unnest($1::bigint[], $2::text[], $3::text[], $4::text[], $5::timestamptz[], $6::text[]) WITH ORDINALITY AS t(e, c, h, a, at, s, n)
     ORDER BY n RETURNING id`,
    [wires.map((w) => w.event), wires.map((w) => w.canary), wires.map(() => hospital), wires.map((w) => w.row.account), wires.map((w) => w.row.at.toISOString()), wires.map((w) => w.row.scope)],
  );
  return {
    added: rows[0].added,
    tripwires: wires.map((w, i) => ({ tripwire: ids[i].id, event: w.event, line: w.line, canary: w.canary, account: w.row.account, action: w.row.action, scope: w.row.scope, at: w.row.at, system: w.row.system, ip: w.row.ip })),
  };
}

export async function advanceAccessImport(tx: Queryable, importId: number, progress: { linesDone: number; added: number; duplicates: number; rejected: number }): Promise<void> {
  await tx.query(`UPDATE access_imports SET lines_done = $2, added = added + $3, duplicates = duplicates + $4, rejected = rejected + $5 WHERE id = $1`, [
    importId,
    progress.linesDone,
    progress.added,
    progress.duplicates,
    progress.rejected,
  ]);
}

export interface AccessReject {
  line: number;
  reason: string;
  text: string;
}

export async function storeAccessRejects(tx: Queryable, importId: number, rejects: readonly AccessReject[]): Promise<void> {
  if (rejects.length === 0) return;
  await tx.query(`INSERT INTO access_rejects (import_id, line, reason, text) SELECT $1, * FROM unnest($2::bigint[], $3::text[], $4::text[]) ON CONFLICT DO NOTHING`, [
    importId,
    rejects.map((r) => r.line),
    rejects.map((r) => r.reason),
    rejects.map((r) => r.text),
  ]);
}

export async function accessRejects(db: Queryable, importId: number): Promise<AccessReject[]> {
  const { rows } = await db.query<AccessReject>(`SELECT line, reason, text FROM access_rejects WHERE import_id = $1 ORDER BY line`, [importId]);
  return rows;
}

/** Queue one alert per channel for each single-record tripwire. */
export async function queueTripwireAlerts(tx: Queryable, alerts: readonly { tripwireId: number; channel: string; payload: unknown }[]): Promise<void> {
  if (alerts.length === 0) return;
  await tx.query(
    `INSERT INTO alert_outbox (tripwire_id, channel, payload) SELECT * FROM unnest($1::bigint[], $2::text[], $3::jsonb[])
     ON CONFLICT (tripwire_id, channel) WHERE tripwire_id IS NOT NULL DO NOTHING`,
    [alerts.map((a) => a.tripwireId), alerts.map((a) => a.channel), alerts.map((a) => JSON.stringify(a.payload))],
  );
}

export interface TripwireRow {
  id: number;
  canary_id: string;
  account: string;
  at: Date;
  scope: 'single' | 'bulk';
  action: string;
  system: string | null;
  ip: string | null;
  path: string;
  line: number;
}

/** Tripwires since `since`, newest first. */
export async function listTripwires(db: Queryable, options: { hospital?: string; since?: Date; account?: string } = {}): Promise<TripwireRow[]> {
  const { rows } = await db.query<TripwireRow>(
    `SELECT t.id, t.canary_id, t.account, t.at, t.scope, e.action, e.system, e.ip, i.path, e.line
       FROM tripwires t JOIN access_events e ON e.id = t.event_id JOIN access_imports i ON i.id = e.import_id
      WHERE ($1::text IS NULL OR t.hospital = $1) AND ($2::timestamptz IS NULL OR t.at >= $2) AND ($3::text IS NULL OR t.account = $3)
      ORDER BY t.at DESC, t.id DESC`,
    [options.hospital ?? null, options.since?.toISOString() ?? null, options.account ?? null],
  );
  return rows;
}

/** Access-log lines that touched these canaries, for the accounts in a trace. */
export async function tripwiresOfCanaries(db: Queryable, canaryIds: readonly string[]): Promise<TripwireRow[]> {
  const { rows } = await db.query<TripwireRow>(
    `SELECT t.id, t.canary_id, t.account, t.at, t.scope, e.action, e.system, e.ip, i.path, e.line
       FROM tripwires t JOIN access_events e ON e.id = t.event_id JOIN access_imports i ON i.id = e.import_id
      WHERE t.canary_id = ANY($1::text[]) ORDER BY t.at`,
    [canaryIds],
  );
  return rows;
}

