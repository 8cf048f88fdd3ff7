// A regional hospital that is not Cradle's mirror: a Changzhou maternity unit with local surname shares,
// repeating whole names, 6% reduplicated given names, its own address forms per district, its own phone
// segments, a NICU called 新生儿科, 10 g weights and a two-table schema with pinyin column names. Every
// distribution here is written for this fixture and differs from src/lib/generate/locales/zh-CN.ts.
import { createRandom, idNumber, truncatedNormal, type Random } from '../../src/lib/generate/index.js';
import { parseMapping } from '../../src/targetdb/index.js';

export const SCHEMA = `
  CREATE TABLE zy_yfxx (id serial PRIMARY KEY, yfxm text NOT NULL, yflxdh text, yfsfzh text, zfxm text, zflxdh text, dzyx text,
    jtzz text, qx text, bq text NOT NULL, rysj timestamp, cysj timestamp);
  CREATE TABLE xse_jl (id serial PRIMARY KEY, yfid int NOT NULL REFERENCES zy_yfxx(id), xsexm text, xb text, csrq timestamp, tz int, yz int, fmfs text);
`;

export const MAPPING = parseMapping(
  {
    inserts: [
      {
        as: 'm',
        table: 'zy_yfxx',
        returning: ['id'],
        columns: {
          yfxm: 'mother.name',
          yflxdh: { field: 'mother.phone', phone: 'national' },
          yfsfzh: 'mother.idNumber',
          zfxm: 'father.name',
          zflxdh: { field: 'father.phone', phone: 'national' },
          dzyx: 'mother.email',
          jtzz: 'address',
          qx: 'district',
          bq: 'ward',
          rysj: { field: 'admittedAt', format: 'yyyy-MM-dd HH:mm:ss' },
          cysj: { field: 'dischargedAt', format: 'yyyy-MM-dd HH:mm:ss' },
        },
      },
      {
        as: 'b',
        table: 'xse_jl',
        columns: {
          yfid: { ref: 'm.id' },
          xsexm: 'baby.name',
          xb: { field: 'baby.sex', map: { female: '女', male: '男' } },
          csrq: { field: 'baby.birthTime', format: 'yyyy-MM-dd HH:mm:ss' },
          tz: 'baby.weightGrams',
          yz: 'baby.gestationWeeks',
          fmfs: { field: 'deliveryMode', map: { vaginal: '顺产', caesarean: '剖宫产' } },
        },
      },
    ],
  },
  'pinyin-mapping',
);

const w = (text: string): [string, number][] => text.trim().split(/\s+/).map((t) => [t.replace(/[0-9.]+$/, ''), Number(t.match(/[0-9.]+$/)![0])]);

// Local surnames: 陈 and 张 lead, 李 is rare (2%, against ~7% nationally), 钱 顾 沈 蒋 are common.
export const SURNAMES = w('陈9 张7 王6 周5 吴5 钱4 徐4 蒋3.5 朱3 顾3 沈3 孙3 杨2.5 刘2.5 李2 史2 恽2 庄2 薛2 殷2 许2 邵1.5 汤1.5 储1.5 贺1.5 虞1.5 包1.5 费1 巢1 臧1 惠1 盛1 谈1 奚1 丁1 黄1');
// Whole names many local women share (a tenth of mothers carry one of these).
const POPULAR_MOTHERS = w('陈静5 张敏5 王婷婷4 周燕4 吴丹丹4 钱芳3 徐娟3 陈婷3 张丽3 蒋琴3 朱红3 顾莉莉3');
const REDUP_F = '婷丹娟静琳莉晶佳倩燕'.split('');
const F1 = w('雪4 春4 海3 秀3 玉3 美3 文3 晓5 丽3 红3 艳2 金2 凤2 亚2 霞2 建2 云2 小3');
const F2 = w('芳6 敏6 静5 燕5 娟5 艳4 丽4 萍4 红3 霞3 琴3 英3 华3 梅3 兰2 洁2 颖2 蓉2 芬2 琳2');
const M1 = w('建5 国4 志4 海3 晓3 小3 文3 伟2 永3 俊3 明3 立2 金2 春2 卫2 新2');
const M2 = w('军6 伟6 强5 明5 华5 平4 斌4 刚4 勇4 峰3 杰3 涛3 辉3 林3 波3 磊3');
const G1 = w('梓5 子5 欣4 思3 一4 语3 诗3 可3 沐2 若2');
const G2 = w('涵6 萱5 琪4 怡4 彤3 妍3 悦3 瑶3 汐2 然2');
const B1 = w('梓5 子4 浩4 宇4 一3 俊3 铭3 奕3 承2 沐2');
const B2 = w('轩6 宇5 辰4 睿4 泽4 阳3 航3 铭3 熙2 博2');

