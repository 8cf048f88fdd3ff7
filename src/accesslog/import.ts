import { createHash } from 'node:crypto';
import fs from 'node:fs';
import { Transform } from 'node:stream';
import type { Database, Queryable } from '../db/index.js';
import { UserError } from '../lib/errors.js';
import { escapeControls } from '../lib/control.js';
import * as vault from '../vault/index.js';
import { EventBlock, writeDigits } from './block.js';
import { checkAccessLogStart, classifyAction, labelsFor, MAX_LINE_CHARS, parseAccessLog, recordKeys, shown, textEncodingOf, TOO_LONG_REASON } from './parse.js';
import { parseTimestamp, TIMESTAMP_HINT } from './time.js';
import { ACCESS_FIELDS, type AccessField, type AccessFormat, type AccessRow, type AccessScope } from '../domain/access.js';

// `cradle logs import`: stream a log file into the vault in batches, one transaction each. A batch
// commits its events, rejects and the import's resume point together, so a crash loses nothing and a
// re-run skips the lines already committed. An event is known by its normalised fields (its text in
// the block, src/accesslog/block.ts), so a re-imported or overlapping file adds nothing twice.

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

/**
 * The file's sha256 and size, whether it holds a double quote anywhere, whether it is UTF-16, and whether
 * a CR ends a line alone (a CSV then needs the general reader, which decodes it and ends lines at a
 * lone CR: src/accesslog/parse.ts).
 */
