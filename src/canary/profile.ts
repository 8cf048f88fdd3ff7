import crypto from 'node:crypto';
import { QUANTILE_POINTS, type Family, type HospitalProfile, type NullPatterns } from '../domain/index.js';
import { drawColumnValue, drawKept, fromQuantiles, localeTables, roundToProfile, wallMs, wallText, withTimePrecision, type DrawContext, type Random } from '../lib/generate/index.js';
import { FIELDS } from '../targetdb/fields.js';
import { fieldColumn, type Mapping } from '../targetdb/mapping.js';

// Canaries drawn from the hospital's learned profile (`cradle target profile`): the mapped fields get
// the hospital's recording precision (weights to 10 g where it records to 10 g, times with seconds
// where it writes seconds), and the mapping's learned columns (`"learned": true`) get values drawn
// from their column profiles; a mapped field is left empty (Family.blank) with the share of families
// whose column the hospital leaves empty. Applied to the Family itself when it is drafted, so the vault's copy,
// the target's rows, dry runs and exports all agree. Returns warnings.

/** A mapping's fingerprint: SHA-256 of what it says (tables, columns, values), not of its file's spacing. */
export function mappingSha256(mapping: Mapping): string {
  const doc = { timeZone: mapping.timeZone ?? null, recordKey: mapping.recordKey ?? null, inserts: mapping.inserts };
  return crypto.createHash('sha256').update(JSON.stringify(doc)).digest('hex');
}

const INSTANTS = ['admittedAt', 'baby.birthTime', 'dischargedAt'] as const;
/** A column's own time (Family.columnTimes) lies at most this far from the field's first column. */
const MAX_COLUMN_OFFSET_S = 3600;
/** A ward's learned gap between two discharge columns lies at most this far (a NICU stay). */
const MAX_GAP_S = 90 * 86_400;
/** A gap longer than this is a discharge of its own (another visit to the desk), drawn at its ward's hours. */
const OWN_DAY_S = 3600;

/** An hour of the day by the learned shares per hour; null without any. */
function drawHour(rng: Random, shares: readonly number[] | undefined): string | null {
  const hours = (shares ?? []).map((w, h) => [String(h), w] as [string, number]).filter(([, w]) => w > 0);
  return hours.length ? rng.weighted(hours) : null;
}

/** One formatter per zone: making an Intl.DateTimeFormat costs far more than using it (two per canary field). */
const zoneFormatters = new Map<string, Intl.DateTimeFormat>();

