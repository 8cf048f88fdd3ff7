// Family-level aggregates of a hospital profile (see profile.ts): names, addresses, phones, e-mail,
// wards and the joint shapes of a birth. Filled by src/profile/family.ts. Every Counts obeys the k
// rule; quantiles are only kept for groups of at least k families and never include the extremes
// (the 1st and 99th percentiles are the outermost points), so no one family's value is stored.
import type { Counts } from './counts.js';

/** Values at the fractions QUANTILE_POINTS of a distribution (same length), for inverse-CDF sampling. */
export type Quantiles = number[];
/** The fractions at which Quantiles are taken. */
export const QUANTILE_POINTS: readonly number[] = [0.01, 0.025, 0.05, 0.1, 0.15, 0.2, 0.25, 0.3, 0.35, 0.4, 0.45, 0.5, 0.55, 0.6, 0.65, 0.7, 0.75, 0.8, 0.85, 0.9, 0.95, 0.975, 0.99];

/** How one role's names look: whole names, surnames, characters by position and length. */
export interface NameShape {
  /** Families with a name recorded (placeholders excluded for babies). */
  total: number;
  /** Whole names (surname + given name) shared by at least k families. */
  whole: Counts;
  surnames: Counts;
  /** Given-name length in characters ("1", "2", "3"). */
  givenLength: Counts;
  /** Characters by position, per given-name length: chars["2"][0] is the first character of two-character given names. */
  chars: Record<string, Counts[]>;
  /** Share of two-character given names whose characters are the same (婷婷). */
  reduplicated: number;
  /** Whole given names (梓涵) shared by at least k families, whatever their surname (absent in older profiles). */
  given?: Counts;
  /** Given names per sex code (the baby's: a generation's girls' and boys' names differ). */
  bySex?: Record<string, GivenShape>;
}

/** The given names of one group (a baby's sex): whole given names, characters, length, reduplication. */
export interface GivenShape {
  /** Names recorded in the group (placeholders excluded). */
  total: number;
  /** Whole given names shared by at least k families. */
  given: Counts;
  givenLength: Counts;
  chars: Record<string, Counts[]>;
  reduplicated: number;
}

/** Addresses of one district: templates with slots and the district's own words for each slot. */
export interface DistrictAddresses {
  /**
   * Templates: digits written #, proper nouns as {slot} (e.g. `常州市武进区{镇}{社区}{小区}#幢#单元###室`).
   * With `heads`, a template starts at the district (`武进区{镇}{社区}{小区}#*幢#*单元#*室`, `#*` a number
   * of any length) and the head before it is drawn from `heads`.
   */
  templates: Counts;
  /** The administrative text written before the district (常州市, 江苏省常州市, '' for none). */
  heads?: Counts;
  /** Per slot ({镇}, {社区}, {路}, {小区} …): the district's words (湖塘镇, 阳光小区 …) under the k rule. */
  vocabulary: Record<string, Counts>;
  /**
   * The ID-card regions (first six digits) of the mothers living in the district, under the k rule: most
   * were registered where they live (a 武进区 address with a 320412 card), which a region drawn apart
   * from the address would not say.
   */
  idRegions?: Counts;
  /**
   * Per slot, the families whose word no other family of the district shares: the chance that the next
   * family's word is one not seen yet (a young profile leaves many words under k that are common in the
   * end: drawn as new words by their whole rare share, canaries held words nobody else has).
   */
  once?: Record<string, number>;
}

/** One ward's births, jointly. */
export interface WardProfile {
  births: number;
  sex: Counts;
  /** Delivery modes in the Family's codes (vaginal, caesarean, …) where the mapping holds one. */
  deliveryModes?: Counts;
  weightGrams?: Quantiles;
  /** Gestational weeks (where a column holds them). */
  gestationWeeks?: Counts;
  /** Whole days between the local birth date and the local discharge date, per delivery mode ("all" always). */
  stayDays: Record<string, Counts>;
  /** The mothers' wards of this ward's babies (mapping field `motherWard`): a NICU's mothers are on obstetric wards. */
  motherWards?: Counts;
  /**
   * The ward's named babies: "1" written under a placeholder ({mother}之女), "0" under a name of their own
   * (a NICU registers more babies before they are named). Absent in older profiles.
   */
  placeholders?: Counts;
  /**
   * Seconds from the first discharge column to a later one holding the discharge too (the baby's own,
   * beside the mother's), keyed by that column (`alias.column`): a NICU baby goes home days after its mother.
   */
  dischargeGaps?: Record<string, Quantiles>;
  /** The local hour ("0".."23") of that later discharge column, keyed as dischargeGaps. */
  dischargeHours?: Record<string, Counts>;
}

