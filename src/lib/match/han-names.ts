// Chinese names written in characters. Chinese text has no spaces, so a name is looked for as a
// substring of every run of Han characters; whether it filled the whole run ("whole") is kept,
// because 王丽 inside 王丽娟 is a different person far more often than not.
//
// Windows of every name length are hashed incrementally at each position and checked against a
// Bloom filter first, so a run costs a few multiplications per character and no allocation
// unless a canary name is (probably) there: the cost does not grow with the number of canaries.
import type { PersonName } from '../../domain/index.js';
import { BitFilter, fitBits, HASH_SEED, isHan, isNameMask, MOU, mix } from './chars.js';
import type { Hit } from './types.js';

interface NameEntry {
  canaryId: string;
  full: string;
  family: string;
}

/** Names longer than this (in UTF-16 units) are not indexed: no real name is. */
const MAX_NAME = 16;
const MASK_KEY = '\u0000';

function pushTo(map: Map<string, NameEntry[]>, key: string, entry: NameEntry): void {
  const list = map.get(key);
  if (!list) map.set(key, [entry]);
  else if (!list.some((e) => e.canaryId === entry.canaryId && e.full === entry.full)) list.push(entry);
}

function hashOf(text: string): number {
  let h = HASH_SEED;
  for (let i = 0; i < text.length; i++) h = mix(h, text.charCodeAt(i));
  return h;
}

/** True when every code unit of the name is a Han character (names with Latin letters or · go to the Latin index). */
export function isHanName(full: string): boolean {
  if (full.length < 2) return false;
  for (let i = 0; i < full.length; i++) if (!isHan(full.charCodeAt(i))) return false;
  return true;
}

export class HanNameIndex {
  private readonly exact = new Map<string, NameEntry[]>();
  private readonly filter: BitFilter;
  /** Bit L set when some name is L units long. */
  private lengthBits = 0;
  private maxLength = 0;
  /** Name with one character replaced by MASK_KEY → entries; only names of 3+ characters (2 stay visible). */
  private readonly masked = new Map<string, NameEntry[]>();
  private readonly maskedFilter: BitFilter;
  /** (units before the mask, units after it) pairs that occur in `masked`. */
  private readonly shapes: [number, number][] = [];
  /** Mask positions of the run being scanned; reused between runs. */
  private readonly maskAt: number[] = [];
  /** first[c] = 1 when some name starts with code unit c. */
  private readonly first = new Uint8Array(0x10000);

  /** `canaries`: size the filters to this few (fitBits); default as for any number. */
  constructor(canaries?: number) {
    this.filter = new BitFilter(fitBits(22, canaries, 10));
    this.maskedFilter = new BitFilter(fitBits(22, canaries, 10));
  }

  get size(): number {
    return this.exact.size;
  }

  add(canaryId: string, name: PersonName): void {
    const full = name.full;
    if (!isHanName(full) || full.length > MAX_NAME) return;
    const entry: NameEntry = { canaryId, full, family: name.family };
    pushTo(this.exact, full, entry);
    this.filter.add(hashOf(full));
    this.first[full.charCodeAt(0)] = 1;
    this.lengthBits |= 1 << full.length;
    this.maxLength = Math.max(this.maxLength, full.length);
    const chars = [...full];
    if (chars.length < 3) return; // 陈* leaves one character: matches half the 陈 family
    for (let p = 0; p < chars.length; p++) {
      const before = chars.slice(0, p).join(''), after = chars.slice(p + 1).join('');
      pushTo(this.masked, before + MASK_KEY + after, entry);
      this.maskedFilter.add(hashOf(before + MASK_KEY + after));
      if (!this.shapes.some(([a, b]) => a === before.length && b === after.length)) this.shapes.push([before.length, after.length]);
    }
  }

