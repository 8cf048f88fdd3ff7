// From hits to a judgement per canary: how sure is it that this record is the canary?
//
// - A trap phone or trap mailbox written out in full is decisive (0.99): nobody else has it.
// - A masked phone (138****5678) shows 7 of 11 digits: about 1 Chinese mobile in 10⁴ with that
//   prefix fits, so alone it is a lead (0.3). Beside a name of the same canary it is the canary
//   (0.95), or 0.9 when that name is itself masked (陈*华).
// - A masked phone hiding the last four digits (1381234****) shows the number block, and trap
//   numbers are bought in consecutive blocks: it cannot tell canaries apart, so it counts only
//   with a name of the same canary (0.9; 0.85 with a masked name) and is otherwise dropped.
// - Names repeat in a population. A full name in characters alone is 0.5 (0.45 inside a longer run
//   of characters, 0.2 for a two-character name inside one, as in 联系人王丽女士; han-names.ts
//   drops 王丽 inside a three-character run such as 王丽娟: that is someone else's name);
//   pinyin alone 0.35 (0.2 for keys under six letters: "Li Na" is also an English name);
//   a masked name alone 0.25 (0.15 inside a longer run).
// - Several different names of the same canary add up as independent evidence, capped at
//   NAMES_CAP (0.55). Two common names together still repeat: in 10,000 synthetic records of real
//   families, one held both "Robert Lee" and "Sarah Lee" of a canary couple; over an 8M-row dump
//   with 10,000 canaries such pairs are expected by the dozen. Without name frequencies a record
//   cannot do better; the scan's incident level (many records, one source) decides.
import { foldLatin } from './chars.js';
import type { Hit, MatchKind, RecordMatch } from './types.js';

export const CONFIDENCE = {
  exact: 0.99,
  maskedPhoneWithName: 0.95,
  maskedPhoneWithMaskedName: 0.9,
  tailMaskWithName: 0.9,
  tailMaskWithMaskedName: 0.85,
  maskedPhoneAlone: 0.3,
  name: 0.5,
  nameInRun: 0.45,
  shortNameInRun: 0.2,
  pinyin: 0.35,
  shortPinyin: 0.2,
  maskedName: 0.25,
  maskedNameInRun: 0.15,
} as const;

/** Names alone, however many, stay below this. */
export const NAMES_CAP = 0.55;

const NAME_KINDS: ReadonlySet<MatchKind> = new Set(['name', 'name-pinyin', 'masked-name']);

/** What one name hit is worth on its own. */
export function nameWeight(hit: Hit): number {
  switch (hit.kind) {
    case 'name':
      if (hit.whole) return CONFIDENCE.name;
      return [...hit.value].length >= 3 ? CONFIDENCE.nameInRun : CONFIDENCE.shortNameInRun;
    case 'name-pinyin':
      return foldLatin(hit.matched).length >= 6 ? CONFIDENCE.pinyin : CONFIDENCE.shortPinyin;
    case 'masked-name':
      return hit.whole ? CONFIDENCE.maskedName : CONFIDENCE.maskedNameInRun;
    default:
      return 0;
  }
}

const LABEL: Record<MatchKind, string> = {
  phone: 'phone',
  'masked-phone': 'masked phone',
  email: 'e-mail',
  name: 'name',
  'name-pinyin': 'pinyin name',
  'masked-name': 'masked name',
};

function describe(hit: Hit): string {
  const as = hit.matched === hit.value ? '' : ` (${hit.value})`;
  const where = NAME_KINDS.has(hit.kind) && !hit.whole ? ' inside a longer run of characters' : '';
  return `${LABEL[hit.kind]} "${hit.matched}"${as}${where}`;
}

