import { isEmailDomain, isEmailLocal, isPhoneMask, isPhoneSeparator } from './chars.js';
import { splitE164 } from './phones.js';
import { PREFILTER_WASM } from './prefilter-wasm.js';
import type { CanarySignature } from './types.js';

// The first pass of `cradle scan` over UTF-8 bytes, before any decoding: which lines may hold a
// canary phone (whole, reformatted, masked) or e-mail. It is a superset of what the matcher's phone
// and e-mail indexes find (the lines it names are then decoded and matched in full), so it may
// name a line in vain but never miss one: digit groups are read like PhoneIndex reads them (digits,
// ASCII or full-width, joined by up to three separators, with masks), and at the end of every run of
// digits the last seven digits are looked up in a bit set of the canaries' numbers, then on a hit the
// last eight in a set (when every canary number has eight digits or more: a mobile has eleven). Decoding costs
// more than this whole pass, and most lines of a dump hold no canary.

const SEVEN = 10_000_000;
/** A mask run longer than this is decoration, as in PhoneIndex. */
const MAX_MASK_RUN = 8;

/** The hash of a number's last eight digits the kernel looks up (2^20 bits): shared with prefilter.wat. */
export function eightHash(v: number): number {
  return Math.imul(v, 0x9e3779b1) >>> 12;
}

/** Bits of the small first-level filter: 32 KiB, which stays in the L1 cache where the full set (1.2 MiB) does not. */
const SMALL_MASK = (1 << 18) - 1;

class DecimalSet {
  readonly bits = new Uint8Array(SEVEN >>> 3);
  readonly small = new Uint8Array((SMALL_MASK + 1) >>> 3);
  add(v: number): void {
    this.bits[v >>> 3] |= 1 << (v & 7);
    const h = v & SMALL_MASK;
    this.small[h >>> 3] |= 1 << (h & 7);
  }
  has(v: number): boolean {
    // Most numbers in a dump are no canary's: the small filter turns most of them away from the cache misses of the full set.
    const h = v & SMALL_MASK;
    return (this.small[h >>> 3] & (1 << (h & 7))) !== 0 && (this.bits[v >>> 3] & (1 << (v & 7))) !== 0;
  }
}

/**
 * How far the skip outside a digit group moves from a byte: 0 stops at it (an ASCII digit, a line end,
 * '@', 0xEF which starts the full-width forms), 3 passes a CJK ideograph's lead byte (E4-E9) with its
 * two continuation bytes, 1 any other. The bytes are valid UTF-8 (checked before), so a lead byte has
 * its continuation bytes, and those are never a stop.
 */
const SKIP = new Uint8Array(256).fill(1);
for (let b = 0x30; b <= 0x39; b++) SKIP[b] = 0;
SKIP[0x0a] = SKIP[0x40] = SKIP[0xef] = 0;
for (let b = 0xe4; b <= 0xe9; b++) SKIP[b] = 3;

/**
 * GB18030's two-byte characters by lead and trail byte ((lead << 8) | trail): 0 for one that is
 * nothing a phone or e-mail is written with (a Han character), 1 for a trail byte no character has
 * (the lead stands alone, as decoders read it), else the character (full-width digits, separators,
 * masks, '＠'). Made once, when a GB18030 file is first scanned, by the platform's own decoder.
 */
let gbPairs: Uint16Array | null = null;
function gbPairTable(): Uint16Array {
  if (gbPairs) return gbPairs;
  const table = new Uint16Array(0x10000);
  const decoder = new TextDecoder('gb18030');
  const pair = new Uint8Array(2);
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0; trail <= 0xff; trail++) {
      const k = (lead << 8) | trail;
      if (trail < 0x40 || trail === 0x7f || trail === 0xff) {
        table[k] = 1;
        continue;
      }
      pair[0] = lead;
      pair[1] = trail;
      const text = decoder.decode(pair);
      const c = text.length === 1 ? text.charCodeAt(0) : 0xfffd;
      table[k] = c === 0xfffd ? 1 : (c >= 0xff10 && c <= 0xff19) || c === 0xff20 || isPhoneSeparator(c) || isPhoneMask(c) ? c : 0;
    }
  }
  return (gbPairs = table);
}

/** A GB18030 four-byte character at `i` (lead, digit, lead, digit), or -1 when the bytes are not one. */
function gbFour(bytes: Uint8Array, i: number): number {
  if (i + 3 >= bytes.length) return -1;
  const b3 = bytes[i + 2], b4 = bytes[i + 3];
  if (b3 < 0x81 || b3 > 0xfe || b4 < 0x30 || b4 > 0x39) return -1;
  const text = new TextDecoder('gb18030').decode(bytes.subarray(i, i + 4));
  return text.codePointAt(0) ?? -1;
}

