import { isoWeekRange } from '../lib/time.js';
import type { IncidentReportData, ReportLang, ReportSuspect } from './data.js';
import type { LegendItem } from './document.js';
import { escapeXml } from './html.js';
import { incidentStrings, type CanaryOrigins } from './strings/index.js';

// The incident's timeline as a standalone SVG (pure): time runs left to right; one lane for the
// canaries' planting (their rotation weeks shaded), one per top suspect channel with the times it
// saw the canaries, one for the contacts (or the scan of the seized files); the most likely
// source's leak window is a shaded band across them. Marks closer than a few pixels merge into one
// with a count. No scripts, no external fonts: it renders the same in a browser, a PDF, a viewer.

const WIDTH = 960;
const LABEL_W = 210;
const RIGHT = 28;
const TOP = 30;
const LANE_H = 48;
const AXIS_H = 40;
const MERGE_PX = 7;
const EXPOSURE_COLORS = ['#1565c0', '#6a1b9a', '#00838f'];
const PLANTED_COLOR = '#2e7d32';
const EVIDENCE_COLOR = '#c62828';
const WINDOW_COLOR = '#ff8f00';
const HOUR = 3_600_000;
const DAY = 24 * HOUR;

/** Monday 00:00 UTC of an ISO week (2026-W45); null for anything else. */
export function isoWeekStart(week: string): Date | null {
  try {
    return isoWeekRange(week, 'UTC').start;
  } catch {
    return null;
  }
}

/** Suspects that get a lane: the top three that are one channel with exposures. */
export function laneSuspects(data: IncidentReportData): ReportSuspect[] {
  const withExposures = new Set(data.exposures.map((e) => e.key));
  return data.suspects.filter((s) => s.kind !== 'unknown' && s.kind !== 'merged' && withExposures.has(s.key)).slice(0, 3);
}

/** Which origins a set of canaries has: all seeded, all export-only, or both. */
export function originsOf(canaries: readonly IncidentReportData['canaries'][number][]): CanaryOrigins {
  const seeded = canaries.some((c) => c.origin === 'seeded');
  const exported = canaries.some((c) => c.origin !== 'seeded');
  return seeded && exported ? 'both' : exported ? 'export' : 'seeded';
}

/** The suspect whose leak window the chart shades: the most likely one known to Cradle with a window. */
export function leakWindowSuspect(data: IncidentReportData): ReportSuspect | null {
  return data.suspects.find((s) => s.kind !== 'unknown' && s.window) ?? null;
}

/** What the chart shows, in a sentence: the lanes, and whose leak window the band shades. */
export function timelineCaption(data: IncidentReportData, lang: ReportLang): string {
  const band = leakWindowSuspect(data);
  return incidentStrings(lang).timelineCaption(originsOf(data.canaries), data.incident.source === 'scan', band ? { label: band.label, top: band === data.suspects[0] } : null);
}

/** What the chart's marks mean, for under it. */
export function timelineLegend(data: IncidentReportData, lang: ReportLang): LegendItem[] {
  const t = incidentStrings(lang);
  const scan = data.incident.source === 'scan';
  return [
    { color: PLANTED_COLOR, symbol: '●', label: t.lanes.planted(originsOf(data.canaries)) },
    { color: EXPOSURE_COLORS[0], symbol: '◆', label: t.sections.suspects },
    { color: EVIDENCE_COLOR, symbol: scan ? '■' : '▲', label: scan ? t.lanes.seizure : t.lanes.contacts },
    { color: WINDOW_COLOR, symbol: '▥', label: t.lanes.window(leakWindowSuspect(data)?.label ?? '') },
  ];
}

interface Lane {
  label: string;
  kind: 'planted' | 'exposure' | 'contact' | 'seizure';
  color: string;
  times: number[];
  /** Title of a mark of n events at `when`. */
  title: (n: number, when: string) => string;
}

function niceStep(span: number): number {
  const steps = [HOUR, 3 * HOUR, 6 * HOUR, 12 * HOUR, DAY, 2 * DAY, 7 * DAY, 14 * DAY, 28 * DAY, 91 * DAY, 182 * DAY, 364 * DAY];
  return steps.find((s) => span / s <= 9) ?? steps[steps.length - 1];
}

