// One fake newborn family drawn from a hospital's learned profile (src/profile/family.ts), so that it
// looks like the hospital's own patients: whole names that repeat as real ones do, or names built from
// the local surnames and positional characters with the learned lengths and reduplication; addresses
// from the district's own templates and words; births by the learned hour and weekday; per ward, a
// delivery mode, a gestational week and a weight consistent with it, and a stay consistent with the
// mode. Whatever the profile cannot say comes from the locale's tables. Pure.
import { QUANTILE_POINTS, type Address, type Counts, type DistrictAddresses, type Family, type FamilyProfile, type Locale, type NameShape, type Parent, type PersonName, type Quantiles, type Sex } from '../../domain/index.js';
import { numberUnit, slotKey, templateParts, wordSuffix } from './address-template.js';
import { idNumber, regionForDistricts } from './id-number.js';
import type { LocaleTables } from './locale.js';
import { enUS } from './locales/en-US.js';
import { zhCN } from './locales/zh-CN.js';
import { latinOf, type NameIndex } from './names.js';
import { truncatedNormal, weightedTable, type Random, type WeightedTable } from './random.js';
import { birthDateAt, dayNumber, fromDayNumber, localDay, localTimeToUtc, zoneOffset, type LocalDate } from './zone.js';

export interface ProfileFamilyOptions {
  locale: Locale;
  hospital: string;
  ward: string;
  /**
   * The ward is neonatal intensive care (small babies, long stays); default: guessed from its name by
   * NICU_WARD. With a profile, used only where the profile knows nothing of the ward.
   */
  nicu?: boolean;
  districts: readonly string[];
  /** IANA time zone of the hospital, e.g. Asia/Shanghai. */
  timeZone: string;
  birthFrom: Date;
  birthTo: Date;
  /** Called once per parent that has a phone recorded. */
  phone: (role: 'mother' | 'father') => string;
  /** E-mail domain for a family that has an e-mail; null = never e-mail. */
  emailDomain: (rng: Random) => string | null;
  /**
   * Names already used by other canaries: the generator redraws the given name (keeping the
   * surname, so surname frequencies stay exact) until the parent's full name is not within one
   * edit of any indexed name. The chosen parents' names are added to it.
   */
  takenNames?: NameIndex;
  /** Discharges later than this are recorded as null (the mother is still in hospital). */
  now?: Date;
}

const TABLES: Record<Locale, LocaleTables> = { 'zh-CN': zhCN, 'en-US': enUS };
export const localeTables = (locale: Locale): LocaleTables => TABLES[locale];
const DAY_MS = 86_400_000;
const MAX_REDRAWS = 200;

// ---------- sampling from aggregates ----------

const tables = new WeakMap<object, WeightedTable<string> | null>();

/** A kept value of the counts, by its share among kept values; null when none is kept. */
export function drawKept(rng: Random, counts: Counts | undefined): string | null {
  if (!counts) return null;
  let table = tables.get(counts);
  if (table === undefined) {
    const entries = Object.entries(counts.values).filter(([, n]) => n > 0);
    table = entries.length ? weightedTable(entries) : null;
    tables.set(counts, table);
  }
  return table ? table.sample(rng) : null;
}

/** A kept value with probability kept/total, else `other()` (values too rare to keep). */
function drawOr(rng: Random, counts: Counts | undefined, other: () => string): string {
  if (!counts || counts.total === 0) return other();
  const kept = counts.total - counts.other;
  if (kept > 0 && rng.next() * counts.total < kept) return drawKept(rng, counts) ?? other();
  return other();
}

/** Inverse-CDF draw from quantiles at QUANTILE_POINTS, extrapolating linearly beyond the outermost ones. */
export function drawQuantile(rng: Random, q: Quantiles): number {
  const p = QUANTILE_POINTS;
  const u = rng.next();
  if (u <= p[0]) return q[0] - ((q[1] - q[0]) / (p[1] - p[0])) * (p[0] - u);
  const last = p.length - 1;
  if (u >= p[last]) return q[last] + ((q[last] - q[last - 1]) / (p[last] - p[last - 1])) * (u - p[last]);
  let i = 1;
  while (p[i] < u) i++;
  return q[i - 1] + ((q[i] - q[i - 1]) * (u - p[i - 1])) / (p[i] - p[i - 1]);
}


