// Chinese addresses as templates: an address (digits already written #) cut into tokens, each proper
// noun (town, community, road, compound) a slot named by its kind, so that a hospital's own address
// forms can be learned as templates and refilled with its district's own words. Pure.

export interface AddressToken {
  text: string;
  /** The slot this proper noun fills ({镇}, {社区}, {路}, {小区}, {名}), or null for literal text. */
  slot: string | null;
  /** An administrative name (province, city, district, county): kept literally, it names the district. */
  admin: boolean;
}

// Suffixes, longest first, with the slot they make (null: administrative, kept literally).
const SUFFIXES: [string, string | null][] = (
  [
    ['自治区', null], ['居委会', '社区'], ['村委会', '村'],
    ['街道', '镇'], ['社区', '社区'], ['小区', '小区'], ['花园', '小区'], ['新村', '小区'], ['家园', '小区'], ['公寓', '小区'], ['广场', '小区'], ['大厦', '小区'], ['大道', '路'],
    ['省', null], ['市', null], ['区', null], ['县', null],
    ['镇', '镇'], ['乡', '镇'], ['村', '村'],
    ['路', '路'], ['街', '路'], ['巷', '路'], ['道', '路'],
    ['苑', '小区'], ['府', '小区'], ['庭', '小区'], ['园', '小区'], ['城', '小区'], ['湾', '小区'], ['里', '小区'],
  ] as [string, string | null][]
).sort((a, b) => b[0].length - a[0].length);
// Words that follow a number (#幢, #单元, ###室), longest first.
const UNITS = ['号楼', '单元', '号', '幢', '栋', '室', '楼', '层', '组', '座', '期', '弄', '户', '区', '排', '巷'];
/** The words a number of an address is counted under in a profile (FamilyProfile.addresses.numbers), longest first. */
export const ADDRESS_NUMBER_UNITS: readonly string[] = UNITS;

/** The unit a run of digits is counted under: the word after it (幢, 室, `-`), `$` at the end, '' for anything else. */
export function numberUnit(after: string): string {
  if (after === '') return '$';
  return UNITS.find((u) => after.startsWith(u)) ?? (after.startsWith('-') ? '-' : '');
}

const HAN = /\p{Script=Han}/u;

function suffixAt(chars: string[], end: number): [string, string | null] | null {
  const text = chars.slice(0, end).join('');
  for (const s of SUFFIXES) if (text.endsWith(s[0])) return s;
  return null;
}

function startsWithSuffix(chars: string[], at: number): string | null {
  const rest = chars.slice(at, at + 3).join('');
  for (const [s] of SUFFIXES) if (rest.startsWith(s)) return s;
  return null;
}

/** Cut an address (digits written #) into literal and slot tokens. */
export function addressTokens(address: string): AddressToken[] {
  const chars = [...address];
  const out: AddressToken[] = [];
  const literal = (text: string): void => {
    const last = out.at(-1);
    if (last && last.slot === null && !last.admin) last.text += text;
    else out.push({ text, slot: null, admin: false });
  };
  let i = 0;
  // Where the last Han token ended: a token starting there continues the same run of characters.
  let hanEnd = -1;
  while (i < chars.length) {
    if (chars[i] === '#') {
      let j = i;
      while (j < chars.length && chars[j] === '#') j++;
      const rest = chars.slice(j, j + 2).join('');
      const unit = UNITS.find((u) => rest.startsWith(u)) ?? '';
      literal(chars.slice(i, j).join('') + unit);
      i = j + [...unit].length;
      continue;
    }
    if (!HAN.test(chars[i])) {
      literal(chars[i]);
      i++;
      continue;
    }
    let runEnd = i;
    while (runEnd < chars.length && HAN.test(chars[runEnd])) runEnd++;
    // The shortest token of at least two characters that ends in a suffix; a token whose name part is
    // at most one character (新城, 花园) takes the suffix word that follows (新城花园, 花园社区).
    let end = -1;
    let kind: [string, string | null] | null = null;
    for (let e = i + 2; e <= runEnd; e++) {
      const s = suffixAt(chars.slice(i, e), e - i);
      if (s) {
        end = e;
        kind = s;
        break;
      }
    }
    if (end < 0 || !kind) {
      // A name with no suffix, named by the slot it follows (前塘 after a village, 帝景 after 新城): a
      // village's hamlet is not refilled with an estate's word.
      const before = [...out].reverse().find((t) => t.slot !== null || t.admin);
      const text = chars.slice(i, runEnd).join('');
      // The rest of an estate's name (新城 + 南都): one word of the estate.
      if (hanEnd === i && before === out.at(-1) && before?.slot === '小区') before.text += text;
      else out.push({ text, slot: before?.slot ? `名${before.slot}` : '名', admin: false });
      i = hanEnd = runEnd;
      continue;
    }
    // A longer suffix that the found one begins (街 → 街道).
    for (const extra of [1, 2]) {
      if (end + extra > runEnd) break;
      const longer = suffixAt(chars.slice(i, end + extra), end + extra - i);
      if (longer && [...longer[0]].length > extra) {
        end += extra;
        kind = longer;
        break;
      }
    }
    for (;;) {
      const namePart = end - i - [...kind[0]].length;
      const next = end < runEnd ? startsWithSuffix(chars, end) : null;
      if (namePart > 1 || !next || end + [...next].length > runEnd) break;
      end += [...next].length;
      kind = SUFFIXES.find((s) => s[0] === next)!;
    }
    const text = chars.slice(i, end).join('');
    const last = out.at(-1);
    // A bare suffix word right after a name (青山湾 + 花园, 卢家巷 + 社区): one word, of the suffix's kind.
    if (kind[1] !== null && text === kind[0] && hanEnd === i && last?.slot && !last.slot.startsWith('名')) {
      last.text += text;
      last.slot = kind[1];
    } else out.push(kind[1] === null ? { text, slot: null, admin: true } : { text, slot: kind[1], admin: false });
    i = hanEnd = end;
  }
  return out;
}