export interface CandidateLine {
  /** 0-based line within the bytes. */
  line: number;
  /** Byte offset where the line starts, and where the evidence is (for windows in very long lines). */
  start: number;
  at: number;
}

export class BytePrefilter {
  /** The last seven digits of every canary number. */
  private readonly last7 = new DecimalSet();
  /** The broker form 138****5678: first three and last four digits. */
  private readonly middle = new DecimalSet();
  private readonly domains = new Set<string>();
  /**
   * The last eight digits of every canary number, looked up after the seven (a number of a dump
   * whose last seven digits are a canary's by chance seldom has its eighth too): null when some
   * canary number has only seven digits.
   */
  private readonly last8: Set<number> | null;
  /** False when some canary number is too short for the seven-digit test: use the matcher instead. */
  readonly usable: boolean;
  /** The WebAssembly kernel that names the lines this pass then reads (null: none, or not made yet). */
  private kernel: PrefilterKernel | null | undefined;

  constructor(signatures: readonly CanarySignature[]) {
    let usable = true;
    let last8: Set<number> | null = new Set();
    for (const s of signatures) {
      for (const phone of s.phones) {
        const { national } = splitE164(phone);
        const trunkless = national.replace(/^0/, '');
        if (trunkless.length < 7) usable = false;
        for (const n of new Set([national, trunkless])) {
          this.last7.add(Number(n.slice(-7)));
          if (n.length < 8) last8 = null;
          else last8?.add(Number(n.slice(-8)));
          if (n.length >= 7) this.middle.add(Number(n.slice(0, 3)) * 10_000 + Number(n.slice(-4)));
        }
      }
      for (const email of s.emails) this.domains.add(email.slice(email.lastIndexOf('@') + 1).toLowerCase());
    }
    this.usable = usable;
    this.last8 = last8;
  }

  /**
   * The lines of `bytes` (UTF-8, or GB18030 with no line in UTF-8) that may hold a canary phone or
   * e-mail, and how many line ends ('\n') the bytes hold.
   */
  scan(bytes: Uint8Array, longLine: number, encoding: 'utf-8' | 'gb18030' = 'utf-8'): { lines: number; candidates: CandidateLine[] } {
    if (!this.usesKernel()) return this.scanJs(bytes, longLine, encoding);
    // The kernel names a superset of the lines that hold evidence; this pass, run on each of them
    // alone (its state starts afresh at every line end), gives the same candidates as on the whole.
    const candidates: CandidateLine[] = [];
    const lines = this.kernel!.lines(bytes, encoding === 'gb18030', (line, start) => {
      let end = bytes.indexOf(0x0a, start);
      end = end < 0 ? bytes.length : end + 1;
      for (const c of this.scanJs(bytes.subarray(start, end), longLine, encoding).candidates) {
        candidates.push({ line: line + c.line, start: start + c.start, at: start + c.at });
      }
    });
    return { lines, candidates };
  }

  /** Whether scan runs the WebAssembly kernel (false where WebAssembly SIMD is not to be had). */
  usesKernel(): boolean {
    if (this.kernel === undefined) this.kernel = PrefilterKernel.create(this.last7, this.last8, this.domains);
    return this.kernel !== null;
  }

