import { format as formatDate } from 'date-fns/format';
import { parse as parseDate } from 'date-fns/parse';
import { DATE_PATTERNS, parseWith } from '../../src/exports/infer.js';

// parseWith skips date-fns for a value that is not of its pattern's shape: it must answer exactly as
// date-fns' round trip does, for every pattern the inference tries, on dates written in every pattern
// and on the other things columns hold.

const REFERENCE = new Date(2000, 0, 1);
function roundTrip(value: string, pattern: string): number | null {
  const d = parseDate(value, pattern, REFERENCE);
  if (Number.isNaN(d.getTime()) || d.getFullYear() < 1900 || d.getFullYear() > 2100) return null;
  return formatDate(d, pattern) === value ? d.getTime() : null;
}

describe('parseWith', () => {
  it('answers as the date-fns round trip does', () => {
    const dates = [new Date(2026, 0, 5, 3, 4, 5), new Date(2026, 10, 23, 14, 30, 0), new Date(1999, 11, 31, 23, 59, 59), new Date(2031, 8, 9, 0, 0, 7)];
    const values = [
      ...dates.flatMap((d) => DATE_PATTERNS.map((p) => formatDate(d, p))),
      '', 'x', '张伟', '13812345678', '+86 138 1234 5678', '2026-13-01', '2026-02-30', '31/12/2026', '1/1/2026', '2026.1.5', '20261105', '202611051230',
      '2026-11-05T12:30:00Z', '2026-11-05 12:30:00.5', ' 2026-11-05', '2026年11月5日', '2026年1月5日 08:30', '0.5', '3.2kg', 'F', '女', 'A-0012',
    ];
    for (const pattern of [...DATE_PATTERNS, "yyyy-MM-dd'T'HH:mm:ss'Z'", 'dd MMM yyyy', "''yyyy", "'yyyy"]) {
      for (const value of values) expect([pattern, value, parseWith(value, pattern)?.getTime() ?? null]).toEqual([pattern, value, roundTrip(value, pattern)]);
    }
  });
});
