// A year of the regional hospital with Cradle running beside it: the hospital writes its own events in
// time order while cron jobs call Cradle with the simulated clock, as they would in production: from
// `installAt` on, `cradle target profile` on the first of each month, `cradle rotate` every Monday at
// 03:00 local and `cradle canaries advance` at every tick; then the target is dumped for the thief.
// Used by bench/realism.ts; product work plugs its own cron command in through `tick`.
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parseConfig, selectHospital, type HospitalConfig } from '../../src/config/index.js';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import { isoWeekOf } from '../../src/lib/time.js';
import { advanceCanaries, rotate } from '../../src/seed/index.js';
import { learnProfile } from '../../src/profile/learn.js';
import { readOnly } from '../../src/db/index.js';
import { loadMapping, type Mapping } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import { rng } from '../fixtures/regional/generate.js';
import { admitMore, createRegionalSchema, REGIONAL_DIR, REGIONAL_MAPPING, RegionalHospital, type AdmitResult, type Numbering } from '../fixtures/regional/hospital.js';
import { PHONE_PREFIXES } from '../fixtures/regional/tables.js';
import { dumpTables, type Dump } from './thief.js';

export interface YearContext {
  hospital: HospitalConfig;
  mapping: Mapping;
  vault: Database;
  target: Database;
  sim: RegionalHospital;
  vaultLocation: string;
  targetLocation: string;
  configFile: string;
  /** Minutes between cron ticks. */
  tickMinutes: number;
  /** The year's seed: rotations are seeded with it, so that two seeds give two independent samples of canaries. */
  seed: string;
}

export interface YearOptions {
  seed?: string;
  families?: number;
  from?: string;
  to?: string;
  numbering?: Numbering;
  perWard?: Record<string, number>;
  trapNumbers?: number;
  /** The mapping file (default fixtures/regional/mapping.json; mapping-full.json uses keys, stamps and learned columns). */
  mappingFile?: string;
  /** When Cradle is installed (ISO date, local): no profile, rotation or advance before it (default: the year's start). */
  installAt?: string;
  /** Hours between cron ticks (default 24: every day at 03:00 local); `tickMinutes` wins when both are given. */
  tickHours?: number;
  /** Minutes between cron ticks (5: `canaries advance` as its timer runs it, deploy/systemd/cradle-advance.timer). */
  tickMinutes?: number;
  /**
   * What the cron job does at each tick (default: `rotate` for the current week when it is Monday). It may
   * return when it next has something to do (null: only at the next 03:00): ticks before then change
   * nothing and are skipped, with the hospital's own writes up to them (written before the next tick that
   * runs, as they would have been anyway), so that a year of 5-minute ticks costs what its busy ticks cost.
   */
  tick?: (ctx: YearContext, now: Date) => Promise<void | Date | null>;
  /** Admissions the hospital makes after the year, to look for canary keys it would have issued. */
  admitAfter?: number;
  /** Where the vault and target live; default a fresh temporary directory (PGlite), removed by close(). */
  dir?: string;
  /** Override the config's target/vault with server URLs. */
  vaultUrl?: string;
  targetUrl?: string;
}

export interface YearResult {
  ctx: YearContext;
  dump: Dump;
  canaryIds: Set<number>;
  /**
   * The largest mother-row ID written before Cradle's installation (0 when installed at the year's start):
   * rows with a larger ID were written since, the only window where canaries can be.
   */
  idBeforeInstall: number;
  after: AdmitResult;
  close(): Promise<void>;
}

export const DEFAULT_PLAN = { 产科一病区: 4, 产科二病区: 4, 产科VIP: 1, 新生儿科: 1 };

/** Trap numbers from the patients' own local segments (what a careful operator would buy). */
export function localTrapNumbers(n: number, seed = 'traps'): string[] {
  const r = rng(seed);
  const out = new Set<string>();
  while (out.size < n) out.add(`+86${r.weighted(PHONE_PREFIXES)}${String(r.int(0, 9999)).padStart(4, '0')}`);
  return [...out];
}

/** 03:00 local (Asia/Shanghai): when the daily jobs (profile on the 1st, rotation on Mondays) run. */
const atThree = (now: Date): boolean => {
  const local = new Date(now.getTime() + 8 * 3_600_000);
  return local.getUTCHours() === 3 && local.getUTCMinutes() === 0;
};

export async function defaultTick(ctx: YearContext, now: Date): Promise<Date | null> {
  const local = new Date(now.getTime() + 8 * 3_600_000);
  if (atThree(now) && (local.getUTCDate() === 1 || !(await vault.latestProfile(ctx.vault, ctx.hospital.name)))) {
    const profile = await readOnly(ctx.target, (tx) => learnProfile(tx, ctx.mapping, { hospital: ctx.hospital.name, k: 5, timeZone: ctx.hospital.timeZone }));
    await vault.saveProfile(ctx.vault, profile);
  }
  if (local.getUTCDay() === 1 && atThree(now)) await rotate(ctx.vault, ctx.target, { hospital: ctx.hospital, mapping: ctx.mapping, week: isoWeekOf(now, ctx.hospital.timeZone), now, seed: `year:${ctx.seed}:${isoWeekOf(now, ctx.hospital.timeZone)}` });
  const res = await advanceCanaries(ctx.vault, ctx.target, { hospital: ctx.hospital, mapping: ctx.mapping, until: now, simulated: true });
  return res.upcoming.next;
}