  /** The same as scan, in JavaScript alone: where there is no WebAssembly, and on the lines the kernel names. */
  scanJs(bytes: Uint8Array, longLine: number, encoding: 'utf-8' | 'gb18030' = 'utf-8'): { lines: number; candidates: CandidateLine[] } {
    // One loop, its state in locals: a closure over them would move them to the heap and make the
    // loop several times slower.
    const n = bytes.length;
    const gb = encoding === 'gb18030';
    const pairs = gb ? gbPairTable() : null;
    const candidates: CandidateLine[] = [];
    let line = 0, lineStart = 0;
    let lastLine = -1, lastAt = -longLine;
    let hit = -1; // where evidence was seen at this step, or -1
    let newline = false;

    // The digit group being read.
    let inGroup = false;
    let seps = 0; // separators since the last digit or mask
    let run7 = 0, run8 = 0, runDigits = 0; // the digits since the group's start or its last mask (their last seven, eight count)
    const last8 = this.last8;
    let masks = 0; // the current run of masks
    let lastMasks = 0; // the length of the last mask run followed by digits
    let prefix3 = -1; // the three digits before that mask run, if there were three
    let afterMasks = -1; // digits since it (-1: no mask run yet)
    let after4 = 0;
    let inDigits = false;

    let i = 0;
    while (i < n) {
      if (!inGroup) {
        // Outside a digit group only a digit (ASCII, or full-width after 0xEF), an '@' or a line end
        // matters: skip to the next one. 0xEF is never inside another character's bytes.
        let q = i;
        if (pairs) {
          // GB18030: ASCII as in UTF-8; a two-byte character is passed unless the table names it;
          // a lead before a digit may start a four-byte character, decoded below.
          while (q < n) {
            const x = bytes[q];
            if (x < 0x80) {
              if (SKIP[x] === 0) break;
              q++;
              continue;
            }
            if (x === 0x80 || x === 0xff || q + 1 >= n) {
              q++;
              continue;
            }
            const t = bytes[q + 1];
            if (t >= 0x30 && t <= 0x39) break;
            const p = pairs[(x << 8) | t];
            if (p > 1) break;
            q += p === 0 ? 2 : 1;
          }
        } else {
          while (q < n) {
            const step = SKIP[bytes[q]];
            if (step === 0) break;
            q += step;
          }
        }
        if (q >= n) break;
        i = q;
      }
      const b = bytes[i];
      let c: number, len: number;
      if (b < 0x80) {
        c = b;
        len = 1;
      } else if (pairs) {
        const t = b === 0x80 || b === 0xff || i + 1 >= n ? -1 : bytes[i + 1];
        const four = t >= 0x30 && t <= 0x39 ? gbFour(bytes, i) : -1;
        if (four >= 0) {
          c = four;
          len = 4;
        } else if (t >= 0x40 && pairs[(b << 8) | t] !== 1) {
          c = pairs[(b << 8) | t] || 0x4e00;
          len = 2;
        } else {
          c = 0xfffd; // a lead byte alone: what follows it is read on its own
          len = 1;
        }
      } else if (b >= 0xe4 && b <= 0xe9) {
        c = 0x4e00; // a CJK ideograph: nothing a phone is written with
        len = 3;
      } else if ((b & 0xe0) === 0xc0) {
        c = ((b & 0x1f) << 6) | (bytes[i + 1] & 0x3f);
        len = 2;
      } else if ((b & 0xf0) === 0xe0) {
        c = ((b & 0x0f) << 12) | ((bytes[i + 1] & 0x3f) << 6) | (bytes[i + 2] & 0x3f);
        len = 3;
      } else {
        c = 0xfffd;
        len = (b & 0xf8) === 0xf0 ? 4 : 1;
      }

      const d = c >= 0x30 && c <= 0x39 ? c - 0x30 : c >= 0xff10 && c <= 0xff19 ? c - 0xff10 : -1;
      if (d >= 0) {
        if (!inGroup) {
          inGroup = true;
          run7 = run8 = runDigits = 0;
          prefix3 = afterMasks = -1;
          lastMasks = 0;
        }
        if (masks > 0) { // a mask run ended: digits after it are counted afresh
          if (masks >= 4 && runDigits >= 5) hit = i;
          lastMasks = masks;
          prefix3 = runDigits >= 3 ? run7 % 1000 : -1;
          afterMasks = 0;
          after4 = 0;
          run7 = run8 = runDigits = 0;
          masks = 0;
        }
        // Only the last seven digits are kept: a small integer, whose remainder by a constant V8 makes a
        // multiply and a shift (a floating-point remainder would cost more than the rest of the step).
        run7 = (run7 % 1_000_000) * 10 + d;
        run8 = (run8 % 10_000_000) * 10 + d;
        runDigits++;
        if (afterMasks >= 0) {
          if (afterMasks < 4) after4 = after4 * 10 + d;
          afterMasks++;
        }
        // The ASCII digits that follow, in a loop of their own: most of a dump's digits come in runs.
        let j = i + len;
        while (j < n) {
          const e = bytes[j] - 0x30;
          if (e < 0 || e > 9) break;
          run7 = (run7 % 1_000_000) * 10 + e;
          run8 = (run8 % 10_000_000) * 10 + e;
          runDigits++;
          if (afterMasks >= 0) {
            if (afterMasks < 4) after4 = after4 * 10 + e;
            afterMasks++;
          }
          j++;
        }
        len = j - i;
        seps = 0;
        inDigits = true;
      } else {
        if (inDigits) { // the end of a run of digits: where PhoneIndex looks for a number ending
          inDigits = false;
          if ((runDigits >= 7 && this.last7.has(run7) && (!last8 || (runDigits >= 8 && last8.has(run8)))) ||
            (afterMasks === 4 && prefix3 >= 0 && lastMasks <= MAX_MASK_RUN && this.middle.has(prefix3 * 10_000 + after4))) hit = i;
        }
        if (inGroup && (c < 0x80 ? c === 0x2a || c === 0x78 || c === 0x58 : isPhoneMask(c)) && (runDigits > 0 || masks > 0 || afterMasks >= 0)) {
          masks++;
          seps = 0;
        } else {
          if (masks >= 4 && runDigits >= 5) hit = i; // 1381234****: the digits a name must confirm
          if (inGroup && seps < 3 && isPhoneSeparator(c)) {
            seps++;
          } else {
            inGroup = false;
            masks = 0;
            seps = 0;
            if (c === 0x0a) {
              newline = true;
            } else if ((c === 0x40 || c === 0xff20) && i > 0 && isEmailLocal(bytes[i - 1]) && this.domainAt(bytes, i + len)) {
              hit = i;
            }
          }
        }
      }
      if (hit >= 0) {
        if (line !== lastLine || hit - lastAt >= longLine) {
          candidates.push({ line, start: lineStart, at: hit });
          lastLine = line;
          lastAt = hit;
        }
        hit = -1;
      }
      if (newline) { // after the evidence that ended at the line end is recorded in its line
        newline = false;
        line++;
        lineStart = i + 1;
      }
      i += len;
    }
    if ((inDigits && ((runDigits >= 7 && this.last7.has(run7) && (!last8 || (runDigits >= 8 && last8.has(run8)))) ||
      (afterMasks === 4 && prefix3 >= 0 && lastMasks <= MAX_MASK_RUN && this.middle.has(prefix3 * 10_000 + after4)))) ||
      (inGroup && masks >= 4 && runDigits >= 5)) {
      if (line !== lastLine || n - lastAt >= longLine) candidates.push({ line, start: lineStart, at: n });
    }
    return { lines: line, candidates };
  }

