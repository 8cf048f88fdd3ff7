import type { Command } from 'commander';
import type { ChannelRef } from '../domain/index.js';
import { channelList, isoWeekArg, positiveInt } from './args.js';
import type * as Seed from '../seed/index.js';
import type { PlannedCanary } from '../seed/index.js';
import type * as Time from '../lib/time.js';
import { hospitalAction, onAction, type JsonOption } from './context.js';
import { emit, isoDate, progress, progressDone, table } from './output.js';

// The actions' modules, loaded when one of these commands runs (src/cli/context.ts).
let birthWindow: typeof Seed.birthWindow;
let plantCanaries: typeof Seed.plantCanaries;
let realBirthsPerWard: typeof Seed.realBirthsPerWard;
let rotate: typeof Seed.rotate;
let isoWeekOf: typeof Time.isoWeekOf;
async function load(): Promise<void> {
  [{ birthWindow, plantCanaries, realBirthsPerWard, rotate }, { isoWeekOf }] = [await import('../seed/index.js'), await import('../lib/time.js')];
}

export function canarySummary(c: PlannedCanary) {
  const f = c.family;
  return {
    id: c.id,
    ward: f.ward,
    mother: f.mother.name.full,
    motherPhone: f.mother.phone,
    father: f.father?.name.full ?? null,
    fatherPhone: f.father?.phone ?? null,
    email: f.mother.email ?? f.father?.email ?? null,
    baby: f.baby.name.full,
    sex: f.baby.sex,
    birthTime: f.baby.birthTime,
    events: c.events ?? [],
    ...(c.rows ? { rows: c.rows } : {}),
  };
}

function canaryTable(canaries: PlannedCanary[]): string {
  return table(
    ['ID', 'WARD', 'MOTHER', 'PHONE', 'BABY', 'BORN'],
    canaries.map((c) => [c.id, c.family.ward, c.family.mother.name.full, c.family.mother.phone, c.family.baby.name.full, isoDate(c.family.baby.birthTime)]),
  );
}

interface SeedOptions extends JsonOption {
  count: number;
  ward?: string;
  channel?: ChannelRef[];
  dryRun?: boolean;
  seed?: string;
}

interface RotateOptions extends JsonOption {
  week?: string;
  seed?: string;
}