// ---------- names ----------

/**
 * What is left of a group's given names once the kept whole names are taken out: a name is a kept
 * whole given name (梓涵) with `keptShare`, else built from these characters, lengths and reduplication,
 * so that kept and built names together reproduce the learned figures rather than counting the common
 * names twice.
 */
interface GivenResidual {
  keptShare: number;
  kept: Counts | undefined;
  /** Every kept given name of the group: a built name that is one would count it twice. */
  known: Record<string, number>;
  givenLength: Counts;
  chars: Record<string, Counts[]>;
  reduplicated: number;
}

/** What is left once the kept whole names (surname + given name) are taken out. */
interface Residual {
  wholeShare: number;
  surnames: Counts;
  given: GivenResidual;
  bySex: Record<string, GivenResidual>;
  split: Map<string, { family: string; given: string }>;
}
const residuals = new WeakMap<NameShape, Residual>();

function splitName(full: string, surnames: Counts): { family: string; given: string } {
  const chars = [...full];
  const two = chars.slice(0, 2).join('');
  const family = chars.length > 2 && (surnames.values[two] ?? 0) > (surnames.values[chars[0]] ?? 0) ? two : chars[0];
  return { family, given: full.slice(family.length) };
}

const copyCounts = (c: Counts): Counts => ({ total: c.total, other: c.other, values: { ...c.values } });
const takeCount = (c: Counts | undefined, v: string, n: number): void => {
  if (!c) return;
  c.total -= n;
  if (v in c.values) c.values[v] = Math.max(0, c.values[v] - n);
  else c.other = Math.max(0, c.other - n);
};

/**
 * A group's given names less `drawnWhole` (given names already drawn as part of kept whole names).
 * Characters, lengths and reduplication lose every kept given name (drawn whole either way); without
 * kept given names (older profiles) they lose the whole names' given parts only.
 */
function givenResidual(g: Pick<NameShape, 'total' | 'givenLength' | 'chars' | 'reduplicated' | 'given'>, drawnWhole: [string, number][]): GivenResidual {
  const givenLength = copyCounts(g.givenLength);
  const chars = Object.fromEntries(Object.entries(g.chars).map(([len, positions]) => [len, positions.map(copyCounts)]));
  const twoTotal = g.givenLength.values['2'] ?? 0;
  let redupLeft = g.reduplicated * twoTotal, twoLeft = twoTotal;
  const removed: [string, number][] = g.given ? Object.entries(g.given.values) : drawnWhole;
  for (const [given, n] of removed) {
    const c = [...given];
    takeCount(givenLength, String(c.length), n);
    c.forEach((ch, i) => takeCount(chars[String(c.length)]?.[i], ch, n));
    if (c.length === 2) {
      twoLeft -= n;
      if (c[0] === c[1]) redupLeft -= n;
    }
  }
  let kept: Counts | undefined;
  let keptShare = 0;
  if (g.given) {
    kept = copyCounts(g.given);
    for (const [given, n] of drawnWhole) takeCount(kept, given, n);
    const rest = g.total - drawnWhole.reduce((a, [, n]) => a + n, 0);
    const left = Object.values(kept.values).reduce((a, n) => a + n, 0);
    keptShare = rest > 0 ? Math.min(1, Math.max(0, left / rest)) : 0;
  }
  return {
    keptShare,
    kept,
    known: g.given?.values ?? {},
    givenLength,
    chars,
    reduplicated: twoLeft > 0 ? Math.min(1, Math.max(0, redupLeft / twoLeft)) : g.reduplicated,
  };
}

function residual(shape: NameShape): Residual {
  const hit = residuals.get(shape);
  if (hit) return hit;
  const surnames = copyCounts(shape.surnames);
  const split = new Map<string, { family: string; given: string }>();
  const drawnWhole: [string, number][] = [];
  let wholeKept = 0;
  for (const [full, n] of Object.entries(shape.whole.values)) {
    const parts = splitName(full, shape.surnames);
    split.set(full, parts);
    wholeKept += n;
    takeCount(surnames, parts.family, n);
    drawnWhole.push([parts.given, n]);
  }
  const r: Residual = {
    wholeShare: shape.total ? wholeKept / shape.total : 0,
    surnames,
    given: givenResidual(shape, drawnWhole),
    bySex: Object.fromEntries(Object.entries(shape.bySex ?? {}).map(([sex, g]) => [sex, givenResidual(g, [])])),
    split,
  };
  residuals.set(shape, r);
  return r;
}

