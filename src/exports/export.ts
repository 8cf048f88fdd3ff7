import fs from 'node:fs';
import path from 'node:path';
import { customAlphabet } from 'nanoid';
import { draftCanaries } from '../canary/draft.js';
import type { HospitalConfig } from '../config/index.js';
import { quoteIdent, quoteQualified, type Database, type Queryable } from '../db/index.js';
import { formatChannel, type ChannelRef, type Family } from '../domain.js';
import { UserError } from '../errors.js';
import { createRandom } from '../generate/index.js';
import { FIELDS, renderPhone, type Mapping } from '../target/mapping.js';
import { isoWeekOf } from '../time.js';
import * as vault from '../vault/index.js';
import { canaryRow, defaultCanaryCount, placeCanaries, planColumns, valueShares, type ColumnPlan } from './plan.js';
import { encodeRows, formatOf, writeTemp, writeXlsxTemp, type WrittenFile } from './write.js';

// An export: the hospital's rows for one recipient, plus canary families made for this file alone.
// The query runs read-only; the file is written to a temporary name and renamed into place inside the
// vault transaction that records its manifest, so a failed export leaves neither file nor manifest.

const exportId = customAlphabet('0123456789abcdefghjkmnpqrstvwxyz', 10);
const canaryId = customAlphabet('0123456789abcdefghjkmnpqrstvwxyz', 12);
const DAY_MS = 86_400_000;

export interface ExportRequest {
  hospital: HospitalConfig;
  mapping: Mapping;
  channel: ChannelRef;
  out: string;
  format?: string;
  /** A query with $1… placeholders, or a table/view name; neither: the mapping's default export. */
  query?: string;
  table?: string;
  params: string[];
  from?: string;
  to?: string;
  canaries?: number;
  operator?: string;
  /** Output column → family field, for columns whose names say nothing. */
  columnFields: Record<string, string>;
  now: Date;
  seed?: string;
}

export interface ExportResult {
  id: string;
  channel: string;
  file: string;
  format: string;
  rows: number;
  canaries: { id: string; row: number; family: Family }[];
  sha256: string;
  bytes: number;
  warnings: string[];
}

interface SourceQuery {
  sql: string;
  params: unknown[];
  /** Output column → field, where the query's own column names would not say it. */
  columnFields: Record<string, string>;
}

async function columnType(db: Queryable, schema: string, table: string, column: string): Promise<string | null> {
  const { rows } = await db.query<{ data_type: string }>(
    'SELECT data_type FROM information_schema.columns WHERE table_schema = $1 AND table_name = $2 AND column_name = $3',
    [schema, table, column],
  );
  return rows[0]?.data_type ?? null;
}

