// Names in Latin letters: pinyin of Chinese names and en-US names. The scanner hands over each
// word (a maximal run of letters); words joined only by name separators (space, hyphen, comma,
// apostrophe, a pinyin tone digit...) may form one name. A name matches when the folded letters
// of consecutive whole words equal one of its keys, so:
//   "Chen Lihua", "CHENLIHUA", "Chen Li-hua", "chen2 li4hua2", "Chén Lìhuá", "Lihua Chen" → chenlihua / lihuachen
//   "chenlingfeng" contains chenli but is one word longer than it → no match.
// A one-letter word may be skipped once (a middle initial: "John Q. Smith"), and a name written as
// one word must stand alone in its field ("Zhao Hehui" does not hold He Hui).
// Matching is streaming: a few "active" candidate starts carry a rolling hash over the words
// since they began, and die as soon as a Bloom filter of key prefixes says no key starts that way.
// Strings are built only when the key filter says a whole key is probably there.
import type { PersonName } from '../../domain/index.js';
import { BitFilter, fitBits, foldLatin, foldLetter, HASH_POW, HASH_SEED, imul, isLatinLetter, isNameSeparator, isToneDigit, isWordSeparator, mix } from './chars.js';
import type { Hit } from './types.js';

interface LatinEntry {
  canaryId: string;
  full: string;
  kind: 'name' | 'name-pinyin';
}

/** Keys shorter than this ("lina", "wuyi" are fine; "eyi" is not) match too much text to be worth it. */
const MIN_KEY = 4;
/** Words between two words of one name: at most three characters, all separators (a tone digit first). */
const MAX_GAP = 3;
const MAX_ACTIVE = 8;

function pushTo(map: Map<string, LatinEntry[]>, key: string, entry: LatinEntry): void {
  const list = map.get(key);
  if (!list) map.set(key, [entry]);
  else if (!list.some((e) => e.canaryId === entry.canaryId && e.full === entry.full)) list.push(entry);
}

/**
 * Pinyin spellings of ü after l and n: the canary's latin writes it yu as on passports (Lyu);
 * leaks write lü (folded to lv), lv or lu.
 */
function yuVariants(key: string): string[] {
  if (!/[ln]yu/.test(key)) return [key];
  return [key, key.replace(/([ln])yu/g, '$1v'), key.replace(/([ln])yu/g, '$1u')];
}

/**
 * The keys of a name: family-first and given-first, letters only, folded. zh-CN names take the
 * pinyin in `latin` (family first, "Chen Lihua"); others take family and given as written.
 */
export function latinKeys(name: PersonName, pinyin: boolean): string[] {
  let family: string, given: string;
  if (pinyin) {
    const words = name.latin.trim().split(/\s+/);
    family = foldLatin(words[0] ?? '');
    given = foldLatin(words.slice(1).join(''));
  } else {
    family = foldLatin(name.family);
    given = foldLatin(name.given);
  }
  if (family === '' || given === '') return [];
  const keys = new Set([...yuVariants(family + given), ...yuVariants(given + family)]);
  return [...keys].filter((k) => k.length >= MIN_KEY);
}

export class LatinNameIndex {
  private readonly keys = new Map<string, LatinEntry[]>();
  private readonly keyFilter: BitFilter;
  private readonly prefixFilter: BitFilter;
  private maxKey = 0;

  // Streaming state for the record being scanned.
  private readonly actStart = new Int32Array(MAX_ACTIVE);
  private readonly actHash = new Int32Array(MAX_ACTIVE);
  private readonly actLength = new Int32Array(MAX_ACTIVE);
  /** The middle initial a candidate skipped, or -1. */
  private readonly actSkipStart = new Int32Array(MAX_ACTIVE);
  private readonly actSkipEnd = new Int32Array(MAX_ACTIVE);
  // Candidates copied before a middle initial.
  private readonly skipStart = new Int32Array(MAX_ACTIVE);
  private readonly skipHash = new Int32Array(MAX_ACTIVE);
  private readonly skipLength = new Int32Array(MAX_ACTIVE);
  private active = 0;
  private previousEnd = -1;

  /** `canaries`: size the filters to this few (fitBits); default as for any number. */
  constructor(canaries?: number) {
    this.keyFilter = new BitFilter(fitBits(22, canaries, 10));
    this.prefixFilter = new BitFilter(fitBits(24, canaries, 14));
  }

  get size(): number {
    return this.keys.size;
  }

  add(canaryId: string, name: PersonName, pinyin: boolean): void {
    const entry: LatinEntry = { canaryId, full: name.full, kind: pinyin ? 'name-pinyin' : 'name' };
    for (const key of latinKeys(name, pinyin)) {
      if (key.length >= HASH_POW.length) continue; // not a name
      pushTo(this.keys, key, entry);
      let h = HASH_SEED;
      for (let i = 0; i < key.length; i++) {
        h = mix(h, key.charCodeAt(i));
        this.prefixFilter.add(h);
      }
      this.keyFilter.add(h);
      this.maxKey = Math.max(this.maxKey, key.length);
    }
  }