/** The offset of `timeZone` from UTC at `ms`, in milliseconds. */
function zoneOffsetMs(timeZone: string, ms: number): number {
  let format = zoneFormatters.get(timeZone);
  if (!format) {
    format = new Intl.DateTimeFormat('en-US', { timeZone, hourCycle: 'h23', year: 'numeric', month: '2-digit', day: '2-digit', hour: '2-digit', minute: '2-digit', second: '2-digit' });
    zoneFormatters.set(timeZone, format);
  }
  const parts = Object.fromEntries(
    format
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

/**
 * Fields whose emptiness the generator draws itself or must not touch: the trap phones and e-mail a
 * canary is traced by (a mother always has her trap phone; a father's phone and the e-mail addresses
 * come with the real rows' shares), and the discharge, empty while the mother is still in hospital.
 */
const OWN_NULLS = /(\.phone|\.email)$|^dischargedAt$/;

/**
 * Per mapped field, the chance that a drafted family leaves it empty so that its columns are NULL as
 * often as the real rows' (the column profile's null share). A father's field is empty by itself when
 * no father is recorded: the chance here is the rest, given a father (e.g. 0 for the father's name
 * column, whose nulls are the missing fathers). A field written to several columns takes their mean.
 * Shares below 0.001 are dropped. A field written to a NOT NULL column (`notNull`, keyed `alias.column`;
 * its empties are empty text, which the null share counts too) is never left empty.
 */
export function blankShares(profile: HospitalProfile, mapping: Mapping, fatherShare: number, notNull: ReadonlySet<string> = new Set()): Map<string, number> {
  const shares = new Map<string, number[]>();
  const never = new Set(mapping.inserts.flatMap((step) => step.columns.filter((c) => c.value.type === 'field' && notNull.has(`${step.alias}.${c.column}`)).map((c) => (c.value as { field: string }).field)));
  for (const step of mapping.inserts) {
    for (const { column, value } of step.columns) {
      if (value.type !== 'field' || OWN_NULLS.test(value.field) || never.has(value.field)) continue;
      const p = profile.columns[`${step.alias}.${column}`];
      if (!p || !(p.nullShare > 0)) continue;
      let share = p.nullShare;
      if (value.field.startsWith('father.')) share = fatherShare > 0 ? (share - (1 - fatherShare)) / fatherShare : 0;
      shares.set(value.field, [...(shares.get(value.field) ?? []), Math.min(1, Math.max(0, share))]);
    }
  }
  const out = new Map<string, number>();
  for (const [field, list] of shares) {
    const mean = list.reduce((a, b) => a + b, 0) / list.length;
    if (mean >= 0.001) out.set(field, mean);
  }
  return out;
}

/** Of a field's empty columns, the share the hospital writes as empty text rather than NULL (the mean over its columns). */
function emptyShareOf(profile: HospitalProfile, mapping: Mapping, field: string): number {
  const shares = mapping.inserts.flatMap((step) => step.columns.filter((c) => c.value.type === 'field' && c.value.field === field).map((c) => profile.columns[`${step.alias}.${c.column}`]?.emptyShare ?? 0));
  return shares.length ? shares.reduce((a, b) => a + b, 0) / shares.length : 0;
}

/** A warning when real rows often leave the mother's phone empty: every canary carries its trap number there. */
function phoneWarning(profile: HospitalProfile, mapping: Mapping): string | null {
  for (const step of mapping.inserts) {
    for (const { column, value } of step.columns) {
      if (value.type !== 'field' || value.field !== 'mother.phone') continue;
      const share = profile.columns[`${step.alias}.${column}`]?.nullShare ?? 0;
      if (share < 0.05) continue;
      const pct = Math.round(share * 100);
      return (
        `real rows leave ${step.schema}.${step.table}.${column} (the mother's phone) empty in ${pct}% of families, but every canary carries its trap number there: ` +
        `about ${pct}% of canaries differ from real rows in that column alone (keeping only rows with a phone keeps every canary); map an e-mail or a father's phone to spread the traps`
      );
    }
  }
  return null;
}

/** What the joint draw decided for a family: the fields left empty, those written as empty text, and the learned columns' states. */
export interface EmptyDraw {
  blank: string[];
  emptyText: string[];
  /** Per learned column (`alias.column`) the joint draw covered: N NULL, E empty text, - a value. */
  learned: Record<string, 'N' | 'E' | '-'>;
}

/**
 * Which of a family's columns are empty, drawn jointly per table from the real rows' null patterns
 * (`profile.nullPatterns`): the patterns consistent with what the family already fixes (its trap phones
 * and e-mail, a father not recorded, fields it has no value for, fields an earlier table decided), drawn by
 * their counts (only those of discharged rows where the table holds a discharge: a canary's final state),
 * then applied to the fields and learned columns free to follow. A discharge, keys, stamps
 * and unmapped columns take no part. Returns null for a table with no patterns or none consistent
 * (the caller falls back to each column's own share). Fields decided here are in `decided`.
 */
export function drawEmpties(
  family: Family,
  patterns: NullPatterns,
  step: Mapping['inserts'][number],
  rng: Random,
  decided: Map<string, 'N' | 'E' | '-'>,
): EmptyDraw | null {
  const entries = Object.entries(patterns.patterns.values);
  if (entries.length === 0) return null;
  type Role = { kind: 'any' } | { kind: 'known'; empty: boolean; field?: string } | { kind: 'field'; field: string } | { kind: 'learned'; key: string };
  const roles: Role[] = patterns.columns.map((column) => {
    const value = step.columns.find((c) => c.column === column)?.value;
    if (value?.type === 'learned') return { kind: 'learned', key: `${step.alias}.${column}` };
    if (value?.type !== 'field' || value.field === 'dischargedAt') return { kind: 'any' };
    const earlier = decided.get(value.field);
    if (earlier) return { kind: 'known', empty: earlier !== '-', field: value.field };
    const raw = FIELDS[value.field]?.get(family);
    if (raw === null || raw === undefined) return { kind: 'known', empty: true, field: value.field };
    if (OWN_NULLS.test(value.field)) return { kind: 'known', empty: false };
    return { kind: 'field', field: value.field };
  });
  const fits = entries.filter(([p]) => roles.every((r, j) => r.kind !== 'known' || (p[j] !== '-') === r.empty)).sort((a, b) => (a[0] < b[0] ? -1 : 1));
  if (fits.length === 0) return null;
  // A canary gives birth and goes home: where the table holds the discharge, only the patterns of rows
  // the hospital has discharged. A row still in hospital may not have reached the columns written later
  // (a mother not yet delivered has no delivery mode), which no delivered mother lacks.
  const discharge = patterns.columns.flatMap((column, j) => {
    const value = step.columns.find((c) => c.column === column)?.value;
    return value?.type === 'field' && value.field === 'dischargedAt' ? [j] : [];
  });
  const final = fits.filter(([p]) => discharge.every((j) => p[j] === '-'));
  const pattern = rng.weighted(final.length ? final : fits);
  const out: EmptyDraw = { blank: [], emptyText: [], learned: {} };
  roles.forEach((r, j) => {
    const state = pattern[j] as 'N' | 'E' | '-';
    if (r.kind === 'learned') out.learned[r.key] = state;
    else if (r.kind === 'field' && !decided.has(r.field)) {
      decided.set(r.field, state);
      if (state !== '-') out.blank.push(r.field);
      if (state === 'E') out.emptyText.push(r.field);
    } else if (r.kind === 'known' && r.field && r.empty && state === 'E' && !out.emptyText.includes(r.field)) {
      out.emptyText.push(r.field);
    }
  });
  return out;
}

/** Give drafted families the hospital's precision and fill their learned columns from `profile` (null: none learned yet). */
export function applyProfile(
  families: Family[],
  profile: HospitalProfile | null,
  mapping: Mapping,
  timeZone: string,
  rng: Random,
  /** The target's NOT NULL columns (`alias.column`): their fields are never left empty. */
  notNull: ReadonlySet<string> = new Set(),
): string[] {
  const warnings: string[] = [];
  const learned = mapping.inserts.flatMap((step) => step.columns.filter((c) => c.value.type === 'learned').map((c) => `${step.alias}.${c.column}`));
  if (!profile) {
    if (learned.length) warnings.push(`no profile of this hospital yet: learned column(s) ${learned.join(', ')} stay empty; run \`cradle target profile\``);
    return warnings;
  }
  if (profile.mapping.sha256 !== mappingSha256(mapping)) warnings.push(`the profile of ${profile.learnedAt} was learned through another version of the mapping; run \`cradle target profile\` again`);
  const missing = learned.filter((key) => !profile.columns[key]);
  if (missing.length) warnings.push(`the profile has no column ${missing.join(', ')}: learned there stays empty; run \`cradle target profile\` again`);
  const phone = phoneWarning(profile, mapping);
  if (phone && families.length) warnings.push(phone);
  const blanks = new Map<string, Map<string, number>>();
  const blanksOf = (family: Family): Map<string, number> => {
    let b = blanks.get(family.locale);
    if (!b) blanks.set(family.locale, (b = blankShares(profile, mapping, profile.family.relations?.fatherRecorded ?? localeTables(family.locale).fatherShare, notNull)));
    return b;
  };

  // Unmapped columns the database stamps with the write time (CURRENT_TIMESTAMP), which canaries set explicitly.
  const named = new Set(mapping.inserts.flatMap((step) => step.columns.map((c) => `${step.alias}.${c.column}`)));
  const writeTimes = Object.entries(profile.columns)
    .filter(([key, p]) => p.writeTime && !named.has(key) && p.time?.offsets && Object.values(p.time.offsets).some((o) => o.quantiles.length > 0))
    .map(([key]) => key);
  // Columns holding a time another column holds first (the baby's discharge beside the mother's), with a learned offset from it.
  const ownTimes = INSTANTS.flatMap((field) => {
    const first = fieldColumn(mapping, field);
    if (!first) return [];
    const firstKey = `${first.step.alias}.${first.column}`;
    return mapping.inserts.flatMap((step) =>
      step.columns.flatMap(({ column, value }) => {
        const key = `${step.alias}.${column}`;
        const offset = profile.columns[key]?.time?.offsets?.[firstKey];
        if (value.type !== 'field' || value.field !== field || key === firstKey || !offset || offset.quantiles.every((q) => Math.abs(q) < 1)) return [];
        return [{ field, key, offset, precision: profile.columns[key].time!.precision }];
      }),
    );
  });
  const stampsOf = (key: string) => {
    const step = mapping.inserts.find((st) => key.startsWith(`${st.alias}.`));
    return (step?.columns ?? []).filter((c) => c.value.type === 'stamp' && c.value.stamp === 'updated').map((c) => `${step!.alias}.${c.column}`);
  };
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
    for (const { field, key, offset, precision } of ownTimes) {
      const iso = instantOf(family, field);
      if (!iso) continue;
      // The ward's own gap where the profile has one (a NICU baby goes home days after its mother),
      // else an offset within the hour (a record written minutes apart), from the column's quantiles.
      const wardProfile = field === 'dischargedAt' ? profile.family.births?.byWard[family.ward] : undefined;
      const gap = wardProfile?.dischargeGaps?.[key];
      const hours = wardProfile?.dischargeHours?.[key];
      for (let tries = 0; tries < 20; tries++) {
        const seconds = gap ? fromQuantiles(rng, QUANTILE_POINTS, gap) : fromQuantiles(rng, offset.quantileLevels, offset.quantiles);
        if (!Number.isFinite(seconds) || Math.abs(seconds) > (gap ? MAX_GAP_S : MAX_COLUMN_OFFSET_S)) continue;
        let wall = toWall(iso, timeZone) + Math.round(seconds) * 1000;
        // A discharge on another day (a NICU baby's) keeps the day the gap gives and takes the ward's own
        // hour for that column: the gap's seconds alone would send babies home at 3 a.m.
        // A young profile may keep no hour of the ward yet: then the column's own hours (all wards).
        const hour = Math.abs(seconds) <= OWN_DAY_S ? null : (drawKept(rng, hours) ?? drawHour(rng, profile.columns[key]?.time?.hours));
        if (hour !== null) wall = Math.floor(wall / 86_400_000) * 86_400_000 + Number(hour) * 3_600_000 + rng.int(0, 3599) * 1000;
        if (field === 'dischargedAt' && family.baby.birthTime && wall <= toWall(family.baby.birthTime, timeZone) + 3_600_000) continue;
        wall = withTimePrecision(rng, wall, precision);
        const own = new Date(fromWall(wall, timeZone));
        (family.columnTimes ??= {})[key] = own.toISOString();
        // Its row's updated stamp: its own time plus a recording delay of its own (at discharge).
        if (field === 'dischargedAt') {
          for (const stamp of stampsOf(key)) family.columnTimes[stamp] = new Date(own.getTime() + recordingDelayMs(profile, mapping, 'discharge', rng)).toISOString();
        }
        break;
      }
    }
    // A row the birth updates (the mother's) is stamped a learned while after the baby's row is created.
    for (const [key, gap] of Object.entries(profile.family.births?.birthUpdateGaps ?? {})) {
      const seconds = fromQuantiles(rng, QUANTILE_POINTS, gap);
      if (Number.isFinite(seconds) && Math.abs(seconds) <= MAX_COLUMN_OFFSET_S) (family.stampGaps ??= {})[key] = Math.round(seconds);
    }
    // Empty columns: jointly per table where the profile has the real rows' null patterns, else each by its own share.
    const decided = new Map<string, 'N' | 'E' | '-'>();
    const blank: string[] = [];
    const emptyText: string[] = [];
    const learnedStates: Record<string, 'N' | 'E' | '-'> = {};
    const covered = new Set<string>();
    for (const step of mapping.inserts) {
      const patterns = profile.nullPatterns?.[step.alias];
      const drawn = patterns ? drawEmpties(family, patterns, step, rng, decided) : null;
      if (!drawn) continue;
      for (const c of step.columns) if (c.value.type === 'field' && patterns!.columns.includes(c.column)) covered.add(c.value.field);
      blank.push(...drawn.blank);
      emptyText.push(...drawn.emptyText);
      Object.assign(learnedStates, drawn.learned);
    }
    for (const [field, share] of blanksOf(family)) {
      if (covered.has(field) || (field.startsWith('father.') && family.father === null) || !rng.chance(share)) continue;
      blank.push(field);
      if (rng.chance(emptyShareOf(profile, mapping, field))) emptyText.push(field);
    }
    if (blank.length) family.blank = blank;
    if (emptyText.length) family.emptyText = [...new Set(emptyText)];
    const ctx: DrawContext = { anchors, day: wallText(toWall(family.admittedAt, timeZone)).slice(0, 10), birthDate: family.mother.birthDate, ward: family.ward, ...(weight ? { numbers: { [`${weight.step.alias}.${weight.column}`]: family.baby.weightGrams } } : {}) };
    // Times the database would stamp with the write time: from their learned offsets to the family's own times.
    for (const key of writeTimes) {
      let value = drawColumnValue(rng, profile.columns[key], ctx, { present: true });
      if (typeof value === 'string' && profile.columns[key].dataType === 'timestamp with time zone') value = new Date(fromWall(wallMs(value), timeZone)).toISOString();
      if (value !== null) (family.learned ??= {})[key] = value;
    }
    if (learned.length === 0) continue;
    family.learned ??= {};
    for (const key of learned) {
      const p = profile.columns[key];
      if (!p) {
        family.learned[key] = null;
        continue;
      }
      const state = learnedStates[key];
      if (state === 'N' || state === 'E') {
        family.learned[key] = state === 'E' ? '' : null;
        continue;
      }
      let value = drawColumnValue(rng, p, ctx, { present: state === '-' });
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
