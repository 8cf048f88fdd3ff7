// How sure a contact with a trap is a leak at work, and why: pure logic, explained in the README.
//
// Each piece of evidence is an independent reason with a weight w in [0, 1): the chance it alone
// would make the contact a leak. They combine as a noisy-OR, confidence = 1 − Π(1 − w):
//   trap          the number or mailbox exists only in the canary's records: 0.6 while the canary
//                 holds it, 0.4 after it was released (old lists circulate)
//   names         the message says the canary's name (characters or pinyin, as scan matches them): 0.9
//   birth-date    it mentions the baby's birth date: 0.8
//   same-sender   the same caller or sender contacted other canaries too: 0.85
//   shared-number the trap is shared by several canaries and the message names none (weight 0: a
//                 note; the set of candidates goes to the trace, docs/trace.md)
// Discounts multiply the trap's weight (they are evidence that the contact came by chance):
//   background    contacts the number got while no canary held it (burn-in, random dialling,
//                 recycled-number traffic) at λ a day: e^(−7λ)
//   dialer        the sender called u ≥ DIALER_MIN numbers no canary had held when it called them
//                 (within SENDER_WINDOW_MS): a robodialer reaching traps by chance, 3 / (3 + u);
//                 its contacts with other canaries are then chance too, so same-sender is dropped
//   carrier       the sender is the mobile carrier's own service number (10086…), which texts every
//                 SIM: 0, and same-sender is dropped; what the message says still counts (src/lib/carriers.ts)
// A contact that names no family, gives no birth date and comes from a dialer is thus below LOW,
// whatever the number. Each reason also carries its effect: its share of the confidence (the
// Shapley value of the combination, so the effects add up to the confidence; a discount's is
// negative), which `cradle hits` shows as "names the family +0.36; … sender called 12 unrelated
// numbers −0.34".
// A hit below LOW is kept as a record but joins no incident and raises no alert.

export const LOW = 0.5;
/** A sender who called this many numbers no canary had held is a dialer: its contacts come by chance. */
export const DIALER_MIN = 3;
/** How far either side of a contact the sender's other contacts count. */
export const SENDER_WINDOW_MS = 7 * 86_400_000;

const W = { trap: 0.6, releasedTrap: 0.4, names: 0.9, birthDate: 0.8, sameSender: 0.85 } as const;

export type ReasonCode = 'trap' | 'released-trap' | 'names' | 'birth-date' | 'same-sender' | 'background' | 'dialer' | 'carrier' | 'shared-number' | 'other';
const DISCOUNTS: ReadonlySet<ReasonCode> = new Set(['background', 'dialer', 'carrier']);
const TRAPS: ReadonlySet<ReasonCode> = new Set(['trap', 'released-trap']);

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
  /** Distinct numbers the same sender called (within SENDER_WINDOW_MS) that no canary had held when it called them. */
  unrelatedNumbers?: number;
  /** The sender is this carrier's service number (carrierOf). */
  carrier?: { number: string; carrier: string } | null;
  /** Canaries the contact may be about (a shared number it could not be resolved on); 1 or absent: resolved. */
  candidates?: number;
}

export interface Reason {
  code: ReasonCode;
  /** A few words for tables: "names the family", "sender called 12 unrelated numbers". */
  label: string;
  /** The whole sentence. */
  reason: string;
  /** Evidence: the chance it alone would make the contact a leak. A discount: the factor it multiplies the trap's weight by. */
  weight: number;
  /** Its share of the confidence (negative for a discount); a hit's effects add up to its confidence. */
  effect: number;
}

export interface Judgement {
  confidence: number;
  reasons: Reason[];
}

type Draft = Omit<Reason, 'effect'>;

const plural = (n: number, one: string, many: string) => `${n} ${n === 1 ? one : many}`;

function trapReason(held: boolean): Draft {
  return held
    ? { code: 'trap', label: 'trap held by the canary', reason: 'contacted a trap the canary holds: it exists only in the canary\'s records', weight: W.trap }
    : { code: 'released-trap', label: 'trap the canary held before', reason: 'contacted a trap the canary held before it was released: old lists circulate', weight: W.releasedTrap };
}

function sameSenderReason(n: number): Draft {
  return { code: 'same-sender', label: `sender contacted ${plural(n, 'other canary', 'other canaries')}`, reason: `the same sender contacted ${plural(n, 'other canary', 'other canaries')}`, weight: W.sameSender };
}

function dialerReason(u: number): Draft {
  return {
    code: 'dialer',
    label: `sender called ${plural(u, 'unrelated number', 'unrelated numbers')}`,
    reason: `the same sender called ${plural(u, 'number', 'numbers')} no canary held at the time: a dialer reaching traps by chance, so the trap counts for less and its other canaries are no evidence`,
    weight: round(DIALER_MIN / (DIALER_MIN + u)),
  };
}

function carrierReason(c: { number: string; carrier: string }): Draft {
  return {
    code: 'carrier',
    label: `sender is ${c.carrier}'s service number`,
    reason: `the sender ${c.number} is ${c.carrier}'s own service number, which texts every SIM it serves, so the trap is no evidence and its other canaries are none either`,
    weight: 0,
  };
}

