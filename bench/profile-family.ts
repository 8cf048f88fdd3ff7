import fs from 'node:fs';
import { openDatabase, readOnly } from '../src/db/index.js';
import { learnFamilyProfile } from '../src/profile/family.js';
import { parseMapping } from '../src/targetdb/index.js';

// The family-profile benchmark: learnFamilyProfile over N families (default a million) of a two-table
// schema with pinyin column names on PostgreSQL, written by SQL generate_series (names, addresses of
// 3 districts x 15 towns x 60 communities x 200 compounds, phones, ID numbers, e-mail, wards, births).
// It prints the wall time and the CPU seconds of the server backend that ran the statements (read
// from /proc, robust on a loaded machine). Usage:
//   npm run build && node dist/bench/profile.js --url postgres://postgres@127.0.0.1:5432/postgres [--families 1000000]

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(`--${name}`);
  return i > 0 ? process.argv[i + 1] : fallback;
};
const URL_ = arg('url', 'postgres://postgres@127.0.0.1:5432/postgres');
const N = Number(arg('families', '1000000'));
const note = (m: string): void => void process.stderr.write(`[bench] ${m}\n`);

const MAPPING = parseMapping({
  timeZone: 'Asia/Shanghai',
  inserts: [
    {
      as: 'm',
      table: 'zy_yfxx',
      returning: ['id'],
      columns: {
        yfxm: 'mother.name', yflxdh: { field: 'mother.phone', phone: 'national' }, yfsfzh: 'mother.idNumber', zfxm: 'father.name',
        zflxdh: { field: 'father.phone', phone: 'national' }, dzyx: 'mother.email', jtzz: 'address', qx: 'district', bq: 'ward',
        rysj: { field: 'admittedAt', format: 'yyyy-MM-dd HH:mm:ss' }, cysj: { field: 'dischargedAt', format: 'yyyy-MM-dd HH:mm:ss' },
      },
    },
    {
      as: 'b',
      table: 'xse_jl',
      columns: {
        yfid: { ref: 'm.id' }, xsexm: 'baby.name', xb: { field: 'baby.sex', map: { female: '女', male: '男' } },
        csrq: { field: 'baby.birthTime', format: 'yyyy-MM-dd HH:mm:ss' }, tz: 'baby.weightGrams', yz: 'baby.gestationWeeks',
        fmfs: { field: 'deliveryMode', map: { vaginal: '顺产', caesarean: '剖宫产' } },
      },
    },
  ],
});

const arr = (chars: string): string => `ARRAY[${[...chars].map((c) => `'${c}'`).join(',')}]`;
const pickFrom = (a: string, n: number): string => `(${a})[1 + floor(random() * ${n})::int]`;
const words = (prefix: string, n: number, suffix: string): string => `ARRAY[${Array.from({ length: n }, (_, i) => `'${prefix}${String.fromCodePoint(0x4e00 + ((i * 37) % 20000))}${String.fromCodePoint(0x4e00 + ((i * 91) % 20000))}${suffix}'`).join(',')}]`;

