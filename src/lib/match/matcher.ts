// The matching engine of `cradle scan`: given the canaries' signatures, find them in one record
// of a leaked file (a line, a CSV row, a JSON object's text, an XLSX row), however the leak
// reformatted them. Pure: no I/O; the readers of CSV, XLSX, SQL dumps... feed it text.
//
// One pass over the record classifies each character and hands runs to the indexes:
//   digits (and masks/separators between them) → PhoneIndex     (phones.ts)
//   Han characters (and a name mask next to one) → HanNameIndex (han-names.ts)
//   Latin letters → LatinNameIndex, word by word                 (latin-names.ts)
//   '@' → EmailIndex                                             (emails.ts)
// Every index answers from hash tables and Bloom filters, so the cost per record depends on
// its length, not on the number of canaries. Hits are then judged per canary (score.ts).
import { ASCII_AT, ASCII_CLASS, ASCII_DIGIT, ASCII_LETTER, ASCII_OTHER, digitValue, isHan, isLatinLetter, isNameMask, isNameSpace } from './chars.js';
import { EmailIndex } from './emails.js';
import { HanNameIndex, isHanName } from './han-names.js';
import { LatinNameIndex } from './latin-names.js';
import { PhoneIndex } from './phones.js';
import { scoreHits } from './score.js';
import type { CanarySignature, Hit, RecordMatch } from './types.js';

export type { CanarySignature, Hit, MatchKind, RecordMatch } from './types.js';
export { CONFIDENCE, NAMES_CAP } from './score.js';

export class CanaryMatcher {
  private readonly phones: PhoneIndex;
  private readonly emails: EmailIndex;
  private readonly han: HanNameIndex;
  private readonly latin: LatinNameIndex;

  /**
   * `fit`: filters sized to these canaries (a matcher of a trap's few holders, built per message by
   * triage); default sized for any number (scan's, built once). The same matches either way.
   */
  constructor(canaries: readonly CanarySignature[], options: { fit?: boolean } = {}) {
    const n = options.fit ? canaries.length : undefined;
    this.phones = new PhoneIndex(n);
    this.emails = new EmailIndex(n);
    this.han = new HanNameIndex(n);
    this.latin = new LatinNameIndex(n);
    for (const c of canaries) this.index(c);
  }

  /**
   * The same matcher (sized for any number), built a few canaries at a time with the event loop let
   * run between them: `cradle scan` builds it on its main thread while the worker threads read, and
   * the reads and the threads' answers go on meanwhile.
   */
  static async built(canaries: readonly CanarySignature[], slice = 25): Promise<CanaryMatcher> {
    const matcher = new CanaryMatcher([]);
    for (let i = 0; i < canaries.length; i += slice) {
      for (let k = i; k < Math.min(canaries.length, i + slice); k++) matcher.index(canaries[k]);
      await new Promise((resolve) => setImmediate(resolve));
    }
    return matcher;
  }

  private index(c: CanarySignature): void {
    for (const phone of c.phones) this.phones.add(c.canaryId, phone);
    for (const email of c.emails) this.emails.add(c.canaryId, email);
    for (const name of c.names) {
      if (isHanName(name.full)) {
        this.han.add(c.canaryId, name);
        this.latin.add(c.canaryId, name, true); // its pinyin
      } else {
        this.latin.add(c.canaryId, name, false);
      }
    }
  }

  /** How much was indexed: distinct phone numbers, addresses, Han names and Latin keys. */
  get sizes(): { phones: number; emails: number; hanNames: number; latinKeys: number } {
    return { phones: this.phones.size, emails: this.emails.size, hanNames: this.han.size, latinKeys: this.latin.size };
  }

  /** All canary hits in one record, in order of position. */
  hits(text: string): Hit[] {
    const hits: Hit[] = [];
    this.scan(text, hits);
    if (hits.length > 1) hits.sort((a, b) => a.start - b.start || a.end - b.end || (a.canaryId < b.canaryId ? -1 : a.canaryId > b.canaryId ? 1 : 0));
    return hits;
  }