export function registerSeed(program: Command): void {
  const first = program.commands.length;
  program
    .command('seed')
    .description('plant canary families into the target now (one transaction; births in the past week, discharges still to come scheduled for `canaries advance`), recorded in the vault')
    .requiredOption('--count <n>', 'how many canary families', positiveInt)
    .option('--ward <ward>', 'put every canary on this ward (default: spread over the hospital\'s wards in proportion to their real births in the target)')
    .option('--channel <kind:name>', 'channel the planted rows are exposed to (repeatable; default: the config\'s seedChannel)', channelList)
    .option('--dry-run', 'show what would be inserted and write nothing')
    .option('--seed <seed>', 'make the generated families reproducible')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  cradle seed --count 20\n  cradle seed --count 5 --ward NICU --channel system:his --dry-run\n  cradle seed --count 20 --seed 42 --json')
    .action(hospitalAction<SeedOptions>(async ({ opts, hospital, mapping, vault, target }) => {
      const now = new Date();
      progress(`planting ${opts.count} canaries in ${hospital.name}…`);
      // Without --ward, each canary's ward is drawn in proportion to the real births per ward.
      const counted = opts.ward ? { births: null, warnings: [] } : await realBirthsPerWard(vault, target, hospital, mapping);
      const result = await plantCanaries(vault, target, {
        hospital,
        mapping,
        count: opts.count,
        ward: opts.ward,
        wardBirths: counted.births,
        channels: opts.channel ?? [hospital.seedChannel],
        seed: opts.seed,
        dryRun: !!opts.dryRun,
        now,
        isoWeek: isoWeekOf(now, hospital.timeZone),
        ...birthWindow(now),
        onProgress: (done, total) => progress(`planting ${total} canaries in ${hospital.name}`, done / total),
      });
      progressDone();
      result.warnings.unshift(...counted.warnings);
      const data = { hospital: hospital.name, batchId: result.batchId, dryRun: result.dryRun, channels: result.channels, canaries: result.planted.map(canarySummary), warnings: result.warnings };
      emit(!!opts.json, data, () => [
        result.dryRun ? `dry run: would plant ${result.planted.length} canaries (nothing written)` : `planted ${result.planted.length} canaries in ${hospital.name} (batch ${result.batchId})`,
        `exposed to: ${result.channels.join(', ')}`,
        canaryTable(result.planted),
        ...(result.dryRun ? result.planted.flatMap((p) => [`\n${p.id}:`, ...Object.entries(p.rows ?? {}).map(([t, row]) => `  INSERT INTO ${t} ${JSON.stringify(row)}`)]) : []),
        ...result.warnings.map((w) => `warning: ${w}`),
      ]);
    }));

  program
    .command('rotate')
    .description("schedule this week's canaries per the config's rotation plan (written by `canaries advance`); retire last week's in the vault")
    .option('--week <yyyy-Www>', 'ISO week (default: the current week in the hospital\'s time zone)', isoWeekArg)
    .option('--seed <seed>', 'make the generated families reproducible')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nExamples:\n  cradle rotate\n  cradle rotate --week 2026-W48 --json\n\n' +
        'The plan: rotation.perWeek canaries shared among the wards in proportion to the real births per ward in the\n' +
        'target (allocation "births", the default), every ward getting at least rotation.minPerWard (default 1) so\n' +
        'that every ward channel stays covered; a small ward is over-represented when the weekly total is small\n' +
        '(46/46/8% births, 7 a week: 3/3/1). allocation "equal" gives every ward the same; rotation.perWard is an\n' +
        'explicit plan. The first run of a week fixes its plan.\n\n' +
        'A rotation drafts the week\'s canary families with their admission, birth and discharge in the coming\n' +
        'days and records them in the vault; it writes nothing to the target. `cradle canaries advance`, run\n' +
        'every few minutes, writes each event when it is due, as the hospital\'s system would. Running the\n' +
        'rotation again for the same week schedules nothing new. Cron (see README for a systemd timer):\n' +
        '  0 6 * * 1    cd /srv/cradle && npx cradle rotate\n' +
        '  */5 * * * *  cd /srv/cradle && npx cradle canaries advance',
    )
    .action(hospitalAction<RotateOptions>(async ({ opts, hospital, mapping, vault, target }) => {
      const now = new Date();
      const week = opts.week ?? isoWeekOf(now, hospital.timeZone);
      progress(`rotating ${hospital.name} for ${week}…`);
      const result = await rotate(vault, target, { hospital, mapping, week, now, seed: opts.seed });
      progressDone();
      const planted = result.plantedNow.flatMap((p) => p.canaries);
      const data = {
        hospital: hospital.name,
        week: result.week,
        plan: result.plan,
        planted: planted.length,
        scheduled: planted.length,
        alreadyComplete: result.alreadyComplete && planted.length === 0,
        retired: result.retired,
        canaries: planted.map(canarySummary),
        warnings: result.warnings,
      };
      emit(!!opts.json, data, () => [
        data.alreadyComplete
          ? `rotation ${week} for ${hospital.name} was already done; nothing new scheduled`
          : `rotation ${week} for ${hospital.name}: scheduled ${planted.length} canaries (${Object.entries(result.plan).map(([w, n]) => `${w} ${n}`).join(', ')}); \`cradle canaries advance\` writes each admission, birth and discharge when it is due`,
        `retired ${result.retired} canaries of earlier weeks (they stay in the target and stay watched)`,
        ...(planted.length ? [canaryTable(planted)] : []),
        ...result.warnings.map((w) => `warning: ${w}`),
      ]);
    }));
  onAction(program.commands.slice(first), load);
}
