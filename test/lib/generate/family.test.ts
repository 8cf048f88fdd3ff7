import { beforeAll, describe, expect, it } from '@jest/globals';
import { TZDate } from '@date-fns/tz';
import type { Family, Locale } from '../../../src/domain/index.js';
import {
  createRandom,
  generateFamilies,
  generateFamily,
  localeTables,
  NameIndex,
  withinOneEdit,
  type FamilyOptions,
  type Random,
} from '../../../src/lib/generate/index.js';

const N = 20_000;
const DAY_MS = 86_400_000;

interface Setup {
  timeZone: string;
  hospital: string;
  ward: string;
  nicuWard: string;
  districts: string[];
  domain: string;
}
const SETUPS: Record<Locale, Setup> = {
  'zh-CN': { timeZone: 'Asia/Shanghai', hospital: '南京市妇幼保健院', ward: '产科二病区', nicuWard: '新生儿重症监护室', districts: ['鼓楼区', '玄武区', '秦淮区', '建邺区'], domain: 'qq.com' },
  'en-US': { timeZone: 'America/New_York', hospital: 'Mercy General Hospital', ward: 'Maternity 4 West', nicuWard: 'NICU', districts: ['Albany, NY 12208', 'Troy, NY 12180'], domain: 'gmail.com' },
};

/** 364 whole local days, Sunday 2025-01-05 to Saturday 2026-01-02, so every weekday occurs 52 times. */
const range = (timeZone: string) => ({
  birthFrom: new Date(new TZDate(2025, 0, 5, 0, 0, timeZone).getTime()),
  birthTo: new Date(new TZDate(2026, 0, 3, 0, 0, timeZone).getTime() - 1),
});

interface Recorder {
  opts: FamilyOptions;
  phones: { mother: string[]; father: string[] };
  emailCalls: number;
}
function options(locale: Locale, overrides: Partial<FamilyOptions> = {}): Recorder {
  const s = SETUPS[locale];
  const phones = { mother: [] as string[], father: [] as string[] };
  const rec: Recorder = { phones, emailCalls: 0, opts: undefined as unknown as FamilyOptions };
  let serial = 0;
  rec.opts = {
    locale,
    hospital: s.hospital,
    ward: s.ward,
    districts: s.districts,
    timeZone: s.timeZone,
    ...range(s.timeZone),
    phone: (role) => {
      const number = `+999${role === 'mother' ? 1 : 2}${String(++serial).padStart(8, '0')}`;
      phones[role].push(number);
      return number;
    },
    emailDomain: (_rng: Random) => {
      rec.emailCalls++;
      return s.domain;
    },
    ...overrides,
  };
  return rec;
}

const local = (iso: string, timeZone: string) => new TZDate(new Date(iso).getTime(), timeZone);
const localDay = (iso: string, timeZone: string): number => {
  const t = local(iso, timeZone);
  return Date.UTC(t.getFullYear(), t.getMonth(), t.getDate()) / DAY_MS;
};
const mean = (xs: number[]): number => xs.reduce((a, b) => a + b, 0) / xs.length;
const sd = (xs: number[]): number => {
  const m = mean(xs);
  return Math.sqrt(xs.reduce((a, x) => a + (x - m) ** 2, 0) / xs.length);
};
const share = <T>(xs: T[], pred: (x: T) => boolean): number => xs.filter(pred).length / xs.length;
const sum = (xs: readonly number[]): number => xs.reduce((a, b) => a + b, 0);

/** Mean and sd of normal(mu, sigma) truncated to [lo, hi), by numerical integration. */
function truncatedMoments(mu: number, sigma: number, lo: number, hi: number): { mean: number; sd: number } {
  let w = 0, m1 = 0, m2 = 0;
  const steps = 20_000, dx = (hi - lo) / steps;
  for (let i = 0; i < steps; i++) {
    const x = lo + (i + 0.5) * dx;
    const p = Math.exp(-(((x - mu) / sigma) ** 2) / 2);
    w += p;
    m1 += p * x;
    m2 += p * x * x;
  }
  const m = m1 / w;
  return { mean: m, sd: Math.sqrt(m2 / w - m * m) };
}