  /** Whether the domain starting at bytes[from] is a canary's (ASCII, any case). */
  private domainAt(bytes: Uint8Array, from: number): boolean {
    let end = from;
    while (end < bytes.length && end - from < 255 && isEmailDomain(bytes[end])) end++;
    while (end > from && (bytes[end - 1] === 0x2e || bytes[end - 1] === 0x2d)) end--;
    if (end === from) return false;
    let domain = '';
    for (let k = from; k < end; k++) domain += String.fromCharCode(bytes[k] >= 0x41 && bytes[k] <= 0x5a ? bytes[k] + 0x20 : bytes[k]);
    return this.domains.has(domain);
  }
}

/** The hash of an e-mail domain the kernel looks up (FNV-1a over its lower-cased ASCII bytes): the top 16 bits. */
function domainHash(domain: string): number {
  let h = 0x811c9dc5;
  for (let k = 0; k < domain.length; k++) h = Math.imul(h ^ (domain.charCodeAt(k) & 0xff), 0x01000193);
  return h >>> 16;
}

/** Where things are in the kernel's memory (prefilter.wat says what each is). */
const MEM = { classes: 0, domainChars: 0x200, nibbles: 0x300, domains: 0x1000, small: 0x4000, gbPairs: 0x10000, last7: 0x20000, out: 0x160000, eight: 0x1e0000, input: 0x200000 } as const;
const EIGHT_BYTES = 0x20000;
const OUT_CAP = 0x10000;
const PAGE = 0x10000;

/**
 * Per byte: 0 passed by the kernel's skip, 1 ASCII digit, 2 line end, 3 '@', 4 mask, 5 UTF-8 lead of
 * characters some of which may matter, 6 the same in GB18030 (leads of `gbPairs` that name one).
 */
function byteClasses(gbPairs: Uint16Array | null): Uint8Array {
  const classes = new Uint8Array(256);
  for (let b = 0x30; b <= 0x39; b++) classes[b] = 1;
  classes[0x0a] = 2;
  classes[0x40] = 3;
  classes[0x2a] = classes[0x78] = classes[0x58] = 4;
  if (gbPairs) for (let k = 0x8100; k < 0x10000; k++) if (gbPairs[k] > 1) classes[k >>> 8] = 6;
  if (!gbPairs) for (const b of [0xc2, 0xc3, 0xe2, 0xe3, 0xef]) classes[b] = 5;
  return classes;
}

