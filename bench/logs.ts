import { execFileSync, spawn, spawnSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import pg from 'pg';
import { parseAccessLog } from '../src/accesslog/parse.js';
import { importAccessLog, type ImportAccessResult } from '../src/accesslog/import.js';
import type { AccessReject } from '../src/vault/access.js';
import { parseConfig, selectHospital, type HospitalConfig } from '../src/config/index.js';
import { migrate, openDatabase, type Database } from '../src/db/index.js';
import { redact } from '../src/lib/redact.js';
import { formatChannel } from '../src/domain/index.js';
import { DEMO_DISTRICTS, DEMO_WARDS, demoPopulation, randomMobile } from '../src/demo/setup.js';
import { runExport } from '../src/exports/export.js';
import { createRandom, generateFamily, type Random } from '../src/lib/generate/index.js';
import { FIXTURES_DIR, PACKAGE_ROOT, SQL_DIR } from '../src/lib/paths.js';
import { plantCanaries } from '../src/seed/index.js';
import { copyFamilies, insertFamilies, loadMapping } from '../src/targetdb/index.js';
import { traceIncident } from '../src/trace/trace.js';
import { isoWeekOf } from '../src/lib/time.js';
import * as vault from '../src/vault/index.js';
import { fmtInt, fmtMs, fmtRuns, groupByStatement, instrument, median, textTable, timeIt, type Timed } from './instrument.js';
import { parseArgs, UsageError } from './args.js';

// `npm run bench:logs`: `cradle logs import` of a deterministic 5,000,000-row CSV audit log into a vault
// on PostgreSQL holding 10,000 planted canaries, against `psql \copy` of the same file into a plain
// table in the same run; then `cradle trace` of a scan incident on that vault. Both through the CLI,
// end to end. Prints rows/s, the ratio and the trace's median; asserts nothing.
//
//   node dist/bench/logs.js [--rows N] [--families N] [--canaries K] [--runs R] [--import-runs R] [--no-phases] [--breakdown] [--keep] [--reuse] [--trace-only] [--data DIR]
//   server: CRADLE_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); databases cradle_bench_logs_{vault,target,copy}.

const USAGE =
  'usage: node dist/bench/logs.js [--rows N] [--families N] [--canaries K] [--runs R] [--import-runs R] [--no-phases] [--breakdown] [--keep] [--reuse] [--trace-only] [--data DIR]';
const note = (message: string) => process.stderr.write(`[bench] ${message}\n`);
const print = (line = '') => console.log(line);

/** Fixed instant the data set is built around: births, rotations and the log's month end here. */
const ANCHOR = new Date('2026-11-23T00:00:00Z');
const DAY_MS = 86_400_000;
const SEED = 'bench:logs';
const HOSPITAL = 'bench';
const EXPORTS = 10;
const EXPORT_CANARIES = 20;
const LEAK_CANARIES = 200;
/** Canaries planted through plantCanaries itself (see buildHospital); the rest in bulk. */
const PLANTED_BY_SEEDING = 1000;
/** The export whose canaries leak: the trace should rank it first. */
const LEAKED_EXPORT = 3;
const ACCOUNTS = 400;
const BAD_ACCOUNTS = ['nurse117', 'clerk023'];
const MAP = 'ts=event_time,user=operator,action=op,record=patient_id,ip=client_ip,system=app';
const DB = { vault: 'cradle_bench_logs_vault', target: 'cradle_bench_logs_target', copy: 'cradle_bench_logs_copy' };


interface Flags {
  rows: number;
  families: number;
  canaries: number;
  runs: number;
  importRuns: number;
  phases: boolean;
  breakdown: boolean;
  keep: boolean;
  reuse: boolean;
  /** --trace-only: reuse the kept databases with their imported log, and time the trace alone. */
  traceOnly: boolean;
  data: string;
}

function parseFlags(argv: string[]): Flags {
  const flags: Flags = {
    rows: 5_000_000,
    families: 50_000,
    canaries: 10_000,
    runs: 5,
    importRuns: 1,
    phases: true,
    breakdown: false,
    keep: false,
    reuse: false,
    traceOnly: false,
    data: path.join(PACKAGE_ROOT, 'bench', '.data'),
  };
  const numeric = { '--rows': 'rows', '--families': 'families', '--canaries': 'canaries', '--runs': 'runs', '--import-runs': 'importRuns' } as const;
  parseArgs(argv, flags, numeric, USAGE, (name, value) => {
    if (name === '--data') flags.data = path.resolve(value());
    else if (name === '--no-phases') flags.phases = false;
    else if (name === '--breakdown') flags.breakdown = true;
    else if (name === '--keep') flags.keep = true;
    else if (name === '--reuse') flags.reuse = flags.keep = true;
    else if (name === '--trace-only') flags.traceOnly = flags.reuse = flags.keep = true;
    else return false;
    return true;
  });
  if (flags.canaries < 10 * EXPORTS) throw new UsageError(`--canaries needs at least ${10 * EXPORTS}\n${USAGE}`);
  return flags;
}

// ---------------------------------------------------------------------------------------------------
// Databases

function urlOf(server: string, name: string): string {
  const url = new URL(server);
  url.pathname = `/${name}`;
  return url.toString();
}

async function admin(server: string, sql: string): Promise<void> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    await client.query(sql);
  } finally {
    await client.end();
  }
}

async function databaseExists(server: string, name: string): Promise<boolean> {
  const client = new pg.Client({ connectionString: server });
  await client.connect();
  try {
    return (await client.query('SELECT 1 FROM pg_database WHERE datname = $1', [name])).rowCount === 1;
  } finally {
    await client.end();
  }
}

