import type { Family, PersonName } from '../../../src/domain/index.js';
import { createRandom, generateFamily, NameIndex, type FamilyOptions, type Random } from '../../../src/lib/generate/index.js';
import { CONFIDENCE, type CanarySignature, type MatchKind } from '../../../src/lib/match/matcher.js';
import { signatureOf } from '../../../src/lib/match/signature.js';
import { createRequire } from 'node:module';

// 10,000 synthetic canaries, planted in reformatted records, and families that are not canaries: what
// the matcher test checks the matcher against and bench/matcher.ts times it on.

const require = createRequire(import.meta.url);
const { pinyin } = require('pinyin-pro') as typeof import('pinyin-pro');

const ZH = { hospital: '南京市妇幼保健院', ward: '产科二病区', districts: ['鼓楼区', '玄武区', '秦淮区', '建邺区'], timeZone: 'Asia/Shanghai' };
const US = { hospital: 'Mercy General Hospital', ward: 'Maternity 4 West', districts: ['Albany, NY 12208', 'Troy, NY 12180'], timeZone: 'America/New_York' };
const CN_PREFIXES = ['130', '131', '132', '133', '135', '136', '137', '138', '139', '150', '151', '152', '155', '158', '159', '177', '180', '186', '187', '188', '189', '199'];
const DOMAINS = ['qq.com', '163.com', '126.com', 'gmail.com'];

const digits = (rng: Random, n: number): string => Array.from({ length: n }, () => String(rng.int(0, 9))).join('');
const cnMobile = (rng: Random): string => `+86${rng.pick(CN_PREFIXES)}${digits(rng, 8)}`;
const usMobile = (rng: Random): string => `+1${rng.int(2, 9)}${digits(rng, 2)}${rng.int(2, 9)}${digits(rng, 6)}`;

function families(seed: string, count: number, taken: NameIndex | undefined, phone: (rng: Random, locale: 'zh-CN' | 'en-US') => string): Family[] {
  const rng = createRandom(seed);
  const out: Family[] = [];
  for (let i = 0; i < count; i++) {
    const locale = i % 10 === 9 ? 'en-US' : 'zh-CN';
    const setup = locale === 'zh-CN' ? ZH : US;
    const opts: FamilyOptions = {
      locale, ...setup, takenNames: taken,
      birthFrom: new Date('2025-01-01T00:00:00Z'), birthTo: new Date('2025-12-31T00:00:00Z'),
      phone: () => phone(rng, locale),
      emailDomain: (r) => r.pick(DOMAINS),
    };
    out.push(generateFamily(rng, opts));
  }
  return out;
}

const fullWidth = (s: string): string => s.replace(/[0-9]/g, (d) => String.fromCharCode(0xff10 + Number(d)));
const national = (e164: string): string => (e164.startsWith('+86') ? e164.slice(3) : e164.slice(2));

/** The ways leaks write a phone. */
function phoneStyles(e164: string): string[] {
  const n = national(e164);
  if (e164.startsWith('+86')) {
    const [a, b, c] = [n.slice(0, 3), n.slice(3, 7), n.slice(7)];
    return [n, `${a} ${b} ${c}`, `${a}-${b}-${c}`, `${a}.${b}.${c}`, `+86 ${n}`, `+86${n}`, `0086 ${a} ${b} ${c}`, `86${n}`,
      fullWidth(n), fullWidth(`${a}－${b}－${c}`), `(+86) ${a}-${b}-${c}`, `tel:${n};`, `联系电话：${a} ${b} ${c}（本人）`, `${n}.0`];
  }
  const [a, b, c] = [n.slice(0, 3), n.slice(3, 6), n.slice(6)];
  return [n, `(${a}) ${b}-${c}`, `+1 ${a} ${b} ${c}`, `1-${a}-${b}-${c}`, `${a}.${b}.${c}`, `1${n}`];
}
function maskedStyles(e164: string): string[] {
  const n = national(e164);
  const hidden = n.length - 7;
  const [a, c] = [n.slice(0, 3), n.slice(-4)];
  return ['*', 'x', 'X', '●', '＊', '•'].flatMap((m) => [`${a}${m.repeat(hidden)}${c}`, `${a} ${m.repeat(hidden)} ${c}`, `${a}-${m.repeat(hidden)}-${c}`]);
}
function pinyinStyles(name: PersonName, locale: string): string[] {
  if (locale !== 'zh-CN') {
    return [`${name.given} ${name.family}`, `${name.family.toUpperCase()}, ${name.given.toUpperCase()}`, `${name.family.toLowerCase()} ${name.given.toLowerCase()}`];
  }
  const [family, ...given] = name.latin.split(' ');
  const toned = pinyin(name.full, { toneType: 'symbol', surname: 'head', type: 'array' });
  const numbered = pinyin(name.full, { toneType: 'num', surname: 'head', type: 'array' });
  const cap = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
  const familySyllables = [...name.family].length;
  return [
    name.latin, name.latin.toUpperCase(), name.latin.replace(' ', '').toLowerCase(), `${given.join('')} ${family}`, `${family}, ${given.join('')}`,
    `${cap(toned.slice(0, familySyllables).join(''))} ${cap(toned.slice(familySyllables).join(''))}`,
    numbered.join(' '),
  ];
}
function maskName(rng: Random, full: string): string | null {
  const chars = [...full];
  if (chars.length < 3) return null;
  chars[rng.int(0, chars.length - 1)] = rng.pick(['*', '＊', 'x', 'X', '○', '某']);
  return chars.join('');
}