function shape(kind: Lane['kind'], x: number, y: number, color: string): string {
  const f = (n: number) => n.toFixed(1);
  switch (kind) {
    case 'planted':
      return `<circle cx="${f(x)}" cy="${f(y)}" r="6.5" fill="${color}" stroke="#fff" stroke-width="1.5"/>`;
    case 'exposure':
      return `<path d="M${f(x)} ${f(y - 8)}L${f(x + 8)} ${f(y)}L${f(x)} ${f(y + 8)}L${f(x - 8)} ${f(y)}Z" fill="${color}" stroke="#fff" stroke-width="1.5"/>`;
    case 'contact':
      return `<path d="M${f(x)} ${f(y - 8)}L${f(x + 8)} ${f(y + 6)}L${f(x - 8)} ${f(y + 6)}Z" fill="${color}" stroke="#fff" stroke-width="1.5"/>`;
    case 'seizure':
      return `<rect x="${f(x - 7)}" y="${f(y - 7)}" width="14" height="14" fill="${color}" stroke="#fff" stroke-width="1.5"/>`;
  }
}

function truncate(text: string, max: number): string {
  // CJK characters are about twice as wide as Latin ones at the same size.
  let width = 0;
  let out = '';
  for (const ch of text) {
    width += /[\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\uff00-\uff60]/.test(ch) ? 2 : 1;
    if (width > max) return `${out}…`;
    out += ch;
  }
  return out;
}

