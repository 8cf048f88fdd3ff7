import type { Queryable, ReadOnlyQueryable } from '../db/index.js';
import { regionOfLocale, SHARED_APART_DAYS, type Family, type HospitalProfile } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import type { HospitalConfig } from '../config/index.js';
import { confusable, createRandom, generateFamily, type Random } from '../lib/generate/index.js';
import { sameBirthDay } from '../lib/birth-dates.js';
import { orderBySegments, segmentWarning } from '../lib/segments.js';
import { findTakenEmails, findTakenPhones } from '../targetdb/families.js';
import { columnKey, targetColumns } from '../targetdb/read.js';
import { phonesInOtherRows } from '../targetdb/reuse.js';
import type { Mapping } from '../targetdb/mapping.js';
import * as vault from '../vault/index.js';
import { applyProfile } from './profile.js';

// Drafting canaries, for seeding and for exports alike: realistic families, trap numbers from the
// pool that no real row of the target uses and whose earlier holders' names the new parent's name
// cannot be confused with, and e-mail addresses on the trap domains that nobody else has. Nothing is
// written here but blocked numbers are returned for the caller to record.
//
// Names are kept apart per trap number, not across the vault. A contact reaches one number, and
// triage chooses among that number's holders, past and present, by the names the contact gives
// (src/triage/triage.ts, vault.trapHolders); canaries on other numbers are never candidates. So the
// protected set of a new parent is the earlier holders of the number it gets (a few dozen names over
// a vault's life), and two live canaries of a hospital may share a popular whole name, as real
// patients do. A vault-wide "no two canaries within one edit" rule protected nothing more and ran out
// of zh-CN names after about 3,000 canaries (test/canary/names.slow.test.ts measures the new rule).

export interface DraftRequest {
  hospital: HospitalConfig;
  mapping: Mapping;
  count: number;
  /** The ward of the i-th canary. */
  ward: (rng: Random, i: number) => string;
  birthFrom: Date;
  birthTo: Date;
  now: Date;
  seed?: string;
  /**
   * The hospital's learned profile (from the vault): canaries are drawn from it, trap numbers are
   * picked to follow its phone segments, and canaries get e-mail only on trap domains that real
   * patients' providers include.
   */
  profile?: HospitalProfile;
  /** Draft the whole stay, the discharge included even when it is still to come (it is written when it happens). */
  fullStay?: boolean;
  /**
   * What the canaries are for, with pool.sharing "shared": a seeded batch's canaries (default) may not
   * take a number a canary of the same ward holds or released within SHARED_APART_DAYS; an export's are
   * a channel of their own (they only take different numbers from one another).
   */
  origin?: 'batch' | 'export';
}

export interface CanaryDraft {
  families: Family[];
  assignments: { numberId: number; family: Family; role: 'mother' | 'father' }[];
  /** Pool numbers found in the target's real rows: block them. */
  blocked: { id: number; e164: string }[];
  warnings: string[];
  /** The profile the families were drawn from (null: the locale tables). */
  profile: HospitalProfile | null;
}

export async function draftCanaries(vaultDb: Queryable, target: ReadOnlyQueryable, request: DraftRequest): Promise<CanaryDraft> {
  // The hospital's learned profile, when the caller gave none: the latest stored in the vault.
  const profile = request.profile ?? (await vault.latestProfile(vaultDb, request.hospital.name))?.profile ?? null;
  const req: DraftRequest = { ...request, profile: profile ?? undefined };
  const rng = createRandom(req.seed);
  const trapDomains = (await vault.trapDomains(vaultDb, req.hospital.name)).map((d) => d.domain);
  const warnings: string[] = [];
  if (trapDomains.length === 0) warnings.push('no trap e-mail domain: these canaries carry no e-mail address (add one with `cradle pool add-domain`)');
  const domains = profileDomains(req, trapDomains, warnings);
  const families = draftFamilies(rng, req, domains);
  // Its precision and learned columns (src/canary/profile.ts).
  const notNull = profile ? new Set((await targetColumns(target, req.mapping)).filter((c) => !c.nullable).map(columnKey)) : undefined;
  warnings.push(...applyProfile(families, profile, req.mapping, req.mapping.timeZone ?? req.hospital.timeZone, createRandom(req.seed === undefined ? undefined : `${req.seed}:profile`), notNull));
  const { assignments, blocked } = await assignTrapNumbers(vaultDb, target, req, rng, families, warnings);
  await ensureUniqueEmails(vaultDb, target, req.mapping, families, rng);
  return { families, assignments, blocked, warnings, profile };
}

/**
 * The trap domains canaries may use: with a profile that knows the real patients' providers, only those
 * among them, since a canary e-mail on a domain no real patient uses is a tell.
 */
function profileDomains(req: DraftRequest, trapDomains: string[], warnings: string[]): string[] {
  const real = req.profile?.family.email?.domains;
  if (!real || trapDomains.length === 0) return trapDomains;
  const usable = trapDomains.filter((d) => (real.values[d.toLowerCase()] ?? 0) > 0);
  if (usable.length === 0) {
    const top = Object.entries(real.values).sort((a, b) => b[1] - a[1]).slice(0, 3).map(([d]) => d);
    warnings.push(
      `no trap e-mail domain is one real patients use (${top.length ? `theirs: ${top.join(', ')}` : 'none is shared by enough patients to be kept'}; yours: ${trapDomains.join(', ')}): these canaries carry no e-mail address, since an address on a domain no patient uses would give them away`,
    );
  }
  return usable;
}

