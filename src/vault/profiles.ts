import type { Queryable } from '../db/index.js';
import type { HospitalProfile } from '../domain/index.js';

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
