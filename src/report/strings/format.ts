import type { ReportLang } from '../data.js';

// How each report language writes dates, numbers, percentages and lists, shared by every report.
// Dates are formatted by hand (UTC), not by Intl, so a report reads the same whatever ICU data the
// machine has.

export interface LangFormat {
  lang: ReportLang;
  /** Intl locale for numbers. */
  locale: string;
  date: (iso: string) => string;
  dateTime: (iso: string) => string;
  dateRange: (from: string, to: string) => string;
  /** Short date for the chart's axis. */
  tick: (iso: string) => string;
  pct: (p: number) => string;
  num: (n: number) => string;
  list: (items: string[]) => string;
}

const MONTHS_EN = ['January', 'February', 'March', 'April', 'May', 'June', 'July', 'August', 'September', 'October', 'November', 'December'];

interface Ymd {
  y: number;
  m: number;
  d: number;
  hh: string;
  mm: string;
}

function ymd(iso: string): Ymd {
  const t = new Date(iso);
  return { y: t.getUTCFullYear(), m: t.getUTCMonth() + 1, d: t.getUTCDate(), hh: String(t.getUTCHours()).padStart(2, '0'), mm: String(t.getUTCMinutes()).padStart(2, '0') };
}

function pctWith(locale: string): (p: number) => string {
  // Made on first use, not when the module loads: ICU's first formatter costs start-up time of every command.
  let made: Intl.NumberFormat | undefined;
  const fmt = () => (made ??= new Intl.NumberFormat(locale, { style: 'percent', maximumFractionDigits: 1 }));
  return (p) => (p >= 0.9995 ? `>${fmt().format(0.999)}` : p > 0 && p < 0.0005 ? `<${fmt().format(0.001)}` : fmt().format(p));
}

/** The start of a hash, for a sentence; the whole of it is in the chain of custody. */
export const shortHash = (hash: string | null | undefined) => (hash ? `${hash.slice(0, 12)}…` : '?');

export const formatEn: LangFormat = {
  lang: 'en',
  locale: 'en-GB',
  date: (iso) => {
    const t = ymd(iso);
    return `${t.d} ${MONTHS_EN[t.m - 1]} ${t.y}`;
  },
  dateTime: (iso) => {
    const t = ymd(iso);
    return `${t.d} ${MONTHS_EN[t.m - 1].slice(0, 3)} ${t.y} ${t.hh}:${t.mm}`;
  },
  dateRange: (from, to) => {
    const [a, b] = [ymd(from), ymd(to)];
    if (a.y !== b.y) return `${formatEn.date(from)} and ${formatEn.date(to)}`;
    if (a.m !== b.m) return `${a.d} ${MONTHS_EN[a.m - 1]} and ${b.d} ${MONTHS_EN[b.m - 1]} ${b.y}`;
    if (a.d !== b.d) return `${a.d} and ${b.d} ${MONTHS_EN[b.m - 1]} ${b.y}`;
    return `${a.hh}:${a.mm} and ${b.hh}:${b.mm} on ${formatEn.date(from)}`;
  },
  tick: (iso) => {
    const t = ymd(iso);
    return `${t.d} ${MONTHS_EN[t.m - 1].slice(0, 3)}`;
  },
  pct: pctWith('en-GB'),
  num: (n) => new Intl.NumberFormat('en-GB', { maximumFractionDigits: 2 }).format(n),
  list: (items) => (items.length <= 1 ? items.join('') : `${items.slice(0, -1).join(', ')} and ${items[items.length - 1]}`),
};

export const formatZh: LangFormat = {
  lang: 'zh-CN',
  locale: 'zh-CN',
  date: (iso) => {
    const t = ymd(iso);
    return `${t.y}年${t.m}月${t.d}日`;
  },
  dateTime: (iso) => {
    const t = ymd(iso);
    return `${t.y}年${t.m}月${t.d}日 ${t.hh}:${t.mm}`;
  },
  dateRange: (from, to) => {
    const [a, b] = [ymd(from), ymd(to)];
    if (a.y !== b.y) return `${formatZh.date(from)}至${formatZh.date(to)}`;
    if (a.m !== b.m) return `${a.y}年${a.m}月${a.d}日至${b.m}月${b.d}日`;
    if (a.d !== b.d) return `${a.y}年${a.m}月${a.d}日至${b.d}日`;
    return `${formatZh.date(from)} ${a.hh}:${a.mm}至${b.hh}:${b.mm}`;
  },
  tick: (iso) => {
    const t = ymd(iso);
    return `${t.m}月${t.d}日`;
  },
  pct: pctWith('zh-CN'),
  num: (n) => new Intl.NumberFormat('zh-CN', { maximumFractionDigits: 2 }).format(n),
  list: (items) => items.join('、'),
};

/** An instant as the chain of custody prints it, to the second: 2026-11-20 08:00:00Z. */
export const isoShort = (iso: string | null) => (iso ? iso.replace('T', ' ').replace(/(:\d\d)\.\d{3}Z$/, '$1Z') : '');
