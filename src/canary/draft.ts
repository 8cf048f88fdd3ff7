import type { Queryable, ReadOnlyQueryable } from '../db/index.js';
import { regionOfLocale, type Family } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import type { HospitalConfig } from '../config/index.js';
import { createRandom, generateFamily, NameIndex, type Random } from '../lib/generate/index.js';
import { findTakenEmails, findTakenPhones } from '../targetdb/families.js';
import type { Mapping } from '../targetdb/mapping.js';
import * as vault from '../vault/index.js';

// Drafting canaries, for seeding and for exports alike: realistic families whose names stay clear of
// every other canary's, trap numbers from the pool that no real row of the target uses, and e-mail
// addresses on the trap domains that nobody else has. Nothing is written here but blocked numbers
// are returned for the caller to record.

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
  /** Draft the whole stay, the discharge included even when it is still to come (it is written when it happens). */
  fullStay?: boolean;
}

export interface CanaryDraft {
  families: Family[];
  assignments: { numberId: number; family: Family; role: 'mother' | 'father' }[];
  /** Pool numbers found in the target's real rows: block them. */
  blocked: { id: number; e164: string }[];
  warnings: string[];
}

export async function draftCanaries(vaultDb: Queryable, target: ReadOnlyQueryable, req: DraftRequest): Promise<CanaryDraft> {
  const rng = createRandom(req.seed);
  const taken = new NameIndex();
  for (const name of await vault.canaryParentNames(vaultDb)) taken.add(name);
  const domains = (await vault.trapDomains(vaultDb, req.hospital.name)).map((d) => d.domain);
  const warnings: string[] = [];
  if (domains.length === 0) warnings.push('no trap e-mail domain: these canaries carry no e-mail address (add one with `cradle pool add-domain`)');
  const families = draftFamilies(rng, req, taken, domains);
  const { assignments, blocked } = await assignTrapNumbers(vaultDb, target, req, rng, families);
  await ensureUniqueEmails(vaultDb, target, req.mapping, families, rng);
  return { families, assignments, blocked, warnings };
}

/** Draw families; phones are placeholders until the trap numbers are chosen. */
function draftFamilies(rng: Random, req: DraftRequest, taken: NameIndex, domains: string[]): Family[] {
  const families: Family[] = [];
  for (let i = 0; i < req.count; i++) {
    const ward = req.ward(rng, i);
    const family = generateFamily(rng, {
      locale: req.hospital.locale,
      hospital: req.hospital.displayName,
      ward,
      districts: req.hospital.districts,
      timeZone: req.hospital.timeZone,
      birthFrom: req.birthFrom,
      birthTo: req.birthTo,
      phone: (role) => `pending:${role}`,
      emailDomain: (r) => (domains.length ? r.pick(domains) : null),
      takenNames: taken,
      now: req.fullStay ? undefined : req.now,
    });
    // A canary without a trap phone could never be called: the mother always gets one.
    family.mother.phone ??= 'pending:mother';
    families.push(family);
  }
  return families;
}

function phoneSlots(families: Family[]): { family: Family; role: 'mother' | 'father' }[] {
  return families.flatMap((family) => [
    ...(family.mother.phone ? [{ family, role: 'mother' as const }] : []),
    ...(family.father?.phone ? [{ family, role: 'father' as const }] : []),
  ]);
}

async function assignTrapNumbers(vaultDb: Queryable, target: ReadOnlyQueryable, req: DraftRequest, rng: Random, families: Family[]) {
  const slots = phoneSlots(families);
  const region = regionOfLocale(req.hospital.locale);
  const available = await vault.availableNumbers(vaultDb, req.hospital.name, region, req.now);
  if (available.length < slots.length) {
    const counts = await vault.poolCounts(vaultDb, req.hospital.name);
    throw new UserError(
      `the trap pool is short: ${slots.length} ${region} numbers needed for ${families.length} canaries, ${available.length} available ` +
        `(${counts.burn_in} in burn-in, ${counts.retired} cooling down); add numbers with \`cradle pool add\``,
    );
  }
  // A random choice (seeded when --seed is given) so numbers are not handed out in order.
  for (let i = available.length - 1; i > 0; i--) {
    const j = rng.int(0, i);
    [available[i], available[j]] = [available[j], available[i]];
  }
  // Candidates are checked against the target's real rows, a few more than needed at a time:
  // a trap number a real family uses must never be handed out.
  const chosen: typeof available = [];
  const blocked: typeof available = [];
  for (let next = 0; chosen.length < slots.length; ) {
    if (next >= available.length) {
      throw new UserError(`the trap pool is short: ${blocked.length} available numbers already appear in the target's real records; ${chosen.length} left for ${slots.length} needed`);
    }
    const candidates = available.slice(next, next + Math.ceil((slots.length - chosen.length) * 1.1) + 5);
    next += candidates.length;
    const taken = await findTakenPhones(target, req.mapping, candidates.map((n) => n.e164));
    for (const n of candidates) (taken.has(n.e164) ? blocked : chosen).push(n);
  }
  chosen.splice(slots.length);
  slots.forEach((slot, i) => {
    const parent = slot.role === 'mother' ? slot.family.mother : slot.family.father!;
    parent.phone = chosen[i].e164;
  });
  return { assignments: slots.map((slot, i) => ({ numberId: chosen[i].id, family: slot.family, role: slot.role })), blocked };
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