function personName(t: LocaleTables, family: string, given: string): PersonName {
  const full = t.fullName(family, given);
  return { family, given, full, latin: latinOf(full, t.locale, family) };
}

/** A given name built from positional characters with the learned length and reduplication. */
function builtGiven(rng: Random, r: GivenResidual, fallback: () => string): string {
  const length = Number(drawOr(rng, r.givenLength, () => '2'));
  const positions = r.chars[String(length)];
  if (!positions) return fallback();
  const fallbackChars = [...fallback()];
  const charAt = (i: number): string => drawOr(rng, positions[i], () => fallbackChars[Math.min(i, fallbackChars.length - 1)] ?? fallbackChars[0]);
  if (length === 2) {
    if (rng.chance(r.reduplicated)) {
      const c = charAt(1);
      return c + c;
    }
    for (let i = 0; i < 20; i++) {
      const a = charAt(0), b = charAt(1);
      if (a !== b) return a + b;
    }
  }
  return Array.from({ length }, (_, i) => charAt(i)).join('');
}

/** A given name: a kept whole given name with the learned share, else one built that is not one of them. */
function drawGiven(rng: Random, r: GivenResidual, fallback: () => string): string {
  if (rng.chance(r.keptShare)) {
    const kept = drawKept(rng, r.kept);
    if (kept !== null) return kept;
  }
  for (let i = 0; ; i++) {
    const built = builtGiven(rng, r, fallback);
    if (!(built in r.known) || i >= 20) return built;
  }
}

/** A name for a role: a whole real name (kept under the k rule) or one built from the shape. */
function profileName(
  rng: Random,
  t: LocaleTables,
  shape: NameShape | undefined,
  sex: Sex,
  generation: 'parent' | 'baby',
  clash: (full: string) => boolean,
  surname?: string,
): PersonName {
  const fallbackGiven = (): string => (generation === 'parent' ? t.given[sex].parent.sample(rng) : t.given[sex].baby.sample(rng));
  const fallbackSurname = (): string => t.surnames.sample(rng);
  if (!shape) {
    for (let i = 0; i < MAX_REDRAWS; i++) {
      const name = personName(t, surname ?? fallbackSurname(), fallbackGiven());
      if (!clash(name.full)) return name;
    }
    throw new Error(`could not find a ${t.locale} name that is not taken after ${MAX_REDRAWS} draws`);
  }
  const r = residual(shape);
  // Given names of the sex where the profile has them (a baby's); whole full names are not kept per
  // sex, so they are not drawn then (a boy would get a girl's name).
  const ofSex = r.bySex[sex];
  const given = ofSex ?? r.given;
  for (let i = 0; i < MAX_REDRAWS; i++) {
    if (!ofSex && rng.chance(r.wholeShare)) {
      const full = drawKept(rng, shape.whole);
      const parts = full ? r.split.get(full) : undefined;
      if (parts && (surname === undefined || parts.family === surname) && !clash(full!)) return personName(t, parts.family, parts.given);
      if (parts && surname === undefined) continue;
    }
    const family = surname ?? (ofSex ? drawOr(rng, shape.surnames, fallbackSurname) : drawOr(rng, r.surnames, fallbackSurname));
    const name = personName(t, family, drawGiven(rng, given, fallbackGiven));
    // A built name that is one of the kept whole names would count that name twice.
    if (!clash(name.full) && (ofSex || !(name.full in shape.whole.values) || i >= MAX_REDRAWS / 2)) return name;
  }
  throw new Error(`could not find a ${sex} name from the hospital profile that is not taken after ${MAX_REDRAWS} draws`);
}

// ---------- e-mail ----------

