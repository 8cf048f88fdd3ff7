import type { Queryable } from '../db/index.js';
import { UserError } from '../lib/errors.js';
import { exportCodewords } from './codes.js';
import type { AmbiguousContact, IncidentCanary, IncidentHead } from '../domain/trace.js';

export type { AmbiguousContact, IncidentCanary, IncidentHead };

// What `cradle trace` reads from the vault: the incident's canaries with the first evidence that each
// leaked, and every channel that saw any of them, with the first time it saw each canary it ever saw.



export async function incidentHead(db: Queryable, id: string): Promise<IncidentHead> {
  const { rows } = await db.query<IncidentHead>(`SELECT id, source, title, status, merged_into, created_at FROM incidents WHERE id = $1`, [id]);
  if (!rows.length) throw new UserError(`no incident ${id}; list them with \`cradle incidents\``);
  return rows[0];
}

export async function incidentCanaries(db: Queryable, incident: IncidentHead): Promise<IncidentCanary[]> {
  const sql =
    incident.source === 'hits'
      ? `SELECT h.canary_id, min(ev.occurred_at) AS leaked_by, count(*)::int AS evidence
           FROM hits h JOIN contact_events ev ON ev.id = h.event_id WHERE h.incident_id = $1 AND h.status = 'active' AND h.candidates IS NULL GROUP BY h.canary_id`
      : // The matches kept, and the summary's list of every canary found (a scan keeps at most MAX_KEPT matches).
        `SELECT s.canary_id, i.created_at AS leaked_by, max(s.evidence)::int AS evidence
           FROM (SELECT m.canary_id, count(*) AS evidence FROM scan_matches m WHERE m.incident_id = $1 GROUP BY m.canary_id
                 UNION ALL
                 SELECT c->>'id', coalesce((c->>'matches')::int, 1) FROM incidents x, jsonb_array_elements(coalesce(x.summary->'canaries', '[]'::jsonb)) c
                  WHERE x.id = $1 AND jsonb_typeof(x.summary->'canaries') = 'array') s
           JOIN incidents i ON i.id = $1 GROUP BY s.canary_id, i.created_at`;
  const { rows } = await db.query<IncidentCanary>(
    `SELECT f.canary_id, coalesce(c.planted_at, c.created_at) AS planted_at, c.iso_week, f.leaked_by, f.evidence
       FROM (${sql}) f JOIN canaries c ON c.id = f.canary_id ORDER BY f.leaked_by, f.canary_id`,
    [incident.id],
  );
  return rows;
}

/**
 * The incident's ambiguous hits (contacts on a shared number that named no family, migration 017): one
 * per set of candidates, with the first contact and each candidate's planting time.
 */
export async function incidentAmbiguous(db: Queryable, incident: IncidentHead): Promise<AmbiguousContact[]> {
  if (incident.source !== 'hits') return [];
  const { rows } = await db.query<{ candidates: string[]; leaked_by: Date; evidence: number; planted: Date[] }>(
    `SELECT a.candidates, a.leaked_by, a.evidence,
            (SELECT array_agg(coalesce(c.planted_at, c.created_at) ORDER BY x.o) FROM unnest(a.candidates) WITH ORDINALITY x(id, o) JOIN canaries c ON c.id = x.id) AS planted
       FROM (SELECT h.candidates, min(ev.occurred_at) AS leaked_by, count(*)::int AS evidence
               FROM hits h JOIN contact_events ev ON ev.id = h.event_id
              WHERE h.incident_id = $1 AND h.status = 'active' AND h.candidates IS NOT NULL GROUP BY h.candidates) a
      ORDER BY a.leaked_by, a.candidates`,
    [incident.id],
  );
  return rows.map((r) => ({ candidates: r.candidates.map((id, i) => ({ canary_id: id, planted_at: r.planted[i] })), leaked_by: r.leaked_by, evidence: r.evidence }));
}

export interface TraceChannelRow {
  key: string;
  label: string;
  kind: 'export' | 'account' | 'system' | 'ward';
  export_id: string | null;
  operator: string | null;
  recipient: string | null;
  file_name: string | null;
  sha256: string | null;
  exported_at: Date | null;
  /** Export with a codeword of a shared code pool: its canaries. */
  code: string[] | null;
  /** Every canary the channel saw, with the first time. */
  seen: Map<string, Date>;
}

const KEY = `CASE WHEN e.detail->>'export' IS NOT NULL THEN 'export-file:' || (e.detail->>'export') ELSE 'channel:' || e.channel_id END`;

/** Every channel (an export file counts as its own) that saw any of these canaries, with all it saw. */
export async function channelsSeeing(db: Queryable, canaryIds: readonly string[]): Promise<TraceChannelRow[]> {
  const { rows: heads } = await db.query<Omit<TraceChannelRow, 'seen' | 'code'>>(
    `WITH keys AS (SELECT DISTINCT ${KEY} AS key, e.channel_id, e.detail->>'export' AS export_id FROM exposures e WHERE e.canary_id = ANY($1::text[]))
     SELECT k.key, ch.kind || ':' || ch.name AS label, ch.kind, k.export_id, x.operator, CASE WHEN ch.kind = 'export' THEN ch.name END AS recipient,
            x.file_name, x.sha256, x.created_at AS exported_at
       FROM keys k JOIN channels ch ON ch.id = k.channel_id LEFT JOIN exports x ON x.id = k.export_id ORDER BY k.key`,
    [canaryIds],
  );
  if (heads.length === 0) return [];
  const exportIds = heads.flatMap((h) => (h.export_id ? [h.export_id] : []));
  const channelIds = heads.flatMap((h) => (h.export_id ? [] : [Number(h.key.slice('channel:'.length))]));
  // Export files by their export id, other channels by id: both use an index on exposures.
  const { rows: seen } = await db.query<{ key: string; canary_id: string; at: Date }>(
    `SELECT ${KEY} AS key, e.canary_id, min(e.exposed_at) AS at FROM exposures e
      WHERE (e.detail->>'export' = ANY($1::text[])) OR (e.channel_id = ANY($2::bigint[]) AND e.detail->>'export' IS NULL)
      GROUP BY 1, 2`,
    [exportIds, channelIds],
  );
  const byKey = new Map(heads.map((h) => [h.key, new Map<string, Date>()]));
  for (const s of seen) byKey.get(s.key)?.set(s.canary_id, s.at);
  const codewords = await exportCodewords(db, exportIds);
  return heads.map((h) => ({ ...h, code: (h.export_id && codewords.get(h.export_id)?.canary_ids) || null, seen: byKey.get(h.key)! }));
}

/**
 * What the trace's priors are over: every channel Cradle records (an export file counts as one), and
 * when each canary of the vault was planted.
 */
export async function traceUniverse(db: Queryable): Promise<{ channels: number; plantedAt: Date[] }> {
  const { rows } = await db.query<{ n: number }>(
    `SELECT (SELECT count(*) FROM channels WHERE kind <> 'export')::int + (SELECT count(*) FROM exports)::int AS n`,
  );
  const { rows: planted } = await db.query<{ at: Date }>(`SELECT coalesce(planted_at, created_at) AS at FROM canaries WHERE status <> 'pending'`);
  return { channels: rows[0].n, plantedAt: planted.map((p) => p.at) };
}