function benchHospital(target: string, file: string): HospitalConfig {
  const doc = {
    hospitals: {
      [HOSPITAL]: { displayName: '南京市示例妇幼保健院', target, mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'), wards: DEMO_WARDS, districts: DEMO_DISTRICTS },
    },
  };
  fs.writeFileSync(file, JSON.stringify(doc, null, 2) + '\n');
  return selectHospital(parseConfig(doc, file));
}

/** Monday 00:00 UTC of the week `weeksBack` weeks before the anchor's week. */
const weekStart = (weeksBack: number) => new Date(ANCHOR.getTime() - weeksBack * 7 * DAY_MS);
const isoDay = (d: Date) => d.toISOString().slice(0, 10);

/**
 * The target (reference schema, N demo families) and the vault (migrated, K canaries planted in ten
 * weekly rotations over the wards, ten exports of a week of births each). Setup, not measured.
 */
async function buildHospital(hospital: HospitalConfig, vaultDb: Database, target: Database, flags: Flags): Promise<void> {
  const mapping = loadMapping(hospital.mappingFile);
  const tz = hospital.timeZone;
  await target.exec(fs.readFileSync(path.join(SQL_DIR, 'targetdb', 'reference.sql'), 'utf8'));
  note(`target: loading ${fmtInt(flags.families)} families…`);
  const rng = createRandom(`${SEED}:population`);
  const load = await timeIt(() => target.transaction((tx) => copyFamilies(tx, mapping, demoPopulation(rng, flags.families, ANCHOR), tz, () => rng.int(0, 9))));
  note(`target: ${fmtInt(load.value)} families in ${(load.ms / 1000).toFixed(1)} s`);
  await target.exec('VACUUM (ANALYZE) families');
  await target.exec('VACUUM (ANALYZE) births');

  await migrate(vaultDb);
  await vault.ensureHospital(vaultDb, hospital.name, hospital.locale);
  await vault.addTrapDomain(vaultDb, 'trap.bench.example', null);
  const trapRng = createRandom(`${SEED}:traps`);
  const numbers = new Set<string>();
  const need = 2 * flags.canaries + 2 * EXPORTS * EXPORT_CANARIES + 1000;
  while (numbers.size < need) numbers.add(randomMobile(trapRng));
  await vault.addTrapNumbers(vaultDb, [...numbers].map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });

  // Ten weekly rotations (the ten weeks before the anchor), each planting K/10 canaries over the wards.
  // plantCanaries keeps every canary's parent names more than one edit away from all other canaries'
  // (NameIndex), and the zh-CN name space runs out at a few thousand canaries per vault ("could not find
  // a female zh-CN name … after 200 draws"). So the first PLANTED_BY_SEEDING go through plantCanaries and
  // the rest are planted as plantCanaries plants them, minus that check: generated families inserted
  // with insertFamilies, recorded as a planted batch with their target keys, exposed to system:his and
  // their ward.
  const batches = 10;
  const viaSeeding = Math.min(flags.canaries, PLANTED_BY_SEEDING);
  const his = await vault.ensureChannel(vaultDb, hospital.name, hospital.seedChannel);
  const split = (n: number) => Object.fromEntries(DEMO_WARDS.map((w, i) => [w, Math.floor(n / DEMO_WARDS.length) + (i < n % DEMO_WARDS.length ? 1 : 0)]));
  const rotations = [];
  for (let b = 0; b < batches; b++) {
    const count = Math.floor(flags.canaries / batches) + (b < flags.canaries % batches ? 1 : 0);
    const seeded = Math.floor(viaSeeding / batches) + (b < viaSeeding % batches ? 1 : 0);
    const from = weekStart(batches - b);
    const to = new Date(from.getTime() + 7 * DAY_MS - 3_600_000);
    const week = isoWeekOf(new Date(from.getTime() + 3 * DAY_MS), tz);
    const rotation = await vault.openRotation(vaultDb, hospital.name, week, split(count));
    rotations.push({ b, count, seeded, from, to, week, rotation });
  }
  // Seeding first: its name check then only sees the other seeded canaries.
  for (const { b, seeded, from, to, week, rotation } of rotations) {
    for (const [ward, n] of Object.entries(split(seeded))) {
      if (n === 0) continue;
      const t = await plantCanaries(vaultDb, target, {
        hospital,
        mapping,
        count: n,
        ward,
        channels: [hospital.seedChannel],
        seed: `${SEED}:canaries:${b}:${ward}`,
        now: to,
        isoWeek: week,
        birthFrom: from,
        birthTo: to,
        rotationId: rotation.id,
      });
      if (t.planted.length !== n) throw new Error(`plantCanaries planted ${t.planted.length} of ${n}`);
    }
    note(`vault: rotation ${week}: ${fmtInt(seeded)} canaries planted by plantCanaries`);
  }
  for (const { b, count, seeded, from, to, week, rotation } of rotations) {
    const bulk = split(count - seeded);
    for (const [ward, n] of Object.entries(bulk)) {
      if (n === 0) continue;
      const rng = createRandom(`${SEED}:bulk:${b}:${ward}`);
      const families = Array.from({ length: n }, (_, i) => {
        const f = generateFamily(rng, {
          locale: hospital.locale,
          hospital: hospital.displayName,
          ward,
          districts: hospital.districts,
          timeZone: tz,
          birthFrom: from,
          birthTo: to,
          phone: () => randomMobile(rng),
          emailDomain: () => 'trap.bench.example',
          now: to,
        });
        if (f.mother.email) f.mother.email = `b${b}w${DEMO_WARDS.indexOf(ward)}n${i}.${f.mother.email}`;
        return f;
      });
      const ids = families.map((_, i) => `bench${b}w${DEMO_WARDS.indexOf(ward)}n${String(i).padStart(5, '0')}`);
      const batchId = `bench-${b}-${DEMO_WARDS.indexOf(ward)}`;
      const channels = [formatChannel(hospital.seedChannel), `ward:${ward}`];
      await vaultDb.transaction((tx) =>
        vault.recordBatchIntent(tx, { id: batchId, hospital: hospital.name, rotationId: rotation.id, ward, channels }, families.map((family, i) => ({ id: ids[i], family, isoWeek: week }))),
      );
      const digits = createRandom(`${SEED}:bulk-keys:${b}:${ward}`);
      const keys = await target.transaction((tx) => insertFamilies(tx, mapping, families, tz, () => digits.int(0, 9)));
      await vaultDb.transaction(async (tx) => {
        await vault.markBatchPlanted(tx, batchId, new Map(ids.map((id, i) => [id, keys[i]])), to);
        const wardChannel = await vault.ensureChannel(tx, hospital.name, { kind: 'ward', name: ward });
        await vault.addExposures(tx, ids.flatMap((canaryId) => [his, wardChannel].map((channelId) => ({ canaryId, channelId, exposedAt: to, source: 'seed', detail: { batch: batchId } }))));
      });
    }
    note(`vault: rotation ${week}: ${fmtInt(count - seeded)} more canaries planted in bulk`);
  }

  // Ten exports, one per rotation week: the week's real births and its planted canaries, plus canaries of their own.
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cradle-bench-logs-exports-'));
  try {
    for (let k = 0; k < EXPORTS; k++) {
      const from = weekStart(batches - k);
      const request = (canaries: number): Parameters<typeof runExport>[2] => ({
        hospital,
        mapping,
        channel: { kind: 'export', name: `partner-${k}` },
        out: path.join(dir, `export-${k}.csv`),
        params: [],
        from: isoDay(from),
        to: isoDay(new Date(from.getTime() + 6 * DAY_MS)),
        canaries,
        operator: `clerk${String(k + 1).padStart(3, '0')}`,
        columnFields: {},
        now: new Date(from.getTime() + 8 * DAY_MS),
        seed: `${SEED}:export:${k}`,
      });
      // With thousands of canaries in the vault, new zh-CN names may no longer be found (see above):
      // the export then carries only the planted canaries among its rows.
      const r = await runExport(vaultDb, target, request(EXPORT_CANARIES)).catch((err: Error) => {
        if (!/not within one edit/.test(err.message)) throw err;
        note(`export to partner-${k}: no canaries of its own (${err.message})`);
        return runExport(vaultDb, target, request(0));
      });
      note(`vault: export ${r.id} to partner-${k}: ${fmtInt(r.rows)} rows, ${r.canaries.length} canaries of its own`);
    }
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

// ---------------------------------------------------------------------------------------------------
// The audit log

interface LogDescription {
  version: number;
  rows: number;
  bytes: number;
  seed: string;
  keysDigest: string;
  /** Lines written twice on purpose: the import should count them as duplicates. */
  duplicateLines: number;
  singleCanaryRows: number;
  listCanaryRows: number;
}

const LOG_VERSION = 2;

function pad2(n: number): string {
  return n < 10 ? `0${n}` : String(n);
}

/**
 * A month of a hospital's audit trail, in time order: ~400 accounts with their own workstation address
 * and application; view/list/print/search of real birth ids; a few hundred rows naming canaries (single
 * views and prints by two "bad" accounts, ward lists that include one or two); 0.2% lines written twice.
 */
async function writeAuditLog(file: string, rowsWanted: number, realKeys: readonly string[], canaryKeys: readonly string[]): Promise<Omit<LogDescription, 'version' | 'seed' | 'keysDigest'>> {
  const rng: Random = createRandom(`${SEED}:log`);
  const roles: [string, number][] = [['nurse', 250], ['doc', 110], ['clerk', 40]];
  const apps = ['HIS', 'EMR', 'NIS', 'PACS'];
  const accounts: { name: string; ip: string; app: string }[] = [];
  for (const [role, n] of roles) {
    for (let i = 1; i <= n && accounts.length < ACCOUNTS; i++) {
      accounts.push({ name: `${role}${String(i).padStart(3, '0')}`, ip: `10.${12 + (accounts.length % 4)}.${rng.int(0, 255)}.${rng.int(2, 254)}`, app: rng.pick(apps) });
    }
  }
  const bad = accounts.filter((a) => BAD_ACCOUNTS.includes(a.name));
  // Rows that name canaries, at fixed random positions.
  const special = new Map<number, 'single' | 'list'>();
  const singles = 300;
  const lists = 200;
  // Positions count written events; the lines written twice push the last ones past the end, so stay clear of it.
  const last = Math.floor(rowsWanted * 0.99) - 1;
  while (special.size < singles) special.set(rng.int(1, last), 'single');
  while (special.size < singles + lists) {
    const at = rng.int(1, last);
    if (!special.has(at)) special.set(at, 'list');
  }
  const badTargets = Array.from({ length: 150 }, () => rng.pick(canaryKeys));

  const start = Date.UTC(ANCHOR.getUTCFullYear(), ANCHOR.getUTCMonth(), ANCHOR.getUTCDate()) - 30 * DAY_MS;
  const span = 30 * 86_400;
  const days: string[] = Array.from({ length: 31 }, (_, d) => isoDay(new Date(start + d * DAY_MS)));
  const out = fs.createWriteStream(file);
  let bytes = 0;
  let chunk: string[] = [];
  const flush = async () => {
    const text = chunk.join('');
    chunk = [];
    bytes += Buffer.byteLength(text);
    if (!out.write(text)) await new Promise<void>((resolve) => out.once('drain', () => resolve()));
  };
  chunk.push('event_time,operator,op,patient_id,client_ip,app\n');
  const real = () => realKeys[Math.floor(rng.next() * realKeys.length)];
  let rows = 0;
  let duplicateLines = 0;
  let singleCanaryRows = 0;
  let listCanaryRows = 0;
  let i = 0;
  while (rows < rowsWanted) {
    const s = Math.floor((i * span) / rowsWanted) + rng.int(0, 2);
    const day = Math.min(Math.floor(s / 86_400), days.length - 1);
    const sec = s % 86_400;
    const ts = `${days[day]} ${pad2(Math.floor(sec / 3600))}:${pad2(Math.floor(sec / 60) % 60)}:${pad2(sec % 60)}`;
    const kind = special.get(i);
    let line: string;
    if (kind === 'single') {
      const a = rng.pick(bad);
      line = `${ts},${a.name},${rng.chance(0.8) ? 'view' : 'print'},${rng.pick(badTargets)},${a.ip},${a.app}\n`;
      singleCanaryRows++;
    } else if (kind === 'list') {
      const a = accounts[rng.int(0, accounts.length - 1)];
      const ids = Array.from({ length: rng.int(8, 20) }, real);
      ids[rng.int(0, ids.length - 1)] = rng.pick(canaryKeys);
      if (rng.chance(0.5)) ids[rng.int(0, ids.length - 1)] = rng.pick(canaryKeys);
      line = `${ts},${a.name},list,${ids.join(';')},${a.ip},${a.app}\n`;
      listCanaryRows++;
    } else {
      const a = accounts[rng.int(0, accounts.length - 1)];
      const p = rng.next();
      let op: string;
      let record: string;
      if (p < 0.6) [op, record] = ['view', real()];
      else if (p < 0.8) [op, record] = ['list', Array.from({ length: rng.int(5, 20) }, real).join(';')];
      else if (p < 0.92) [op, record] = ['search', rng.chance(0.3) ? '' : Array.from({ length: rng.int(1, 3) }, real).join(';')];
      else [op, record] = ['print', real()];
      line = `${ts},${a.name},${op},${record},${a.ip},${rng.chance(0.9) ? a.app : rng.pick(apps)}\n`;
    }
    chunk.push(line);
    rows++;
    i++;
    // An exporter that re-sends a line: the same event twice.
    if (rows < rowsWanted && !kind && rng.chance(0.002)) {
      chunk.push(line);
      rows++;
      duplicateLines++;
    }
    if (chunk.length >= 20_000) await flush();
  }
  await flush();
  await new Promise<void>((resolve, reject) => out.end((err?: Error | null) => (err ? reject(err) : resolve())));
  return { rows, bytes, duplicateLines, singleCanaryRows, listCanaryRows };
}

/** The audit log for these record keys, from bench/.data/ when one was written for the same keys. */
async function ensureAuditLog(dir: string, rows: number, realKeys: readonly string[], canaryKeys: readonly string[]): Promise<{ file: string; d: LogDescription }> {
  fs.mkdirSync(dir, { recursive: true });
  const keysDigest = createHash('sha256').update(`${realKeys.join(',')}|${canaryKeys.join(',')}`).digest('hex').slice(0, 16);
  const base = path.join(dir, `audit-${rows}-${keysDigest}`);
  const file = `${base}.csv`;
  const descFile = `${base}.json`;
  if (fs.existsSync(file) && fs.existsSync(descFile)) {
    const d = JSON.parse(fs.readFileSync(descFile, 'utf8')) as LogDescription;
    if (d.version === LOG_VERSION && d.rows === rows && d.seed === SEED && fs.statSync(file).size === d.bytes) return { file, d };
  }
  for (const old of fs.readdirSync(dir).filter((f) => /^audit-\d+-[0-9a-f]+\.(csv|json)$/.test(f))) fs.rmSync(path.join(dir, old));
  note(`writing the audit log: ${fmtInt(rows)} rows…`);
  const t0 = performance.now();
  const written = await writeAuditLog(file, rows, realKeys, canaryKeys);
  const d: LogDescription = { version: LOG_VERSION, seed: SEED, keysDigest, ...written };
  fs.writeFileSync(descFile, JSON.stringify(d, null, 2) + '\n');
  note(`audit log written in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  return { file, d };
}

// ---------------------------------------------------------------------------------------------------
// Measuring

interface Measured {
  ms: number;
  rssKiB: number | null;
  stdout: string;
  stderr: string;
  status: number | null;
}

function measure(command: string, args: string[], env: NodeJS.ProcessEnv = process.env): Measured {
  const useTime = fs.existsSync('/usr/bin/time');
  const start = process.hrtime.bigint();
  const r = useTime
    ? spawnSync('/usr/bin/time', ['-f', 'PEAK_RSS_KIB=%M', command, ...args], { encoding: 'utf8', maxBuffer: 1 << 30, env })
    : spawnSync(command, args, { encoding: 'utf8', maxBuffer: 1 << 30, env });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  const rss = /PEAK_RSS_KIB=(\d+)/.exec(r.stderr ?? '');
  return { ms, rssKiB: rss ? Number(rss[1]) : null, stdout: r.stdout ?? '', status: r.status, stderr: (r.stderr ?? '').replace(/PEAK_RSS_KIB=\d+\n?/, '') };
}

interface MeasuredCpu extends Measured {
  /** user + sys of the command and its children (/usr/bin/time), ms. */
  cpuMs: number | null;
  /** user + sys of the server backends serving `database` while it ran (read from /proc: a local server only), ms. */
  backendMs: number | null;
}

/** Clock ticks per second of /proc/<pid>/stat's times. */
const CLK_TCK = (() => {
  try {
    return Number(execFileSync('getconf', ['CLK_TCK'], { encoding: 'utf8' }).trim()) || 100;
  } catch {
    return 100;
  }
})();

function procCpuMs(pid: number): number | null {
  try {
    const fields = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
    return ((Number(fields[11]) + Number(fields[12])) * 1000) / CLK_TCK;
  } catch {
    return null;
  }
}

/**
 * measure(), with the CPU it cost: the command's (user + sys) and that of the server backends connected to
 * `database`, polled every 50 ms from pg_stat_activity and /proc (a backend's last 50 ms may be missed).
 * On a loaded machine wall time says little; CPU seconds say what the work costs.
 */
async function measureCpu(command: string, args: string[], server: string, database: string): Promise<MeasuredCpu> {
  const poller = new pg.Client({ connectionString: server });
  await poller.connect();
  const seen = new Map<number, number>();
  let running = true;
  let readable = false;
  const poll = (async () => {
    while (running) {
      const { rows } = await poller.query<{ pid: number }>(`SELECT pid FROM pg_stat_activity WHERE datname = $1 AND backend_type = 'client backend' AND pid <> pg_backend_pid()`, [database]);
      for (const { pid } of rows) {
        const ms = procCpuMs(pid);
        if (ms === null) continue;
        readable = true;
        seen.set(pid, Math.max(seen.get(pid) ?? 0, ms));
      }
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  })();
  const start = process.hrtime.bigint();
  const r = await new Promise<{ status: number | null; stdout: string; stderr: string }>((resolve, reject) => {
    const timed = fs.existsSync('/usr/bin/time');
    const child = spawn(timed ? '/usr/bin/time' : command, timed ? ['-f', 'PEAK_RSS_KIB=%M CPU_S=%U+%S', command, ...args] : args, { stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (status) => resolve({ status, stdout, stderr }));
  });
  const ms = Number(process.hrtime.bigint() - start) / 1e6;
  running = false;
  await poll.finally(() => poller.end());
  const rss = /PEAK_RSS_KIB=(\d+)/.exec(r.stderr);
  const cpu = /CPU_S=([\d.]+)\+([\d.]+)/.exec(r.stderr);
  return {
    ms,
    rssKiB: rss ? Number(rss[1]) : null,
    cpuMs: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : null,
    backendMs: readable ? [...seen.values()].reduce((a, b) => a + b, 0) : null,
    stdout: r.stdout,
    status: r.status,
    stderr: r.stderr.replace(/PEAK_RSS_KIB=\d+ CPU_S=\S+\n?/, ''),
  };
}

function failed(what: string, r: Measured): Error {
  return new Error(`${what} failed (${r.status}): ${r.stderr.trim().split('\n').slice(-4).join(' | ')}`);
}

function loadAverage(): string {
  return os.loadavg().map((l) => l.toFixed(2)).join(' ');
}

/** Forget every imported log (events, tripwires, their exposures and alerts), keeping canaries and exports. */
async function resetAccess(db: Database): Promise<void> {
  await db.exec(`TRUNCATE access_rejects, tripwires, access_blocks, access_imports CASCADE; DELETE FROM exposures WHERE source = 'access-log'`);
}

/** What `cradle logs import --json` prints: the import's result with its first rejects. */
type ImportJson = Pick<ImportAccessResult, 'lines' | 'added' | 'duplicates' | 'rejected' | 'tripwires' | 'alerts' | 'alreadyImported'> & { firstRejects: AccessReject[] };

async function main(): Promise<void> {
  const flags = parseFlags(process.argv.slice(2));
  const server = process.env.CRADLE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const urls = { vault: urlOf(server, DB.vault), target: urlOf(server, DB.target), copy: urlOf(server, DB.copy) };
  print(`Cradle access-log benchmark — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, ${Math.round(os.totalmem() / 2 ** 30)} GiB`);
  print(`server ${redact(server)}; ${fmtInt(flags.rows)} log rows, ${fmtInt(flags.families)} families, ${fmtInt(flags.canaries)} canaries; load average at start ${loadAverage()}`);
  print();

  const work = fs.mkdtempSync(path.join(os.tmpdir(), 'cradle-bench-logs-'));
  const configFile = path.join(work, 'cradle.config.json');
  const hospital = benchHospital(urls.target, configFile);
  const reuse = flags.reuse && (await databaseExists(server, DB.vault)) && (await databaseExists(server, DB.target));
  let dropped = false;
  const dropAll = async () => {
    if (dropped) return;
    dropped = true;
    for (const name of Object.values(DB)) {
      if (flags.keep) note(`kept database ${name}`);
      else await admin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`).catch((err: Error) => note(`could not drop ${name}: ${err.message}`));
    }
    fs.rmSync(work, { recursive: true, force: true });
  };
  process.on('SIGINT', () => {
    process.on('uncaughtException', () => undefined);
    note('interrupted; dropping the benchmark databases');
    void dropAll().finally(() => process.exit(130));
  });

  try {
    // ---- setup (not measured): target, vault with canaries and exports ----
    if (!reuse) {
      for (const name of Object.values(DB)) await admin(server, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await admin(server, `CREATE DATABASE ${DB.vault}`);
      await admin(server, `CREATE DATABASE ${DB.target}`);
    }
    if (!flags.traceOnly) {
      await admin(server, `DROP DATABASE IF EXISTS ${DB.copy} WITH (FORCE)`);
      await admin(server, `CREATE DATABASE ${DB.copy}`);
    }
    const vaultDb = await openDatabase(urls.vault, { role: 'bench vault' });
    const target = await openDatabase(urls.target, { role: 'bench target' });
    let realKeys: string[];
    let canaryKeys: string[];
    try {
      if (!reuse) {
        const setup = await timeIt(() => buildHospital(hospital, vaultDb, target, flags));
        print(`setup: target with ${fmtInt(flags.families)} families, vault with ${fmtInt(flags.canaries)} planted canaries and ${EXPORTS} exports in ${(setup.ms / 1000).toFixed(1)} s (not part of the figures)`);
      } else {
        if (!flags.traceOnly) await resetAccess(vaultDb);
        print(`setup: reusing the kept databases (--reuse)${flags.traceOnly ? '; the trace only, on the logs imported before' : '; imported logs forgotten'}`);
      }
      const keys = await vault.canaryRecordKeys(vaultDb, hospital.name, { alias: 'birth', column: 'birth_id' });
      canaryKeys = [...keys.keys()].sort((a, b) => Number(a) - Number(b));
      const canarySet = new Set(canaryKeys);
      const { rows } = await target.query<{ id: string }>('SELECT birth_id::text AS id FROM births ORDER BY birth_id');
      realKeys = rows.map((r) => r.id).filter((id) => !canarySet.has(id));
      if (canaryKeys.length !== flags.canaries) throw new Error(`the vault holds ${canaryKeys.length} planted canaries with a birth_id, expected ${flags.canaries}`);
    } finally {
      await target.close();
      await vaultDb.close();
    }

    const cradle = path.join(PACKAGE_ROOT, 'bin', 'cradle');
    if (!flags.traceOnly) {
      const t0 = performance.now();
      const { file, d } = await ensureAuditLog(flags.data, flags.rows, realKeys, canaryKeys);
      print(
        `audit log ${path.relative(process.cwd(), file)}: ${fmtInt(d.rows)} rows, ${fmtInt(d.bytes)} bytes (${(d.bytes / 2 ** 20).toFixed(0)} MiB); ` +
          `${fmtInt(d.duplicateLines)} lines written twice, ${d.singleCanaryRows} single views/prints and ${d.listCanaryRows} lists naming canaries ` +
          `(${((performance.now() - t0) / 1000).toFixed(1)} s to make or check)`,
      );
      measure('cat', [file]); // warm the page cache for both tools

      // ---- 1. import: psql \copy against cradle logs import, alternating, same file ----
      const copyTable = `CREATE TABLE audit (event_time timestamp, operator text, op text, patient_id text, client_ip text, app text)`;
      const psqlArgs = ['-X', '-q', '-v', 'ON_ERROR_STOP=1', '-d', urls.copy, '-c', '\\timing on', '-c', `\\copy audit FROM '${file}' WITH (FORMAT csv, HEADER)`];
      await admin(urls.copy, copyTable);
      const psqlRuns: { wall: number; timing: number; load: string; cpu: number | null; backend: number | null }[] = [];
      const importRuns: { ms: number; rss: number | null; load: string; json: ImportJson; cpu: number | null; backend: number | null }[] = [];
      for (let r = 0; r < flags.importRuns; r++) {
        if (r > 0) await admin(urls.copy, 'TRUNCATE audit');
        note(`psql \\copy run ${r + 1}/${flags.importRuns}…`);
        const load = loadAverage();
        const p = await measureCpu('psql', psqlArgs, server, DB.copy);
        if (p.status !== 0) throw failed('psql \\copy', p);
        const timing = [...p.stdout.matchAll(/Time: ([\d.]+) ms/g)].pop();
        psqlRuns.push({ wall: p.ms, timing: timing ? Number(timing[1]) : NaN, load, cpu: p.cpuMs, backend: p.backendMs });

        if (r > 0) {
          const db = await openDatabase(urls.vault, { role: 'bench vault' });
          await resetAccess(db).finally(() => db.close());
        }
        note(`cradle logs import run ${r + 1}/${flags.importRuns}…`);
        const loadC = loadAverage();
        const c = await measureCpu(process.execPath, [cradle, 'logs', 'import', file, '--format', 'csv', '--map', MAP, '--json', '--config', configFile, '--vault', urls.vault], server, DB.vault);
        if (c.status !== 0) throw failed('cradle logs import', c);
        importRuns.push({ ms: c.ms, rss: c.rssKiB, load: loadC, json: JSON.parse(c.stdout) as ImportJson, cpu: c.cpuMs, backend: c.backendMs });
      }
      const copied = await (async () => {
        const client = new pg.Client({ connectionString: urls.copy });
        await client.connect();
        try {
          return Number((await client.query<{ n: string }>('SELECT count(*) AS n FROM audit')).rows[0].n);
        } finally {
          await client.end();
        }
      })();
      const j = importRuns[importRuns.length - 1].json;
      const psqlWall = median(psqlRuns.map((p) => p.wall));
      const cradleMs = median(importRuns.map((c) => c.ms));
      const rps = (ms: number) => d.rows / (ms / 1000);
      print();
      print(`import of ${fmtInt(d.rows)} rows (${(d.bytes / 2 ** 20).toFixed(0)} MiB), ${flags.importRuns} run(s):`);
      print(textTable(
        ['tool', 'runs ms', 'median ms', 'rows/s', 'load avg (1 5 15 min) at start', 'peak RSS MiB'],
        [
          ['psql \\copy, wall', fmtRuns(psqlRuns.map((p) => p.wall)), fmtMs(psqlWall), fmtInt(rps(psqlWall)), psqlRuns.map((p) => p.load).join('; '), '-'],
          ['  psql \\timing', fmtRuns(psqlRuns.map((p) => p.timing)), fmtMs(median(psqlRuns.map((p) => p.timing))), fmtInt(rps(median(psqlRuns.map((p) => p.timing)))), '', '-'],
          ['cradle logs import', fmtRuns(importRuns.map((c) => c.ms)), fmtMs(cradleMs), fmtInt(rps(cradleMs)), importRuns.map((c) => c.load).join('; '), String(Math.round(Math.max(...importRuns.map((c) => c.rss ?? 0)) / 1024) || '-')],
        ],
      ));
      print();
      print(`throughput ratio cradle/psql: ${(psqlWall / cradleMs).toFixed(3)} (goal ≥ 0.8, issue 18)`);
      // CPU seconds: what each tool's work costs, whatever else runs on the machine (client + server backend).
      const cpuOf = (runs: { cpu: number | null; backend: number | null }[]) =>
        runs.every((r) => r.cpu !== null && r.backend !== null) ? { client: median(runs.map((r) => r.cpu!)), backend: median(runs.map((r) => r.backend!)) } : null;
      const [pc, cc] = [cpuOf(psqlRuns), cpuOf(importRuns)];
      if (pc && cc) {
        const fmtS = (ms: number) => (ms / 1000).toFixed(2);
        print(
          `CPU (median, user + sys): psql ${fmtS(pc.client)} s + its backend ${fmtS(pc.backend)} s = ${fmtS(pc.client + pc.backend)} s; ` +
            `cradle ${fmtS(cc.client)} s + its backend ${fmtS(cc.backend)} s = ${fmtS(cc.client + cc.backend)} s; CPU ratio psql/cradle ${((pc.client + pc.backend) / (cc.client + cc.backend)).toFixed(3)}`,
        );
      } else print('CPU: not measured (needs /usr/bin/time and a server on this machine, for /proc)');
      const sum = j.added + j.duplicates + j.rejected;
      print(
        `psql copied ${fmtInt(copied)} rows; cradle: ${fmtInt(j.lines)} lines read (header included), ${fmtInt(j.added)} added + ${fmtInt(j.duplicates)} duplicates + ${fmtInt(j.rejected)} rejected = ${fmtInt(sum)} ` +
          `(${sum === d.rows ? 'all rows accounted for' : `MISMATCH: ${fmtInt(d.rows)} rows in the file`}); ${fmtInt(d.duplicateLines)} lines were written twice on purpose` +
          `${j.duplicates > d.duplicateLines ? ` (the other ${fmtInt(j.duplicates - d.duplicateLines)}: identical events by chance, e.g. one account's empty search twice in a second)` : ''}; ` +
          `${fmtInt(j.tripwires)} tripwires, ${fmtInt(j.alerts)} alerts`,
      );
      if (j.firstRejects.length) print(`first rejects: ${j.firstRejects.slice(0, 3).map((x) => `${x.line}: ${x.reason}`).join('; ')}`);

      // ---- where the import's time goes: reading the file twice (digest, then parse), with no database ----
      if (flags.phases) {
        note('phases: sha256 of the file, then parseAccessLog alone…');
        const digest = await timeIt(async () => {
          const hash = createHash('sha256');
          for await (const chunk of fs.createReadStream(file)) hash.update(chunk as Buffer);
          return hash.digest('hex');
        });
        const loadP = loadAverage();
        const parse = await timeIt(async () => {
          let rows = 0;
          let rejects = 0;
          for await (const item of parseAccessLog(fs.createReadStream(file), { format: 'csv', timeZone: hospital.timeZone, map: Object.fromEntries(MAP.split(',').map((p) => p.split('='))), source: file })) {
            if ('reject' in item) rejects++;
            else rows++;
          }
          return { rows, rejects };
        });
        const startup = measure(process.execPath, [cradle, '--version']);
        const db = cradleMs - digest.ms - parse.ms - startup.ms;
        print();
        print(`where cradle's import time goes (phases timed apart, in this process; load avg ${loadP}):`);
        print(textTable(
          ['phase', 'ms', 'share of the CLI median', 'rows/s alone'],
          [
            ['node start + CLI load (`cradle --version`)', fmtMs(startup.ms), `${((100 * startup.ms) / cradleMs).toFixed(1)}%`, '-'],
            ['sha256 of the file (fileDigest, a first full read)', fmtMs(digest.ms), `${((100 * digest.ms) / cradleMs).toFixed(1)}%`, fmtInt(rps(digest.ms))],
            [`parseAccessLog alone (${fmtInt(parse.value.rows)} rows, ${parse.value.rejects} rejects)`, fmtMs(parse.ms), `${((100 * parse.ms) / cradleMs).toFixed(1)}%`, fmtInt(rps(parse.ms))],
            ['the rest: database batches, canary lookup, JS glue (CLI − the above)', fmtMs(db), `${((100 * db) / cradleMs).toFixed(1)}%`, fmtInt(rps(db))],
          ],
        ));
      }

      // ---- optional: the import once more in this process, timed per SQL statement ----
      if (flags.breakdown) {
        note('breakdown: importAccessLog in-process, timed per statement…');
        const raw = await openDatabase(urls.vault, { role: 'bench vault' });
        try {
          await resetAccess(raw);
          const log: Timed[] = [];
          const mapping = loadMapping(hospital.mappingFile);
          const step = mapping.inserts.find((s) => s.alias === mapping.recordKey!.alias)!;
          const loadB = loadAverage();
          const t = await timeIt(() =>
            importAccessLog(instrument(raw, 'vault', log), file, {
              hospital: hospital.name,
              format: 'csv',
              timeZone: hospital.timeZone,
              map: Object.fromEntries(MAP.split(',').map((p) => p.split('='))),
              recordKey: { alias: mapping.recordKey!.alias, table: step.table, column: mapping.recordKey!.column },
              alertChannels: [],
            }),
          );
          const groups = groupByStatement(log);
          const sqlMs = groups.reduce((s, g) => s + g.ms, 0);
          print();
          print(`the import in-process, per statement (${fmtMs(t.ms)} ms, ${fmtInt(rps(t.ms))} rows/s; load avg ${loadB}):`);
          print(textTable(
            ['n', 'total ms', 'statement'],
            [...groups.slice(0, 10).map((g) => [fmtInt(g.count), fmtMs(g.ms), g.label]), ['', fmtMs(t.ms - sqlMs), '(outside any statement: file digest, parsing, batching)']],
          ));
        } finally {
          await raw.close();
        }
      }
    }

    // ---- 2. trace: a scan incident of one export's canaries ----
    const vdb = await openDatabase(urls.vault, { role: 'bench vault' });
    let leakFile: string;
    let events = 0;
    let leakedExport: string;
    try {
      events = Number((await vdb.query<{ n: string }>(`SELECT coalesce(sum(events_count), 0) AS n FROM access_blocks`)).rows[0].n);
      if (events === 0) note('the vault holds no access-log events: the trace runs without them');
      const { rows: ex } = await vdb.query<{ id: string }>(`SELECT x.id FROM exports x JOIN channels ch ON ch.id = x.channel_id WHERE ch.name = $1`, [`partner-${LEAKED_EXPORT}`]);
      if (!ex.length) throw new Error(`no export to partner-${LEAKED_EXPORT} in the vault`);
      leakedExport = ex[0].id;
      const { rows: leaked } = await vdb.query<{ id: string; mother_name: string; mother_phone: string | null; batch_id: string | null }>(
        `SELECT c.id, c.mother_name, c.mother_phone, c.batch_id FROM canaries c
          WHERE c.id IN (SELECT canary_id FROM exposures WHERE detail->>'export' = $1) AND c.mother_phone IS NOT NULL
          ORDER BY (c.batch_id IS NULL) DESC, c.id LIMIT $2`,
        [leakedExport, LEAK_CANARIES],
      );
      const rng = createRandom(`${SEED}:leak`);
      const lines = ['序号,姓名,手机'];
      const people = [
        ...leaked.map((c) => [c.mother_name, c.mother_phone!.replace(/^\+86/, '')]),
        ...Array.from({ length: 800 }, (_, i) => [`路人${i}`, randomMobile(rng).replace(/^\+86/, '')]),
      ];
      for (let i = people.length - 1; i > 0; i--) {
        const k = rng.int(0, i);
        [people[i], people[k]] = [people[k], people[i]];
      }
      people.forEach(([name, phone], i) => lines.push(`${i + 1},${name},${phone}`));
      leakFile = path.join(work, 'leak.csv');
      fs.writeFileSync(leakFile, lines.join('\n') + '\n');
      print();
      print(`leak: ${leaked.length} canaries exposed in export ${leakedExport} (${leaked.filter((c) => !c.batch_id).length} of them its own), among 800 other rows`);
    } finally {
      await vdb.close();
    }
    const scan = measure(process.execPath, [cradle, 'scan', leakFile, '--json', '--config', configFile, '--vault', urls.vault]);
    if (scan.status !== 3) throw failed('cradle scan (exit 3: canaries found)', scan);
    const incident = (JSON.parse(scan.stdout) as { incidentId: string | null }).incidentId;
    if (!incident) throw new Error('cradle scan recorded no incident');

    const traceRuns: { ms: number; load: string }[] = [];
    let report: { candidates: number; suspects: { label: string; kind: string; posterior: number; explains: string[]; export: { id: string } | null }[]; canaries: unknown[] } | null = null;
    for (let r = 0; r < flags.runs; r++) {
      const load = loadAverage();
      const t = measure(process.execPath, [cradle, 'trace', incident, '--json', '--config', configFile, '--vault', urls.vault]);
      if (t.status !== 0) throw failed('cradle trace', t);
      traceRuns.push({ ms: t.ms, load });
      report = JSON.parse(t.stdout) as typeof report;
    }
    const top = report!.suspects[0];
    const traceMs = median(traceRuns.map((t) => t.ms));
    print(`scan: incident ${incident} (${fmtMs(scan.ms)} ms)`);
    print();
    print(`cradle trace ${incident}, ${flags.runs} run(s) on the vault with ${fmtInt(events)} log events and ${fmtInt(flags.canaries)} planted canaries:`);
    print(textTable(
      ['measurement', 'runs ms', 'median ms', 'load avg at start of each run'],
      [['cradle trace <incident> --json (CLI, end to end)', fmtRuns(traceRuns.map((t) => t.ms)), fmtMs(traceMs), traceRuns.map((t) => t.load.split(' ')[0]).join(', ')]],
    ));
    print();
    print(`trace median: ${fmtMs(traceMs)} ms (goal < 2,000 ms)`);
    print(
      `trace: ${report!.canaries.length} canaries, ${report!.candidates} candidate channels; top suspect ${top.label} (${top.kind}) at ${(100 * top.posterior).toFixed(1)}%, ` +
        `explains ${top.explains.length}: ${top.export?.id === leakedExport ? 'the leaked export, as expected' : `NOT the leaked export ${leakedExport}`}`,
    );
    const startup = median(Array.from({ length: 3 }, () => measure(process.execPath, [cradle, '--version']).ms));
    const tvdb = await openDatabase(urls.vault, { role: 'bench vault' });
    try {
      const log: Timed[] = [];
      const t = await timeIt(() => traceIncident(instrument(tvdb, 'vault', log), incident));
      const groups = groupByStatement(log);
      const sqlMs = groups.reduce((s, g) => s + g.ms, 0);
      print();
      print(`the trace in-process, per statement (${fmtMs(t.ms)} ms; node start + CLI load ${fmtMs(startup)} ms):`);
      print(textTable(['n', 'total ms', 'statement'], [...groups.slice(0, 8).map((g) => [fmtInt(g.count), fmtMs(g.ms), g.label]), ['', fmtMs(t.ms - sqlMs), '(JS: the model, joining log lines)']]));
    } finally {
      await tvdb.close();
    }
    print();
    print(`load average at the end ${loadAverage()}`);
  } finally {
    await dropAll();
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof UsageError ? err.message : `bench failed: ${err instanceof Error ? (err.stack ?? err.message) : String(err)}`);
    process.exit(1);
  },
);
