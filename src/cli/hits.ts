import { InvalidArgumentError, type Command } from 'commander';
import type * as Alerts from '../alerts/deliver.js';
import { maskPhone } from '../lib/phone.js';
import type * as Time from '../lib/time.js';
import type * as Triage from '../triage/triage.js';
import type * as Vault from '../vault/index.js';
import { explain, formatReasons, LOW, type StoredReason } from '../triage/score.js';
import { escapeControls } from '../lib/control.js';
import { UserError } from '../lib/errors.js';
import { oneOf, positiveInt } from './args.js';
import { action, onAction, vaultAction, withVault, type JsonOption } from './context.js';
import { emit, isoDate, table } from './output.js';

// The actions' modules, loaded when one of these commands runs (src/cli/context.ts); triage's and
// the durations' only by the action that uses them (the listings start sooner without them).
let vault: typeof Vault;
async function load(): Promise<void> {
  vault = await import('../vault/index.js');
}
async function loadTriage(): Promise<[typeof Triage.triagePending, typeof Alerts.alertChannels]> {
  const [{ triagePending }, { alertChannels }] = [await import('../triage/triage.js'), await import('../alerts/deliver.js')];
  return [triagePending, alertChannels];
}
async function parseDuration(text: string): Promise<number> {
  const time: typeof Time = await import('../lib/time.js');
  return time.parseDuration(text);
}

// `cradle triage`, `cradle hits`, `cradle incidents`: contacts with the traps turned into hits,
// and the incidents that group hits and scans.

const HIT_FILTERS = ['active', 'dismissed', 'all'] as const;
const INCIDENT_FILTERS = ['open', 'closed', 'dismissed', 'merged', 'all'] as const;

interface HitsOptions extends JsonOption {
  since?: string;
  status: (typeof HIT_FILTERS)[number];
}

interface IncidentsOptions extends JsonOption {
  status: (typeof INCIDENT_FILTERS)[number];
}

interface LifeOptions extends JsonOption {
  reason?: string;
  by?: string;
}

/** `--by`: a name for the ledger's actor field, on one line. */
function byArg(value: string): string {
  const name = value.trim();
  if (!name || name.length > 100 || escapeControls(name) !== name) throw new InvalidArgumentError('expected a name of 1 to 100 characters on one line');
  return name;
}

/** A hit's reasons as camelCase objects: code, label, the sentence, weight and effect (its share of the confidence). */
const reasonsJson = (stored: readonly StoredReason[]) => explain(stored).reasons.map((r) => ({ code: r.code, label: r.label, reason: r.reason, weight: r.weight, effect: r.effect }));

const hitJson = (h: Vault.HitRow) => ({
  id: Number(h.id),
  eventId: Number(h.event_id),
  canaryId: h.canary_id,
  candidates: h.candidates?.length ? [...h.candidates].sort() : null,
  confidence: Number(h.confidence),
  reasons: reasonsJson(h.reasons),
  incidentId: h.incident_id,
  status: h.status,
  kind: h.kind,
  source: h.source,
  from: h.from_address,
  to: h.to_address,
  occurredAt: h.occurred_at,
  body: h.body,
  createdAt: h.created_at,
});

/** A hit's canary in the table: with a candidate set (a shared number, no family named), "one of N" and the first few. */
function canaryCell(h: Vault.HitRow): string {
  const set = h.candidates?.length ? [...h.candidates].sort() : null;
  if (!set) return h.canary_id;
  const shown = set.slice(0, 3).join(',');
  return `${h.canary_id} (one of ${set.length}: ${shown}${set.length > 3 ? ',…' : ''})`;
}

const incidentJson = (i: Vault.IncidentRow) => ({
  id: i.id,
  source: i.source,
  title: i.title,
  status: i.status,
  mergedInto: i.merged_into,
  createdAt: i.created_at,
  hits: i.hits,
  dismissedHits: i.dismissed_hits,
  canaries: i.canaries,
  firstContact: i.first_contact,
  lastContact: i.last_contact,
  senders: i.senders,
});

const incidentHitJson = (h: Vault.IncidentHitRow) => ({
  hitId: Number(h.hit_id),
  canaryId: h.canary_id,
  confidence: Number(h.confidence),
  reasons: reasonsJson(h.reasons),
  status: h.status,
  eventId: Number(h.event_id),
  source: h.source,
  providerId: h.provider_id,
  kind: h.kind,
  from: h.from_address,
  to: h.to_address,
  occurredAt: h.occurred_at,
  body: h.body,
  sha256: h.sha256,
});

