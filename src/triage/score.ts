// How sure a contact with a trap is a leak at work, and why: pure logic, explained in the README.
//
// Each piece of evidence is an independent reason with a weight w in [0, 1): the chance it alone
// would make the contact a leak. They combine as a noisy-OR, confidence = 1 − Π(1 − w):
//   trap          the number or mailbox exists only in the canary's records: 0.6 while the canary
//                 holds it, 0.4 after it was released (old lists circulate), lowered by the number's
//                 background rate: contacts it got while no canary held it (random dialling,
//                 recycled-number traffic) at λ a day scale it by e^(−7λ)
//   named         the message says the canary's name (characters or pinyin, as scan matches them): 0.9
//   baby          it mentions the baby's birth date: 0.8
//   same sender   the same caller or sender contacted other canaries too: 0.85
// A hit below LOW is kept as a record but raises no alert.

export const LOW = 0.5;

export interface HitEvidence {
  /** The canary held the trap when the contact came (false: it had been released). */
  heldAtTime: boolean;
  /** Contacts the trap got while no canary held it, and over how many days. */
  background: { contacts: number; days: number } | null;
  /** Names of the canary found in the message, as written there. */
  names: string[];
  /** The baby's birth date, when the message mentions it. */
  babyBirthDate: string | null;
  /** Other canaries the same sender contacted. */
  otherCanaries: number;
}

export interface Reason {
  reason: string;
  weight: number;
}

export function scoreHit(e: HitEvidence): { confidence: number; reasons: Reason[] } {
  const reasons: Reason[] = [];
  let trap = e.heldAtTime ? 0.6 : 0.4;
  let trapReason = e.heldAtTime ? 'contacted a trap the canary holds: it exists only in the canary\'s records' : 'contacted a trap the canary held before it was released: old lists circulate';
  if (e.background && e.background.contacts > 0 && e.background.days > 0) {
    const perDay = e.background.contacts / e.background.days;
    trap *= Math.exp(-7 * perDay);
    trapReason += `; but it got ${e.background.contacts} contact(s) in ${e.background.days.toFixed(0)} day(s) while no canary held it (random dialling), so this counts for less`;
  }
  reasons.push({ reason: trapReason, weight: round(trap) });
  if (e.names.length) reasons.push({ reason: `the message names the canary: ${e.names.join(', ')}`, weight: 0.9 });
  if (e.babyBirthDate) reasons.push({ reason: `the message mentions the baby's birth date ${e.babyBirthDate}`, weight: 0.8 });
  if (e.otherCanaries > 0) reasons.push({ reason: sameSenderReason(e.otherCanaries), weight: SAME_SENDER });
  const confidence = 1 - reasons.reduce((p, r) => p * (1 - r.weight), 1);
  return { confidence: round(confidence), reasons };
}

const round = (x: number) => Math.round(x * 1000) / 1000;

/** Ways a birth date is written in a message: 2026-11-03, 2026/11/3, 2026年11月3日, 11月3日. */
export function mentionsDate(text: string, isoDate: string): boolean {
  const [y, m, d] = isoDate.split('-').map(Number);
  const forms = [
    `${y}-${pad(m)}-${pad(d)}`, `${y}/${m}/${d}`, `${y}/${pad(m)}/${pad(d)}`, `${y}.${m}.${d}`, `${y}.${pad(m)}.${pad(d)}`,
    `${y}年${m}月${d}日`, `${m}月${d}日`, `${m}月${d}号`, `${pad(m)}月${pad(d)}日`,
  ];
  return forms.some((f) => text.includes(f));
}

const pad = (n: number) => String(n).padStart(2, '0');

/**
 * An earlier hit re-judged now that its sender turned up on `others` other canaries: the same-sender
 * reason is added (or its count raised) and the confidence recombined.
 */
export function withSameSender(reasons: readonly Reason[], others: number): { confidence: number; reasons: Reason[] } {
  const kept = reasons.filter((r) => !r.reason.startsWith('the same sender contacted'));
  const next = [...kept, { reason: sameSenderReason(others), weight: SAME_SENDER }];
  return { confidence: round(1 - next.reduce((p, r) => p * (1 - r.weight), 1)), reasons: next };
}

const SAME_SENDER = 0.85;
const sameSenderReason = (n: number) => `the same sender contacted ${n} other canar${n === 1 ? 'y' : 'ies'}`;

/** Messages this alike (character bigrams, Jaccard) are one script sent around: the same campaign. */
export const SIMILAR = 0.5;

/**
 * How alike two messages are: Jaccard similarity of their character bigrams, ignoring digits and
 * spaces (a scam script keeps its words and changes the names and numbers).
 */
export function similarity(a: string, b: string): number {
  const grams = (t: string) => {
    const s = t.replace(/[\s\d０-９]+/g, '').toLowerCase();
    const set = new Set<string>();
    for (let i = 0; i + 1 < s.length; i++) set.add(s.slice(i, i + 2));
    return set;
  };
  const [x, y] = [grams(a), grams(b)];
  if (x.size === 0 || y.size === 0) return 0;
  let common = 0;
  for (const g of x) if (y.has(g)) common++;
  return common / (x.size + y.size - common);
}
