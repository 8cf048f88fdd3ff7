import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../db/index.js';
import type { Family } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import { writeOutFile } from '../lib/out-file.js';
import { createRandom, generateFamily, type Random } from '../lib/generate/index.js';
import { SQL_DIR, FIXTURES_DIR } from '../lib/paths.js';
import { copyFamilies, writeEvents, type ColumnCache, type LifeEvent, type Mapping, type TargetKeys } from '../targetdb/index.js';
import * as vault from '../vault/index.js';
import { DEFAULT_BURN_IN_DAYS } from '../config/index.js';

// The demo hospital: an embedded target with the reference schema and a year of zh-CN births, an
// embedded vault, a trap pool and a config, all in one directory a newcomer can explore. The CLI
// opens the databases; this fills them.

export const DEMO_HOSPITAL = 'demo';
export const DEMO_WARDS = ['产科一病区', '产科二病区', '新生儿科NICU'];
export const DEMO_DISTRICTS = ['鼓楼区', '玄武区', '秦淮区', '建邺区', '栖霞区', '雨花台区', '江宁区', '浦口区'];
/**
 * The trap mailboxes' domain: a (fictional) regional mail provider that half the hospital's mothers
 * with an e-mail use, and whose spare mailboxes it set aside for the hospital. A canary's address on
 * it is as ordinary as theirs: canaries draw a provider as real mothers do and keep an address only
 * when it is this one (a domain no patient uses would give them away; Cradle then gives no e-mail).
 */
export const DEMO_TRAP_DOMAIN = 'jsmail.example';
const DEMO_DISPLAY_NAME = '南京市示例妇幼保健院';
const DAY_MS = 86_400_000;
const DEMO_TIME_ZONE = 'Asia/Shanghai';

