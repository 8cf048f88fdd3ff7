import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { parse as parseCsv } from 'csv-parse/sync';
import { customAlphabet } from 'nanoid';
import { draftCanaries } from '../canary/draft.js';
import { canariesPerWeek, type HospitalConfig } from '../config/index.js';
import { dialectOf, readOnly, StatementRefused, type Database, type Queryable, type ReadOnlyQueryable, type TargetDialect } from '../db/index.js';
import { formatChannel, regionOfLocale, SHARED_APART_DAYS, type ChannelRef, type Family } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import { createRandom, type Random } from '../lib/generate/index.js';
import { checkOutFile } from '../lib/out-file.js';
import { FIELDS, renderPhone, type Mapping } from '../targetdb/mapping.js';
import { joinedFrom } from '../targetdb/read.js';
import { isoWeekOf } from '../lib/time.js';
import * as vault from '../vault/index.js';
import {
  cellText,
  checkCodeSpec,
  codeCapacity,
  codeLength,
  codeOverlap,
  codewordPositions,
  DEFAULT_CODE,
  defaultCanaryCount,
  nextCodeword,
  placeCanaries,
  planColumns,
  poolFitsFile,
  valueShares,
  type CodeSpec,
  type ColumnPlan,
} from './plan.js';
import { encodeRows, formatOf, writeTemp, writeXlsxTemp, type ExportFormat, type WrittenFile } from './write.js';
import { querySources, tableSources, takenIn, type ColumnSource } from './resolve.js';
import { anchorOffsets, identifying, learnStyles, placeCanaryRows, StyleError, styledCanaryRow } from './style.js';

const require = createRequire(import.meta.url);

// An export: the hospital's rows for one recipient, plus canary families made for this file alone.
// The query runs read-only; the file is written to a temporary name and renamed into place inside the
// vault transaction that records its manifest, so a failed export leaves neither file nor manifest.

const exportId = customAlphabet('0123456789abcdefghjkmnpqrstvwxyz', 10);
const canaryId = customAlphabet('0123456789abcdefghjkmnpqrstvwxyz', 12);
const poolId = customAlphabet('0123456789abcdefghjkmnpqrstvwxyz', 10);
const DAY_MS = 86_400_000;

export interface ExportRequest {
  hospital: HospitalConfig;
  mapping: Mapping;
  channel: ChannelRef;
  out: string;
  /** Replace an existing file at `out` (else refused). */
  force?: boolean;
  format?: string;
  /** A query with $1… placeholders, or a table/view name; neither: the mapping's default export. */
  query?: string;
  table?: string;
  params: string[];
  from?: string;
  to?: string;
  canaries?: number;
  /** Give the file a codeword of shared canaries (docs/codes.md) instead of canaries of its own. */
  code?: CodeRequest;
  operator?: string;
  /** Output column → family field, for columns whose names say nothing. */
  columnFields: Record<string, string>;
  now: Date;
  seed?: string;
  /** How far the export has come (0–1) and what it is doing, for a progress bar. */
  onProgress?: (fraction: number, step: string) => void;
  /** Show the canary rows and their places; write and record nothing. */
  dryRun?: boolean;
}

export interface CodeRequest {
  /** The construction for a new pool (default DEFAULT_CODE); an existing pool is reused only if it has this one. */
  spec?: CodeSpec;
}

export interface CodeResult {
  poolId: string;
  /** The codeword's index m in its pool. */
  codeword: number;
  /** The pool positions it holds, one per block. */
  positions: number[];
  spec: CodeSpec;
  /** L, canaries in the pool. */
  poolSize: number;
  /** p^k, exports the pool can tell apart. */
  capacity: number;
  /** At most how many shared canaries this codeword has in common with any earlier one of its pool. */
  overlap: number;
  /** Whether this export made the pool (with L new canaries and their trap numbers). */
  newPool: boolean;
}

export interface ExportResult {
  id: string;
  channel: string;
  file: string;
  format: string;
  rows: number;
  /** Every canary in the file: its own, then the shared ones of its codeword (`shared`). */
  canaries: { id: string; row: number; family: Family; shared?: boolean; cells: Record<string, string> }[];
  code: CodeResult | null;
  sha256: string;
  bytes: number;
  warnings: string[];
  /** A dry run: nothing written or recorded (no id, file, hash). */
  dryRun?: boolean;
}

