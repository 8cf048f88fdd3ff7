// Name helpers: Latin transcription, and near-duplicate detection. A canary whose name is one
// keystroke away from another canary could be confused with it when a caller reads a name back, so
// distinctness is "not within one edit", not mere inequality. Which canaries must be distinct is
// decided by the caller (src/canary/draft.ts: the earlier holders of the same trap number).
import { createRequire } from 'node:module';

// pinyin-pro loads a large dictionary: required on first use so that commands that never
// generate names start fast.
const require = createRequire(import.meta.url);
let pinyinModule: typeof import('pinyin-pro') | undefined;
const pinyin: typeof import('pinyin-pro').pinyin = ((...args: Parameters<typeof import('pinyin-pro').pinyin>) =>
  (pinyinModule ??= require('pinyin-pro') as typeof import('pinyin-pro')).pinyin(...(args as [string]))) as typeof import('pinyin-pro').pinyin;
import type { Locale } from '../../domain/index.js';

/** Compound surnames, so that latinOf can split 欧阳娜娜 as Ouyang Nana without being told. */
const COMPOUND_SURNAMES = new Set([
  '欧阳', '司马', '上官', '诸葛', '东方', '皇甫', '尉迟', '公孙', '慕容', '长孙', '夏侯', '司徒',
  '令狐', '宇文', '端木', '申屠', '轩辕', '独孤', '南宫', '西门', '呼延', '澹台', '太史', '万俟',
]);

const capitalise = (s: string): string => s.charAt(0).toUpperCase() + s.slice(1);
const cache = new Map<string, string>();

/**
 * Latin form of a name as hospitals and passports write it: zh-CN gives toneless pinyin,
 * family first, given syllables joined ("Chen Xiaoli"), with ü written yu as on PRC passports
 * (吕 → Lyu). Surname readings are used for the family part (单 → Shan, not Dan). `family`
 * says where the surname ends; without it a compound surname is recognised, else one character.
 * en-US names are already Latin and returned unchanged.
 */
export function latinOf(text: string, locale: Locale, family?: string): string {
  if (locale !== 'zh-CN' || !/\p{Script=Han}/u.test(text)) return text;
  const key = `${family ?? ''}\u0000${text}`;
  const hit = cache.get(key);
  if (hit !== undefined) return hit;
  const chars = [...text];
  const familyLength = family !== undefined && text.startsWith(family)
    ? [...family].length
    : COMPOUND_SURNAMES.has(chars.slice(0, 2).join('')) ? 2 : 1;
  const syllables = pinyin(text, { toneType: 'none', surname: 'head', type: 'array' })
    .map((s) => s.replace(/ü/g, 'yu').replace(/\s+/g, ''));
  const latin = syllables.length === chars.length
    ? [syllables.slice(0, familyLength), syllables.slice(familyLength)]
        .filter((part) => part.length > 0)
        .map((part) => capitalise(part.join('')))
        .join(' ')
    : syllables.map(capitalise).join(' '); // mixed scripts: no reliable split, keep syllables apart
  if (cache.size > 100_000) cache.clear(); // bounded: generation is streaming
  cache.set(key, latin);
  return latin;
}

/** True when the Levenshtein distance between a and b, counted in code points, is at most 1. */
export function withinOneEdit(a: string, b: string): boolean {
  if (a === b) return true;
  let x = [...a], y = [...b];
  if (x.length > y.length) [x, y] = [y, x];
  if (y.length - x.length > 1) return false;
  let i = 0;
  while (i < x.length && x[i] === y[i]) i++;
  // After the first difference, the rest must match either skipping one in y (insertion) or
  // one in each (substitution).
  const skip = x.length === y.length ? 1 : 0;
  for (let j = i + skip; j < x.length; j++) if (x[j] !== y[j + (1 - skip)]) return false;
  return true;
}

const latinKey = (latin: string): string => latin.normalize('NFKD').toLowerCase().replace(/[^a-z]/g, '');

/**
 * Could a contact naming one of these two people be taken for the other? True when the full names
 * are within one edit (a typo, or 陈*丽 masking one character, fits both) or read the same in Latin
 * letters (陈婷婷 and 陈亭亭 are both "Chen Tingting" in a pinyin SMS).
 */
export function confusable(a: { full: string; latin: string }, b: { full: string; latin: string }): boolean {
  return withinOneEdit(a.full, b.full) || latinKey(a.latin) === latinKey(b.latin);
}

const deleteAt = (chars: readonly string[], i: number): string => chars.slice(0, i).join('') + chars.slice(i + 1).join('');

/**
 * Set of names answering "is anything within one edit of this?" in O(length) look-ups
 * (symmetric delete). For each indexed name it stores the name and each one-code-point
 * deletion; deletions are also stored with their position, because two names differ by one
 * substitution exactly when deleting the same position from both gives the same string
 * (without the position, "ab" and "ba" would falsely match through "a").
 */
export class NameIndex {
  private readonly names = new Set<string>();
  private readonly deletions = new Set<string>();
  private readonly positioned = new Set<string>();

  constructor(names: Iterable<string> = []) {
    for (const name of names) this.add(name);
  }

  get size(): number {
    return this.names.size;
  }

  /** Index each name given (a family's parents: a missing father is undefined). */
  add(...names: (string | undefined)[]): void {
    for (const name of names) {
      if (name === undefined || this.names.has(name)) continue;
      this.names.add(name);
      const chars = [...name];
      for (let i = 0; i < chars.length; i++) {
        const d = deleteAt(chars, i);
        this.deletions.add(d);
        this.positioned.add(`${i}\u0000${d}`);
      }
    }
  }

  has(name: string): boolean {
    return this.names.has(name);
  }

  /** True when an indexed name equals `name` or is one substitution, insertion or deletion away. */
  conflicts(name: string): boolean {
    if (this.names.has(name) || this.deletions.has(name)) return true; // equal, or name + 1 char is indexed
    const chars = [...name];
    for (let i = 0; i < chars.length; i++) {
      const d = deleteAt(chars, i);
      if (this.names.has(d) || this.positioned.has(`${i}\u0000${d}`)) return true;
    }
    return false;
  }
}
