import { parsePhone } from '../lib/phone.js';

// Reading a file of trap numbers: validate, normalise to E.164, and say what is wrong by line number.

export interface ParsedNumber {
  line: number;
  e164: string;
  region: string;
}

export interface NumberFileProblems {
  invalid: { line: number; text: string; reason: string }[];
  repeated: { line: number; e164: string; firstLine: number }[];
}

/** Trap numbers must take calls and texts: mobile numbers (or, where the plan cannot tell, either). */
const ACCEPTED_TYPES = new Set(['MOBILE', 'FIXED_LINE_OR_MOBILE']);

export function parseTrapNumber(text: string, defaultRegion: string): { e164: string; region: string } | { reason: string } {
  const cleaned = text.replace(/[\uFF10-\uFF19]/g, (d) => String.fromCharCode(d.charCodeAt(0) - 0xfee0)).trim();
  const parsed = parsePhone(cleaned, defaultRegion);
  if (!parsed || !parsed.isValid()) return { reason: `not a valid phone number for ${defaultRegion} (or in +country form)` };
  const type = parsed.getType();
  if (type && !ACCEPTED_TYPES.has(type)) return { reason: `a ${type.toLowerCase().replace(/_/g, ' ')} number cannot receive texts; use mobile numbers` };
  return { e164: parsed.number, region: parsed.country ?? defaultRegion };
}

/** One number per line; blank lines and # comments are skipped. */
export function parseNumberFile(text: string, defaultRegion: string): { numbers: ParsedNumber[] } & NumberFileProblems {
  const numbers: ParsedNumber[] = [];
  const problems: NumberFileProblems = { invalid: [], repeated: [] };
  const seen = new Map<string, number>();
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = index + 1;
    const content = raw.replace(/#.*$/, '').trim();
    if (!content) return;
    const result = parseTrapNumber(content, defaultRegion);
    if ('reason' in result) {
      problems.invalid.push({ line, text: content, reason: result.reason });
      return;
    }
    const first = seen.get(result.e164);
    if (first !== undefined) {
      problems.repeated.push({ line, e164: result.e164, firstLine: first });
      return;
    }
    seen.set(result.e164, line);
    numbers.push({ line, ...result });
  });
  return { numbers, ...problems };
}

const DOMAIN = /^(?=.{1,253}$)([a-z0-9](?:[a-z0-9-]{0,61}[a-z0-9])?\.)+[a-z]{2,63}$/;

export function normaliseDomain(text: string): string | null {
  const d = text.trim().toLowerCase().replace(/\.$/, '');
  return DOMAIN.test(d) ? d : null;
}
