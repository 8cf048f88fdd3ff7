import type { Command } from 'commander';
import type { CanaryStatus } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import * as vault from '../vault/index.js';
import { hospitalFilter, vaultAction, type JsonOption } from './context.js';
import { emit, isoDate, table } from './output.js';
import { isoWeekArg, oneOf } from './args.js';

interface ListOptions extends JsonOption {
  week?: string;
  status?: CanaryStatus;
}

export function registerCanaries(program: Command): void {
  const canaries = program.command('canaries').description('the canary families in the vault');

  canaries
    .command('list')
    .description('list canaries, newest last')
    .option('--week <yyyy-Www>', 'only canaries of this rotation week', isoWeekArg)
    .option('--status <status>', 'pending, planted or retired', oneOf<CanaryStatus>('pending', 'planted', 'retired'))
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
    .command('show <id>')
    .description('one canary: the family, its trap numbers, target keys and exposures')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  cradle canaries show 3k9x2m7q8w1a')
    .action(vaultAction<JsonOption, [string]>(async ({ opts, db }, id) => {
      const c = await vault.getCanary(db, id);
      if (!c) throw new UserError(`no canary ${id} in the vault; \`cradle canaries list\` shows their ids`);
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
    }));
}
