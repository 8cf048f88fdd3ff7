import fs from 'node:fs';
import { Transform } from 'node:stream';
import type { Database, Queryable } from '../db/index.js';
import { UserError } from '../lib/errors.js';
import { escapeControls } from '../lib/control.js';
import * as vault from '../vault/index.js';
import { addParsed, BatchWriter } from './batch.js';
import { fastCsvFits, readFastCsv } from './fast-csv.js';
import { fileDigest } from './file-digest.js';
import { checkAccessLogStart, parseAccessLog } from './parse.js';
import { actionWords, type ActionWords } from './fields.js';
import { checkTimeFormat } from './time.js';
import { RejectTally, TooManyRejects } from './rejects.js';
import type { AccessField, AccessFormat } from '../domain/access.js';
import { DEFAULT_MAX_REJECTS } from './limits.js';

export { accountChannelName } from './batch.js';
export { TooManyRejects } from './rejects.js';

// `cradle logs import`: stream a log file into the vault in batches, one transaction each. A batch
// commits its events, rejects and the import's resume point together, so a crash loses nothing and a
// re-run skips the lines already committed. An event is known by its normalised fields (its text in
// the block, src/vault/access-events.ts), so a re-imported or overlapping file adds nothing twice.
// This file runs the import; batch.ts writes a batch, fast-csv.ts reads a plain CSV log from its bytes,
// parse.ts and formats/ read every log.

export const BATCH_ROWS = 50_000;

// DEFAULT_MAX_REJECTS: ./limits.ts (light, for the CLI's help text).
export { DEFAULT_MAX_REJECTS };

/** The largest share of rejected lines (0..1), judged once minLines lines were read (or at the end, when no line could be read). */
export interface MaxRejects {
  share: number;
  minLines: number;
}

export interface ImportAccessOptions {
  hospital: string;
  format: AccessFormat;
  timeZone: string;
  map?: Partial<Record<AccessField, string>>;
  /** The mapping's record key: where a canary's key is in the vault (alias) and in the target (table). */
  recordKey: { alias: string; table: string; column: string } | null;
  /** Alert channels (email, webhook names) for single-record tripwires. */
  alertChannels: readonly string[];
  /** The log's encoding, as given (--encoding); default: the one its bytes say. */
  encoding?: string;
  /** A date-fns pattern for its timestamps (--time-format), tried before the forms detected by default. */
  timeFormat?: string;
  /** Action words over the built-in ones (the hospital's accessActions, then --actions), e.g. { 调阅: 'view' }. */
  actions?: Readonly<Record<string, string>>;
  /** Past this share of rejected lines the import stops, committing nothing more (TooManyRejects); default: no limit. */
  maxRejects?: MaxRejects;
  /** Told the encoding the log is read in, and whether it was detected (not given), before anything is read. */
  onEncoding?: (encoding: string, detected: boolean) => void;
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
  /** The encoding the log was read in (utf-8, gb18030, utf-16le…). */
  encoding: string;
  rejects: vault.AccessReject[];
  /** Lines read with a field guessed, by warning, in this run (the general query log's "unknown" account). */
  warnings: ImportWarning[];
}