interface SourceQuery {
  sql: string;
  params: unknown[];
  /** Output column → field, where the query's own column names would not say it. */
  columnFields: Record<string, string>;
  /** The default export's columns: each one's table and column. */
  sources?: ColumnSource[];
}

async function columnType(db: ReadOnlyQueryable, schema: string, table: string, column: string): Promise<string | null> {
  const columns = await dialectOf(db).columns(db, [{ schema, table }]);
  return columns.find((c) => c.column === column)?.dataType ?? null;
}

/** The mapping's default export: one row per birth with every family field, joined along the mapping's refs. */
export async function defaultExportQuery(db: ReadOnlyQueryable, mapping: Mapping, timeZone: string, from?: string, to?: string): Promise<SourceQuery> {
  const d = dialectOf(db);
  const sql = joinedFrom(d, mapping, 'inner');
  const select: string[] = [];
  const sources: ColumnSource[] = [];
  const columnFields: Record<string, string> = {};
  const used = new Set<string>();
  let birth: { step: (typeof mapping.inserts)[number]; column: string } | null = null;
  for (const step of mapping.inserts) {
    for (const { column, value } of step.columns) {
      if (value.type !== 'field') continue;
      const name = used.has(column) ? `${step.alias}_${column}` : column;
      used.add(name);
      if (name !== column) columnFields[name] = value.field;
      select.push(`${d.ident(step.alias)}.${d.ident(column)} AS ${d.ident(name)}`);
      sources.push({ schema: step.schema, table: step.table, column, mapped: true, value });
      if (value.field === 'baby.birthTime' && !birth) birth = { step, column };
    }
  }
  const where: string[] = [];
  const params: unknown[] = [];
  let order = '';
  if (birth) {
    const col = `${d.ident(birth.step.alias)}.${d.ident(birth.column)}`;
    const dataType = (await columnType(db, birth.step.schema, birth.step.table, birth.column)) ?? '';
    // A day is the hospital's day: bounds are local midnights.
    if (from) where.push(`${col} >= ${d.dayBound(params, from, { dataType, timeZone })}`);
    if (to) where.push(`${col} < ${d.dayBound(params, to, { dataType, timeZone, nextDay: true })}`);
    order = ` ORDER BY ${col}`;
  } else if (from || to) {
    throw new UserError('--from/--to need a column mapped to baby.birthTime in the mapping');
  }
  return { sql: `SELECT ${select.join(', ')} ${sql}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${order}`, params, columnFields, sources };
}

function sourceQuery(req: ExportRequest, d: TargetDialect): SourceQuery | null {
  if (req.query) return { sql: req.query, params: req.params, columnFields: {} };
  if (req.table) return { sql: `SELECT * FROM ${d.tableName(req.table)}`, params: [], columnFields: {} };
  return null;
}

/** An export file read back as text rows (no header): CSV/TSV as a spreadsheet would split it, JSON by its keys, XLSX via exceljs. */
async function rereadExport(format: ExportFormat, columns: readonly string[], written: WrittenFile): Promise<string[][]> {
  const data = written.file.readBack();
  if (format === 'json') {
    const doc = JSON.parse(data.toString('utf8')) as Record<string, unknown>[];
    return doc.map((o) => columns.map((c) => cellText(o[c])));
  }
  if (format === 'xlsx') {
    const ExcelJS = require('exceljs') as typeof import('exceljs');
    const workbook = new ExcelJS.Workbook();
    await workbook.xlsx.load(data as unknown as ArrayBuffer);
    const rows: string[][] = [];
    workbook.worksheets[0].eachRow({ includeEmpty: true }, (row, n) => {
      if (n === 1) return;
      rows.push(columns.map((_, c) => cellText(row.getCell(c + 1).value)));
    });
    return rows;
  }
  const records = parseCsv(data.toString('utf8'), { delimiter: format === 'tsv' ? '\t' : ',', relax_column_count: true, relax_quotes: true, quote: format === 'tsv' ? false : '"' }) as string[][];
  return records.slice(1);
}