export function scoreHit(e: HitEvidence): Judgement {
  const drafts: Draft[] = [trapReason(e.heldAtTime)];
  if (e.background && e.background.contacts > 0 && e.background.days > 0) {
    const perDay = e.background.contacts / e.background.days;
    drafts.push({
      code: 'background',
      label: `number got ${plural(e.background.contacts, 'background contact', 'background contacts')}`,
      reason: `the number got ${plural(e.background.contacts, 'contact', 'contacts')} in ${e.background.days.toFixed(0)} day(s) while no canary held it (random dialling), so the trap counts for less`,
      weight: round(Math.exp(-7 * perDay)),
    });
  }
  if (e.names.length) drafts.push({ code: 'names', label: 'names the family', reason: `the message names the canary: ${e.names.join(', ')}`, weight: W.names });
  if (e.babyBirthDate) drafts.push({ code: 'birth-date', label: 'birth date', reason: `the message mentions the baby's birth date ${e.babyBirthDate}`, weight: W.birthDate });
  const dialer = (e.unrelatedNumbers ?? 0) >= DIALER_MIN;
  if (e.otherCanaries > 0 && !dialer && !e.carrier) drafts.push(sameSenderReason(e.otherCanaries));
  if (dialer) drafts.push(dialerReason(e.unrelatedNumbers!));
  if (e.carrier) drafts.push(carrierReason(e.carrier));
  // Weight 0: the number is as much a trap shared as alone; the set goes to the trace, not the confidence.
  if ((e.candidates ?? 1) > 1) drafts.push({ code: 'shared-number', label: `shared number: one of ${e.candidates} canaries`, reason: `the number is shared by ${e.candidates} canaries and the message names none of them: the trace weighs each`, weight: 0 });
  return judge(drafts);
}

/** The confidence of these reasons together: discounts scale the trap's weight, then the noisy-OR. */
function combine(reasons: readonly Draft[]): number {
  const factor = reasons.filter((r) => DISCOUNTS.has(r.code)).reduce((p, r) => p * r.weight, 1);
  const miss = reasons.filter((r) => !DISCOUNTS.has(r.code)).reduce((p, r) => p * (1 - (TRAPS.has(r.code) ? r.weight * factor : r.weight)), 1);
  return 1 - miss;
}

/** Confidence and each reason's effect: its Shapley value over the combination (exact; a hit has a handful of reasons). */
export function judge(drafts: readonly Draft[]): Judgement {
  const n = drafts.length;
  const value = new Map<number, number>();
  const v = (mask: number) => {
    let x = value.get(mask);
    if (x === undefined) value.set(mask, (x = combine(drafts.filter((_, i) => mask & (1 << i)))));
    return x;
  };
  const fact = (k: number): number => (k <= 1 ? 1 : k * fact(k - 1));
  const reasons = drafts.map((d, i) => {
    let phi = 0;
    for (let mask = 0; mask < 1 << n; mask++) {
      if (mask & (1 << i)) continue;
      const size = popcount(mask);
      phi += ((fact(size) * fact(n - size - 1)) / fact(n)) * (v(mask | (1 << i)) - v(mask));
    }
    return { ...d, effect: round(phi) };
  });
  return { confidence: round(v((1 << n) - 1)), reasons };
}

const popcount = (x: number) => {
  let c = 0;
  for (; x; x &= x - 1) c++;
  return c;
};

const round = (x: number) => Math.round(x * 1000) / 1000;

/** A stored reason as older versions wrote it ({ reason, weight }) or as this one does. */
export interface StoredReason {
  code?: string;
  label?: string;
  reason: string;
  weight: number;
  effect?: number;
}

const LEGACY: [RegExp, ReasonCode, string][] = [
  [/^contacted a trap the canary holds/, 'trap', 'trap held by the canary'],
  [/^contacted a trap the canary held before/, 'released-trap', 'trap the canary held before'],
  [/^the message names the canary/, 'names', 'names the family'],
  [/^the message mentions the baby/, 'birth-date', 'birth date'],
  [/^the same sender contacted/, 'same-sender', 'sender contacted other canaries'],
];
const CODES: ReadonlySet<string> = new Set<ReasonCode>(['trap', 'released-trap', 'names', 'birth-date', 'same-sender', 'background', 'dialer', 'carrier', 'shared-number', 'other']);

/** Reasons as stored, with code, label and effect filled in for rows older versions wrote. */
export function explain(stored: readonly StoredReason[]): Judgement {
  const drafts = stored.map((r): Draft => {
    if (r.code && CODES.has(r.code)) return { code: r.code as ReasonCode, label: r.label ?? r.reason, reason: r.reason, weight: Number(r.weight) };
    const known = LEGACY.find(([re]) => re.test(r.reason));
    return { code: known?.[1] ?? 'other', label: known?.[2] ?? r.reason, reason: r.reason, weight: Number(r.weight) };
  });
  return judge(drafts);
}

/**
 * An earlier hit re-judged with what is known of its sender now: `otherCanaries` other canaries
 * with active hits from it, `unrelatedNumbers` numbers it called that no canary held. The other
 * reasons stay as they were judged.
 */
export function rejudge(stored: readonly StoredReason[], sender: { otherCanaries: number; unrelatedNumbers: number }): Judgement {
  const kept = explain(stored).reasons.filter((r) => r.code !== 'same-sender' && r.code !== 'dialer');
  const drafts: Draft[] = kept.map(({ effect: _, ...d }) => d);
  if (sender.unrelatedNumbers >= DIALER_MIN) drafts.push(dialerReason(sender.unrelatedNumbers));
  else if (sender.otherCanaries > 0 && !kept.some((r) => r.code === 'carrier')) drafts.push(sameSenderReason(sender.otherCanaries));
  return judge(drafts);
}

/** "trap held by the canary +0.24; names the family +0.68; sender called 12 unrelated numbers −0.30". */
export function formatReasons(reasons: readonly Pick<Reason, 'label' | 'effect'>[]): string {
  return reasons.map((r) => `${r.label} ${r.effect < 0 ? '−' : '+'}${Math.abs(r.effect).toFixed(2)}`).join('; ');
}

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
