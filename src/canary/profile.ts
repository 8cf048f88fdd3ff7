import crypto from 'node:crypto';
import type { Family, HospitalProfile } from '../domain/index.js';
import { drawColumnValue, fromQuantiles, roundToProfile, wallMs, wallText, withTimePrecision, type DrawContext, type Random } from '../lib/generate/index.js';
import { fieldColumn, type Mapping } from '../targetdb/mapping.js';

// Canaries drawn from the hospital's learned profile (`cradle target profile`): the mapped fields get
// the hospital's recording precision (weights to 10 g where it records to 10 g, times with seconds
// where it writes seconds), and the mapping's learned columns (`"learned": true`) get values drawn
// from their column profiles. Applied to the Family itself when it is drafted, so the vault's copy,
// the target's rows, dry runs and exports all agree. Returns warnings.

/** A mapping's fingerprint: SHA-256 of what it says (tables, columns, values), not of its file's spacing. */
export function mappingSha256(mapping: Mapping): string {
  const doc = { timeZone: mapping.timeZone ?? null, recordKey: mapping.recordKey ?? null, inserts: mapping.inserts };
  return crypto.createHash('sha256').update(JSON.stringify(doc)).digest('hex');
}

const INSTANTS = ['admittedAt', 'baby.birthTime', 'dischargedAt'] as const;

/** The offset of `timeZone` from UTC at `ms`, in milliseconds. */
function zoneOffsetMs(timeZone: string, ms: number): number {
  const parts = Object.fromEntries(
    new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' })
      .formatToParts(new Date(ms))
      .map((p) => [p.type, p.value]),
  );
  const wall = Date.UTC(Number(parts.year), Number(parts.month) - 1, Number(parts.day), Number(parts.hour), Number(parts.minute), Number(parts.second));
  return wall - Math.floor(ms / 1000) * 1000;
}

const toWall = (iso: string, tz: string) => {
  const ms = Date.parse(iso);
  return ms + zoneOffsetMs(tz, ms);
};
const fromWall = (wall: number, tz: string) => wall - zoneOffsetMs(tz, wall - zoneOffsetMs(tz, wall));

function instantOf(family: Family, field: (typeof INSTANTS)[number]): string | null {
  return field === 'admittedAt' ? family.admittedAt : field === 'dischargedAt' ? family.dischargedAt : family.baby.birthTime;
}

function setInstant(family: Family, field: (typeof INSTANTS)[number], iso: string): void {
  if (field === 'admittedAt') family.admittedAt = iso;
  else if (field === 'dischargedAt') family.dischargedAt = iso;
  else family.baby.birthTime = iso;
}

/** Give drafted families the hospital's precision and fill their learned columns from `profile` (null: none learned yet). */
export function applyProfile(families: Family[], profile: HospitalProfile | null, mapping: Mapping, timeZone: string, rng: Random): string[] {
  const warnings: string[] = [];
  const learned = mapping.inserts.flatMap((step) => step.columns.filter((c) => c.value.type === 'learned').map((c) => `${step.alias}.${c.column}`));
  if (!profile) {
    if (learned.length) warnings.push(`no profile of this hospital yet: learned column(s) ${learned.join(', ')} stay empty; run \`cradle target profile\``);
    return warnings;
  }
  if (profile.mapping.sha256 !== mappingSha256(mapping)) warnings.push(`the profile of ${profile.learnedAt} was learned through another version of the mapping; run \`cradle target profile\` again`);
  const missing = learned.filter((key) => !profile.columns[key]);
  if (missing.length) warnings.push(`the profile has no column ${missing.join(', ')}: learned there stays empty; run \`cradle target profile\` again`);

  const weight = fieldColumn(mapping, 'baby.weightGrams');
  const weightKg = fieldColumn(mapping, 'baby.weightKg');
  const weightProfile = weight ? profile.columns[`${weight.step.alias}.${weight.column}`]?.number : undefined;
  const weightKgProfile = !weight && weightKg ? profile.columns[`${weightKg.step.alias}.${weightKg.column}`]?.number : undefined;
  const instantColumns = INSTANTS.map((field) => {
    const at = fieldColumn(mapping, field);
    return at ? { field, key: `${at.step.alias}.${at.column}`, time: profile.columns[`${at.step.alias}.${at.column}`]?.time } : null;
  }).filter((x) => x !== null);

  for (const family of families) {
    if (weightProfile) family.baby.weightGrams = Math.round(roundToProfile(rng, family.baby.weightGrams, weightProfile));
    else if (weightKgProfile) family.baby.weightGrams = Math.round(roundToProfile(rng, family.baby.weightGrams / 1000, weightKgProfile) * 1000);
    const anchors: Record<string, string> = {};
    for (const { field, key, time } of instantColumns) {
      const iso = instantOf(family, field);
      if (!iso) continue;
      let wall = toWall(iso, timeZone);
      if (time) {
        wall = withTimePrecision(rng, wall, time.precision);
        setInstant(family, field, new Date(fromWall(wall, timeZone)).toISOString());
      }
      anchors[key] = wallText(wall, wall % 1000 !== 0);
    }
    if (learned.length === 0) continue;
    const ctx: DrawContext = { anchors, day: wallText(toWall(family.admittedAt, timeZone)).slice(0, 10), birthDate: family.mother.birthDate };
    family.learned = {};
    for (const key of learned) {
      const p = profile.columns[key];
      if (!p) {
        family.learned[key] = null;
        continue;
      }
      let value = drawColumnValue(rng, p, ctx);
      // A time drawn as the hospital's wall clock, stored as an instant in a timestamptz column.
      if (typeof value === 'string' && p.dataType === 'timestamp with time zone') value = new Date(fromWall(wallMs(value), timeZone)).toISOString();
      family.learned[key] = value;
    }
  }
  return warnings;
}

const EVENT_FIELD = { admission: 'admittedAt', birth: 'baby.birthTime', discharge: 'dischargedAt' } as const;
/** A recording delay longer than this is taken for a back-dated entry, not a delay to imitate. */
const MAX_DELAY_MS = 3 * 86_400_000;

/**
 * How long after the moment itself the hospital's system records an event: the learned offset of the
 * bookkeeping stamp the event writes (created at admission and birth, updated at discharge) from the
 * field's own time column in the same row, drawn from its quantiles. A canary written at the very
 * second it was admitted or born is a tell where real rows are created minutes later. 0 without a
 * profile, a stamp column or a learned offset.
 */
export function recordingDelayMs(profile: HospitalProfile | null, mapping: Mapping, event: keyof typeof EVENT_FIELD, rng: Random): number {
  const at = profile ? fieldColumn(mapping, EVENT_FIELD[event]) : null;
  if (!profile || !at) return 0;
  const stamps = at.step.columns.filter((c) => c.value.type === 'stamp');
  const stamp = stamps.find((c) => c.value.type === 'stamp' && c.value.stamp === (event === 'discharge' ? 'updated' : 'created')) ?? stamps[0];
  const offset = stamp && profile.columns[`${at.step.alias}.${stamp.column}`]?.time?.offsets?.[`${at.step.alias}.${at.column}`];
  if (!offset || offset.quantiles.length === 0) return 0;
  const seconds = fromQuantiles(rng, offset.quantileLevels, offset.quantiles);
  return Number.isFinite(seconds) ? Math.min(MAX_DELAY_MS, Math.max(0, Math.round(seconds * 1000))) : 0;
}
