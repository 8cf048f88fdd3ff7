import type { Command } from 'commander';
import { alertChannels } from '../alerts/deliver.js';
import { maskPhone } from '../lib/phone.js';
import { parseDuration } from '../lib/time.js';
import { triagePending } from '../triage/triage.js';
import * as vault from '../vault/index.js';
import { UserError } from '../lib/errors.js';
import { action, vaultAction, withVault, type JsonOption } from './context.js';
import { emit, isoDate, table } from './output.js';

// `cradle triage`, `cradle hits`, `cradle incidents`: contacts with the traps turned into hits,
// and the incidents that group hits and scans.

interface HitsOptions extends JsonOption {
  since?: string;
}

interface ContactOptions extends JsonOption {
  raw?: boolean;
}

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
    .action(vaultAction<JsonOption>(async ({ opts, db, config }) => {
      const res = await triagePending(db, { knownSenders: config?.watch?.knownSenders ?? [], alertChannels: alertChannels(config?.alerts) });
      emit(!!opts.json, res, () => [
        `triaged ${res.triaged} contact(s): ${res.hits.length} hit(s), ${res.ignored.length} ignored`,
        ...(res.hits.length ? [table(['HIT', 'CANARY', 'CONF', 'INCIDENT'], res.hits.map((h) => [h.hitId, h.canaryId, h.confidence.toFixed(2), h.incidentId]))] : []),
        ...res.ignored.map((i) => `contact ${i.eventId}: ${i.reason}`),
      ]);
    }));

  program
    .command('hits')
    .description('contacts with the traps matched to canaries, with their confidence and reasons')
    .option('--since <duration>', 'only contacts in this last stretch of time, e.g. 7d, 12h, 2w')
    .option('--json', 'print JSON')
    .addHelpText('after', `
Examples:
  cradle hits --since 7d
  cradle hits --json | jq '.[] | select(.confidence > 0.9)'`)
    .action(action<HitsOptions>(async (opts) => {
      const since = opts.since ? new Date(Date.now() - parseDuration(opts.since)) : undefined;
      await withVault(opts, async (db) => {
        const hits = await vault.listHits(db, since);
        emit(!!opts.json, hits, () =>
          hits.length
            ? table(['HIT', 'WHEN', 'KIND', 'FROM', 'CANARY', 'CONF', 'INCIDENT', 'WHY'], hits.map((h) => [h.id, isoDate(h.occurred_at), h.kind, h.from_address ? maskPhone(h.from_address) : '', h.canary_id, h.confidence.toFixed(2), h.incident_id, h.reasons.map((r) => r.reason).join('; ')]))
            : `no hits${opts.since ? ` in the last ${opts.since}` : ''}`,
        );
      });
    }));

  program
    .command('incidents [id]')
    .description('incidents: hits grouped by sender, script and time, and scans that found canaries; with an id, its hits and their evidence')
    .option('--json', 'print JSON')
    .addHelpText('after', `
Examples:
  cradle incidents
  cradle incidents k3x9m2pq7w            # its hits, each with the contact event behind it
  cradle contact 42 --raw > evidence.bin # that event's bytes, as they arrived`)
    .action(vaultAction<JsonOption, [string | undefined]>(async ({ opts, db }, id) => {
      const incidents = await vault.listIncidents(db);
      if (id === undefined) {
        emit(!!opts.json, incidents, () =>
          incidents.length
            ? table(['INCIDENT', 'SOURCE', 'STATUS', 'HITS', 'CANARIES', 'FIRST', 'LAST', 'TITLE'], incidents.map((i) => [i.id, i.source, i.status, i.hits, i.canaries, isoDate(i.first_contact), isoDate(i.last_contact), i.title]))
            : 'no incidents',
        );
        return;
      }
      const incident = incidents.find((i) => i.id === id);
      if (!incident) throw new UserError(`no incident ${id} (cradle incidents lists them)`);
      const hits = await vault.incidentHits(db, id);
      emit(!!opts.json, { ...incident, hits }, () => [
        `incident ${incident.id} (${incident.source}, ${incident.status}): ${incident.title}`,
        `${incident.hits} hit(s) on ${incident.canaries} canar${incident.canaries === 1 ? 'y' : 'ies'}, ${isoDate(incident.first_contact)} to ${isoDate(incident.last_contact)}`,
        ...(hits.length
          ? [table(['WHEN', 'KIND', 'FROM', 'CANARY', 'CONF', 'EVIDENCE', 'SHA256'], hits.map((h) => [isoDate(h.occurred_at), h.kind, h.from_address ? maskPhone(h.from_address) : '', h.canary_id, h.confidence.toFixed(2), `contact ${h.event_id} (${h.source}${h.provider_id ? ` ${h.provider_id}` : ''})`, h.sha256.slice(0, 16) + '…']))]
          : []),
      ]);
    }));

  program
    .command('contact <id>')
    .description('one recorded contact with a trap: what arrived, when, from where; --raw writes its bytes as they arrived')
    .option('--raw', 'write the raw request or message to standard output, byte for byte')
    .option('--json', 'print JSON')
    .addHelpText('after', `
Examples:
  cradle contact 42
  cradle contact 42 --raw | sha256sum     # the same hash as the vault's`)
    .action(action<ContactOptions, [string]>(async (opts, idText) => {
      const id = Number(idText);
      if (!Number.isSafeInteger(id) || id < 1) throw new UserError(`contact id must be a whole number (got ${idText})`);
      await withVault(opts, async (db) => {
        const contact = await vault.getContact(db, id);
        if (!contact) throw new UserError(`no contact ${id}`);
        if (opts.raw) {
          process.stdout.write((await vault.contactRaw(db, id))!);
          return;
        }
        emit(!!opts.json, contact, () => [
          `contact ${contact.id}: ${contact.kind} via ${contact.source}${contact.provider_id ? ` (${contact.provider_id})` : ''}`,
          `from ${contact.from_address ?? '?'} to ${contact.to_address} at ${isoDate(contact.occurred_at)}, received ${isoDate(contact.received_at)} from ${contact.remote_addr ?? '?'}`,
          `sha256 ${contact.sha256}; triaged ${contact.triaged_at ? isoDate(contact.triaged_at) : 'not yet'}`,
          ...(contact.body ? ['', contact.body] : []),
        ]);
      });
    }));
}
