import type { Queryable } from '../db/index.js';
import { escapeControls } from '../lib/control.js';
import { UserError } from '../lib/errors.js';
import { lockAccessImports } from './access.js';
import { ledgerEntries, sealEvidence, sealRows, type LedgerEntry } from './ledger.js';

// Access-log imports as objects: listed, shown, and taken back (`cradle logs list|show|remove`). A
// removal deletes what the import stored (event blocks, tripwires, the exposures they made, rejected
// lines, account channels left with no exposure), cancels its tripwire alerts not sent yet, and keeps
// the import's row marked removed, with who, when, why and the counts; the deleted rows and the import
// are sealed again in the evidence ledger in the same transaction (docs/ledger.md). Events are known
// by their text in the stored blocks (src/vault/access-events.ts): with the blocks gone, a corrected
// file imported afterwards stores its events afresh.

export type AccessImportState = 'running' | 'done' | 'failed' | 'removed';

/** What a removal deleted or changed, as kept in the import's row (`removed`) and its ledger entry. */
export interface RemovedCounts {
  events: number;
  blocks: number;
  tripwires: number;
  exposures: number;
  /** Account channels that had no exposure left. */
  channels: number;
  rejects: number;
  /** Tripwire alerts not sent yet: cancelled. */
  alerts_cancelled: number;
  /** Tripwire alerts already sent (or given up on): kept in the outbox as they are. */
  alerts_kept: number;
}

export interface AccessImportSummary {
  id: number;
  hospital: string;
  path: string;
  sha256: string;
  size_bytes: number;
  format: string;
  time_zone: string;
  options: Record<string, unknown>;
  state: AccessImportState;
  lines_done: number;
  added: number;
  duplicates: number;
  rejected: number;
  /** Tripwires it set off: those stored now, or for a removed import those its removal deleted. */
  tripwires: number;
  started_at: Date;
  finished_at: Date | null;
  error: string | null;
  removed_at: Date | null;
  removed_by: string | null;
  removal_reason: string | null;
  removed: RemovedCounts | null;
}

const SUMMARY = `SELECT i.id, i.hospital, i.path, i.sha256, i.size_bytes, i.format, i.time_zone, i.options, i.state, i.lines_done, i.added, i.duplicates, i.rejected,
                        (SELECT count(*) FROM tripwires t WHERE t.import_id = i.id) AS tripwires,
                        i.started_at, i.finished_at, i.error, i.removed_at, i.removed_by, i.removal_reason, i.removed
                   FROM access_imports i`;

function summary(r: AccessImportSummary): AccessImportSummary {
  const removed = r.removed ? (Object.fromEntries(Object.entries(r.removed).map(([k, v]) => [k, Number(v)])) as unknown as RemovedCounts) : null;
  return {
    ...r,
    id: Number(r.id),
    size_bytes: Number(r.size_bytes),
    lines_done: Number(r.lines_done),
    added: Number(r.added),
    duplicates: Number(r.duplicates),
    rejected: Number(r.rejected),
    tripwires: removed ? removed.tripwires : Number(r.tripwires),
    removed,
  };
}

/** Every import, oldest first (one hospital's with `hospital`). */
export async function listAccessImports(db: Queryable, hospital?: string): Promise<AccessImportSummary[]> {
  const { rows } = await db.query<AccessImportSummary>(`${SUMMARY} WHERE ($1::text IS NULL OR i.hospital = $1) ORDER BY i.id`, [hospital ?? null]);
  return rows.map(summary);
}

/**
 * The import a user names: its id, or the file it was imported from (its path as given then, or its
 * name alone) when exactly one import not removed has it. Anything else is a user error saying why.
 */
export async function findAccessImport(db: Queryable, ref: string, hospital?: string): Promise<AccessImportSummary> {
  const trimmed = ref.trim();
  if (/^\d+$/.test(trimmed)) {
    const { rows } = await db.query<AccessImportSummary>(`${SUMMARY} WHERE i.id = $1::bigint AND ($2::text IS NULL OR i.hospital = $2)`, [trimmed, hospital ?? null]);
    if (!rows.length) throw new UserError(`no access-log import ${trimmed} in the vault; \`cradle logs list\` shows their ids`);
    return summary(rows[0]);
  }
  const { rows } = await db.query<AccessImportSummary>(
    `${SUMMARY} WHERE (i.path = $1 OR regexp_replace(i.path, '^.*[/\\\\]', '') = $1) AND i.state <> 'removed' AND ($2::text IS NULL OR i.hospital = $2) ORDER BY i.id`,
    [trimmed, hospital ?? null],
  );
  if (rows.length === 1) return summary(rows[0]);
  if (!rows.length) throw new UserError(`no access-log import of a file ${JSON.stringify(trimmed)} in the vault (removed ones aside); \`cradle logs list\` shows the imports and their ids`);
  throw new UserError(`${rows.length} imports of ${JSON.stringify(trimmed)} (ids ${rows.map((r) => r.id).join(', ')}); name one by its id`);
}