describe.each(['zh-CN', 'en-US'] as const)('generateFamily %s', (locale) => {
  const t = localeTables(locale);
  const { timeZone } = SETUPS[locale];
  let rec: Recorder;
  let families: Family[];

  beforeAll(() => {
    rec = options(locale);
    const rng = createRandom(`distributions-${locale}`);
    families = Array.from({ length: N }, () => generateFamily(rng, rec.opts));
  });

  it('reproduces the top surname shares of the table (±1 point) for mothers and fathers', () => {
    const top5 = [...t.surnames.items].sort((a, b) => t.surnames.share(b) - t.surnames.share(a)).slice(0, 5);
    const fathers = families.flatMap((f) => (f.father ? [f.father] : []));
    for (const surname of top5) {
      const expected = t.surnames.share(surname);
      expect(Math.abs(share(families, (f) => f.mother.name.family === surname) - expected)).toBeLessThan(0.01);
      expect(Math.abs(share(fathers, (p) => p.name.family === surname) - expected)).toBeLessThan(0.01);
    }
    // The tail is used too: real populations are not just the top 100.
    const distinct = new Set(families.map((f) => f.mother.name.family));
    expect(distinct.size).toBeGreaterThan(150);
  });

  it('keeps the sex ratio at birth (±0.03)', () => {
    const males = share(families, (f) => f.baby.sex === 'male');
    expect(Math.abs(males / (1 - males) - t.sexRatio)).toBeLessThan(0.03);
  });

  it('draws birth weights from the table, within bounds', () => {
    const weights = families.map((f) => f.baby.weightGrams);
    const w = t.birthWeight;
    const expected = truncatedMoments(w.mean, w.sd, w.min, w.max + 1);
    expect(Math.abs(mean(weights) - expected.mean)).toBeLessThan(15);
    expect(Math.abs(sd(weights) - expected.sd)).toBeLessThan(15);
    expect(Math.min(...weights)).toBeGreaterThanOrEqual(w.min);
    expect(Math.max(...weights)).toBeLessThanOrEqual(w.max);
    expect(weights.every(Number.isInteger)).toBe(true);
  });

  it('gives parents birth dates consistent with their ages, mother ages per table', () => {
    const a = t.motherAge;
    const exact: number[] = [];
    const wrong: string[] = [];
    for (const f of families) {
      const baby = local(f.baby.birthTime, timeZone);
      exact.push((localDay(f.baby.birthTime, timeZone) - Date.parse(f.mother.birthDate) / DAY_MS) / 365.2425);
      for (const p of [f.mother, f.father]) {
        if (!p) continue;
        const [y, m, d] = p.birthDate.split('-').map(Number);
        const age = baby.getFullYear() - y - (baby.getMonth() + 1 < m || (baby.getMonth() + 1 === m && baby.getDate() < d) ? 1 : 0);
        if (p.age !== age || !/^\d{4}-\d\d-\d\d$/.test(p.birthDate)) wrong.push(`${p.birthDate} ${p.age} at ${f.baby.birthTime}`);
      }
    }
    expect(wrong).toEqual([]);
    const expected = truncatedMoments(a.mean, a.sd, a.min, a.max + 1);
    expect(Math.abs(mean(exact) - expected.mean)).toBeLessThan(0.12);
    expect(Math.abs(sd(exact) - expected.sd)).toBeLessThan(0.12);
    const ages = families.map((f) => f.mother.age);
    expect(Math.min(...ages)).toBe(a.min);
    expect(Math.max(...ages)).toBeLessThanOrEqual(a.max);
    const withFather = families.filter((f) => f.father);
    expect(withFather.every((f) => f.father!.age >= t.fatherAgeGap.minAge)).toBe(true);
    const gaps = withFather.map((f) => (Date.parse(f.mother.birthDate) - Date.parse(f.father!.birthDate)) / DAY_MS / 365.2425);
    expect(Math.abs(mean(gaps) - t.fatherAgeGap.mean)).toBeLessThan(0.15);
    expect(Math.abs(sd(gaps) - t.fatherAgeGap.sd)).toBeLessThan(0.15);
  });

  it('spreads births over the range with fewer at weekends', () => {
    const { birthFrom, birthTo } = rec.opts;
    const byDay = new Array(7).fill(0);
    const times = families.map((f) => Date.parse(f.baby.birthTime));
    expect(Math.min(...times)).toBeGreaterThanOrEqual(birthFrom.getTime());
    expect(Math.max(...times)).toBeLessThanOrEqual(birthTo.getTime());
    for (const f of families) byDay[local(f.baby.birthTime, timeZone).getDay()]++;
    const total = sum(t.weekdayWeights);
    byDay.forEach((count, day) => expect(Math.abs(count / N - t.weekdayWeights[day] / total)).toBeLessThan(0.008));
    const weekendRatio = (w: readonly number[]): number => (w[0] + w[6]) / 2 / (sum(w.slice(1, 6)) / 5);
    expect(weekendRatio(t.weekdayWeights)).toBeGreaterThan(0.82); // "≈ 15 % fewer at weekends"
    expect(weekendRatio(t.weekdayWeights)).toBeLessThan(0.88);
    expect(Math.abs(weekendRatio(byDay) - weekendRatio(t.weekdayWeights))).toBeLessThan(0.03);
    // every month is used
    expect(new Set(families.map((f) => f.baby.birthTime.slice(0, 7))).size).toBeGreaterThanOrEqual(12);
  });

  it('has fewer births at night and a morning bump, as the hour weights say', () => {
    const hours = new Array(24).fill(0);
    for (const f of families) hours[local(f.baby.birthTime, timeZone).getHours()]++;
    const c = t.caesareanRate, { vaginal, caesarean } = t.hourWeights;
    const expectedShare = (from: number, to: number): number =>
      (1 - c) * sum(vaginal.slice(from, to)) / sum(vaginal) + c * sum(caesarean.slice(from, to)) / sum(caesarean);
    const night = sum(hours.slice(0, 6)) / N, morning = sum(hours.slice(8, 12)) / N;
    expect(Math.abs(night - expectedShare(0, 6))).toBeLessThan(0.01);
    expect(Math.abs(morning - expectedShare(8, 12))).toBeLessThan(0.01);
    expect(night / 6).toBeLessThan(0.8 * (sum(hours.slice(8, 18)) / N / 10)); // per hour, night ≥ 20 % quieter
  });

  it('admits 2–30 h before birth and discharges after a length of stay by delivery mode', () => {
    const stays: number[] = [], before: number[] = [], dischargeHours: number[] = [];
    const wrong: Family[] = [];
    for (const f of families) {
      const birth = Date.parse(f.baby.birthTime);
      before.push((birth - Date.parse(f.admittedAt)) / 3_600_000);
      if (f.dischargedAt === null || !(Date.parse(f.dischargedAt) > birth)) wrong.push(f);
      if (![f.baby.birthTime, f.admittedAt, f.dischargedAt].every((iso) => /^\d{4}-\d\d-\d\dT\d\d:\d\d:00\.000Z$/.test(iso ?? ''))) wrong.push(f);
      dischargeHours.push(local(f.dischargedAt!, timeZone).getHours());
      stays.push(localDay(f.dischargedAt!, timeZone) - localDay(f.baby.birthTime, timeZone));
    }
    expect(wrong).toEqual([]);
    expect(Math.min(...before)).toBeGreaterThanOrEqual(2);
    expect(Math.max(...before)).toBeLessThanOrEqual(30);
    expect(Math.abs(mean(before) - 16)).toBeLessThan(0.3);
    expect([Math.min(...dischargeHours), Math.max(...dischargeHours)]).toEqual([9, 16]);
    expect(Math.min(...stays)).toBe(t.stayDays.vaginal[0]);
    expect(Math.max(...stays)).toBe(t.stayDays.caesarean[1]);
    expect(Math.abs(share(stays, (d) => d >= t.stayDays.caesarean[0]) - t.caesareanRate)).toBeLessThan(0.015);
  });

  it('records fathers, phones and e-mails at the table shares, phones only from the callback', () => {
    const fathers = families.filter((f) => f.father);
    expect(Math.abs(fathers.length / N - t.fatherShare)).toBeLessThan(0.01);
    expect(Math.abs(share(fathers, (f) => f.father!.phone !== null) - t.fatherPhoneShare)).toBeLessThan(0.015);
    const motherPhones = families.map((f) => f.mother.phone);
    const fatherPhones = fathers.flatMap((f) => (f.father!.phone ? [f.father!.phone] : []));
    expect(motherPhones.filter((p) => p !== null)).toEqual(rec.phones.mother);
    expect(fatherPhones).toEqual(rec.phones.father);
    expect(families.filter((f) => f.mother.phone === null)).toHaveLength(Math.round(N * (1 - t.motherPhoneShare)));
    const emails = families.flatMap((f) => (f.mother.email ? [f.mother.email] : []));
    expect(emails.length).toBe(rec.emailCalls);
    expect(Math.abs(emails.length / N - t.emailShare)).toBeLessThan(0.015);
  });

  it('writes e-mail local parts that look like people’s, not sequences', () => {
    const addresses = families.flatMap((f) => (f.mother.email ? [f.mother.email] : []));
    expect(addresses.filter((a) => !/^[a-z0-9._]+@/.test(a) || !a.endsWith(`@${SETUPS[locale].domain}`))).toEqual([]);
    const locals = addresses.map((a) => a.split('@')[0]);
    expect(new Set(locals).size / locals.length).toBeGreaterThan(0.9);
    const numeric = share(locals, (l) => /^\d+$/.test(l));
    if (locale === 'zh-CN') {
      expect(numeric).toBeGreaterThan(0.3); // QQ numbers
      expect(numeric).toBeLessThan(0.55);
    } else {
      expect(numeric).toBe(0);
    }
    // Name-based ones contain the mother's name.
    const unrelated = families.filter((f) => {
      const l = f.mother.email?.split('@')[0];
      if (!l || /^\d+$/.test(l)) return false;
      const parts = f.mother.name.latin.toLowerCase().replace(/[^a-z ]/g, '').split(' ');
      return !parts.some((p) => l.includes(p) || l.startsWith(p.charAt(0)));
    });
    expect(unrelated).toEqual([]);
    // Not sequential: sorted numeric locals are not consecutive.
    const numbers = locals.filter((l) => /^\d+$/.test(l)).map(Number).sort((a, b) => a - b);
    expect(numbers.slice(1).filter((n, i) => n - numbers[i] === 1).length).toBeLessThan(3);
  });

  it('names parents and babies the way the locale records them', () => {
    const placeholder = locale === 'zh-CN' ? /^(.+)之(子|女)$/ : /^Baby (Boy|Girl) (.+)$/;
    let placeholders = 0;
    const wrong: unknown[] = [];
    for (const f of families) {
      for (const p of [f.mother, f.father]) {
        if (!p) continue;
        const { family, given, full, latin } = p.name;
        const ok = full === (locale === 'zh-CN' ? family + given : `${given} ${family}`)
          && (locale === 'zh-CN' ? /^[A-Z][a-z]* [A-Z][a-z]*$/.test(latin) : latin === full);
        if (!ok) wrong.push(p.name);
      }
      const m = placeholder.exec(f.baby.name.full);
      if (m) {
        placeholders++;
        const sexWord = locale === 'zh-CN' ? (f.baby.sex === 'male' ? '子' : '女') : f.baby.sex === 'male' ? 'Boy' : 'Girl';
        const [owner, word] = locale === 'zh-CN' ? [m[1], m[2]] : [m[2], m[1]];
        if (owner !== (locale === 'zh-CN' ? f.mother.name.full : f.mother.name.family) || word !== sexWord) wrong.push(f.baby);
      } else if (f.baby.name.family !== (f.father?.name.family ?? f.mother.name.family)) {
        wrong.push(f.baby);
      }
    }
    expect(wrong).toEqual([]);
    expect(Math.abs(placeholders / N - t.babyPlaceholderShare)).toBeLessThan(0.015);
    const mothers = new Set(families.map((f) => f.mother.name.full));
    expect(mothers.size).toBeGreaterThan(N * (locale === 'zh-CN' ? 0.5 : 0.7));
    if (locale === 'zh-CN') {
      const single = share(families, (f) => [...f.mother.name.given].length === 1);
      expect(Math.abs(single - 0.15)).toBeLessThan(0.015);
    } else {
      const shared = share(families.filter((f) => f.father), (f) => f.father!.name.family === f.mother.name.family);
      expect(Math.abs(shared - t.sharedSurnameShare)).toBeLessThan(0.02);
    }
  });

  it('writes addresses in the local format and districts from the options', () => {
    const s = SETUPS[locale];
    const format = locale === 'zh-CN'
      ? /^(.+区)(\S+路\d+号)\d+栋\d+单元\d+室$/
      : /^(\d+ [A-Za-z0-9 ]+ (?:St|Ave|Rd|Dr|Ln|Ct|Blvd|Way|Pl)(?:, Apt \w+)?), (.+)$/;
    const wrong = families.filter((f) => !format.test(f.address.full) || !s.districts.includes(f.address.district) || !f.address.full.includes(f.address.street));
    expect(wrong.map((f) => f.address)).toEqual([]);
    expect(new Set(families.map((f) => f.address.full)).size).toBeGreaterThan(N * 0.97);
  });

  it('gives NICU babies lower weights and longer stays', () => {
    const nicu = options(locale, { ward: SETUPS[locale].nicuWard });
    const rng = createRandom(`nicu-${locale}`);
    const babies = Array.from({ length: 3000 }, () => generateFamily(rng, nicu.opts));
    const weights = babies.map((f) => f.baby.weightGrams);
    const w = t.nicuWeight;
    const expected = truncatedMoments(w.mean, w.sd, w.min, w.max + 1);
    expect(Math.abs(mean(weights) - expected.mean)).toBeLessThan(40);
    expect(mean(weights)).toBeLessThan(mean(families.map((f) => f.baby.weightGrams)) - 700);
    const stays = babies.map((f) => localDay(f.dischargedAt!, timeZone) - localDay(f.baby.birthTime, timeZone));
    expect(Math.min(...stays)).toBe(t.stayDays.nicu[0]);
    expect(Math.max(...stays)).toBe(t.stayDays.nicu[1]);
  });

  it('takes the ward as a NICU when told so, whatever its name, and not when told otherwise', () => {
    // 新生儿科 is not guessed from its name; the hospital's config declares it (nicuWards).
    const weights = (nicu: boolean | undefined, ward: string) => {
      const rng = createRandom(`declared-${locale}-${String(nicu)}`);
      const { opts } = options(locale, { ward, nicu });
      return mean(Array.from({ length: 1000 }, () => generateFamily(rng, opts).baby.weightGrams));
    };
    const nicuMean = truncatedMoments(t.nicuWeight.mean, t.nicuWeight.sd, t.nicuWeight.min, t.nicuWeight.max + 1).mean;
    const termMean = truncatedMoments(t.birthWeight.mean, t.birthWeight.sd, t.birthWeight.min, t.birthWeight.max + 1).mean;
    expect(Math.abs(weights(true, '新生儿科') - nicuMean)).toBeLessThan(60);
    expect(Math.abs(weights(undefined, '新生儿科') - termMean)).toBeLessThan(60);
    expect(Math.abs(weights(false, SETUPS[locale].nicuWard) - termMean)).toBeLessThan(60);
  });
});

