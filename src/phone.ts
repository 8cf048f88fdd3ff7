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

/** Every digit but the last four of each phone-number-like run replaced: numbers in logs and alerts. */
export function maskDigits(text: string): string {
  return text.replace(/\+?\d[\d\s().-]{4,}\d/g, (run) => {
    let keep = 4;
    const out = [...run].reverse().map((ch) => (/\d/.test(ch) ? (keep-- > 0 ? ch : '*') : ch));
    return out.reverse().join('');
  });
}
