import type { Command } from 'commander';
import type { CanaryStatus } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import type * as Vault from '../vault/index.js';
import type * as Seed from '../seed/index.js';
import { hospitalAction, hospitalFilter, onAction, showCommand, vaultAction, type JsonOption } from './context.js';
import { emit, isoDate, table } from './output.js';
import { instantArg, isoWeekArg, oneOf } from './args.js';

// The actions' modules, loaded when one of these commands runs (src/cli/context.ts); seeding's only
// by `canaries advance` (the listings start sooner without it).
let vault: typeof Vault;
async function load(): Promise<void> {
  vault = await import('../vault/index.js');
}

/** Past this delay between an event's time and its writing, the row is out of the hospital's order. */
const LATE_MINUTES = 15;

/** Events carried out (or due, on a dry run) more than LATE_MINUTES after their time: the cron job runs too rarely. */
function lateEvents(events: readonly { dueAt: Date }[], until: Date): { count: number; maxMinutes: number } {
  const minutes = events.map((e) => (until.getTime() - e.dueAt.getTime()) / 60_000).filter((m) => m > LATE_MINUTES);
  return { count: minutes.length, maxMinutes: minutes.length ? Math.round(Math.max(...minutes)) : 0 };
}

function lateness(minutes: number): string {
  if (minutes < 120) return `${minutes} min`;
  if (minutes < 48 * 60) return `${Math.round(minutes / 60)} h`;
  return `${Math.round(minutes / 1440)} days`;
}

interface AdvanceOptions extends JsonOption {
  until?: Date;
  dryRun?: boolean;
}

interface ListOptions extends JsonOption {
  week?: string;
  status?: CanaryStatus;
}