describe('generateFamily options and determinism', () => {
  const some = (seed: number | string | undefined, locale: Locale = 'zh-CN', n = 200): Family[] => {
    const rng = createRandom(seed);
    const { opts } = options(locale);
    return Array.from({ length: n }, () => generateFamily(rng, opts));
  };

  it('is deterministic for a seed, different across seeds, random by default', () => {
    expect(some(7)).toEqual(some(7));
    expect(some('x', 'en-US')).toEqual(some('x', 'en-US'));
    const [a, b] = [some(7), some(8)];
    expect(a.filter((f, i) => f.mother.name.full === b[i].mother.name.full).length).toBeLessThan(20);
    const [c, d] = [some(undefined), some(undefined)];
    expect(c).not.toEqual(d);
    expect(c.filter((f, i) => f.baby.birthTime === d[i].baby.birthTime).length).toBeLessThan(5);
  });

  it('never e-mails when the domain callback returns null, and nulls discharges after now', () => {
    const rng = createRandom(9);
    const { opts } = options('en-US', { emailDomain: () => null });
    const now = new Date((opts.birthFrom.getTime() + opts.birthTo.getTime()) / 2);
    const families = Array.from({ length: 500 }, () => generateFamily(rng, { ...opts, now }));
    expect(families.every((f) => f.mother.email === null && f.father?.email == null)).toBe(true);
    for (const f of families) {
      const discharge = f.dischargedAt === null ? null : Date.parse(f.dischargedAt);
      if (discharge === null) expect(Date.parse(f.baby.birthTime)).toBeGreaterThan(now.getTime() - 22 * DAY_MS);
      else expect(discharge).toBeLessThanOrEqual(now.getTime());
    }
    expect(families.some((f) => f.dischargedAt === null)).toBe(true);
    expect(families.some((f) => f.dischargedAt !== null)).toBe(true);
  });

  it('rejects bad options', () => {
    const rng = createRandom(10);
    const { opts } = options('zh-CN');
    expect(() => generateFamily(rng, { ...opts, districts: [] })).toThrow(/districts/);
    expect(() => generateFamily(rng, { ...opts, birthFrom: opts.birthTo, birthTo: opts.birthFrom })).toThrow(/birthFrom/);
  });

  it('keeps births inside a range shorter than a day', () => {
    const rng = createRandom(11);
    const { opts } = options('zh-CN');
    const birthFrom = new Date('2025-03-01T01:00:00Z'), birthTo = new Date('2025-03-01T03:30:00Z');
    for (let i = 0; i < 200; i++) {
      const ms = Date.parse(generateFamily(rng, { ...opts, birthFrom, birthTo }).baby.birthTime);
      expect(ms).toBeGreaterThanOrEqual(birthFrom.getTime());
      expect(ms).toBeLessThanOrEqual(birthTo.getTime());
    }
  });
});

