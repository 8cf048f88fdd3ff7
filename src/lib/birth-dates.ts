// The dates a message may give for a baby's birth (pure): triage picks a holder of a shared number by
// them (src/triage/resolve.ts), and the drafting keeps them apart among a number's holders
// (src/canary/draft.ts), so both reckon them here.

/** Local dates of the baby's birth a message may give: the UTC date and the one in China's time. */
export function birthDates(birthTime: string): string[] {
  const t = Date.parse(birthTime);
  return [...new Set([new Date(t).toISOString().slice(0, 10), new Date(t + 8 * 3_600_000).toISOString().slice(0, 10)])];
}

/**
 * Whether two babies could be told apart by the birth date a message gives: no date of one falls on a
 * month and day of the other (a message often writes 11月3日, without the year: src/triage/score.ts,
 * mentionsDate).
 */
export function sameBirthDay(a: string, b: string): boolean {
  const days = new Set(birthDates(a).map((d) => d.slice(5)));
  return birthDates(b).some((d) => days.has(d.slice(5)));
}
