// A hospital's profile: aggregates learned from its real rows by `cradle target profile`, from which
// canaries are drawn. Aggregates only: a value is kept only when at least `k` real families share it,
// so the profile never holds a real person's full name, number, address, ID number or e-mail.
import type { ColumnProfile, NullPatterns } from './profile-columns.js';
import type { FamilyProfile } from './profile-family.js';

export type { Counts } from './counts.js';
export type { ColumnProfile, FamilyProfile };
export type { DistrictAddresses, GivenShape, NameShape, Quantiles, WardProfile } from './profile-family.js';
export { QUANTILE_POINTS } from './profile-family.js';
export type { KeyProfile, NullPatterns, NumberProfile, TextProfile, TimeProfile } from './profile-columns.js';
export { groupOfValue } from './profile-columns.js';

/** The profile of one hospital, stored in the vault, dated. Its parts are filled by the learners in src/profile. */
export interface HospitalProfile {
  version: 1;
  hospital: string;
  /** ISO instant. */
  learnedAt: string;
  /** Real families read. */
  families: number;
  /** The smallest number of families a kept value must be shared by. */
  k: number;
  /** The mapping file the profile was learned through, and its SHA-256 (a changed mapping makes the profile stale). */
  mapping: { source: string; sha256: string };
  /** Per column of the mapping's tables, keyed `alias.column`: see ColumnProfile. */
  columns: Record<string, ColumnProfile>;
  /** Per insert alias, which columns are empty together (see NullPatterns); absent in profiles learned before it. */
  nullPatterns?: Record<string, NullPatterns>;
  /** What a thief compares across fields of one family: see FamilyProfile. */
  family: FamilyProfile;
}