/** What `cradle logs show` adds to an import's summary. */
export interface AccessImportDetail {
  /** Blocks and events stored now, and the span of their times. */
  blocks: number;
  events: number;
  from: Date | null;
  to: Date | null;
  /** Tripwires stored now, by scope, and the accounts and canaries they name. */
  single: number;
  bulk: number;
  accounts: number;
  canaries: number;
  /** Exposures its tripwires made (of canaries to accounts). */
  exposures: number;
  /** Tripwire alerts of its tripwires, by state. */
  alerts: Record<string, number>;
  /** Rejected lines kept (deleted by a removal). */
  rejects: number;
  /** The ledger's entries about the import (its seal when done, its removal). */
  ledger: LedgerEntry[];
}

export async function accessImportDetail(db: Queryable, id: number): Promise<AccessImportDetail> {
  const { rows } = await db.query<{ blocks: number; events: number; from_at: Date | null; to_at: Date | null; single: number; bulk: number; accounts: number; canaries: number; exposures: number; rejects: number }>(
    `SELECT b.blocks, b.events, b.from_at, b.to_at, t.single, t.bulk, t.accounts, t.canaries,
            (SELECT count(*)::int FROM exposures e WHERE e.source = 'access-log' AND e.detail->>'import' = $2) AS exposures,
            (SELECT count(*)::int FROM access_rejects r WHERE r.import_id = $1) AS rejects
       FROM (SELECT count(*)::int AS blocks, coalesce(sum(events_count), 0)::int AS events, min(from_at) AS from_at, max(to_at) AS to_at FROM access_blocks WHERE import_id = $1) b,
            (SELECT count(*) FILTER (WHERE scope = 'single')::int AS single, count(*) FILTER (WHERE scope = 'bulk')::int AS bulk,
                    count(DISTINCT account)::int AS accounts, count(DISTINCT canary_id)::int AS canaries FROM tripwires WHERE import_id = $1) t`,
    [id, String(id)],
  );
  const { rows: alerts } = await db.query<{ state: string; n: number }>(
    `SELECT o.state, count(*)::int AS n FROM alert_outbox o JOIN tripwires t ON t.id = o.tripwire_id WHERE t.import_id = $1 GROUP BY o.state ORDER BY o.state`,
    [id],
  );
  const ledger = await ledgerEntries(db, { kind: 'import', refs: [String(id)] });
  const { from_at: from, to_at: to, ...rest } = rows[0];
  return { ...rest, from, to, alerts: Object.fromEntries(alerts.map((a) => [a.state, a.n])), ledger };
}

/** What a removal leaves as it is, for the command to say so. */
export interface RemovalLeaves {
  /** Incidents with hits or scan matches on canaries this import's tripwires named: unchanged; their next trace leaves these exposures out. */
  incidents: string[];
  /** Imports made after it that counted lines as already in the vault: some may have been this import's events, which go with it. */
  laterDuplicates: { id: number; path: string; duplicates: number }[];
}

export interface RemovedImport {
  import: AccessImportSummary;
  counts: RemovedCounts;
  leaves: RemovalLeaves;
  /** The ledger entry recording the removal. */
  entry: LedgerEntry;
}

/**
 * Remove an import in the caller's transaction: refused for an import already removed, or one still
 * running (its process may be at it). Takes the hospital's import lock, so no import batch meanwhile
 * checks its events against blocks being deleted.
 */
