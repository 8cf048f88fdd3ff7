// One fake newborn family, drawn from the locale's tables. Pure: every random choice comes from
// `rng`, and phones and e-mail domains come from the caller (they must be trap-pool resources).
import type { Family, FamilyProfile, Parent, PersonName, Sex } from '../../domain/index.js';
import type { LocaleTables } from './locale.js';
import { latinOf, NameIndex, withinOneEdit } from './names.js';
import { generateFamilyFromProfile, localeTables, weeksForWeight, type ProfileFamilyOptions } from './profile-family.js';
import { truncatedNormal, type Random } from './random.js';
import { birthDateAt, dayNumber, fromDayNumber, localDay, localTimeToUtc, type LocalDate } from './zone.js';

export interface FamilyOptions extends ProfileFamilyOptions {
  /**
   * The hospital's learned family profile: when given, the family is drawn from it (see
   * profile-family.ts), the locale tables filling in only what it cannot say.
   */
  profile?: FamilyProfile;
}

/** The fallback guess of a NICU from its name, when the caller does not say (opts.nicu). */
export const NICU_WARD = /NICU|新生儿重症/i;

const DAY_MS = 86_400_000;
const MAX_REDRAWS = 200;
/** After this many popularity-weighted redraws, draw uniformly: crowded surnames exhaust the common names. */
const WEIGHTED_REDRAWS = 50;

const localDate = (instant: Date, timeZone: string): LocalDate => localDay(instant.getTime(), timeZone);
const iso = (ms: number): string => new Date(ms).toISOString();

/** Local day numbers of the range's ends, memoised: generation calls this with the same range in a loop. */
let lastRange = { key: '', first: 0, last: 0 };
function rangeDays(opts: FamilyOptions): { first: number; last: number } {
  const key = `${opts.birthFrom.getTime()}|${opts.birthTo.getTime()}|${opts.timeZone}`;
  if (lastRange.key !== key) {
    lastRange = { key, first: dayNumber(localDate(opts.birthFrom, opts.timeZone)), last: dayNumber(localDate(opts.birthTo, opts.timeZone)) };
  }
  return lastRange;
}

/**
 * A local day weighted by weekday (rejection sampling: O(1) whatever the range), then an hour by
 * the hour weights. Returns the instant and the local day it was drawn for.
 */
function sampleBirth(rng: Random, t: LocaleTables, opts: FamilyOptions, caesarean: boolean): { ms: number; day: LocalDate } {
  const from = opts.birthFrom.getTime(), to = opts.birthTo.getTime();
  if (!(from <= to)) throw new Error('birthFrom must not be after birthTo');
  const { first, last } = rangeDays(opts);
  const maxWeekday = Math.max(...t.weekdayWeights);
  const hours = t.hourWeights[caesarean ? 'caesarean' : 'vaginal'].map((w, h) => [h, w] as const);
  for (let attempt = 0; attempt < 1000; attempt++) {
    const n = rng.int(first, last);
    if (!rng.chance(t.weekdayWeights[new Date(n * DAY_MS).getUTCDay()] / maxWeekday)) continue;
    const day = fromDayNumber(n);
    const ms = localTimeToUtc(day.y, day.m, day.d, rng.weighted(hours), rng.int(0, 59), opts.timeZone);
    if (ms >= from && ms <= to) return { ms, day }; // the first and last local days are only partly in range
  }
  // A range of minutes has no weekday or hour shape to keep.
  const ms = from + Math.floor(rng.next() * (to - from + 1));
  return { ms, day: localDate(new Date(ms), opts.timeZone) };
}

function personName(t: LocaleTables, family: string, given: string): PersonName {
  const full = t.fullName(family, given);
  return { family, given, full, latin: latinOf(full, t.locale, family) };
}

/** A parent's name with this surname, redrawing the given name while it is taken. */
function parentName(rng: Random, t: LocaleTables, family: string, sex: Sex, clash: (full: string) => boolean): PersonName {
  const sampler = t.given[sex].parent;
  for (let i = 0; i < MAX_REDRAWS; i++) {
    const name = personName(t, family, i < WEIGHTED_REDRAWS ? sampler.sample(rng) : sampler.rare(rng));
    if (!clash(name.full)) return name;
  }
  throw new Error(
    `could not find a ${sex} ${t.locale} name with surname ${family} that is not within one edit of a taken name after ${MAX_REDRAWS} draws`,
  );
}


