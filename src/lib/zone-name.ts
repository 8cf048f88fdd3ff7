// Whether a time zone name is one this Node knows, the way Intl.DateTimeFormat takes it. Constructing
// the first DateTimeFormat of a process loads ICU's calendar and locale data, about 20 ms of a short
// command that never formats a date with it; the list of canonical zone names costs a few. A name not
// in that list (an alias such as UTC or Asia/Kolkata) is checked by constructing one, as before.

let canonical: Set<string> | null = null;

export function isTimeZone(name: string): boolean {
  canonical ??= new Set(Intl.supportedValuesOf('timeZone'));
  if (canonical.has(name)) return true;
  try {
    new Intl.DateTimeFormat('en', { timeZone: name });
    return true;
  } catch {
    return false;
  }
}
