import type { Command } from 'commander';
import type * as Audit from '../realism/audit.js';
import type { RealismComparison, RealismReport } from '../realism/audit.js';
import { DEFAULT_REAL_ROWS, DEFAULT_WARN_ABOVE } from '../realism/defaults.js';
import { aucArg, countArg, positiveInt } from './args.js';
import { hospitalAction, onAction, type JsonOption } from './context.js';
import { emit, progress, progressDone, table } from './output.js';

// The action's modules, loaded when the command runs (src/cli/context.ts).
let realismAudit: typeof Audit.realismAudit;
async function load(): Promise<void> {
  ({ realismAudit } = await import('../realism/audit.js'));
}

// `cradle realism`: can a thief holding the target's table tell the canaries from the real families?
// Aggregates and column names only: no value of any row is printed.

interface RealismOptions extends JsonOption {
  sample: number;
  seed?: string;
  real: number;
  warnAbove?: number;
  failAbove?: number;
}

const fmtPair = (a: number, b: number, places: number) => (Number.isNaN(a) ? '' : `${a.toFixed(places)}/${b.toFixed(places)}`);
const p = (v: number) => (v < 0.0001 ? v.toExponential(1) : v.toFixed(4));

function comparisonLines(title: string, c: RealismComparison): string[] {
  const lines = [`${title}: ${c.canaries} canaries against ${c.real} real families, ${c.columns.length} columns${c.identifiers.length ? ` (${c.identifiers.length} identifiers compared by order)` : ''}`];
  const k = c.classifier;
  if (k) {
    lines.push(`  classifier ROC AUC ${k.auc.toFixed(3)} (95% CI ${k.low.toFixed(3)}–${k.high.toFixed(3)}, DeLong; ${k.folds}-fold stratified cross-validation, ${k.model}, ${k.features} features)`);
    if (k.topFeatures.length) lines.push(`  it relied most on: ${k.topFeatures.slice(0, 5).map((f) => `${f.feature} (${Math.round(f.share * 100)}%)`).join(', ')}`);
  }
  for (const n of c.notes) lines.push(`  note: ${n}`);
  const fields = c.fields.slice(0, 12);
  if (fields.length) {
    lines.push('  fields diverging most (distance: total variation for chi-square, D for KS; typicality: share of real rows holding a canary\'s value, against a real row\'s):');
    lines.push(
      table(
        ['FIELD', 'KIND', 'TEST', 'DISTANCE', 'P', 'NULL REAL/CANARY', 'TYPICAL CANARY/REAL', 'UNSEEN CANARY/UNIQUE REAL'],
        fields.map((f) => {
          const t = f.tests.filter((x) => x.df !== 0).sort((a, b) => b.distance - a.distance)[0] ?? f.tests[0];
          return [f.field, f.kind, `${t.test} on ${t.on}`, f.distance.toFixed(3), p(f.p), `${f.nullRate.real.toFixed(2)}/${f.nullRate.canary.toFixed(2)}`, fmtPair(f.typicality.canary, f.typicality.real, 3), fmtPair(f.typicality.canaryUnseen, f.typicality.realUnique, 2)];
        }),
      ).replace(/^/gm, '    '),
    );
  }
  const pairs = c.pairs.slice(0, 8);
  if (pairs.length) {
    lines.push('  pairs of dependent fields (joint bins, chi-square):');
    lines.push(table(['FIELDS', 'DEPENDENCE (V)', 'DISTANCE', 'P'], pairs.map((x) => [`${x.fields[0]} × ${x.fields[1]}`, x.dependence.toFixed(2), x.distance.toFixed(3), p(x.p)])).replace(/^/gm, '    '));
  }
  return lines;
}

export function realismLines(r: RealismReport): string[] {
  const lines = [`realism audit of ${r.hospital}`];
  if (r.planted) lines.push(...comparisonLines('planted canaries (read from the target by their keys)', r.planted));
  if (r.sample) lines.push(...comparisonLines('dry-run sample (drafted as the next rotation would, nothing written; columns the mapping fills; times by time of day, weekday, precision and gaps, not by date)', r.sample));
  for (const n of r.notes) lines.push(`note: ${n}`);
  lines.push(r.auc === null ? 'no classifier could be run: nothing to compare' : r.warning ? `WARNING: ${r.warning} (--warn-above ${r.warnAbove})` : `ok: ROC AUC ${r.auc.toFixed(3)}, at most ${r.warnAbove}`);
  return lines;
}

export function registerRealism(program: Command): void {
  const first = program.commands.length;
  program
    .command('realism')
    .description("compare the hospital's canaries with its real rows as a thief would: per-field and per-pair divergence, and a classifier's cross-validated ROC AUC")
    .option('--sample <n>', 'canaries to draft for the dry-run sample (0: none); nothing is written', countArg, 200)
    .option('--seed <seed>', 'make the sample, the folds and the subsets reproducible (the real rows are still a random sample drawn by the database)')
    .option('--real <n>', 'real families to sample from the target', positiveInt, DEFAULT_REAL_ROWS)
    .option('--warn-above <auc>', `print a WARNING when the ROC AUC is above this (default: the hospital's realism.warnAbove in the config, else ${DEFAULT_WARN_ABOVE})`, aucArg)
    .option('--fail-above <auc>', 'exit with code 1 when the ROC AUC is above this (for CI)', aucArg)
    .option('--json', 'print JSON')
    .addHelpText('after', `
Reads the target in read-only transactions and writes nothing anywhere. Two comparisons:
  planted   the canaries in the target (found by the keys the vault recorded when planting them),
            on every column of the mapping's tables, key order against time order included;
  sample    --sample canaries drafted as the next rotation would draft them (trap numbers from the
            pool, wards by the rotation plan, births in the past week) and rendered as the mapping
            writes them, on the columns the mapping fills. No trap number is assigned.
Each gets per-field tests (chi-square with p-value and total-variation distance for categories, text
shapes, precision and nulls; two-sample Kolmogorov–Smirnov D and p-value for numbers, times and
lengths), typicality (how common a canary's value is among the real rows against a real row's),
chi-square tests on the joint bins of the pairs of fields most dependent among the real rows, and a
classifier (gradient-boosted stumps on engineered features: value frequency, nulls, precision, time
of day, text shape and characters, id order against time) whose stratified 5-fold cross-validated
ROC AUC is given with its 95% DeLong confidence interval. The figure is the higher of the two AUCs:
above --warn-above (default: the hospital's realism.warnAbove, else ${DEFAULT_WARN_ABOVE}) a WARNING line is printed and the exit code stays 0; with
--fail-above the exit code is 1 above that figure. Only aggregates and column names are printed.

Examples:
  cradle realism
  cradle realism --hospital gulou --sample 500 --seed 1
  cradle realism --json | jq '.auc'
  cradle realism --sample 0 --fail-above 0.65      # in CI: fails when canaries are separable`)
    .action(hospitalAction<RealismOptions>(async ({ opts, hospital, mapping, vault, target }) => {
      progress(`comparing ${hospital.name}'s canaries with its real rows…`);
      const report = await realismAudit(vault, target, { hospital, mapping, now: new Date(), sample: opts.sample, seed: opts.seed, realRows: opts.real, warnAbove: opts.warnAbove });
      progressDone();
      emit(!!opts.json, report, () => realismLines(report));
      if (report.warning && opts.json) process.stderr.write(`cradle: WARNING: ${report.warning}\n`);
      if (opts.failAbove !== undefined && report.auc !== null && report.auc > opts.failAbove) process.exitCode = 1;
    }));
  onAction(program.commands.slice(first), load);
}
