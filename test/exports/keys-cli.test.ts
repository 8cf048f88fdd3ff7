import fs from 'node:fs';
import path from 'node:path';
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate, openDatabase } from '../../src/db/index.js';
import { createRandom } from '../../src/lib/generate/index.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';

// `cradle export --table` on a table the hospital writes in key order, whose keys are nearly dense:
// ids and daily admission numbers (yyyyMMdd + 3 digits) mostly one apart, so that most places a
// canary's admission time would put it have no free pair of keys between their neighbours, and a
// canary admitted after the last row would need the hospital's next numbers. The population is
// written here, not drawn from Cradle's generator.

const SCHEMA = `
CREATE TABLE zy (
  id integer PRIMARY KEY,
  zyh varchar(11) NOT NULL UNIQUE,
  xm text NOT NULL,
  lxdh varchar(11),
  ryrq timestamp NOT NULL
);
CREATE TABLE xse (id serial PRIMARY KEY, zy_id integer NOT NULL REFERENCES zy(id), xm text, xb varchar(1), cssj timestamp, tz integer);
CREATE TABLE tight (id integer PRIMARY KEY, lxdh varchar(11), ryrq timestamp);`;

const MAPPING = {
  timeZone: 'Asia/Shanghai',
  inserts: [
    {
      as: 'm',
      table: 'zy',
      returning: ['id'],
      columns: { zyh: { random: '###########' }, xm: 'mother.name', lxdh: { field: 'mother.phone', phone: 'national' }, ryrq: { field: 'admittedAt', format: 'yyyy-MM-dd HH:mm:ss' } },
    },
    {
      as: 'b',
      table: 'xse',
      columns: { zy_id: { ref: 'm.id' }, xm: 'baby.name', xb: { field: 'baby.sex', map: { female: '女', male: '男' } }, cssj: { field: 'baby.birthTime', format: 'yyyy-MM-dd HH:mm:ss' }, tz: 'baby.weightGrams' },
    },
  ],
};

const pad = (n: number, w = 2) => String(n).padStart(w, '0');
const wall = (ms: number) => new Date(ms).toISOString().slice(0, 19).replace('T', ' ');
const SURNAMES = ['钱', '蒋', '沈', '韩', '秦', '尤', '许'];
const GIVEN = ['璟', '瑀', '翊', '珩', '馥', '湲', '沅', '芷'];

interface Row { id: number; zyh: string; xm: string; lxdh: string; ryrq: string }

/** 6 days of 25 admissions each, in the order the system writes them: ids and each day's numbers mostly one apart, now and then two. */
function population(): Row[] {
  const rng = createRandom('keys-cli');
  const rows: Row[] = [];
  let id = 20_000;
  for (let day = 0; day < 6; day++) {
    let seq = 0;
    for (let k = 0; k < 25; k++) {
      id += rng.chance(0.75) ? 1 : 2;
      seq += rng.chance(0.65) ? 1 : 2;
      const at = Date.UTC(2026, 10, 10 + day, 0, 20) + k * 55 * 60_000 + rng.int(0, 59) * 1000;
      rows.push({ id, zyh: `202611${pad(10 + day)}${pad(seq, 3)}`, xm: rng.pick(SURNAMES) + rng.pick(GIVEN) + rng.pick(GIVEN), lxdh: `1${rng.pick(['39', '58', '87'])}${pad(rng.int(0, 99_999_999), 8)}`, ryrq: wall(at) });
    }
  }
  return rows;
}

