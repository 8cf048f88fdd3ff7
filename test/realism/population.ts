import fs from 'node:fs';
import path from 'node:path';
import { parseConfig, selectHospital, type HospitalConfig } from '../../src/config/index.js';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import { createRandom, generateFamily, type Random } from '../../src/lib/generate/index.js';
import { loadMapping, type Mapping } from '../../src/targetdb/mapping.js';
import * as vault from '../../src/vault/index.js';
import { newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';

// A hospital that is not Cradle's mirror, for the realism audit's tests: two tables with pinyin column
// names, a population written here with distributions of its own (local surnames and reduplicated
// given names, local phone segments, a 常州 address form, a ward mix with a NICU called 新生儿监护室,
// weights recorded to 10 g, times to the second, record numbers in sequence, created_at a few minutes
// after admission), inserted in time order as a hospital system writes. Canaries are written here too,
// either obviously different or drawn from the very same distributions, and recorded in the vault with
// the keys they got, as planting records them.

const SCHEMA = `
CREATE TABLE zy_brxx (
  id serial PRIMARY KEY,
  zyh varchar(12) NOT NULL UNIQUE,
  xm varchar(16) NOT NULL,
  lxdh varchar(20),
  jtzz varchar(100),
  sfzh varchar(18),
  rysj timestamp NOT NULL,
  cysj timestamp,
  ksmc varchar(20) NOT NULL,
  cjsj timestamp NOT NULL DEFAULT now()
);
CREATE TABLE xse_jl (
  id serial PRIMARY KEY,
  brid integer NOT NULL REFERENCES zy_brxx (id),
  xb varchar(2) NOT NULL,
  cstz integer NOT NULL,
  cssj timestamp NOT NULL,
  yz smallint
);`;

const MAPPING = {
  inserts: [
    {
      as: 'br',
      table: 'public.zy_brxx',
      returning: ['id'],
      columns: { zyh: { random: 'Z##########' }, xm: 'mother.name', lxdh: 'mother.phone', jtzz: 'address', rysj: 'admittedAt', cysj: 'dischargedAt', ksmc: 'ward' },
    },
    {
      as: 'xse',
      table: 'public.xse_jl',
      returning: ['id'],
      columns: { brid: { ref: 'br.id' }, xb: { field: 'baby.sex', map: { female: '女', male: '男' } }, cstz: 'baby.weightGrams', cssj: 'baby.birthTime' },
    },
  ],
};

export const WARDS = ['产一科', '产二科', '新生儿监护室'];
const SURNAMES: [string, number][] = [['钱', 9], ['孙', 8], ['周', 10], ['吴', 9], ['恽', 3], ['蒋', 7], ['承', 2], ['庄', 5], ['陆', 8], ['徐', 9]];
const GIVEN = ['婷', '静', '芳', '敏', '燕', '丽', '娟', '霞', '雯', '琳', '晓', '慧'];
const SEGMENTS = ['1386125', '1391502', '1506112', '1886133', '1377501'];
const STREETS = ['延陵西路', '南大街', '怀德中路', '劳动东路', '通江大道'];
const DISTRICTS = ['天宁区', '钟楼区', '新北区', '武进区'];

export interface PopRow {
  xm: string;
  lxdh: string | null;
  jtzz: string;
  sfzh: string | null;
  rysj: Date;
  cysj: Date | null;
  ksmc: string;
  cjsj: Date;
  xb: string;
  cstz: number;
  cssj: Date;
  yz: number | null;
  canary: boolean;
}

const digits = (rng: Random, n: number) => Array.from({ length: n }, () => rng.int(0, 9)).join('');
const HOUR = 3_600_000;

/** One family drawn from the hospital's own distributions, admitted at `rysj`. */
export function realFamily(rng: Random, rysj: Date, now: Date): PopRow {
  const ksmc = rng.weighted(WARDS.map((w, i) => [w, [50, 40, 10][i]] as [string, number]));
  const nicu = ksmc === '新生儿监护室';
  const g1 = rng.pick(GIVEN);
  const given = rng.chance(0.3) ? g1 + g1 : rng.chance(0.5) ? g1 : g1 + rng.pick(GIVEN);
  const cssj = new Date(rysj.getTime() + rng.int(2 * 3600, 30 * 3600) * 1000);
  const cysj = new Date(cssj.getTime() + rng.int(nicu ? 5 * 24 * 3600 : 2 * 24 * 3600, nicu ? 20 * 24 * 3600 : 6 * 24 * 3600) * 1000);
  return {
    xm: rng.weighted(SURNAMES) + given,
    lxdh: rng.chance(0.97) ? rng.pick(SEGMENTS) + digits(rng, 4) : null,
    jtzz: `常州市${rng.pick(DISTRICTS)}${rng.pick(STREETS)}${rng.int(1, 300)}号`,
    sfzh: rng.chance(0.95) ? `3204${rng.int(1, 9)}${rng.int(1980, 2002)}${digits(rng, 9)}` : null,
    rysj,
    cysj: cysj < now ? cysj : null,
    ksmc,
    cjsj: new Date(rysj.getTime() + rng.int(60, 1200) * 1000),
    xb: rng.chance(0.52) ? '男' : '女',
    cstz: Math.round(Math.max(900, rng.normal(nicu ? 2400 : 3300, nicu ? 500 : 400)) / 10) * 10,
    cssj,
    yz: rng.chance(0.97) ? (nicu ? rng.int(30, 37) : rng.int(37, 41)) : null,
    canary: false,
  };
}

/** A canary a thief spots at once: other names, minute precision, exact grams, one created_at, no ID number. */
export function obviousCanary(rng: Random, now: Date, yearAgo: Date): PopRow {
  const rysj = new Date(Math.floor((yearAgo.getTime() + rng.next() * (now.getTime() - yearAgo.getTime() - 10 * 24 * HOUR)) / 60_000) * 60_000);
  const cssj = new Date(rysj.getTime() + rng.int(2, 30) * HOUR);
  return {
    xm: rng.pick(['李', '王', '张', '刘']) + rng.pick(['子', '梓', '欣']) + rng.pick(['涵', '萱', '怡']),
    lxdh: `1${rng.int(30, 99)}${digits(rng, 8)}`,
    jtzz: `${rng.pick(['建设路', '人民路', '解放路'])}${rng.int(1, 99)}号${rng.int(1, 20)}栋${rng.int(1, 6)}单元${rng.int(101, 2801)}室`,
    sfzh: null,
    rysj,
    cysj: new Date(cssj.getTime() + rng.int(2, 4) * 24 * HOUR),
    ksmc: rng.pick(WARDS),
    cjsj: now,
    xb: rng.chance(0.5) ? '男' : '女',
    cstz: rng.int(2500, 4200),
    cssj,
    yz: null,
    canary: true,
  };
}

export interface RealismHospital {
  hospital: HospitalConfig;
  mapping: Mapping;
  vault: Database;
  target: Database;
  vaultLocation: string;
  targetLocation: string;
  configFile: string;
  rows: PopRow[];
  close(): Promise<void>;
}

/**
 * The hospital with `real` families over the past year and `canaries` canaries of the kind asked:
 * 'obvious' ones inserted after every real row (as a batch is), or 'same' ones drawn from the real
 * distributions and interleaved in time order.
 */
export async function createRealismHospital(opts: { real: number; canaries: number; kind: 'obvious' | 'same'; seed: string }): Promise<RealismHospital> {
  const locations: TestLocation[] = [await newDatabase('pglite', 'realism-vault'), await newDatabase('pglite', 'realism-target')];
  const dir = scratchDir('realism-config');
  const mappingFile = path.join(dir, 'mapping.json');
  fs.writeFileSync(mappingFile, JSON.stringify(MAPPING));
  const configFile = path.join(dir, 'cradle.config.json');
  fs.writeFileSync(configFile, JSON.stringify({ hospitals: { czfy: { displayName: '常州市妇幼保健院', target: locations[1].location, mapping: mappingFile, wards: WARDS, districts: DISTRICTS, timeZone: 'Asia/Shanghai' } } }));
  const hospital = selectHospital(parseConfig(JSON.parse(fs.readFileSync(configFile, 'utf8')), configFile));
  const mapping = loadMapping(mappingFile);
  const rng = createRandom(opts.seed);
  const now = new Date(Date.UTC(2026, 11, 1, 2, 0, 0));
  const yearAgo = new Date(now.getTime() - 365 * 24 * HOUR);
  const draw = () => new Date(yearAgo.getTime() + Math.floor(rng.next() * (now.getTime() - yearAgo.getTime() - 2 * 24 * HOUR)));
  const rows: PopRow[] = [];
  for (let i = 0; i < opts.real; i++) rows.push(realFamily(rng, draw(), now));
  if (opts.kind === 'same') for (let i = 0; i < opts.canaries; i++) rows.push({ ...realFamily(rng, draw(), now), canary: true });
  rows.sort((a, b) => a.rysj.getTime() - b.rysj.getTime());
  if (opts.kind === 'obvious') for (let i = 0; i < opts.canaries; i++) rows.push(obviousCanary(rng, now, yearAgo));

  const target = await openDatabase(locations[1].location);
  await target.exec(SCHEMA);
  const keys = new Map<number, { br: { id: number }; xse: { id: number } }>();
  await target.transaction(async (tx) => {
    for (const [i, r] of rows.entries()) {
      const month = `${r.rysj.getUTCFullYear() % 100}${String(r.rysj.getUTCMonth() + 1).padStart(2, '0')}`;
      const zyh = r.canary && opts.kind === 'obvious' ? `Z${digits(rng, 10)}` : `Z${month}${String(i + 1).padStart(6, '0')}`;
      const br = await tx.query<{ id: number }>(
        `INSERT INTO zy_brxx (zyh, xm, lxdh, jtzz, sfzh, rysj, cysj, ksmc, cjsj) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) RETURNING id`,
        [zyh, r.xm, r.lxdh, r.jtzz, r.sfzh, r.rysj.toISOString(), r.cysj?.toISOString() ?? null, r.ksmc, r.cjsj.toISOString()],
      );
      const xse = await tx.query<{ id: number }>(`INSERT INTO xse_jl (brid, xb, cstz, cssj, yz) VALUES ($1, $2, $3, $4, $5) RETURNING id`, [br.rows[0].id, r.xb, r.cstz, r.cssj.toISOString(), r.yz]);
      if (r.canary) keys.set(i, { br: { id: br.rows[0].id }, xse: { id: xse.rows[0].id } });
    }
  });

  // The vault's side: a batch whose canaries were planted with these keys (the families it holds are
  // Cradle's bookkeeping only: the rows in the target are the ones written above).
  const vaultDb = await openDatabase(locations[0].location);
  await migrate(vaultDb);
  await vault.ensureHospital(vaultDb, hospital.name, hospital.locale);
  const famRng = createRandom(`${opts.seed}:vault`);
  const canaries = [...keys.keys()].map((i) => ({
    id: `c${String(i).padStart(11, '0')}`,
    isoWeek: '2026-W48',
    family: generateFamily(famRng, { locale: 'zh-CN', hospital: hospital.displayName, ward: rows[i].ksmc, districts: DISTRICTS, timeZone: hospital.timeZone, birthFrom: yearAgo, birthTo: now, phone: () => `+86${rows[i].lxdh ?? '13800000000'}`, emailDomain: () => null, now }),
  }));
  await vaultDb.transaction(async (tx) => {
    await vault.recordBatchIntent(tx, { id: 'b000000001', hospital: hospital.name, rotationId: null, ward: null, channels: [] }, canaries);
    await vault.markBatchPlanted(tx, 'b000000001', new Map(canaries.map((c) => [c.id, keys.get(Number(c.id.slice(1)))])), now);
  });
  return {
    hospital,
    mapping,
    vault: vaultDb,
    target,
    vaultLocation: locations[0].location,
    targetLocation: locations[1].location,
    configFile,
    rows,
    async close() {
      await target.close();
      await vaultDb.close();
      for (const l of locations) await l.cleanup();
      fs.rmSync(dir, { recursive: true, force: true });
    },
  };
}
