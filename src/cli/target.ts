import type { Command } from 'commander';
import type * as ConfigModule from '../config/index.js';
import type * as Db from '../db/index.js';
import { UserError } from '../lib/errors.js';
import { DEFAULT_K } from '../profile/defaults.js';
import type * as Learn from '../profile/learn.js';
import type * as Summary from '../profile/summary.js';
import type * as Check from '../targetdb/check.js';
import type * as MappingModule from '../targetdb/mapping.js';
import type * as Vault from '../vault/index.js';
import { kArg } from './args.js';
import { action, onAction, readConfig, withHospital, withTarget, withVault, type JsonOption } from './context.js';
import { emit, progress, progressDone, table } from './output.js';

// The actions' modules, loaded when one of these commands runs (src/cli/context.ts).
let hospitalWarnings: typeof ConfigModule.hospitalWarnings;
let selectHospital: typeof ConfigModule.selectHospital;
let readOnly: typeof Db.readOnly;
let learnProfile: typeof Learn.learnProfile;
let mappingSha256: typeof Learn.mappingSha256;
let profileSummary: typeof Summary.profileSummary;
let checkTarget: typeof Check.checkTarget;
let loadMapping: typeof MappingModule.loadMapping;
let latestProfile: typeof Vault.latestProfile;
let saveProfile: typeof Vault.saveProfile;
async function load(): Promise<void> {
  const [config, db, learn, summary, check, mapping, vault] = [
    await import('../config/index.js'),
    await import('../db/index.js'),
    await import('../profile/learn.js'),
    await import('../profile/summary.js'),
    await import('../targetdb/check.js'),
    await import('../targetdb/mapping.js'),
    await import('../vault/index.js'),
  ];
  ({ hospitalWarnings, selectHospital } = config);
  ({ readOnly } = db);
  ({ learnProfile, mappingSha256 } = learn);
  ({ profileSummary } = summary);
  ({ checkTarget } = check);
  ({ loadMapping } = mapping);
  ({ latestProfile, saveProfile } = vault);
}

interface ProfileOptions extends JsonOption {
  k?: number;
  show?: boolean;
}

export function registerTarget(program: Command): void {
  const first = program.commands.length;
  const target = program.command('target').description("the hospital's newborn-records database, as the mapping describes it");

  target
    .command('check')
    .description('validate the mapping against the live target schema (and warn about config the target depends on, e.g. nicuWards)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  cradle target check\n  cradle target check --target postgres://cradle@db.example.org/his --hospital gulou')
    .action(action<JsonOption>((opts) => withTarget(opts, async ({ config, hospital, mapping, target: db }) => {
      // The config's advice first (e.g. nicuWards not declared while a ward looks neonatal), then the mapping's fit.
      const advice = hospitalWarnings(config, hospital).map((message) => ({ level: 'warning' as const, where: 'config', message }));
      const problems = [...advice, ...(await readOnly(db, (tx) => checkTarget(tx, mapping, { locale: hospital.locale })))];
      const errors = problems.filter((p) => p.level === 'error');
      emit(!!opts.json, { hospital: hospital.name, target: db.label, mapping: mapping.source, ok: errors.length === 0, problems }, () => [
        ...problems.map((p) => `${p.level}: ${p.where}: ${p.message}`),
        errors.length ? `${errors.length} problem(s): the mapping ${mapping.source} does not fit ${db.label}` : `ok: ${mapping.source} fits ${db.label} (${mapping.inserts.length} tables)`,
      ]);
      if (errors.length) process.exitCode = 1;
    })));

  target
    .command('profile')
    .description("learn the hospital's profile from its real rows (read-only, aggregates only) and store it in the vault, dated; seeding draws canaries from the latest")
    .option('--k <n>', `keep a value only when at least n real families share it (at least 2; default: the config's profile.k, else ${DEFAULT_K})`, kArg)
    .option('--show', 'print the latest stored profile instead of learning one (reads only the vault)')
    .option('--json', 'print JSON (with --show: the whole profile document)')
    .addHelpText(
      'after',
      '\nExamples:\n  cradle target profile\n  cradle target profile --hospital gulou --k 10\n  cradle target profile --show\n  cradle target profile --show --json > profile.json',
    )
    .action(action<ProfileOptions>(async (opts) => {
      if (opts.show) {
        if (opts.k !== undefined) throw new UserError('--k applies when learning a profile, not with --show');
        await withVault(opts, async (vault, config) => {
          const hospital = selectHospital(config ?? readConfig(opts), opts.hospital);
          const stored = await latestProfile(vault, hospital.name);
          if (!stored) throw new UserError(`no profile of ${hospital.name} in the vault yet: learn one with \`cradle target profile${opts.hospital ? ` --hospital ${hospital.name}` : ''}\``);
          let stale = false;
          try {
            stale = mappingSha256(loadMapping(hospital.mappingFile)) !== stored.profile.mapping.sha256;
          } catch {
            stale = false;
          }
          if (opts.json) {
            emit(true, stored.profile, () => []);
            return;
          }
          const { heading, rows } = profileSummary(stored.profile);
          emit(false, null, () => [
            `profile #${stored.id}: ${heading[0]}`,
            heading[1],
            ...(stale ? [`warning: the mapping ${hospital.mappingFile} changed since; learn the profile again with \`cradle target profile\``] : []),
            '',
            table(['column', 'type', 'null', 'what it holds'], rows),
          ]);
        }, { configRequired: true });
        return;
      }
      await withHospital(opts, async ({ hospital, mapping, target: db, vault }) => {
        const k = opts.k ?? hospital.profileK ?? DEFAULT_K;
        const profile = await readOnly(db, (tx) =>
          learnProfile(tx, mapping, { hospital: hospital.name, k, timeZone: mapping.timeZone ?? hospital.timeZone, onProgress: (m) => progress(`profiling ${hospital.name}: ${m}`) }),
        );
        progressDone();
        const id = await saveProfile(vault, profile);
        const { heading, rows } = profileSummary(profile);
        emit(!!opts.json, { id, hospital: hospital.name, learnedAt: profile.learnedAt, families: profile.families, k: profile.k, mappingSha256: profile.mapping.sha256, columns: Object.keys(profile.columns).length }, () => [
          `stored profile #${id}: ${heading[0]}`,
          heading[1],
          '',
          table(['column', 'type', 'null', 'what it holds'], rows),
        ]);
      });
    }));
  onAction(program.commands.slice(first), load);
}
