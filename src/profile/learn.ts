import { mappingSha256 } from '../canary/profile.js';
import { quoteQualified, readOnly, type ReadOnlyQueryable } from '../db/index.js';
import { copyMappedTables } from './copy.js';
import type { HospitalProfile } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import { columnKey, targetColumns, type Mapping } from '../targetdb/index.js';
import { learnColumnProfiles } from './columns.js';
import { learnFamilyProfile } from './family.js';
import { DEFAULT_K, MIN_K } from './defaults.js';

// `cradle target profile`: the hospital's profile learned from its real rows through the mapping, in
// SQL aggregates, read-only (the caller runs it inside readOnly()). The CLI stores it in the vault. On a
// MySQL/MariaDB target the rows are read into an in-memory PostgreSQL first (./copy.ts).

// MIN_K and DEFAULT_K: ./defaults.ts (light, for the CLI's help text).
export { DEFAULT_K, MIN_K };

export interface ProfileOptions {
  hospital: string;
  /** Keep a value only when at least k real families share it (at least MIN_K). */
  k: number;
  /** The hospital's time zone (the mapping's, else the config's). */
  timeZone: string;
  now?: Date;
  /** Progress lines for long runs (the CLI writes them to stderr). */
  onProgress?: (message: string) => void;
}


export function checkK(k: number): void {
  if (!Number.isInteger(k) || k < MIN_K) {
    throw new UserError(`--k must be a whole number of at least ${MIN_K} (got ${k}): a value is kept only when k real families share it, and k = 1 would keep single patients' values`);
  }
}

export async function learnProfile(db: ReadOnlyQueryable, mapping: Mapping, opts: ProfileOptions): Promise<HospitalProfile> {
  checkK(opts.k);
  // The statistics are PostgreSQL's SQL: another dialect's target is read into an in-memory copy (./copy.ts).
  if (db.kind === 'mysql') return learnFromCopy(db, mapping, opts);
  const started = Date.now();
  const progress = (m: string) => opts.onProgress?.(`${m} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const first = mapping.inserts[0];
  const { rows } = await db.query<{ n: number }>(`SELECT count(*)::float8 AS n FROM ${quoteQualified([first.schema, first.table])}`);
  const families = Number(rows[0].n);
  progress(`${families} families in ${first.schema}.${first.table}`);
  const { columns, nullPatterns } = await learnColumnProfiles(db, mapping, { k: opts.k, timeZone: opts.timeZone, onProgress: progress });
  progress('profiling families');
  const family = await learnFamilyProfile(db, mapping, { k: opts.k, timeZone: opts.timeZone });
  progress('done');
  return {
    version: 1,
    hospital: opts.hospital,
    learnedAt: (opts.now ?? new Date()).toISOString(),
    families,
    k: opts.k,
    mapping: { source: mapping.source, sha256: mappingSha256(mapping) },
    columns,
    nullPatterns,
    family,
  };
}

export { mappingSha256 };

async function learnFromCopy(db: ReadOnlyQueryable, mapping: Mapping, opts: ProfileOptions): Promise<HospitalProfile> {
  const started = Date.now();
  const progress = (m: string) => opts.onProgress?.(`${m} (${((Date.now() - started) / 1000).toFixed(1)} s)`);
  const copy = await copyMappedTables(db, mapping, progress);
  try {
    const profile = await readOnly(copy.db, (tx) => learnProfile(tx, mapping, opts));
    // The copy's tables have no defaults: which columns default to the write time, from the target's catalog.
    for (const c of await targetColumns(db, mapping)) {
      const p = profile.columns[columnKey(c)];
      if (!p) continue;
      if (c.value === undefined && c.hasDefault && p.dataType.startsWith('timestamp')) p.writeTime = true;
      else delete p.writeTime;
    }
    // The families the hospital has, not those copied.
    return { ...profile, families: copy.families };
  } finally {
    await copy.db.close();
  }
}