/** Mobile prefixes of mainland China's carriers, for fictional patients' numbers. */
const CN_PREFIXES = ['130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '155', '156', '157', '158', '159', '166', '173', '177', '180', '181', '182', '183', '185', '186', '187', '188', '189', '191', '198', '199'];

export function randomMobile(rng: Random): string {
  let digits = rng.pick(CN_PREFIXES);
  while (digits.length < 11) digits += String(rng.int(0, 9));
  return `+86${digits}`;
}

export function demoConfig(rotation: Record<string, number>): object {
  return {
    vault: '.cradle',
    defaultHospital: DEMO_HOSPITAL,
    hospitals: {
      [DEMO_HOSPITAL]: {
        displayName: DEMO_DISPLAY_NAME,
        target: 'hospital-db',
        mapping: 'mapping.json',
        locale: 'zh-CN',
        timeZone: 'Asia/Shanghai',
        wards: DEMO_WARDS,
        nicuWards: [DEMO_WARDS[2]],
        districts: DEMO_DISTRICTS,
        seedChannel: 'system:his',
        pool: { cooldownDays: 730 },
        rotation: { perWard: rotation },
      },
    },
  };
}

export function* demoPopulation(rng: Random, births: number, now: Date): Generator<Family> {
  // Half the mothers who give an e-mail use the regional provider whose spare mailboxes are the traps.
  const emailDomains: [string, number][] = [[DEMO_TRAP_DOMAIN, 50], ['qq.com', 30], ['163.com', 10], ['126.com', 4], ['sina.com', 2], ['gmail.com', 1], ['outlook.com', 3]];
  const wards: [string, number][] = [[DEMO_WARDS[0], 46], [DEMO_WARDS[1], 46], [DEMO_WARDS[2], 8]];
  for (let i = 0; i < births; i++) {
    const ward = rng.weighted(wards);
    const family = generateFamily(rng, {
      locale: 'zh-CN',
      hospital: DEMO_DISPLAY_NAME,
      ward,
      nicu: ward === DEMO_WARDS[2],
      districts: DEMO_DISTRICTS,
      timeZone: 'Asia/Shanghai',
      birthFrom: new Date(now.getTime() - 365 * DAY_MS),
      birthTo: new Date(now.getTime() - DAY_MS),
      phone: () => randomMobile(rng),
      emailDomain: (r) => r.weighted(emailDomains),
      now,
    });
    // The wards record an e-mail for about a quarter of the mothers.
    if (family.mother.email && rng.chance(0.45)) family.mother.email = null;
    yield family;
  }
}

export interface DemoFiles {
  dir: string;
  configFile: string;
}

/**
 * The demo directory with its config and mapping. The databases the config names in it (hospital-db,
 * .cradle) are opened by the CLI and handed to createDemoHospital.
 */
export async function writeDemoFiles(opts: { dir: string; rotation: Record<string, number>; force?: boolean }): Promise<DemoFiles> {
  const dir = path.resolve(opts.dir);
  const configFile = path.join(dir, 'cradle.config.json');
  if (fs.existsSync(configFile)) {
    if (!opts.force) throw new UserError(`${opts.dir} already holds a demo; explore it with \`cd ${opts.dir} && npx cradle canaries list\`, or rebuild it with --force`);
    fs.rmSync(dir, { recursive: true, force: true });
  }
  fs.mkdirSync(dir, { recursive: true });
  // The demo owns its directory: its files replace whatever is there, a planted link included, never writing through it.
  await writeOutFile(configFile, (f) => f.write(JSON.stringify(demoConfig(opts.rotation), null, 2) + '\n'), { force: true });
  await writeOutFile(path.join(dir, 'mapping.json'), (f) => f.write(fs.readFileSync(path.join(FIXTURES_DIR, 'mappings', 'reference.json'))), { force: true, mode: 0o644 });
  return { dir, configFile };
}

export interface DemoOptions {
  seed: string;
  births: number;
  trapNumbers: number;
  now: Date;
  onStep?: (message: string) => void;
}

/** The hospital's own admissions still to come when Cradle is installed: written as the simulated clock reaches them. */
export interface DemoAdmissions {
  /** Write the hospital's own events (admissions, births, discharges) due before `until`, in time order. */
  admitUntil(until: Date): Promise<number>;
  /** Events still to be written. */
  remaining(): number;
}

interface RealEvent {
  at: number;
  event: LifeEvent;
  family: Family;
  keys: TargetKeys;
}

/**
 * Fill the demo's new databases: the target with the reference schema and the hospital's rows written
 * before `installAt` (when Cradle is installed), the (migrated) vault with its trap pool. The
 * hospital writes as the mapping says Cradle writes a canary: the family row at admission, the birth
 * row (its id and its medical-record number, numbered per day) at birth, the discharge time at
 * discharge. Its later events are returned, to be written in time order between Cradle's own runs,
 * as a live hospital's would be: canary rows then sit among real rows in id order and created times.
 */
export async function createDemoHospital(db: { target: Database; vault: Database }, mapping: Mapping, opts: DemoOptions & { installAt: Date }): Promise<DemoAdmissions> {
  opts.onStep?.(`creating the demo hospital's database with ${opts.births.toLocaleString('en')} births over the past year`);
  await db.target.exec(fs.readFileSync(path.join(SQL_DIR, 'targetdb', 'reference.sql'), 'utf8'));
  const population = createRandom(`${opts.seed}:population`);
  const install = opts.installAt.getTime();
  // Sorted by admission, each time parsed once (parsing in the comparison was ~0.3 s of the demo).
  const generated = [...demoPopulation(population, opts.births, opts.now)];
  const admitted = generated.map((f) => Date.parse(f.admittedAt));
  const families = generated.map((_, i) => i).sort((a, b) => admitted[a] - admitted[b]).map((i) => generated[i]);
  const before = families.filter((f) => Date.parse(f.admittedAt) < install);
  const events: RealEvent[] = [];
  await db.target.transaction(async (tx) => {
    // The year before Cradle in one COPY per table, each in the order the hospital wrote its rows:
    // family_id = 1, 2, … in admission order, birth ids and each day's medical-record numbers by birth
    // time. The births after installation are written later, as the clock reaches them.
    await copyFamilies(tx, mapping, before, DEMO_TIME_ZONE, () => population.int(0, 9), { inWriteOrder: true });
    await tx.query(`DELETE FROM births WHERE birth_time >= $1`, [opts.installAt.toISOString()]);
    await tx.query(`SELECT setval(pg_get_serial_sequence('births', 'birth_id'), greatest((SELECT max(birth_id) FROM births), 1))`);
  });
  before.forEach((family, i) => {
    if (Date.parse(family.baby.birthTime) < install) return;
    const keys = { family: { family_id: i + 1 } };
    events.push({ at: Date.parse(family.baby.birthTime), event: 'birth', family, keys });
    if (family.dischargedAt) events.push({ at: Date.parse(family.dischargedAt), event: 'discharge', family, keys });
  });
  for (const family of families.slice(before.length)) {
    const keys: TargetKeys = {};
    events.push({ at: Date.parse(family.admittedAt), event: 'admission', family, keys });
    events.push({ at: Date.parse(family.baby.birthTime), event: 'birth', family, keys });
    if (family.dischargedAt) events.push({ at: Date.parse(family.dischargedAt), event: 'discharge', family, keys });
  }
  const order = (e: LifeEvent) => ['admission', 'birth', 'discharge'].indexOf(e);
  events.sort((a, b) => a.at - b.at || order(a.event) - order(b.event));
  let next = 0;
  // The demo made the hospital's tables: their columns are read from the catalog once, not at every birth.
  const columns: ColumnCache = new Map();
  const admissions: DemoAdmissions = {
    async admitUntil(until) {
      let end = next;
      while (end < events.length && events[end].at < until.getTime()) end++;
      if (end === next) return 0;
      const batch = events.slice(next, end);
      await db.target.transaction(async (tx) => {
        const keys = await writeEvents(tx, mapping, batch.map((e) => ({ event: e.event, family: e.family, keys: e.keys, at: new Date(e.at), timeZone: DEMO_TIME_ZONE })), columns);
        // The keys object is shared by a family's events: each adds the keys of the rows it wrote.
        batch.forEach((e, i) => Object.assign(e.keys, keys[i]));
      });
      next = end;
      return batch.length;
    },
    remaining: () => events.length - next,
  };

  opts.onStep?.(`registering ${opts.trapNumbers} trap numbers and the trap mail domain ${DEMO_TRAP_DOMAIN}`);
  await vault.ensureHospital(db.vault, DEMO_HOSPITAL, 'zh-CN');
  const rng = createRandom(`${opts.seed}:traps`);
  const numbers = new Set<string>();
  // Drawn from the same carrier prefixes as the patients' numbers, so trap numbers do not stand out.
  while (numbers.size < opts.trapNumbers) numbers.add(randomMobile(rng));
  // Registered as `cradle pool add` does, with its default burn-in, served before installation: the
  // numbers came DEFAULT_BURN_IN_DAYS before it and became available on the day Cradle was installed.
  await vault.addTrapNumbers(db.vault, [...numbers].map((e164) => ({ e164, region: 'CN' })), {
    hospital: DEMO_HOSPITAL,
    burnInUntil: opts.installAt,
    addedAt: new Date(install - DEFAULT_BURN_IN_DAYS * 86_400_000),
    note: 'demo: fictional numbers, never dial them',
  });
  await vault.addTrapDomain(db.vault, DEMO_TRAP_DOMAIN, DEMO_HOSPITAL);
  return admissions;
}
