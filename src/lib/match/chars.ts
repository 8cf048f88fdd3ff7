// Character classes the matcher works with, as plain code-unit tests. The scanner looks at every
// character of a leaked file once, so these are table look-ups and range checks, never regexes.

/** ASCII and full-width digits (０-９): their value, or -1. */
export function digitValue(c: number): number {
  if (c >= 0x30 && c <= 0x39) return c - 0x30;
  if (c >= 0xff10 && c <= 0xff19) return c - 0xff10;
  return -1;
}

/**
 * Characters brokers and data-protection rules put in place of a phone's digits. x and X only
 * count when they sit among digits (the phone scanner checks that), so words are not masks.
 */
export function isPhoneMask(c: number): boolean {
  return c === 0x2a /* * */ || c === 0x78 /* x */ || c === 0x58 /* X */ || c === 0x25cf /* ● */ ||
    c === 0xff0a /* ＊ */ || c === 0x2022 /* • */ || c === 0xd7 /* × */ || c === 0x2217; /* ∗ */
}

/**
 * Characters that may stand between the digit groups of one phone number: space, - . / ( ),
 * no-break and ideographic spaces, full-width dash, dot and parentheses, the Unicode dashes and
 * minus. Tab and comma are not: they separate fields, and a phone never spans two fields.
 */
export function isPhoneSeparator(c: number): boolean {
  switch (c) {
    case 0x20: case 0x2d: case 0x2e: case 0x2f: case 0x28: case 0x29:
    case 0xa0: case 0x3000: case 0xff0d: case 0xff0e: case 0xff08: case 0xff09: case 0x2212: case 0x30fc:
      return true;
    default:
      return c >= 0x2010 && c <= 0x2015;
  }
}

/**
 * Han characters as they occur in names: the unified ideographs, extension A, compatibility
 * ideographs, surrogates (rare name characters live in extension B and beyond; an emoji's
 * surrogates joining a run of characters does no harm, no canary name contains one), and the
 * middle dots of transcribed minority and foreign names (阿依古丽·买买提).
 */
export function isHan(c: number): boolean {
  return (c >= 0x4e00 && c <= 0x9fff) || (c >= 0x3400 && c <= 0x4dbf) || (c >= 0xf900 && c <= 0xfaff) ||
    (c >= 0xd800 && c <= 0xdfff) || c === 0xb7 || c === 0x30fb;
}

/** Characters that stand for one hidden character of a Chinese name (陈*丽, 陈某丽, 陈○丽). */
export function isNameMask(c: number): boolean {
  return c === 0x2a || c === 0xff0a || c === 0x78 || c === 0x58 || c === 0x25cb /* ○ */ ||
    c === 0x25ef /* ◯ */ || c === 0x25cf /* ● */ || c === 0xd7 || c === 0x67d0; /* 某 */
}

/** The common mask that is itself a Han character, so runs of characters include it anyway. */
export const MOU = 0x67d0;

/** Spaces that may pad a two-part Chinese name (王\u3000丽, 陈 丽华). */
export function isNameSpace(c: number): boolean {
  return c === 0x20 || c === 0xa0 || c === 0x3000;
}

// Latin letters fold to lowercase ASCII without diacritics, so that "Chén", "CHEN" and "che\u0301n"
// all read "chen". ü and its toned forms fold to v, the usual keyboard spelling of pinyin ü
// (canary keys add v, u and yu spellings for it). Combining marks fold to 0: part of the word,
// no letter of their own.
const FOLD = new Uint16Array(0x2000);
for (let c = 0x41; c <= 0x5a; c++) FOLD[c] = c + 0x20;
for (let c = 0x61; c <= 0x7a; c++) FOLD[c] = c;
for (let c = 0xc0; c < 0x2000; c++) {
  if (c === 0xd7 || c === 0xf7 || (c >= 0x250 && c < 0x300) || (c >= 0x370 && c < 0x1e00)) continue;
  if (c >= 0x300 && c < 0x370) continue; // combining marks: handled by isLatinLetter, fold to 0
  const ch = String.fromCharCode(c);
  if (/[üǖǘǚǜÜǕǗǙǛ]/.test(ch)) { FOLD[c] = 0x76; continue; }
  const base = ch.normalize('NFD').replace(/\p{M}/gu, '').toLowerCase();
  const b = base.charCodeAt(0);
  if (base.length >= 1 && b >= 0x61 && b <= 0x7a) FOLD[c] = b;
}

/** Letters of Latin words: ASCII, accented Latin (tone-marked pinyin) and combining marks. */
export function isLatinLetter(c: number): boolean {
  if (c < 0x80) return (c | 0x20) >= 0x61 && (c | 0x20) <= 0x7a;
  return c < 0x2000 && (FOLD[c] !== 0 || (c >= 0x300 && c < 0x370));
}

/** Lowercase ASCII letter for a Latin letter, 0 for a combining mark. */
export function foldLetter(c: number): number {
  return c < 0x2000 ? FOLD[c] : 0;
}

const LOWER = 'abcdefghijklmnopqrstuvwxyz'.split('');