export function generateFamily(rng: Random, opts: FamilyOptions): Family {
  if (opts.profile) return generateFamilyFromProfile(rng, { ...opts, nicu: opts.nicu ?? NICU_WARD.test(opts.ward) }, opts.profile);
  const t = localeTables(opts.locale);
  if (opts.districts.length === 0) throw new Error('districts must not be empty');
  const nicu = opts.nicu ?? NICU_WARD.test(opts.ward);
  const sex: Sex = rng.chance(t.sexRatio / (1 + t.sexRatio)) ? 'male' : 'female';
  const caesarean = rng.chance(t.caesareanRate);
  const { ms: birth, day: birthDay } = sampleBirth(rng, t, opts, caesarean);

  const { mean, sd, min, max } = nicu ? t.nicuWeight : t.birthWeight;
  const weightGrams = Math.round(truncatedNormal(rng, mean, sd, min, max + 1));

  // Ages are drawn as exact (fractional) years so that birth dates spread over the whole year.
  const ma = t.motherAge;
  const motherExact = truncatedNormal(rng, ma.mean, ma.sd, ma.min, ma.max + 1);
  const gap = t.fatherAgeGap;
  const fatherExact = rng.chance(t.fatherShare)
    ? truncatedNormal(rng, motherExact + gap.mean, gap.sd, gap.minAge, gap.maxAge + 1)
    : null;

  const taken = opts.takenNames;
  const fatherFamily = fatherExact === null ? null : t.surnames.sample(rng);
  const motherFamily = fatherFamily !== null && rng.chance(t.sharedSurnameShare) ? fatherFamily : t.surnames.sample(rng);
  const motherName = parentName(rng, t, motherFamily, 'female', (full) => taken?.conflicts(full) ?? false);
  const fatherName = fatherFamily === null
    ? null
    : parentName(rng, t, fatherFamily, 'male', (full) => (taken?.conflicts(full) ?? false) || withinOneEdit(full, motherName.full));

  const mother: Parent = {
    name: motherName,
    ...birthDateAt(birthDay, motherExact),
    phone: rng.chance(t.motherPhoneShare) ? opts.phone('mother') : null,
    email: null,
  };
  const father: Parent | null = fatherName === null || fatherExact === null
    ? null
    : {
        name: fatherName,
        ...birthDateAt(birthDay, fatherExact),
        phone: rng.chance(t.fatherPhoneShare) ? opts.phone('father') : null,
        email: null,
      };
  if (rng.chance(t.emailShare)) {
    const domain = opts.emailDomain(rng);
    if (domain !== null) mother.email = `${t.emailLocal(rng, mother.name, mother.birthDate)}@${domain}`;
  }

  const babyName = rng.chance(t.babyPlaceholderShare)
    ? t.babyPlaceholder(motherName, sex)
    : { family: father?.name.family ?? motherName.family, given: t.given[sex].baby.sample(rng) };

  const admittedAt = birth - rng.int(2 * 60, 30 * 60) * 60_000;
  const [lo, hi] = t.stayDays[nicu ? 'nicu' : caesarean ? 'caesarean' : 'vaginal'];
  const discharge = localTimeToUtc(birthDay.y, birthDay.m, birthDay.d + rng.int(lo, hi), rng.int(9, 16), rng.int(0, 59), opts.timeZone);

  const address = t.address(rng, rng.pick(opts.districts));
  taken?.add(motherName.full, fatherName?.full);
  return {
    locale: opts.locale,
    mother,
    father,
    // gestationWeeks and deliveryMode take no random draw, so seeded families stay as they were.
    baby: { name: personName(t, babyName.family, babyName.given), sex, birthTime: iso(birth), weightGrams, gestationWeeks: weeksForWeight(null, weightGrams) },
    hospital: opts.hospital,
    ward: opts.ward,
    admittedAt: iso(admittedAt),
    dischargedAt: opts.now && discharge > opts.now.getTime() ? null : iso(discharge),
    address,
    deliveryMode: caesarean ? 'caesarean' : 'vaginal',
  };
}

/** Several families sharing one name index, so that none is within one edit of another. */
export function generateFamilies(rng: Random, opts: FamilyOptions, count: number): Family[] {
  const withIndex = { ...opts, takenNames: opts.takenNames ?? new NameIndex() };
  return Array.from({ length: count }, () => generateFamily(rng, withIndex));
}