export type Plant = 'phone' | 'email' | 'masked+name' | 'masked+maskedname' | 'maskedname+phone' | 'name' | 'pinyin';
export const PLANTS: Plant[] = ['phone', 'email', 'masked+name', 'masked+maskedname', 'maskedname+phone', 'name', 'pinyin'];
/** The least confidence a planted record must yield for its canary. */
export const EXPECT: Record<Plant, number> = {
  phone: CONFIDENCE.exact,
  email: CONFIDENCE.exact,
  'masked+name': CONFIDENCE.maskedPhoneWithName,
  'masked+maskedname': CONFIDENCE.maskedPhoneWithMaskedName,
  'maskedname+phone': CONFIDENCE.exact,
  name: CONFIDENCE.name,
  pinyin: CONFIDENCE.shortPinyin,
};

export interface Rendered {
  text: string;
  plant: Plant;
  /** The hit the planted variant must produce by itself (other fields may add more). */
  kind: MatchKind;
  value: string;
}

/**
 * One CSV-like record of a family as a leak might write it, the mother's fields in the planted
 * variant. Returns the plant actually used (a family without an e-mail cannot carry one, a
 * two-character name cannot be masked...) and the hit it must produce.
 */
export function render(rng: Random, f: Family, id: number, wanted: Plant): Rendered {
  const phone = f.mother.phone ?? f.father?.phone ?? null;
  const mother = f.mother.name;
  const masked = mother.full.length >= 3 && f.locale === 'zh-CN' ? maskName(rng, mother.full) : null;
  let plant = wanted;
  if (plant === 'email' && !f.mother.email) plant = 'phone';
  if ((plant === 'masked+maskedname' || plant === 'maskedname+phone') && !masked) plant = 'masked+name';
  if (plant !== 'name' && plant !== 'pinyin' && !phone) plant = 'name';
  if (plant === 'name' && f.locale !== 'zh-CN') plant = 'pinyin'; // en-US names are written in Latin letters

  const nameField = plant === 'pinyin' ? rng.pick(pinyinStyles(mother, f.locale))
    : plant === 'masked+maskedname' || plant === 'maskedname+phone' ? masked!
    : f.locale === 'zh-CN' ? mother.full : mother.latin;
  const phoneField = phone === null ? ''
    : plant === 'phone' || plant === 'maskedname+phone' ? rng.pick(phoneStyles(phone))
    : plant === 'masked+name' || plant === 'masked+maskedname' ? rng.pick(maskedStyles(phone))
    : '';
  const email = plant === 'email' && f.mother.email ? (rng.chance(0.5) ? f.mother.email.toUpperCase() : f.mother.email) : '';
  const other = (n: PersonName | undefined): string => (n === undefined ? '' : f.locale === 'zh-CN' ? n.full : n.latin);
  const fields = [
    String(id), nameField, phoneField, other(f.father?.name), other(f.baby.name), f.baby.birthTime.slice(0, 10), f.baby.sex === 'male' ? '男' : '女', String(f.baby.weightGrams),
    f.hospital, f.ward, f.address.full, email,
  ];
  const kind: MatchKind = plant === 'phone' ? 'phone' : plant === 'email' ? 'email'
    : plant === 'masked+name' || plant === 'masked+maskedname' ? 'masked-phone'
    : plant === 'maskedname+phone' ? 'masked-name'
    : plant === 'pinyin' && f.locale === 'zh-CN' ? 'name-pinyin' : 'name';
  const value = kind === 'phone' || kind === 'masked-phone' ? phone! : kind === 'email' ? f.mother.email!.toLowerCase() : mother.full;
  return { text: fields.join(','), plant, kind, value };
}

/**
 * Canary names only need to differ from each other here; the generator's one-edit rule runs out
 * of two-character names for the common surnames long before 10,000 families.
 */
export class DistinctNames extends NameIndex {
  override conflicts(name: string): boolean {
    return this.has(name);
  }
}

export interface Synthetic {
  canaries: Family[];
  signatures: CanarySignature[];
  /** Families that are not canaries: their names may well equal canary names (names repeat), but a real family never has a trap phone or a trap mailbox. */
  real: Family[];
}

/** The same families on every call (fixed seeds). */
export function syntheticFamilies(): Synthetic {
  const taken = new DistinctNames();
  const trapPhones = new Set<string>();
  const trapPhone = (rng: Random, locale: 'zh-CN' | 'en-US'): string => {
    for (;;) {
      const p = locale === 'zh-CN' ? cnMobile(rng) : usMobile(rng);
      if (!trapPhones.has(p)) { trapPhones.add(p); return p; }
    }
  };
  const canaries = families('scan-canaries', 10_000, taken, trapPhone);
  const signatures = canaries.map((f, i) => signatureOf(`c${i}`, f));
  const trapEmails = new Set(canaries.flatMap((f) => [f.mother.email, f.father?.email]).filter((e): e is string => !!e).map((e) => e.toLowerCase()));
  const realPhone = (rng: Random, locale: 'zh-CN' | 'en-US'): string => {
    for (;;) {
      const p = locale === 'zh-CN' ? cnMobile(rng) : usMobile(rng);
      if (!trapPhones.has(p)) return p;
    }
  };
  const real = families('scan-real', 10_000, undefined, realPhone).filter((f) => !trapEmails.has(f.mother.email?.toLowerCase() ?? ''));
  return { canaries, signatures, real };
}
