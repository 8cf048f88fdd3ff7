import { customAlphabet } from 'nanoid';
import type { Database, Queryable } from '../db/index.js';
import { formatChannel, parseChannel, regionOfLocale, type ChannelRef, type Family } from '../domain.js';
import { UserError } from '../errors.js';
import { createRandom, generateFamily, NameIndex, type Random } from '../generate/index.js';
import type { HospitalConfig } from '../config/index.js';
import { findTakenEmails, findTakenPhones, insertFamilies, locateFamily, previewRows, type TargetKeys } from '../target/families.js';
import type { Mapping } from '../target/mapping.js';
import * as vault from '../vault/index.js';

// Planting canaries: the vault and the target cannot share a transaction, so the vault first records
// the intent (batch + pending canaries + their trap numbers), then the target gets every family in one
// transaction, then the vault marks them planted. A batch found still at "intent" is reconciled by
// looking for its families in the target.

const canaryId = customAlphabet('0123456789abcdefghjkmnpqrstvwxyz', 12);
const batchId = customAlphabet('0123456789abcdefghjkmnpqrstvwxyz', 10);

export interface SeedRequest {
  hospital: HospitalConfig;
  mapping: Mapping;
  count: number;
  /** Ward of every canary; otherwise spread over the hospital's wards. */
  ward?: string;
  /** Channels the canaries are exposed to by being planted (besides their ward). */
  channels: ChannelRef[];
  seed?: string;
  now: Date;
  isoWeek: string;
  /** Births fall in [birthFrom, birthTo]; discharges after `now` are left empty (still on the ward). */
  birthFrom: Date;
  birthTo: Date;
  rotationId?: number;
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface PlannedCanary {
  id: string;
  family: Family;
  /** Dry run only: the rows that would be inserted, per table. */
  rows?: Record<string, Record<string, unknown>>;
}

export interface SeedResult {
  batchId: string | null;
  dryRun: boolean;
  planted: PlannedCanary[];
  channels: string[];
  blockedNumbers: string[];
  warnings: string[];
}

/** Draw families for a batch; phones are placeholders until the trap numbers are chosen. */
function draftFamilies(rng: Random, req: SeedRequest, taken: NameIndex, domains: string[]): Family[] {
  const families: Family[] = [];
  for (let i = 0; i < req.count; i++) {
    const ward = req.ward ?? rng.pick(req.hospital.wards);
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
      now: req.now,
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

async function assignTrapNumbers(vaultDb: Queryable, target: Queryable, req: SeedRequest, rng: Random, families: Family[]) {
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

async function ensureUniqueEmails(vaultDb: Queryable, target: Queryable, mapping: Mapping, families: Family[], rng: Random): Promise<void> {
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

/** Plant a batch of canaries. Nothing is half-written: on failure neither store keeps the batch's canaries. */
export async function plantCanaries(vaultDb: Database, target: Database, req: SeedRequest): Promise<SeedResult> {
  if (!Number.isInteger(req.count) || req.count < 1) throw new UserError(`--count must be a whole number of at least 1 (got ${req.count})`);
  if (req.ward && !req.hospital.wards.includes(req.ward)) {
    throw new UserError(`ward "${req.ward}" is not one of ${req.hospital.name}'s wards (${req.hospital.wards.join(', ')})`);
  }
  if (!req.dryRun) {
    await reconcileBatches(vaultDb, target, req.hospital, req.mapping, req.now);
    await vault.refreshPool(vaultDb, req.now);
  }

  const rng = createRandom(req.seed);
  const taken = new NameIndex();
  for (const name of await vault.canaryParentNames(vaultDb)) taken.add(name);
  const domains = (await vault.trapDomains(vaultDb, req.hospital.name)).map((d) => d.domain);
  const warnings: string[] = [];
  if (domains.length === 0) warnings.push('no trap e-mail domain: these canaries carry no e-mail address (add one with `cradle pool add-domain`)');

  const families = draftFamilies(rng, req, taken, domains);
  const { assignments, blocked } = await assignTrapNumbers(vaultDb, target, req, rng, families);
  await ensureUniqueEmails(vaultDb, target, req.mapping, families, rng);
  const planned: PlannedCanary[] = families.map((family) => ({ id: canaryId(), family }));
  const wardChannels = [...new Set(families.map((f) => f.ward))].map((ward): ChannelRef => ({ kind: 'ward', name: ward }));
  const channels = [...req.channels, ...wardChannels.filter((w) => !req.channels.some((c) => c.kind === 'ward' && c.name === w.name))];
  const result: SeedResult = {
    batchId: null,
    dryRun: !!req.dryRun,
    planted: planned,
    channels: channels.map(formatChannel),
    blockedNumbers: blocked.map((b) => b.e164),
    warnings,
  };
  if (blocked.length) warnings.push(`${blocked.length} trap number(s) appear in the target's real records and were ${req.dryRun ? 'skipped' : 'blocked'}`);
  if (req.dryRun) {
    for (const p of planned) p.rows = previewRows(req.mapping, p.family, timeZoneOf(req));
    return result;
  }

  const id = batchId();
  result.batchId = id;
  const canaryOf = new Map(planned.map((p) => [p.family, p.id]));
  await vaultDb.transaction(async (tx) => {
    await vault.blockNumbers(tx, blocked.map((b) => b.id), "found in the target's real records");
    await vault.recordBatchIntent(
      tx,
      { id, hospital: req.hospital.name, rotationId: req.rotationId ?? null, ward: req.ward ?? null, channels: result.channels },
      planned.map((p) => ({ id: p.id, family: p.family, isoWeek: req.isoWeek })),
    );
    const ok = await vault.assignNumbers(tx, assignments.map((a) => ({ numberId: a.numberId, canaryId: canaryOf.get(a.family)!, role: a.role })), new Date());
    if (!ok) throw new UserError('another cradle process took some of the same trap numbers; run the command again');
  });

  let keys: TargetKeys[];
  try {
    const digitRng = createRandom(req.seed === undefined ? undefined : `${req.seed}:keys`);
    keys = await target.transaction((tx) => insertFamilies(tx, req.mapping, families, timeZoneOf(req), () => digitRng.int(0, 9)));
  } catch (err) {
    await abandonBatch(vaultDb, id, planned.map((p) => p.id), (err as Error).message, new Date());
    throw new UserError(`seeding failed in the target ${target.label}; nothing was planted: ${(err as Error).message}`);
  }
  req.onProgress?.(families.length, families.length);
  try {
    // Exposure starts when the target committed, not when the command started.
    await finishBatch(vaultDb, req.hospital.name, id, new Map(planned.map((p, i) => [p.id, keys[i]])), channels, new Date());
  } catch (err) {
    throw new UserError(`batch ${id} is in the target but the vault could not record it (${(err as Error).message}); the next seed or rotate reconciles it`);
  }
  return result;
}

function timeZoneOf(req: { mapping: Mapping; hospital: HospitalConfig }): string {
  return req.mapping.timeZone ?? req.hospital.timeZone;
}

async function abandonBatch(vaultDb: Database, id: string, canaryIds: string[], error: string, now: Date): Promise<void> {
  await vaultDb.transaction(async (tx) => {
    await vault.releaseNumbersOf(tx, canaryIds);
    await vault.discardBatch(tx, id, error, now);
  });
}

async function finishBatch(vaultDb: Database, hospital: string, id: string, keys: Map<string, unknown>, channels: ChannelRef[], now: Date): Promise<void> {
  await vaultDb.transaction(async (tx) => {
    await vault.markBatchPlanted(tx, id, keys, now);
    const canaries = await vault.canariesOfBatch(tx, id);
    const exposures: vault.ExposureInput[] = [];
    for (const channel of channels) {
      const channelId = await vault.ensureChannel(tx, hospital, channel);
      for (const c of canaries) {
        if (channel.kind === 'ward' && channel.name !== c.ward) continue;
        exposures.push({ canaryId: c.id, channelId, exposedAt: now, source: 'seed', detail: { batch: id } });
      }
    }
    await vault.addExposures(tx, exposures);
  });
}

export interface ReconcileResult {
  batchId: string;
  outcome: 'planted' | 'discarded';
  canaries: number;
}

/**
 * Settle batches a crash left at "intent": if their families are in the target the batch is marked
 * planted (with the keys found), otherwise it is discarded and its numbers go back to the pool.
 */
export async function reconcileBatches(vaultDb: Database, target: Database, hospital: HospitalConfig, mapping: Mapping, now: Date): Promise<ReconcileResult[]> {
  const results: ReconcileResult[] = [];
  for (const batch of await vault.openBatches(vaultDb, hospital.name)) {
    const canaries = await vault.canariesOfBatch(vaultDb, batch.id);
    const found = new Map<string, TargetKeys>();
    for (const c of canaries) {
      const keys = await locateFamily(target, mapping, c.family, mapping.timeZone ?? hospital.timeZone);
      if (keys) found.set(c.id, keys);
    }
    if (found.size === canaries.length && canaries.length > 0) {
      const channels = batch.channels.map(parseChannel);
      await finishBatch(vaultDb, hospital.name, batch.id, found, channels, now);
      results.push({ batchId: batch.id, outcome: 'planted', canaries: canaries.length });
    } else if (found.size === 0) {
      await abandonBatch(vaultDb, batch.id, canaries.map((c) => c.id), 'interrupted before the target committed; reconciled', now);
      results.push({ batchId: batch.id, outcome: 'discarded', canaries: canaries.length });
    } else {
      // The target insert is one transaction, so a partial batch means someone edited the target by hand.
      throw new UserError(
        `batch ${batch.id} is half present in the target (${found.size} of ${canaries.length} families); ` +
          `it was written in one transaction, so rows were changed by hand: inspect it with \`cradle canaries list\``,
      );
    }
  }
  return results;
}
