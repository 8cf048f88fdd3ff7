// Family-level aggregates of a hospital profile (see profile.ts): names, addresses, phones, e-mail,
// wards and the joint shapes of a birth. Filled by src/profile/family.ts.
import type { Counts } from './counts.js';

export interface FamilyProfile {
  /** Births per ward. */
  wards: Counts;
}