/** The mapping's default export: one row per birth with every family field, joined along the mapping's refs. */
export async function defaultExportQuery(db: Queryable, mapping: Mapping, timeZone: string, from?: string, to?: string): Promise<SourceQuery> {
  const [first, ...rest] = mapping.inserts;
  let sql = `FROM ${quoteQualified([first.schema, first.table])} AS ${quoteIdent(first.alias)}`;
  for (const step of rest) {
    const refs = step.columns.flatMap(({ column, value }) => (value.type === 'ref' ? [`${quoteIdent(step.alias)}.${quoteIdent(column)} = ${quoteIdent(value.alias)}.${quoteIdent(value.column)}`] : []));
    sql += ` ${refs.length ? 'JOIN' : 'CROSS JOIN'} ${quoteQualified([step.schema, step.table])} AS ${quoteIdent(step.alias)}${refs.length ? ` ON ${refs.join(' AND ')}` : ''}`;
  }
  const select: string[] = [];
  const columnFields: Record<string, string> = {};
  const used = new Set<string>();
  let birth: { step: (typeof mapping.inserts)[number]; column: string } | null = null;
  for (const step of mapping.inserts) {
    for (const { column, value } of step.columns) {
      if (value.type !== 'field') continue;
      const name = used.has(column) ? `${step.alias}_${column}` : column;
      used.add(name);
      if (name !== column) columnFields[name] = value.field;
      select.push(`${quoteIdent(step.alias)}.${quoteIdent(column)} AS ${quoteIdent(name)}`);
      if (value.field === 'baby.birthTime' && !birth) birth = { step, column };
    }
  }
  const where: string[] = [];
  const params: unknown[] = [];
  let order = '';
  if (birth) {
    const col = `${quoteIdent(birth.step.alias)}.${quoteIdent(birth.column)}`;
    const type = await columnType(db, birth.step.schema, birth.step.table, birth.column);
    // A day is the hospital's day: bounds are local midnights.
    const bound = (p: number) => (type === 'timestamp with time zone' ? `($${p}::date::timestamp AT TIME ZONE '${timeZone.replace(/'/g, "''")}')` : `$${p}::date`);
    if (from) where.push(`${col} >= ${bound(params.push(from))}`);
    if (to) where.push(`${col} < ${bound(params.push(to))} + interval '1 day'`);
    order = ` ORDER BY ${col}`;
  } else if (from || to) {
    throw new UserError('--from/--to need a column mapped to baby.birthTime in the mapping');
  }
  return { sql: `SELECT ${select.join(', ')} ${sql}${where.length ? ` WHERE ${where.join(' AND ')}` : ''}${order}`, params, columnFields };
}

function sourceQuery(req: ExportRequest): SourceQuery | null {
  if (req.query) return { sql: req.query, params: req.params, columnFields: {} };
  if (req.table) return { sql: `SELECT * FROM ${quoteQualified(req.table)}`, params: [], columnFields: {} };
  return null;
}

