// The shape every locale's tables take, and small helpers to write those tables as compact data.
import type { Address, Locale, PersonName, Sex } from '../../domain/index.js';
import { weightedTable, type Random, type WeightedTable } from './random.js';

export interface Sampler<T> {
  sample(rng: Random): T;
}

/** A name sampler with a flattened variant for when the usual names are all taken. */
export interface NameSampler extends Sampler<string> {
  /** Uniform over the whole inventory, ignoring popularity. */
  rare(rng: Random): string;
}

export interface Bounded {
  mean: number;
  sd: number;
  /** Inclusive lower bound. */
  min: number;
  /** Upper bound. For ages, the last whole year allowed (exact age < max + 1). */
  max: number;
}

export interface LocaleTables {
  locale: Locale;
  /** Every character a generated name can hold, beyond ASCII. */
  nameCharacters?: string;
  surnames: WeightedTable<string>;
  /** Given names for the parents' generation and for babies born now. */
  given: Record<Sex, { parent: NameSampler; baby: Sampler<string> }>;
  /** The name as written in full, in the locale's order. */
  fullName(family: string, given: string): string;
  /** Males per female at birth. */
  sexRatio: number;
  motherAge: Bounded;
  /** Father's age = mother's + normal(mean, sd), redrawn until at least minAge. */
  fatherAgeGap: { mean: number; sd: number; minAge: number; maxAge: number };
  birthWeight: Bounded;
  nicuWeight: Bounded;
  caesareanRate: number;
  /** Length of stay in whole days, [min, max] inclusive. */
  stayDays: Record<'vaginal' | 'caesarean' | 'nicu', readonly [number, number]>;
  /** Relative births per local hour 0..23, by mode of delivery. */
  hourWeights: Record<'vaginal' | 'caesarean', readonly number[]>;
  /** Relative births per local weekday, Sunday first. */
  weekdayWeights: readonly number[];
  motherPhoneShare: number;
  fatherShare: number;
  /** Among families with a father recorded. */
  fatherPhoneShare: number;
  /** Among families with a father recorded: the mother is recorded under his surname. */
  sharedSurnameShare: number;
  emailShare: number;
  /** A plausible mailbox name for this person (no domain). */
  emailLocal(rng: Random, name: PersonName, birthDate: string): string;
  address(rng: Random, district: string): Address;
  /** Share of newborns recorded under a placeholder name, and that placeholder. */
  babyPlaceholderShare: number;
  babyPlaceholder(mother: PersonName, sex: Sex): { family: string; given: string };
}

/** Parses "name weight name weight …" (whitespace separated) into table entries. */
export function pairs(text: string): [string, number][] {
  const tokens = text.trim().split(/\s+/);
  if (tokens.length % 2 !== 0) throw new Error(`odd number of tokens in weight list near "${tokens.at(-1)}"`);
  const out: [string, number][] = [];
  for (let i = 0; i < tokens.length; i += 2) {
    const w = Number(tokens[i + 1]);
    if (!Number.isFinite(w)) throw new Error(`bad weight "${tokens[i + 1]}" for ${tokens[i]}`);
    out.push([tokens[i], w]);
  }
  return unique(out);
}

/**
 * Parses weight tiers of single characters, heaviest first: [[10, '丽婷静'], [5, '…']]. A
 * character listed again in a lighter tier keeps its first (heavier) weight, so long hand-kept
 * tiers can be extended without hunting for repeats.
 */
export function tiers(list: readonly (readonly [number, string])[]): [string, number][] {
  const weights = new Map<string, number>();
  for (const [w, chars] of list) for (const c of chars.replace(/\s+/g, '')) if (!weights.has(c)) weights.set(c, w);
  return [...weights];
}

/** Words as a Zipf-like tail: the i-th word weighs first * (last/first)^(i/(n-1)). */
export function tail(words: string, first: number, last: number): [string, number][] {
  const list = words.trim().split(/\s+/);
  const ratio = list.length > 1 ? (last / first) ** (1 / (list.length - 1)) : 1;
  return unique(list.map((w, i): [string, number] => [w, first * ratio ** i]));
}

/** Duplicates in hand-written tables are typos; fail at load rather than skew the shares. */
function unique(entries: [string, number][]): [string, number][] {
  const seen = new Set<string>();
  for (const [item] of entries) {
    if (seen.has(item)) throw new Error(`duplicate table entry ${item}`);
    seen.add(item);
  }
  return entries;
}

/**
 * Chinese given names built from characters: one character with probability `singleShare`
 * (drawn from the second-position table, where single names' characters live), otherwise a
 * first-position character followed by a second-position one.
 */
export function characterNames(
  singleShare: number,
  first: readonly (readonly [string, number])[],
  second: readonly (readonly [string, number])[],
): NameSampler {
  const a = weightedTable(first), b = weightedTable(second);
  const flatA = a.items, flatB = b.items;
  return {
    sample: (rng) => (rng.chance(singleShare) ? b.sample(rng) : a.sample(rng) + b.sample(rng)),
    rare: (rng) => (rng.chance(singleShare) ? rng.pick(flatB) : rng.pick(flatA) + rng.pick(flatB)),
  };
}

/** Whole given names (en-US style) from a frequency table. */
export function wholeNames(entries: readonly (readonly [string, number])[]): NameSampler {
  const table = weightedTable(entries);
  return { sample: (rng) => table.sample(rng), rare: (rng) => rng.pick(table.items) };
}

export const pad2 = (n: number): string => String(n).padStart(2, '0');