function emailLocal(rng: Random, t: LocaleTables, shapes: Counts | undefined, name: PersonName, birthDate: string): string {
  const shape = drawKept(rng, shapes);
  const [family, ...given] = name.latin.toLowerCase().split(' ');
  const g = given.join('').replace(/[^a-z]/g, '');
  const f = family.replace(/[^a-z]/g, '');
  if (shape?.startsWith('digits:')) {
    const length = Math.max(5, Math.min(12, Number(shape.slice(7)) || 9));
    return String(rng.int(1, 9)) + Array.from({ length: length - 1 }, () => rng.int(0, 9)).join('');
  }
  if (shape === 'pinyin') return `${f}${g}`;
  if (shape === 'pinyin+digits') return `${f}${g}${rng.pick([birthDate.slice(0, 4), birthDate.slice(2, 4), birthDate.slice(5, 7) + birthDate.slice(8, 10), String(rng.int(1, 999))])}`;
  if (shape === 'pinyin.pinyin') return `${f}${rng.pick(['.', '_'])}${g}`;
  return t.emailLocal(rng, name, birthDate);
}

// ---------- times ----------


/** Weights for 0..n-1 from counts keyed "0".."n-1"; null when the counts hold none. */
function slotWeights(counts: Counts | undefined, n: number): number[] | null {
  if (!counts) return null;
  const w = Array.from({ length: n }, (_, i) => counts.values[String(i)] ?? 0);
  return w.some((x) => x > 0) ? w : null;
}

function sampleBirth(rng: Random, opts: ProfileFamilyOptions, weekdays: number[], hoursOf: (weekday: number) => number[]): { ms: number; day: LocalDate } {
  const from = opts.birthFrom.getTime(), to = opts.birthTo.getTime();
  if (!(from <= to)) throw new Error('birthFrom must not be after birthTo');
  const first = dayNumber(localDay(from, opts.timeZone)), last = dayNumber(localDay(to, opts.timeZone));
  const maxWeekday = Math.max(...weekdays);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const n = rng.int(first, last);
    if (!rng.chance(weekdays[new Date(n * DAY_MS).getUTCDay()] / maxWeekday)) continue;
    const day = fromDayNumber(n);
    const hourTable = hoursOf(new Date(n * DAY_MS).getUTCDay()).map((w, h) => [h, w] as const).filter(([, w]) => w > 0);
    const ms = localTimeToUtc(day.y, day.m, day.d, rng.weighted(hourTable), rng.int(0, 59), opts.timeZone);
    if (ms >= from && ms <= to) return { ms, day };
  }
  const ms = from + Math.floor(rng.next() * (to - from + 1));
  return { ms, day: localDay(ms, opts.timeZone) };
}


// Rough median birth weight by completed week (both sexes), to give a gestational week consistent with
// a weight where the profile has no weeks.
const WEEK_BY_WEIGHT: [number, number][] = [[600, 24], [900, 26], [1200, 28], [1600, 30], [2000, 32], [2400, 34], [2700, 36], [3000, 37], [3250, 38], [3400, 39], [3550, 40], [3700, 41]];

/** A gestational week for a weight; without `rng`, the median week (no random draw). */
export function weeksForWeight(rng: Random | null, grams: number): number {
  let weeks = WEEK_BY_WEIGHT[0][1];
  for (const [w, wk] of WEEK_BY_WEIGHT) if (grams >= w) weeks = wk;
  const jitter = rng === null ? 0 : grams >= 3000 ? rng.int(-1, 2) : rng.int(-1, 1);
  return Math.max(22, Math.min(42, weeks + jitter));
}

// ---------- addresses ----------

/**
 * With the share of the slot's families whose word was too rare to keep (an estate of a few families),
 * a word no kept one is: the name of one kept word with the suffix of another (清潭 + 花园), so that the
 * canaries' estates are not all common ones. Null otherwise (draw a kept word).
 */