/** Birth range for the canaries: the file's own, so they fall among its rows. */
function birthRange(plan: readonly ColumnPlan[], rows: readonly unknown[][], req: { from?: string; to?: string; now: Date }): { birthFrom: Date; birthTo: Date } {
  const index = plan.findIndex((c) => c.value?.field === 'baby.birthTime' && !c.value.format);
  const times = index < 0 ? [] : rows.map((r) => new Date(r[index] as string | Date).getTime()).filter((t) => Number.isFinite(t));
  if (times.length) return { birthFrom: new Date(Math.min(...times)), birthTo: new Date(Math.max(...times)) };
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
    if (c.export_id) continue;
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
  const outDir = path.dirname(path.resolve(req.out));
  if (!fs.existsSync(outDir)) throw new UserError(`cannot write ${req.out}: directory ${outDir} does not exist`);
  const timeZone = req.mapping.timeZone ?? req.hospital.timeZone;
  const format = formatOf(req.out, req.format);
  const source = sourceQuery(req) ?? (await defaultExportQuery(target, req.mapping, timeZone, req.from, req.to));

  let result: { rows: Record<string, unknown>[]; fields: string[] };
  try {
    result = await target.transaction((tx) => tx.query<Record<string, unknown>>(source.sql, source.params), { readOnly: true });
  } catch (err) {
    throw new UserError(`the export query failed on ${target.label}: ${(err as Error).message}`);
  }
  const columns = result.fields;
  if (new Set(columns).size !== columns.length) throw new UserError('the export query returns two columns with the same name; alias them');
  const realRows = result.rows.map((r) => columns.map((c) => r[c]));
  const plan = planColumns(columns, req.mapping, { ...source.columnFields, ...req.columnFields });
  return markAndRecord(vaultDb, target, {
    ...req,
    format,
    columns,
    realRows,
    plan,
    query: source.sql,
    params: source.params,
    write: (rows) => (format === 'xlsx' ? writeXlsxTemp(req.out, columns, rows) : writeTemp(req.out, encodeRows(format, columns, rows))),
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
  operator?: string;
  from?: string;
  to?: string;
  now: Date;
  seed?: string;
  /** Writes the merged rows to a temporary file in the file's own format. */
  write: (rows: unknown[][]) => Promise<WrittenFile>;
}

/**
 * Add canaries made for this file to its rows, write it, and record the manifest; the file is renamed
 * into place inside the vault transaction, so a failure leaves neither. Shared by export and watermark.
 */
export async function markAndRecord(vaultDb: Database, target: Database, req: MarkRequest): Promise<ExportResult> {
  const { realRows, plan } = req;
  const timeZone = req.mapping.timeZone ?? req.hospital.timeZone;
  const warnings: string[] = [];
  if (!plan.some((c) => c.value?.kind === 'phone')) warnings.push('no column of the file holds a phone field: its canaries can only be found by name (map one with --map column=mother.phone)');

  const count = req.canaries ?? defaultCanaryCount(realRows.length);
  const wardIndex = plan.findIndex((c) => c.value?.field === 'ward');
  const wards = wardIndex >= 0 ? valueShares(realRows, wardIndex) : [];
  const draft = await draftCanaries(vaultDb, target, {
    hospital: req.hospital,
    mapping: req.mapping,
    count,
    ward: (rng) => (wards.length ? rng.weighted(wards) : rng.pick(req.hospital.wards)),
    ...birthRange(plan, realRows, req),
    now: req.now,
    seed: req.seed,
  });
  warnings.push(...draft.warnings);
  const rng = createRandom(req.seed === undefined ? undefined : `${req.seed}:place`);
  const canaryRows = draft.families.map((f) => canaryRow(plan, f, timeZone, realRows, rng));
  const timeColumns = plan.flatMap((c, i) => (c.value?.kind === 'instant' || c.value?.kind === 'date' ? [i] : []));
  const { rows, positions } = placeCanaries(realRows, canaryRows, rng, timeColumns);
  const written = await req.write(rows);
  const seeded = await seededCanariesIn(vaultDb, req.hospital.name, plan, realRows);
  const id = exportId();
  const ids = draft.families.map(() => canaryId());
  const idOf = new Map(draft.families.map((f, i) => [f, ids[i]]));
  const at = new Date();
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
        canaryCount: count,
        sha256: written.sha256,
        bytes: written.bytes,
        createdAt: at,
      });
      const week = isoWeekOf(at, req.hospital.timeZone);
      await vault.insertCanaries(tx, { hospital: req.hospital.name, batchId: null, exportId: id, status: 'planted', at }, draft.families.map((family, i) => ({ id: ids[i], family, isoWeek: week })));
      const ok = await vault.assignNumbers(tx, draft.assignments.map((a) => ({ numberId: a.numberId, canaryId: idOf.get(a.family)!, role: a.role })), at);
      if (!ok) throw new UserError('another cradle process took some of the same trap numbers; run the export again');
      await vault.addExposures(tx, [
        ...ids.map((canaryId) => ({ canaryId, channelId, exposedAt: at, source: 'export', detail: { export: id, operator: req.operator ?? null } })),
        // Canaries seeded into the target that the query returned went out in this file too.
        ...seeded.map(({ canaryId, index }) => ({ canaryId, channelId, exposedAt: at, source: 'export', detail: { export: id, operator: req.operator ?? null, seeded: true, row: positionOfReal(positions, index) } })),
      ]);
      await vault.recordExportRows(tx, id, ids.map((canaryId, i) => ({ canaryId, rowNumber: positions[i] })));
      fs.renameSync(written.tempPath, finalPath);
      renamed = true;
    });
  } catch (err) {
    fs.rmSync(written.tempPath, { force: true });
    if (renamed) fs.rmSync(finalPath, { force: true });
    throw err;
  }
  return {
    id,
    channel: formatChannel(req.channel),
    file: finalPath,
    format: req.format,
    rows: realRows.length,
    canaries: draft.families.map((family, i) => ({ id: ids[i], row: positions[i], family })),
    sha256: written.sha256,
    bytes: written.bytes,
    warnings,
  };
}
