// E-mail addresses, compared in lowercase (mail systems ignore the case of the domain, and in
// practice of the mailbox too). The scanner calls `at` for every '@' (or full-width ＠); the
// address is the longest run of mailbox characters before it and domain characters after it,
// less the punctuation a sentence puts around it ("<a@b.com>", "(a@b.com).", "mailto:a@b.com;").
// Taking the longest run makes the match whole: xli@qq.com and li@qq.com.cn do not match li@qq.com.
import { BitFilter, fitBits, HASH_SEED, isEmailDomain, isEmailLocal, mix } from './chars.js';
import type { Hit } from './types.js';

interface EmailEntry {
  canaryId: string;
  email: string;
}

/** RFC 5321 limits: a longer run cannot be an address, and bounds the work per '@'. */
const MAX_LOCAL = 64;
const MAX_DOMAIN = 255;

export class EmailIndex {
  private readonly map = new Map<string, EmailEntry[]>();
  /** Hashes of the lowercase addresses: most addresses in a leak are not canaries, and need no string built. */
  private readonly filter: BitFilter;

  /** `canaries`: size the filter to this few (fitBits); default as for any number. */
  constructor(canaries?: number) {
    this.filter = new BitFilter(fitBits(20, canaries, 6));
  }

  get size(): number {
    return this.map.size;
  }

  add(canaryId: string, email: string): void {
    const key = email.trim().toLowerCase();
    if (!key.includes('@')) return;
    const list = this.map.get(key) ?? [];
    if (!list.some((e) => e.canaryId === canaryId)) list.push({ canaryId, email: key });
    this.map.set(key, list);
    this.filter.add(lowerHash(key, 0, key.length));
  }

  /** Reports the canary address around the '@' at text[at], if any. */
  at(text: string, at: number, hits: Hit[]): void {
    if (this.map.size === 0) return;
    let start = at;
    while (start > 0 && isEmailLocal(text.charCodeAt(start - 1))) {
      if (at - --start > MAX_LOCAL) return;
    }
    let end = at + 1;
    while (end < text.length && isEmailDomain(text.charCodeAt(end))) {
      if (++end - at > MAX_DOMAIN) return;
    }
    while (start < at && text.charCodeAt(start) === 0x2e) start++; // ".a@b.com": the dot ends a sentence
    while (end > at + 1 && (text.charCodeAt(end - 1) === 0x2e || text.charCodeAt(end - 1) === 0x2d)) end--;
    if (start === at || end === at + 1 || !this.filter.has(lowerHash(text, start, end))) return;
    const entries = this.map.get(`${text.slice(start, at)}@${text.slice(at + 1, end)}`.toLowerCase());
    if (!entries) return;
    const matched = text.slice(start, end);
    for (const e of entries) hits.push({ canaryId: e.canaryId, kind: 'email', matched, start, end, value: e.email, whole: true });
  }
}

/** Hash of text[start, end) in ASCII lowercase, with ＠ read as @. */
function lowerHash(text: string, start: number, end: number): number {
  let h = HASH_SEED;
  for (let i = start; i < end; i++) {
    const c = text.charCodeAt(i);
    h = mix(h, c === 0xff20 ? 0x40 : c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
  }
  return h;
}
