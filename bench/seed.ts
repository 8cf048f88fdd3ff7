import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';
import { parseConfig, selectHospital, type HospitalConfig } from '../src/config/index.js';
import { csvLine, migrate, openDatabase, quoteIdent, quoteQualified, type Database } from '../src/db/index.js';
import { DEMO_DISTRICTS, DEMO_WARDS, demoPopulation, randomMobile } from '../src/demo/setup.js';
import type { Family } from '../src/domain/index.js';
import { createRandom, generateFamilies, NameIndex } from '../src/lib/generate/index.js';
import { PACKAGE_ROOT, SQL_DIR, FIXTURES_DIR } from '../src/lib/paths.js';
import { birthWindow, plantCanaries } from '../src/seed/index.js';
import { copyFamilies, countFamilies, findTakenEmails, findTakenPhones, insertFamilies, loadMapping, renderField, type Mapping } from '../src/targetdb/index.js';
import { isoWeekOf } from '../src/lib/time.js';
import * as vault from '../src/vault/index.js';
import { fmtInt, fmtMs, fmtRuns, groupByStatement, instrument, median, planSummary, textTable, timeIt, type Timed } from './instrument.js';

// The seeding benchmark: plantCanaries (K canaries, uniqueness check included) against a target of N
// families, next to the time the same server takes to COPY K plain rows into the same table.

const run = promisify(execFile);
const note = (message: string) => process.stderr.write(`[bench] ${message}\n`);
/** The demo population's hospital name (src/demo/setup.ts), so canaries look like the real rows. */
const DISPLAY_NAME = '南京市示例妇幼保健院';
const TRAP_DOMAIN = 'trap.bench.example';

export interface BenchWhere {
  backend: 'postgres' | 'pglite';
  /** The target's location: a postgres:// URL or an embedded directory (created empty). */
  target: string;
  /** A new, empty vault location; called once per seeding run. */
  newVault: () => Promise<string>;
}

export interface BenchOptions {
  families: number;
  canaries: number;
  runs: number;
}

export interface BenchSummary {
  backend: string;
  families: number;
  canaries: number;
  seedingMs: number;
  copyMs: number;
  psqlMs: number | null;
}

function benchHospital(target: string): HospitalConfig {
  const config = parseConfig(
    {
      hospitals: {
        bench: {
          displayName: DISPLAY_NAME,
          target,
          mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'),
          wards: DEMO_WARDS,
          districts: DEMO_DISTRICTS,
        },
      },
    },
    path.join(PACKAGE_ROOT, 'bench.config.json'),
  );
  return selectHospital(config);
}

function* withProgress(families: Iterable<Family>, total: number): Generator<Family> {
  const t0 = performance.now();
  let n = 0;
  const every = Math.max(10_000, Math.round(total / 20 / 10_000) * 10_000);
  for (const family of families) {
    yield family;
    if (++n % every === 0 || n === total) {
      const s = (performance.now() - t0) / 1000;
      note(`  ${fmtInt(n)} / ${fmtInt(total)} families (${fmtInt(n / s)}/s, ${s.toFixed(0)} s)`);
    }
  }
}

/** K families as plain rows of the mapping's first table (families): the COPY reference. */
function plainRows(mapping: Mapping, timeZone: string, seed: string, count: number, now: Date) {
  const step = mapping.inserts[0];
  const columns = step.columns.filter((c) => c.value.type === 'field' || c.value.type === 'const');
  const rows = [...demoPopulation(createRandom(seed), count, now)].map((f) =>
    columns.map(({ value }) => (value.type === 'field' ? renderField(value, f, timeZone) : value.type === 'const' ? value.value : null)),
  );
  return { table: `${step.schema}.${step.table}`, columns: columns.map((c) => c.column), rows };
}

async function maxKey(db: Database, mapping: Mapping): Promise<number> {
  const step = mapping.inserts[0];
  const { rows } = await db.query<{ m: number | null }>(`SELECT max(${quoteIdent(step.returning[0])})::int8 AS m FROM ${quoteQualified([step.schema, step.table])}`);
  return rows[0].m ?? 0;
}

/** Remove the reference rows again, so every seeding run sees a target of exactly N real families (+ canaries). */
async function deleteAfter(db: Database, mapping: Mapping, key: number): Promise<void> {
  const step = mapping.inserts[0];
  await db.query(`DELETE FROM ${quoteQualified([step.schema, step.table])} WHERE ${quoteIdent(step.returning[0])} > $1`, [key]);
}