const hitChangeJson = (c: Vault.HitChange) => ({ hit: c.hit, incident: c.incident, canary: c.canary, from: c.from, to: c.to, seq: c.seq });

/** One life-cycle entry as `cradle incidents <id>` lists it. */
function historyLine(e: Vault.HistoryEntry): string {
  const what =
    e.action === 'note'
      ? `note: ${e.note ?? ''}`
      : e.action === 'merge'
        ? `merged ${e.incident} into ${e.into}`
        : e.hit !== null
          ? `${e.action.replace(/-hit$/, '')} hit ${e.hit}`
          : `${e.action} (${e.from} → ${e.to})`;
  return escapeControls(`${isoDate(e.at)} #${e.seq} ${e.actor ?? '?'}: ${what}${e.reason ? `; reason: ${e.reason}` : ''}`);
}

interface ContactOptions extends JsonOption {
  raw?: boolean;
}

export function registerHits(program: Command): void {
  const first = program.commands.length;
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
      const [triagePending, alertChannels] = await loadTriage();
      const res = await triagePending(db, { knownSenders: config?.watch?.knownSenders ?? [], alertChannels: alertChannels(config?.alerts) });
      emit(!!opts.json, res, () => [
        `triaged ${res.triaged} contact(s): ${res.hits.length} hit(s), ${res.ignored.length} ignored`,
        ...(res.hits.length ? [table(['HIT', 'CANARY', 'CONF', 'INCIDENT'], res.hits.map((h) => [h.hitId, h.canaryId, h.confidence.toFixed(2), h.incidentId ?? `- (below ${LOW})`]))] : []),
        ...res.ignored.map((i) => `contact ${i.eventId}: ${i.reason}`),
      ]);
    }));

  const hits = program
    .command('hits')
    .description('contacts with the traps matched to canaries, with their confidence, reasons and status; dismiss or restore one')
    .option('--since <duration>', 'only contacts in this last stretch of time, e.g. 7d, 12h, 2w')
    .option('--status <status>', 'active (default), dismissed or all', oneOf(...HIT_FILTERS), 'active')
    .option('--json', 'print JSON')
    .addHelpText('after', `
WHY gives each reason with its share of the confidence (the shares add up to it), e.g. "trap held by
the canary +0.32; sender called 41 unrelated numbers −0.28"; --json has them as reasons[] with code,
label, reason, weight and effect. A hit below ${LOW} is a record in no incident (INCIDENT -) and raises
no alert. A dismissed hit (cradle hits dismiss) is left out of traces and reports; --status all lists it too.

Examples:
  cradle hits --since 7d
  cradle hits --status all --json | jq '.hits[] | select(.confidence > 0.9)'
  cradle hits dismiss 42 --reason "robocall: same recording to every number"`)
    .action(action<HitsOptions>(async (opts) => {
      const since = opts.since ? new Date(Date.now() - (await parseDuration(opts.since))) : undefined;
      await withVault(opts, async (db) => {
        const all = await vault.listHits(db, since);
        const shown = all.filter((h) => opts.status === 'all' || h.status === opts.status);
        const notShown = all.length - shown.length;
        emit(!!opts.json, { status: opts.status, hits: shown.map(hitJson), notShown }, () => [
          shown.length
            ? table(['HIT', 'WHEN', 'KIND', 'FROM', 'CANARY', 'CONF', 'STATUS', 'INCIDENT', 'WHY'], shown.map((h) => [h.id, isoDate(h.occurred_at), h.kind, h.from_address ? maskPhone(h.from_address) : '', canaryCell(h), Number(h.confidence).toFixed(2), h.status, h.incident_id ?? '-', formatReasons(explain(h.reasons).reasons)]))
            : `no ${opts.status === 'all' ? '' : `${opts.status} `}hits${opts.since ? ` in the last ${opts.since}` : ''}`,
          ...(notShown ? [`(${notShown} other hit(s) not shown: --status all)`] : []),
        ]);
      });
    }));

  const hitActions: { name: 'dismiss' | 'restore'; description: string; reason: string; example: string }[] = [
    { name: 'dismiss', description: 'dismiss a hit (a robocall, a wrong number): left out of traces and reports from now on; recorded in the evidence ledger', reason: 'why it is dismissed (required; kept in the ledger and the report)', example: 'cradle hits dismiss 42 --reason "robocall: same recording to every number"' },
    { name: 'restore', description: 'restore a dismissed hit: it feeds traces again; recorded in the evidence ledger', reason: 'why it is restored', example: 'cradle hits restore 42 --reason "the caller named the family after all"' },
  ];
  for (const a of hitActions) {
    const cmd = hits.command(a.name).argument('<hit>', 'hit id (cradle hits --status all lists them)', positiveInt).description(a.description);
    if (a.name === 'dismiss') cmd.requiredOption('--reason <text>', a.reason);
    else cmd.option('--reason <text>', a.reason);
    cmd
      .option('--by <name>', 'who (default: the OS user)', byArg)
      .option('--json', 'print JSON')
      .addHelpText('after', `\nExample:\n  ${a.example}`)
      .action(vaultAction<LifeOptions, [number]>(async ({ opts, db }, hit) => {
        const res = await vault.changeHitStatus(db, hit, a.name, opts.reason ?? null, { actor: opts.by });
        emit(!!opts.json, hitChangeJson(res), () => `hit ${res.hit} ${res.to === 'dismissed' ? 'dismissed' : 'restored'}${res.incident ? ` (incident ${res.incident})` : ''}: ledger entry #${res.seq}`);
      }));
  }

  const incidents = program
    .command('incidents')
    .argument('[id]', 'an incident: show it with its hits and history')
    .description('incidents: hits grouped by sender, script and time, and scans that found canaries; with an id, its hits, their evidence and its history; close, reopen, dismiss, merge, note')
    .option('--status <status>', 'open (default), closed, dismissed, merged or all', oneOf(...INCIDENT_FILTERS), 'open')
    .option('--json', 'print JSON')
    .addHelpText('after', `
Examples:
  cradle incidents                       # the open ones
  cradle incidents --status all
  cradle incidents k3x9m2pq7w            # its hits, each with the contact event behind it, and its history
  cradle contact 42 --raw > evidence.bin # that event's bytes, as they arrived
  cradle incidents close k3x9m2pq7w --reason "export recipient confirmed the leak; reported to the police"`)
    .action(vaultAction<IncidentsOptions, [string | undefined]>(async ({ opts, db }, id) => {
      if (id === undefined) {
        const all = await vault.listIncidents(db);
        const shown = all.filter((i) => opts.status === 'all' || i.status === opts.status);
        const notShown: Record<string, number> = {};
        for (const i of all) if (!shown.includes(i)) notShown[i.status] = (notShown[i.status] ?? 0) + 1;
        const hidden = Object.entries(notShown).map(([s, n]) => `${n} ${s}`);
        emit(!!opts.json, { status: opts.status, incidents: shown.map(incidentJson), notShown }, () => [
          shown.length
            ? table(['INCIDENT', 'SOURCE', 'STATUS', 'HITS', 'CANARIES', 'FIRST', 'LAST', 'TITLE'], shown.map((i) => [i.id, i.source, i.status === 'merged' ? `merged into ${i.merged_into}` : i.status, i.dismissed_hits ? `${i.hits} (+${i.dismissed_hits} dismissed)` : i.hits, i.canaries, isoDate(i.first_contact), isoDate(i.last_contact), i.title]))
            : `no ${opts.status === 'all' ? '' : `${opts.status} `}incidents`,
          ...(hidden.length ? [`(not shown: ${hidden.join(', ')}; --status all)`] : []),
        ]);
        return;
      }
      const [incident] = (await vault.listIncidents(db)).filter((i) => i.id === id);
      if (!incident) throw new UserError(`no incident ${id} (cradle incidents --status all lists them)`);
      const rows = await vault.incidentHits(db, id);
      const history = await vault.incidentHistory(db, id);
      emit(!!opts.json, { incident: incidentJson(incident), hits: rows.map(incidentHitJson), history }, () => [
        `incident ${incident.id} (${incident.source}, ${incident.status}${incident.merged_into ? ` into ${incident.merged_into}` : ''}): ${incident.title}`,
        `${incident.hits} hit(s) on ${incident.canaries} canar${incident.canaries === 1 ? 'y' : 'ies'}, ${isoDate(incident.first_contact)} to ${isoDate(incident.last_contact)}${incident.dismissed_hits ? `; ${incident.dismissed_hits} dismissed hit(s) left out` : ''}`,
        ...(rows.length
          ? [table(['HIT', 'WHEN', 'KIND', 'FROM', 'CANARY', 'CONF', 'STATUS', 'EVIDENCE', 'SHA256'], rows.map((h) => [h.hit_id, isoDate(h.occurred_at), h.kind, h.from_address ? maskPhone(h.from_address) : '', h.canary_id, Number(h.confidence).toFixed(2), h.status, `contact ${h.event_id} (${h.source}${h.provider_id ? ` ${h.provider_id}` : ''})`, h.sha256.slice(0, 16) + '…']))]
          : []),
        ...(history.length ? ['', 'history:', ...history.map((e) => `  ${historyLine(e)}`)] : []),
      ]);
    }));

  const transitions: { name: Vault.IncidentAction; description: string; example: string }[] = [
    { name: 'close', description: 'close an open incident (dealt with); recorded in the evidence ledger', example: 'cradle incidents close k3x9m2pq7w --reason "recipient confirmed the leak; reported to the police"' },
    { name: 'reopen', description: 'reopen a closed or dismissed incident; recorded in the evidence ledger', example: 'cradle incidents reopen k3x9m2pq7w --reason "the same caller is back"' },
    { name: 'dismiss', description: 'dismiss an open or closed incident: not a leak (robocalls, a wrong number); recorded in the evidence ledger', example: 'cradle incidents dismiss k3x9m2pq7w --reason "robocall campaign, every number called"' },
  ];
  for (const t of transitions) {
    incidents
      .command(t.name)
      .argument('<id>', 'incident id')
      .description(t.description)
      .requiredOption('--reason <text>', 'why (kept in the ledger and shown in the report)')
      .option('--by <name>', 'who (default: the OS user)', byArg)
      .option('--json', 'print JSON')
      .addHelpText('after', `\nExample:\n  ${t.example}`)
      .action(vaultAction<LifeOptions, [string]>(async ({ opts, db }, id) => {
        const res = await vault.changeIncidentStatus(db, id, t.name, opts.reason ?? null, { actor: opts.by });
        emit(!!opts.json, res, () => `incident ${res.incident}: ${res.from} → ${res.to}; ledger entry #${res.seq}`);
      }));
  }

  incidents
    .command('merge')
    .argument('<into>', 'the incident kept')
    .argument('<from>', 'the incident merged into it: its hits move there')
    .description('merge an incident into another (the same leak): its hits move, it is marked merged; recorded in the evidence ledger')
    .option('--reason <text>', 'why (kept in the ledger and shown in the report)')
    .option('--by <name>', 'who (default: the OS user)', byArg)
    .option('--json', 'print JSON')
    .addHelpText('after', `\nExample:\n  cradle incidents merge k3x9m2pq7w p8d2w4zz1a --reason "same call centre, new number"`)
    .action(vaultAction<LifeOptions, [string, string]>(async ({ opts, db }, into, from) => {
      const res = await vault.mergeIncidents(db, into, from, opts.reason ?? null, { actor: opts.by });
      emit(!!opts.json, res, () => `incident ${res.merged} merged into ${res.into}: ${res.hits.length} hit(s) moved; ledger entry #${res.seq}`);
    }));

  incidents
    .command('note')
    .argument('<id>', 'incident id')
    .argument('<text>', 'the note')
    .description('add a note to an incident (a call made, a finding); recorded in the evidence ledger')
    .option('--by <name>', 'who (default: the OS user)', byArg)
    .option('--json', 'print JSON')
    .addHelpText('after', `\nExample:\n  cradle incidents note k3x9m2pq7w "called the export recipient; they are checking their mail server"`)
    .action(vaultAction<LifeOptions, [string, string]>(async ({ opts, db }, id, text) => {
      const res = await vault.noteIncident(db, id, text, { actor: opts.by });
      emit(!!opts.json, res, () => `note added to incident ${res.incident}: ledger entry #${res.seq}`);
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
        emit(!!opts.json, contactJson(contact), () => [
          `contact ${contact.id}: ${contact.kind} via ${contact.source}${contact.provider_id ? ` (${contact.provider_id})` : ''}`,
          `from ${contact.from_address ?? '?'} to ${contact.to_address} at ${isoDate(contact.occurred_at)}, received ${isoDate(contact.received_at)} from ${contact.remote_addr ?? '?'}`,
          `sha256 ${contact.sha256}; triaged ${contact.triaged_at ? isoDate(contact.triaged_at) : 'not yet'}`,
          ...(contact.body ? ['', contact.body] : []),
        ]);
      });
    }));
  onAction(program.commands.slice(first), load);
}

/** One contact as `cradle contact --json` prints it: the vault's row, camelCase, `from`/`to` as in `hits`. */
function contactJson(c: Vault.ContactRow) {
  return {
    id: Number(c.id),
    source: c.source,
    providerId: c.provider_id,
    kind: c.kind,
    from: c.from_address,
    to: c.to_address,
    occurredAt: c.occurred_at,
    receivedAt: c.received_at,
    body: c.body,
    remoteAddr: c.remote_addr,
    headers: c.headers,
    sha256: c.sha256,
    triagedAt: c.triaged_at,
  };
}
