import type { Queryable } from '../db/index.js';
import { escapeControls } from '../lib/control.js';
import { blockEventTexts, eventTextTime } from './access-events.js';
import { rowReturning } from './ledger.js';

// Access-log imports, their events and the tripwires they set off.

export interface AccessImportRow {
  id: number;
  hospital: string;
  path: string;
  format: string;
  sha256: string;
  /**
   * failed: a run stopped on an error (the reason in `error`); the next run resumes it, as after a crash.
   * removed: taken back by `cradle logs remove` (src/vault/access-imports.ts).
   */
  state: 'running' | 'done' | 'failed' | 'removed';
  lines_done: number;
  added: number;
  duplicates: number;
  rejected: number;
  started_at: Date;
  finished_at: Date | null;
  error: string | null;
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

/**
 * The import of this file with these options: the one already begun (to resume or report), or a new
 * one. A removed import (`cradle logs remove`) holds no place: the file is imported afresh.
 */
export async function beginAccessImport(db: Queryable, key: AccessImportKey): Promise<AccessImportRow> {
  const options = JSON.stringify(key.options);
  const match = `hospital = $1 AND sha256 = $2 AND format = $3 AND options = $4::jsonb AND state <> 'removed'`;
  const params = [key.hospital, key.sha256, key.format, options];
  // Twice at most: an import removed between the insert and the read leaves no row to read.
  for (let attempt = 0; ; attempt++) {
    await db.query(
      `INSERT INTO access_imports (hospital, path, format, sha256, size_bytes, time_zone, options, state)
       VALUES ($1, $2, $3, $4, $5, $6, $7, 'running') ON CONFLICT (hospital, sha256, format, options) WHERE state <> 'removed' DO NOTHING`,
      [key.hospital, key.path, key.format, key.sha256, key.sizeBytes, key.timeZone, options],
    );
    // A failed import is taken up again: this run resumes it.
    await db.query(`UPDATE access_imports SET state = 'running' WHERE ${match} AND state = 'failed'`, params);
    const { rows } = await db.query<AccessImportRow>(`SELECT ${IMPORT_COLUMNS} FROM access_imports WHERE ${match}`, params);
    if (rows.length || attempt > 0) return importRow(rows[0]);
  }
}

const IMPORT_COLUMNS = 'id, hospital, path, format, sha256, state, lines_done, added, duplicates, rejected, started_at, finished_at, error';

/** Counts as numbers (bigint columns come back from pg as text). */
function importRow(row: AccessImportRow): AccessImportRow {
  return { ...row, id: Number(row.id), lines_done: Number(row.lines_done), added: Number(row.added), duplicates: Number(row.duplicates), rejected: Number(row.rejected) };
}

/**
 * The import's row, locked for the transaction. A run checks that the row is where it left it before
 * committing a batch or finishing: two runs of one import at once would otherwise both count (and
 * seal) what only one of them stored.
 */
export async function lockAccessImport(tx: Queryable, importId: number): Promise<AccessImportRow> {
  const { rows } = await tx.query<AccessImportRow>(`SELECT ${IMPORT_COLUMNS} FROM access_imports WHERE id = $1 FOR UPDATE`, [importId]);
  return importRow(rows[0]);
}

export async function finishAccessImport(db: Queryable, importId: number, at: Date): Promise<void> {
  await db.query(`UPDATE access_imports SET state = 'done', finished_at = $2, error = NULL WHERE id = $1`, [importId, at.toISOString()]);
}

/** Mark a run's import failed with the reason, unless another run has moved it on since `linesDone`. */
export async function failAccessImport(db: Queryable, importId: number, linesDone: number, reason: string): Promise<void> {
  await db.query(`UPDATE access_imports SET state = 'failed', error = $3 WHERE id = $1 AND state = 'running' AND lines_done = $2`, [
    importId,
    linesDone,
    escapeControls(reason).slice(0, 2000),
  ]);
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

/** A block of events (src/accesslog/block.ts): its lines (src/vault/access-events.ts) as stored, and its extent. */
export interface AccessBlock {
  hospital: string;
  importId: number;
  firstLine: number;
  lastLine: number;
  fromMs: number;
  toMs: number;
  count: number;
  events: Uint8Array;
}

/** Imports of one hospital's logs take turns: two at once could both store an event neither had seen stored. */
export async function lockAccessImports(tx: Queryable, hospital: string): Promise<void> {
  await tx.serialize(`cradle access import ${hospital}`);
}

/** The event texts of the stored blocks whose span meets [fromMs, toMs], blocks `except` left out. */
export async function eventTextsBetween(tx: Queryable, hospital: string, fromMs: number, toMs: number, except: readonly number[]): Promise<string[]> {
  const { rows } = await tx.query<{ events: string }>(
    `SELECT events FROM access_blocks
      WHERE hospital = $1 AND to_at >= $2 AND from_at <= $3 AND id <> ALL($4::bigint[])`,
    [hospital, new Date(fromMs).toISOString(), new Date(toMs).toISOString(), except],
  );
  const texts: string[] = [];
  for (const { events } of rows) {
    for (const text of blockEventTexts(events)) {
      const at = eventTextTime(text);
      if (at >= fromMs && at <= toMs) texts.push(text);
    }
  }
  return texts;
}

/**
 * Store a block of events, in the caller's transaction; its row as the ledger seals it (rowReturning).
 * The text goes as one parameter of bytes: COPY parsed its 3.8 MB as a CSV field byte by
 * byte, and sealing read it back (detoasted) to hash it; RETURNING hashes it before it is compressed.
 */
export async function storeAccessBlock(tx: Queryable, block: AccessBlock): Promise<Record<string, unknown> & { key: string }> {
  // Bytes, not a string: node-pg sends them as they are (binary format; the server checks the UTF-8), PGlite reads them as text.
  const events = Buffer.from(block.events.buffer, block.events.byteOffset, block.events.byteLength);
  const { rows } = await tx.query<Record<string, unknown> & { key: string }>(
    `INSERT INTO access_blocks AS b (hospital, import_id, first_line, last_line, from_at, to_at, events_count, events)
     VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ${rowReturning('access_blocks')}`,
    [block.hospital, block.importId, block.firstLine, block.lastLine, new Date(block.fromMs).toISOString(), new Date(block.toMs).toISOString(), block.count, events],
  );
  return rows[0];
}


/** An event of a batch that names canaries' records. */
export interface CanaryAccess {
  line: number;
  at: Date;
  account: string;
  action: string;
  scope: 'single' | 'bulk';
  system: string | null;
  ip: string | null;
  canaries: readonly string[];
}

export interface NewTripwire extends Omit<CanaryAccess, 'canaries'> {
  tripwire: number;
  canary: string;
}

/** A tripwire for each canary each access names (the caller passes accesses of events it stored). */
export async function storeTripwires(tx: Queryable, hospital: string, importId: number, accesses: readonly CanaryAccess[]): Promise<NewTripwire[]> {
  const wires = accesses.flatMap(({ canaries, ...access }) => canaries.map((canary) => ({ ...access, canary })));
  if (wires.length === 0) return [];
  const { rows } = await tx.query<{ id: number }>(
    `INSERT INTO tripwires (import_id, line, canary_id, hospital, account, action, at, scope, system, ip)
     SELECT $1, l, c, $2, a, act, at, s, sys, ip
       FROM unnest($3::bigint[], $4::text[], $5::text[], $6::text[], $7::timestamptz[], $8::text[], $9::text[], $10::text[]) WITH ORDINALITY AS t(l, c, a, act, at, s, sys, ip, n)
      ORDER BY n RETURNING id`,
    [
      importId,
      hospital,
      wires.map((w) => w.line),
      wires.map((w) => w.canary),
      wires.map((w) => w.account),
      wires.map((w) => w.action),
      wires.map((w) => w.at.toISOString()),
      wires.map((w) => w.scope),
      wires.map((w) => w.system),
      wires.map((w) => w.ip),
    ],
  );
  return wires.map((w, i) => ({ ...w, tripwire: rows[i].id }));
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
    // Escaped whatever reader made them: a NUL cannot be stored, a newline would forge a line of the rejects file.
    rejects.map((r) => escapeControls(r.reason)),
    rejects.map((r) => escapeControls(r.text)),
  ]);
}

