import type { Command } from 'commander';
import { alertChannels } from '../alerts/deliver.js';
import { maskDigits } from '../phone.js';
import { parseDuration } from '../time.js';
import { triagePending } from '../triage/triage.js';
import * as vault from '../vault/index.js';
import { globals, withVault } from './context.js';
import { emit, isoDate, table } from './output.js';

// `cradle triage`, `cradle hits`, `cradle incidents`: contacts with the traps turned into hits,
// and the incidents that group hits and scans.

export function registerHits(program: Command): void {
  program
    .command('triage')
    .description('match recorded contacts with the traps to canaries, judge them, group them into incidents (cradle watch does this as contacts arrive)')
    .option('--json', 'print JSON')
    .addHelpText('after', `
Each contact not triaged yet becomes a hit on the canary that held the trap at the time, with a
confidence and its reasons, in an incident with the other hits from the same sender or on the same
canary within 7 days, and queued for the alert channels of the config (cradle alerts deliver).
Contacts from watch.knownSenders in the config are ignored.

Examples:
  cradle ingest cdr Master.csv --format asterisk && cradle triage
  cradle triage --json`)
    .action(async (_o, cmd: Command) => {
      const opts = globals(cmd);
      await withVault(opts, async (db, config) => {
        const res = await triagePending(db, { knownSenders: config?.watch?.knownSenders ?? [], alertChannels: alertChannels(config?.alerts) });
        emit(!!opts.json, res, () => [
          `triaged ${res.triaged} contact(s): ${res.hits.length} hit(s), ${res.ignored.length} ignored`,
          ...(res.hits.length ? [table(['HIT', 'CANARY', 'CONF', 'INCIDENT'], res.hits.map((h) => [h.hitId, h.canaryId, h.confidence.toFixed(2), h.incidentId]))] : []),
          ...res.ignored.map((i) => `contact ${i.eventId}: ${i.reason}`),
        ]);
      });
    });

  program
    .command('hits')
    .description('contacts with the traps matched to canaries, with their confidence and reasons')
    .option('--since <duration>', 'only contacts in this last stretch of time, e.g. 7d, 12h, 2w')
    .option('--json', 'print JSON')
    .addHelpText('after', `
Examples:
  cradle hits --since 7d
  cradle hits --json | jq '.[] | select(.confidence > 0.9)'`)
    .action(async (o: { since?: string }, cmd: Command) => {
      const opts = globals(cmd);
      const since = o.since ? new Date(Date.now() - parseDuration(o.since)) : undefined;
      await withVault(opts, async (db) => {
        const hits = await vault.listHits(db, since);
        emit(!!opts.json, hits, () =>
          hits.length
            ? table(['HIT', 'WHEN', 'KIND', 'FROM', 'CANARY', 'CONF', 'INCIDENT', 'WHY'], hits.map((h) => [h.id, isoDate(h.occurred_at), h.kind, h.from_address ? maskDigits(h.from_address) : '', h.canary_id, h.confidence.toFixed(2), h.incident_id, h.reasons.map((r) => r.reason).join('; ')]))
            : `no hits${o.since ? ` in the last ${o.since}` : ''}`,
        );
      });
    });

  program
    .command('incidents')
    .description('incidents: hits grouped by sender and time, and scans that found canaries')
    .option('--json', 'print JSON')
    .addHelpText('after', `
Examples:
  cradle incidents
  cradle incidents --json`)
    .action(async (_o, cmd: Command) => {
      const opts = globals(cmd);
      await withVault(opts, async (db) => {
        const incidents = await vault.listIncidents(db);
        emit(!!opts.json, incidents, () =>
          incidents.length
            ? table(['INCIDENT', 'SOURCE', 'STATUS', 'HITS', 'CANARIES', 'FIRST', 'LAST', 'TITLE'], incidents.map((i) => [i.id, i.source, i.status, i.hits, i.canaries, isoDate(i.first_contact), isoDate(i.last_contact), i.title]))
            : 'no incidents',
        );
      });
    });
}
