import { TZDate } from '@date-fns/tz';
import { addDays } from 'date-fns/addDays';
import { addWeeks } from 'date-fns/addWeeks';
import { getISOWeek } from 'date-fns/getISOWeek';
import { getISOWeekYear } from 'date-fns/getISOWeekYear';
import { startOfISOWeek } from 'date-fns/startOfISOWeek';
import { UserError } from './errors.js';

// ISO weeks and durations, in the hospital's own time zone: a rotation week starts Monday 00:00 there.
// And instants as ISO 8601 text (UTC), the form reports and bundles keep them in.

/** A timestamp from the database (a Date, or text from a driver that returns text) as ISO 8601 UTC. */
export const iso = (d: Date | string): string => (typeof d === 'string' ? new Date(d) : d).toISOString();
export const isoOrNull = (d: Date | string | null | undefined): string | null => (d ? iso(d) : null);

const WEEK = /^(\d{4})-W(\d{2})$/;

export function isoWeekOf(instant: Date, timeZone: string): string {
  const local = new TZDate(instant, timeZone);
  return `${getISOWeekYear(local)}-W${String(getISOWeek(local)).padStart(2, '0')}`;
}

/** [start, end) of an ISO week as instants. */
export function isoWeekRange(week: string, timeZone: string): { start: Date; end: Date } {
  const m = WEEK.exec(week);
  if (!m) throw new UserError(`"${week}" is not an ISO week; write it like 2026-W48`);
  const [year, num] = [Number(m[1]), Number(m[2])];
  // 4 January is always in week 1 of its ISO year.
  const start = addWeeks(startOfISOWeek(new TZDate(year, 0, 4, timeZone)), num - 1);
  if (num < 1 || isoWeekOf(start, timeZone) !== week) throw new UserError(`${year} has no ISO week ${num}`);
  return { start: new Date(start.getTime()), end: new Date(addDays(start, 7).getTime()) };
}

/** Parse 14d, 12h, 2w, 30m (days default) into milliseconds. */
export function parseDuration(text: string): number {
  const m = /^(\d+)\s*([mhdw]?)$/.exec(text.trim());
  if (!m) throw new UserError(`"${text}" is not a duration; write e.g. 14d, 12h or 2w`);
  const unit = { m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000, '': 86_400_000 }[m[2] as 'm' | 'h' | 'd' | 'w' | ''];
  return Number(m[1]) * unit;
}
