import { dialectOf, readOnly, type Database, type Queryable, type ReadOnlyQueryable } from '../db/index.js';
import { regionOfLocale } from '../domain/index.js';
import { draftCanaries } from '../canary/draft.js';
import type { HospitalConfig } from '../config/index.js';
import { UserError, errorMessage } from '../lib/errors.js';
import { createRandom } from '../lib/generate/index.js';
import { previewRows } from '../targetdb/families.js';
import type { Mapping } from '../targetdb/mapping.js';
import { columnKey, readFamilyRows, targetColumns, type TargetColumn } from '../targetdb/read.js';
import { birthsPerWard } from '../targetdb/wards.js';
import * as vault from '../vault/index.js';
import { DEFAULT_REAL_ROWS, DEFAULT_WARN_ABOVE } from './defaults.js';
import { compareRows, identifierNumber, type Comparison } from './compare.js';
import { deriveFields, kindOfType, numeric, refineKind, textual, type FieldSpec, type Row } from './fields.js';

// `cradle realism`: the hospital's canaries against its real rows, as a thief holding the table would
// compare them. Two comparisons: the canaries planted in the target (found there by the keys the
// vault recorded at planting), on every column of the mapping's tables; and a fresh sample drafted
// as the next rotation would draft it (nothing written anywhere), on the columns the mapping fills.
// Everything is read inside read-only transactions; the result holds aggregates and column names only.

// DEFAULT_WARN_ABOVE and DEFAULT_REAL_ROWS: ./defaults.ts (light, for the CLI's help text).
export { DEFAULT_REAL_ROWS, DEFAULT_WARN_ABOVE };
/** Planted canaries compared at most (a random subset beyond). */
export const MAX_PLANTED = 3000;

export interface RealismRequest {
  hospital: HospitalConfig;
  mapping: Mapping;
  now: Date;
  /** Canaries to draft for the dry-run sample; 0 for none. */
  sample: number;
  seed?: string;
  warnAbove?: number;
  realRows?: number;
}

export interface RealismComparison extends Comparison {
  /** The columns compared (`alias.column`), and those taken as identifiers (compared by order, not value). */
  columns: string[];
  identifiers: string[];
}

export interface RealismReport {
  format: 'cradle-realism';
  version: 1;
  hospital: string;
  generatedAt: string;
  warnAbove: number;
  /** The highest classifier AUC of the two comparisons (null when neither could be measured). */
  auc: number | null;
  /** Set when that AUC is above warnAbove. */
  warning: string | null;
  planted: RealismComparison | null;
  sample: RealismComparison | null;
  notes: string[];
}

/** The columns' kinds, refined on the real rows; identifiers marked. */
function fieldSpecs(mapping: Mapping, columns: readonly TargetColumn[], real: readonly Row[]): FieldSpec[] {
  const keyed = new Set(mapping.inserts.flatMap((s) => [...s.returning.map((c) => `${s.alias}.${c}`), ...s.columns.flatMap((c) => (c.value.type === 'ref' ? [`${c.value.alias}.${c.value.column}`, `${s.alias}.${c.column}`] : c.value.type === 'random' ? [`${s.alias}.${c.column}`] : []))]));
  return columns.map((c) => {
    const key = columnKey(c);
    const values = real.map((r) => r[key]);
    const kind = refineKind(kindOfType(c.dataType), values);
    const present = values.filter((v) => v !== null && v !== undefined);
    const distinct = new Set(present.map(textual)).size;
    const unique = present.length >= 20 && distinct >= 0.98 * present.length;
    const byNumber = unique && kindOfType(c.dataType) === 'number' && present.every((v) => Number.isInteger(numeric(v)));
    const byForm = unique && kindOfType(c.dataType) === 'text' && c.value?.type !== 'field' && present.every((v) => !Number.isNaN(identifierNumber(v)));
    return { key, kind, identifier: keyed.has(key) || byNumber || byForm };
  });
}

/** Where the vault's keys find the planted canaries: the insert step and key column most of them recorded. */
function canaryKeys(mapping: Mapping, canaries: readonly vault.CanaryRow[]): { alias: string; column: string; values: string[] } | null {
  let best: { alias: string; column: string; values: string[] } | null = null;
  for (const step of mapping.inserts) {
    const columns = new Set(canaries.flatMap((c) => Object.keys(c.target_keys?.[step.alias] ?? {})));
    for (const column of columns) {
      const values = canaries.map((c) => c.target_keys?.[step.alias]?.[column]).filter((v) => v !== null && v !== undefined).map(String);
      if (!best || values.length > best.values.length) best = { alias: step.alias, column, values };
    }
  }
  return best;
}

