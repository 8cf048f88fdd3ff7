import type { Database } from '../db/index.js';
import { parseChannel, type ChannelRef } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import type { HospitalConfig } from '../config/index.js';
import { randomInt } from 'node:crypto';
import { apartDischarges, eventPlan, eventPlanOf, findEvent, latestCreated, writeEvent, type EventWrite } from '../targetdb/events.js';
import { previewRows, type TargetKeys } from '../targetdb/families.js';
import type { Mapping } from '../targetdb/mapping.js';
import * as vault from '../vault/index.js';
import { reconcileBatches } from './plant.js';

// Carrying out what is due: `cradle canaries advance`, run every few minutes by cron or a systemd
// timer, writes each canary's admission, birth and discharge when its time comes, one target
// transaction per event, then records it done in the vault. The vault marks an event started before
// the target write; an event found started but not done (a crash between the two) is looked for in
// the target first, so it is never written twice and never lost.

export interface AdvanceRequest {
  hospital: HospitalConfig;
  mapping: Mapping;
  /** Carry out the events due by this time. */
  until: Date;
  /**
   * A simulated clock (tests, demos, replays): each event is written as if the clock had reached its
   * due time (its created/updated times and exposure are its due time). Otherwise the clock is the
   * real one: the rows' stamps are still the due time (a run every 5 minutes stamping its own moment
   * would put every canary's created time on a 5-minute mark), moved later only to keep keys in
   * created order, while the vault records the exposure from when the row is actually written.
   */
  simulated?: boolean;
  dryRun?: boolean;
  /** How long a claimed event is left to the run that claimed it before it counts as abandoned (default 10 minutes). */
  leaseMs?: number;
  /** Test hook: called after the target committed an event and before the vault records it. */
  afterTargetCommit?: (e: AdvancedEvent) => Promise<void> | void;
}

export interface AdvancedEvent {
  canaryId: string;
  event: vault.CanaryEventKind;
  ward: string;
  dueAt: Date;
  /** When it was written (dry run: when it would be). */
  writtenAt: Date;
  /** Found already in the target (a run interrupted after the target commit). */
  reconciled: boolean;
  keys?: TargetKeys;
  /** Dry run: the rows it would insert and the columns it would update. */
  writes?: { insert?: Record<string, Record<string, unknown>>; update?: Record<string, string[]> };
}

export interface AdvanceResult {
  until: Date;
  dryRun: boolean;
  events: AdvancedEvent[];
  planted: number;
  upcoming: { count: number; next: Date | null };
}

const DEFAULT_LEASE_MS = 10 * 60_000;

function timeZoneOf(req: { mapping: Mapping; hospital: HospitalConfig }): string {
  return req.mapping.timeZone ?? req.hospital.timeZone;
}

/**
 * Carry out the hospital's events due by `req.until`. Each event is claimed in the vault before its
 * target write (started_at, the vault's own clock): two runs at once (a slow run overlapping the next
 * cron tick) never both write it, since a claim younger than the lease belongs to a run still at work
 * and is left alone; an older one is a run that died, and the event is looked for in the target.
 */
