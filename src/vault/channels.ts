import type { Queryable } from '../db/index.js';
import type { ChannelRef } from '../domain.js';

/** The channel's id, creating it on first use. */
export async function ensureChannel(db: Queryable, hospital: string, channel: ChannelRef): Promise<number> {
  const { rows } = await db.query<{ id: number }>(
    `INSERT INTO channels (hospital, kind, name) VALUES ($1, $2, $3)
     ON CONFLICT (hospital, kind, name) DO UPDATE SET kind = EXCLUDED.kind
     RETURNING id`,
    [hospital, channel.kind, channel.name],
  );
  return rows[0].id;
}

export interface ExposureInput {
  canaryId: string;
  channelId: number;
  exposedAt: Date;
  source: string;
  detail?: unknown;
}

export async function addExposures(db: Queryable, exposures: readonly ExposureInput[]): Promise<void> {
  if (exposures.length === 0) return;
  await db.query(
    `INSERT INTO exposures (canary_id, channel_id, exposed_at, source, detail)
     SELECT * FROM unnest($1::text[], $2::bigint[], $3::timestamptz[], $4::text[], $5::jsonb[])`,
    [
      exposures.map((e) => e.canaryId),
      exposures.map((e) => e.channelId),
      exposures.map((e) => e.exposedAt.toISOString()),
      exposures.map((e) => e.source),
      exposures.map((e) => (e.detail === undefined ? null : JSON.stringify(e.detail))),
    ],
  );
}
