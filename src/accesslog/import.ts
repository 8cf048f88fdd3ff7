import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Transform } from 'node:stream';
import type { Database, Queryable } from '../db/index.js';
import { UserError } from '../errors.js';
import * as vault from '../vault/index.js';
import { parseAccessLog } from './parse.js';
import type { AccessField, AccessFormat } from './types.js';

// `cradle logs import`: stream a log file into the vault in batches, one transaction each. A batch
// commits its events, rejects and the import's resume point together, so a crash loses nothing and a
// re-run skips the lines already committed. Events are keyed by their content, so a re-imported or
// overlapping file adds nothing twice.

export const BATCH_ROWS = 50_000;


export interface ImportAccessOptions {
  hospital: string;
  format: AccessFormat;
  timeZone: string;
  map?: Partial<Record<AccessField, string>>;
  /** The mapping's record key: where a canary's key is in the vault (alias) and in the target (table). */
  recordKey: { alias: string; table: string; column: string } | null;
  /** Alert channels (email, webhook names) for single-record tripwires. */
  alertChannels: readonly string[];
  batchRows?: number;
  onProgress?: (progress: { lines: number; bytes: number; size: number }) => void;
  now?: () => Date;
  /** Who imports, for the evidence ledger; default the OS user. */
  actor?: string;
}

export interface ImportAccessResult {
  file: string;
  importId: number;
  /** The file was imported before with the same options: nothing was read. */
  alreadyImported: boolean;
  /** Lines skipped because an interrupted run had committed them. */
  resumedFrom: number;
  lines: number;
  added: number;
  duplicates: number;
  rejected: number;
  tripwires: number;
  alerts: number;
  rejects: vault.AccessReject[];
}

async function fileDigest(file: string): Promise<{ sha256: string; size: number }> {
  const hash = createHash('sha256');
  let size = 0;
  try {
    for await (const chunk of fs.createReadStream(file)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
    }
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { sha256: hash.digest('hex'), size };
}

export async function importAccessLog(db: Database, file: string, options: ImportAccessOptions): Promise<ImportAccessResult> {
  const now = options.now ?? (() => new Date());
  const { sha256, size } = await fileDigest(file);
  const started = await vault.beginAccessImport(db, {
    hospital: options.hospital,
    path: file,
    format: options.format,
    sha256,
    sizeBytes: size,
    timeZone: options.timeZone,
    options: { map: options.map ?? null, recordKey: options.recordKey },
  });
  const result: ImportAccessResult = {
    file,
    importId: started.id,
    alreadyImported: started.state === 'done',
    resumedFrom: started.lines_done,
    lines: started.lines_done,
    added: started.added,
    duplicates: started.duplicates,
    rejected: started.rejected,
    tripwires: 0,
    alerts: 0,
    rejects: [],
  };
  if (started.state === 'done') {
    result.rejects = await vault.accessRejects(db, started.id);
    return result;
  }
  const canaryOf = options.recordKey ? await vault.canaryRecordKeys(db, options.hospital, options.recordKey) : new Map<string, string>();
  const channelIds = new Map<string, number>();
  let bytes = 0;
  const batchRows = options.batchRows ?? BATCH_ROWS;
  let batch: vault.StagedAccess[] = [];
  let rejects: vault.AccessReject[] = [];
  let lastLine = started.lines_done;

  /** Exposures of the canaries to the accounts, and alerts for single-record tripwires. */
  const recordTripwires = async (tx: Queryable, tripwires: readonly vault.NewTripwire[]) => {
    for (const wire of tripwires) {
      let channelId = channelIds.get(wire.account);
      if (channelId === undefined) channelIds.set(wire.account, (channelId = await vault.ensureChannel(tx, options.hospital, { kind: 'account', name: wire.account })));
      await vault.addExposures(tx, [
        { canaryId: wire.canary, channelId, exposedAt: wire.at, source: 'access-log', detail: { tripwire: wire.tripwire, event: wire.event, action: wire.action, scope: wire.scope } },
      ]);
    }
    const single = tripwires.filter((w) => w.scope === 'single');
    if (single.length && options.alertChannels.length) {
      const exposed = await vault.exposuresOfCanaries(tx, [...new Set(single.map((w) => w.canary))]);
      await vault.queueTripwireAlerts(
        tx,
        single.flatMap((w) =>
          options.alertChannels.map((channel) => ({
            tripwireId: w.tripwire,
            channel,
            payload: {
              type: 'tripwire',
              tripwire: w.tripwire,
              canary: w.canary,
              account: w.account,
              action: w.action,
              at: w.at.toISOString(),
              system: w.system,
              ip: w.ip,
              exposedTo: [...new Set(exposed.filter((e) => e.canary_id === w.canary).map((e) => (e.export_id ? `${e.channel} (export ${e.export_id})` : e.channel)))],
            },
          })),
        ),
      );
      result.alerts += single.length * options.alertChannels.length;
    }
    result.tripwires += tripwires.length;
  };

  /** Commit what a step stored with the import's resume point, in the step's transaction. */
  const advance = async (tx: Queryable, linesDone: number, counts: { valid: number; added: number; rejected: number }) => {
    const duplicates = counts.valid - counts.added;
    await vault.advanceAccessImport(tx, started.id, { linesDone, added: counts.added, duplicates, rejected: counts.rejected });
    result.added += counts.added;
    result.duplicates += duplicates;
    result.rejected += counts.rejected;
  };
  const progressed = (linesDone: number) => {
    result.lines = linesDone;
    options.onProgress?.({ lines: linesDone, bytes, size });
  };

  // One batch is written while the next is parsed (the database and the parser run on different
  // cores); batches still commit one after another, in file order.
  let writing: Promise<void> = Promise.resolve();
  const flush = async () => {
    await writing;
    if (batch.length === 0 && rejects.length === 0) return;
    const [rows, bad, linesDone] = [batch, rejects, lastLine];
    batch = [];
    rejects = [];
    writing = db
      .transaction(async (tx) => {
        const stored = rows.length ? await vault.storeAccessBatch(tx, options.hospital, started.id, rows) : { added: 0, tripwires: [] };
        await vault.storeAccessRejects(tx, started.id, bad);
        await recordTripwires(tx, stored.tripwires);
        await advance(tx, linesDone, { valid: rows.length, added: stored.added, rejected: bad.length });
      })
      .then(() => progressed(linesDone));
    // Not awaited here: the caller parses on; the next flush (or the end) waits for it.
    writing.catch(() => undefined);
  };

  const counter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      done(null, chunk);
    },
  });
  const parseOptions = { format: options.format, timeZone: options.timeZone, map: options.map, recordKey: options.recordKey ?? undefined, source: file };
  for await (const parsed of parseAccessLog(fs.createReadStream(file).pipe(counter), parseOptions)) {
    if (parsed.line <= started.lines_done) continue;
    lastLine = parsed.line;
    if ('reject' in parsed) rejects.push({ line: parsed.line, reason: parsed.reject, text: parsed.text });
    else batch.push({ line: parsed.line, row: parsed.row, canaries: parsed.row.records.flatMap((r) => canaryOf.get(r) ?? []) });
    if (batch.length + rejects.length >= batchRows) await flush();
  }
  await flush();
  await writing;
  // Marked done and sealed in the evidence ledger together.
  await db.transaction(async (tx) => {
    await vault.finishAccessImport(tx, started.id, now());
    await vault.sealImport(tx, started.id, { actor: options.actor });
  });
  result.rejects = await vault.accessRejects(db, started.id);
  return result;
}

