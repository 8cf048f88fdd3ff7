// Value counts under the k rule of a hospital profile (see profile.ts).

/** How often each value occurs among `total` families; values shared by fewer than k families are left out and counted in `other`. */
export interface Counts {
  total: number;
  values: Record<string, number>;
  /** Families whose value was left out (shared by fewer than k). */
  other: number;
}