export async function accessRejects(db: Queryable, importId: number): Promise<AccessReject[]> {
  const { rows } = await db.query<AccessReject>(`SELECT line, reason, text FROM access_rejects WHERE import_id = $1 ORDER BY line`, [importId]);
  // Rows stored before rejects were escaped may hold control characters.
  return rows.map((r) => ({ line: Number(r.line), reason: escapeControls(r.reason), text: escapeControls(r.text) }));
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
    `SELECT t.id, t.canary_id, t.account, t.at, t.scope, t.action, t.system, t.ip, i.path, t.line
       FROM tripwires t JOIN access_imports i ON i.id = t.import_id
      WHERE ($1::text IS NULL OR t.hospital = $1) AND ($2::timestamptz IS NULL OR t.at >= $2) AND ($3::text IS NULL OR t.account = $3)
      ORDER BY t.at DESC, t.id DESC`,
    [options.hospital ?? null, options.since?.toISOString() ?? null, options.account ?? null],
  );
  return rows;
}

/** Access-log lines that touched these canaries, for the accounts in a trace. */
export async function tripwiresOfCanaries(db: Queryable, canaryIds: readonly string[]): Promise<TripwireRow[]> {
  const { rows } = await db.query<TripwireRow>(
    `SELECT t.id, t.canary_id, t.account, t.at, t.scope, t.action, t.system, t.ip, i.path, t.line
       FROM tripwires t JOIN access_imports i ON i.id = t.import_id
      WHERE t.canary_id = ANY($1::text[]) ORDER BY t.at`,
    [canaryIds],
  );
  return rows;
}

