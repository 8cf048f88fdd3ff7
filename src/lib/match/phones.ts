// Phone numbers in free text. The scanner hands over each "digit group": digits (ASCII or
// full-width) in chunks joined by at most three separator characters (138 1234 5678,
// +86-138-1234-5678, (415) 555-2671). A canary's national number matches when it starts at the
// start of a chunk, or after a country/trunk prefix inside that chunk (8613812345678), and ends
// at the end of a chunk: so 913812345678 and 138123456789 do not match 13812345678, while
// "tel:13812345678;" and "13812345678 / 13912345678" do. Candidates are checked only at chunk
// ends, against numeric keys, so the cost per record does not depend on the number of canaries.
//
// The group's items live in a 32-slot ring buffer: a candidate never spans more than
// 4 prefix + 14 national digits, and a 50 MB line of digits must not grow an array.
import { BitFilter, digitValue, fitBits, isLatinLetter, isPhoneMask, isPhoneSeparator } from './chars.js';
import type { Hit } from './types.js';

interface PhoneEntry {
  canaryId: string;
  e164: string;
  countryCode: string;
  national: string;
  /** What may precede the national number inside the same chunk: 86, 0086, and the trunk 0. */
  joinedPrefixes: readonly string[];
}

const RING = 32;
const MASK_ITEM = 10;
/** Longest national number we index: E.164 allows 15 digits including the country code. */
const MAX_NATIONAL = 14;
/** A mask run longer than this is decoration (********), not a hidden part of a phone. */
const MAX_MASK_RUN = 8;
/** Numeric keys: length in the high part so that 0251234567 and 251234567 differ. */
const LENGTH_FACTOR = 1e14;

// ITU-T E.164 country codes are prefix-free: the one- and two-digit codes are listed, every other
// code has three digits. Enough to split an E.164 number without libphonenumber's metadata.
const ONE_DIGIT = new Set(['1', '7']);
const TWO_DIGIT = new Set(
  ('20 27 30 31 32 33 34 36 39 40 41 43 44 45 46 47 48 49 51 52 53 54 55 56 57 58 60 61 62 63 64 65 66 ' +
    '81 82 84 86 90 91 92 93 94 95 98').split(' '),
);

/** Splits an E.164 number into country code and national number. */
export function splitE164(e164: string): { countryCode: string; national: string } {
  const digits = e164.replace(/[^0-9]/g, '');
  if (!e164.trim().startsWith('+')) return { countryCode: '', national: digits };
  const cc = ONE_DIGIT.has(digits.slice(0, 1)) ? digits.slice(0, 1)
    : TWO_DIGIT.has(digits.slice(0, 2)) ? digits.slice(0, 2)
    : digits.slice(0, 3);
  return { countryCode: cc, national: digits.slice(cc.length) };
}

function pushTo<K>(map: Map<K, PhoneEntry[]>, key: K, entry: PhoneEntry): void {
  const list = map.get(key);
  if (!list) map.set(key, [entry]);
  else if (!list.some((e) => e.canaryId === entry.canaryId && e.e164 === entry.e164)) list.push(entry);
}

export class PhoneIndex {
  /** National number → entries. */
  private readonly exact = new Map<number, PhoneEntry[]>();
  /** The exact keys' low 32 bits: a Map look-up with a double key costs more than a bit test. */
  private readonly exactFilter: BitFilter;
  /** prefix3 × 10⁴ + suffix4 → entries: the broker form 138****5678, one look-up. */
  private readonly middle = new Map<number, PhoneEntry[]>();
  /** Length and the digits before four trailing masks (1381234****) → entries. */
  private readonly tail = new Map<number, PhoneEntry[]>();
  /** National lengths present, ascending. */
  private lengths: number[] = [];
  private minLength = Infinity;

  // Ring buffer of the current group: digit value (or MASK_ITEM), text offset, and the index of
  // the first item of the item's chunk. Indices are absolute within the group.
  private readonly val = new Int8Array(RING);
  private readonly off = new Int32Array(RING);
  private readonly chunk = new Int32Array(RING);

  /** `canaries`: size the filters to this few (fitBits); default as for any number. */
  constructor(canaries?: number) {
    this.exactFilter = new BitFilter(fitBits(20, canaries, 8));
  }

  get size(): number {
    return this.exact.size;
  }

