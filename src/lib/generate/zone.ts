// Local wall-clock time to UTC in an IANA zone. TZDate computes the offset with Intl on every call,
// which dominated generation time; offsets only change on the hour, so they are cached per zone and hour.

const formatters = new Map<string, Intl.DateTimeFormat>();
const offsets = new Map<string, Map<number, number>>();

function formatter(timeZone: string): Intl.DateTimeFormat {
  let f = formatters.get(timeZone);
  if (!f) {
    f = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: 'numeric', day: 'numeric', hour: 'numeric', minute: 'numeric', second: 'numeric' });
    formatters.set(timeZone, f);
  }
  return f;
}

/** The zone's offset from UTC, in ms, at an instant. */
export function zoneOffset(ms: number, timeZone: string): number {
  const hour = Math.floor(ms / 3_600_000);
  let zone = offsets.get(timeZone);
  if (!zone) offsets.set(timeZone, (zone = new Map()));
  let offset = zone.get(hour);
  if (offset === undefined) {
    const at = hour * 3_600_000;
    const p = Object.fromEntries(formatter(timeZone).formatToParts(new Date(at)).map((x) => [x.type, x.value]));
    offset = Date.UTC(+p.year, +p.month - 1, +p.day, +p.hour, +p.minute, +p.second) - at;
    if (zone.size > 200_000) zone.clear();
    zone.set(hour, offset);
  }
  return offset;
}

/** The instant at which the zone's clocks show this local time (month 0-based; day may overflow). */
export function localTimeToUtc(y: number, m: number, d: number, h: number, min: number, timeZone: string): number {
  const wall = Date.UTC(y, m, d, h, min);
  const first = wall - zoneOffset(wall, timeZone);
  return wall - zoneOffset(first, timeZone);
}

/** The local calendar day of an instant in the zone. */
export function localDay(ms: number, timeZone: string): { y: number; m: number; d: number } {
  const t = new Date(ms + zoneOffset(ms, timeZone));
  return { y: t.getUTCFullYear(), m: t.getUTCMonth(), d: t.getUTCDate() };
}

/** A calendar day (month 0-11). */
export interface LocalDate { y: number; m: number; d: number }
const DAY_MS = 86_400_000;
const YEAR_DAYS = 365.2425;
/** Days since 1970-01-01 of a calendar day, and back. */
export const dayNumber = ({ y, m, d }: LocalDate): number => Date.UTC(y, m, d) / DAY_MS;
export const fromDayNumber = (n: number): LocalDate => {
  const t = new Date(n * DAY_MS);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth(), d: t.getUTCDate() };
};
export const isoDate = ({ y, m, d }: LocalDate): string => `${String(y).padStart(4, '0')}-${String(m + 1).padStart(2, '0')}-${String(d).padStart(2, '0')}`;

/** Birth date of someone aged `exactAge` years (fractional) on `on`, and their whole-year age then. */
export function birthDateAt(on: LocalDate, exactAge: number): { birthDate: string; age: number } {
  const born = fromDayNumber(dayNumber(on) - Math.floor(exactAge * YEAR_DAYS));
  const age = on.y - born.y - (on.m < born.m || (on.m === born.m && on.d < born.d) ? 1 : 0);
  return { birthDate: isoDate(born), age };
}