async function fileDigest(file: string): Promise<{ sha256: string; size: number; quoted: boolean; utf16: boolean; loneCr: boolean }> {
  const hash = createHash('sha256');
  let size = 0;
  let quoted = false;
  let utf16 = false;
  let loneCr = false;
  /** The previous chunk ended with a CR. */
  let crLast = false;
  try {
    const handle = await fs.promises.open(file, 'r');
    try {
      const buf = Buffer.allocUnsafe(1 << 20);
      for (let n; (n = (await handle.read(buf, 0, buf.length, null)).bytesRead) > 0; ) {
        const chunk = buf.subarray(0, n);
        if (size === 0) utf16 = textEncodingOf(chunk, file) !== 'utf-8';
        hash.update(chunk);
        size += n;
        quoted ||= chunk.includes(0x22);
        if (!loneCr) {
          if (crLast && chunk[0] !== 0x0a) loneCr = true;
          for (let cr = chunk.indexOf(0x0d); cr !== -1 && !loneCr; cr = chunk.indexOf(0x0d, cr + 1)) loneCr = cr + 1 < n && chunk[cr + 1] !== 0x0a;
          crLast = chunk[n - 1] === 0x0d;
        }
      }
      loneCr ||= crLast;
    } finally {
      await handle.close();
    }
  } catch (err) {
    if (err instanceof UserError) throw err;
    throw new UserError(`cannot read ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
  return { sha256: hash.digest('hex'), size, quoted, utf16, loneCr };
}

/** Longest account name kept whole as a channel name: channels are indexed, and a btree entry must fit in a page. */
const MAX_CHANNEL_NAME = 200;

/**
 * The exposure channel of an account: its name, or when longer than MAX_CHANNEL_NAME its start and a hash
 * of the whole, so whoever writes a 9 KB account name into the log still trips the wire (the event and
 * the tripwire keep the name whole).
 */
export function accountChannelName(account: string): string {
  if (account.length <= MAX_CHANNEL_NAME) return account;
  const start = Array.from(account.slice(0, MAX_CHANNEL_NAME - 40)).slice(0, -1).join('');
  return `${start}… (sha256 ${createHash('sha256').update(account).digest('hex').slice(0, 16)})`;
}

/** Another run of the same import moved it on: this run stores nothing more. */
class ImportMovedOn extends Error {
  constructor(readonly row: vault.AccessImportRow) {
    super(`import ${row.id} was moved on by another run`);
  }
}

export async function importAccessLog(db: Database, file: string, options: ImportAccessOptions): Promise<ImportAccessResult> {
  const now = options.now ?? (() => new Date());
  const digest = await fileDigest(file);
  const { sha256, size } = digest;
  const parseOptions = { format: options.format, timeZone: options.timeZone, map: options.map, recordKey: options.recordKey ?? undefined, source: file };
  // A header without a mapped column (or a bad zone) is the command's mistake: refused before an import row exists.
  // Only a CSV log's header is read; the stream is closed after it (left open, it would read on later).
  const head = options.format === 'csv' ? fs.createReadStream(file) : null;
  try {
    await checkAccessLogStart(head ?? (async function* () {})(), parseOptions);
  } finally {
    head?.destroy();
  }
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
  /** Lines of the file this run has committed (or found committed); the import's row must still say so. */
  let committed = started.lines_done;
  let writing: Promise<void> = Promise.resolve();
  try {
    const canaryOf = options.recordKey ? await vault.canaryRecordKeys(db, options.hospital, options.recordKey) : new Map<string, string>();
    const channelIds = new Map<string, number>();
    let bytes = 0;
    const batchRows = options.batchRows ?? BATCH_ROWS;

    /** Exposures of the canaries to the accounts, and alerts for single-record tripwires; tripwires and exposures sealed in the ledger. */
    const recordTripwires = async (tx: Queryable, tripwires: readonly vault.NewTripwire[]) => {
      // ledger: the batch's tripwires and their exposures are sealed as one entry each (not one per tripwire).
      if (tripwires.length) await vault.sealRows(tx, 'tripwires', tripwires.map((w) => w.tripwire), { actor: options.actor });
      const exposures: vault.ExposureInput[] = [];
      for (const wire of tripwires) {
        let channelId = channelIds.get(wire.account);
        if (channelId === undefined) channelIds.set(wire.account, (channelId = await vault.ensureChannel(tx, options.hospital, { kind: 'account', name: accountChannelName(wire.account) }, { actor: options.actor })));
        exposures.push({ canaryId: wire.canary, channelId, exposedAt: wire.at, source: 'access-log', detail: { tripwire: wire.tripwire, import: started.id, line: wire.line, action: wire.action, scope: wire.scope } });
      }
      await vault.addExposures(tx, exposures, { actor: options.actor });
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

    /** Lock the import's row for the transaction; another run that moved it on since ends this one. */
    const claim = async (tx: Queryable) => {
      const row = await vault.lockAccessImport(tx, started.id);
      if (row.state === 'done' || row.lines_done !== committed) throw new ImportMovedOn(row);
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

    /** Blocks done with, reused: a new 5 MB buffer per batch made the garbage collector a fifth of the import. */
    const spare: EventBlock[] = [];
    const newBatch = (): Batch => ({ block: spare.pop()?.reset() ?? new EventBlock(batchRows), accesses: [], rejects: [], valid: 0 });
    let batch = newBatch();
    let lastLine = started.lines_done;
    /** Blocks this run stored last: a log is written roughly in time order, so a batch's span usually meets only the previous one's. */
    let recent: { id: number; block: EventBlock }[] = [];

    /** The batch's events not stored yet, stored as one block with their tripwires, rejects and the resume point. */
    const writeBatch = async (tx: Queryable, b: Batch, linesDone: number) => {
      await claim(tx);
      let block = b.block;
      let accesses = b.accesses;
      if (block.count) {
        await vault.lockAccessImports(tx, options.hospital);
        const { fromMs, toMs } = block;
        const known = recent.filter((r) => r.block.toMs >= fromMs && r.block.fromMs <= toMs).map((r) => r.block);
        const stored = await vault.eventTextsBetween(tx, options.hospital, fromMs, toMs, recent.map((r) => r.id));
        if (stored.length) {
          const fetched = new EventBlock(stored.length);
          for (const text of stored) fetched.addText(0, vault.eventTextTime(text), text);
          known.push(fetched);
        }
        // Rows in a known block's span are looked up there; a batch usually loses none.
        const current = block;
        let drop: Uint8Array | null = null;
        for (let row = 0; known.length && row < current.count; row++) {
          const at = current.time(row);
          if (known.some((k) => at >= k.fromMs && at <= k.toMs && current.rowIn(row, k))) (drop ??= new Uint8Array(current.count))[row] = 1;
        }
        if (drop) {
          const dropped = drop;
          block = current.filter((row) => !dropped[row]);
          const kept = new Set(Array.from({ length: block.count }, (_, row) => block.line(row)));
          accesses = accesses.filter((a) => kept.has(a.line));
        }
        if (block.count) {
          const id = await vault.storeAccessBlock(tx, {
            hospital: options.hospital,
            importId: started.id,
            firstLine: block.line(0),
            lastLine: block.line(block.count - 1),
            fromMs: block.fromMs,
            toMs: block.toMs,
            count: block.count,
            events: block.bytes(),
          });
          // ledger: the block as stored (one sha256 of its text), in this transaction.
          await vault.sealRows(tx, 'access_blocks', [id], { actor: options.actor });
          if (recent.length === 2) spare.push(recent[0].block);
          recent = [...recent.slice(-1), { id, block: b.block }];
        }
      }
      await vault.storeAccessRejects(tx, started.id, b.rejects);
      await recordTripwires(tx, await vault.storeTripwires(tx, options.hospital, started.id, accesses));
      await advance(tx, linesDone, { valid: b.valid, added: block.count, rejected: b.rejects.length });
    };

    // One batch is written while the next is parsed (the database and the parser run on different
    // cores); batches still commit one after another, in file order.
    const flush = async () => {
      await writing;
      if (batch.valid === 0 && batch.rejects.length === 0) return;
      const [b, linesDone] = [batch, lastLine];
      batch = newBatch();
      writing = db.transaction((tx) => writeBatch(tx, b, linesDone)).then(() => {
        committed = linesDone;
        progressed(linesDone);
      });
      // Not awaited here: the caller parses on; the next flush (or the end) waits for it.
      writing.catch(() => undefined);
    };
    const full = () => batch.valid + batch.rejects.length >= batchRows;

    const plain = options.format === 'csv' && !digest.quoted && !digest.utf16 && !digest.loneCr ? plainCsvReader(file, options, canaryOf) : null;
    if (plain) {
      // A CSV log without a quote anywhere: lines read from the bytes, without the general reader's objects.
      let line = 0;
      let data = Buffer.allocUnsafe(1 << 20);
      let carried = 0;
      // A line over MAX_LINE_CHARS is a reject, as in the general reader: its start is kept, the rest
      // dropped as read. Its length is counted in UTF-16 code units, as the general reader counts it,
      // and only once it has more bytes than the limit (never fewer units than bytes before that).
      let skipping: string | null = null;
      let counted = 0;
      let countedUnits = 0;
      const tooLong = (line: number, start: string) => batch.rejects.push({ line, reason: TOO_LONG_REASON, text: escapeControls(start) });
      const handle = await fs.promises.open(file, 'r');
      try {
        for (;;) {
          const { bytesRead } = await handle.read(data, carried, data.length - carried, null);
          if (bytesRead === 0) break;
          bytes += bytesRead;
          const length = carried + bytesRead;
          let from = 0;
          for (let nl = data.indexOf(0x0a, from); nl >= 0 && nl < length; nl = data.indexOf(0x0a, from)) {
            line++;
            if (line > 1 && line > started.lines_done) {
              const end = nl > from && data[nl - 1] === 0x0d ? nl - 1 : nl;
              // Only the line carried over from earlier reads (from 0) has units counted already.
              if (skipping === null && end - from > MAX_LINE_CHARS && (from === 0 ? countedUnits + utf16Units(data, counted, end) : utf16Units(data, from, end)) > MAX_LINE_CHARS) {
                skipping = data.toString('utf8', from, from + 4 * 500).slice(0, 500);
              }
              if (skipping !== null) tooLong(line, skipping);
              else plain.read(data, from, end, line, batch);
              lastLine = line;
              if (full()) await flush();
              // Let the batch being written take its turn: each of its statements waits for this loop.
              else if ((line & 2047) === 0) await new Promise(setImmediate);
            }
            skipping = null;
            from = nl + 1;
          }
          // The last line's start moves to the front; a line longer than the buffer grows it.
          carried = length - from;
          if (from > 0) counted = countedUnits = 0;
          if (skipping !== null) carried = 0;
          else if (carried > MAX_LINE_CHARS) {
            countedUnits += utf16Units(data, from + counted, length);
            counted = carried;
            if (countedUnits > MAX_LINE_CHARS) {
              skipping = data.toString('utf8', from, from + 4 * 500).slice(0, 500);
              carried = counted = countedUnits = 0;
            }
          }
          if (carried === data.length) {
            const grown = Buffer.allocUnsafe(data.length * 2);
            data.copy(grown, 0, 0, carried);
            data = grown;
          } else data.copy(data, 0, from, length);
        }
      } finally {
        await handle.close();
      }
      if (skipping !== null && ++line > 1 && line > started.lines_done) {
        tooLong(line, skipping);
        lastLine = line;
      } else if (carried && ++line > 1 && line > started.lines_done) {
        plain.read(data, 0, data[carried - 1] === 0x0d ? carried - 1 : carried, line, batch);
        lastLine = line;
      }
    } else {
      const counter = new Transform({
        transform(chunk: Buffer, _enc, done) {
          bytes += chunk.length;
          done(null, chunk);
        },
      });
      for await (const parsed of parseAccessLog(fs.createReadStream(file).pipe(counter), parseOptions)) {
        if (parsed.line <= started.lines_done) continue;
        lastLine = parsed.line;
        if ('reject' in parsed) batch.rejects.push({ line: parsed.line, reason: parsed.reject, text: parsed.text });
        else {
          const { row } = parsed;
          const canaries = row.records.flatMap((r) => canaryOf.get(r) ?? []);
          addEvent(batch, parsed.line, vault.accessRowText(row), row.at.getTime(), canaries.length ? canaryAccess(parsed.line, row.at.getTime(), row, canaries) : null);
        }
        if (full()) await flush();
      }
    }
    await flush();
    await writing;
    // Marked done and sealed in the evidence ledger together.
    await db.transaction(async (tx) => {
      await claim(tx);
      await vault.finishAccessImport(tx, started.id, now());
      await vault.sealImport(tx, started.id, { actor: options.actor });
    });
    result.rejects = await vault.accessRejects(db, started.id);
    return result;
  } catch (err) {
    // A batch still being written ends first; its error, if any, is the one that counts.
    const failure = await writing.then(() => err, (e: unknown) => e);
    if (failure instanceof ImportMovedOn) return movedOn(db, result, failure.row);
    const reason = failure instanceof Error ? failure.message : String(failure);
    await vault.failAccessImport(db, started.id, committed, reason).catch(() => undefined);
    if (failure instanceof UserError) throw failure;
    throw new UserError(`${file}: the import stopped after line ${committed}: ${escapeControls(reason)}; it is marked failed, and importing the file again resumes it`);
  }
}


/**
 * An event naming canaries, its fields as the block stores them (control characters as spaces): its
 * tripwire, exposure and alert are stored as text and JSON, where a NUL cannot go.
 */
function canaryAccess(line: number, atMs: number, row: Pick<AccessRow, 'account' | 'action' | 'scope' | 'system' | 'ip'>, canaries: string[]): vault.CanaryAccess {
  const field = (v: string | null) => (v === null ? null : vault.cleaned(v));
  return { line, at: new Date(atMs), account: vault.cleaned(row.account), action: vault.cleaned(row.action), scope: row.scope, system: field(row.system), ip: field(row.ip), canaries };
}

/** The result of a run that found another run of its import had moved it on: done by that one, or still at it. */
async function movedOn(db: Database, result: ImportAccessResult, row: vault.AccessImportRow): Promise<ImportAccessResult> {
  if (row.state !== 'done') {
    throw new UserError(`${result.file}: another run is importing this file now (import ${row.id}, at line ${row.lines_done}); import it again when that run has finished`);
  }
  const rejects = await vault.accessRejects(db, row.id);
  return { ...result, alreadyImported: true, lines: row.lines_done, added: row.added, duplicates: row.duplicates, rejected: row.rejected, rejects };
}

/** The UTF-16 length of UTF-8 bytes (a 4-byte character is two units), without decoding them. */
function utf16Units(data: Buffer, start: number, end: number): number {
  let units = 0;
  for (let i = start; i < end; i++) {
    const b = data[i];
    if ((b & 0xc0) !== 0x80) units += b >= 0xf0 ? 2 : 1;
  }
  return units;
}

/** Hashes used as Map and Set keys are cut to 30 bits: a small integer, not a number object per lookup. */
const SMI = 0x3fffffff;

/** Events read since the last flush: a batch becomes one block. */
interface Batch {
  block: EventBlock;
  /** Events naming canaries' records, for tripwires. */
  accesses: vault.CanaryAccess[];
  rejects: vault.AccessReject[];
  /** Events read, duplicates within the batch included. */
  valid: number;
}

function addEvent(batch: Batch, line: number, text: string, atMs: number, access: vault.CanaryAccess | null): void {
  batch.valid++;
  if (batch.block.addText(line, atMs, text) && access) batch.accesses.push(access);
}

/**
 * A reader for CSV lines without quotes, with the same checks and results as the general reader
 * (src/accesslog/parse.ts; test/accesslog/import.test.ts compares the two on one log): a line becomes
 * an event of the batch, or a reject. Null when the header is not plain or lacks a field the general
 * reader then reports.
 */
function plainCsvReader(
  file: string,
  options: ImportAccessOptions,
  canaryOf: ReadonlyMap<string, string>,
): { read(data: Buffer, start: number, end: number, line: number, batch: Batch): void } | null {
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
  // The byte path keeps the instant of the last minute read; only other minutes are parsed.
  const timeOf = (ts: string) => parseTimestamp(ts, options.timeZone)?.getTime() ?? null;
  // eslint-disable-next-line no-control-regex -- control characters are what it looks for
  const control = /[\x00-\x1f]/;
  const reject = (batch: Batch, line: number, text: string, reason: string): void => {
    batch.rejects.push({ line, reason, text: text.slice(0, 500) });
  };
  const readText = (text: string, line: number, batch: Batch): void => {
      if (!text.trim()) return;
      const cells = text.split(',');
      if (cells.length !== width) {
        const missing = ACCESS_FIELDS.find((f) => index[f] >= cells.length);
        const counts = `the row has ${cells.length} columns, the header ${width}`;
        return reject(batch, line, text, missing ? `${labels[missing]}: missing (${counts})` : `row: ${counts}`);
      }
      const ts = cells[index.ts].trim();
      if (!ts) return reject(batch, line, text, `${labels.ts}: missing`);
      const atMs = timeOf(ts);
      if (atMs === null) return reject(batch, line, text, `${labels.ts}: ${shown(ts)} is not a timestamp (${TIMESTAMP_HINT})`);
      const account = cells[index.user].trim();
      if (!account) return reject(batch, line, text, `${labels.user}: missing`);
      const action = cells[index.action].trim().toLowerCase();
      if (!action) return reject(batch, line, text, `${labels.action}: missing`);
      let records: string[] = [];
      if (index.record >= 0) {
        const cell = cells[index.record];
        if (cell.includes(';') || cell.includes('|')) records = recordKeys(cell);
        else {
          const key = cell.trim();
          if (key) records = [key];
        }
      }
      let canaries: string[] | null = null;
      for (const record of records) {
        const canary = canaryOf.get(record);
        if (canary !== undefined) (canaries ??= []).push(canary);
      }
      const system = index.system >= 0 ? cells[index.system].trim() || null : null;
      const ip = index.ip >= 0 ? cells[index.ip].trim() || null : null;
      const scope = classifyAction(action, records.length);
      const event = vault.eventText(atMs, account, action, scope, records, system, ip, control.test(text));
      addEvent(batch, line, event, atMs, canaries ? canaryAccess(line, atMs, { account, action, scope, system, ip }, canaries) : null);
  };

  // The byte path: printable ASCII lines with the header's width (nearly every line of a real log),
  // read without making strings of their fields; any other line goes through readText.
  const starts = new Int32Array(width);
  const ends = new Int32Array(width);
  const minute = Buffer.alloc(16);
  let minuteMs = NaN;
  /** Lower-case action and its scope for one record or for none or several, by the bytes of the action as written. */
  const actions = new Map<number, { written: Buffer; action: string; one: string; other: string }[]>();
  const scopes = (data: Buffer, a: number, b: number) => {
    let hash = 0x811c9dc5;
    for (let i = a; i < b; i++) hash = Math.imul(hash ^ data[i], 0x01000193);
    hash &= SMI;
    const known = actions.get(hash);
    if (known) {
      for (const k of known) {
        let same = k.written.length === b - a;
        for (let i = 0; same && i < k.written.length; i++) same = k.written[i] === data[a + i];
        if (same) return k;
      }
    }
    const action = data.toString('latin1', a, b).toLowerCase();
    const entry = { written: Buffer.from(data.subarray(a, b)), action, one: classifyAction(action, 1), other: classifyAction(action, 0) };
    actions.set(hash, [...(known ?? []), entry]);
    return entry;
  };
  const trimStart = (data: Buffer, a: number, b: number) => {
    while (a < b && data[a] === 0x20) a++;
    return a;
  };
  const trimEnd = (data: Buffer, a: number, b: number) => {
    while (b > a && data[b - 1] === 0x20) b--;
    return b;
  };
  const copy = (data: Buffer, a: number, b: number, out: Buffer, o: number) => {
    while (a < b) out[o++] = data[a++];
    return o;
  };
  const writeAscii = (text: string, out: Buffer, o: number) => {
    for (let i = 0; i < text.length; i++) out[o++] = text.charCodeAt(i);
    return o;
  };
  // Keys of the line's record list, and an FNV-1a hash of each canary's key, so that most keys are
  // never made into strings.
  let [keyStart, keyEnd, keyHash] = [new Int32Array(16), new Int32Array(16), new Int32Array(16)];
  const grown = (a: Int32Array) => {
    const b = new Int32Array(a.length * 2);
    b.set(a);
    return b;
  };
  const canaryHashes = new Set<number>();
  for (const key of canaryOf.keys()) {
    let hash = 0x811c9dc5;
    for (const byte of Buffer.from(key, 'latin1')) hash = Math.imul(hash ^ byte, 0x01000193);
    canaryHashes.add(hash & SMI);
  }
  const [tsAt, userAt, actionAt, recordAt, systemAt, ipAt] = [index.ts, index.user, index.action, index.record, index.system, index.ip];
  return {
    read(data, start, end, line, batch) {
      let field = 0;
      starts[0] = start;
      for (let i = start; i < end; i++) {
        const c = data[i];
        if (c === 0x2c) {
          if (field + 1 === width) return readText(data.toString('utf8', start, end), line, batch);
          ends[field++] = i;
          starts[field] = i + 1;
        } else if (c < 0x20 || c > 0x7e || c === 0x22) return readText(data.toString('utf8', start, end), line, batch);
      }
      ends[field] = end;
      if (field + 1 !== width) return readText(data.toString('utf8', start, end), line, batch);
      const ta = trimStart(data, starts[tsAt], ends[tsAt]);
      const tb = trimEnd(data, ta, ends[tsAt]);
      const ua = trimStart(data, starts[userAt], ends[userAt]);
      const ub = trimEnd(data, ua, ends[userAt]);
      const aa = trimStart(data, starts[actionAt], ends[actionAt]);
      const ab = trimEnd(data, aa, ends[actionAt]);
      if (ta === tb || ua === ub || aa === ab) return readText(data.toString('utf8', start, end), line, batch);
      let atMs: number | null = null;
      const secondsAt = ta + 17;
      const form = tb - ta === 19 && data[ta + 16] === 0x3a && data[secondsAt] >= 0x30 && data[secondsAt] <= 0x35 && data[secondsAt + 1] >= 0x30 && data[secondsAt + 1] <= 0x39;
      const seconds = form ? (data[secondsAt] - 0x30) * 10 + data[secondsAt + 1] - 0x30 : 0;
      let same = form;
      for (let i = 0; same && i < 16; i++) same = minute[i] === data[ta + i];
      if (same) atMs = minuteMs + seconds * 1000;
      else {
        atMs = timeOf(data.toString('latin1', ta, tb));
        if (atMs === null) return readText(data.toString('utf8', start, end), line, batch);
        if (form) {
          data.copy(minute, 0, ta, ta + 16);
          minuteMs = atMs - seconds * 1000;
        }
      }
      const { action, one, other } = scopes(data, aa, ab);
      const ra = recordAt >= 0 ? starts[recordAt] : 0;
      const rb = recordAt >= 0 ? ends[recordAt] : 0;
      // Record keys, split on ; or |, trimmed, each once: where they are, and which name canaries.
      let keys = 0;
      let canaries: string[] | null = null;
      for (let ka = ra; ka <= rb; ) {
        let kb = ka;
        while (kb < rb && data[kb] !== 0x3b && data[kb] !== 0x7c) kb++;
        const next = kb + 1;
        const a = trimStart(data, ka, kb);
        const b = trimEnd(data, a, kb);
        ka = next;
        if (a === b) continue;
        let hash = 0x811c9dc5;
        for (let i = a; i < b; i++) hash = Math.imul(hash ^ data[i], 0x01000193);
        hash &= SMI;
        let seen = false;
        for (let k = 0; k < keys && !seen; k++) seen = keyHash[k] === hash && keyEnd[k] - keyStart[k] === b - a && data.compare(data, keyStart[k], keyEnd[k], a, b) === 0;
        if (seen) continue;
        if (keys === keyStart.length) [keyStart, keyEnd, keyHash] = [grown(keyStart), grown(keyEnd), grown(keyHash)];
        keyStart[keys] = a;
        keyEnd[keys] = b;
        keyHash[keys] = hash;
        keys++;
        if (canaryHashes.has(hash)) {
          const canary = canaryOf.get(data.toString('latin1', a, b));
          if (canary !== undefined) (canaries ??= []).push(canary);
        }
      }
      const scope = keys === 1 ? one : other;
      const sa = systemAt >= 0 ? trimStart(data, starts[systemAt], ends[systemAt]) : 0;
      const sb = systemAt >= 0 ? trimEnd(data, sa, ends[systemAt]) : 0;
      const ia = ipAt >= 0 ? trimStart(data, starts[ipAt], ends[ipAt]) : 0;
      const ib = ipAt >= 0 ? trimEnd(data, ia, ends[ipAt]) : 0;

      const block = batch.block;
      block.beginRow(line);
      block.reserve(end - start + 64);
      const out = block.buf;
      let o = writeDigits(out, block.end, atMs);
      out[o++] = 0x1f;
      o = copy(data, ua, ub, out, o);
      out[o++] = 0x1f;
      o = writeAscii(action, out, o);
      out[o++] = 0x1f;
      o = writeAscii(scope, out, o);
      out[o++] = 0x1f;
      for (let k = 0; k < keys; k++) {
        if (k) out[o++] = 0x1e;
        o = copy(data, keyStart[k], keyEnd[k], out, o);
      }
      out[o++] = 0x1f;
      o = copy(data, sa, sb, out, o);
      out[o++] = 0x1f;
      o = copy(data, ia, ib, out, o);
      batch.valid++;
      if (block.commitRow(atMs, o) && canaries) {
        const text = (a: number, b: number) => (b > a ? data.toString('latin1', a, b) : null);
        batch.accesses.push({ line, at: new Date(atMs), account: data.toString('latin1', ua, ub), action, scope: scope as AccessScope, system: text(sa, sb), ip: text(ia, ib), canaries });
      }
    },
  };
}