export interface ImportWarning {
  message: string;
  lines: number;
  firstLine: number;
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
  const encoding = options.encoding ?? digest.encoding;
  options.onEncoding?.(encoding, options.encoding === undefined);
  if (options.timeFormat !== undefined) checkTimeFormat(options.timeFormat);
  const words: ActionWords = actionWords({ source: 'actions', words: options.actions ?? {} });
  const parseOptions = {
    format: options.format,
    timeZone: options.timeZone,
    map: options.map,
    recordKey: options.recordKey ?? undefined,
    source: file,
    encoding,
    timeFormat: options.timeFormat,
    actions: words,
  };
  const maxRejects = options.maxRejects;
  // A header without a mapped column (or a bad zone) is the command's mistake: refused before an import row exists.
  // Only a CSV log's header is read; the stream is closed after it (left open, it would read on later).
  const head = options.format === 'csv' ? fs.createReadStream(file) : null;
  let header;
  try {
    header = await checkAccessLogStart(head ?? (async function* () {})(), parseOptions);
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
    // What changes how lines read is part of the import's identity: a file imported again with another
    // --time-format or vocabulary is read again (each only when given, so earlier imports keep theirs).
    options: {
      map: options.map ?? null,
      recordKey: options.recordKey,
      ...(options.encoding !== undefined ? { encoding: options.encoding } : {}),
      ...(options.timeFormat !== undefined ? { timeFormat: options.timeFormat } : {}),
      ...(options.actions && Object.keys(options.actions).length ? { actions: options.actions } : {}),
    },
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
    encoding,
    rejects: [],
    warnings: [],
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
    let bytes = 0;
    const batchRows = options.batchRows ?? BATCH_ROWS;
    const writer = new BatchWriter({ hospital: options.hospital, importId: started.id, batchRows, alertChannels: options.alertChannels, actor: options.actor });

    /** Lock the import's row for the transaction; another run that moved it on since ends this one. */
    const claim = async (tx: Queryable) => {
      const row = await vault.lockAccessImport(tx, started.id);
      if (row.state === 'done' || row.lines_done !== committed) throw new ImportMovedOn(row);
    };

    let batch = writer.newBatch();
    let lastLine = started.lines_done;
    /** This run's lines read (events and rejects) and its rejects, by what they have in common. */
    const tally = new RejectTally();

    // One batch is written while the next is parsed (the database and the parser run on different
    // cores); batches still commit one after another, in file order, each with the import's resume point.
    // Past --max-rejects the batch is not committed, nor any after it.
    const flush = async (atEnd = false) => {
      await writing;
      if (batch.valid === 0 && batch.rejects.length === 0) return;
      tally.add(batch.valid, batch.rejects);
      if (maxRejects && tally.exceeds(maxRejects.share, maxRejects.minLines, atEnd)) throw new TooManyRejects(tally.message(file, maxRejects.share, committed), batch.rejects);
      const [b, linesDone] = [batch, lastLine];
      batch = writer.newBatch();
      writing = db
        .transaction(async (tx) => {
          await claim(tx);
          const written = await writer.write(tx, b);
          const duplicates = b.valid - written.added;
          await vault.advanceAccessImport(tx, started.id, { linesDone, added: written.added, duplicates, rejected: b.rejects.length });
          return { ...written, duplicates };
        })
        .then((written) => {
          committed = linesDone;
          result.added += written.added;
          result.duplicates += written.duplicates;
          result.rejected += b.rejects.length;
          result.tripwires += written.tripwires;
          result.alerts += written.alerts;
          result.lines = linesDone;
          options.onProgress?.({ lines: linesDone, bytes, size });
        });
      // Not awaited here: the caller parses on; the next flush (or the end) waits for it.
      writing.catch(() => undefined);
    };
    const full = () => batch.valid + batch.rejects.length >= batchRows;

    if (fastCsvFits(options.format, digest, encoding, header)) {
      await readFastCsv(file, header, parseOptions, canaryOf, started.lines_done, {
        batch: () => batch,
        read: (n) => (bytes += n),
        lineDone: (line) => {
          lastLine = line;
          if (full()) return flush();
          // Let the batch being written take its turn: each of its statements waits for this loop.
          if ((line & 2047) === 0) return new Promise(setImmediate);
        },
      });
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
        if ('warnings' in parsed) for (const w of parsed.warnings ?? []) warn(result.warnings, w, parsed.line);
        addParsed(batch, parsed, canaryOf);
        if (full()) await flush();
      }
    }
    await flush(true);
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

function warn(warnings: ImportWarning[], message: string, line: number): void {
  const known = warnings.find((w) => w.message === message);
  if (known) known.lines++;
  else warnings.push({ message, lines: 1, firstLine: line });
}

/** The result of a run that found another run of its import had moved it on: done by that one, or still at it. */
async function movedOn(db: Database, result: ImportAccessResult, row: vault.AccessImportRow): Promise<ImportAccessResult> {
  if (row.state !== 'done') {
    throw new UserError(`${result.file}: another run is importing this file now (import ${row.id}, at line ${row.lines_done}); import it again when that run has finished`);
  }
  const rejects = await vault.accessRejects(db, row.id);
  return { ...result, alreadyImported: true, lines: row.lines_done, added: row.added, duplicates: row.duplicates, rejected: row.rejected, rejects };
}