  add(canaryId: string, e164: string): void {
    const { countryCode, national } = splitE164(e164);
    if (national.length < 7 || national.length > MAX_NATIONAL) return; // not a dialable number: nothing to find
    const joinedPrefixes = countryCode === '' ? [] : [countryCode, `00${countryCode}`, ...(countryCode === '1' ? [] : ['0'])];
    const entry: PhoneEntry = { canaryId, e164, countryCode, national, joinedPrefixes };
    const L = national.length;
    const key = L * LENGTH_FACTOR + Number(national);
    pushTo(this.exact, key, entry);
    this.exactFilter.add(key >>> 0);
    // Masked forms hide at least three digits and leave at least six visible: shorter numbers
    // would reveal too little to be worth a look-up.
    if (L >= 10) {
      pushTo(this.middle, Number(national.slice(0, 3)) * 1e4 + Number(national.slice(-4)), entry);
      pushTo(this.tail, L * LENGTH_FACTOR + Number(national.slice(0, L - 4)), entry);
    }
    if (!this.lengths.includes(L)) this.lengths = [...this.lengths, L].sort((a, b) => a - b);
    this.minLength = Math.min(this.minLength, L);
  }

  /**
   * Reads the digit group starting at text[from] (a digit), reports the canary phones in it and
   * returns the offset just after the group. Separators after the last digit are not consumed.
   */
  scanGroup(text: string, from: number, hits: Hit[]): number {
    const n = text.length, val = this.val, off = this.off, chunk = this.chunk;
    let k = 0; // items so far
    let lastMask = -1;
    let i = from;
    for (;;) {
      const chunkStart = k;
      while (i < n) {
        const c = text.charCodeAt(i);
        const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : digitValue(c);
        if (d >= 0) { // the hot path, written out: one store per array
          const r = k++ & (RING - 1);
          val[r] = d;
          off[r] = i++;
          chunk[r] = chunkStart;
          continue;
        }
        const masks = k > 0 && isPhoneMask(c) ? maskRun(text, i) : 0;
        if (masks === 0) break;
        for (let m = 0; m < masks; m++) this.push(k++, MASK_ITEM, i++, chunkStart);
        lastMask = k - 1;
      }
      if (k >= 7) this.chunkEnd(text, k - 1, lastMask, hits);
      // Up to three separators, then the group goes on only if another digit (or mask) follows.
      let j = i;
      while (j < n && j - i < 3 && isPhoneSeparator(text.charCodeAt(j))) j++;
      if (j === i || j >= n) break;
      const c = text.charCodeAt(j);
      if (digitValue(c) < 0 && !(isPhoneMask(c) && maskRun(text, j) > 0)) break;
      i = j;
    }
    return i;
  }

  private push(k: number, value: number, offset: number, chunkStart: number): void {
    const r = k & (RING - 1);
    this.val[r] = value;
    this.off[r] = offset;
    this.chunk[r] = chunkStart;
  }

  private v(k: number): number {
    return this.val[k & (RING - 1)];
  }

  /** The items from a to b (exclusive) as text, masks as '*'. */
  private digits(a: number, b: number): string {
    let s = '';
    for (let q = a; q < b; q++) s += this.v(q) === MASK_ITEM ? '*' : String(this.v(q));
    return s;
  }

  private allDigits(a: number, b: number): boolean {
    for (let q = a; q < b; q++) if (this.v(q) === MASK_ITEM) return false;
    return true;
  }

  private value(a: number, b: number): number {
    let x = 0;
    for (let q = a; q < b; q++) x = x * 10 + this.v(q);
    return x;
  }

  /**
   * Where a candidate starting at item s may begin: at its chunk's start, or after at most four
   * prefix digits inside the chunk (returned as text, checked against the entry later). Returns
   * null when the candidate would start in the middle of a longer digit run.
   */
  private prefixBefore(s: number, e: number): string | null {
    const cs = this.chunk[s & (RING - 1)];
    if (cs === s) return '';
    if (s - cs > 4 || e - cs >= RING) return null;
    return this.digits(cs, s);
  }

  /** Checks every candidate that ends at item e, the last item of a chunk. */
  private chunkEnd(text: string, e: number, lastMask: number, hits: Hit[]): void {
    for (const L of this.lengths) {
      const s = e - L + 1;
      if (s < 0) break;
      if (lastMask >= s) continue; // masks in the window: the masked forms below (a masked prefix fails its check)
      const prefix = this.prefixBefore(s, e);
      if (prefix === null) continue;
      const key = L * LENGTH_FACTOR + this.value(s, e + 1);
      if (!this.exactFilter.has(key >>> 0)) continue;
      const entries = this.exact.get(key);
      if (entries) this.report(text, entries, 'phone', prefix, s, e, hits);
    }
    if (lastMask >= 0 && e - lastMask < RING) {
      this.middleMask(text, e, hits);
      this.tailMask(text, e, hits);
    }
  }

