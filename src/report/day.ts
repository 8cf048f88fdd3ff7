import { UserError } from '../lib/errors.js';

/** A calendar date, yyyy-mm-dd, that exists; `option` names it in the error. */
export function parseDay(text: string, option: string): { y: number; m: number; d: number } {
  const m = /^(\d{4})-(\d{2})-(\d{2})$/.exec(text.trim());
  const [y, mo, d] = m ? [Number(m[1]), Number(m[2]), Number(m[3])] : [0, 0, 0];
  const check = new Date(Date.UTC(y, mo - 1, d));
  if (!m || check.getUTCFullYear() !== y || check.getUTCMonth() !== mo - 1 || check.getUTCDate() !== d) {
    throw new UserError(`${option} wants a date written yyyy-mm-dd, like 2026-10-01, not "${text}"`);
  }
  return { y, m: mo, d };
}