/** The births the file's rows show, if a column holds them. */
function fileBirths(plan: readonly ColumnPlan[], rows: readonly unknown[][]): { from: Date; to: Date } | null {
  const index = plan.findIndex((c) => c.value?.field === 'baby.birthTime' && !c.value.format);
  const times = index < 0 ? [] : rows.map((r) => new Date(r[index] as string | Date).getTime()).filter((t) => Number.isFinite(t));
  return times.length ? { from: new Date(times.reduce((a, b) => Math.min(a, b))), to: new Date(times.reduce((a, b) => Math.max(a, b))) } : null;
}

/** Birth range for the canaries: the file's own, so they fall among its rows (by its admissions or discharges where it shows no births). */
function birthRange(plan: readonly ColumnPlan[], rows: readonly unknown[][], req: { from?: string; to?: string; now: Date }, timeZone: string): { birthFrom: Date; birthTo: Date } {
  const births = fileBirths(plan, rows);
  if (births) return { birthFrom: births.from, birthTo: births.to };
  const styles = learnStyles(plan.map((c) => c.name), rows, timeZone);
  const HOUR = 3_600_000;
  for (const [field, from, to] of [['baby.birthTime', 0, 0], ['admittedAt', 30 * HOUR, 2 * HOUR], ['dischargedAt', -2 * DAY_MS, -8 * DAY_MS]] as const) {
    const i = plan.findIndex((c) => c.value?.field === field && styles[plan.indexOf(c)].time);
    if (i >= 0) {
      const t = styles[i].time!;
      return { birthFrom: new Date(t.min + from), birthTo: new Date(Math.max(t.min + from, t.max + to)) };
    }
  }
  const to = req.to ? new Date(`${req.to}T23:59:00Z`) : new Date(req.now.getTime() - DAY_MS);
  const from = req.from ? new Date(`${req.from}T00:00:00Z`) : new Date(to.getTime() - 30 * DAY_MS);
  return { birthFrom: from, birthTo: to };
}

/** Seeded canaries among the query's rows, found by their phones written as each phone column writes them. */
async function seededCanariesIn(db: Queryable, hospital: string, plan: readonly ColumnPlan[], rows: readonly unknown[][]): Promise<{ canaryId: string; index: number }[]> {
  const phoneColumns = plan.flatMap((c, i) => (c.value?.kind === 'phone' ? [{ i, style: c.value.phone ?? 'e164' }] : []));
  if (phoneColumns.length === 0 || rows.length === 0) return [];
  const canaries = await vault.listCanaries(db, { hospital });
  const byPhone = new Map<string, string>();
  for (const c of canaries) {
    if (!c.batch_id) continue; // an export's or a code pool's canary is in files only, never in the target
    for (const phone of [c.mother_phone, c.father_phone]) {
      if (!phone) continue;
      for (const { style } of phoneColumns) byPhone.set(renderPhone(phone, style), c.id);
    }
  }
  const found = new Map<string, number>();
  rows.forEach((row, index) => {
    for (const { i } of phoneColumns) {
      const id = byPhone.get(String(row[i] ?? ''));
      if (id && !found.has(id)) found.set(id, index);
    }
  });
  return [...found.entries()].map(([canaryId, index]) => ({ canaryId, index }));
}

/** 1-based file row of the real row at `index`, given where the added canaries went. */
function positionOfReal(canaryPositions: readonly number[], index: number): number {
  const sorted = [...canaryPositions].sort((a, b) => a - b);
  let row = index + 1;
  for (const p of sorted) if (p <= row) row++;
  return row;
}

