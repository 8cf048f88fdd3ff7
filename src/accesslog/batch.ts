import type { Queryable } from '../db/index.js';
import type { AccessRow, ParsedLine } from '../domain/access.js';
import * as vault from '../vault/index.js';
import { EventBlock } from './block.js';

// A batch of an import: the events read since the last one, as one block, with the rejects and the
// events naming canaries; and how a batch is written in its transaction: events already stored (in
// this run's last blocks or in stored blocks of the same span) dropped, the block stored and sealed,
// tripwires, exposures and alerts for the canaries its events name.

/** Events read since the last flush: a batch becomes one block. */
export interface Batch {
  block: EventBlock;
  /** Events naming canaries' records, for tripwires. */
  accesses: vault.CanaryAccess[];
  rejects: vault.AccessReject[];
  /** Events read, duplicates within the batch included. */
  valid: number;
}

export function addEvent(batch: Batch, line: number, text: string, atMs: number, access: vault.CanaryAccess | null): void {
  batch.valid++;
  if (batch.block.addText(line, atMs, text) && access) batch.accesses.push(access);
}

/** A line as a reader gives it (the general one, or the fast path for a line it does not store itself): an event or a reject of the batch. */
export function addParsed(batch: Batch, parsed: ParsedLine, canaryOf: ReadonlyMap<string, string>): void {
  if ('reject' in parsed) batch.rejects.push({ line: parsed.line, reason: parsed.reject, text: parsed.text });
  else addRow(batch, parsed.line, parsed.row, canaryOf);
}

function addRow(batch: Batch, line: number, row: AccessRow, canaryOf: ReadonlyMap<string, string>): void {
  let canaries: string[] | null = null;
  for (const record of row.records) {
    const canary = canaryOf.get(record);
    if (canary !== undefined) (canaries ??= []).push(canary);
  }
  const atMs = row.at.getTime();
  addEvent(batch, line, vault.accessRowText(row), atMs, canaries ? canaryAccess(line, atMs, row, canaries) : null);
}

/**
 * An event naming canaries, its fields as the block stores them (control characters as spaces): its
 * tripwire, exposure and alert are stored as text and JSON, where a NUL cannot go.
 */
function canaryAccess(line: number, atMs: number, row: Pick<AccessRow, 'account' | 'action' | 'scope' | 'system' | 'ip'>, canaries: string[]): vault.CanaryAccess {
  const field = (v: string | null) => (v === null ? null : vault.cleaned(v));
  return { line, at: new Date(atMs), account: vault.cleaned(row.account), action: vault.cleaned(row.action), scope: row.scope, system: field(row.system), ip: field(row.ip), canaries };
}

/** Longest account name kept whole as a channel name: channels are indexed, and a btree entry must fit in a page. */
const MAX_CHANNEL_NAME = 200;

/**
 * The exposure channel of an account: its name, or when longer than MAX_CHANNEL_NAME its start and a hash
 * of the whole, so whoever writes a 9 KB account name into the log still trips the wire (the event and
 * the tripwire keep the name whole).
 */
export function accountChannelName(account: string): string {
  if (account.length <= MAX_CHANNEL_NAME) return account;
  const start = Array.from(account.slice(0, MAX_CHANNEL_NAME - 40)).slice(0, -1).join('');
  return `${start}… (sha256 ${vault.sha256Hex(account).slice(0, 16)})`;
}

export interface BatchWriterOptions {
  hospital: string;
  importId: number;
  batchRows: number;
  /** Alert channels (email, webhook names) for single-record tripwires. */
  alertChannels: readonly string[];
  actor?: string;
}

/** What writing a batch stored. */
export interface BatchWritten {
  /** Events stored: the batch's, less those stored already. */
  added: number;
  tripwires: number;
  alerts: number;
}

/** Writes an import's batches, one after another, remembering the last blocks it stored to find events again without reading them back. */
export class BatchWriter {
  /** Blocks done with, reused: a new 5 MB buffer per batch made the garbage collector a fifth of the import. */
  private spare: EventBlock[] = [];
  /** Blocks this run stored last: a log is written roughly in time order, so a batch's span usually meets only the previous one's. */
  private recent: { id: number; block: EventBlock }[] = [];
  private channelIds = new Map<string, number>();

  constructor(private readonly options: BatchWriterOptions) {}

  newBatch(): Batch {
    return { block: this.spare.pop()?.reset() ?? new EventBlock(this.options.batchRows), accesses: [], rejects: [], valid: 0 };
  }

