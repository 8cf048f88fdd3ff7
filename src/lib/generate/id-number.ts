// Resident ID-card numbers of the PRC (GB 11643-1999): six digits of region, the birth date
// yyyyMMdd, a three-digit sequence whose last digit is odd for men and even for women, and an
// ISO 7064 MOD 11-2 check character (0-9 or X). Pure.
import type { Sex } from '../../domain/index.js';
import type { Random } from './random.js';

/** The weights of the first 17 digits in the check sum (also used by the SQL that checks learned numbers). */
export const ID_WEIGHTS: readonly number[] = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
const CHECK = '10X98765432';

/** The check character of the first 17 digits. */
export function idCheckDigit(first17: string): string {
  if (!/^\d{17}$/.test(first17)) throw new Error(`not 17 digits: ${first17}`);
  let sum = 0;
  for (let i = 0; i < 17; i++) sum += Number(first17[i]) * ID_WEIGHTS[i];
  return CHECK[sum % 11];
}

/** Whether an 18-character number has a valid check character, birth date and sequence. */
export function validIdNumber(id: string): boolean {
  if (!/^\d{17}[\dX]$/.test(id)) return false;
  const y = Number(id.slice(6, 10)), m = Number(id.slice(10, 12)), d = Number(id.slice(12, 14));
  const date = new Date(Date.UTC(y, m - 1, d));
  if (date.getUTCFullYear() !== y || date.getUTCMonth() !== m - 1 || date.getUTCDate() !== d) return false;
  return idCheckDigit(id.slice(0, 17)) === id[17];
}

/** The sex an ID number encodes (17th digit odd: male). */
export function idSex(id: string): Sex {
  return Number(id[16]) % 2 === 1 ? 'male' : 'female';
}

// Region codes (GB/T 2260) of some districts, for a hospital whose profile holds no ID numbers: the
// config's districts are matched by name, else the first is used.
const REGIONS: Record<string, string> = {
  天宁区: '320402', 钟楼区: '320404', 新北区: '320411', 武进区: '320412', 金坛区: '320413', 溧阳市: '320481', 常州市: '320400',
  玄武区: '320102', 秦淮区: '320104', 建邺区: '320105', 鼓楼区: '320106', 浦口区: '320111', 栖霞区: '320113', 雨花台区: '320114', 江宁区: '320115', 南京市: '320100',
  东城区: '110101', 西城区: '110102', 朝阳区: '110105', 海淀区: '110108',
  黄浦区: '310101', 徐汇区: '310104', 浦东新区: '310115',
  越秀区: '440104', 天河区: '440106', 福田区: '440304', 南山区: '440305',
  上城区: '330102', 西湖区: '330106', 姑苏区: '320508', 无锡市: '320200', 苏州市: '320500',
};

/** A region code for these district names: the first whose name (or a known name inside it) is known, else Changzhou's. */
export function regionForDistricts(districts: readonly string[], rng: Random): string {
  const known = districts.flatMap((d) => Object.entries(REGIONS).filter(([name]) => d.includes(name)).map(([, code]) => code));
  return known.length ? rng.pick(known) : '320400';
}

/** An ID number for someone born on `birthDate` (yyyy-MM-dd) in `region` (six digits). */
export function idNumber(rng: Random, region: string, birthDate: string, sex: Sex): string {
  if (!/^\d{6}$/.test(region)) throw new Error(`not a region code: ${region}`);
  const seq = rng.int(0, 99) * 10 + 2 * rng.int(0, 4) + (sex === 'male' ? 1 : 0);
  const first17 = `${region}${birthDate.replace(/-/g, '')}${String(seq).padStart(3, '0')}`;
  return first17 + idCheckDigit(first17);
}
