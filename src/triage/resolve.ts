import type { Family } from '../domain/index.js';
import { isHan, isLatinLetter } from '../lib/match/chars.js';
import { CanaryMatcher, type CanarySignature } from '../lib/match/matcher.js';
import { signatureOf } from '../lib/match/signature.js';
import { birthDates } from '../lib/birth-dates.js';
import { mentionsDate } from './score.js';

// Which canary a contact is about (pure): the canaries that held its trap number or mailbox, and what
// the message says. With pool.sharing "shared" several live canaries hold a number at once
// (docs/trace.md, "Shared trap numbers"), so a contact may not resolve to one: it then names the set.
//
//   1. Names in the message (characters, pinyin, a masked name, as scan matches them) pick the holder
//      they name, among every canary that ever held the number (the latest first).
//   2. Else a birth date in the message picks the one holder whose baby was born that day.
//   3. Else every canary that held the number before the contact is a candidate (still holding it, or
//      released: old lists circulate): one holder, the contact is resolved to it; two or more, it is
//      ambiguous, and the hit keeps the set, whose latest holder is its canary_id. The trace weighs the
//      set with time (a candidate exposed after the leak explains nothing), docs/trace.md. A set
//      narrowed by a window of time instead (only recent holders) was measured: a contact on an old
//      list then points to the number's new holders, and the trace names a wrong source with
//      confidence (docs/trace.md, "Shared trap numbers").

const NAME_KINDS = new Set(['name', 'name-pinyin', 'masked-name']);

export interface Holder {
  canary_id: string;
  family: Family;
  assigned_at: Date;
  released_at: Date | null;
}

export interface Resolution<H extends Holder> {
  /** The canary, or for an ambiguous contact the latest of its candidates (the hit's canary_id). */
  holder: H;
  /** Names of the holder found in the message, as written there. */
  names: string[];
  /** The baby's birth date, when the message mentions it. */
  babyBirthDate: string | null;
  /** Two or more canary ids when the contact could not be resolved to one; null when it was. */
  candidates: string[] | null;
}

/** Local dates of the baby's birth a message may give (src/lib/birth-dates.ts). */
export { birthDates };

/**
 * Whether the text may hold a name of these canaries, as the matcher finds names: false only when it
 * has no Latin letter (a name or its pinyin), no Han character of their names (a whole, masked or
 * spaced name shows at least one), and nothing else but punctuation. A matcher costs megabytes of
 * filters to build; most texts to a trap (a dialer's spam) name no one, and skip it.
 */
export function mayName(text: string, signatures: readonly CanarySignature[]): boolean {
  let chars: Set<number> | null = null;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c < 0x2000) {
      if (isLatinLetter(c)) return true;
      continue;
    }
    if (isHan(c)) {
      chars ??= new Set(signatures.flatMap((s) => s.names.flatMap((n) => [...n.full].flatMap((ch) => Array.from({ length: ch.length }, (_, k) => ch.charCodeAt(k))))));
      if (chars.has(c)) return true;
      continue;
    }
    // General and CJK punctuation, full-width punctuation and digits: no part of a name.
    if ((c <= 0x206f) || (c >= 0x3000 && c <= 0x303f && c !== 0x3007) || (c >= 0xfe30 && c <= 0xfe4f) || (c >= 0xff01 && c <= 0xff20) || (c >= 0xff3b && c <= 0xff40) || (c >= 0xff5b && c <= 0xff65)) continue;
    return true;
  }
  return false;
}

/** `holders`: every canary that held the number (or mailbox) at or before the contact, the latest first; at least one. */
export function resolveContact<H extends Holder>(holders: readonly H[], text: string): Resolution<H> {
  const birthOf = (h: H) => birthDates(h.family.baby.birthTime).find((d) => mentionsDate(text, d)) ?? null;
  const named = new Map<string, string[]>();
  const signatures = text ? holders.map((h) => signatureOf(h.canary_id, h.family)) : [];
  if (text && mayName(text, signatures)) {
    const matcher = new CanaryMatcher(signatures, { fit: true });
    for (const m of matcher.matchRecord(text)) {
      const names = m.hits.filter((h) => NAME_KINDS.has(h.kind)).map((h) => h.matched);
      if (names.length) named.set(m.canaryId, [...new Set(names)]);
    }
  }
  const byName = holders.find((h) => named.has(h.canary_id));
  if (byName) return { holder: byName, names: named.get(byName.canary_id)!, babyBirthDate: birthOf(byName), candidates: null };
  const born = text ? holders.filter((h) => birthOf(h) !== null) : [];
  if (born.length === 1) return { holder: born[0], names: [], babyBirthDate: birthOf(born[0]), candidates: null };
  // Several holders born on the date the message gives: the set is those.
  const set = born.length > 1 ? born : holders;
  const holder = set[0];
  return { holder, names: [], babyBirthDate: born.length > 1 ? birthOf(holder) : null, candidates: set.length > 1 ? [...new Set(set.map((h) => h.canary_id))].sort() : null };
}