export async function runExport(vaultDb: Database, target: Database, req: ExportRequest): Promise<ExportResult> {
  if (req.channel.kind !== 'export') throw new UserError(`an export goes to an export:<recipient> channel, not ${formatChannel(req.channel)}`);
  for (const [column, field] of Object.entries(req.columnFields)) {
    if (!FIELDS[field]) throw new UserError(`--map ${column}=${field}: unknown field (known: ${Object.keys(FIELDS).join(', ')})`);
  }
  // Refused before the target is read: a directory, a missing directory, an existing file without force.
  if (!req.dryRun) checkOutFile(req.out, { force: req.force });
  const timeZone = req.mapping.timeZone ?? req.hospital.timeZone;
  const format = formatOf(req.out, req.format);

  // Everything the export reads from the target, the query included, goes through readOnly().
  let source: SourceQuery;
  let result: { rows: Record<string, unknown>[]; fields: string[] };
  try {
    ({ source, result } = await readOnly(target, async (tx) => {
      const query = sourceQuery(req, dialectOf(tx)) ?? (await defaultExportQuery(tx, req.mapping, timeZone, req.from, req.to));
      return { source: query, result: await tx.query<Record<string, unknown>>(query.sql, query.params) };
    }));
  } catch (err) {
    if (err instanceof StatementRefused) throw new UserError(`${req.query ? '--query' : 'the export query'}: ${err.message}`);
    if (err instanceof UserError) throw err;
    throw new UserError(`the export query failed on ${target.label}: ${(err as Error).message}`);
  }
  req.onProgress?.(0.3, `read ${result.rows.length.toLocaleString('en')} rows`);
  const columns = result.fields;
  if (new Set(columns).size !== columns.length) throw new UserError('the export query returns two columns with the same name; alias them');
  const realRows = result.rows.map((r) => columns.map((c) => r[c]));
  // Each column by its table and column, not by its name alone (two tables may both have `xm`).
  const sources =
    source.sources ??
    (req.table ? tableSources(req.mapping, req.table, columns) : await readOnly(target, (tx) => querySources(tx, req.mapping, columns, realRows, req.columnFields)));
  const plan = planColumns(columns, req.mapping, { ...source.columnFields, ...req.columnFields }, sources);
  return markAndRecord(vaultDb, target, {
    sources,
    dryRun: req.dryRun,
    reread: (written) => rereadExport(format, columns, written),
    ...req,
    format,
    columns,
    realRows,
    plan,
    query: source.sql,
    params: source.params,
    write: (rows) => (format === 'xlsx' ? writeXlsxTemp(req.out, columns, rows, { force: req.force }) : writeTemp(req.out, encodeRows(format, columns, rows), { force: req.force })),
  });
}

export interface MarkRequest {
  hospital: HospitalConfig;
  mapping: Mapping;
  channel: ChannelRef;
  out: string;
  format: string;
  /** What produced the rows, for the manifest: the query (or a description of the source file) and its parameters. */
  query: string;
  params: unknown[];
  columns: string[];
  realRows: unknown[][];
  plan: ColumnPlan[];
  canaries?: number;
  code?: CodeRequest;
  operator?: string;
  from?: string;
  to?: string;
  now: Date;
  seed?: string;
  onProgress?: (fraction: number, step: string) => void;
  /** Writes the merged rows to a temporary file in the file's own format; `origin[i]`: the real row merged row i is (null: a canary). */
  write: (rows: unknown[][], origin: readonly (number | null)[]) => Promise<WrittenFile>;
  /** Reads the written temporary file back as text rows (no header), as a recipient would. */
  reread: (written: WrittenFile) => Promise<string[][]>;
  /** Where each column comes from in the target (export), for keys unique against its table; null: the file alone. */
  sources?: readonly (ColumnSource | null)[];
  /** Show the canary rows and their places; write and record nothing. */
  dryRun?: boolean;
}

/** Which real row each merged row is (null: a canary), given the canaries' 1-based rows. */
function originOf(length: number, positions: readonly number[]): (number | null)[] {
  const canary = new Set(positions);
  let next = 0;
  return Array.from({ length }, (_, i) => (canary.has(i + 1) ? null : next++));
}

/** Move a family's times (admission, birth, discharge) by `ms`, in place. */
function shiftFamily(family: Family, ms: number): void {
  const move = (iso: string) => new Date(Date.parse(iso) + ms).toISOString();
  family.admittedAt = move(family.admittedAt);
  family.baby.birthTime = move(family.baby.birthTime);
  if (family.dischargedAt) family.dischargedAt = move(family.dischargedAt);
}

/** Columns that can carry a canary's trap contact: phones, and e-mails. */
function contactColumns(plan: readonly ColumnPlan[]): number[] {
  return plan.flatMap((c, i) => (c.value?.kind === 'phone' || c.value?.field.endsWith('.email') ? [i] : []));
}

