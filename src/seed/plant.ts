import { customAlphabet } from 'nanoid';
import { readOnly, type Database } from '../db/index.js';
import { formatChannel, parseChannel, type ChannelRef, type Family } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import { draftCanaries } from '../canary/draft.js';
import { recordingDelayMs } from '../canary/profile.js';
import { createRandom } from '../lib/generate/index.js';
import type { HospitalConfig } from '../config/index.js';
import { insertFamilies, locateFamily, previewRows, type TargetKeys } from '../targetdb/families.js';
import { apartDischarges, lifecycleProblems } from '../targetdb/events.js';
import { randomKeyWarning } from '../targetdb/check.js';
import type { Mapping } from '../targetdb/mapping.js';
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
  /** Without `ward`: real births per ward, to draw each canary's ward in proportion (else uniformly). */
  wardBirths?: Record<string, number> | null;
  /** Channels the canaries are exposed to by being planted (besides their ward). */
  channels: ChannelRef[];
  seed?: string;
  now: Date;
  isoWeek: string;
  /** Births fall in [birthFrom, birthTo]; discharges after `now` are left empty (still on the ward). */
  birthFrom: Date;
  birthTo: Date;
  rotationId?: number;
  /**
   * Record the canaries with their admission, birth and discharge to come and write nothing to the
   * target: `cradle canaries advance` writes each event when it is due (src/seed/lifecycle.ts).
   * Otherwise every row is written now, and discharges still to come are scheduled.
   */
  schedule?: boolean;
  dryRun?: boolean;
  onProgress?: (done: number, total: number) => void;
}