async function havePsql(): Promise<boolean> {
  try {
    await run('psql', ['--version']);
    return true;
  } catch {
    return false;
  }
}

export async function runBench(where: BenchWhere, opts: BenchOptions): Promise<BenchSummary> {
  const { families: N, canaries: K, runs } = opts;
  const hospital = benchHospital(where.target);
  const mapping = loadMapping(hospital.mappingFile);
  const tz = mapping.timeZone ?? hospital.timeZone;
  const print = (line = '') => console.log(line);
  const target = await openDatabase(where.target, { role: 'bench target', create: true });
  try {
    const { rows: ver } = await target.query<{ v: string }>('SELECT version() AS v');
    print(`== ${where.backend}: ${ver[0].v.split(' on ')[0]} — target ${target.label} ==`);

    // ---- setup (not measured): schema, N families, statistics ----
    await target.exec(fs.readFileSync(path.join(SQL_DIR, 'targetdb', 'reference.sql'), 'utf8'));
    note(`${where.backend}: loading ${fmtInt(N)} families with copyFamilies (demoPopulation, seed bench:population)…`);
    const rng = createRandom('bench:population');
    const loadNow = new Date();
    const load = await timeIt(() =>
      target.transaction((tx) => copyFamilies(tx, mapping, withProgress(demoPopulation(rng, N, loadNow), N), tz, () => rng.int(0, 9))),
    );
    note(`${where.backend}: VACUUM ANALYZE…`);
    const analyze = await timeIt(async () => {
      for (const step of mapping.inserts) await target.exec(`VACUUM (ANALYZE) ${quoteQualified([step.schema, step.table])}`);
    });
    const realFamilies = await countFamilies(target, mapping);
    print(
      `setup: ${fmtInt(load.value)} families loaded in ${(load.ms / 1000).toFixed(1)} s ` +
        `(${fmtInt(load.value / (load.ms / 1000))} families/s, generation included; not part of the figures), VACUUM ANALYZE ${(analyze.ms / 1000).toFixed(1)} s`,
    );
    const trapRng = createRandom('bench:traps');
    const issued = new Set<string>();
    const freshMobiles = (n: number) => {
      const list: string[] = [];
      while (list.length < n) {
        const m = randomMobile(trapRng);
        if (issued.has(m)) continue;
        issued.add(m);
        list.push(m);
      }
      return list;
    };

    // ---- reference: COPY K plain rows into the same table ----
    note(`${where.backend}: reference COPY of ${fmtInt(K)} plain rows…`);
    const copyMs: number[] = [];
    for (let r = 0; r < runs; r++) {
      const plain = plainRows(mapping, tz, `bench:plain:${r}`, K, new Date());
      const before = await maxKey(target, mapping);
      const t = await timeIt(() => target.copyFrom(plain.table, plain.columns, plain.rows));
      if (t.value !== K) throw new Error(`COPY wrote ${t.value} rows, expected ${K}`);
      copyMs.push(t.ms);
      await deleteAfter(target, mapping, before);
    }
    const psql = where.backend === 'postgres' && (await havePsql()) ? { timing: [] as number[], wall: [] as number[], connect: [] as number[] } : null;
    if (psql) {
      const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cradle-bench-'));
      try {
        for (let r = 0; r < runs; r++) {
          const plain = plainRows(mapping, tz, `bench:psql:${r}`, K, new Date());
          const file = path.join(dir, `plain-${r}.csv`);
          fs.writeFileSync(file, plain.rows.map(csvLine).join(''));
          const copy = `\\copy ${quoteQualified(plain.table)} (${plain.columns.map(quoteIdent).join(', ')}) FROM '${file}' WITH (FORMAT csv)`;
          const before = await maxKey(target, mapping);
          const t = await timeIt(() => run('psql', ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', where.target, '-c', '\\timing on', '-c', copy]));
          const reported = [...t.value.stdout.matchAll(/Time: ([\d.]+) ms/g)].pop();
          if (!reported) throw new Error(`psql printed no timing: ${t.value.stdout}${t.value.stderr}`);
          psql.timing.push(Number(reported[1]));
          psql.wall.push(t.ms);
          await deleteAfter(target, mapping, before);
          psql.connect.push((await timeIt(() => run('psql', ['-X', '-q', '-d', where.target, '-c', 'SELECT 1']))).ms);
        }
      } finally {
        fs.rmSync(dir, { recursive: true, force: true });
      }
    }

    // ---- the measured figure: plantCanaries end to end ----
    // Each run gets a fresh vault (migrated, 2 trap numbers per canary, a trap mail domain) and fresh
    // canaries, so every run is "the first K canaries"; the target keeps the canaries of earlier runs.
    const seeding: { ms: number; log: Timed[]; blocked: number }[] = [];
    for (let r = 0; r < runs; r++) {
      const vaultDb = await openDatabase(await where.newVault(), { role: 'bench vault', create: true });
      try {
        await migrate(vaultDb);
        await vault.ensureHospital(vaultDb, hospital.name, hospital.locale);
        await vault.addTrapDomain(vaultDb, TRAP_DOMAIN, null);
        await vault.addTrapNumbers(vaultDb, freshMobiles(2 * K).map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
        const log: Timed[] = [];
        const now = new Date();
        note(`${where.backend}: seeding run ${r + 1}/${runs}: plantCanaries, ${fmtInt(K)} canaries…`);
        const t = await timeIt(() =>
          plantCanaries(instrument(vaultDb, 'vault', log), instrument(target, 'target', log), {
            hospital,
            mapping,
            count: K,
            channels: [hospital.seedChannel],
            seed: `bench:canaries:${r}`,
            now,
            isoWeek: isoWeekOf(now, hospital.timeZone),
            ...birthWindow(now),
          }),
        );
        if (t.value.planted.length !== K || !t.value.batchId) throw new Error(`plantCanaries planted ${t.value.planted.length} of ${K}`);
        seeding.push({ ms: t.ms, log, blocked: t.value.blockedNumbers.length });
      } finally {
        await vaultDb.close();
      }
    }
    const seedMs = seeding.map((s) => s.ms);
    const medianRun = [...seeding].sort((a, b) => a.ms - b.ms)[Math.floor((runs - 1) / 2)];
    const copyMedian = median(copyMs);
    const seedMedian = median(seedMs);
    const psqlMedian = psql ? median(psql.timing) : null;

    print(`target: ${fmtInt(realFamilies)} real families; ${fmtInt(K)} canaries per seeding run, ${fmtInt(2 * K)} trap numbers in a fresh vault; ${runs} run(s) of each measurement`);
    print();
    print(textTable(
      ['measurement', 'median ms', 'runs (ms)'],
      [
        [`seeding ${fmtInt(K)} canaries (plantCanaries, end to end)`, fmtMs(seedMedian), fmtRuns(seedMs)],
        [`COPY ${fmtInt(K)} plain rows, db.copyFrom (${where.backend === 'postgres' ? 'pg-copy-streams COPY FROM STDIN' : "PGlite COPY FROM '/dev/blob'"})`, fmtMs(copyMedian), fmtRuns(copyMs)],
        ...(psql
          ? [
              [`COPY ${fmtInt(K)} plain rows, psql \\copy (psql \\timing)`, fmtMs(median(psql.timing)), fmtRuns(psql.timing)],
              [`  the same, psql wall time incl. process start and connect`, fmtMs(median(psql.wall)), fmtRuns(psql.wall)],
              [`  psql -c 'SELECT 1' wall time (start + connect alone)`, fmtMs(median(psql.connect)), fmtRuns(psql.connect)],
            ]
          : []),
      ],
    ));
    print();
    print(`seeding: ${fmtInt(K / (seedMedian / 1000))} canaries/s; ratio seeding / COPY (db.copyFrom) = ${(seedMedian / copyMedian).toFixed(1)}×` +
      (psqlMedian ? `; seeding / psql \\copy = ${(seedMedian / psqlMedian).toFixed(1)}×` : ''));
    const blocked = seeding.reduce((s, r) => s + r.blocked, 0);
    if (blocked) print(`(${blocked} trap number(s) were found in the real rows and blocked over all runs, as they should be)`);

    const groups = groupByStatement(medianRun.log);
    const dbMs = groups.reduce((s, g) => s + g.ms, 0);
    print();
    print(`where the seeding time goes (the median run, ${fmtMs(medianRun.ms)} ms; ${medianRun.log.length} statements):`);
    const shown = groups.slice(0, 12);
    const rest = groups.slice(12);
    print(textTable(
      ['db', 'n', 'total ms', 'statement'],
      [
        ...shown.map((g) => [g.db, String(g.count), fmtMs(g.ms), g.label]),
        ...(rest.length ? [['', String(rest.reduce((s, g) => s + g.count, 0)), fmtMs(rest.reduce((s, g) => s + g.ms, 0)), `(${rest.length} other statement kinds)`]] : []),
        ['js', '', fmtMs(medianRun.ms - dbMs), '(outside any statement: generation, name index, phone rendering, JSON, pool)'],
      ],
    ));

    // ---- isolated parts, against the same N-family target ----
    note(`${where.backend}: isolated measurements…`);
    const iso = { phones: [] as number[], phonesSql: [] as number[], emails: [] as number[], insert: [] as number[], generate: [] as number[] };
    for (let r = 0; r < runs; r++) {
      const log: Timed[] = [];
      const numbers = Array.from({ length: 2 * K }, () => randomMobile(trapRng));
      const phones = await timeIt(() => findTakenPhones(instrument(target, 'target', log), mapping, numbers));
      iso.phones.push(phones.ms);
      iso.phonesSql.push(log.reduce((s, e) => s + e.ms, 0));
      const emails = Array.from({ length: K }, (_, i) => `bench${r}x${i}@${TRAP_DOMAIN}`);
      iso.emails.push((await timeIt(() => findTakenEmails(target, mapping, emails))).ms);

      const families = [...demoPopulation(createRandom(`bench:insert:${r}`), K, new Date())];
      const digits = createRandom(`bench:insert-keys:${r}`);
      let insertMs = 0;
      await target
        .transaction(async (tx) => {
          insertMs = (await timeIt(() => insertFamilies(tx, mapping, families, tz, () => digits.int(0, 9)))).ms;
          throw new RollBack();
        })
        .catch((err: unknown) => {
          if (!(err instanceof RollBack)) throw err;
        });
      iso.insert.push(insertMs);

      const now = new Date();
      iso.generate.push(
        (await timeIt(async () =>
          generateFamilies(createRandom(`bench:generate:${r}`), {
            locale: hospital.locale,
            hospital: DISPLAY_NAME,
            ward: DEMO_WARDS[r % DEMO_WARDS.length],
            districts: DEMO_DISTRICTS,
            timeZone: hospital.timeZone,
            ...birthWindow(now),
            phone: (role) => `pending:${role}`,
            emailDomain: () => TRAP_DOMAIN,
            takenNames: new NameIndex(),
            now,
          }, K),
        )).ms,
      );
    }
    print();
    print(`isolated, against the ${fmtInt(realFamilies)}-family target (median of ${runs}):`);
    print(textTable(
      ['part', 'median ms', 'runs (ms)'],
      [
        [`findTakenPhones, ${fmtInt(2 * K)} numbers × 2 phone columns (the pool check)`, fmtMs(median(iso.phones)), fmtRuns(iso.phones)],
        [`  of which SQL`, fmtMs(median(iso.phonesSql)), fmtRuns(iso.phonesSql)],
        [`findTakenEmails, ${fmtInt(K)} addresses`, fmtMs(median(iso.emails)), fmtRuns(iso.emails)],
        [`insertFamilies, ${fmtInt(K)} families, rolled back`, fmtMs(median(iso.insert)), fmtRuns(iso.insert)],
        [`generateFamilies, ${fmtInt(K)} families (pure JS, empty name index)`, fmtMs(median(iso.generate)), fmtRuns(iso.generate)],
      ],
    ));
    print();
    print('plans of the target SELECTs of the median run (EXPLAIN ANALYZE, same parameters, slowest instance):');
    for (const g of groups.filter((x) => x.db === 'target' && /^SELECT/i.test(x.label))) {
      print(`  ${fmtMs(g.sample.ms).padStart(7)} ms  ${g.label}`);
      print(`             → ${await planSummary(target, g.sample.sql, g.sample.params)}`);
    }
    print();
    return { backend: where.backend, families: realFamilies, canaries: K, seedingMs: seedMedian, copyMs: copyMedian, psqlMs: psqlMedian };
  } finally {
    await target.close().catch(() => undefined);
  }
}

class RollBack extends Error {}