describe.each(['zh-CN', 'en-US'] as const)('takenNames %s', (locale) => {
  it('makes 2,000 families whose parents are mutually more than one edit apart, surnames intact', () => {
    const t = localeTables(locale);
    const taken = new NameIndex();
    const rng = createRandom(`taken-${locale}`);
    const { opts } = options(locale, { takenNames: taken });
    const n = 2000;
    const families = Array.from({ length: n }, () => generateFamily(rng, opts));
    const names = families.flatMap((f) => [f.mother.name.full, ...(f.father ? [f.father.name.full] : [])]);
    expect(taken.size).toBe(names.length);
    for (let i = 0; i < names.length; i++) {
      for (let j = i + 1; j < names.length; j++) if (withinOneEdit(names[i], names[j])) throw new Error(`${names[i]} ~ ${names[j]}`);
    }
    const top5 = [...t.surnames.items].sort((a, b) => t.surnames.share(b) - t.surnames.share(a)).slice(0, 5);
    for (const surname of top5) {
      const p = t.surnames.share(surname);
      const observed = share(families, (f) => f.mother.name.family === surname);
      expect(Math.abs(observed - p)).toBeLessThan(3 * Math.sqrt((p * (1 - p)) / n)); // 3 standard errors
    }
    // A fresh family conflicting with nothing above keeps working with the same index.
    const more = generateFamilies(rng, opts, 10);
    for (const f of more) expect(names.some((x) => withinOneEdit(x, f.mother.name.full))).toBe(false);
  });

  it('throws a clear error when every name is taken', () => {
    class Full extends NameIndex {
      override conflicts(): boolean {
        return true;
      }
    }
    const { opts } = options(locale, { takenNames: new Full() });
    expect(() => generateFamily(createRandom(1), opts)).toThrow(/within one edit of a taken name after 200 draws/);
  });
});