export const DISTRICTS: Record<string, { share: number; region: string; template: string; words: Record<string, [string, number][]> }> = {
  武进区: {
    share: 0.6,
    region: '320412',
    template: '常州市武进区{镇}{社区}{小区}#幢#单元#0#室',
    words: { 镇: w('湖塘镇5 牛塘镇3 洛阳镇2 遥观镇2 南夏墅街道2'), 社区: w('人民社区3 星港社区3 阳湖社区2 庙桥社区2 夏城社区2'), 小区: w('阳光小区3 香樟苑3 聚湖花园2 武宜新村2') },
  },
  天宁区: {
    share: 0.25,
    region: '320402',
    template: '常州市天宁区{路}#号{小区}#幢#0#室',
    words: { 路: w('青洋北路3 延陵中路3 关河东路2 劳动东路2'), 小区: w('红梅新村4 丽华新村3 兰陵小区2 清凉小区2') },
  },
  新北区: {
    share: 0.15,
    region: '320411',
    template: '常州市新北区{镇}{社区}#组#号',
    words: { 镇: w('罗溪镇3 薛家镇3 孟河镇2 西夏墅镇2'), 社区: w('新桥村3 王下村2 石桥村2 小河村2') },
  },
};

// The hospital's own mobile segments (first 7 digits); a tenth of mothers have one of no common segment.
export const SEGMENTS: [string, number][] = [
  ['1390612', 8], ['1381800', 7], ['1596122', 6], ['1358296', 6], ['1880614', 5], ['1377509', 5],
  ['1506112', 4], ['1391501', 4], ['1865120', 3], ['1370614', 3], ['1521910', 3], ['1806118', 2],
];

export const WARDS = w('产科一病区55 产科二病区37 新生儿科8');
export const NICU = '新生儿科';

export interface Planted {
  /** Values one family alone holds, that must never appear in a profile. */
  unique: string[];
}

const pick = (rng: Random, entries: [string, number][]): string => rng.weighted(entries);
const digits = (rng: Random, n: number): string => Array.from({ length: n }, () => rng.int(0, 9)).join('');
const pad = (n: number): string => String(n).padStart(2, '0');
const stamp = (ms: number): string => {
  const t = new Date(ms + 8 * 3_600_000); // Asia/Shanghai, no daylight saving
  return `${t.getUTCFullYear()}-${pad(t.getUTCMonth() + 1)}-${pad(t.getUTCDate())} ${pad(t.getUTCHours())}:${pad(t.getUTCMinutes())}:${pad(t.getUTCSeconds())}`;
};
const sqlText = (v: string | number | null): string => (v === null ? 'NULL' : typeof v === 'number' ? String(v) : `'${v.replace(/'/g, "''")}'`);

function motherGiven(rng: Random): string {
  const u = rng.next();
  if (u < 0.065) return rng.pick(REDUP_F).repeat(2);
  if (u < 0.18) return pick(rng, F2);
  return pick(rng, F1) + pick(rng, F2);
}

