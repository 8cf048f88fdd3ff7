import type { Queryable } from '../db/index.js';
import type { HospitalProfile } from '../domain/index.js';
import { coverageWarning, segmentCoverage, type SegmentCoverage } from '../lib/segments.js';

// Hospital profiles (migration 011): learned by `cradle target profile`, read by seeding and `--show`.

export interface StoredProfile {
  id: number;
  profile: HospitalProfile;
}

/** Store a learned profile; returns its id. */
export async function saveProfile(db: Queryable, profile: HospitalProfile): Promise<number> {
  const { rows } = await db.query<{ id: string | number }>(
    `INSERT INTO target_profiles (hospital, learned_at, families, k, mapping_sha256, profile) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
    [profile.hospital, profile.learnedAt, profile.families, profile.k, profile.mapping.sha256, JSON.stringify(profile)],
  );
  return Number(rows[0].id);
}

/** The hospital's most recently learned profile, or null when none was learned. */
export async function latestProfile(db: Queryable, hospital: string): Promise<StoredProfile | null> {
  const { rows } = await db.query<{ id: string | number; profile: HospitalProfile | string }>(
    `SELECT id, profile FROM target_profiles WHERE hospital = $1 ORDER BY learned_at DESC, id DESC LIMIT 1`,
    [hospital],
  );
  if (rows.length === 0) return null;
  const profile = typeof rows[0].profile === 'string' ? (JSON.parse(rows[0].profile) as HospitalProfile) : rows[0].profile;
  return { id: Number(rows[0].id), profile };
}

type Segments = NonNullable<HospitalProfile['family']['phones']>['segments'];

/**
 * The mobile segments of the hospital's most recently learned profile (profile.family.phones.segments),
 * read out of the stored JSON by the database: the whole profile is about 130 kB on a demo hospital,
 * and carrying it through the protocol and parsing it took most of `cradle pool list`'s queries' time.
 */
async function latestSegments(db: Queryable, hospital: string): Promise<{ id: number; segments: Segments | null } | null> {
  const { rows } = await db.query<{ id: string | number; segments: Segments | string | null }>(
    `SELECT id, profile->'family'->'phones'->'segments' AS segments FROM target_profiles WHERE hospital = $1 ORDER BY learned_at DESC, id DESC LIMIT 1`,
    [hospital],
  );
  if (rows.length === 0) return null;
  const segments = typeof rows[0].segments === 'string' ? (JSON.parse(rows[0].segments) as Segments) : rows[0].segments;
  return { id: Number(rows[0].id), segments };
}

/** A hospital's trap pool against its real patients' phone segments (from the latest profile). */
export interface PoolSegmentCheck extends SegmentCoverage {
  hospital: string;
  /** The profile's id the segments come from. */
  profileId: number;
  /** Numbers the pool can still hand out to this hospital (its share and the shared ones; not assigned or blocked). */
  numbers: number;
  /** The warning line when the uncovered share reaches SEGMENT_WARN_SHARE, else null. */
  warning: string | null;
}

/**
 * How far the numbers the pool can still hand out to a hospital (burn-in, available, retired: all but
 * assigned and blocked) cover the segments of its real patients' mobile numbers; null when no profile
 * is stored or it holds no segments.
 */
export async function poolSegmentCheck(db: Queryable, hospital: string): Promise<PoolSegmentCheck | null> {
  const stored = await latestSegments(db, hospital);
  const segments = stored?.segments;
  if (!stored || !segments || segments.total === 0) return null;
  const { rows } = await db.query<{ e164: string }>(
    `SELECT e164 FROM trap_numbers WHERE (hospital = $1 OR hospital IS NULL) AND state IN ('burn_in', 'available', 'retired')`,
    [hospital],
  );
  const e164s = rows.map((r) => r.e164);
  const coverage = segmentCoverage(segments, e164s);
  return { hospital, profileId: stored.id, numbers: e164s.length, ...coverage, warning: coverageWarning(coverage, `${hospital}'s real patients' numbers`) };
}

/** poolSegmentCheck for this hospital, or for every hospital with a stored profile; only those with segments. */
export async function poolSegmentChecks(db: Queryable, hospital?: string): Promise<PoolSegmentCheck[]> {
  const names = hospital !== undefined ? [hospital] : (await db.query<{ hospital: string }>(`SELECT DISTINCT hospital FROM target_profiles ORDER BY hospital`)).rows.map((r) => r.hospital);
  const checks: PoolSegmentCheck[] = [];
  for (const name of names) {
    const check = await poolSegmentCheck(db, name);
    if (check) checks.push(check);
  }
  return checks;
}