export interface FamilyProfile {
  /** Births per ward. */
  wards: Counts;
  /** Families read (one per row of the mapping's first table). */
  families?: number;
  names?: {
    mother?: NameShape;
    father?: NameShape;
    baby?: NameShape;
    /** Baby names written from another name (`{mother}之女`), as templates; the share of babies that have one is placeholders.total / babies named. */
    babyPlaceholders?: Counts;
  };
  addresses?: {
    /** Families per district (the mapping's district field, else the address's administrative prefix). */
    districts: Counts;
    byDistrict: Record<string, DistrictAddresses>;
    /** The addresses' numbers per the unit after them (幢, 单元, 室, 组, 号, `-`; `$` at the end), under the k rule. */
    numbers?: Record<string, Counts>;
    /**
     * Per slot, the words too rare to keep in their district (over all districts): their lengths and,
     * per length, characters by position, each under the k rule: words of that shape for a slot whose
     * words a district keeps none of (its hamlets).
     */
    rareWords?: Record<string, { lengths: Counts; chars: Record<string, Counts[]> }>;
  };
  phones?: {
    /** Share of families with a phone for this role. */
    present: { mother: number; father: number };
    /** First 7 digits of mobile numbers (mothers and fathers together). */
    segments: Counts;
    /** Per role, mobile segments of that role. */
    segmentsByRole: { mother: Counts; father: Counts };
    /** Among recorded phones, the share that is not a mobile number. */
    landlineShare: number;
    /** Among families with both phones, the share where the father's is the mother's. */
    fatherSharesMother: number;
  };
  email?: {
    present: { mother: number; father: number };
    /** Domains (providers), lower case. */
    domains: Counts;
    /** Local-part shapes: digits:<length> (QQ style), pinyin, pinyin+digits, initials+digits, other. */
    shapes: Counts;
  };
  relations?: {
    /** Share of families with a father recorded. */
    fatherRecorded: number;
    /** Among named babies with a father: the baby's surname is the father's; is the mother's (both can hold). */
    babySurnameFather: number;
    babySurnameMother: number;
    /** Among families with a father: the mother's surname is the father's. */
    parentsShareSurname: number;
  };
  births?: {
    /** Per ward (the keys of `wards`), jointly. */
    byWard: Record<string, WardProfile>;
    /** Local birth hour "0".."23", per delivery mode and "all". */
    hours: Record<string, Counts>;
    /** Local weekday "0" (Sunday) .."6", per delivery mode and "all". */
    weekdays: Record<string, Counts>;
    /**
     * Local birth hour per delivery mode on working days and at weekends, keyed `caesarean|weekend`: a
     * hospital plans its caesareans on working-day mornings and does the others at any hour.
     */
    hoursByDay?: Record<string, Counts>;
    /** Weight quantiles per gestational week (weeks with at least k births, all wards). */
    weightByWeek?: Record<string, Quantiles>;
    /** The step weights are recorded in (1, 5, 10, 50, 100 g): the largest step at least 95% of weights are multiples of. */
    weightStep?: number;
    /** Hours from admission to birth. */
    admissionToBirthHours?: Quantiles;
    /** The same per delivery mode and quarter of the day of the birth (local hour / 6), keyed `caesarean|1`: groups of at least k births. */
    admissionToBirthByMode?: Record<string, Quantiles>;
    /**
     * The same per delivery mode, working day or weekend, and local hour of the birth (`caesarean|weekday|9`),
     * else quarter of the day (`caesarean|weekend|q1`): groups of at least k births.
     */
    admissionToBirthByHour?: Record<string, Quantiles>;
    /**
     * Seconds from the birth's inserted row's created stamp (the baby's) to the updated stamp of a row the
     * birth updates (the mother's), keyed by that stamp `alias.column`, among rows not updated since.
     */
    birthUpdateGaps?: Record<string, Quantiles>;
    /** Local hour of discharge "0".."23". */
    dischargeHours?: Counts;
    /** Local ten-minute slot of discharge, "0" (00:00–00:09) .."143", under the k rule (finer than the hours). */
    dischargeSlots?: Counts;
  };
  parents?: {
    /** Mother's age in years at the birth. */
    motherAge?: Quantiles;
    /** Father's age minus the mother's, in years. */
    fatherAgeGap?: Quantiles;
    /** First six digits (region code) of ID-card numbers, mothers and fathers together. */
    idRegions?: Counts;
  };
}