/** The letters of `text`, folded, with everything else (spaces, tone digits, hyphens) dropped. */
export function foldLatin(text: string): string {
  let out = '';
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x2000 && FOLD[c] !== 0) out += LOWER[FOLD[c] - 0x61];
  }
  return out;
}

/**
 * Characters allowed between the words of one name: space, hyphen, apostrophes, dot, comma
 * ("Smith, John"), middle dot, underscore, tab and quote (family and given name in adjacent
 * CSV/TSV columns are still one name).
 */
export function isNameSeparator(c: number): boolean {
  switch (c) {
    case 0x20: case 0x2d: case 0x27: case 0x2019: case 0x2018: case 0x2e: case 0x2c: case 0xb7:
    case 0x5f: case 0x09: case 0x22: case 0xa0: case 0x3000: case 0x30fb:
      return true;
    default:
      return false;
  }
}

/** Separators inside one field: space, hyphen, apostrophes, middle dot, underscore (not comma, tab, quote, dot). */
export function isWordSeparator(c: number): boolean {
  return c === 0x20 || c === 0x2d || c === 0x27 || c === 0x2019 || c === 0xb7 || c === 0x5f || c === 0xa0 || c === 0x3000 || c === 0x30fb;
}

/** A pinyin tone number (chen2, li4hua2): 0-5 right after a syllable. */
export function isToneDigit(c: number): boolean {
  return c >= 0x30 && c <= 0x35;
}

/** Characters of an e-mail address's local part (the common unquoted ones). */
export function isEmailLocal(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) ||
    c === 0x2e || c === 0x5f || c === 0x25 || c === 0x2b || c === 0x2d;
}

/** Characters of an e-mail domain. */
export function isEmailDomain(c: number): boolean {
  return (c >= 0x61 && c <= 0x7a) || (c >= 0x41 && c <= 0x5a) || (c >= 0x30 && c <= 0x39) || c === 0x2e || c === 0x2d;
}

/**
 * Polynomial rolling hash step over 32 bits: the hash behind the Bloom filters of names. Being
 * polynomial, the hash of a word can be appended to a running hash in one step
 * (h·Pᴸ + word), which lets the Latin matcher fold each word once however many candidates
 * continue through it.
 */
export const HASH_P = 0x01000193;
/**
 * Math.imul, read once: under a vm context (Jest) every read of a global such as Math goes through
 * an interceptor, which made the hash several times slower than the rest of the scan.
 */
export const imul = Math.imul;
export function mix(h: number, c: number): number {
  return (imul(h, HASH_P) + c) | 0;
}
export const HASH_SEED = 0;
/** HASH_P to the power i, for i < 256. */
export const HASH_POW = new Int32Array(256);
HASH_POW[0] = 1;
for (let i = 1; i < HASH_POW.length; i++) HASH_POW[i] = Math.imul(HASH_POW[i - 1], HASH_P);

/** Classes of ASCII characters for the scanner's dispatch: one table look-up per character. */
export const ASCII_OTHER = 0, ASCII_DIGIT = 1, ASCII_LETTER = 2, ASCII_AT = 3, ASCII_STAR = 4;
export const ASCII_CLASS = new Uint8Array(128);
for (let c = 0x30; c <= 0x39; c++) ASCII_CLASS[c] = ASCII_DIGIT;
for (let c = 0x41; c <= 0x5a; c++) ASCII_CLASS[c] = ASCII_CLASS[c + 0x20] = ASCII_LETTER;
ASCII_CLASS[0x40] = ASCII_AT;
ASCII_CLASS[0x2a] = ASCII_STAR;

const GOLDEN = 0x9e3779b1 | 0;

/**
 * A one-probe Bloom filter over 32-bit hashes. The scanner asks it before building any string,
 * so the common case (no canary here) allocates nothing; a false positive costs one Map look-up.
 */
/**
 * Bits (log2) for a filter of at most `max`, or, for a matcher of a known few canaries (`canaries`),
 * enough to hold them with `perCanary` more bits of headroom (log2; at least 2^12): a filter of a few
 * canaries' keys costs kilobytes to clear, not megabytes. A smaller filter only says "maybe" more often.
 */
export function fitBits(max: number, canaries: number | undefined, perCanary: number): number {
  if (canaries === undefined) return max;
  return Math.min(max, Math.max(12, Math.ceil(Math.log2(canaries + 1)) + perCanary));
}

export class BitFilter {
  private readonly bits: Uint32Array;
  private readonly shift: number;

  constructor(log2Bits: number) {
    this.bits = new Uint32Array(Math.max(1, (1 << log2Bits) >>> 5));
    this.shift = 32 - log2Bits;
  }

  add(h: number): void {
    const i = imul(h, GOLDEN) >>> this.shift; // multiply first: a polynomial hash's low bits are weak for short keys
    this.bits[i >>> 5] |= 1 << (i & 31);
  }

  has(h: number): boolean {
    const i = imul(h, GOLDEN) >>> this.shift;
    return (this.bits[i >>> 5] & (1 << (i & 31))) !== 0;
  }
}
