// Column-level aggregates of a hospital profile (see profile.ts): what every column of the mapping's
// tables looks like, whether or not the mapping names it. Filled by src/profile/columns.ts, drawn from
// by src/lib/generate/columns.ts.
//
// Privacy: nothing here holds a value of one person. Categorical values and shapes are kept only when
// at least k families share them; quantiles are taken at levels with at least k families on either
// side; a column that identifies people (names, phones, addresses, ID numbers, e-mails, free text,
// keys) keeps no values and no quantiles at all, only shapes, lengths, precision and key patterns.
import type { Counts } from './counts.js';

/** How a column of numbers is recorded. */
export interface NumberProfile {
  /** Values at the levels of `quantileLevels` (shares in [0, 1], ascending, clipped so k families lie beyond each end). */
  quantileLevels: number[];
  quantiles: number[];
  /** Share of values that are whole multiples of each step ("1000", "100", "10", "1", "0.1", "0.01", "0.001"). */
  steps: Record<string, number>;
  /** The recording precision: the largest step at least 95% of the values are multiples of. */
  step: number;
}

/** How a column of times is recorded: precision, time of day, weekday, and its offset from the family's other times. */
export interface TimeProfile {
  /** Shares of values written to the day (00:00:00), the minute (:00 seconds), the second, or with fractions of a second. */
  precision: { day: number; minute: number; second: number; ms: number };
  /** Shares per hour of the day 0–23 (wall-clock time in the hospital's time zone). */
  hours: number[];
  /** Shares per ISO weekday, Monday first. */
  weekdays: number[];
  /** Per other time column of the same family (`alias.column`): this column minus that one, in seconds, where both are set. */
  offsets?: Record<string, { share: number; quantileLevels: number[]; quantiles: number[] }>;
}

/** Shapes of text: digits → #, Latin letters → A, CJK → 汉, other characters as written. */
export interface TextProfile {
  /** Shape templates under the k rule; a template keeps the literal prefix all its values share (e.g. ZY##########, 3204##############). */
  shapes: Counts;
  /** Lengths in characters, under the k rule. */
  lengths: Counts;
}

/** What a key or number column's values follow, for drawing keys of living canaries. */
export interface KeyProfile {
  /** No two rows hold the same value. */
  unique: boolean;
  /** Share of consecutive rows, in the first table's key order, whose value grows (≥ 0.99: a sequence). */
  growsWithOrder?: number;
  /** The same, in the order of the family's first mapped time (e.g. admission). */
  growsWithTime?: number;
  /** Median step between consecutive values in that order (1 for a dense sequence). */
  medianStep?: number;
  /** Values (digit runs) that start with a date: its pattern, the digits that follow, and what the counter restarts with. */
  datePrefix?: {
    pattern: 'yyyyMMdd' | 'yyMMdd' | 'yyyyMM' | 'yyyy';
    /** Where the date starts in the value (after a literal prefix such as ZY). */
    offset: number;
    /** Digits after the date. */
    digits: number;
    /** Share of values whose date is the family's first mapped time's date (in the hospital's time zone), when one exists. */
    matchesTime?: number;
    /** The counter starts again every day or every year, or runs on. */
    counter: 'day' | 'month' | 'year' | 'running';
  };
  /** Mainland ID-card numbers (18 characters, ISO 7064 mod 11-2 check character). */
  idCard?: {
    /** Share of values with a valid check character. */
    validShare: number;
    /** Administrative regions (first 6 digits), under the k rule. */
    regions: Counts;
    /** Share with X as check character. */
    xShare: number;
  };
}

export interface ColumnProfile {
  /** information_schema data_type. */
  dataType: string;
  /** Share of families with NULL (or empty text) here. */
  nullShare: number;
  /** Of those, the share of families with empty text ('') rather than NULL (text columns; absent: none). */
  emptyShare?: number;
  /**
   * A column the mapping does not fill whose database default is the write time (CURRENT_TIMESTAMP,
   * now()): left to it, a canary planted today would say "today" where real rows say when they were
   * admitted, so canaries get it explicitly from its learned offsets to the family's times.
   */
  writeTime?: boolean;
  /** Families read (the denominator of nullShare). */
  rows: number;
  /** Distinct non-null values. */
  distinct: number;
  /** The mapping field written here, if any. */
  field?: string;
  /**
   * Whether values identify people (a name, phone, address, ID number, e-mail, free text or key column):
   * then no value and no quantile is kept, only shapes, lengths, precision and key patterns.
   */
  identifying: boolean;
  /** Categorical values kept under the k rule (low-cardinality, non-identifying columns: 民族, 分娩方式, sex codes, wards). */
  values?: Counts;
  /**
   * A learned categorical column of the table that holds the birth weight (a gestational week kept in a
   * column of its own, 39 or 39+3), drawn jointly with the weight: per group of values (those starting
   * with the same number are one group, `groupOfValue`: 39 and 39+3; any other value its own), the
   * weight's quantiles among the group's rows, at levels with at least k families beyond each end
   * (groups rarer than 2k have none). `column` is the weight's `alias.column`.
   */
  byWeight?: {
    column: string;
    groups: Record<string, { quantileLevels: number[]; quantiles: number[] }>;
    /** The same per ward (the mapped ward of the weight's table), with each group's rows in it (n, at least 2k). */
    wards?: Record<string, Record<string, { n: number; quantileLevels: number[]; quantiles: number[] }>>;
  };
  number?: NumberProfile;
  time?: TimeProfile;
  text?: TextProfile;
  key?: KeyProfile;
}

/**
 * Which columns of one table are empty together on real rows: each pattern a string with one
 * character per column of `columns` (N NULL, E empty text, - a value), with how many families have it,
 * under the k rule (patterns fewer than k families share are counted in `other` only).
 */
export interface NullPatterns {
  /** The table's columns that are NULL or empty on at least one real row, in the table's order. */
  columns: string[];
  patterns: Counts;
}

/** The group of a categorical value for ColumnProfile.byWeight: its leading number (39 of 39+3), else the value itself. */
export const groupOfValue = (value: string): string => /^[0-9]+/.exec(value)?.[0] ?? value;