export interface PlannedCanary {
  id: string;
  family: Family;
  /** Scheduled canaries: when each event is due. */
  events?: { kind: vault.CanaryEventKind; dueAt: string }[];
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

/** Plant a batch of canaries. Nothing is half-written: on failure neither store keeps the batch's canaries. */
export async function plantCanaries(vaultDb: Database, target: Database, req: SeedRequest): Promise<SeedResult> {
  // req.now is the clock (a simulated past in demos and tests); it runs on while the batch is planted.
  const started = Date.now();
  const clock = () => new Date(req.now.getTime() + Date.now() - started);
  if (!Number.isInteger(req.count) || req.count < 1) throw new UserError(`--count must be a whole number of at least 1 (got ${req.count})`);
  if (req.ward && !req.hospital.wards.includes(req.ward)) {
    throw new UserError(`ward "${req.ward}" is not one of ${req.hospital.name}'s wards (${req.hospital.wards.join(', ')})`);
  }
  const lifecycle = lifecycleProblems(req.mapping);
  if (req.schedule && lifecycle.length) throw new UserError(lifecycle.join('\n'));
  if (!req.dryRun) {
    await reconcileBatches(vaultDb, target, req.hospital, req.mapping, req.now);
    await vault.refreshPool(vaultDb, req.now);
  }

  // Drafting only reads the target (a dry run promises to write nothing there): through readOnly().
  const { families, assignments, blocked, warnings, profile } = await readOnly(target, (tx) =>
    draftCanaries(vaultDb, tx, {
      hospital: req.hospital,
      mapping: req.mapping,
      count: req.count,
      ward: (rng) => req.ward ?? (req.wardBirths ? rng.weighted(Object.entries(req.wardBirths)) : rng.pick(req.hospital.wards)),
      birthFrom: req.birthFrom,
      birthTo: req.birthTo,
      now: req.now,
      seed: req.seed,
      fullStay: true,
    }),
  );
  const planned: PlannedCanary[] = families.map((family) => ({ id: canaryId(), family }));
  // The vault keeps each family as the target holds it: no discharge until it is written.
  const events: vault.ScheduledEvent[] = [];
  // Each event is due when the hospital's system would record it: the moment plus a learned delay.
  const delayRng = createRandom(req.seed === undefined ? undefined : `${req.seed}:delays`);
  const dueAt = (kind: 'admission' | 'birth' | 'discharge', iso: string) => new Date(Date.parse(iso) + recordingDelayMs(profile, req.mapping, kind, delayRng));
  for (const p of planned) {
    const f = p.family;
    const discharge = f.dischargedAt;
    if (req.schedule) {
      events.push({ canaryId: p.id, kind: 'admission', dueAt: dueAt('admission', f.admittedAt) }, { canaryId: p.id, kind: 'birth', dueAt: dueAt('birth', f.baby.birthTime) });
    }
    if (discharge && (req.schedule || new Date(discharge) > req.now)) {
      // A row discharged apart (a NICU baby, days after its mother) is written when its own updated stamp is due.
      const apart = lifecycle.length === 0 ? apartDischarges(req.mapping, f) : [];
      const ownDue = apart.length ? ownDischargeDue(req.mapping, f, apart) : null;
      f.dischargedAt = null;
      // The row records the discharge time; the hospital's system writes it a learned while later.
      if (lifecycle.length === 0) events.push({ canaryId: p.id, kind: 'discharge', dueAt: dueAt('discharge', discharge), occursAt: new Date(discharge) });
      if (ownDue) events.push({ canaryId: p.id, kind: 'own_discharge', dueAt: ownDue, occursAt: new Date(discharge) });
    }
    const own = events.filter((e) => e.canaryId === p.id);
    if (own.length) p.events = own.map((e) => ({ kind: e.kind, dueAt: e.dueAt.toISOString() }));
  }
  if (!req.schedule && lifecycle.length && events.length === 0 && planned.some((p) => p.family.dischargedAt === null)) {
    warnings.push(`discharges still to come stay empty: ${lifecycle.join('; ')}`);
  }
  // Progress by phase: drafting and checking uniqueness is about a third of the work, the target insert most of the rest.
  req.onProgress?.(Math.floor(families.length * 0.3), families.length);
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
  for (const step of req.mapping.inserts) {
    for (const { column, value } of step.columns) if (value.type === 'random') warnings.push(`${step.schema}.${step.table}.${column}: ${randomKeyWarning(value.pattern)}`);
  }
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
    const batch = { id, hospital: req.hospital.name, rotationId: req.rotationId ?? null, ward: req.ward ?? null, channels: result.channels };
    const canaries = planned.map((p) => ({ id: p.id, family: p.family, isoWeek: req.isoWeek }));
    if (req.schedule) await vault.recordBatchSchedule(tx, batch, canaries, events);
    else {
      await vault.recordBatchIntent(tx, batch, canaries);
      await vault.addCanaryEvents(tx, events);
    }
    const ok = await vault.assignNumbers(tx, assignments.map((a) => ({ numberId: a.numberId, canaryId: canaryOf.get(a.family)!, role: a.role })), clock(), { shared: req.hospital.sharing === 'shared' });
    if (!ok) throw new UserError('another cradle process took some of the same trap numbers; run the command again');
  });
  // Scheduled: nothing reaches the target now; `cradle canaries advance` writes each event when due.
  if (req.schedule) return result;

  req.onProgress?.(Math.floor(families.length * 0.4), families.length);
  let keys: TargetKeys[];
  try {
    const digitRng = createRandom(req.seed === undefined ? undefined : `${req.seed}:keys`);
    keys = await target.transaction((tx) => insertFamilies(tx, req.mapping, families, timeZoneOf(req), () => digitRng.int(0, 9), clock()));
  } catch (err) {
    await abandonBatch(vaultDb, id, planned.map((p) => p.id), (err as Error).message, clock());
    throw new UserError(`seeding failed in the target ${target.label}; nothing was planted: ${(err as Error).message}`);
  }
  req.onProgress?.(Math.floor(families.length * 0.9), families.length);
  try {
    // Exposure starts when the target committed, not when the command started.
    await finishBatch(vaultDb, req.hospital.name, id, new Map(planned.map((p, i) => [p.id, keys[i]])), channels, clock());
  } catch (err) {
    throw new UserError(`batch ${id} is in the target but the vault could not record it (${(err as Error).message}); the next seed or rotate reconciles it`);
  }
  req.onProgress?.(families.length, families.length);
  return result;
}

/** When rows discharged apart are written: the latest of their own updated stamps, else of their own discharge times. */
function ownDischargeDue(mapping: Mapping, family: Family, aliases: readonly string[]): Date | null {
  const times = mapping.inserts
    .filter((step) => aliases.includes(step.alias))
    .flatMap((step) => {
      const own = (kind: 'stamp' | 'field') =>
        step.columns
          .filter((c) => (kind === 'stamp' ? c.value.type === 'stamp' && c.value.stamp === 'updated' : c.value.type === 'field' && c.value.field === 'dischargedAt'))
          .map((c) => family.columnTimes?.[`${step.alias}.${c.column}`])
          .filter((t): t is string => t !== undefined)
          .map((t) => Date.parse(t));
      const stamps = own('stamp');
      return stamps.length ? stamps : own('field');
    });
  return times.length ? new Date(Math.max(...times)) : null;
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
