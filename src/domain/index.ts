// The words of DESIGN.md as types. This module imports nothing.

export type Locale = 'zh-CN' | 'en-US';
export const LOCALES: readonly Locale[] = ['zh-CN', 'en-US'];

/** The country whose mobile numbers a hospital of this locale gives out. */
export function regionOfLocale(locale: Locale): string {
  return locale === 'zh-CN' ? 'CN' : 'US';
}

export type Sex = 'female' | 'male';

/** A person's name split the way hospitals store it. `full` is written in the locale's usual order. */
export interface PersonName {
  family: string;
  given: string;
  full: string;
  /** Latin transcription: pinyin without tones for zh-CN ("Chen Li"), the name itself for en-US. */
  latin: string;
}

export interface Parent {
  name: PersonName;
  /** yyyy-MM-dd */
  birthDate: string;
  /** Age in whole years at the baby's birth. */
  age: number;
  /** E.164, always a trap-pool number for canaries; null when the family has none recorded. */
  phone: string | null;
  email: string | null;
  /** Resident ID-card number (18 characters for zh-CN), where the hospital records one. */
  idNumber?: string | null;
}

export interface Baby {
  name: PersonName;
  sex: Sex;
  /** ISO 8601 instant (UTC, with Z). */
  birthTime: string;
  weightGrams: number;
  /** Completed weeks of gestation, where the hospital records them. */
  gestationWeeks?: number;
}

export interface Address {
  district: string;
  street: string;
  full: string;
}

/** One family as it would appear in a hospital's newborn records. Canaries and demo records share this shape. */
export interface Family {
  locale: Locale;
  mother: Parent;
  father: Parent | null;
  baby: Baby;
  hospital: string;
  /** The baby's ward: the canary's ward channel (a NICU baby's is the NICU). */
  ward: string;
  /**
   * The mother's ward where it is not the baby's (a NICU baby's mother is on an obstetric ward), drawn
   * from the hospital's profile; the mapping field `motherWard` writes it, else `ward`.
   */
  motherWard?: string;
  /** ISO instants. */
  admittedAt: string;
  dischargedAt: string | null;
  address: Address;
  /** How the baby was delivered: vaginal, caesarean or another code of the hospital's, where it records one. */
  deliveryMode?: string;
  /** Values of the mapping's learned columns (`"learned": true`), keyed `alias.column`, drawn from the hospital's profile. */
  learned?: Record<string, string | number | null>;
  /**
   * Mapped fields the hospital's system left empty for this family (e.g. `mother.idNumber`), drawn from
   * the profile's null share of their columns: every column and export that holds them writes NULL,
   * though the family keeps its value here. Never a trap phone or e-mail.
   */
  blank?: string[];
  /** Of the fields left empty (blank, or with no value), those the hospital writes as empty text ('') rather than NULL. */
  emptyText?: string[];
  /**
   * Per column (`alias.column`) holding a time field that an earlier column holds too (the baby's
   * discharge beside the mother's), its own instant (ISO), drawn from the hospital's learned offset
   * between the two: real rows rarely hold the very same second in both.
   */
  columnTimes?: Record<string, string>;
  /**
   * Seconds after an event's write that a row it updates is stamped, keyed by that row's updated stamp
   * (`alias.column`): the mother's row, updated at the birth a learned while after the baby's row is
   * created, as the hospital's system writes them (HospitalProfile births.birthUpdateGaps).
   */
  stampGaps?: Record<string, number>;
}

export type ChannelKind = 'export' | 'account' | 'system' | 'ward';
export const CHANNEL_KINDS: readonly ChannelKind[] = ['export', 'account', 'system', 'ward'];

/** A place data flows to, written `kind:name` (export:insurer, account:n0412, system:his, ward:NICU). */
export interface ChannelRef {
  kind: ChannelKind;
  name: string;
}

export type TrapNumberState = 'burn_in' | 'available' | 'assigned' | 'retired' | 'blocked';

export type CanaryStatus = 'pending' | 'scheduled' | 'planted' | 'retired';

/** ISO week such as 2026-W48. */
export type IsoWeek = string;

/** Parse `kind:name`; throws an Error naming what is wrong. */
export function parseChannel(text: string): ChannelRef {
  const colon = text.indexOf(':');
  const kind = text.slice(0, colon) as ChannelKind;
  const name = text.slice(colon + 1).trim();
  if (colon < 0 || !CHANNEL_KINDS.includes(kind) || name.length === 0) {
    throw new Error(`"${text}" is not a channel: write kind:name with kind one of ${CHANNEL_KINDS.join(', ')} (e.g. system:his, ward:NICU)`);
  }
  return { kind, name };
}

export function formatChannel(channel: ChannelRef): string {
  return `${channel.kind}:${channel.name}`;
}
export * from './profile.js';

/**
 * Shared trap numbers (docs/trace.md): days after a canary releases a number during which no canary of
 * its channel (ward or export file) may take it, so the candidates of a recent contact on it come from
 * different channels.
 */
export const SHARED_APART_DAYS = 30;
