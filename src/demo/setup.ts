import fs from 'node:fs';
import path from 'node:path';
import type { Database } from '../db/index.js';
import type { Family } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import { writeOutFile } from '../lib/out-file.js';
import { createRandom, generateFamily, type Random } from '../lib/generate/index.js';
import { SQL_DIR, FIXTURES_DIR } from '../lib/paths.js';
import { copyFamilies, type Mapping } from '../targetdb/index.js';
import * as vault from '../vault/index.js';

// The demo hospital: an embedded target with the reference schema and a year of zh-CN births, an
// embedded vault, a trap pool and a config, all in one directory a newcomer can explore. The CLI
// opens the databases; this fills them.

export const DEMO_HOSPITAL = 'demo';
export const DEMO_WARDS = ['产科一病区', '产科二病区', '新生儿科NICU'];
export const DEMO_DISTRICTS = ['鼓楼区', '玄武区', '秦淮区', '建邺区', '栖霞区', '雨花台区', '江宁区', '浦口区'];
export const DEMO_TRAP_DOMAIN = 'mail.demo-hospital.example';
const DEMO_DISPLAY_NAME = '南京市示例妇幼保健院';
const DAY_MS = 86_400_000;

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
  const emailDomains: [string, number][] = [['qq.com', 60], ['163.com', 20], ['126.com', 8], ['sina.com', 4], ['gmail.com', 3], ['outlook.com', 5]];
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

/** Fill the demo's new databases: the target with the reference schema and its population, the (migrated) vault with its trap pool. */
export async function createDemoHospital(db: { target: Database; vault: Database }, mapping: Mapping, opts: DemoOptions): Promise<void> {
  opts.onStep?.(`creating the demo hospital's database with ${opts.births.toLocaleString('en')} births over the past year`);
  await db.target.exec(fs.readFileSync(path.join(SQL_DIR, 'targetdb', 'reference.sql'), 'utf8'));
  const population = createRandom(`${opts.seed}:population`);
  await db.target.transaction((tx) => copyFamilies(tx, mapping, demoPopulation(population, opts.births, opts.now), 'Asia/Shanghai', () => population.int(0, 9)));

  opts.onStep?.(`registering ${opts.trapNumbers} trap numbers and the trap mail domain ${DEMO_TRAP_DOMAIN}`);
  await vault.ensureHospital(db.vault, DEMO_HOSPITAL, 'zh-CN');
  const rng = createRandom(`${opts.seed}:traps`);
  const numbers = new Set<string>();
  // Drawn from the same carrier prefixes as the patients' numbers, so trap numbers do not stand out.
  while (numbers.size < opts.trapNumbers) numbers.add(randomMobile(rng));
  await vault.addTrapNumbers(db.vault, [...numbers].map((e164) => ({ e164, region: 'CN' })), { hospital: DEMO_HOSPITAL, burnInUntil: null, note: 'demo: fictional numbers, never dial them' });
  await vault.addTrapDomain(db.vault, DEMO_TRAP_DOMAIN, DEMO_HOSPITAL);
}