/**
 * The canary rows in the file's own style, placed in its order, keys fresh in their sequences and
 * unique against the file's rows and (where the column's table is known) the target's.
 */
async function styledRows(target: Database, req: MarkRequest, families: readonly Family[], rng: Random, timeZone: string): Promise<{ rows: unknown[][]; positions: number[]; shifts: number[] }> {
  const { realRows, plan, columns } = req;
  try {
    const styles = learnStyles(columns, realRows, timeZone);
    const taken = new Map<number, Set<string>>();
    styles.forEach((s, c) => {
      if (identifying(s) && !s.key?.ordinal) taken.set(c, new Set(s.shares.map(([v]) => v)));
    });
    const { anchor, offsets } = anchorOffsets(plan, styles, realRows, timeZone);
    const canaryRows = families.map((f) => styledCanaryRow(plan, styles, f, { timeZone, rng, taken, anchor, offsets }));
    const timeColumns = plan.flatMap((c, i) => (c.value?.kind === 'instant' || c.value?.kind === 'date' ? [i] : []));
    // Places and keys together: a canary whose neighbours leave no key free moves to a place that has one.
    const placed = placeCanaries(realRows, canaryRows, rng, timeColumns);
    const { rows, positions, shifts } = await readOnly(target, (tx) =>
      placeCanaryRows(realRows, canaryRows, placed, {
        styles, plan, rng, timeZone,
        isTaken: async (c, candidates) => {
          const source = req.sources?.[c];
          return source ? takenIn(tx, source, candidates) : new Set();
        },
        inTarget: (c) => !!req.sources?.[c],
      }),
    );
    // Last guard: no identifying value of a canary is a real row's.
    for (const c of taken.keys()) {
      const values = new Set(styles[c].shares.map(([v]) => v));
      for (const p of positions) {
        const text = cellText(rows[p - 1][c]);
        if (text !== '' && values.has(text) && !plan[c].value) throw new StyleError(`column ${columns[c]}: a canary would repeat a real row's value`);
      }
    }
    return { rows, positions, shifts };
  } catch (err) {
    if (err instanceof StyleError) throw new UserError(`cannot fill canary rows convincingly: ${err.message}; nothing was written`);
    throw err;
  }
}

/** The written file holds exactly the rows written, with the canaries' contacts at their rows and nowhere else. */
function checkWritten(read: readonly string[][], rows: readonly unknown[][], positions: readonly number[], contacts: readonly number[], columns: readonly string[]): void {
  if (read.length !== rows.length) throw new Error(`the written file reads back with ${read.length} rows, not ${rows.length}; nothing was recorded`);
  const canaryAt = new Set(positions);
  const canaryContacts = new Set(positions.flatMap((p) => contacts.map((c) => cellText(rows[p - 1][c])).filter((t) => t !== '')));
  read.forEach((row, i) => {
    const isCanary = canaryAt.has(i + 1);
    for (const c of contacts) {
      const text = (row[c] ?? '').trim();
      if (isCanary && text !== cellText(rows[i][c]).trim()) throw new Error(`the written file's row ${i + 1} does not hold its canary's ${columns[c]} (${text} read back); nothing was recorded`);
      if (!isCanary && text !== '' && canaryContacts.has(text)) throw new Error(`the written file's row ${i + 1} holds a canary's ${columns[c]} but is not a canary row; nothing was recorded`);
    }
  });
}

/**
 * How many canaries of its own an export can take without eating into the numbers the rotation plan
 * needs for its next POOL_WEEKS_WANTED weeks; null without a rotation plan (nothing to keep).
 */
