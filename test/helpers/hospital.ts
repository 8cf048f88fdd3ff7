import fs from 'node:fs';
import path from 'node:path';
import { parseConfig, selectHospital, type HospitalConfig } from '../../src/config/index.js';
import { dialectOf, migrate, openDatabase, type Database } from '../../src/db/index.js';
import { demoPopulation, randomMobile } from '../../src/demo/setup.js';
import type { Family } from '../../src/domain/index.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { FIXTURES_DIR, SQL_DIR } from '../../src/lib/paths.js';
import { copyFamilies, loadMapping, type Mapping } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import { newDatabase, type Backend, type TestLocation } from './db.js';
import { newMariadbDatabase } from './mariadb.js';

// A hospital for tests: a vault, a target with one of the two fixture schemas and a population, a trap pool.

export type SchemaName = 'reference' | 'alt' | 'mysql-his';
export const SCHEMAS: SchemaName[] = ['reference', 'alt'];

const schemaFiles: Record<SchemaName, { sql: string; mapping: string }> = {
  reference: { sql: path.join(SQL_DIR, 'targetdb', 'reference.sql'), mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json') },
  alt: { sql: path.join(FIXTURES_DIR, 'alt-hospital', 'schema.sql'), mapping: path.join(FIXTURES_DIR, 'alt-hospital', 'mapping.json') },
  // MariaDB only (test/helpers/mariadb.ts): pinyin-abbreviation names, a gbk table beside a utf8mb4 one.
  'mysql-his': { sql: path.join(FIXTURES_DIR, 'mysql-his', 'schema.sql'), mapping: path.join(FIXTURES_DIR, 'mappings', 'mysql-his.json') },
};

export const WARDS = ['产科一病区', '产科二病区', 'NICU'];

export interface TestHospital {
  hospital: HospitalConfig;
  mapping: Mapping;
  vault: Database;
  /** Where the vault is: a directory (PGlite) or a server URL, for the binary to open. */
  vaultLocation: string;
  target: Database;
  close(): Promise<void>;
}

export function hospitalConfig(schema: SchemaName, target: string, rotation: Record<string, number> = { 产科一病区: 2, NICU: 1 }): HospitalConfig {
  const config = parseConfig(
    {
      hospitals: {
        h1: {
          displayName: '测试妇幼保健院',
          target,
          mapping: schemaFiles[schema].mapping,
          wards: WARDS,
          districts: ['鼓楼区', '玄武区', '秦淮区'],
          rotation: { perWard: rotation },
        },
      },
    },
    path.join(FIXTURES_DIR, 'test.config.json'),
  );
  return selectHospital(config);
}

export interface HospitalOptions {
  /** mariadb: the target on the machine's MariaDB (test/helpers/mariadb.ts), the vault embedded. */
  backend: Backend | 'mariadb';
  schema: SchemaName;
  population: number;
  trapNumbers: number;
  /** Extra families to load into the target (e.g. real patients holding trap numbers). */
  extraFamilies?: Family[];
  rotation?: Record<string, number>;
  seed?: string;
}

export async function createTestHospital(opts: HospitalOptions): Promise<TestHospital & { trapNumbers: string[] }> {
  const locations: TestLocation[] =
    opts.backend === 'mariadb'
      ? [await newDatabase('pglite', 'vault', 'vault'), await newMariadbDatabase('target')]
      : [await newDatabase(opts.backend, 'vault', 'vault'), await newDatabase(opts.backend, 'target')];
  const [vaultLoc, targetLoc] = locations;
  const hospital = hospitalConfig(opts.schema, targetLoc.location, opts.rotation);
  const mapping = loadMapping(hospital.mappingFile);
  const target = await openDatabase(targetLoc.location);
  await target.exec(fs.readFileSync(schemaFiles[opts.schema].sql, 'utf8'));
  const rng = createRandom(`${opts.seed ?? 'test'}:population`);
  const families = function* () {
    yield* demoPopulation(rng, opts.population, new Date());
    yield* opts.extraFamilies ?? [];
  };
  await target.transaction((tx) => copyFamilies(tx, mapping, families(), hospital.timeZone, () => rng.int(0, 9)));
  const vaultDb = await openDatabase(vaultLoc.location);
  await migrate(vaultDb);
  await vault.ensureHospital(vaultDb, hospital.name, hospital.locale);
  const trapRng = createRandom(`${opts.seed ?? 'test'}:traps`);
  const numbers = new Set<string>();
  while (numbers.size < opts.trapNumbers) numbers.add(randomMobile(trapRng));
  await vault.addTrapNumbers(vaultDb, [...numbers].map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
  await vault.addTrapDomain(vaultDb, 'trap.example.org', null);
  const h: TestHospital & { trapNumbers: string[] } = {
    hospital,
    mapping,
    vault: vaultDb,
    vaultLocation: vaultLoc.location,
    target,
    trapNumbers: [...numbers],
    /** Closes the handles in `vault` and `target` (a test may have reopened them). */
    async close() {
      await h.target.close();
      await h.vault.close();
      for (const l of locations) await l.cleanup();
    },
  };
  return h;
}

export async function count(db: Database, sql: string, params: unknown[] = []): Promise<number> {
  const { rows } = await db.query<{ n: number | string }>(`SELECT count(*) AS n FROM (${sql}) AS q`, params);
  return Number(rows[0].n);
}

/** Row counts of every table the mapping writes. */
export async function targetCounts(h: TestHospital): Promise<number[]> {
  const d = dialectOf(h.target);
  return Promise.all(h.mapping.inserts.map((s) => count(h.target, `SELECT 1 FROM ${d.table(s)}`)));
}