/** SQL that inserts `n` families of this hospital in the order its system writes them, and the unique values planted. */
export function population(n: number, seed = 'changzhou'): { sql: string[]; planted: Planted } {
  const rng = createRandom(seed);
  const mothers: string[] = [];
  const babies: string[] = [];
  const unique: string[] = [];
  const start = Date.UTC(2025, 0, 1) - 8 * 3_600_000;
  for (let i = 1; i <= n; i++) {
    const ward = pick(rng, WARDS);
    const nicu = ward === NICU;
    const caesarean = rng.chance(nicu ? 0.55 : 0.4);
    // Birth: a day (fewer scheduled births at weekends), an hour by mode.
    let day: number;
    do day = rng.int(0, 364);
    while (caesarean && [0, 6].includes(new Date(start + day * 86_400_000 + 8 * 3_600_000).getUTCDay()) && rng.chance(0.6));
    const hour = caesarean ? rng.weighted([[9, 5], [10, 5], [11, 3], [14, 4], [15, 3], [8, 2], [20, 1], [2, 1]] as [number, number][]) : rng.int(0, 23);
    const birth = start + day * 86_400_000 + hour * 3_600_000 + rng.int(0, 59) * 60_000 + rng.int(0, 59) * 1000;
    const weeks = nicu ? rng.int(28, 38) : rng.int(37, 41);
    const weight = nicu ? truncatedNormal(rng, 1000 + (weeks - 28) * 180, 250, 700, 4200) : truncatedNormal(rng, 3350 + (weeks - 39) * 120, 380, 2300, 4800);
    const stay = nicu ? rng.int(6, 14) : caesarean ? rng.int(4, 5) : rng.int(2, 3);
    const admitted = birth - rng.int(3, 30) * 3_600_000 - rng.int(0, 3599) * 1000;
    // Discharged between 09:00 and 15:59 local time, `stay` days after the birth's local day.
    const birthDayStart = birth - ((birth + 8 * 3_600_000) % 86_400_000);
    const discharged = birthDayStart + stay * 86_400_000 + rng.int(9 * 60, 16 * 60 - 1) * 60_000;
    const districtName = rng.weighted(Object.entries(DISTRICTS).map(([d, v]) => [d, v.share] as [string, number]));
    const district = DISTRICTS[districtName];
    let address = district.template.replace(/\{([^}]+)\}/g, (_, slot: string) => pick(rng, district.words[slot]));
    address = address.replace(/#/g, () => String(rng.int(1, 9)));
    // Names.
    const popular = rng.chance(0.1);
    const motherName = popular ? pick(rng, POPULAR_MOTHERS) : pick(rng, SURNAMES) + motherGiven(rng);
    const hasFather = rng.chance(0.92);
    const fatherSurname = pick(rng, SURNAMES);
    const fatherName = hasFather ? fatherSurname + (rng.chance(0.1) ? pick(rng, M2) : pick(rng, M1) + pick(rng, M2)) : null;
    const male = rng.chance(0.52);
    const babySurname = hasFather && rng.chance(0.9) ? fatherSurname : [...motherName][0];
    const babyName = rng.chance(0.3) ? `${motherName}${male ? '之子' : '之女'}` : babySurname + (male ? pick(rng, B1) + pick(rng, B2) : pick(rng, G1) + pick(rng, G2));
    // Phones, e-mail, ID.
    const segment = rng.chance(0.9) ? pick(rng, SEGMENTS) : `1${rng.pick(['33', '53', '77', '89'])}${digits(rng, 4)}`;
    const motherPhone = rng.chance(0.03) ? `0519${8 + rng.int(0, 1)}${digits(rng, 7)}` : `${segment}${digits(rng, 4)}`;
    const fatherPhone = hasFather && rng.chance(0.8) ? (rng.chance(0.15) ? motherPhone : `${pick(rng, SEGMENTS)}${digits(rng, 4)}`) : null;
    const email = rng.chance(0.3)
      ? `${rng.chance(0.6) ? String(rng.int(100_000_000, 2_999_999_999)) : `mama${digits(rng, 6)}`}@${pick(rng, w('qq.com6 163.com2.5 126.com1 sina.com0.5'))}`
      : null;
    const age = truncatedNormal(rng, 30, 4, 20, 45);
    const bd = new Date(birth - age * 365.2425 * 86_400_000 + 8 * 3_600_000).toISOString().slice(0, 10);
    const id = idNumber(rng, district.region, bd, 'female');
    unique.push(motherPhone, id, address);
    if (email) unique.push(email);
    mothers.push(`(${[motherName, motherPhone, id, fatherName, fatherPhone, email, address, districtName, ward, stamp(admitted), stamp(discharged)].map(sqlText).join(', ')})`);
    babies.push(`(${[i, babyName, male ? '男' : '女', stamp(birth), Math.round(weight / 10) * 10, weeks, caesarean ? '剖宫产' : '顺产'].map(sqlText).join(', ')})`);
  }
  // One family with a name, a compound and a community nobody else has.
  unique.push('东方雪凝', '翡翠湾', '澄园社区');
  mothers.push(`('东方雪凝', '13912345678', NULL, NULL, NULL, NULL, '常州市武进区湖塘镇澄园社区翡翠湾1幢1单元101室', '武进区', '产科一病区', '2025-06-01 08:00:00', '2025-06-04 10:00:00')`);
  babies.push(`(${n + 1}, '东方雪凝之女', '女', '2025-06-01 20:00:00', 3330, 39, '顺产')`);
  const sql: string[] = [];
  for (let i = 0; i < mothers.length; i += 1000) {
    sql.push(`INSERT INTO zy_yfxx (yfxm, yflxdh, yfsfzh, zfxm, zflxdh, dzyx, jtzz, qx, bq, rysj, cysj) VALUES ${mothers.slice(i, i + 1000).join(', ')}`);
    sql.push(`INSERT INTO xse_jl (yfid, xsexm, xb, csrq, tz, yz, fmfs) VALUES ${babies.slice(i, i + 1000).join(', ')}`);
  }
  return { sql, planted: { unique } };
}