function rareWord(rng: Random, vocabulary: Counts | undefined, once: number | undefined, shape: RareShape | undefined): string | null {
  if (!vocabulary || vocabulary.total <= 0) return null;
  // Names with a suffix word (estates): recombined, by the share of words seen once (a young profile
  // leaves many words under k that the year makes common; new words for all of them are a tell).
  if (wordSuffix(drawKept(rng, vocabulary) ?? '')) {
    if (!rng.chance(Math.min(vocabulary.other, once ?? vocabulary.other) / vocabulary.total)) return null;
    for (let i = 0; i < 10; i++) {
      const a = wordSuffix(drawKept(rng, vocabulary) ?? ''), b = wordSuffix(drawKept(rng, vocabulary) ?? '');
      if (!a || !b) return null;
      const word = a.name + b.suffix;
      if (!(word in vocabulary.values)) return word;
    }
    return null;
  }
  // Names without one (hamlets 委前塘 beside a kept 委): the rare words' shape, by their whole share.
  return rng.chance(vocabulary.other / vocabulary.total) ? shapedWord(rng, shape, vocabulary) : null;
}

type RareShape = NonNullable<NonNullable<FamilyProfile['addresses']>['rareWords']>[string];

/**
 * A word of the slot's rare words' shape (a hamlet: 委 + 前 + 塘, each position's characters for the
 * length drawn), never one the district keeps; null without a shape.
 */
function shapedWord(rng: Random, shape: RareShape | undefined, vocabulary: Counts | undefined): string | null {
  if (!shape) return null;
  for (let i = 0; i < 10; i++) {
    const positions = shape.chars[drawKept(rng, shape.lengths) ?? ''];
    if (!positions) return null;
    const word = positions.map((c) => drawKept(rng, c) ?? '').join('');
    if (!vocabulary || !(word in vocabulary.values)) return word;
  }
  return null;
}

function profileAddress(rng: Random, t: LocaleTables, p: FamilyProfile, opts: ProfileFamilyOptions): Address {
  const a = p.addresses;
  // Only districts with a template kept (a young profile keeps few): a locale-table address is a tell.
  const usable = a ? Object.entries(a.districts.values).filter(([d, n]) => n > 0 && Object.values(a.byDistrict[d]?.templates.values ?? {}).some((x) => x > 0)) : [];
  const district = usable.length ? rng.weighted(usable) : null;
  const book = district !== null ? a!.byDistrict[district] : undefined;
  // A template with a slot no word can fill (a young profile's hamlets of the 路 kind, 委南巷) is drawn
  // again: the locale table's address (解放路12号) is the last resort, a tell.
  if (!a || district === null || !book) return t.address(rng, rng.pick(opts.districts));
  for (let attempt = 0; attempt < 10; attempt++) {
    const address = templateAddress(rng, a, district, book, opts.districts[0] ?? '');
    if (address) return address;
  }
  return t.address(rng, district || rng.pick(opts.districts));
}

function templateAddress(rng: Random, a: NonNullable<FamilyProfile['addresses']>, district: string, book: DistrictAddresses, fallbackDistrict: string): Address | null {
  const template = drawKept(rng, book.templates);
  if (template === null) return null;
  // The head (常州市, 江苏省常州市 or none) drawn apart from the body; an empty head is kept as ''.
  const head = book.heads ? (drawKept(rng, book.heads) ?? '') : '';
  let full = head;
  const parts = templateParts(template);
  for (const [i, part] of parts.entries()) {
    if ('literal' in part) full += part.literal;
    else if ('digits' in part) {
      // The hospital's own numbers for this unit and length (rooms 1102, buildings 1–45), else any digits.
      const next = parts[i + 1];
      const unit = numberUnit(next && 'literal' in next ? next.literal : next ? '?' : '');
      // A number ending the address (31-901) is a room: the rooms' numbers where its own are too rare.
      const numbers = unit === '$' && !Object.keys(a.numbers?.['$']?.values ?? {}).length ? a.numbers?.['室'] : a.numbers?.[unit];
      const fitting = numbers ? Object.entries(numbers.values).filter(([v, n]) => n > 0 && (part.digits === 0 || v.length === part.digits)) : [];
      const length = part.digits || rng.int(1, 2);
      full += fitting.length ? rng.weighted(fitting) : String(rng.int(1, 9)) + Array.from({ length: length - 1 }, () => rng.int(0, 9)).join('');
    }
    else {
      // The district's own word, else one of another district's (the slot's words were all too rare here).
      // A new word by the share of words seen once, else a kept word; a slot whose words are all too
      // rare here (hamlets 委前塘, an outside county's towns) a word of the rare words' shape, else
      // another district's word.
      // A name with no suffix (名村) keyed by the unit after its number: a hamlet before 组, 委 before 号.
      const keyed = slotKey(part.slot, parts.slice(i + 1).map((q) => ('literal' in q ? q.literal : 'slot' in q ? `{${q.slot}}` : q.digits ? '#'.repeat(q.digits) : '#*')).join(''));
      const key = keyed in book.vocabulary ? keyed : part.slot;
      let word = rareWord(rng, book.vocabulary[key], book.once ? (book.once[key] ?? 0) : undefined, a.rareWords?.[key]) ?? drawKept(rng, book.vocabulary[key]);
      if (word === null) {
        const others = Object.values(a.byDistrict).map((d) => d.vocabulary[key]).filter((c) => c && Object.keys(c.values).length);
        word = shapedWord(rng, a.rareWords?.[key], book.vocabulary[key]) ?? (others.length ? drawKept(rng, rng.pick(others)) : null);
      }
      if (word === null) return null;
      full += word;
    }
  }
  const body = full.slice(head.length);
  const street = district && body.startsWith(district) ? body.slice(district.length) : body;
  return { district: district || fallbackDistrict, street, full };
}