describe('cradle export on a table sorted by nearly dense keys', () => {
  const locations: TestLocation[] = [];
  let cwd: string;
  let real: Row[];
  const run = (args: string[]) => cradleInProcess(['--vault', locations[0].location, ...args], { cwd });

  beforeAll(async () => {
    locations.push(await newDatabase('pglite', 'keys-vault', 'vault'), await newDatabase('pglite', 'keys-target'));
    cwd = scratchDir('keys-cli');
    const target = await openDatabase(locations[1].location);
    await target.exec(SCHEMA);
    real = population();
    await target.copyFrom('zy', ['id', 'zyh', 'xm', 'lxdh', 'ryrq'], real.map((r) => [r.id, r.zyh, r.xm, r.lxdh, r.ryrq]));
    // 1…41 without 21: one free id in the whole table.
    await target.exec("INSERT INTO tight SELECT g, '1390000' || lpad(((g * 37) % 100)::text, 4, '0'), timestamp '2026-11-10 00:00' + g * interval '1 hour' FROM generate_series(1, 41) g WHERE g <> 21");
    await target.close();
    const vaultDb = await openDatabase(locations[0].location);
    await migrate(vaultDb);
    await vault.ensureHospital(vaultDb, 'czfy', 'zh-CN');
    const rng = createRandom('keys-traps');
    const numbers = new Set<string>();
    while (numbers.size < 40) numbers.add(`+86137${pad(rng.int(0, 99_999_999), 8)}`);
    await vault.addTrapNumbers(vaultDb, [...numbers].map((e164) => ({ e164, region: 'CN' })), { hospital: null, burnInUntil: null });
    await vaultDb.close();
    fs.writeFileSync(path.join(cwd, 'mapping.json'), JSON.stringify(MAPPING));
    const hospital = { displayName: '常州市妇幼保健院', target: locations[1].location, mapping: 'mapping.json', wards: ['产科'], districts: ['天宁区', '钟楼区'], timeZone: 'Asia/Shanghai' };
    fs.writeFileSync(path.join(cwd, 'cradle.config.json'), JSON.stringify({ hospitals: { czfy: hospital } }));
  });
  afterAll(async () => {
    for (const l of locations) await l.cleanup();
  });

  it('--table: the written file stays sorted, every canary key is fresh, unique, a real row’s never, and none the hospital’s next', async () => {
    const res = await run(['export', '--channel', 'export:insurer', '--table', 'zy', '--out', 'zy.csv', '--canaries', '8', '--seed', 'keys', '--json']);
    const summary = json<{ rows: number; canaries: { row: number; motherPhone: string }[] }>(res);
    const [header, ...rows] = parse(fs.readFileSync(path.join(cwd, 'zy.csv'), 'utf8')) as string[][];
    expect(header).toEqual(['id', 'zyh', 'xm', 'lxdh', 'ryrq']);
    expect(rows).toHaveLength(real.length + 8);
    const col = (name: string) => rows.map((r) => r[header.indexOf(name)]);
    // Sorted as the hospital wrote it: by id, by admission number, by admission time.
    const ids = col('id').map(Number);
    expect(ids).toEqual([...ids].sort((a, b) => a - b));
    expect(col('zyh')).toEqual([...col('zyh')].sort());
    expect(col('ryrq')).toEqual([...col('ryrq')].sort());
    // uniq -d on each key column: nothing.
    expect(new Set(ids).size).toBe(rows.length);
    expect(new Set(col('zyh')).size).toBe(rows.length);
    const canaryRows = new Set(summary.canaries.map((c) => c.row));
    expect(canaryRows.size).toBe(8);
    const realIds = new Set(real.map((r) => String(r.id)));
    const realZyh = new Set(real.map((r) => r.zyh));
    const maxId = Math.max(...real.map((r) => r.id));
    const lastZyh = real[real.length - 1].zyh;
    for (const c of summary.canaries) {
      const row = rows[c.row - 1];
      const [id, zyh, , lxdh, ryrq] = row;
      expect(realIds.has(id)).toBe(false);
      expect(realZyh.has(zyh)).toBe(false);
      // Never a value the hospital's own sequences will issue next.
      expect(Number(id)).toBeLessThan(maxId);
      expect(zyh < lastZyh).toBe(true);
      expect(zyh).toMatch(/^202611\d{5}$/);
      expect(zyh.slice(0, 8)).toBe(ryrq.slice(0, 10).replace(/-/g, ''));
      expect(lxdh).toBe(c.motherPhone.replace('+86', ''));
    }
    // The real rows are the table's, unchanged and in order.
    expect(rows.filter((_, i) => !canaryRows.has(i + 1)).map((r) => r.join(','))).toEqual(real.map((r) => [r.id, r.zyh, r.xm, r.lxdh, r.ryrq].join(',')));
  });

  it('fails in one line, writing nothing, when the table leaves a free key for fewer canaries than asked', async () => {
    const res = await run(['export', '--channel', 'export:insurer', '--table', 'tight', '--out', 'tight.csv', '--canaries', '3', '--seed', 'tight']);
    expect(res.code).not.toBe(0);
    expect(res.stderr.trim().split('\n')).toHaveLength(1);
    expect(res.stderr).toMatch(/column id: room in the file's order for 1 of the 3 canaries' keys .*values after the largest, 41, are the hospital's next.*nothing was written/);
    expect(fs.existsSync(path.join(cwd, 'tight.csv'))).toBe(false);
    expect(fs.readdirSync(cwd).filter((f) => f.startsWith('tight'))).toEqual([]);
  });
});