async function exportBudget(vaultDb: Database, hospital: HospitalConfig, now: Date): Promise<{ canaries: number; supply: number; reserve: number; numbersPerCanary: number } | null> {
  const plan = canariesPerWeek(hospital);
  if (plan === 0) return null;
  const s = await vault.poolSupply(vaultDb, hospital.name, plan, now);
  // Shared numbers (pool.sharing "shared"): the export's canaries need numbers different from one
  // another only, and none is used up: every number out of burn-in can take one. A father of his own
  // number (pool.fatherNumbers "own") may take a second, so the file's draft can never run short.
  if (hospital.sharing === 'shared') {
    const shareable = (await vault.shareableNumbers(vaultDb, hospital.name, regionOfLocale(hospital.locale), now, SHARED_APART_DAYS)).length;
    const perCanary = hospital.fatherNumbers === 'mother' ? 1 : 2;
    return { canaries: Math.floor(shareable / perCanary), supply: shareable, reserve: 0, numbersPerCanary: perCanary };
  }
  const reserve = s.perWeek * vault.POOL_WEEKS_WANTED;
  return { canaries: Math.max(0, Math.floor((s.supply - reserve) / s.numbersPerCanary)), supply: s.supply, reserve, numbersPerCanary: Math.round(s.numbersPerCanary * 100) / 100 };
}

/**
 * Add canaries made for this file to its rows, write it, and record the manifest; the file is renamed
 * into place inside the vault transaction, so a failure leaves neither. Shared by export and watermark.
 */
