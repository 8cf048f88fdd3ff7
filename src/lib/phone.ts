import { createRequire } from 'node:module';
import type { PhoneNumber } from 'libphonenumber-js';

// libphonenumber-js with full metadata (number types) is large: required on first use so that
// commands that never parse a phone number start fast.
const require = createRequire(import.meta.url);
let lib: typeof import('libphonenumber-js/max') | undefined;

export function parsePhone(text: string, defaultRegion?: string): PhoneNumber | undefined {
  lib ??= require('libphonenumber-js/max') as typeof import('libphonenumber-js/max');
  return lib.parsePhoneNumberFromString(text, defaultRegion as Parameters<typeof lib.parsePhoneNumberFromString>[1]);
}

// What may sit between the digits of a phone number as written: spaces, brackets, dots, dashes,
// slashes, underscores, in ASCII or full width, and invisible format characters (zero-width space…).
const SEPARATOR = String.raw`[\s().\-/_\u2010-\u2015\u2212\uff08\uff09\uff0d\uff0e\uff0f\uff3f\p{Cf}]`;
// Digits of any script (full-width ０-９ included), with an optional ASCII or full-width plus.
const PHONE_RUN = new RegExp(String.raw`[+\uff0b]?\p{Nd}(?:\p{Nd}|${SEPARATOR}){4,}\p{Nd}`, 'gu');
const SEPARATORS = new RegExp(SEPARATOR, 'gu');

/** Every digit but the last four of each phone-number-like run replaced: numbers in logs, alerts and message texts. */
export function maskDigits(text: string): string {
  return text.replace(PHONE_RUN, (run) => {
    let keep = 4;
    const out = [...run].reverse().map((ch) => (/\p{Nd}/u.test(ch) ? (keep-- > 0 ? ch : '*') : ch));
    return out.reverse().join('');
  });
}

/**
 * A caller's number (a contact's from address) masked for display: written in any width and with
 * any separators (`＋８６ １３８…`, `+86/138_0013_8000`), it is first normalised (NFKC, separators
 * dropped) to one form, then all but its last four digits hidden. Anything else (an e-mail address,
 * a sender name) has its phone-like runs masked as maskDigits does.
 */
export function maskPhone(from: string): string {
  const normal = from.normalize('NFKC');
  const bare = normal.replace(SEPARATORS, '');
  if (!/^\+?\p{Nd}+$/u.test(bare)) return maskDigits(normal);
  let keep = 4;
  return [...bare].reverse().map((ch) => (ch !== '+' && keep-- <= 0 ? '*' : ch)).reverse().join('');
}
