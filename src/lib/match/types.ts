// What the matcher is given (one signature per canary) and what it reports.
import type { Locale, PersonName } from '../../domain/index.js';

/** Everything about one canary that a leak can reveal and the matcher looks for. */
export interface CanarySignature {
  canaryId: string;
  /** E.164, e.g. +8613812345678 or +14155552671. */
  phones: string[];
  emails: string[];
  /** Parents, and the baby when it has a real name (a placeholder like 陈丽华之子 or Baby Girl is no evidence). */
  names: PersonName[];
  locale: Locale;
}

export type MatchKind = 'phone' | 'masked-phone' | 'email' | 'name' | 'name-pinyin' | 'masked-name';

export interface Hit {
  canaryId: string;
  kind: MatchKind;
  /** The text as it appears in the record (text.slice(start, end)). */
  matched: string;
  /** UTF-16 offsets in the record text. */
  start: number;
  end: number;
  /** The canary's own value this hit stands for: its E.164 phone, its e-mail (lowercase) or the full name. */
  value: string;
  /**
   * True when the match is a whole token: a name that is the entire run of characters or words
   * around it, not part of a longer one. Phones and e-mails are always whole (the matcher reports
   * nothing else); a Chinese name inside a longer run of characters is not.
   */
  whole: boolean;
  /**
   * For masked phones, which digits were hidden: `middle` is the broker form (138****5678, the
   * first 3 and last 4 visible), `tail` hides the last 4 (1381234****) and only counts when a name
   * of the same canary confirms it (see score.ts).
   */
  mask?: 'middle' | 'tail';
}

export interface RecordMatch {
  canaryId: string;
  hits: Hit[];
  /** 0..1: how sure it is that this record is (a copy of) the canary. */
  confidence: number;
  /** One sentence an investigator can read: what matched and why that is worth this confidence. */
  reason: string;
}