export async function markAndRecord(vaultDb: Database, target: Database, req: MarkRequest): Promise<ExportResult> {
  const { realRows, plan } = req;
  const timeZone = req.mapping.timeZone ?? req.hospital.timeZone;
  const warnings: string[] = [];
  // Refused before anything is drafted: no trap number is taken for a file that cannot carry one.
  if (contactColumns(plan).length === 0) {
    throw new UserError(`no column of ${path.basename(req.out)} holds a phone or e-mail field (columns: ${req.columns.join(', ')}): its canaries could never be contacted; add one to the export or say which with --map column=mother.phone`);
  }

  // With a code, the file's canaries are its codeword's shared ones, plus its own only if asked for.
  let own = req.canaries ?? (req.code ? 0 : defaultCanaryCount(realRows.length));
  // The default count follows what the trap pool can spare after the rotation plan's next weeks.
  if (req.canaries === undefined && own > 0) {
    const budget = await exportBudget(vaultDb, req.hospital, req.now);
    if (budget && own > budget.canaries) {
      const why = `the pool has ${budget.supply} numbers available or in burn-in and keeps ${budget.reserve} for the next ${vault.POOL_WEEKS_WANTED} weeks of the rotation plan, at ${budget.numbersPerCanary} number${budget.numbersPerCanary === 1 ? '' : 's'} a canary`;
      if (budget.canaries === 0) throw new UserError(`no trap numbers to spare for this export's canaries: ${why}; add numbers (cradle pool add) or give --canaries to take them from the rotation's`);
      warnings.push(`${budget.canaries} canaries instead of the default ${own}: ${why}; give --canaries to choose`);
      own = budget.canaries;
    }
  }
  const wardIndex = plan.findIndex((c) => c.value?.field === 'ward');
  const wards = wardIndex >= 0 ? valueShares(realRows, wardIndex) : [];
  const code = req.code ? await chooseCodeword(vaultDb, req.hospital.name, req.code, fileBirths(plan, realRows), wards.length ? new Set(wards.map(([w]) => w)) : null) : null;
  const newPoolSize = code && !code.pool ? codeLength(code.spec) : 0;
  // One draft for the file's own canaries and a new pool's, so no trap number is drawn twice.
  // The draft's uniqueness checks read the target too: under the same read-only promise.
  const draft = await readOnly(target, (tx) =>
    draftCanaries(vaultDb, tx, {
      origin: 'export',
      hospital: req.hospital,
      mapping: req.mapping,
      count: own + newPoolSize,
      ward: (rng) => (wards.length ? rng.weighted(wards) : rng.pick(req.hospital.wards)),
      ...birthRange(plan, realRows, req, timeZone),
      now: req.now,
      seed: req.seed,
    }),
  );
  warnings.push(...draft.warnings);
  const ids = draft.families.map(() => canaryId());
  const idOf = new Map(draft.families.map((f, i) => [f, ids[i]]));
  const ownCanaries = draft.families.slice(0, own).map((family, i) => ({ id: ids[i], family, shared: false }));
  const poolCanaries = code?.pool ? code.pool.canaries : draft.families.slice(own).map((family, position) => ({ id: ids[own + position], position, family }));
  const codeCanaries = (code?.positions ?? []).map((p) => ({ ...poolCanaries.find((c) => c.position === p)!, shared: true }));
  const placed = [...ownCanaries, ...codeCanaries];
  if (code && codeCanaries.length > Math.max(3, realRows.length * 0.1)) warnings.push(`the codeword's ${codeCanaries.length} shared canaries are more than 10% of this file's ${realRows.length} rows and may stand out`);
  const rng = createRandom(req.seed === undefined ? undefined : `${req.seed}:place`);
  const { rows, positions, shifts } = await styledRows(target, req, placed.map((c) => c.family), rng, timeZone);
  // A canary moved to another place in the file to find a free key has its times moved with it: its
  // own family says so too (the one object the draft's trap assignments name); a shared canary's family
  // belongs to its pool, so its row in this file differs from it by the shift.
  placed.forEach((c, i) => {
    if (!shifts[i]) return;
    if (c.shared) warnings.push(`shared canary ${c.id}'s times are moved by ${Math.round(shifts[i] / 60_000)} min in this file so that its key fits between its neighbours`);
    else shiftFamily(c.family, shifts[i]);
  });
  // Every canary must be reachable: a trap phone (or e-mail) written in a contact column of its row.
  const contacts = contactColumns(plan);
  const unreachable = placed.findIndex((_, i) => !contacts.some((c) => cellText(rows[positions[i] - 1][c]) !== ''));
  if (unreachable >= 0) throw new UserError(`canary ${unreachable + 1} would carry no trap phone or e-mail in the file's columns (${contacts.map((c) => req.columns[c]).join(', ')}); nothing was written`);
  const canaryCells = (i: number) => Object.fromEntries(req.columns.map((name, c) => [name, cellText(rows[positions[i] - 1][c])]));
  if (req.dryRun) {
    return {
      id: '',
      channel: formatChannel(req.channel),
      file: path.resolve(req.out),
      format: req.format,
      rows: realRows.length,
      canaries: placed.map((c, i) => ({ id: c.id, row: positions[i], family: c.family, cells: canaryCells(i), ...(code ? { shared: c.shared } : {}) })),
      code: null,
      sha256: '',
      bytes: 0,
      warnings,
      dryRun: true,
    };
  }
  req.onProgress?.(0.5, 'writing the file');
  const written = await req.write(rows, originOf(rows.length, positions));
  try {
    // The file as a reader will see it: exactly the canaries the manifest will list, at its rows.
    checkWritten(await req.reread(written), rows, positions, contacts, req.columns);
  } catch (err) {
    written.file.discard();
    throw err;
  }
  req.onProgress?.(0.8, 'recording the manifest');
  const seeded = await seededCanariesIn(vaultDb, req.hospital.name, plan, realRows);
  const id = exportId();
  const at = req.now;
  const codeDetail = code ? { pool: code.poolId, codeword: code.codeword } : undefined;
  const finalPath = path.resolve(req.out);
  let renamed = false;
  try {
    await vaultDb.transaction(async (tx) => {
      const channelId = await vault.ensureChannel(tx, req.hospital.name, req.channel);
      await vault.blockNumbers(tx, draft.blocked.map((b) => b.id), "found in the target's real records");
      await vault.recordExport(tx, {
        id,
        hospital: req.hospital.name,
        channelId,
        operator: req.operator ?? null,
        query: req.query,
        params: req.params,
        format: req.format,
        fileName: path.basename(req.out),
        rowCount: realRows.length,
        canaryCount: placed.length,
        sha256: written.sha256,
        bytes: written.bytes,
        createdAt: at,
      });
      const week = isoWeekOf(at, req.hospital.timeZone);
      if (code && !code.pool) {
        await vault.createCodePool(tx, { id: code.poolId, hospital: req.hospital.name, ...code.spec, length: newPoolSize, createdAt: at });
        await vault.insertCanaries(tx, { hospital: req.hospital.name, batchId: null, exportId: null, codePoolId: code.poolId, status: 'planted', at }, poolCanaries.map((c) => ({ id: c.id, family: c.family, isoWeek: week, codePosition: c.position })));
      }
      await vault.insertCanaries(tx, { hospital: req.hospital.name, batchId: null, exportId: id, status: 'planted', at }, ownCanaries.map((c) => ({ id: c.id, family: c.family, isoWeek: week })));
      const ok = await vault.assignNumbers(tx, draft.assignments.map((a) => ({ numberId: a.numberId, canaryId: idOf.get(a.family)!, role: a.role })), at, { shared: req.hospital.sharing === 'shared' });
      if (!ok) throw new UserError('another cradle process took some of the same trap numbers; run the export again');
      if (code) {
        try {
          await vault.recordCodeword(tx, { exportId: id, poolId: code.poolId, codeword: code.codeword, positions: code.positions });
        } catch (err) {
          if ((err as { code?: string }).code === '23505') throw new UserError(`another export took codeword ${code.codeword} of code pool ${code.poolId} at the same time; run the export again`);
          throw err;
        }
      }
      await vault.addExposures(tx, [
        ...placed.map((c) => ({ canaryId: c.id, channelId, exposedAt: at, source: 'export', detail: { export: id, operator: req.operator ?? null, ...(c.shared ? { code: codeDetail } : {}) } })),
        // Canaries seeded into the target that the query returned went out in this file too.
        ...seeded.map(({ canaryId, index }) => ({ canaryId, channelId, exposedAt: at, source: 'export', detail: { export: id, operator: req.operator ?? null, seeded: true, row: positionOfReal(positions, index) } })),
      ]);
      await vault.recordExportRows(tx, id, placed.map((c, i) => ({ canaryId: c.id, rowNumber: positions[i] })));
      await vault.sealExport(tx, id, { actor: req.operator ?? vault.cliActor() });
      written.file.commit();
      renamed = true;
    });
  } catch (err) {
    written.file.discard();
    if (renamed) fs.rmSync(finalPath, { force: true });
    throw err;
  }
  return {
    id,
    channel: formatChannel(req.channel),
    file: finalPath,
    format: req.format,
    rows: realRows.length,
    canaries: placed.map((c, i) => ({ id: c.id, row: positions[i], family: c.family, cells: canaryCells(i), ...(code ? { shared: c.shared } : {}) })),
    code: code
      ? {
          poolId: code.poolId,
          codeword: code.codeword,
          positions: code.positions,
          spec: code.spec,
          poolSize: codeLength(code.spec),
          capacity: codeCapacity(code.spec),
          overlap: codeOverlap(code.spec, code.codeword + 1),
          newPool: !code.pool,
        }
      : null,
    sha256: written.sha256,
    bytes: written.bytes,
    warnings,
  };
}