// ---------- the family ----------

export function generateFamilyFromProfile(rng: Random, opts: ProfileFamilyOptions, p: FamilyProfile): Family {
  const t = TABLES[opts.locale];
  if (opts.districts.length === 0) throw new Error('districts must not be empty');
  const wp = p.births?.byWard[opts.ward];
  const nicu = opts.nicu ?? false;

  const sexCode = drawKept(rng, wp?.sex);
  const sex: Sex = sexCode === 'male' || sexCode === 'female' ? sexCode : rng.chance(t.sexRatio / (1 + t.sexRatio)) ? 'male' : 'female';
  const mode = drawKept(rng, wp?.deliveryModes) ?? (rng.chance(t.caesareanRate) ? 'caesarean' : 'vaginal');
  const caesarean = mode === 'caesarean';

  const byMode = (m: Record<string, Counts> | undefined): Counts | undefined => (m ? (m[mode]?.total ? m[mode] : m.all) : undefined);
  const weekdays = slotWeights(byMode(p.births?.weekdays), 7) ?? [...t.weekdayWeights];
  const hours = slotWeights(byMode(p.births?.hours), 24) ?? [...t.hourWeights[caesarean ? 'caesarean' : 'vaginal']];
  // The day's own hours where the profile has them (working days or weekends), else the week's. An hour
  // with fewer than k births is not kept: those births (`other`) are shared among the hours not kept.
  const hoursOf = (weekday: number): number[] => {
    const day = p.births?.hoursByDay?.[`${mode}|${weekday === 0 || weekday === 6 ? 'weekend' : 'weekday'}`];
    const kept = day ? slotWeights(day, 24) : null;
    if (!day || !kept) return hours;
    const missing = kept.filter((w) => w === 0).length;
    return missing ? kept.map((w) => w || day.other / missing) : kept;
  };
  const { ms: birth, day: birthDay } = sampleBirth(rng, opts, weekdays, hoursOf);

  // Gestational week, and a weight consistent with it.
  const weekText = drawKept(rng, wp?.gestationWeeks);
  const weekQ = weekText !== null ? p.births?.weightByWeek?.[weekText] : undefined;
  let weightGrams: number;
  if (weekQ) weightGrams = drawQuantile(rng, weekQ);
  else if (wp?.weightGrams) weightGrams = drawQuantile(rng, wp.weightGrams);
  else {
    const { mean, sd, min, max } = nicu ? t.nicuWeight : t.birthWeight;
    weightGrams = truncatedNormal(rng, mean, sd, min, max + 1);
  }
  const step = p.births?.weightStep ?? 1;
  weightGrams = Math.max(step, Math.round(Math.max(300, Math.min(6500, weightGrams)) / step) * step);
  const gestationWeeks = weekText !== null ? Number(weekText) : weeksForWeight(rng, weightGrams);

  // Parents' ages.
  const motherExact = p.parents?.motherAge ? Math.max(15, Math.min(55, drawQuantile(rng, p.parents.motherAge))) : truncatedNormal(rng, t.motherAge.mean, t.motherAge.sd, t.motherAge.min, t.motherAge.max + 1);
  const fatherRecorded = rng.chance(p.relations?.fatherRecorded ?? t.fatherShare);
  const gap = t.fatherAgeGap;
  const fatherExact = !fatherRecorded
    ? null
    : p.parents?.fatherAgeGap
      ? Math.max(18, Math.min(75, motherExact + drawQuantile(rng, p.parents.fatherAgeGap)))
      : truncatedNormal(rng, motherExact + gap.mean, gap.sd, gap.minAge, gap.maxAge + 1);

  // Names.
  const taken = opts.takenNames;
  const clash = (full: string): boolean => taken?.conflicts(full) ?? false;
  const names = p.names;
  const motherName = profileName(rng, t, names?.mother, 'female', 'parent', clash);
  const fatherName = fatherExact === null ? null : profileName(rng, t, names?.father, 'male', 'parent', (full) => clash(full) || full === motherName.full);

  const placeholders = names?.babyPlaceholders;
  const namedBabies = names?.baby?.total ?? 0;
  const placeholderShare = wardShare(wp?.placeholders) ?? (placeholders ? placeholders.total / Math.max(1, placeholders.total + namedBabies) : names?.baby ? 0 : t.babyPlaceholderShare);
  let babyName: PersonName;
  if (rng.chance(placeholderShare)) {
    const template = pickPlaceholder(rng, placeholders, sex);
    const full = template !== null ? template.replace('{mother}', motherName.full) : t.fullName(motherName.family, t.babyPlaceholder(motherName, sex).given);
    babyName = { family: motherName.family, given: full.slice(motherName.family.length), full, latin: latinOf(full, t.locale, motherName.family) };
  } else {
    // The baby's surname: the father's, else the mother's, by the learned shares.
    const rel = p.relations;
    const fromFather = fatherName !== null && rng.chance(rel?.babySurnameFather ?? 1);
    const fromMother = !fromFather && (fatherName === null || rng.chance(rel ? Math.min(1, rel.babySurnameMother / Math.max(1e-9, 1 - rel.babySurnameFather)) : 1));
    const surname = fromFather ? fatherName.family : fromMother ? motherName.family : undefined;
    babyName = profileName(rng, t, names?.baby, sex, 'baby', () => false, surname);
  }

  // Phones and e-mail.
  const phones = p.phones;
  const mother: Parent = { name: motherName, ...birthDateAt(birthDay, motherExact), phone: rng.chance(phones?.present.mother ?? t.motherPhoneShare) ? opts.phone('mother') : null, email: null };
  let father: Parent | null = null;
  if (fatherName && fatherExact !== null) {
    const shares = mother.phone !== null && rng.chance(phones?.fatherSharesMother ?? 0);
    father = { name: fatherName, ...birthDateAt(birthDay, fatherExact), phone: shares ? mother.phone : rng.chance(phones?.present.father ?? t.fatherPhoneShare) ? opts.phone('father') : null, email: null };
  }
  for (const parent of [mother, father]) {
    if (!parent) continue;
    const role = parent === mother ? 'mother' : 'father';
    const present = p.email ? p.email.present[role] : role === 'mother' ? t.emailShare : 0;
    if (rng.chance(present)) {
      const domain = opts.emailDomain(rng);
      if (domain !== null) parent.email = `${emailLocal(rng, t, p.email?.shapes, parent.name, parent.birthDate)}@${domain}`;
    }
  }


  // Admission, stay and discharge.
  const birthHour = new Date(birth + zoneOffset(birth, opts.timeZone)).getUTCHours();
  const dayKind = [0, 6].includes(new Date(birth + zoneOffset(birth, opts.timeZone)).getUTCDay()) ? 'weekend' : 'weekday';
  const a2bOf = p.births?.admissionToBirthByHour;
  const a2b = a2bOf?.[`${mode}|${dayKind}|${birthHour}`] ?? a2bOf?.[`${mode}|${dayKind}|q${Math.floor(birthHour / 6)}`] ?? p.births?.admissionToBirthByMode?.[`${mode}|${Math.floor(birthHour / 6)}`] ?? p.births?.admissionToBirthHours;
  // The learned hours as they are: a minute drawn on top made every canary's stay before birth half an hour longer.
  const admittedAt = a2b ? birth - Math.max(0.5, drawQuantile(rng, a2b)) * 3_600_000 : birth - rng.int(2 * 60, 30 * 60) * 60_000;
  const stays = wp?.stayDays;
  const stayText = drawKept(rng, stays ? (stays[mode]?.total ? stays[mode] : stays.all) : undefined);
  const [lo, hi] = t.stayDays[nicu ? 'nicu' : caesarean ? 'caesarean' : 'vaginal'];
  const stay = stayText !== null ? Number(stayText) : rng.int(lo, hi);
  // The time of day: a kept ten-minute slot where the profile has them (the hour alone would put a
  // discharge at 11:50 where the hospital stops at 11:30, and its updated stamp into an hour it never writes), else the hour.
  const slot = drawKept(rng, p.births?.dischargeSlots);
  const dischargeHours = slotWeights(p.births?.dischargeHours, 24);
  const dHour = slot !== null ? Math.floor(Number(slot) / 6) : dischargeHours ? rng.weighted(dischargeHours.map((w, h) => [h, w] as const).filter(([, w]) => w > 0)) : rng.int(9, 16);
  const dMinute = slot !== null ? (Number(slot) % 6) * 10 + rng.int(0, 9) : rng.int(0, 59);
  const discharge = Math.max(birth + 3_600_000, localTimeToUtc(birthDay.y, birthDay.m, birthDay.d + stay, dHour, dMinute, opts.timeZone));

  const address = profileAddress(rng, t, p, opts);
  // ID numbers: a region from the profile's, the mother's as those of the mothers living in her
  // address's district are, else from the config's districts.
  const region = (): string => drawKept(rng, p.parents?.idRegions) ?? regionForDistricts(opts.districts, rng);
  mother.idNumber = idNumber(rng, drawKept(rng, p.addresses?.byDistrict[address.district]?.idRegions) ?? region(), mother.birthDate, 'female');
  if (father) father.idNumber = idNumber(rng, region(), father.birthDate, 'male');
  // The mother's ward, as this ward's babies' mothers are (a NICU baby's mother on an obstetric ward);
  // for a NICU whose mothers' wards are too few to keep yet, one of the other wards by their births.
  const otherWards = nicu ? Object.entries(p.wards.values).filter(([w, n]) => n > 0 && w !== opts.ward) : [];
  const motherWard = drawKept(rng, wp?.motherWards) ?? (otherWards.length ? rng.weighted(otherWards) : null);
  taken?.add(motherName.full, fatherName?.full);
  return {
    locale: opts.locale,
    mother,
    father,
    baby: { name: babyName, sex, birthTime: new Date(birth).toISOString(), weightGrams, gestationWeeks },
    hospital: opts.hospital,
    ward: opts.ward,
    ...(motherWard !== null && motherWard !== opts.ward ? { motherWard } : {}),
    admittedAt: new Date(admittedAt).toISOString(),
    dischargedAt: opts.now && discharge > opts.now.getTime() ? null : new Date(discharge).toISOString(),
    address,
    deliveryMode: mode,
  };
}

/**
 * The share of "1" in a ward's counts of "1"/"0" (placeholder names); null when neither is kept. A value
 * under k is in `other`: all of it when only the other one is kept.
 */
function wardShare(c: Counts | undefined): number | null {
  if (!c || c.total <= 0) return null;
  const yes = c.values['1'], no = c.values['0'];
  if (yes === undefined && no === undefined) return null;
  return ((yes ?? c.other) + (yes !== undefined && no === undefined ? c.other : 0)) / c.total;
}

/** A placeholder template that suits the baby's sex (之女 for a girl, 之子 for a boy), by the learned shares. */
function pickPlaceholder(rng: Random, placeholders: Counts | undefined, sex: Sex): string | null {
  if (!placeholders) return null;
  const wrong = sex === 'male' ? /女/ : /子/;
  const fitting = Object.entries(placeholders.values).filter(([v, n]) => n > 0 && !wrong.test(v));
  if (fitting.length === 0) return drawKept(rng, placeholders);
  return rng.weighted(fitting);
}