export async function advanceCanaries(vaultDb: Database, target: Database, req: AdvanceRequest): Promise<AdvanceResult> {
  const tz = timeZoneOf(req);
  const leaseMs = req.leaseMs ?? DEFAULT_LEASE_MS;
  const skipped = new Set<string>();
  if (!req.dryRun) await reconcileBatches(vaultDb, target, req.hospital, req.mapping, req.until);
  const due = await vault.dueEvents(vaultDb, req.hospital.name, req.until);
  const result: AdvanceResult = { until: req.until, dryRun: !!req.dryRun, events: [], planted: 0, upcoming: { count: 0, next: null } };
  // The list was read before this run wrote anything: keys written by its earlier events are kept here.
  const keysNow = new Map<string, TargetKeys>();
  // And the stamp each canary's latest event of this run was written with.
  const writtenAt = new Map<string, number>();
  for (const e of due) {
    // A canary's events go in order: after one left to another run, its later ones wait too.
    if (skipped.has(e.canary_id)) continue;
    let at = new Date(Math.min(new Date(e.due_at).getTime(), req.simulated ? Infinity : Date.now()));
    // A row written after one it depends on (the baby after its mother's admission, recorded late) is not stamped before it.
    const before = writtenAt.get(e.canary_id);
    if (before !== undefined && before >= at.getTime()) at = new Date(Math.min(before + 1000, Math.max(before, req.simulated ? req.until.getTime() : Date.now())));
    // A row inserted now takes the next key: created no earlier than the newest row it follows (a real
    // admission recorded between the due time and this run), as the hospital's own rows are.
    if (!req.dryRun && e.kind !== 'own_discharge' && eventPlan(req.mapping, e.kind).inserts.length) {
      const latest = await latestCreated(target, req.mapping, e.kind, tz);
      const ceiling = req.simulated ? req.until.getTime() : Date.now();
      if (latest && latest.getTime() >= at.getTime() && latest.getTime() + 1000 <= ceiling) at = new Date(latest.getTime() + 1000 + randomInt(0, Math.max(1, ceiling - latest.getTime() - 1000)));
    }
    const discharge = e.kind === 'discharge' || e.kind === 'own_discharge';
    const family = discharge ? { ...e.family, dischargedAt: new Date(e.occurs_at ?? e.due_at).toISOString() } : e.family;
    const event = e.kind === 'own_discharge' ? 'discharge' : e.kind;
    // A family whose baby goes home apart writes the mother's discharge and the baby's each at its own time.
    const part = discharge && apartDischarges(req.mapping, family).length ? (e.kind === 'own_discharge' ? 'apart' : 'main') : undefined;
    const write: EventWrite = { event, family, keys: keysNow.get(e.canary_id) ?? e.target_keys ?? {}, at, timeZone: tz, ...(part ? { part } : {}) };
    const plan = eventPlanOf(req.mapping, write);
    const wroteRows = plan.inserts.length + plan.updates.length > 0;
    const done: AdvancedEvent = { canaryId: e.canary_id, event: e.kind, ward: e.ward, dueAt: new Date(e.due_at), writtenAt: at, reconciled: false };
    if (req.dryRun) {
      const rows = previewRows({ ...req.mapping, inserts: plan.inserts }, family, tz);
      done.writes = {
        ...(plan.inserts.length ? { insert: rows } : {}),
        ...(plan.updates.length ? { update: Object.fromEntries(plan.updates.map((u) => [`${u.step.schema}.${u.step.table}`, u.columns])) } : {}),
      };
      result.events.push(done);
      continue;
    }
    const claim = await vault.claimEvent(vaultDb, e.canary_id, e.kind, leaseMs);
    if (!claim.claimed) {
      skipped.add(e.canary_id);
      continue;
    }
    let keys: TargetKeys | null = null;
    if (claim.previous) {
      keys = await findEvent(target, req.mapping, write);
      done.reconciled = keys !== null;
    }
    if (!keys) {
      try {
        keys = await target.transaction((tx) => writeEvent(tx, req.mapping, write));
      } catch (err) {
        throw new UserError(
          `canary ${e.canary_id}'s ${e.kind} (due ${new Date(e.due_at).toISOString()}) failed in the target ${target.label}: ${(err as Error).message}; ` +
            `it is left claimed, and a run after ${Math.round(leaseMs / 60_000)} minute(s) looks for it in the target and writes it if it is not there ` +
            `(${result.events.length} earlier event(s) of this run are recorded)`,
        );
      }
      await req.afterTargetCommit?.(done);
    }
    done.keys = keys;
    // Blame rests on exposure: on the real clock it starts when the row is in the target, not at its stamp.
    const recordedAt = req.simulated ? at : new Date();
    if (!req.simulated) done.writtenAt = recordedAt;
    keysNow.set(e.canary_id, keys);
    writtenAt.set(e.canary_id, at.getTime());
    const channels = (e.channels ?? []).map(parseChannel);
    try {
      await vaultDb.transaction(async (tx) => {
        const planted = await vault.markEventDone(tx, { canaryId: e.canary_id, kind: e.kind, at: recordedAt, keys: keys!, wroteRows, dischargedAt: e.kind === 'discharge' ? family.dischargedAt! : undefined });
        // Exposure starts when the canary's first row is in the target.
        if (planted) {
          result.planted++;
          await expose(tx, req.hospital.name, e.canary_id, e.ward, e.batch_id, channels, recordedAt);
        }
      });
    } catch (err) {
      throw new UserError(`canary ${e.canary_id}'s ${e.kind} is in the target but the vault could not record it (${(err as Error).message}); the next run reconciles it`);
    }
    result.events.push(done);
  }
  result.upcoming = await vault.upcomingEvents(vaultDb, req.hospital.name, req.until);
  return result;
}

async function expose(tx: Parameters<typeof vault.addExposures>[0], hospital: string, canaryId: string, ward: string, batchId: string | null, channels: ChannelRef[], at: Date): Promise<void> {
  const exposures: vault.ExposureInput[] = [];
  for (const channel of channels) {
    if (channel.kind === 'ward' && channel.name !== ward) continue;
    exposures.push({ canaryId, channelId: await vault.ensureChannel(tx, hospital, channel), exposedAt: at, source: 'seed', detail: { batch: batchId } });
  }
  await vault.addExposures(tx, exposures);
}