/**
 * A canary's e-mail domain. With a profile that knows the real patients' providers, the provider is
 * drawn as theirs are distributed and the canary keeps an address only when it is one of the trap
 * domains: an address on a trap domain is then exactly as common among canaries as among real
 * patients (were every canary address on the trap domain, the domain alone would point at them),
 * at the cost of fewer canaries with an e-mail. Without a profile, any trap domain.
 */
function emailDomain(rng: Random, req: DraftRequest, domains: string[]): string | null {
  if (domains.length === 0) return null;
  const real = req.profile?.family.email?.domains;
  if (!real || real.total <= 0) return rng.pick(domains);
  const weights: [string | null, number][] = [...Object.entries(real.values), [null, real.other]];
  const drawn = rng.weighted(weights.filter(([, w]) => w > 0));
  return drawn !== null && domains.some((d) => d.toLowerCase() === drawn) ? drawn : null;
}

/** Draw families; phones are placeholders until the trap numbers are chosen. */
function draftFamilies(rng: Random, req: DraftRequest, domains: string[]): Family[] {
  const families: Family[] = [];
  for (let i = 0; i < req.count; i++) {
    const ward = req.ward(rng, i);
    const family = generateFamily(rng, {
      locale: req.hospital.locale,
      hospital: req.hospital.displayName,
      ward,
      nicu: req.hospital.nicuWards.includes(ward),
      districts: req.hospital.districts,
      timeZone: req.hospital.timeZone,
      birthFrom: req.birthFrom,
      birthTo: req.birthTo,
      phone: (role) => `pending:${role}`,
      emailDomain: (r) => emailDomain(r, req, domains),
      now: req.fullStay ? undefined : req.now,
      profile: req.profile?.family,
    });
    // A canary without a trap phone could never be called: the mother always gets one.
    family.mother.phone ??= 'pending:mother';
    // pool.fatherNumbers "mother": a recorded father's phone is the mother's number (phoneSlots: no slot of his own).
    if (req.hospital.fatherNumbers === 'mother' && family.father?.phone) family.father.phone = family.mother.phone;
    families.push(family);
  }
  return families;
}

/** The phones to fill with trap numbers; a father recorded with the mother's phone shares her number. */
function phoneSlots(families: Family[]): { family: Family; role: 'mother' | 'father' }[] {
  return families.flatMap((family) => [
    ...(family.mother.phone ? [{ family, role: 'mother' as const }] : []),
    ...(family.father?.phone && family.father.phone !== family.mother.phone ? [{ family, role: 'father' as const }] : []),
  ]);
}