/** The best hit per name of the canary, leaving out names found only inside a longer name hit (王丽 in 王丽华). */
function bestNames(hits: readonly Hit[]): { hit: Hit; weight: number }[] {
  const names = hits.filter((h) => NAME_KINDS.has(h.kind));
  const outer = names.filter((h) => !names.some((g) => g !== h && g.start <= h.start && h.end <= g.end && g.end - g.start > h.end - h.start));
  const best = new Map<string, { hit: Hit; weight: number }>();
  for (const hit of outer) {
    const weight = nameWeight(hit);
    const seen = best.get(hit.value);
    // Equal weights: prefer the hit inside one field ("Sarah Lee" over "Lee,Sarah" across two).
    if (!seen || weight > seen.weight || (weight === seen.weight && acrossFields(seen.hit) && !acrossFields(hit))) best.set(hit.value, { hit, weight });
  }
  return [...best.values()].sort((a, b) => b.weight - a.weight);
}

const acrossFields = (hit: Hit): boolean => /[,\t]/.test(hit.matched);

/** Independent pieces of evidence: 1 − Π(1 − wᵢ). */
function combine(weights: readonly number[]): number {
  return 1 - weights.reduce((rest, w) => rest * (1 - w), 1);
}

const round = (x: number): number => Math.round(x * 1000) / 1000;

/** The judgement for one canary's hits in one record, or null when they do not count (an unconfirmed tail mask). */
export function judge(canaryId: string, hits: Hit[]): RecordMatch | null {
  const exact = hits.filter((h) => h.kind === 'phone' || h.kind === 'email');
  const middle = hits.filter((h) => h.kind === 'masked-phone' && h.mask !== 'tail');
  const tail = hits.filter((h) => h.kind === 'masked-phone' && h.mask === 'tail');
  const names = bestNames(hits);
  const nameText = names.map((n) => describe(n.hit)).join(' and ');
  const unmasked = names.some((n) => n.hit.kind !== 'masked-name');
  const result = (confidence: number, reason: string): RecordMatch => ({ canaryId, hits, confidence: round(confidence), reason });

  if (exact.length > 0) {
    const others = hits.filter((h) => !exact.includes(h)).map(describe);
    const trap = exact[0].kind === 'phone' ? 'trap phone' : 'trap mailbox';
    return result(
      CONFIDENCE.exact,
      `${describe(exact[0])} is the canary's own ${trap}, which no real family has` +
        (exact.length > 1 ? `; ${exact.slice(1).map(describe).join(', ')} too` : '') +
        (others.length > 0 ? `; also ${[...new Set(others)].join(', ')}` : ''),
    );
  }
  const masked = middle[0] ?? tail[0];
  if (masked && names.length > 0) {
    const confidence = middle.length > 0
      ? (unmasked ? CONFIDENCE.maskedPhoneWithName : CONFIDENCE.maskedPhoneWithMaskedName)
      : (unmasked ? CONFIDENCE.tailMaskWithName : CONFIDENCE.tailMaskWithMaskedName);
    return result(confidence, `${describe(masked)} fits the canary's phone and ${nameText} of the same canary confirms it`);
  }
  if (middle.length > 0) {
    const phones = new Set(middle.map((h) => h.value)).size;
    return result(
      combine(Array(phones).fill(CONFIDENCE.maskedPhoneAlone)),
      `${middle.map(describe).join(' and ')} fits the canary's phone, but only 7 digits are visible ` +
        '(about 1 number in 10,000 with that prefix fits) and no name in the record confirms it',
    );
  }
  if (names.length > 0) {
    const confidence = Math.min(NAMES_CAP, combine(names.map((n) => n.weight)));
    return result(
      confidence,
      `${nameText} ${names.length > 1 ? 'are names' : 'is a name'} of the canary, but names repeat in a population and nothing ` +
        'in the record that only the canary has (phone, e-mail) is there',
    );
  }
  return null; // only a tail-masked phone: the number block alone names no canary
}

/** Hits grouped by canary and judged, most certain first. */
export function scoreHits(hits: readonly Hit[]): RecordMatch[] {
  const byCanary = new Map<string, Hit[]>();
  for (const hit of hits) {
    const list = byCanary.get(hit.canaryId);
    if (list) list.push(hit);
    else byCanary.set(hit.canaryId, [hit]);
  }
  const matches: RecordMatch[] = [];
  for (const [canaryId, list] of byCanary) {
    const match = judge(canaryId, list);
    if (match) matches.push(match);
  }
  return matches.sort((a, b) => b.confidence - a.confidence || a.hits[0].start - b.hits[0].start);
}