  /** The batch's events not stored yet, stored as one block with their tripwires and rejects, in the caller's transaction. */
  async write(tx: Queryable, b: Batch): Promise<BatchWritten> {
    const { hospital, importId, actor } = this.options;
    let block = b.block;
    let accesses = b.accesses;
    if (block.count) {
      await vault.lockAccessImports(tx, hospital);
      const { fromMs, toMs } = block;
      const known = this.recent.filter((r) => r.block.toMs >= fromMs && r.block.fromMs <= toMs).map((r) => r.block);
      const stored = await vault.eventTextsBetween(
        tx,
        hospital,
        fromMs,
        toMs,
        this.recent.map((r) => r.id),
      );
      if (stored.length) {
        const fetched = new EventBlock(stored.length);
        for (const text of stored) fetched.addText(0, vault.eventTextTime(text), text);
        known.push(fetched);
      }
      // Rows in a known block's span are looked up there; a batch usually loses none (and usually meets
      // the previous block only in its first second).
      const current = block;
      let drop: Uint8Array | null = null;
      const [knownFrom, knownTo] = [Math.min(...known.map((k) => k.fromMs)), Math.max(...known.map((k) => k.toMs))];
      for (let row = 0; known.length && row < current.count; row++) {
        const at = current.time(row);
        if (at < knownFrom || at > knownTo) continue;
        if (known.some((k) => at >= k.fromMs && at <= k.toMs && current.rowIn(row, k))) (drop ??= new Uint8Array(current.count))[row] = 1;
      }
      if (drop) {
        const dropped = drop;
        block = current.filter((row) => !dropped[row]);
        const kept = new Set(Array.from({ length: block.count }, (_, row) => block.line(row)));
        accesses = accesses.filter((a) => kept.has(a.line));
      }
      if (block.count) {
        const row = await vault.storeAccessBlock(tx, {
          hospital,
          importId,
          firstLine: block.line(0),
          lastLine: block.line(block.count - 1),
          fromMs: block.fromMs,
          toMs: block.toMs,
          count: block.count,
          events: block.bytes(),
        });
        // ledger: the block as stored (one sha256 of its text, computed by the INSERT), in this transaction.
        await vault.sealRowsOf(tx, 'access_blocks', [row], { actor });
        const id = Number(row.id);
        if (this.recent.length === 2) this.spare.push(this.recent[0].block);
        this.recent = [...this.recent.slice(-1), { id, block: b.block }];
      }
    }
    await vault.storeAccessRejects(tx, importId, b.rejects);
    const wires = await this.recordTripwires(tx, await vault.storeTripwires(tx, hospital, importId, accesses));
    return { added: block.count, ...wires };
  }

  /** Exposures of the canaries to the accounts, and alerts for single-record tripwires; tripwires and exposures sealed in the ledger. */
  private async recordTripwires(tx: Queryable, tripwires: readonly vault.NewTripwire[]): Promise<{ tripwires: number; alerts: number }> {
    const { hospital, importId, actor, alertChannels } = this.options;
    // ledger: the batch's tripwires and their exposures are sealed as one entry each (not one per tripwire).
    if (tripwires.length) await vault.sealRows(tx, 'tripwires', tripwires.map((w) => w.tripwire), { actor });
    const exposures: vault.ExposureInput[] = [];
    for (const wire of tripwires) {
      let channelId = this.channelIds.get(wire.account);
      if (channelId === undefined) this.channelIds.set(wire.account, (channelId = await vault.ensureChannel(tx, hospital, { kind: 'account', name: accountChannelName(wire.account) }, { actor })));
      exposures.push({ canaryId: wire.canary, channelId, exposedAt: wire.at, source: 'access-log', detail: { tripwire: wire.tripwire, import: importId, line: wire.line, action: wire.action, scope: wire.scope } });
    }
    await vault.addExposures(tx, exposures, { actor });
    const single = tripwires.filter((w) => w.scope === 'single');
    let alerts = 0;
    if (single.length && alertChannels.length) {
      const exposed = await vault.exposuresOfCanaries(tx, [...new Set(single.map((w) => w.canary))]);
      await vault.queueTripwireAlerts(
        tx,
        single.flatMap((w) =>
          alertChannels.map((channel) => ({
            tripwireId: w.tripwire,
            channel,
            payload: {
              type: 'tripwire',
              tripwire: w.tripwire,
              canary: w.canary,
              account: w.account,
              action: w.action,
              at: w.at.toISOString(),
              system: w.system,
              ip: w.ip,
              exposedTo: [...new Set(exposed.filter((e) => e.canary_id === w.canary).map((e) => (e.export_id ? `${e.channel} (export ${e.export_id})` : e.channel)))],
            },
          })),
        ),
      );
      alerts = single.length * alertChannels.length;
    }
    return { tripwires: tripwires.length, alerts };
  }
}