/**
 * The vocabulary key of a slot, given the template text after it: a name with no suffix word (名村: a
 * hamlet 西庄 before a group, or the bare 委 of 村委12号) is keyed by the unit after its number too, so
 * that each form keeps its own words; any other slot is its own key.
 */
export function slotKey(slot: string, after: string): string {
  const digits = /^#+\*?/.exec(after);
  return slot.startsWith('名') && digits ? `${slot}#${numberUnit(after.slice(digits[0].length))}` : slot;
}

/** A slot word cut into its name and its suffix word (清潭 + 新村, 湖塘 + 镇); null without a known suffix or name. */
export function wordSuffix(word: string): { name: string; suffix: string } | null {
  for (const [suffix, slot] of SUFFIXES) {
    if (slot === null || !word.endsWith(suffix)) continue;
    const name = word.slice(0, word.length - suffix.length);
    return [...name].length >= 1 ? { name, suffix } : null;
  }
  return null;
}

/** The template of tokens: slots as {slot}, everything else as written. */
export function templateOf(tokens: readonly AddressToken[]): string {
  return tokens.map((t) => (t.slot ? `{${t.slot}}` : t.text)).join('');
}

/**
 * A template's body from its district on, digit runs of any length written `#*` (a room 502 or 1102, a
 * building 3 or 15: the number of the unit says its length), and the administrative head before it
 * (江苏省常州市, 常州市 or nothing): learned apart, so that a hospital's variants of head and numbers
 * do not split its forms into templates too rare to keep. Without the district among the tokens'
 * administrative names, the head is '' and the body the whole template.
 */
export function headAndBody(tokens: readonly AddressToken[], district: string): { head: string; body: string } {
  const at = tokens.findIndex((t) => t.admin && t.text === district);
  const headTokens = at > 0 ? tokens.slice(0, at) : [];
  if (at < 0 || !headTokens.every((t) => t.admin)) return { head: '', body: templateOf(tokens).replace(/#+/g, '#*') };
  return { head: headTokens.map((t) => t.text).join(''), body: templateOf(tokens.slice(at)).replace(/#+/g, '#*') };
}

/** The parts of a template: literal text, slots and runs of digits (#; `#*`: any length, digits 0). */
export function templateParts(template: string): ({ literal: string } | { slot: string } | { digits: number })[] {
  const out: ({ literal: string } | { slot: string } | { digits: number })[] = [];
  for (const m of template.matchAll(/\{([^}]+)\}|(#\*|#+)|([^{#]+)/gu)) {
    if (m[1] !== undefined) out.push({ slot: m[1] });
    else if (m[2] !== undefined) out.push({ digits: m[2] === '#*' ? 0 : m[2].length });
    else out.push({ literal: m[3] });
  }
  return out;
}