/** Tables of the low and high nibbles whose AND is non-zero exactly for the bytes of a class other than 0. */
export function nibbleTables(classes: Uint8Array): { low: Uint8Array; high: Uint8Array } {
  const low = new Uint8Array(16), high = new Uint8Array(16);
  const bits = new Map<number, number>(); // a set of low nibbles -> its bit
  for (let h = 0; h < 16; h++) {
    let set = 0;
    for (let l = 0; l < 16; l++) if (classes[(h << 4) | l]) set |= 1 << l;
    if (!set) continue;
    let bit = bits.get(set);
    if (bit === undefined) {
      if (bits.size === 8) throw new Error('prefilter kernel: more than eight kinds of stop byte');
      bit = 1 << bits.size;
      bits.set(set, bit);
      for (let l = 0; l < 16; l++) if (set & (1 << l)) low[l] |= bit;
    }
    high[h] |= bit;
  }
  return { low, high };
}

let kernelModule: WebAssembly.Module | null | undefined;

/**
 * The WebAssembly SIMD kernel (prefilter.wat): names the lines that may hold evidence, 16 bytes at a
 * time, with the sets in its own memory. One instance per BytePrefilter.
 */
class PrefilterKernel {
  private gbReady = false;

  private constructor(
    private readonly memory: WebAssembly.Memory,
    private readonly run: (n: number, gb: number, cap: number) => number,
    private readonly pos: WebAssembly.Global,
    private readonly line: WebAssembly.Global,
  ) {}

  /** Null where WebAssembly SIMD is not to be had (the JS pass does the work alone). */
  static create(last7: DecimalSet, last8: ReadonlySet<number> | null, domains: ReadonlySet<string>): PrefilterKernel | null {
    if (kernelModule === undefined) {
      try {
        kernelModule = new WebAssembly.Module(Uint8Array.from(atob(PREFILTER_WASM), (ch) => ch.charCodeAt(0)));
      } catch {
        kernelModule = null;
      }
    }
    if (!kernelModule) return null;
    const exports = new WebAssembly.Instance(kernelModule).exports as {
      memory: WebAssembly.Memory; scan: (n: number, gb: number, cap: number) => number; pos: WebAssembly.Global; line: WebAssembly.Global;
    };
    const mem = new Uint8Array(exports.memory.buffer);
    const classes = byteClasses(null);
    mem.set(classes, MEM.classes);
    const { low, high } = nibbleTables(classes);
    mem.set(low, MEM.nibbles);
    mem.set(high, MEM.nibbles + 16);
    for (let b = 0; b < 256; b++) mem[MEM.domainChars + b] = isEmailDomain(b) ? 1 : 0;
    for (const d of domains) {
      const h = domainHash(d);
      mem[MEM.domains + (h >>> 3)] |= 1 << (h & 7);
    }
    mem.set(last7.small, MEM.small);
    mem.set(last7.bits, MEM.last7);
    if (!last8) mem.fill(0xff, MEM.eight, MEM.eight + EIGHT_BYTES); // the seven digits' test alone
    else {
      for (const v of last8) {
        const h = eightHash(v);
        mem[MEM.eight + (h >>> 3)] |= 1 << (h & 7);
      }
    }
    return new PrefilterKernel(exports.memory, exports.scan, exports.pos, exports.line);
  }

  /** Calls `named(line, start)` for every line it names, in order; returns how many line ends the bytes hold. */
  lines(bytes: Uint8Array, gb: boolean, named: (line: number, start: number) => void): number {
    if (gb && !this.gbReady) {
      // GB18030's tables, when a GB18030 file is first scanned.
      const pairs = gbPairTable();
      const mem = new Uint8Array(this.memory.buffer);
      for (let k = 0; k < 0x10000; k++) mem[MEM.gbPairs + k] = pairs[k] > 1 ? 2 : 0;
      const classes = byteClasses(pairs);
      mem.set(classes, MEM.classes + 256);
      const { low, high } = nibbleTables(classes);
      mem.set(low, MEM.nibbles + 32);
      mem.set(high, MEM.nibbles + 48);
      this.gbReady = true;
    }
    const n = bytes.length;
    const need = Math.ceil((MEM.input + n + 16) / PAGE) - this.memory.buffer.byteLength / PAGE;
    if (need > 0) this.memory.grow(need);
    new Uint8Array(this.memory.buffer, MEM.input, n).set(bytes);
    const out = new Int32Array(this.memory.buffer, MEM.out, 2 * OUT_CAP);
    this.pos.value = 0;
    this.line.value = 0;
    for (;;) {
      const count = this.run(n, gb ? 1 : 0, OUT_CAP);
      for (let k = 0; k < count; k++) named(out[2 * k], out[2 * k + 1]);
      if ((this.pos.value as number) >= n) return this.line.value as number;
    }
  }
}