/** Mother-row IDs of the hospital's planted canaries, from the vault's target keys. */
export async function canaryMotherIds(vaultDb: Database, hospital: string): Promise<Set<number>> {
  const { rows } = await vaultDb.query<{ k: Record<string, Record<string, unknown>> | null }>(`SELECT target_keys AS k FROM canaries WHERE hospital = $1 AND status <> 'pending' AND target_keys IS NOT NULL`, [hospital]);
  return new Set(rows.map((r) => Number(r.k?.mother?.ID)).filter((x) => Number.isFinite(x)));
}

export async function runRegionalYear(opts: YearOptions = {}): Promise<YearResult> {
  const from = opts.from ?? '2025-01-01';
  const to = opts.to ?? '2026-01-01';
  const dir = opts.dir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'cradle-regional-'));
  const vaultLocation = opts.vaultUrl ?? path.join(dir, 'vault');
  const targetLocation = opts.targetUrl ?? path.join(dir, 'target');
  const configFile = path.join(dir, 'cradle.config.json');
  const doc = JSON.parse(fs.readFileSync(path.join(REGIONAL_DIR, 'cradle.config.json'), 'utf8')) as { vault: string; hospitals: Record<string, Record<string, unknown>> };
  doc.vault = vaultLocation;
  Object.assign(doc.hospitals.changzhou, { target: targetLocation, mapping: opts.mappingFile ?? REGIONAL_MAPPING, rotation: { perWard: opts.perWard ?? DEFAULT_PLAN } });
  fs.writeFileSync(configFile, JSON.stringify(doc, null, 2));
  const hospital = selectHospital(parseConfig(doc, configFile));
  const mapping = loadMapping(opts.mappingFile ?? REGIONAL_MAPPING);
  const vaultDb = await openDatabase(vaultLocation, { create: true, role: 'vault' });
  await migrate(vaultDb);
  await vault.ensureHospital(vaultDb, hospital.name, hospital.locale);
  await vault.addTrapNumbers(vaultDb, localTrapNumbers(opts.trapNumbers ?? 1300, `${opts.seed ?? 'regional'}:traps`).map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
  const target = await openDatabase(targetLocation, { create: true, role: 'target' });
  await createRegionalSchema(target);
  const sim = new RegionalHospital(target, { seed: opts.seed, families: opts.families, from, to, numbering: opts.numbering });
  const tickMinutes = opts.tickMinutes ?? (opts.tickHours ?? 24) * 60;
  const ctx: YearContext = { hospital, mapping, vault: vaultDb, target, sim, vaultLocation, targetLocation, configFile, tickMinutes, seed: opts.seed ?? 'regional' };
  const installAt = new Date(`${opts.installAt ?? from}T00:00:00+08:00`);
  const tick = opts.tick ?? defaultTick;
  const step = Math.round(tickMinutes * 60_000);
  const end = new Date(`${to}T00:00:00+08:00`);
  // undefined: run every tick; null: nothing due until the next 03:00; a date: nothing due before it.
  let wake: Date | null | undefined;
  let idBeforeInstall: number | undefined;
  for (let now = new Date(`${from}T03:00:00+08:00`); now < end; now = new Date(now.getTime() + step)) {
    if (now < installAt) continue;
    if (idBeforeInstall === undefined) {
      await sim.runUntil(installAt);
      const { rows } = await target.query<{ id: number | null }>('SELECT max("ID")::int AS id FROM "ZY_MQXX"');
      idBeforeInstall = rows[0]?.id ?? 0;
    }
    if (wake !== undefined && !atThree(now) && (wake === null || now < wake)) continue;
    await sim.runUntil(now);
    const next = await tick(ctx, now);
    wake = next === undefined ? undefined : next;
  }
  await sim.runUntil(end);
  const canaryIds = await canaryMotherIds(vaultDb, hospital.name);
  const dump = await dumpTables(target, [{ table: 'ZY_MQXX' }, { table: 'XSE_XX', on: ['MQID', 'ZY_MQXX.ID'] }]);
  const after = await admitMore(target, opts.admitAfter ?? 300, { seed: opts.seed, at: end, numbering: opts.numbering });
  return {
    ctx,
    dump,
    canaryIds,
    idBeforeInstall: idBeforeInstall ?? 0,
    after,
    async close() {
      await target.close();
      await vaultDb.close();
      if (!opts.dir) fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