  /**
   * Reads the run of Han characters (and name masks next to one) that starts at text[start],
   * reports the canary names in it and returns the offset just after it.
   */
  scanRun(text: string, start: number, hits: Hit[]): number {
    const n = text.length, first = this.first, maxLength = this.maxLength, bits = this.lengthBits;
    const before = hits.length;
    let masks = 0;
    let i = start;
    for (; i < n; i++) {
      const c = text.charCodeAt(i);
      if (!isHan(c)) {
        // A mask belongs to the run when a character stands next to it: 陈*丽, *丽华, 陈丽*.
        if (!isNameMask(c) || !((i > start && isHan(text.charCodeAt(i - 1))) || (i + 1 < n && isHan(text.charCodeAt(i + 1))))) break;
        if (masks++ === 0) this.maskAt.length = 0;
        this.maskAt.push(i);
        continue;
      }
      if (c === MOU) {
        if (masks++ === 0) this.maskAt.length = 0;
        this.maskAt.push(i);
      }
      if (first[c] === 0) continue; // no canary name starts with this character: most positions stop here
      let h = HASH_SEED;
      const limit = i + maxLength < n ? i + maxLength : n;
      for (let j = i; j < limit; j++) {
        const d = text.charCodeAt(j);
        if (!isHan(d)) break; // a mask or the run's end ends every window through it
        h = mix(h, d);
        const length = j - i + 1;
        if ((bits >>> length) & 1 && this.filter.has(h)) this.exactAt(text, i, j + 1, hits);
      }
    }
    const end = i;
    if (hits.length > before) this.settle(hits, before, start, end);
    if (masks > 0 && this.masked.size > 0) for (const m of this.maskAt) this.maskedAt(text, m, start, end, hits);
    return end;
  }

  /**
   * 王\u3000丽, 陈 丽华: surname and given name as two runs separated by one or two spaces (forms pad
   * two-character names to line up with three-character ones). Both runs must be whole.
   */
  spacedPair(text: string, aStart: number, aEnd: number, bStart: number, bEnd: number, hits: Hit[]): void {
    if (aEnd - aStart > 2 || bEnd - bStart > 3) return;
    const family = text.slice(aStart, aEnd);
    const entries = this.exact.get(family + text.slice(bStart, bEnd));
    if (!entries) return;
    for (const entry of entries) {
      if (entry.family !== family) continue;
      hits.push({ canaryId: entry.canaryId, kind: 'name', matched: text.slice(aStart, bEnd), start: aStart, end: bEnd, value: entry.full, whole: true });
    }
  }

  /**
   * Now that the run has ended: a name that fills it is whole; a two-character name in a run of
   * three is dropped, because that run is someone's three-character name (王佳 in 王佳怡).
   */
  private settle(hits: Hit[], from: number, start: number, end: number): void {
    let kept = from;
    for (let k = from; k < hits.length; k++) {
      const hit = hits[k];
      if (hit.start === start && hit.end === end) hit.whole = true;
      else if (end - start === 3 && hit.end - hit.start === 2) continue;
      hits[kept++] = hit;
    }
    hits.length = kept;
  }

  /** A name that may be text[i, j): whole is settled when the run ends. */
  private exactAt(text: string, i: number, j: number, hits: Hit[]): void {
    const matched = text.slice(i, j);
    const entries = this.exact.get(matched);
    if (!entries) return;
    for (const entry of entries) hits.push({ canaryId: entry.canaryId, kind: 'name', matched, start: i, end: j, value: entry.full, whole: false });
  }

  /** Every name shape with its one hidden character at text[m]. */
  private maskedAt(text: string, m: number, start: number, end: number, hits: Hit[]): void {
    for (const [before, after] of this.shapes) {
      const ws = m - before, we = m + 1 + after;
      if (ws < start || we > end) continue;
      // Hash the window with the mask as MASK_KEY; build strings only if the filter knows it.
      let h = HASH_SEED, clean = true;
      for (let q = ws; q < we && clean; q++) {
        const c = q === m ? 0 : text.charCodeAt(q);
        if (q !== m && !isHan(c)) clean = false;
        h = mix(h, c);
      }
      if (!clean || !this.maskedFilter.has(h)) continue;
      const entries = this.masked.get(text.slice(ws, m) + MASK_KEY + text.slice(m + 1, we));
      if (!entries) continue;
      const matched = text.slice(ws, we);
      const whole = ws === start && we === end;
      for (const entry of entries) {
        if (entry.full === matched) continue; // 某 was the name's own character: reported as a name
        hits.push({ canaryId: entry.canaryId, kind: 'masked-name', matched, start: ws, end: we, value: entry.full, whole });
      }
    }
  }
}