  /** 138****5678: three digits, a run of masks, four digits ending at e. */
  private middleMask(text: string, e: number, hits: Hit[]): void {
    if (e < 8 || !this.allDigits(e - 3, e + 1)) return;
    let q = e - 4, masks = 0;
    while (q >= 0 && masks <= MAX_MASK_RUN && this.v(q) === MASK_ITEM) { masks++; q--; } // bounded: the ring holds 32 items
    const s = q - 2;
    if (masks < 2 || masks > MAX_MASK_RUN || s < 0 || !this.allDigits(s, q + 1)) return;
    const prefix = this.prefixBefore(s, e);
    if (prefix === null) return;
    const entries = this.middle.get(this.value(s, s + 3) * 1e4 + this.value(e - 3, e + 1));
    if (!entries) return;
    // One mask more or fewer than the digits hidden is tolerated: brokers type the stars by hand.
    const fitting = entries.filter((x) => Math.abs(masks - (x.national.length - 7)) <= 1);
    this.report(text, fitting, 'masked-phone', prefix, s, e, hits, 'middle');
  }

  /** 1381234****: all but the last four digits, then exactly four masks ending at e. */
  private tailMask(text: string, e: number, hits: Hit[]): void {
    if (e < 4 || this.v(e) !== MASK_ITEM) return;
    for (let q = e - 3; q <= e; q++) if (this.v(q) !== MASK_ITEM) return;
    if (this.v(e - 4) === MASK_ITEM) return;
    for (const L of this.lengths) {
      const s = e - L + 1;
      if (s < 0) break;
      if (L < 10 || !this.allDigits(s, e - 3)) continue;
      const prefix = this.prefixBefore(s, e);
      if (prefix === null) continue;
      const entries = this.tail.get(L * LENGTH_FACTOR + this.value(s, e - 3));
      if (entries) this.report(text, entries, 'masked-phone', prefix, s, e, hits, 'tail');
    }
  }

  private report(
    text: string, entries: readonly PhoneEntry[], kind: 'phone' | 'masked-phone', prefix: string,
    s: number, e: number, hits: Hit[], mask?: 'middle' | 'tail',
  ): void {
    for (const entry of entries) {
      if (prefix !== '' && !entry.joinedPrefixes.includes(prefix)) continue;
      const start = this.displayStart(text, entry, prefix, s, e);
      const end = this.off[e & (RING - 1)] + 1;
      const hit: Hit = { canaryId: entry.canaryId, kind, matched: text.slice(start, end), start, end, value: entry.e164, whole: true };
      if (mask) hit.mask = mask;
      hits.push(hit);
    }
  }

  /**
   * Where the reported text starts: the national number, widened to a country code written as
   * its own chunk just before it (+86 138 1234 5678) and to a '+' before that, so that "what
   * matched" shows the number as the leak wrote it, with its opening parenthesis.
   */
  private displayStart(text: string, entry: PhoneEntry, prefix: string, s: number, e: number): number {
    let first = s - prefix.length;
    if (prefix === '' && s > 0) {
      const pcs = this.chunk[(s - 1) & (RING - 1)];
      if (e - pcs < RING && s - pcs <= 5) {
        const before = this.digits(pcs, s);
        if (entry.countryCode !== '' && (before === entry.countryCode || before === `00${entry.countryCode}`)) first = pcs;
      }
    }
    let start = this.off[first & (RING - 1)];
    const before = start > 0 ? text.charCodeAt(start - 1) : 0;
    if (before === 0x2b || before === 0xff0b) start--; // + or ＋
    // An opening parenthesis whose closing one is inside the number: (415) 555-2671, (+86) 138...
    const open = start > 0 ? text.charCodeAt(start - 1) : 0;
    if (open === 0x28 || open === 0xff08) {
      const close = open === 0x28 ? 0x29 : 0xff09;
      const last = this.off[e & (RING - 1)];
      for (let q = start; q < last; q++) {
        if (text.charCodeAt(q) === close) {
          start--;
          break;
        }
      }
    }
    return start;
  }
}

/**
 * Length of the mask run at text[i], or 0 when it is not one: longer than any phone hides, or
 * followed by a letter (then the x's are a word: "138 xiaoming").
 */
function maskRun(text: string, i: number): number {
  let j = i;
  while (j < text.length && j - i <= MAX_MASK_RUN && isPhoneMask(text.charCodeAt(j))) j++;
  if (j - i > MAX_MASK_RUN) return 0;
  if (j < text.length && isLatinLetter(text.charCodeAt(j))) return 0;
  return j - i;
}
