import type { Command } from 'commander';
import { hospitalWarnings } from '../config/index.js';
import { readOnly } from '../db/index.js';
import { checkTarget } from '../targetdb/check.js';
import { action, withTarget, type JsonOption } from './context.js';
import { emit } from './output.js';

export function registerTarget(program: Command): void {
  const target = program.command('target').description("the hospital's newborn-records database, as the mapping describes it");

  target
    .command('check')
    .description('validate the mapping against the live target schema (and warn about config the target depends on, e.g. nicuWards)')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  cradle target check\n  cradle target check --target postgres://cradle@db.example.org/his --hospital gulou')
    .action(action<JsonOption>((opts) => withTarget(opts, async ({ config, hospital, mapping, target: db }) => {
      // The config's advice first (e.g. nicuWards not declared while a ward looks neonatal), then the mapping's fit.
      const advice = hospitalWarnings(config, hospital).map((message) => ({ level: 'warning' as const, where: 'config', message }));
      const problems = [...advice, ...(await readOnly(db, (tx) => checkTarget(tx, mapping)))];
      const errors = problems.filter((p) => p.level === 'error');
      emit(!!opts.json, { hospital: hospital.name, target: db.label, mapping: mapping.source, ok: errors.length === 0, problems }, () => [
        ...problems.map((p) => `${p.level}: ${p.where}: ${p.message}`),
        errors.length ? `${errors.length} problem(s): the mapping ${mapping.source} does not fit ${db.label}` : `ok: ${mapping.source} fits ${db.label} (${mapping.inserts.length} tables)`,
      ]);
      if (errors.length) process.exitCode = 1;
    })));
}
