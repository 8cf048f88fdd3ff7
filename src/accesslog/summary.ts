import type { AccessReject, TripwireRow } from '../vault/index.js';

// What imported access logs come to, for people: the rejected lines as a CSV file beside the log,
// and the accounts that opened canary records.

/** The rejects file: one CSV row per line that could not be read, with the reason. */
export function rejectsCsv(rejects: readonly AccessReject[]): string {
  const quote = (s: string) => `"${s.replace(/"/g, '""')}"`;
  return ['line,reason,text', ...rejects.map((r) => `${r.line},${quote(r.reason)},${quote(r.text)}`)].join('\n') + '\n';
}

export interface TripwireAccount {
  account: string;
  /** Single-record actions on canaries (view, print, export). */
  single: number;
  /** Lists that merely included a canary. */
  bulk: number;
  canaries: string[];
  first: Date;
  last: Date;
}

/** The tripwires per account, the most single-record actions first, then the most canaries. */
export function tripwireAccounts(wires: readonly TripwireRow[]): TripwireAccount[] {
  const accounts = new Map<string, { account: string; single: number; bulk: number; canaries: Set<string>; first: Date; last: Date }>();
  for (const w of wires) {
    const a = accounts.get(w.account) ?? { account: w.account, single: 0, bulk: 0, canaries: new Set<string>(), first: w.at, last: w.at };
    a[w.scope]++;
    a.canaries.add(w.canary_id);
    if (w.at < a.first) a.first = w.at;
    if (w.at > a.last) a.last = w.at;
    accounts.set(w.account, a);
  }
  return [...accounts.values()]
    .sort((x, y) => y.single - x.single || y.canaries.size - x.canaries.size || x.account.localeCompare(y.account))
    .map((a) => ({ ...a, canaries: [...a.canaries] }));
}
