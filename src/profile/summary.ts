import type { ColumnProfile, HospitalProfile } from '../domain/index.js';
import { shares } from '../lib/counts.js';

// The human summary of a hospital profile (`cradle target profile`, `--show`): one line per column.

const pct = (x: number) => `${(x * 100).toFixed(x > 0 && x < 0.01 ? 2 : 1)}%`;

function top(counts: { values: Record<string, number>; total: number; other: number }, n: number): string {
  const kept = shares({ ...counts });
  const shown = kept.slice(0, n).map(([v, s]) => `${v} ${pct(s)}`);
  if (kept.length > n) shown.push(`+${kept.length - n} more`);
  if (counts.other) shown.push(`other ${pct(counts.other / counts.total)}`);
  return shown.join(', ');
}

/** What one column's profile says, in a line. */
export function describeColumn(p: ColumnProfile): string {
  const parts: string[] = [];
  if (p.values && Object.keys(p.values.values).length) parts.push(`values: ${top(p.values, 4)}`);
  if (p.number) parts.push(`numbers: median ${p.number.quantiles[p.number.quantileLevels.indexOf(0.5)] ?? '?'}, recorded to ${p.number.step} (${Object.entries(p.number.steps).filter(([s, v]) => Number(s) > p.number!.step && v > 0.05).map(([s, v]) => `${pct(v)} to ${s}`).join(', ') || 'finer steps rare'})`);
  if (p.time) {
    const t = p.time.precision;
    const best = (Object.entries(t) as [string, number][]).sort((a, b) => b[1] - a[1])[0];
    const peak = p.time.hours.indexOf(Math.max(...p.time.hours));
    parts.push(`times: ${pct(best[1])} to the ${best[0] === 'ms' ? 'millisecond' : best[0]}, busiest hour ${peak}:00`);
    for (const [anchor, o] of Object.entries(p.time.offsets ?? {})) {
      const median = o.quantiles[o.quantileLevels.indexOf(0.5)];
      if (median !== undefined) parts.push(`${anchor} + ${formatSeconds(median)} (median)`);
    }
  }
  if (p.text && !p.values) parts.push(`shapes: ${top(p.text.shapes, 2)}`);
  if (p.key) {
    const k = p.key;
    const bits = [k.unique ? 'unique' : 'repeats'];
    if ((k.growsWithOrder ?? 0) >= 0.99) bits.push(`a sequence${k.medianStep !== undefined ? ` (step ${k.medianStep})` : ''}`);
    else if ((k.growsWithTime ?? 0) >= 0.99) bits.push('grows with time');
    if (k.datePrefix) bits.push(`date ${k.datePrefix.pattern} + ${k.datePrefix.digits} digits, counter ${k.datePrefix.counter === 'running' ? 'runs on' : `per ${k.datePrefix.counter}`}`);
    if (k.idCard) bits.push(`ID-card numbers, ${pct(k.idCard.validShare)} with a valid check character`);
    parts.push(`key: ${bits.join(', ')}`);
  }
  return parts.join('; ');
}

function formatSeconds(s: number): string {
  const abs = Math.abs(s);
  const sign = s < 0 ? '-' : '';
  if (abs < 120) return `${sign}${Math.round(abs)} s`;
  if (abs < 7200) return `${sign}${Math.round(abs / 60)} min`;
  if (abs < 172_800) return `${sign}${(abs / 3600).toFixed(1)} h`;
  return `${sign}${(abs / 86_400).toFixed(1)} d`;
}

/** The summary: a heading and one row per column (column, type, null share, what it holds). */
export function profileSummary(profile: HospitalProfile): { heading: string[]; rows: string[][] } {
  const heading = [
    `profile of ${profile.hospital}, learned ${profile.learnedAt} from ${profile.families} families (k = ${profile.k}; values fewer than ${profile.k} families share are left out)`,
    `mapping ${profile.mapping.source} (sha256 ${profile.mapping.sha256.slice(0, 12)}…)`,
  ];
  const rows = Object.entries(profile.columns).map(([key, p]) => [key, p.dataType, pct(p.nullShare), `${p.identifying ? '[identifying: no values kept] ' : ''}${describeColumn(p)}`]);
  if (profile.family.wards.total) rows.push(['(family) wards', '', '', top(profile.family.wards, 6)]);
  return { heading, rows };
}