interface ChosenCodeword {
  poolId: string;
  /** The existing pool, or null: make one. */
  pool: vault.CodePoolView | null;
  spec: CodeSpec;
  codeword: number;
  positions: number[];
}

/**
 * The newest pool of the hospital that has a codeword left and whose canaries would not stand out in
 * this file (born within its births, on its wards), and its next codeword; else a new pool, made for
 * this file's births and wards, and its first codeword.
 */
async function chooseCodeword(db: Queryable, hospital: string, request: CodeRequest, births: { from: Date; to: Date } | null, wards: ReadonlySet<string> | null): Promise<ChosenCodeword> {
  if (request.spec) {
    try {
      checkCodeSpec(request.spec);
    } catch (err) {
      throw new UserError((err as Error).message);
    }
  }
  const same = (a: CodeSpec, b: CodeSpec) => a.weight === b.weight && a.field === b.field && a.degree === b.degree;
  for (const pool of await vault.codePools(db, hospital)) {
    const spec = { weight: pool.weight, field: pool.field, degree: pool.degree };
    if (request.spec && !same(spec, request.spec)) continue;
    const codeword = nextCodeword(spec, pool.used);
    if (codeword === null || pool.canaries.length !== pool.length) continue;
    if (!poolFitsFile(pool.canaries.map((c) => c.family), births, wards)) continue;
    return { poolId: pool.id, pool, spec, codeword, positions: codewordPositions(spec, codeword) };
  }
  const spec = request.spec ?? DEFAULT_CODE;
  return { poolId: poolId(), pool: null, spec, codeword: 0, positions: codewordPositions(spec, 0) };
}