function shuffled<T>(items: readonly T[], seed: string): T[] {
  const rng = createRandom(seed);
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [out[i], out[j]] = [out[j], out[i]];
  }
  return out;
}

/** Cast drafted values to their columns' types in the target, so they read back as real rows do. */
async function castAsStored(tx: ReadOnlyQueryable, columns: readonly TargetColumn[], rows: Row[]): Promise<void> {
  const d = dialectOf(tx);
  for (const c of columns) {
    const key = columnKey(c);
    const values = rows.map((r) => (r[key] === null || r[key] === undefined ? null : String(r[key])));
    try {
      const cast = await d.castValues(tx, values, { dataType: c.dataType.toLowerCase(), nativeType: c.nativeType });
      cast?.forEach((v, i) => (rows[i][key] = v));
    } catch (err) {
      throw new UserError(`realism: a drafted value of ${c.schema}.${c.table}.${c.column} is not a valid ${c.dataType} (${errorMessage(err)}); \`cradle seed --dry-run\` shows the rows`);
    }
  }
}

function compare(specs: FieldSpec[], real: Row[], canaries: Row[], seed: string, absoluteTimes: boolean): RealismComparison {
  const all = [...real, ...canaries];
  const derived = deriveFields(specs, all);
  const comparison = compareRows([...specs, ...derived], real, canaries, { seed, absoluteTimes });
  return { ...comparison, columns: specs.map((s) => s.key), identifiers: specs.filter((s) => s.identifier).map((s) => s.key) };
}

