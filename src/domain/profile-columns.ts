// Column-level aggregates of a hospital profile (see profile.ts): what every column of the mapping's
// tables looks like, whether or not the mapping names it. Filled by src/profile/columns.ts.
import type { Counts } from './counts.js';

export interface ColumnProfile {
  /** information_schema data_type. */
  dataType: string;
  /** Share of families with NULL (or empty text) here. */
  nullShare: number;
  /** Categorical values kept under the k rule. */
  values?: Counts;
}