export async function removeAccessImport(tx: Queryable, id: number, options: { reason: string; actor: string; at: Date }): Promise<RemovedImport> {
  const { rows: head } = await tx.query<{ hospital: string }>(`SELECT hospital FROM access_imports WHERE id = $1`, [id]);
  if (!head.length) throw new UserError(`no access-log import ${id} in the vault; \`cradle logs list\` shows their ids`);
  await lockAccessImports(tx, head[0].hospital);
  const { rows: locked } = await tx.query<AccessImportSummary>(`${SUMMARY} WHERE i.id = $1 FOR UPDATE OF i`, [id]);
  const imp = summary(locked[0]);
  if (imp.state === 'removed') {
    throw new UserError(`import ${id} (${imp.path}) was removed already, at ${imp.removed_at?.toISOString()} by ${imp.removed_by ?? 'unknown'}: ${imp.removal_reason}`);
  }
  if (imp.state === 'running') {
    throw new UserError(
      `import ${id} (${imp.path}) is running (at line ${imp.lines_done}); remove it once it is done or failed (if its process died, run the same \`cradle logs import\` again to finish it)`,
    );
  }
  // One line, bounded: it is printed by `logs list|show` and kept in the ledger.
  const reason = escapeControls(options.reason.trim()).slice(0, 2000);
  if (!reason) throw new UserError('--reason must say why the import is removed');
  const meta = { actor: options.actor, at: options.at };

  // What stays, found before anything goes.
  const { rows: wires } = await tx.query<{ id: string; canary_id: string }>(`SELECT id, canary_id FROM tripwires WHERE import_id = $1`, [id]);
  const canaries = [...new Set(wires.map((w) => w.canary_id))];
  const { rows: incidents } = await tx.query<{ id: string }>(
    `SELECT incident_id AS id FROM hits WHERE canary_id = ANY($1::text[]) AND incident_id IS NOT NULL
      UNION SELECT incident_id FROM scan_matches WHERE canary_id = ANY($1::text[]) ORDER BY 1`,
    [canaries],
  );
  // Its duplicates were not stored, so where they lay is not known: every later import with some is named.
  const { rows: later } = await tx.query<{ id: number; path: string; duplicates: number }>(
    `SELECT i.id::int AS id, i.path, i.duplicates::int AS duplicates FROM access_imports i
      WHERE i.hospital = $2 AND i.id > $1 AND i.state <> 'removed' AND i.duplicates > 0
        AND EXISTS (SELECT 1 FROM access_blocks b WHERE b.import_id = $1)
      ORDER BY i.id`,
    [id, imp.hospital],
  );

  // Alerts first: the outbox refers to the tripwires. Pending ones are cancelled; all keep their payload.
  const wireIds = wires.map((w) => w.id);
  const { rows: alerts } = await tx.query<{ cancelled: number; kept: number }>(
    `WITH cancelled AS (
       UPDATE alert_outbox SET state = 'cancelled', last_error = $2 WHERE tripwire_id = ANY($1::bigint[]) AND state = 'pending' RETURNING id)
     SELECT (SELECT count(*)::int FROM cancelled) AS cancelled,
            (SELECT count(*)::int FROM alert_outbox WHERE tripwire_id = ANY($1::bigint[]) AND state <> 'pending') AS kept`,
    [wireIds, `cancelled: access-log import ${id} was removed (${reason.slice(0, 200)})`],
  );
  await tx.query(`UPDATE alert_outbox SET tripwire_id = NULL WHERE tripwire_id = ANY($1::bigint[])`, [wireIds]);

  const { rows: exposures } = await tx.query<{ id: string; channel_id: string }>(
    `DELETE FROM exposures WHERE source = 'access-log' AND detail->>'import' = $1::text RETURNING id, channel_id`,
    [String(id)],
  );
  await tx.query(`DELETE FROM tripwires WHERE import_id = $1`, [id]);
  const { rows: blocks } = await tx.query<{ id: string; events_count: number }>(`DELETE FROM access_blocks WHERE import_id = $1 RETURNING id, events_count`, [id]);
  const { rowCount: rejects } = await tx.query(`DELETE FROM access_rejects WHERE import_id = $1`, [id]);
  const { rows: channels } = await tx.query<{ id: string }>(
    `DELETE FROM channels ch WHERE ch.id = ANY($1::bigint[]) AND ch.kind = 'account'
        AND NOT EXISTS (SELECT 1 FROM exposures e WHERE e.channel_id = ch.id) AND NOT EXISTS (SELECT 1 FROM exports x WHERE x.channel_id = ch.id)
     RETURNING id`,
    [[...new Set(exposures.map((e) => e.channel_id))]],
  );
  // ledger: every deleted row recorded as deleted (null), in this transaction.
  if (wireIds.length) await sealRows(tx, 'tripwires', wireIds, meta);
  if (exposures.length) await sealRows(tx, 'exposures', exposures.map((e) => e.id), meta);
  if (blocks.length) await sealRows(tx, 'access_blocks', blocks.map((b) => b.id), meta);
  if (channels.length) await sealRows(tx, 'channels', channels.map((c) => c.id), meta);

  const counts: RemovedCounts = {
    events: blocks.reduce((n, b) => n + Number(b.events_count), 0),
    blocks: blocks.length,
    tripwires: wires.length,
    exposures: exposures.length,
    channels: channels.length,
    rejects,
    alerts_cancelled: alerts[0].cancelled,
    alerts_kept: alerts[0].kept,
  };
  await tx.query(`UPDATE access_imports SET state = 'removed', removed_at = $2, removed_by = $3, removal_reason = $4, removed = $5 WHERE id = $1`, [
    id,
    options.at.toISOString(),
    options.actor,
    reason,
    JSON.stringify(counts),
  ]);
  // ledger: the import again, now with what its removal took (its earlier entry stays as its history).
  const entry = await sealEvidence(tx, 'import', id, meta);
  const { rows: after } = await tx.query<AccessImportSummary>(`${SUMMARY} WHERE i.id = $1`, [id]);
  return { import: summary(after[0]), counts, leaves: { incidents: incidents.map((i) => i.id), laterDuplicates: later }, entry };
}
