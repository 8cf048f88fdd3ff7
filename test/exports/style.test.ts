import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { parseConfig, selectHospital, type HospitalConfig } from '../../src/config/index.js';
import { dialectOf, migrate, openDatabase, type Database } from '../../src/db/index.js';
import { runExport, type ExportRequest, type ExportResult } from '../../src/exports/export.js';
import { runWatermark } from '../../src/exports/watermark.js';
import { createRandom } from '../../src/lib/generate/index.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { loadMapping, type Mapping } from '../../src/targetdb/index.js';
import * as vault from '../../src/vault/index.js';
import { newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';
import { count } from '../helpers/hospital.js';
import { newMariadbDatabase } from '../helpers/mariadb.js';
import { describeEachTarget, TARGET_CASES, type TargetBackend } from '../helpers/targets.js';

// A hospital that is not Cradle's mirror: a mother table and a baby table that both have a column
// `xm` (name), sex as 男/女, local times written with seconds, weights to 10 g, a serial id with gaps
// and a date-prefixed admission number (yyyyMMdd + a daily sequence with gaps), ID-card numbers,
// gestational weeks and delivery modes no mapping field holds. The population is written here, from
// distributions of its own, in the order the hospital system writes rows (by admission).

/** The hospital's tables; on MySQL/MariaDB its times are DATETIME, as a HIS there has them. */
const schema = (timestamp: string) => `
CREATE TABLE mz (
  id integer PRIMARY KEY,
  zyh varchar(12) NOT NULL UNIQUE,
  xm text NOT NULL,
  sfzh char(18),
  lxdh varchar(11),
  ryrq ${timestamp} NOT NULL,
  cjsj ${timestamp} NOT NULL
);
CREATE TABLE xse (
  id integer PRIMARY KEY,
  mz_id integer NOT NULL REFERENCES mz(id),
  xm text,
  xb varchar(1) NOT NULL,
  cssj ${timestamp} NOT NULL,
  tz integer NOT NULL,
  yz integer,
  fmfs text
);
CREATE TABLE dense (id integer PRIMARY KEY, lxdh varchar(11));`;

const MAPPING = {
  timeZone: 'Asia/Shanghai',
  inserts: [
    {
      as: 'm',
      table: 'mz',
      returning: ['id'],
      columns: {
        zyh: { random: '############' },
        xm: 'mother.name',
        lxdh: { field: 'mother.phone', phone: 'national' },
        ryrq: { field: 'admittedAt', format: 'yyyy-MM-dd HH:mm:ss' },
      },
    },
    {
      as: 'b',
      table: 'xse',
      columns: {
        mz_id: { ref: 'm.id' },
        xm: 'baby.name',
        xb: { field: 'baby.sex', map: { female: '女', male: '男' } },
        cssj: { field: 'baby.birthTime', format: 'yyyy-MM-dd HH:mm:ss' },
        tz: 'baby.weightGrams',
      },
    },
  ],
};

// Regional surnames and given-name characters of this hospital's own, unlike Cradle's locale tables.
const SURNAMES: [string, number][] = [['钱', 9], ['蒋', 8], ['沈', 7], ['韩', 5], ['秦', 4], ['尤', 3], ['许', 6], ['吕', 2]];
const GIVEN = ['璟', '瑀', '翊', '珩', '馥', '湲', '沅', '芷', '蘅', '琇'];
const BABY = ['宸', '翀', '昱', '玥', '棠', '煦', '禾', '澈'];
const REGIONS = ['320402', '320411', '320412', '320481'];

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const local = (d: Date) => `${d.getUTCFullYear()}-${pad(d.getUTCMonth() + 1)}-${pad(d.getUTCDate())} ${pad(d.getUTCHours())}:${pad(d.getUTCMinutes())}:${pad(d.getUTCSeconds())}`;

function idCard(region: string, born: string, seq: number): string {
  const first = region + born + pad(seq, 3);
  const w = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
  return first + '10X98765432'[[...first].reduce((s, d, i) => s + Number(d) * w[i], 0) % 11];
}

interface Mother { id: number; zyh: string; xm: string; sfzh: string; lxdh: string; ryrq: string; cjsj: string }
interface Baby { id: number; mz_id: number; xm: string; xb: string; cssj: string; tz: number; yz: number; fmfs: string }

/** 240 families over 60 days, written in admission order; ids and daily admission numbers with gaps. */
function population(): { mothers: Mother[]; babies: Baby[] } {
  const rng = createRandom('style-hospital');
  const mothers: Mother[] = [];
  const babies: Baby[] = [];
  let id = 100;
  let bid = 5000;
  const start = Date.UTC(2026, 7, 1); // wall-clock times, written as they are
  const names = new Set<string>();
  const cards = new Set<string>();
  const ids = (make: () => string) => {
    let v: string;
    do v = make();
    while (cards.has(v));
    cards.add(v);
    return v;
  };
  for (let day = 0; day < 60; day++) {
    let seq = 1;
    for (let k = 0; k < 4; k++) {
      const adm = new Date(start + day * 86_400_000 + (2 + k * 5) * 3_600_000 + rng.int(0, 3599) * 1000);
      const birth = new Date(adm.getTime() + rng.int(3 * 3600, 20 * 3600) * 1000);
      const date = `${adm.getUTCFullYear()}${pad(adm.getUTCMonth() + 1)}${pad(adm.getUTCDate())}`;
      let xm: string;
      do xm = rng.weighted(SURNAMES) + rng.pick(GIVEN) + (rng.chance(0.7) ? rng.pick(GIVEN) : '');
      while (names.has(xm));
      names.add(xm);
      const born = `19${rng.int(88, 99)}${pad(rng.int(1, 12))}${pad(rng.int(1, 28))}`;
      id += rng.int(2, 4);
      seq += rng.int(2, 3);
      mothers.push({
        id,
        zyh: `${date}${pad(seq, 4)}`,
        xm,
        sfzh: ids(() => idCard(rng.pick(REGIONS), born, rng.int(0, 999))),
        lxdh: `1${rng.pick(['39', '51', '88'])}${pad(rng.int(0, 99_999_999), 8)}`,
        ryrq: local(adm),
        cjsj: local(new Date(adm.getTime() + rng.int(30, 900) * 1000)),
      });
      bid += rng.int(2, 3);
      const weeks = rng.weighted([[37, 2], [38, 4], [39, 5], [40, 4], [41, 1]] as [number, number][]);
      babies.push({
        id: bid,
        mz_id: id,
        xm: `${xm[0]}${rng.pick(BABY)}`,
        xb: rng.chance(0.52) ? '男' : '女',
        cssj: local(birth),
        tz: Math.round((3000 + (weeks - 39) * 150 + rng.normal(0, 300)) / 10) * 10,
        yz: weeks,
        fmfs: rng.chance(0.4) ? '剖宫产' : '顺产',
      });
    }
  }
  return { mothers, babies };
}

const TIME = /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/;

interface StyleHospital {
  hospital: HospitalConfig;
  mapping: Mapping;
  vault: Database;
  target: Database;
  mothers: Mother[];
  babies: Baby[];
  close(): Promise<void>;
}

async function styleHospital(backend: TargetBackend): Promise<StyleHospital> {
  const locations: TestLocation[] = backend === 'mariadb' ? [await newDatabase('pglite', 'vault'), await newMariadbDatabase('style')] : [await newDatabase(backend, 'vault'), await newDatabase(backend, 'target')];
  const dir = scratchDir('style-hospital');
  const mappingFile = path.join(dir, 'mapping.json');
  fs.writeFileSync(mappingFile, JSON.stringify(MAPPING));
  const hospital = selectHospital(
    parseConfig(
      { hospitals: { czfy: { displayName: '常州市妇幼保健院', target: locations[1].location, mapping: mappingFile, wards: ['产科'], districts: ['天宁区', '钟楼区', '新北区'], timeZone: 'Asia/Shanghai' } } },
      path.join(FIXTURES_DIR, 'test.config.json'),
    ),
  );
  const mapping = loadMapping(mappingFile);
  const target = await openDatabase(locations[1].location);
  await target.exec(schema(dialectOf(target).name === 'mysql' ? 'DATETIME' : 'timestamp'));
  const { mothers, babies } = population();
  await target.copyFrom('mz', ['id', 'zyh', 'xm', 'sfzh', 'lxdh', 'ryrq', 'cjsj'], mothers.map((m) => [m.id, m.zyh, m.xm, m.sfzh, m.lxdh, m.ryrq, m.cjsj]));
  await target.copyFrom('xse', ['id', 'mz_id', 'xm', 'xb', 'cssj', 'tz', 'yz', 'fmfs'], babies.map((b) => [b.id, b.mz_id, b.xm, b.xb, b.cssj, b.tz, b.yz, b.fmfs]));
  await target.copyFrom('dense', ['id', 'lxdh'], Array.from({ length: 60 }, (_, i) => [i + 1, `1390000${pad(i + 1, 4)}`]));
  const vaultDb = await openDatabase(locations[0].location);
  await migrate(vaultDb);
  await vault.ensureHospital(vaultDb, hospital.name, hospital.locale);
  const rng = createRandom('style-traps');
  const numbers = new Set<string>();
  while (numbers.size < 120) numbers.add(`+86137${pad(rng.int(0, 99_999_999), 8)}`);
  await vault.addTrapNumbers(vaultDb, [...numbers].map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
  return {
    hospital,
    mapping,
    vault: vaultDb,
    target,
    mothers,
    babies,
    async close() {
      await target.close();
      await vaultDb.close();
      for (const l of locations) await l.cleanup();
    },
  };
}

function readCsv(file: string): { header: string[]; rows: string[][] } {
  const [header, ...rows] = parse(fs.readFileSync(file, 'utf8'), { relax_column_count: true }) as string[][];
  return { header, rows };
}

/** What a thief would check, column by column: canary cells against the real rows' cells. */
function expectHonest(file: { header: string[]; rows: string[][] }, res: ExportResult, identifying: string[]) {
  const canaryRows = new Set(res.canaries.map((c) => c.row - 1));
  const col = (name: string) => file.header.indexOf(name);
  const real = file.rows.filter((_, i) => !canaryRows.has(i));
  const canaries = file.rows.filter((_, i) => canaryRows.has(i));
  expect(canaries).toHaveLength(res.canaries.length);
  expect(real).toHaveLength(res.rows);
  for (const name of identifying) {
    const values = new Set(real.map((r) => r[col(name)]));
    for (const c of canaries) expect([name, values.has(c[col(name)])]).toEqual([name, false]);
    // uniq -d on the column: nothing repeats.
    const all = file.rows.map((r) => r[col(name)]).filter((v) => v !== '');
    expect([name, all.filter((v, i) => all.indexOf(v) !== i)]).toEqual([name, []]);
  }
  return { real, canaries, col };
}

function expectSameCodes(real: string[][], canaries: string[][], c: number) {
  const codes = new Set(real.map((r) => r[c]));
  for (const row of canaries) expect(codes).toContain(row[c]);
}

const sortedAsc = (values: string[]) => values.every((v, i) => i === 0 || values[i - 1] <= v);

async function vaultState(h: StyleHospital): Promise<number[]> {
  return Promise.all([
    count(h.vault, 'SELECT 1 FROM exports'),
    count(h.vault, 'SELECT 1 FROM canaries'),
    count(h.vault, 'SELECT 1 FROM exposures'),
    count(h.vault, 'SELECT 1 FROM trap_assignments'),
    count(h.vault, "SELECT 1 FROM trap_numbers WHERE state = 'available'"),
  ]);
}

describeEachTarget(TARGET_CASES, 'canary rows in the file’s own style on %s', (backend) => {
  let h: StyleHospital;
  let dir: string;
  const request = (out: string, extra: Partial<ExportRequest> = {}): ExportRequest => ({
    hospital: h.hospital,
    mapping: h.mapping,
    channel: { kind: 'export', name: 'insurer' },
    out,
    params: [],
    columnFields: {},
    now: new Date('2026-10-15T00:00:00Z'),
    canaries: 6,
    // Canary births decide where keys go between their neighbours: fixed, so each run tests the same places.
    seed: 'style',
    ...extra,
  });
  beforeAll(async () => {
    h = await styleHospital(backend);
    dir = scratchDir('style');
  });
  afterAll(async () => h?.close());

  it('--table: fresh keys between their neighbours, ID numbers and names of no real row, local times with seconds, in the file’s order', async () => {
    const out = path.join(dir, 'mz.csv');
    const res = await runExport(h.vault, h.target, request(out, { table: 'mz' }));
    const file = readCsv(out);
    expect(file.header).toEqual(['id', 'zyh', 'xm', 'sfzh', 'lxdh', 'ryrq', 'cjsj']);
    const { real, canaries, col } = expectHonest(file, res, ['id', 'zyh', 'xm', 'sfzh', 'lxdh']);
    const ids = new Set(h.mothers.map((m) => String(m.id)));
    const zyh = new Set(h.mothers.map((m) => m.zyh));
    for (const [i, c] of canaries.entries()) {
      // Keys in the table's own sequence: not a real row's, and not beyond the largest.
      expect(ids.has(c[col('id')])).toBe(false);
      expect(zyh.has(c[col('zyh')])).toBe(false);
      expect(Number(c[col('id')])).toBeLessThan(Math.max(...h.mothers.map((m) => m.id)));
      expect(c[col('zyh')]).toMatch(/^2026\d{4}\d{4}$/);
      // The admission number's day is the canary's admission day, as the hospital's are.
      expect(c[col('zyh')].slice(0, 8)).toBe(c[col('ryrq')].slice(0, 10).replace(/-/g, ''));
      expect(c[col('sfzh')]).toMatch(/^3204\d{13}[\dX]$/);
      expect(c[col('xm')]).toBe(res.canaries.find((x) => x.row === file.rows.indexOf(c) + 1)!.family.mother.name.full);
      expect(c[col('lxdh')]).toMatch(/^1\d{10}$/);
      expect(c[col('ryrq')]).toMatch(TIME);
      expect(c[col('cjsj')]).toMatch(TIME);
      expect(i).toBeGreaterThanOrEqual(0);
    }
    // Seconds are there as in the real rows (not every canary on :00).
    expect(canaries.some((c) => !c[col('ryrq')].endsWith(':00'))).toBe(true);
    // The file's order (by id, by admission) holds with the canaries among the rows.
    expect(file.rows.map((r) => Number(r[col('id')]))).toEqual([...file.rows.map((r) => Number(r[col('id')]))].sort((a, b) => a - b));
    expect(sortedAsc(file.rows.map((r) => r[col('ryrq')]))).toBe(true);
    expect(sortedAsc(file.rows.map((r) => r[col('zyh')]))).toBe(true);
    expect(real).toHaveLength(h.mothers.length);
    // The manifest lists exactly the canaries in the file, at their rows.
    expect((await vault.exportCanaries(h.vault, res.id)).map((c) => c.row_number)).toEqual(res.canaries.map((c) => c.row).sort((a, b) => a - b));
    for (const c of res.canaries) expect(file.rows[c.row - 1][col('lxdh')]).toBe(c.family.mother.phone!.replace('+86', ''));
  });

  it('--query: the baby’s xm gets the baby’s name and the mother’s the mother’s; codes, precision and formats as the real rows', async () => {
    const out = path.join(dir, 'join.csv');
    const params: string[] = [];
    const res = await runExport(h.vault, h.target, request(out, {
      query: `SELECT b.id, b.xm, b.xb, b.cssj, b.tz, b.yz, b.fmfs, m.zyh, m.xm AS mother, m.lxdh FROM xse b JOIN mz m ON m.id = b.mz_id WHERE b.cssj >= ${dialectOf(h.target).param(params, '2026-08-10')} ORDER BY b.cssj`,
      params,
    }));
    const file = readCsv(out);
    const { real, canaries, col } = expectHonest(file, res, ['id', 'zyh', 'mother', 'lxdh']);
    for (const c of res.canaries) {
      const row = file.rows[c.row - 1];
      expect(row[col('xm')]).toBe(c.family.baby.name.full);
      expect(row[col('mother')]).toBe(c.family.mother.name.full);
      expect(row[col('cssj')]).toMatch(TIME);
      expect(Number(row[col('tz')]) % 10).toBe(0);
    }
    for (const name of ['xb', 'yz', 'fmfs']) expectSameCodes(real, canaries, col(name));
    expect(new Set(canaries.map((c) => c[col('xb')]))).not.toContain('male');
    // Baby ids are fresh values in the baby table's sequence, not the mother table's.
    const babyIds = new Set(h.babies.map((b) => String(b.id)));
    for (const c of canaries) {
      expect(babyIds.has(c[col('id')])).toBe(false);
      expect(Number(c[col('id')])).toBeGreaterThan(Math.min(...h.babies.map((b) => b.id)));
      expect(Number(c[col('id')])).toBeLessThan(Math.max(...h.babies.map((b) => b.id)));
    }
    expect(sortedAsc(file.rows.map((r) => r[col('cssj')]))).toBe(true);
    expect((await vault.exportCanaries(h.vault, res.id)).map((c) => c.row_number)).toEqual(res.canaries.map((c) => c.row).sort((a, b) => a - b));
  });

  it('the default export: both names by table, 男/女, local times, 10 g', async () => {
    const out = path.join(dir, 'default.csv');
    const res = await runExport(h.vault, h.target, request(out, { from: '2026-08-01', to: '2026-09-30' }));
    const file = readCsv(out);
    expect(file.header).toEqual(['xm', 'lxdh', 'ryrq', 'b_xm', 'xb', 'cssj', 'tz']);
    const { real, canaries, col } = expectHonest(file, res, ['lxdh']);
    for (const c of res.canaries) {
      const row = file.rows[c.row - 1];
      expect(row[col('xm')]).toBe(c.family.mother.name.full);
      expect(row[col('b_xm')]).toBe(c.family.baby.name.full);
      expect(row[col('cssj')]).toMatch(TIME);
      expect(row[col('ryrq')]).toMatch(TIME);
      expect(Number(row[col('tz')]) % 10).toBe(0);
    }
    expectSameCodes(real, canaries, col('xb'));
    expect(sortedAsc(file.rows.map((r) => r[col('cssj')]))).toBe(true);
  });

  it('watermark: a hospital list with a row number, admission numbers, ID numbers and codes of its own', async () => {
    const input = path.join(dir, 'list.csv');
    const out = path.join(dir, 'list-marked.csv');
    const header = ['序号', '住院号', '产妇姓名', '身份证号', '联系电话', '出生时间', '性别', '体重(g)', '孕周', '分娩方式'];
    const lines = h.babies.map((b, i) => {
      const m = h.mothers.find((x) => x.id === b.mz_id)!;
      return [String(i + 1), m.zyh, m.xm, m.sfzh, m.lxdh, b.cssj, b.xb, String(b.tz), String(b.yz), b.fmfs];
    });
    fs.writeFileSync(input, [header, ...lines].map((l) => l.join(',')).join('\r\n') + '\r\n');
    const res = await runWatermark(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, channel: { kind: 'export', name: 'photo' }, file: input, out, columnFields: {}, canaries: 5, now: new Date('2026-10-15T00:00:00Z'), seed: 'style-list' });
    const file = readCsv(out);
    expect(file.header).toEqual(header);
    const { real, canaries, col } = expectHonest(file, res, ['住院号', '产妇姓名', '身份证号', '联系电话']);
    // 序号 counts the rows, canaries included.
    expect(file.rows.map((r) => r[0])).toEqual(file.rows.map((_, i) => String(i + 1)));
    for (const c of canaries) {
      expect(c[col('出生时间')]).toMatch(TIME);
      expect(Number(c[col('体重(g)')]) % 10).toBe(0);
      expect(c[col('住院号')]).toMatch(/^2026\d{8}$/);
      expect(c[col('身份证号')]).toMatch(/^3204\d{13}[\dX]$/);
    }
    for (const name of ['性别', '孕周', '分娩方式']) expectSameCodes(real, canaries, col(name));
    // The list is in admission order (births nearly so): each canary is born no earlier than every row above it.
    for (const c of res.canaries) {
      const above = file.rows.slice(0, c.row - 1).map((r) => r[col('出生时间')]);
      expect(above.every((t) => t <= file.rows[c.row - 1][col('出生时间')])).toBe(true);
    }
    expect(sortedAsc(file.rows.map((r) => r[col('住院号')]))).toBe(true);
    expect((await vault.exportCanaries(h.vault, res.id)).map((c) => c.row_number)).toEqual(res.canaries.map((c) => c.row).sort((a, b) => a - b));
  });

  it('--dry-run shows the canary rows and their places and records nothing', async () => {
    const before = await vaultState(h);
    const out = path.join(dir, 'dry.csv');
    const res = await runExport(h.vault, h.target, request(out, { table: 'mz', dryRun: true }));
    expect(res.dryRun).toBe(true);
    expect(res.canaries).toHaveLength(6);
    for (const c of res.canaries) {
      expect(c.row).toBeGreaterThan(0);
      expect(c.cells.lxdh).toBe(c.family.mother.phone!.replace('+86', ''));
      expect(c.cells.ryrq).toMatch(TIME);
    }
    expect(fs.existsSync(out)).toBe(false);
    const input = path.join(dir, 'dry-in.csv');
    fs.writeFileSync(input, ['产妇姓名,联系电话,出生时间', ...h.mothers.slice(0, 50).map((m) => `${m.xm},${m.lxdh},${m.ryrq}`)].join('\n') + '\n');
    const wm = await runWatermark(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, channel: { kind: 'export', name: 'photo' }, file: input, out: path.join(dir, 'dry-out.csv'), columnFields: {}, canaries: 3, now: new Date(), dryRun: true });
    expect(wm.canaries.map((c) => c.row).every((r) => r >= 1 && r <= 53)).toBe(true);
    expect(fs.existsSync(path.join(dir, 'dry-out.csv'))).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('dry') && f !== 'dry-in.csv')).toEqual([]);
    expect(await vaultState(h)).toEqual(before);
  });

  it('fails, writing nothing and taking no trap number, where canaries could carry no trap contact or a key has no room', async () => {
    const before = await vaultState(h);
    const out = path.join(dir, 'babies.csv');
    // The baby table has no phone: its canaries could never be called.
    await expect(runExport(h.vault, h.target, request(out, { table: 'xse' }))).rejects.toThrow(/no column of babies\.csv holds a phone or e-mail field/);
    // A unique column in no pattern Cradle can learn.
    await expect(runExport(h.vault, h.target, request(out, { query: "SELECT m.lxdh, md5(m.zyh) AS token FROM mz m" }))).rejects.toThrow(/token: its values are unique but follow no pattern/);
    // A table whose ids leave no gap (1, 2, 3…): no canary key fits.
    await expect(runExport(h.vault, h.target, request(out, { table: 'dense' }))).rejects.toThrow(/column id: the table's values 1…60 leave no gap/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readdirSync(dir).filter((f) => f.startsWith('babies'))).toEqual([]);
    expect(await vaultState(h)).toEqual(before);
  });
});
