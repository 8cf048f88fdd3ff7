import { parseArgs, UsageError } from './args.js';
import { runRegionalYear } from '../test/helpers/regional-year.js';
import { buildFeatures, formatThiefReport, knnAuc, thief, uniform, type DumpRow } from '../test/helpers/thief.js';
import path from 'node:path';
import { REGIONAL_DIR, type Numbering } from '../test/fixtures/regional/hospital.js';
import { realismAudit } from '../src/realism/audit.js';

// `npm run bench:realism`: a year of the regional hospital (test/fixtures/regional, not Cradle's
// mirror) with `rotate` run every Monday at 03:00 as its cron job would (10 canaries a week, 520 in all),
// the hospital's own events written in time order around it; then the thief (test/helpers/thief.ts)
// gets the dump and tries to tell canaries from real rows. Figures are printed, never asserted.
//
//   node dist/bench/realism.js [--families N] [--seed S] [--numbering max|counter] [--after N] [--full] [--tick-minutes M | --tick-hours H] [--json]

const USAGE = 'usage: node dist/bench/realism.js [--families N] [--seed S] [--numbering max|counter] [--after N] [--full] [--tick-minutes M | --tick-hours H] [--json]';

interface Flags {
  families: number;
  after: number;
  seed: string;
  numbering: Numbering;
  json: boolean;
  /** Cradle as it can be run now: mapping-full.json, installed on 1 March, profile monthly, advance every 5 minutes. */
  full: boolean;
  /** With --full: minutes between the cron ticks that run `canaries advance` (default 5, as deploy/systemd/cradle-advance.timer). */
  tickMinutes: number;
}

const share = (rows: DumpRow[], f: (r: DumpRow) => boolean) => (rows.length ? rows.filter(f).length / rows.length : NaN);
const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / Math.max(1, xs.length);
const pct = (x: number) => `${(100 * x).toFixed(1)} %`;

/** A few plain comparisons a reader can check by eye (canaries against real rows). */
function compare(real: DumpRow[], canaries: DumpRow[]): [string, string, string][] {
  const s = (r: DumpRow, c: string) => (typeof r[c] === 'string' ? (r[c] as string) : '');
  const nicu = (rows: DumpRow[]) => rows.filter((r) => r['XSE_XX.KSMC'] === '新生儿科');
  const lines: [string, (rows: DumpRow[]) => string][] = [
    ['surname 李', (rows) => pct(share(rows, (r) => s(r, 'ZY_MQXX.XM').startsWith('李')))],
    ['reduplicated mother name', (rows) => pct(share(rows, (r) => { const x = [...s(r, 'ZY_MQXX.XM')]; return x.length === 3 && x[1] === x[2]; }))],
    ['address with 街道 or 镇', (rows) => pct(share(rows, (r) => /街道|镇/.test(s(r, 'ZY_MQXX.JTDZ'))))],
    ['admitted on the minute (ss = 00)', (rows) => pct(share(rows, (r) => s(r, 'ZY_MQXX.RYSJ').endsWith(':00')))],
    ['weight a multiple of 10 g', (rows) => pct(share(rows, (r) => typeof r['XSE_XX.TZ'] === 'number' && (r['XSE_XX.TZ'] as number) % 10 === 0))],
    ['ID-card number missing', (rows) => pct(share(rows, (r) => !r['ZY_MQXX.SFZH']))],
    ['never discharged', (rows) => pct(share(rows, (r) => !r['ZY_MQXX.CYSJ']))],
    ['新生儿科 share', (rows) => pct(nicu(rows).length / Math.max(1, rows.length))],
    ['新生儿科 mean weight', (rows) => `${mean(nicu(rows).map((r) => Number(r['XSE_XX.TZ']))).toFixed(0)} g`],
    ['新生儿科 under 2,500 g', (rows) => pct(share(nicu(rows), (r) => Number(r['XSE_XX.TZ']) < 2500))],
  ];
  return lines.map(([what, f]) => [what, f(real), f(canaries)]);
}

