import type { Queryable } from '../db/index.js';
import { UserError } from '../lib/errors.js';
import * as vault from '../vault/index.js';
import type { TraceReport, TraceSuspect } from '../domain/trace.js';
import { trace, type ChannelKind } from './model.js';

export type { TraceReport, TraceSuspect };

// `cradle trace`: read the incident and every channel that saw its canaries from the vault, run the
// model (model.ts, pure), and attach what an investigator needs to each suspect: the export's file
// and operator, the account's log lines.



const TOP = 10;

/** How an ambiguous contact is named among the found (in `explains`): its candidates joined by "|". */
export const ambiguousId = (a: { candidates: readonly { canary_id: string }[] }) => a.candidates.map((c) => c.canary_id).join('|');

export async function traceIncident(db: Queryable, incidentId: string, options: { top?: number } = {}): Promise<TraceReport> {
  const incident = await vault.incidentHead(db, incidentId);
  if (incident.status === 'merged') throw new UserError(`incident ${incident.id} was merged into ${incident.merged_into}: its hits are there (cradle trace ${incident.merged_into})`);
  const canaries = await vault.incidentCanaries(db, incident);
  // Hits an investigator dismissed are not evidence of this leak: left out, and said so.
  const dismissed = incident.source === 'hits' ? await vault.dismissedHits(db, incident.id) : [];
  const kept = new Set(canaries.map((c) => c.canary_id));
  const excluded = { hits: dismissed, canaries: [...new Set(dismissed.map((d) => d.canaryId).filter((c) => !kept.has(c)))].sort() };
  const ambiguous = await vault.incidentAmbiguous(db, incident);
  const ids = [...new Set([...canaries.map((c) => c.canary_id), ...ambiguous.flatMap((a) => a.candidates.map((c) => c.canary_id))])];
  const channels = ids.length ? await vault.channelsSeeing(db, ids) : [];
  const universe = await vault.traceUniverse(db);
  const size = universe.plantedAt.length;
  const suspects = trace(
    {
      found: [
        ...canaries.map((c) => ({ id: c.canary_id, plantedAt: c.planted_at, seenLeakedAt: c.leaked_by })),
        // An ambiguous contact is one item: one of its candidates (named by them all, "a|b|c").
        ...ambiguous.map((a) => ({
          id: ambiguousId(a),
          plantedAt: new Date(Math.min(...a.candidates.map((c) => c.planted_at.getTime()))),
          seenLeakedAt: a.leaked_by,
          candidates: a.candidates.map((c) => ({ id: c.canary_id, plantedAt: c.planted_at })),
        })),
      ],
      channels: channels.map((ch) => ({ key: ch.key, kind: ch.kind as ChannelKind, seen: ch.seen, code: ch.code ?? undefined })),
      vaultSize: size,
      vaultPlantedAt: universe.plantedAt,
    },
    { universe: universe.channels },
  ).slice(0, options.top ?? TOP);
  const byKey = new Map(channels.map((c) => [c.key, c]));
  const accountLines = await vault.tripwiresOfCanaries(db, ids);
  return {
    incident,
    canaries,
    ambiguous,
    weeks: [...new Set(canaries.map((c) => c.iso_week))].sort(),
    leakedBy: [...canaries, ...ambiguous].reduce<Date | null>((a, c) => (a === null || c.leaked_by < a ? c.leaked_by : a), null),
    candidates: channels.length,
    vaultSize: size,
    excluded,
    suspects: suspects.map((s) => {
      const ch = byKey.get(s.key);
      const explains = new Set(s.explains);
      return {
        ...s,
        label: ch?.label ?? (s.parts ? s.parts.map((p) => byKey.get(p)?.label ?? p).join(' + ') : s.key),
        export: ch?.export_id ? { id: ch.export_id, recipient: ch.recipient, operator: ch.operator, file: ch.file_name, sha256: ch.sha256, at: ch.exported_at } : null,
        logLines:
          ch?.kind === 'account'
            ? accountLines
                .filter((l) => `account:${l.account}` === ch.label && explains.has(l.canary_id))
                .map((l) => ({ at: l.at, action: l.action, scope: l.scope, canary: l.canary_id, system: l.system, ip: l.ip, file: l.path, line: l.line }))
            : [],
      };
    }),
  };
}
