import type { Random } from '../lib/generate/index.js';
import { randomMobile } from './setup.js';

// The demo's story, as data: the recipients of the weekly exports, the staff and a month of their
// access log, the scammers' messages and the background robocalls. Pure: src/workflows/demo-story.ts
// plays it out.

const DAY_MS = 86_400_000;

/** Who gets a weekly export. One of them sells it. */
export const DEMO_RECIPIENTS = ['vaccine-registry', 'insurer', 'screening-lab', 'birth-office', 'hearing-screening'] as const;
export const DEMO_LEAKER = 'screening-lab';
/** The leaked export is the one of this rotation week (0 = the oldest of the four). */
export const DEMO_LEAKED_WEEK = 1;

export interface StaffAccount {
  id: string;
  role: 'nurse' | 'doctor' | 'clerk' | 'billing';
  ward: string;
}

/** A hundred accounts: nurses and doctors on a ward, ward clerks, and billing staff who see everyone. */
export function staffAccounts(rng: Random, wards: readonly string[]): StaffAccount[] {
  const roles: [StaffAccount['role'], number][] = [['nurse', 60], ['doctor', 20], ['clerk', 10], ['billing', 10]];
  const accounts: StaffAccount[] = [];
  for (const [role, n] of roles) for (let i = 1; i <= n; i++) accounts.push({ id: `${role[0]}${String(accounts.length + 1).padStart(4, '0')}`, role, ward: wards[rng.int(0, wards.length - 1)] });
  return accounts;
}

export interface BirthRecord {
  key: string;
  ward: string;
  at: Date;
}

/**
 * A month of the records system's access log as CSV (the columns of `cradle logs import --map` in the
 * README): nurses and doctors open their ward's recent births one at a time, clerks print the ward
 * list every morning (every recent birth on it, canaries included), billing looks up discharges.
 * Canaries are never opened on their own, except by `curious`, who opens one: a tripwire.
 */
export function accessLogCsv(
  rng: Random,
  options: { accounts: readonly StaffAccount[]; from: Date; to: Date; births: readonly BirthRecord[]; canaries: readonly BirthRecord[]; curious: { account: string; canary: BirthRecord; at: Date } },
): string {
  const lines: { at: number; text: string }[] = [];
  const stamp = (t: number) => new Date(t + 8 * 3_600_000).toISOString().slice(0, 19).replace('T', ' '); // hospital time, no offset
  const ip = (a: StaffAccount) => `10.12.${a.role === 'billing' ? 40 : 20}.${Number(a.id.slice(1)) % 250}`;
  const push = (t: number, a: StaffAccount, action: string, records: string[]) => lines.push({ at: t, text: `${stamp(t)},${a.id},${action},${records.join(';')},${ip(a)},his` });
  const recentOn = (ward: string | null, t: number, all: readonly BirthRecord[]) => all.filter((b) => (ward === null || b.ward === ward) && b.at.getTime() <= t && b.at.getTime() > t - 5 * DAY_MS);
  for (let day = options.from.getTime(); day < options.to.getTime(); day += DAY_MS) {
    for (const a of options.accounts) {
      const shift = day + (a.role === 'clerk' ? 7.5 : 8 + rng.next() * 9) * 3_600_000;
      if (a.role === 'clerk') {
        const list = [...recentOn(a.ward, shift, options.births), ...recentOn(a.ward, shift, options.canaries)].map((b) => b.key);
        if (list.length) push(shift, a, 'list', list);
        continue;
      }
      const mine = recentOn(a.role === 'billing' ? null : a.ward, shift, options.births);
      const opens = a.role === 'billing' ? 2 : a.role === 'doctor' ? 4 : 6;
      for (let i = 0; i < opens && mine.length; i++) push(shift + i * 240_000, a, rng.chance(0.1) ? 'print' : 'view', [rng.pick(mine).key]);
    }
  }
  const curious = options.accounts.find((a) => a.id === options.curious.account)!;
  push(options.curious.at.getTime(), curious, 'view', [options.curious.canary.key]);
  lines.sort((x, y) => x.at - y.at);
  return ['event_time,operator,op,patient_id,client_ip,app', ...lines.map((l) => l.text)].join('\n') + '\n';
}

export const ACCESS_LOG_MAP = 'ts=event_time,user=operator,action=op,record=patient_id,ip=client_ip,system=app';

/** What the scammers text, in their words; `{name}` is the mother's name from the leaked list. */
const SCRIPTS = [
  '{name}您好，恭喜宝宝出生！我们是医院合作的新生儿摄影机构，现为宝宝提供免费百天写真，名额有限，请回电预约。',
  '{name}女士您好，这里是医院营养科，宝宝的奶粉试用装已为您预留，请加微信领取。',
  '【新生儿服务中心】{name}您好，宝宝出生证明办理需补充信息，请点击链接填写。',
];

export interface ScamContact {
  kind: 'sms' | 'call';
  from: string;
  to: string;
  body: string | null;
}

/** Texts and calls from two scam numbers to canaries of the leaked list. */
export function scamContacts(rng: Random, targets: readonly { phone: string; name: string }[]): ScamContact[] {
  const callers = [randomMobile(rng), randomMobile(rng)];
  const script = rng.pick(SCRIPTS);
  return targets.flatMap((t, i) => {
    const from = callers[i % 2];
    const text: ScamContact = { kind: 'sms', from, to: t.phone, body: script.replace('{name}', t.name) };
    return i % 3 === 2 ? [text, { kind: 'call', from, to: t.phone, body: null }] : [text];
  });
}

/**
 * Robodialers that reach trap numbers by chance: each walks a run of `perDialer` numbers in number
 * order from a random place in the pool's range (as an auto-dialler walks a block), saying nothing.
 * Most of the numbers it calls no canary holds, which is how triage tells it from a scammer with a list.
 */
export function robocalls(rng: Random, numbers: readonly string[], dialers: number, perDialer: number): ScamContact[] {
  const sorted = [...numbers].sort();
  return Array.from({ length: dialers }, () => {
    const from = randomMobile(rng);
    const start = rng.int(0, Math.max(0, sorted.length - perDialer));
    return sorted.slice(start, start + perDialer).map((to) => ({ kind: 'call' as const, from, to, body: null }));
  }).flat();
}