async function main(): Promise<void> {
  const flags: Flags = { families: 4000, after: 300, seed: 'regional', numbering: 'max', json: false, full: false, tickMinutes: 5 };
  parseArgs(process.argv.slice(2), flags, { '--families': 'families', '--after': 'after' }, USAGE, (name, value) => {
    if (name === '--seed') flags.seed = value();
    else if (name === '--numbering') {
      const v = value();
      if (v !== 'max' && v !== 'counter') throw new UsageError(`--numbering is max or counter\n${USAGE}`);
      flags.numbering = v;
    } else if (name === '--json') flags.json = true;
    else if (name === '--full') flags.full = true;
    else if (name === '--tick-hours' || name === '--tick-minutes') {
      const raw = value();
      const exact = Number(raw) * (name === '--tick-hours' ? 60 : 1);
      const minutes = Math.abs(exact - Math.round(exact)) < 1e-9 ? Math.round(exact) : exact;
      if (!(Number.isInteger(minutes) && minutes > 0 && 1440 % minutes === 0)) throw new UsageError(`${name} ${raw}: the ticks must fall on whole minutes that divide a day (--tick-minutes 5, --tick-hours 0.25, 1, 3, …)\n${USAGE}`);
      flags.tickMinutes = minutes;
    }
    else return false;
    return true;
  });
  const started = process.hrtime.bigint();
  const cpu0 = process.cpuUsage();
  const year = await runRegionalYear({
    seed: flags.seed,
    families: flags.families,
    numbering: flags.numbering,
    admitAfter: flags.after,
    ...(flags.full ? { mappingFile: path.join(REGIONAL_DIR, 'mapping-full.json'), installAt: '2025-03-01', tickMinutes: flags.tickMinutes } : {}),
  });
  const built = Number(process.hrtime.bigint() - started) / 1e9;
  try {
    const isCanary = (r: DumpRow) => year.canaryIds.has(Number(r['ZY_MQXX.ID']));
    const report = thief(year.dump, isCanary);
    // A second, different thief: k nearest neighbours over the same dump's features.
    const knn = knnAuc(buildFeatures(year.dump), year.dump.rows.map(isCanary));
    // control: as many real rows as there are canaries, picked at random, should give 0.5
    const rand = uniform(99);
    const real = year.dump.rows.filter((r) => !isCanary(r));
    const picked = new Set(real.map((r) => ({ id: Number(r['ZY_MQXX.ID']), k: rand() })).sort((a, b) => a.k - b.k).slice(0, year.canaryIds.size).map((x) => x.id));
    const control = thief({ columns: year.dump.columns, rows: real }, (r) => picked.has(Number(r['ZY_MQXX.ID'])), { bySource: false });
    // The same thieves over the rows written since Cradle's installation only (mother ID above the last one
    // written before it): no canary can be older, which no product change can hide, so the whole dump's
    // figure carries that tell; this one is what the product itself can still be judged on.
    const windowRows = year.dump.rows.filter((r) => Number(r['ZY_MQXX.ID']) > year.idBeforeInstall);
    const windowDump = { columns: year.dump.columns, rows: windowRows };
    const sinceInstall = year.idBeforeInstall > 0 ? (() => {
      const wReport = thief(windowDump, isCanary);
      const wKnn = knnAuc(buildFeatures(windowDump), windowRows.map(isCanary));
      const wReal = windowRows.filter((r) => !isCanary(r));
      const wRand = uniform(98);
      const wPicked = new Set(wReal.map((r) => ({ id: Number(r['ZY_MQXX.ID']), k: wRand() })).sort((a, b) => a.k - b.k).slice(0, year.canaryIds.size).map((x) => x.id));
      const wControl = thief({ columns: year.dump.columns, rows: wReal }, (r) => wPicked.has(Number(r['ZY_MQXX.ID'])), { bySource: false });
      return { idAbove: year.idBeforeInstall, report: wReport, knnAuc: wKnn, control: { typicalityAuc: wControl.typicalityAuc, supervisedAuc: wControl.supervisedAuc } };
    })() : null;
    // The product's own audit on the same vault and target, beside the independent thief's figure.
    const realism = await realismAudit(year.ctx.vault, year.ctx.target, { hospital: year.ctx.hospital, mapping: year.ctx.mapping, now: new Date('2026-01-01T00:00:00+08:00'), sample: 100, seed: flags.seed });
    const realismFigures = {
      planted: realism.planted?.classifier ?? null,
      sample: realism.sample?.classifier ?? null,
    };
    const cpu = process.cpuUsage(cpu0);
    const table = compare(year.dump.rows.filter((r) => !isCanary(r)), year.dump.rows.filter(isCanary));
    if (flags.json) {
      process.stdout.write(`${JSON.stringify({ families: flags.families, canaries: year.canaryIds.size, numbering: flags.numbering, report, knnAuc: knn, control: { typicalityAuc: control.typicalityAuc, supervisedAuc: control.supervisedAuc }, sinceInstall, realism: realismFigures, compare: table, collisionsDuringYear: year.ctx.sim.collisions, collisionsAfter: year.after.collisions, seconds: { year: built, cpu: (cpu.user + cpu.system) / 1e6 } }, null, 2)}\n`);
      return;
    }
    const lines = [
      `regional hospital: ${flags.families} families over 2025, ${year.canaryIds.size} canaries from 52 weekly rotations (numbering ${flags.numbering}); year built in ${built.toFixed(1)} s`,
      ...formatThiefReport(report),
      `  second thief, 25 nearest neighbours (L1 over rank-scaled features, 5-fold CV) ROC AUC  ${knn.toFixed(3)}`,
      `  control, ${picked.size} random real rows in place of the canaries: typicality ${control.typicalityAuc.toFixed(3)}, supervised ${control.supervisedAuc.toFixed(3)} (0.5 = an honest thief)`,
      ...(sinceInstall ? [
        `rows written since Cradle's installation only (ZY_MQXX.ID > ${sinceInstall.idAbove}; the whole dump's figures above keep the tell that no canary is older):`,
        ...formatThiefReport(sinceInstall.report).map((l) => `  ${l}`),
        `    second thief (kNN) ROC AUC  ${sinceInstall.knnAuc.toFixed(3)}`,
        `    control: typicality ${sinceInstall.control.typicalityAuc.toFixed(3)}, supervised ${sinceInstall.control.supervisedAuc.toFixed(3)}`,
      ] : []),
      ...(['planted', 'sample'] as const).map((k) => {
        const c = realismFigures[k];
        return `  cradle realism, ${k}: ${c ? `AUC ${c.auc.toFixed(3)} [${c.low.toFixed(3)}–${c.high.toFixed(3)}]` : 'not measured'}`;
      }),
      `    ${''.padEnd(34)} ${'real'.padStart(9)}  ${'canaries'.padStart(9)}`,
      ...table.map(([what, r, c]) => `    ${what.padEnd(34)} ${r.padStart(9)}  ${c.padStart(9)}`),
      `  keys: ${year.ctx.sim.collisions.length} of the hospital's admissions during the year and ${year.after.collisions.length} of its ${year.after.admitted.length + year.after.collisions.length} after it refused on a key a canary holds`,
      `  CPU ${((cpu.user + cpu.system) / 1e6).toFixed(1)} s`,
    ];
    process.stdout.write(`${lines.join('\n')}\n`);
  } finally {
    await year.close();
  }
}

main().catch((err: Error) => {
  process.stderr.write(`${err instanceof UsageError ? err.message : err.stack ?? err.message}\n`);
  process.exit(err instanceof UsageError ? 2 : 1);
});