async function assignTrapNumbers(vaultDb: Queryable, target: ReadOnlyQueryable, req: DraftRequest, rng: Random, families: Family[], warnings: string[]) {
  const sharing = families.filter((f) => f.father?.phone && f.father.phone === f.mother.phone);
  const slots = phoneSlots(families);
  const region = regionOfLocale(req.hospital.locale);
  const shared = req.hospital.sharing === 'shared';
  // Shared: every number out of burn-in, the least held first (the channels that hold it, within the
  // window); a slot may not take one its own ward holds (docs/trace.md, "Shared trap numbers").
  const channelsOf = new Map<number, string[]>();
  const available = shared
    ? (await vault.shareableNumbers(vaultDb, req.hospital.name, region, req.now, SHARED_APART_DAYS)).map((n) => {
        channelsOf.set(n.id, n.channels);
        return { id: n.id, e164: n.e164 };
      })
    : await vault.availableNumbers(vaultDb, req.hospital.name, region, req.now);
  if (available.length < slots.length) {
    const counts = await vault.poolCounts(vaultDb, req.hospital.name);
    throw new UserError(
      `the trap pool is short: ${slots.length} ${region} numbers needed for ${families.length} canaries, ${available.length} available ` +
        `(${counts.burn_in} in burn-in, ${counts.retired} cooling down); add numbers with \`cradle pool add\``,
    );
  }
  // A random choice (seeded when --seed is given) so numbers are not handed out in order; with a
  // profile, one that follows the real patients' phone segments as far as the pool allows.
  const segments = req.profile?.family.phones?.segments;
  if (segments && segments.total > 0) {
    available.splice(0, available.length, ...orderBySegments(rng, available, segments));
    const warning = segmentWarning(segments, available.map((n) => n.e164), "real patients' numbers");
    if (warning) warnings.push(warning);
  } else {
    for (let i = available.length - 1; i > 0; i--) {
      const j = rng.int(0, i);
      [available[i], available[j]] = [available[j], available[i]];
    }
  }
  // Shared: the least held first, at random among equals (a stable sort keeps the shuffle's order).
  if (shared) available.sort((a, b) => (channelsOf.get(a.id)?.length ?? 0) - (channelsOf.get(b.id)?.length ?? 0));
  // Shared: a birth date a contact gives must pick one holder of the number (src/triage/resolve.ts), so
  // a new holder's baby may not share a day (month and day: messages often omit the year) with the
  // baby of any canary that held the number.
  const sameBirth = (h: vault.HeldName, family: Family) => shared && h.birthTime !== null && sameBirthDay(h.birthTime, family.baby.birthTime);
  const sameChannel = (n: { id: number }, family: Family) => shared && (req.origin ?? 'batch') === 'batch' && (channelsOf.get(n.id) ?? []).includes(`ward:${family.ward}`);
  // Candidates are checked against the target's real rows, a few more than needed at a time:
  // a trap number a real family uses must never be handed out. Each slot then takes the first free
  // number whose earlier holders' names its parent cannot be confused with (see the top of this file).
  const chosen: (typeof available)[number][] = [];
  const free: typeof available = [];
  const blocked: typeof available = [];
  const held = new Map<number, vault.HeldName[]>();
  let missing = slots.length;
  for (let next = 0; missing > 0; ) {
    if (next >= available.length) {
      const usable = slots.length - missing + free.length;
      throw new UserError(
        usable < slots.length
          ? `the trap pool is short: ${blocked.length} available numbers already appear in the target's real records; ${usable} left for ${slots.length} needed`
          : `the trap pool is short: for ${missing} parent(s), every available number had an earlier holder with a name that could be confused with theirs${shared ? ' or a baby born on the same day' : ''}; add numbers with \`cradle pool add\``,
      );
    }
    const candidates = available.slice(next, next + Math.ceil(missing * 1.1) + 5);
    next += candidates.length;
    const taken = await findTakenPhones(target, req.mapping, candidates.map((n) => n.e164));
    await forgiveOwnRows(vaultDb, target, req, candidates, taken);
    const fresh = candidates.filter((n) => !taken.has(n.e164));
    blocked.push(...candidates.filter((n) => taken.has(n.e164)));
    for (const [id, names] of await vault.earlierHolderNames(vaultDb, fresh.map((n) => n.id))) held.set(id, names);
    free.push(...fresh);
    slots.forEach((slot, i) => {
      if (chosen[i]) return;
      // Both parents: a contact on the mother's number may name the father.
      const names = slot.family.father ? [slot.family.mother.name, slot.family.father.name] : [slot.family.mother.name];
      const k = free.findIndex((n) => !sameChannel(n, slot.family) && !(held.get(n.id) ?? []).some((h) => names.some((name) => confusable(name, h)) || sameBirth(h, slot.family)));
      if (k < 0) return;
      chosen[i] = free.splice(k, 1)[0];
      missing--;
    });
  }
  slots.forEach((slot, i) => {
    const parent = slot.role === 'mother' ? slot.family.mother : slot.family.father!;
    parent.phone = chosen[i].e164;
  });
  for (const f of sharing) f.father!.phone = f.mother.phone;
  return { assignments: slots.map((slot, i) => ({ numberId: chosen[i].id, family: slot.family, role: slot.role })), blocked };
}

/**
 * A number back from its cool-down is found in the target in its earlier canaries' rows, which stay
 * there: those rows alone do not make it taken (without this, every trap number is used once).
 * Any other row holding it still does.
 */
async function forgiveOwnRows(vaultDb: Queryable, target: ReadOnlyQueryable, req: DraftRequest, candidates: { id: number; e164: string }[], taken: Set<string>): Promise<void> {
  const found = candidates.filter((n) => taken.has(n.e164));
  const keys = await vault.plantedKeysOfNumbers(vaultDb, req.hospital.name, found.map((n) => n.id));
  if (keys.size === 0) return;
  const own = new Map(found.filter((n) => keys.has(n.id)).map((n) => [n.e164, keys.get(n.id)!]));
  const elsewhere = await phonesInOtherRows(target, req.mapping, own);
  for (const e164 of own.keys()) if (!elsewhere.has(e164)) taken.delete(e164);
}

async function ensureUniqueEmails(vaultDb: Queryable, target: ReadOnlyQueryable, mapping: Mapping, families: Family[], rng: Random): Promise<void> {
  for (let round = 0; round < 5; round++) {
    const parents = families.flatMap((f) => (f.father ? [f.mother, f.father] : [f.mother])).filter((p) => p.email);
    const emails = parents.map((p) => p.email!.toLowerCase());
    const clash = new Set([...(await vault.canaryEmails(vaultDb, emails)), ...[...(await findTakenEmails(target, mapping, emails))].map((e) => e.toLowerCase())]);
    const seen = new Set<string>();
    let changed = false;
    for (const p of parents) {
      if (clash.has(p.email!.toLowerCase()) || seen.has(p.email!.toLowerCase())) {
        const [local, domain] = p.email!.split('@');
        p.email = `${local}${rng.int(1, 99)}@${domain}`;
        changed = true;
      }
      seen.add(p.email!.toLowerCase());
    }
    if (!changed) return;
  }
  throw new UserError('could not make canary e-mail addresses unique after 5 rounds');
}