export async function realismAudit(vaultDb: Queryable, target: Database, req: RealismRequest): Promise<RealismReport> {
  const seed = req.seed ?? `${req.now.getTime()}`;
  const warnAbove = req.warnAbove ?? req.hospital.realismWarnAbove ?? DEFAULT_WARN_ABOVE;
  const realLimit = req.realRows ?? DEFAULT_REAL_ROWS;
  const notes: string[] = [];
  const timeZone = req.mapping.timeZone ?? req.hospital.timeZone;

  const inTarget = (await vault.listCanaries(vaultDb, { hospital: req.hospital.name })).filter((c) => (c.status === 'planted' || c.status === 'retired') && c.target_keys);
  const keys = canaryKeys(req.mapping, inTarget);

  const result = await readOnly(target, async (tx) => {
    const columns = await targetColumns(tx, req.mapping);
    const canaryKeySet = new Set(keys?.values ?? []);
    const keyColumn = keys ? `${keys.alias}.${keys.column}` : null;
    const realAll = await readFamilyRows(tx, req.mapping, { columns, sample: true, limit: realLimit + canaryKeySet.size });
    const real = realAll.filter((r) => keyColumn === null || !canaryKeySet.has(String(r[keyColumn]))).slice(0, realLimit);
    if (real.length < 20) throw new UserError(`realism: the target holds ${real.length} real families; at least 20 are needed to compare canaries with`);

    // The planted canaries are compared with the real rows written since the first of them (when the
    // keys are numbers): rows from before Cradle was installed cannot be canaries, and comparing with
    // them would measure the installation date, not the canaries.
    let plantedReal = real;
    const numbers = keys?.values.map(Number) ?? [];
    if (keys && numbers.length && numbers.every(Number.isSafeInteger)) {
      const first = Math.min(...numbers);
      const since = (await readFamilyRows(tx, req.mapping, { columns, sample: true, limit: realLimit + canaryKeySet.size, keyFrom: { alias: keys.alias, column: keys.column, value: first } })).filter((r) => !canaryKeySet.has(String(r[keyColumn!]))).slice(0, realLimit);
      if (since.length >= 20) {
        plantedReal = since;
        notes.push(`planted canaries are compared with the ${since.length} real families written since the first of them (${keyColumn} ≥ ${first}), not with those from before Cradle planted any`);
      } else notes.push(`only ${since.length} real families were written since the first planted canary; the planted canaries are compared with real families of any time`);
    }
    let planted: Row[] = [];
    if (keys) {
      const chosen = keys.values.length > MAX_PLANTED ? shuffled(keys.values, `${seed}:planted`).slice(0, MAX_PLANTED) : keys.values;
      planted = await readFamilyRows(tx, req.mapping, { columns, keyIn: { alias: keys.alias, column: keys.column, values: chosen } });
      if (planted.length < chosen.length) notes.push(`${chosen.length - planted.length} planted canaries were not found in the target by their keys (deleted, or keys changed)`);
    } else notes.push('no planted canary in the target to compare');

    // The fresh sample: drafted as a rotation would (wards by the plan, births in the past week), rendered, cast, never written.
    let sample: Row[] = [];
    const sampleColumns = columns.filter((c) => c.value?.type === 'field' || c.value?.type === 'const');
    if (req.sample > 0) {
      const available = (await vault.availableNumbers(vaultDb, req.hospital.name, regionOfLocale(req.hospital.locale), req.now)).length;
      const count = Math.min(req.sample, Math.floor(available / 2));
      if (count < req.sample) notes.push(`the dry-run sample has ${count} canaries, not ${req.sample}: the trap pool has ${available} numbers available (two per canary at most)`);
      if (count >= 2) {
        // Wards as the rotation plan has them, else as `cradle seed` draws them: by the real births per ward.
        const plan = req.hospital.rotation;
        const births = plan ? null : await birthsPerWard(tx, req.mapping, req.hospital.wards);
        const byBirths = births ? Object.entries(births).filter(([, n]) => n > 0) : [];
        const wards = plan ? Object.entries(plan).filter(([, n]) => n > 0) : byBirths.length ? byBirths : req.hospital.wards.map((w) => [w, 1] as [string, number]);
        try {
          const draft = await draftCanaries(vaultDb, tx, {
            hospital: req.hospital,
            mapping: req.mapping,
            count,
            ward: (rng) => rng.weighted(wards),
            birthFrom: new Date(req.now.getTime() - 7 * 86_400_000),
            birthTo: new Date(req.now.getTime() - 6 * 3_600_000),
            now: req.now,
            seed: `${seed}:sample`,
            // Whole stays, discharge included: the real rows are mostly whole, and the discharges of
            // canaries born this week are still to come (those already due would be the short stays only).
            fullStay: true,
          });
          sample = draft.families.map((family) => {
            const preview = previewRows(req.mapping, family, timeZone);
            const row: Row = {};
            for (const step of req.mapping.inserts) {
              const values = preview[`${step.schema}.${step.table}`] ?? {};
              for (const c of sampleColumns.filter((x) => x.alias === step.alias)) row[columnKey(c)] = values[c.column] ?? null;
            }
            return row;
          });
          await castAsStored(tx, sampleColumns, sample);
        } catch (err) {
          if (!(err instanceof UserError) || err.message.startsWith('realism:')) throw err;
          notes.push(`no dry-run sample: ${err.message}`);
        }
      }
    }
    return { columns, sampleColumns, real, plantedReal, planted, sample };
  });

  const specs = fieldSpecs(req.mapping, result.columns, result.real);
  const plantedCmp = result.planted.length ? compare(specs, result.plantedReal.map((r) => ({ ...r })), result.planted, `${seed}:cv-planted`, true) : null;
  const sampleKeys = new Set(result.sampleColumns.map(columnKey));
  const sampleCmp = result.sample.length
    ? compare(specs.filter((s) => sampleKeys.has(s.key)).map((s) => ({ ...s, identifier: false })), result.real.map((r) => ({ ...r })), result.sample, `${seed}:cv-sample`, false)
    : null;
  const aucs = [plantedCmp?.classifier?.auc, sampleCmp?.classifier?.auc].filter((a): a is number => a !== undefined);
  const auc = aucs.length ? Math.max(...aucs) : null;
  const warning = auc !== null && auc > warnAbove ? `canaries are separable from real rows: a thief's classifier reaches ROC AUC ${auc.toFixed(3)}, above ${warnAbove}` : null;
  return { format: 'cradle-realism', version: 1, hospital: req.hospital.name, generatedAt: req.now.toISOString(), warnAbove, auc, warning, planted: plantedCmp, sample: sampleCmp, notes };
}