  /** Forget the words of the previous record. */
  reset(): void {
    this.active = 0;
    this.previousEnd = -1;
  }

  /** The next word, text[start, end): extends the candidates that may continue through it. */
  word(text: string, start: number, end: number, hits: Hit[]): void {
    if (this.keys.size === 0) return;
    const previousEnd = this.previousEnd;
    if (this.active > 0 && !joinable(text, previousEnd, start, isNameSeparator)) this.active = 0;
    this.previousEnd = end;
    // Fold the word once: its hash, appended to each candidate's as h·Pᴸ + word.
    let wordHash = HASH_SEED, letters = 0;
    for (let i = start; i < end; i++) {
      const f = foldLetter(text.charCodeAt(i));
      if (f !== 0) {
        wordHash = mix(wordHash, f);
        letters++;
      }
    }
    if (letters > this.maxKey) { // longer than any name
      this.active = 0;
      return;
    }
    // A middle initial (John Q. Smith): candidates that began before it may also go on without it.
    const skips = letters === 1 ? this.skippable() : 0;
    if (this.active < MAX_ACTIVE) this.begin(this.active++, start, HASH_SEED, 0, -1, -1);
    const power = HASH_POW[letters];
    let kept = 0;
    for (let a = 0; a < this.active; a++) {
      const h = (imul(this.actHash[a], power) + wordHash) | 0;
      const length = this.actLength[a] + letters;
      if (length > this.maxKey || !this.prefixFilter.has(h)) continue; // no key goes on like this
      if (length >= MIN_KEY && this.keyFilter.has(h) && (this.actStart[a] < start || this.isolated(text, previousEnd, start, end))) {
        this.lookup(text, a, end, hits);
      }
      this.begin(kept++, this.actStart[a], h, length, this.actSkipStart[a], this.actSkipEnd[a]);
    }
    for (let k = 0; k < skips && kept < MAX_ACTIVE; k++) {
      this.begin(kept++, this.skipStart[k], this.skipHash[k], this.skipLength[k], start, end);
    }
    this.active = kept;
  }

  private begin(a: number, start: number, hash: number, length: number, skipStart: number, skipEnd: number): void {
    this.actStart[a] = start;
    this.actHash[a] = hash;
    this.actLength[a] = length;
    this.actSkipStart[a] = skipStart;
    this.actSkipEnd[a] = skipEnd;
  }

  /** Copies the candidates that may skip the initial, before they take it in; returns how many. */
  private skippable(): number {
    let n = 0;
    for (let a = 0; a < this.active; a++) {
      if (this.actLength[a] === 0 || this.actSkipStart[a] >= 0) continue; // nothing before it, or skipped one already
      this.skipStart[n] = this.actStart[a];
      this.skipHash[n] = this.actHash[a];
      this.skipLength[n] = this.actLength[a];
      n++;
    }
    return n;
  }

  /**
   * A name written as one word (CHENLIHUA) counts only when no word is joined to it by a space or
   * hyphen: in "Zhao Hehui" the word Hehui is a given name, not He Hui. Commas, tabs and quotes
   * end a field, so "CHENLIHUA,Nanjing" still counts.
   */
  private isolated(text: string, previousEnd: number, start: number, end: number): boolean {
    if (previousEnd >= 0 && joinable(text, previousEnd, start, isWordSeparator)) return false;
    let i = end;
    if (i < text.length && isToneDigit(text.charCodeAt(i))) i++;
    while (i < text.length && i - end < MAX_GAP && isWordSeparator(text.charCodeAt(i))) i++;
    return !(i > end && i < text.length && isLatinLetter(text.charCodeAt(i)));
  }

  private lookup(text: string, a: number, end: number, hits: Hit[]): void {
    const start = this.actStart[a], skipStart = this.actSkipStart[a];
    const matched = text.slice(start, end);
    const key = skipStart < 0 ? foldLatin(matched) : foldLatin(text.slice(start, skipStart)) + foldLatin(text.slice(this.actSkipEnd[a], end));
    const entries = this.keys.get(key);
    if (!entries) return;
    for (const entry of entries) hits.push({ canaryId: entry.canaryId, kind: entry.kind, matched, start, end, value: entry.full, whole: true });
  }
}

/** True when text[from, to) may stand between two words of one name (separators as `separator` says). */
function joinable(text: string, from: number, to: number, separator: (c: number) => boolean): boolean {
  const gap = to - from;
  if (gap <= 0 || gap > MAX_GAP) return false;
  let i = from, fields = 0;
  if (isToneDigit(text.charCodeAt(i))) i++; // chen2 li4hua2
  for (; i < to; i++) {
    const c = text.charCodeAt(i);
    if (!separator(c)) return false;
    if (c === 0x2c || c === 0x09) fields++;
  }
  return fields <= 1; // "Chen,Lihua" is two adjacent fields; "Lee,,Robert" skips an empty one
}