export function registerCanaries(program: Command): void {
  const first = program.commands.length;
  const canaries = program.command('canaries').description('the canary families in the vault');

  canaries
    .command('list')
    .description('list canaries, newest last')
    .option('--week <yyyy-Www>', 'only canaries of this rotation week', isoWeekArg)
    .option('--status <status>', 'pending, scheduled, planted or retired', oneOf<CanaryStatus>('pending', 'scheduled', 'planted', 'retired'))
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  cradle canaries list\n  cradle canaries list --week 2026-W48 --json')
    .action(vaultAction<ListOptions>(async ({ opts, db, config }) => {
      const hospital = hospitalFilter(opts, config);
      const rows = await vault.listCanaries(db, { hospital, week: opts.week, status: opts.status });
      const canaries = rows.map((c) => ({
        id: c.id,
        hospital: c.hospital,
        week: c.iso_week,
        status: c.status,
        ward: c.ward,
        mother: c.mother_name,
        motherPhone: c.mother_phone,
        father: c.father_name,
        fatherPhone: c.father_phone,
        email: c.email,
        plantedAt: c.planted_at,
      }));
      emit(!!opts.json, { count: canaries.length, canaries }, () =>
        rows.length
          ? [table(['ID', 'WEEK', 'STATUS', 'WARD', 'MOTHER', 'PHONE', 'PLANTED'], rows.map((c) => [c.id, c.iso_week, c.status, c.ward, c.mother_name, c.mother_phone, isoDate(c.planted_at)])), `${rows.length} canaries`]
          : 'no canaries yet: plant some with `cradle seed --count 20` or `cradle rotate`',
      );
    }));

  canaries
    .command('advance')
    .description("write what is due of canaries' stays into the target: admissions, births, discharges (run it every few minutes)")
    .option('--until <time>', 'a simulated clock: carry out what is due by this time, each event written as at its due time (tests, demos, replays)', instantArg)
    .option('--dry-run', 'show what is due and what it would write; write nothing')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  cradle canaries advance\n  cradle canaries advance --dry-run --json\n  cradle canaries advance --until 2026-12-07T08:00:00+08:00\n\n' +
        '`cradle rotate` only schedules the week\'s canaries; this command writes each admission, birth and discharge\n' +
        'when it is due, one transaction per event, with the created/updated times and keys the hospital\'s system\n' +
        'would give. Run it from cron every 5 minutes (see README):\n  */5 * * * *  cd /srv/cradle && npx cradle canaries advance --hospital main\n' +
        'Without --until the clock is the real one and overdue events are written now with the current time.',
    )
    .action(hospitalAction<AdvanceOptions>(async ({ opts, hospital, mapping, vault: vaultDb, target }) => {
      const now = new Date();
      if (opts.until && opts.until.getTime() > now.getTime() + 60_000) throw new UserError(`--until ${opts.until.toISOString()} is later than the clock; events are written when they happen, not before`);
      const { advanceCanaries }: typeof Seed = await import('../seed/index.js');
      const res = await advanceCanaries(vaultDb, target, { hospital, mapping, until: opts.until ?? now, simulated: !!opts.until, dryRun: !!opts.dryRun });
      // A simulated clock writes each event at its time; only the real one can be late.
      const late = opts.until ? { count: 0, maxMinutes: 0 } : lateEvents(res.events, res.until);
      if (late.count) {
        process.stderr.write(
          `cradle: warning: ${late.count} of ${res.events.length} event(s) ${res.dryRun ? 'are' : 'were'} written more than ${LATE_MINUTES} minutes after their time (the latest by ${lateness(late.maxMinutes)}): ` +
            `a row written late takes a key after rows the hospital recorded since, which a thief can see; run \`cradle canaries advance\` every few minutes (cron */5)\n`,
        );
      }
      const data = {
        hospital: hospital.name,
        until: res.until,
        dryRun: res.dryRun,
        events: res.events.map((e) => ({ canary: e.canaryId, event: e.event, ward: e.ward, dueAt: e.dueAt, writtenAt: e.writtenAt, reconciled: e.reconciled, ...(e.keys ? { keys: e.keys } : {}), ...(e.writes ? { writes: e.writes } : {}) })),
        planted: res.planted,
        upcoming: res.upcoming,
        late,
      };
      emit(!!opts.json, data, () => [
        res.events.length
          ? `${res.dryRun ? 'dry run: would write' : 'wrote'} ${res.events.length} event(s) of canaries' stays in ${hospital.name}${res.planted ? ` (${res.planted} canaries now in the target)` : ''}`
          : `nothing due in ${hospital.name}`,
        ...(res.events.length ? [table(['CANARY', 'EVENT', 'WARD', 'DUE', 'WRITTEN'], res.events.map((e) => [e.canaryId, e.event + (e.reconciled ? ' (found written)' : ''), e.ward, e.dueAt.toISOString(), res.dryRun ? '-' : e.writtenAt.toISOString()]))] : []),
        ...(res.dryRun ? res.events.flatMap((e) => [
          ...Object.entries(e.writes?.insert ?? {}).map(([t, row]) => `  ${e.canaryId} ${e.event}: INSERT INTO ${t} ${JSON.stringify(row)}`),
          ...Object.entries(e.writes?.update ?? {}).map(([t, cols]) => `  ${e.canaryId} ${e.event}: UPDATE ${t} SET ${cols.join(', ')}`),
        ]) : []),
        res.upcoming.count ? `${res.upcoming.count} event(s) still to come; the next is due ${res.upcoming.next!.toISOString()}` : 'no events scheduled',
      ]);
    }));

  showCommand(
    canaries,
    { noun: 'canary', description: 'one canary: the family, its trap numbers, target keys and exposures', exampleId: '3k9x2m7q8w1a', get: (db, id) => vault.getCanary(db, id) },
    async ({ opts, db, id }, c) => {
      const exposures = await vault.exposuresOf(db, id);
      const numbers = await vault.trapNumbersOf(db, id);
      const f = c.family;
      const data = {
        id: c.id,
        hospital: c.hospital,
        week: c.iso_week,
        status: c.status,
        batchId: c.batch_id,
        createdAt: c.created_at,
        plantedAt: c.planted_at,
        retiredAt: c.retired_at,
        family: f,
        targetKeys: c.target_keys,
        trapNumbers: numbers.map((n) => ({ e164: n.e164, role: n.role, assignedAt: n.assigned_at, releasedAt: n.released_at, state: n.state })),
        exposures: exposures.map((e) => ({ channel: e.channel, exposedAt: e.exposed_at, source: e.source })),
      };
      emit(!!opts.json, data, () => [
        `canary ${c.id} (${c.status}, week ${c.iso_week}, ${c.hospital})`,
        `  mother   ${f.mother.name.full} (${f.mother.name.latin}), born ${f.mother.birthDate}, ${f.mother.phone ?? 'no phone'}${f.mother.email ? `, ${f.mother.email}` : ''}`,
        f.father ? `  father   ${f.father.name.full} (${f.father.name.latin}), born ${f.father.birthDate}, ${f.father.phone ?? 'no phone'}` : '  father   (not recorded)',
        `  baby     ${f.baby.name.full}, ${f.baby.sex}, ${f.baby.weightGrams} g, born ${isoDate(f.baby.birthTime)}`,
        `  stay     ${f.hospital} / ${f.ward}, admitted ${isoDate(f.admittedAt)}, discharged ${f.dischargedAt ? isoDate(f.dischargedAt) : '(not yet)'}`,
        `  address  ${f.address.full}`,
        `  target   ${JSON.stringify(c.target_keys)}`,
        '  exposures:',
        ...exposures.map((e) => `    ${isoDate(e.exposed_at)}  ${e.channel}  (${e.source})`),
      ]);
    },
  );
  onAction(program.commands.slice(first), load);
}
