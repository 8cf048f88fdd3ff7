import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Transform } from 'node:stream';
import type { Database, Queryable } from '../db/index.js';
import { UserError } from '../errors.js';
import * as vault from '../vault/index.js';
import { classifyAction, labelsFor, parseAccessLog, recordKeys, shown } from './parse.js';
import { parseTimestamp, TIMESTAMP_HINT } from './time.js';
import { ACCESS_FIELDS, type AccessField, type AccessFormat } from './types.js';

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

/** The file's sha256 and size, and whether it holds a double quote anywhere (a CSV then needs the general reader). */
async function fileDigest(file: string): Promise<{ sha256: string; size: number; quoted: boolean }> {
  const hash = createHash('sha256');
  let size = 0;
  let quoted = false;
  try {
    for await (const chunk of fs.createReadStream(file)) {
      hash.update(chunk as Buffer);
      size += (chunk as Buffer).length;
      quoted ||= (chunk as Buffer).includes(0x22);
    }
  } catch (err) {
    throw new UserError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { sha256: hash.digest('hex'), size, quoted };
}

export async function importAccessLog(db: Database, file: string, options: ImportAccessOptions): Promise<ImportAccessResult> {
  const now = options.now ?? (() => new Date());
  const digest = await fileDigest(file);
  const { sha256, size } = digest;
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
  /** Staged lines (vault.stageLine) of the batch being read. */
  let batch: string[] = [];
  /** Rows read into the batch, duplicates within it included. */
  let parsedRows = 0;
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
    if (parsedRows === 0 && rejects.length === 0) return;
    const [rows, bad, linesDone, parsed] = [batch, rejects, lastLine, parsedRows];
    batch = [];
    rejects = [];
    parsedRows = 0;
    inBatch = new Set();
    writing = db
      .transaction(async (tx) => {
        const stored = rows.length ? await vault.storeAccessBatch(tx, options.hospital, started.id, rows.join('')) : { added: 0, tripwires: [] };
        await vault.storeAccessRejects(tx, started.id, bad);
        await recordTripwires(tx, stored.tripwires);
        await advance(tx, linesDone, { valid: parsed, added: stored.added, rejected: bad.length });
      })
      .then(() => progressed(linesDone));
    // Not awaited here: the caller parses on; the next flush (or the end) waits for it.
    writing.catch(() => undefined);
  };

  const parseOptions = { format: options.format, timeZone: options.timeZone, map: options.map, recordKey: options.recordKey ?? undefined, source: file };
  // An event twice in one batch is staged once: a staged line starts with the event's key.
  let inBatch = new Set<string>();
  const take = async (line: number, staged: string | null, reject: vault.AccessReject | null) => {
    lastLine = line;
    if (staged !== null) {
      parsedRows++;
      const event = staged.slice(0, 36);
      if (!inBatch.has(event)) {
        inBatch.add(event);
        batch.push(staged);
      }
    }
    if (reject) rejects.push(reject);
    if (parsedRows + rejects.length >= batchRows) await flush();
  };
  const plain = options.format === 'csv' && !digest.quoted ? plainCsvHeader(file, options) : null;
  if (plain) {
    // A CSV log without a quote anywhere: read line by line without the general reader's objects.
    let line = 0;
    let rest = '';
    const stream = fs.createReadStream(file, { encoding: 'utf8', highWaterMark: 1 << 20 });
    const each = async (text: string) => {
      line++;
      if (line === 1 || line <= started.lines_done) return;
      if (!text.trim()) return;
      const out = plain.read(text, line, canaryOf);
      await take(line, typeof out === 'string' ? out : null, typeof out === 'string' ? null : { line, reason: out.reject, text: text.slice(0, 500) });
    };
    for await (const chunk of stream) {
      bytes += Buffer.byteLength(chunk as string);
      const text = rest + (chunk as string);
      let from = 0;
      for (let nl = text.indexOf('\n'); nl >= 0; nl = text.indexOf('\n', from)) {
        await each(text.charCodeAt(nl - 1) === 13 ? text.slice(from, nl - 1) : text.slice(from, nl));
        from = nl + 1;
      }
      rest = text.slice(from);
    }
    if (rest) await each(rest.endsWith('\r') ? rest.slice(0, -1) : rest);
  } else {
    const counter = new Transform({
      transform(chunk: Buffer, _enc, done) {
        bytes += chunk.length;
        done(null, chunk);
      },
    });
    for await (const parsed of parseAccessLog(fs.createReadStream(file).pipe(counter), parseOptions)) {
      if (parsed.line <= started.lines_done) continue;
      if ('reject' in parsed) await take(parsed.line, null, { line: parsed.line, reason: parsed.reject, text: parsed.text });
      else await take(parsed.line, vault.stagedLine({ line: parsed.line, row: parsed.row, canaries: parsed.row.records.flatMap((r) => canaryOf.get(r) ?? []) }), null);
    }
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


/**
 * A reader for CSV lines without quotes, with the same checks and results as the general reader
 * (src/accesslog/parse.ts; test/accesslog/import.test.ts compares the two on one log): a line is a
 * staged line for the vault, or a reject. Null when the header is not plain or lacks a field the
 * general reader then reports.
 */
function plainCsvHeader(file: string, options: ImportAccessOptions): { read(text: string, line: number, canaryOf: ReadonlyMap<string, string>): string | { reject: string } } | null {
  const fd = fs.openSync(file, 'r');
  let head: string;
  try {
    const buf = Buffer.alloc(64 * 1024);
    head = buf.subarray(0, fs.readSync(fd, buf, 0, buf.length, 0)).toString('utf8');
  } finally {
    fs.closeSync(fd);
  }
  const nl = head.indexOf('\n');
  if (nl < 0) return null;
  const columns = head.slice(0, nl).replace(/^\uFEFF/, '').replace(/\r$/, '').split(',').map((c) => c.trim());
  const index = Object.fromEntries(ACCESS_FIELDS.map((f) => [f, columns.indexOf(options.map?.[f] ?? f)])) as Record<AccessField, number>;
  if (index.ts < 0 || index.user < 0 || index.action < 0 || ACCESS_FIELDS.some((f) => options.map?.[f] !== undefined && index[f] < 0)) return null;
  const labels = labelsFor(options.map);
  const width = columns.length;
  const zone = options.timeZone;
  return {
    read(text, line, canaryOf) {
      const cells = text.split(',');
      if (cells.length !== width) {
        const missing = ACCESS_FIELDS.find((f) => index[f] >= cells.length);
        const counts = `the row has ${cells.length} columns, the header ${width}`;
        return { reject: missing ? `${labels[missing]}: missing (${counts})` : `row: ${counts}` };
      }
      const ts = cells[index.ts].trim();
      if (!ts) return { reject: `${labels.ts}: missing` };
      const at = parseTimestamp(ts, zone);
      if (!at) return { reject: `${labels.ts}: ${shown(ts)} is not a timestamp (${TIMESTAMP_HINT})` };
      const account = cells[index.user].trim();
      if (!account) return { reject: `${labels.user}: missing` };
      const action = cells[index.action].trim().toLowerCase();
      if (!action) return { reject: `${labels.action}: missing` };
      const records = index.record >= 0 ? recordKeys(cells[index.record]) : [];
      const canaries = records.length ? records.flatMap((r) => canaryOf.get(r) ?? []) : records;
      const system = index.system >= 0 ? cells[index.system].trim() || null : null;
      const ip = index.ip >= 0 ? cells[index.ip].trim() || null : null;
      return vault.stageLine(line, at.getTime(), account, action, classifyAction(action, records.length), records, system, ip, canaries);
    },
  };
}
