import type { Queryable } from '../db/index.js';
import type { ChannelRef } from '../domain/index.js';
import { sealRows, type SealMeta } from './ledger.js';

/** The channel's id, creating it (and sealing it in the ledger) on first use. */
export async function ensureChannel(db: Queryable, hospital: string, channel: ChannelRef, meta?: SealMeta): Promise<number> {
  const find = () => db.query<{ id: number }>(`SELECT id FROM channels WHERE hospital = $1 AND kind = $2 AND name = $3`, [hospital, channel.kind, channel.name]);
  const { rows: found } = await find();
  if (found.length) return found[0].id;
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO channels (hospital, kind, name) VALUES ($1, $2, $3) ON CONFLICT (hospital, kind, name) DO NOTHING RETURNING id`,
    [hospital, channel.kind, channel.name],
  );
  // Inserted meanwhile by another transaction: that one seals it.
  if (!rows.length) return (await find()).rows[0].id;
  await sealRows(db, 'channels', [rows[0].id], meta);
  return rows[0].id;
}

export interface ExposureInput {
  canaryId: string;
  channelId: number;
  exposedAt: Date;
  source: string;
  detail?: unknown;
}

/** Record exposures and seal them in the ledger, in the caller's transaction. */
export async function addExposures(db: Queryable, exposures: readonly ExposureInput[], meta?: SealMeta): Promise<void> {
  if (exposures.length === 0) return;
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO exposures (canary_id, channel_id, exposed_at, source, detail)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::jsonb[]) RETURNING id`,
    [
      exposures.map((e) => e.canaryId),
      exposures.map((e) => e.channelId),
      exposures.map((e) => e.exposedAt.toISOString()),
      exposures.map((e) => e.source),
      exposures.map((e) => (e.detail === undefined ? null : JSON.stringify(e.detail))),
    ],
  );
  await sealRows(db, 'exposures', rows.map((r) => r.id), meta);
}