async function main(): Promise<void> {
  const admin = await openDatabase(URL_);
  const dbName = `cradle_bench_profile_${process.pid}`;
  await admin.exec(`CREATE DATABASE ${dbName}`);
  await admin.close();
  const url = new URL(URL_);
  url.pathname = `/${dbName}`;
  const db = await openDatabase(url.toString());
  try {
    const SUR = arr('陈张王周吴钱徐蒋朱顾沈孙杨刘李史恽庄薛殷许邵汤储贺虞包费巢臧惠盛谈奚丁黄');
    const C1 = arr('雪春海秀玉美文晓丽红艳金凤亚霞建云小');
    const C2 = arr('芳敏静燕娟艳丽萍红霞琴英华梅兰洁颖蓉芬琳');
    const t0 = Date.now();
    await db.exec(`
      CREATE TABLE zy_yfxx (id serial PRIMARY KEY, yfxm text NOT NULL, yflxdh text, yfsfzh text, zfxm text, zflxdh text, dzyx text,
        jtzz text, qx text, bq text NOT NULL, rysj timestamp, cysj timestamp);
      CREATE TABLE xse_jl (id serial PRIMARY KEY, yfid int NOT NULL, xsexm text, xb text, csrq timestamp, tz int, yz int, fmfs text);
      INSERT INTO zy_yfxx (yfxm, yflxdh, yfsfzh, zfxm, zflxdh, dzyx, jtzz, qx, bq, rysj, cysj)
      SELECT ${pickFrom(SUR, 36)} || ${pickFrom(C1, 18)} || ${pickFrom(C2, 20)},
             (ARRAY['1390612','1381800','1596122','1358296','1880614'])[1 + floor(random() * 5)::int] || lpad(floor(random() * 10000)::int::text, 4, '0'),
             '320412' || to_char(date '1985-01-01' + floor(random() * 6000)::int, 'YYYYMMDD') || lpad(floor(random() * 1000)::int::text, 3, '0') || 'X',
             CASE WHEN random() < 0.92 THEN ${pickFrom(SUR, 36)} || ${pickFrom(C1, 18)} || ${pickFrom(C2, 20)} END,
             CASE WHEN random() < 0.8 THEN '1381800' || lpad(floor(random() * 10000)::int::text, 4, '0') END,
             CASE WHEN random() < 0.3 THEN floor(random() * 1e9)::bigint::text || '@qq.com' END,
             '常州市' || d || ${pickFrom(words('', 15, '镇'), 15)} || ${pickFrom(words('', 60, '社区'), 60)} || ${pickFrom(words('', 200, '小区'), 200)}
               || (1 + floor(random() * 30))::int || '幢' || (1 + floor(random() * 4))::int || '单元' || (1 + floor(random() * 20))::int || '0' || (1 + floor(random() * 4))::int || '室',
             d, (ARRAY['产科一病区','产科二病区','新生儿科'])[1 + floor(random() * 3)::int],
             ts - interval '10 hours', ts + (2 + floor(random() * 4))::int * interval '1 day'
        FROM (SELECT g, (ARRAY['武进区','天宁区','新北区'])[1 + floor(random() * 3)::int] AS d,
                     timestamp '2025-01-01' + random() * interval '365 days' AS ts FROM generate_series(1, ${N}) g) s;
      INSERT INTO xse_jl (yfid, xsexm, xb, csrq, tz, yz, fmfs)
      SELECT id, CASE WHEN random() < 0.3 THEN yfxm || '之女' ELSE left(coalesce(zfxm, yfxm), 1) || ${pickFrom(C1, 18)} || ${pickFrom(C2, 20)} END,
             CASE WHEN random() < 0.52 THEN '男' ELSE '女' END, rysj + interval '10 hours', (2500 + floor(random() * 150) * 10)::int, 37 + floor(random() * 5)::int,
             CASE WHEN random() < 0.4 THEN '剖宫产' ELSE '顺产' END
        FROM zy_yfxx;
      CREATE INDEX ON xse_jl (yfid);
      ANALYZE;`);
    note(`wrote ${N.toLocaleString()} families in ${((Date.now() - t0) / 1000).toFixed(1)} s`);
    const cpu = (pid: number): number | null => {
      try {
        const f = fs.readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1].split(' ');
        return (Number(f[11]) + Number(f[12])) / 100; // utime + stime, clock ticks of 1/100 s
      } catch {
        return null;
      }
    };
    // readOnly runs on a connection of its own: read its backend's CPU from inside.
    const started = Date.now();
    let before: number | null = null, after: number | null = null;
    const client = process.cpuUsage();
    const profile = await readOnly(db, async (tx) => {
      const backend = (await tx.query<{ pid: number }>('SELECT pg_backend_pid() AS pid')).rows[0].pid;
      before = cpu(backend);
      // Each statement's server CPU, to see where the time goes.
      const timed = {
        kind: tx.kind,
        query: async <R extends Record<string, unknown>>(sql: string, params?: unknown[]) => {
          const c0 = cpu(backend);
          const r = await tx.query<R>(sql, params);
          const c1 = cpu(backend);
          note(`${c0 !== null && c1 !== null ? (c1 - c0).toFixed(2) : '?'} s CPU, ${r.rows.length} rows: ${sql.replace(/\s+/g, ' ').slice(0, 90)}`);
          return r;
        },
        tune: tx.tune?.bind(tx),
      } as unknown as typeof tx;
      const p = await learnFamilyProfile(timed, MAPPING, { k: 5 });
      after = cpu(backend);
      return p;
    });
    const wall = (Date.now() - started) / 1000;
    const clientCpu = process.cpuUsage(client);
    const sizes = JSON.stringify(profile).length;
    const serverCpu = before !== null && after !== null ? `${(after - before).toFixed(1)} s` : 'unknown (backend ended)';
    console.log(`learnFamilyProfile over ${N.toLocaleString()} families: wall ${wall.toFixed(1)} s, server backend CPU ${serverCpu}, client CPU ${((clientCpu.user + clientCpu.system) / 1e6).toFixed(1)} s; profile ${sizes.toLocaleString()} bytes of JSON`);
  } finally {
    await db.close();
    const a = await openDatabase(URL_);
    await a.exec(`DROP DATABASE IF EXISTS ${dbName} WITH (FORCE)`);
    await a.close();
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