  /** Hits grouped by canary with a confidence and its reason, most certain first. */
  matchRecord(text: string): RecordMatch[] {
    return scoreHits(this.hits(text));
  }

  /**
   * Offsets of the canary phones (whole or masked) and e-mails in `text`, found by those two indexes
   * alone. Every confident match holds one, so only the records around them need the full pass; names
   * are not looked at here, which is what makes this pass several times faster than `hits`.
   */
  candidates(text: string, from = 0, to = text.length): number[] {
    const found: Hit[] = [];
    for (let i = from; i < to;) {
      const c = text.charCodeAt(i);
      if (c < 0x80) {
        const k = ASCII_CLASS[c];
        if (k === ASCII_DIGIT) i = this.phones.scanGroup(text, i, found);
        else {
          if (k === ASCII_AT) this.emails.at(text, i, found);
          i++;
        }
      } else if (digitValue(c) >= 0) {
        i = this.phones.scanGroup(text, i, found);
      } else {
        if (c === 0xff20) this.emails.at(text, i, found); // ＠
        i++;
      }
    }
    return found.map((h) => h.start);
  }

  // The previous run of Han characters in the record being scanned, for 王\u3000丽 (see spacedPair).
  private runStart = -1;
  private runEnd = -1;

  /** The single pass over the record. */
  private scan(text: string, hits: Hit[]): void {
    const n = text.length;
    this.latin.reset();
    this.runStart = this.runEnd = -1;
    let i = 0;
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c < 0x80) { // the common case first: ASCII, one table look-up
        switch (ASCII_CLASS[c]) {
          case ASCII_OTHER: // punctuation, spaces, field separators: skip them in a tight loop
            do i++; while (i < n && text.charCodeAt(i) < 0x80 && ASCII_CLASS[text.charCodeAt(i)] === ASCII_OTHER);
            break;
          case ASCII_DIGIT:
            i = this.phones.scanGroup(text, i, hits);
            break;
          case ASCII_LETTER: // x and X mask a name's character when one follows: x丽华
            i = (c === 0x78 || c === 0x58) && this.hanFollows(text, i) ? this.hanRun(text, i, hits) : this.word(text, i, hits);
            break;
          case ASCII_AT:
            this.emails.at(text, i, hits);
            i++;
            break;
          default: // *: a masked name's first character (*丽华) or nothing
            i = this.hanFollows(text, i) ? this.hanRun(text, i, hits) : i + 1;
        }
      } else if (isHan(c)) {
        i = this.hanRun(text, i, hits);
      } else if (digitValue(c) >= 0) {
        i = this.phones.scanGroup(text, i, hits);
      } else if (isLatinLetter(c)) {
        i = this.word(text, i, hits);
      } else if (isNameMask(c) && this.hanFollows(text, i)) {
        i = this.hanRun(text, i, hits);
      } else {
        if (c === 0xff20) this.emails.at(text, i, hits); // ＠
        i++;
      }
    }
  }

  private hanFollows(text: string, i: number): boolean {
    return i + 1 < text.length && isHan(text.charCodeAt(i + 1));
  }

  /** A run of Han characters from text[start]; also 王\u3000丽 when it follows a one-character run. */
  private hanRun(text: string, start: number, hits: Hit[]): number {
    const end = this.han.scanRun(text, start, hits);
    if (this.runEnd >= 0 && start - this.runEnd <= 2 && onlySpaces(text, this.runEnd, start)) this.han.spacedPair(text, this.runStart, this.runEnd, start, end, hits);
    this.runStart = start;
    this.runEnd = end;
    return end;
  }

  /** A Latin word from text[start]. */
  private word(text: string, start: number, hits: Hit[]): number {
    let end = start + 1;
    while (end < text.length && isLatinLetter(text.charCodeAt(end))) end++;
    this.latin.word(text, start, end, hits);
    return end;
  }
}

/** One or two spaces exactly. */
function onlySpaces(text: string, from: number, to: number): boolean {
  if (to <= from || to - from > 2) return false;
  for (let i = from; i < to; i++) if (!isNameSpace(text.charCodeAt(i))) return false;
  return true;
}