export function renderTimeline(data: IncidentReportData, lang: ReportLang): string {
  const t = incidentStrings(lang);
  const lanes: Lane[] = [];
  const origins = originsOf(data.canaries);
  lanes.push({ label: t.lanes.planted(origins), kind: 'planted', color: PLANTED_COLOR, times: data.canaries.map((c) => Date.parse(c.plantedAt)), title: (n, when) => t.marks.planted(n, when, origins) });
  laneSuspects(data).forEach((s, i) => {
    const times = data.exposures.filter((e) => e.key === s.key).map((e) => Date.parse(e.at));
    lanes.push({ label: s.label, kind: 'exposure', color: EXPOSURE_COLORS[i], times, title: (n, when) => t.marks.exposure(n, s.label, when) });
  });
  if (data.incident.source === 'scan' && data.scan) lanes.push({ label: t.lanes.seizure, kind: 'seizure', color: EVIDENCE_COLOR, times: [Date.parse(data.scan.seizedAt)], title: (_n, when) => t.marks.seizure(when) });
  else lanes.push({ label: t.lanes.contacts, kind: 'contact', color: EVIDENCE_COLOR, times: data.hits.map((h) => Date.parse(h.occurredAt)), title: t.marks.contact });

  const top = leakWindowSuspect(data);
  const window = top?.window ? { from: Date.parse(top.window.from), to: Date.parse(top.window.to) } : null;

  const all = [...lanes.flatMap((l) => l.times), ...(window ? [window.from, window.to] : [])].filter((x) => Number.isFinite(x));
  let [lo, hi] = all.length ? [Math.min(...all), Math.max(...all)] : [Date.parse(data.generatedAt) - DAY, Date.parse(data.generatedAt)];
  if (hi - lo < 2 * HOUR) [lo, hi] = [lo - 12 * HOUR, hi + 12 * HOUR];
  const pad = (hi - lo) * 0.04;
  [lo, hi] = [lo - pad, hi + pad];

  const plotL = LABEL_W;
  const plotR = WIDTH - RIGHT;
  const x = (ms: number) => plotL + ((ms - lo) / (hi - lo)) * (plotR - plotL);
  const laneY = (i: number) => TOP + i * LANE_H + LANE_H / 2;
  const bottom = TOP + lanes.length * LANE_H;
  const height = bottom + AXIS_H;
  const out: string[] = [];

  const title = `${t.sections.timeline}: ${data.incident.id}`;
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" class="timeline" role="img" aria-labelledby="tl-title tl-desc" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" font-family="'Noto Sans CJK SC','Noto Sans SC','Source Han Sans SC','PingFang SC','Microsoft YaHei','WenQuanYi Micro Hei',system-ui,'DejaVu Sans',Arial,sans-serif" font-size="12">`,
    `<title id="tl-title">${escapeXml(title)}</title>`,
    `<desc id="tl-desc">${escapeXml(timelineCaption(data, lang))}</desc>`,
    `<rect x="0" y="0" width="${WIDTH}" height="${height}" fill="#ffffff"/>`,
  );

  // Lane backgrounds and labels.
  lanes.forEach((l, i) => {
    const y = TOP + i * LANE_H;
    out.push(`<rect class="lane" x="${plotL}" y="${y}" width="${plotR - plotL}" height="${LANE_H}" fill="${i % 2 ? '#ffffff' : '#f5f7fa'}"/>`);
    out.push(`<text x="${plotL - 10}" y="${(y + LANE_H / 2 + 4).toFixed(1)}" text-anchor="end" fill="#263238">${escapeXml(truncate(l.label, 30))}</text>`);
  });

  // Rotation weeks behind the planting lane.
  for (const w of data.weeks) {
    const start = isoWeekStart(w);
    if (!start) continue;
    const [a, b] = [Math.max(lo, start.getTime()), Math.min(hi, start.getTime() + 7 * DAY)];
    if (b <= a) continue;
    const y = TOP;
    out.push(`<g class="week"><title>${escapeXml(t.lanes.week(w))}</title><rect x="${x(a).toFixed(1)}" y="${y + 4}" width="${(x(b) - x(a)).toFixed(1)}" height="${LANE_H - 8}" rx="3" fill="#c8e6c9" opacity="0.7"/>`);
    if (x(b) - x(a) > 90) out.push(`<text x="${(x(a) + 6).toFixed(1)}" y="${y + LANE_H - 8}" font-size="10" fill="#1b5e20">${escapeXml(t.lanes.week(w))}</text>`);
    out.push('</g>');
  }

  // Time axis and grid.
  const step = niceStep(hi - lo);
  const first = Math.ceil(lo / step) * step;
  out.push(`<g class="axis" fill="#455a64" font-size="11">`);
  out.push(`<line x1="${plotL}" y1="${bottom}" x2="${plotR}" y2="${bottom}" stroke="#90a4ae"/>`);
  for (let tick = step >= DAY ? Math.ceil(lo / DAY) * DAY : first; tick <= hi; tick += step) {
    const tx = x(tick).toFixed(1);
    const iso = new Date(tick).toISOString();
    const label = step < DAY ? `${t.tick(iso)} ${iso.slice(11, 16)}` : t.tick(iso);
    out.push(`<line x1="${tx}" y1="${TOP}" x2="${tx}" y2="${bottom + 5}" stroke="#cfd8dc" stroke-dasharray="2 3"/>`);
    out.push(`<text x="${tx}" y="${bottom + 19}" text-anchor="middle">${escapeXml(label)}</text>`);
  }
  out.push(`<text x="${plotR}" y="${bottom + 35}" text-anchor="end" font-size="10" fill="#78909c">UTC</text>`);
  out.push('</g>');

  // The leak window of the most likely source, across the lanes.
  if (top && window) {
    const [a, b] = [x(window.from), Math.max(x(window.to), x(window.from) + 2)];
    const label = t.marks.window(top.label, t.dateTime(top.window!.from), t.dateTime(top.window!.to));
    out.push(`<g class="window"><title>${escapeXml(label)}</title>`);
    out.push(`<rect x="${a.toFixed(1)}" y="${TOP - 4}" width="${(b - a).toFixed(1)}" height="${bottom - TOP + 4}" fill="#ffb300" fill-opacity="0.16" stroke="${WINDOW_COLOR}" stroke-dasharray="4 3"/>`);
    const anchor = b > plotR - 160 ? 'end' : 'start';
    out.push(`<text x="${(anchor === 'end' ? b : a).toFixed(1)}" y="${TOP - 10}" text-anchor="${anchor}" font-size="11" fill="#e65100">${escapeXml(truncate(t.lanes.window(top.label), 60))}</text>`);
    out.push('</g>');
  }

  // Marks, merged where they would overlap.
  lanes.forEach((l, i) => {
    const y = laneY(i);
    const sorted = l.times.filter((v) => Number.isFinite(v)).sort((a, b) => a - b);
    const groups: number[][] = [];
    for (const v of sorted) {
      const g = groups[groups.length - 1];
      if (g && x(v) - x(g[0]) < MERGE_PX) g.push(v);
      else groups.push([v]);
    }
    for (const g of groups) {
      const cx = x(g.reduce((s, v) => s + v, 0) / g.length);
      const [a, b] = [new Date(g[0]).toISOString(), new Date(g[g.length - 1]).toISOString()];
      const when = a === b ? t.dateTime(a) : `${t.dateTime(a)} – ${t.dateTime(b)}`;
      out.push(`<g class="mark mark-${l.kind}" data-count="${g.length}"><title>${escapeXml(l.title(g.length, when))}</title>${shape(l.kind, cx, y, l.color)}`);
      if (g.length > 1) out.push(`<text x="${(cx + 10).toFixed(1)}" y="${(y - 7).toFixed(1)}" font-size="11" fill="${l.color}">×${g.length}</text>`);
      out.push('</g>');
    }
  });

  out.push('</svg>');
  return out.join('\n');
}
