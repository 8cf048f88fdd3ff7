import type { Command } from 'commander';
import { regionOfLocale, type TrapNumberState } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import type * as Numbers from '../pool/numbers.js';
import type * as Plan from '../pool/plan.js';
import type * as Generate from '../lib/generate/index.js';
import type * as Time from '../lib/time.js';
import type * as Vault from '../vault/index.js';
import type { Database } from '../db/index.js';
import type * as ConfigModule from '../config/index.js';
import { DEFAULT_BURN_IN_DAYS } from '../config/file.js';
import { action, hospitalFilter, namedHospital, onAction, vaultAction, withVault, type JsonOption } from './context.js';
import { inputLabel, readInput } from './input.js';
import { emit, isoDate, table } from './output.js';
import { numbersPerCanaryArg, oneOf, positiveInt, wholeNumber } from './args.js';

// The actions' modules, loaded when one of these commands runs (src/cli/context.ts); the number
// parsing and durations only by the commands that add (`pool list` starts sooner without them).
let vault: typeof Vault;
let defaultHospital: typeof ConfigModule.defaultHospital;
let canariesPerWeek: typeof ConfigModule.canariesPerWeek;
const planner = (): Promise<typeof Plan> => import('../pool/plan.js');
const sharing = async () => ({ ...(await import('../pool/share.js')), ...(await import('../workflows/pool-accuracy.js')) });
const locales = (): Promise<typeof Generate> => import('../lib/generate/index.js');
async function load(): Promise<void> {
  [vault, { defaultHospital, canariesPerWeek }] = [await import('../vault/index.js'), await import('../config/index.js')];
}
const numbers = (): Promise<typeof Numbers> => import('../pool/numbers.js');

interface AddOptions extends JsonOption {
  file: string;
  burnIn?: string;
  region?: string;
  note?: string;
}

interface PlanOptions extends JsonOption {
  perWeek?: number;
  exportsPerWeek: number;
  exportCanaries: number;
  numbersPerCanary?: number;
  cooldownDays?: number;
  weeks: number;
  shared?: boolean;
  numbers?: number;
  runs: number;
}

interface ListOptions extends JsonOption {
  state?: TrapNumberState;
}

/** One `cradle: warning:` line on standard error per hospital whose real patients' segments the pool cannot match. */
function warnSegments(checks: readonly Vault.PoolSegmentCheck[]): void {
  for (const c of checks) if (c.warning) process.stderr.write(`cradle: warning: ${c.warning}\n`);
}

export function registerPool(program: Command): void {
  const first = program.commands.length;
  const pool = program.command('pool').description('the trap pool: phone numbers and e-mail domains the security team controls');

  pool
    .command('add')
    .description('add trap phone numbers from a file (one per line; # comments allowed)')
    .requiredOption('--file <file>', 'file of phone numbers, or - for standard input')
    .option('--burn-in <duration>', `watch the numbers for background calls this long before use; 0 to use them at once (default: the hospital's pool.burnInDays, else ${DEFAULT_BURN_IN_DAYS}d)`)
    .option('--region <CC>', 'country for numbers written without +code (default: from the hospital locale, else CN)')
    .option('--note <text>', 'where the numbers came from (carrier, contract)')
    .option('--json', 'print JSON')
    .addHelpText('after', `\nExamples:\n  cradle pool add --file numbers.txt\n  cradle pool add --file new-sims.txt --burn-in 21d --hospital gulou\n  cradle pool add --file test-sims.txt --burn-in 0\n\nNew numbers start in burn-in (${DEFAULT_BURN_IN_DAYS} days unless the config's pool.burnInDays or --burn-in says\notherwise): contacts they get are recorded but reach no canary, and a number's background calls\nlower the weight of its later hits. --burn-in 0 makes them available at once.\n\nWith --hospital the numbers are that hospital's share; without it they are shared by all.\n\nWhere a profile is stored (cradle target profile), a warning on standard error gives the share of the\nhospital's real patients' numbers in mobile segments the pool has none of (10% or more), and --json\ncarries the figures as "segments".`)
    .action(action<AddOptions>(async (opts) => {
      const file = opts.file;
      const text = readInput(file).toString('utf8');
      const [{ parseNumberFile }, { parseDuration }]: [typeof Numbers, typeof Time] = [await numbers(), await import('../lib/time.js')];
      const given = opts.burnIn === undefined ? null : parseDuration(opts.burnIn);
      await withVault(opts, async (db, config) => {
        const hospital = namedHospital(opts, config);
        const burnInMs = given ?? ((hospital ?? defaultHospital(config))?.burnInDays ?? DEFAULT_BURN_IN_DAYS) * 86_400_000;
        // Numbers without +code are read in the hospital's locale: the named one's, else the default one's, else zh-CN.
        const defaultRegion = opts.region?.toUpperCase() ?? regionOfLocale(hospital?.locale ?? defaultHospital(config)?.locale ?? 'zh-CN');
        const parsed = parseNumberFile(text, defaultRegion);
        const label = inputLabel(file);
        if (parsed.invalid.length) {
          // Nothing is added when any line is bad: fix the file and run again.
          throw new UserError(parsed.invalid.map((p) => `${label}:${p.line}: "${p.text}": ${p.reason}`).join('\n') + `\n${parsed.invalid.length} invalid line(s); nothing was added`);
        }
        if (parsed.numbers.length === 0) throw new UserError(`${label}: no phone numbers found`);
        const burnInUntil = burnInMs ? new Date(Date.now() + burnInMs) : null;
        const res = await db.transaction((tx) => vault.addTrapNumbers(tx, parsed.numbers, { hospital: hospital?.name ?? null, burnInUntil, note: opts.note }));
        const lineOf = new Map(parsed.numbers.map((n) => [n.e164, n.line]));
        const data = {
          added: res.added.length,
          state: burnInUntil ? 'burn_in' : 'available',
          burnInUntil: burnInUntil?.toISOString() ?? null,
          hospital: hospital?.name ?? null,
          alreadyInPool: res.existing.map((e164) => ({ line: lineOf.get(e164), e164 })),
          repeatedInFile: parsed.repeated,
          segments: await vault.poolSegmentChecks(db, hospital?.name),
        };
        warnSegments(data.segments);
        emit(!!opts.json, data, () => [
          `added ${data.added} number(s) to the ${hospital ? `${hospital.name} share of the ` : ''}pool as ${data.state}${burnInUntil ? ` until ${isoDate(burnInUntil)}` : ''}`,
          ...data.alreadyInPool.map((d) => `${label}:${d.line}: ${d.e164} is already in the pool (skipped)`),
          ...data.repeatedInFile.map((d) => `${label}:${d.line}: ${d.e164} repeats line ${d.firstLine} (skipped)`),
        ]);
      });
    }));

  pool
    .command('add-domain <domain>')
    .description('register an e-mail domain whose mailboxes Cradle may invent for canaries')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExample:\n  cradle pool add-domain trap.example.org')
    .action(action<JsonOption, [string]>(async (opts, domainText) => {
      const domain = (await numbers()).normaliseDomain(domainText);
      if (!domain) throw new UserError(`"${domainText}" is not a domain name (e.g. trap.example.org)`);
      await withVault(opts, async (db, config) => {
        const hospital = hospitalFilter(opts, config) ?? null;
        const added = await vault.addTrapDomain(db, domain, hospital);
        const owner = (await vault.trapDomains(db)).find((d) => d.domain === domain)?.hospital ?? null;
        emit(!!opts.json, { domain, added, hospital: owner }, () => (added ? `added trap domain ${domain}` : `${domain} is already a trap domain${owner ? ` (of ${owner})` : ''}`));
      });
    }));

  pool
    .command('plan')
    .description('how many trap numbers a rotation and export plan needs over time, week by week, against the pool')
    .option('--per-week <n>', "rotation canaries a week (default: the hospital's rotation plan)", wholeNumber)
    .option('--exports-per-week <n>', 'exports written a week', wholeNumber, 0)
    .option('--export-canaries <k>', 'canaries each export takes', positiveInt, 3)
    .option('--numbers-per-canary <x>', "trap numbers a canary holds, 1 to 2 (default: the hospital's canaries so far, else its locale's families and pool.fatherNumbers)", numbersPerCanaryArg)
    .option('--cooldown-days <d>', "days a retired number rests (default: the hospital's pool.cooldownDays)", wholeNumber)
    .option('--weeks <n>', 'weeks to simulate', positiveInt, 104)
    .option('--shared', 'also simulate shared numbers: the numbers the plan needs that way, and the attribution accuracy it buys')
    .option('--numbers <n>', 'with --shared: the shared pool to simulate (default: the pool)', positiveInt)
    .option('--runs <n>', 'with --shared: simulated leaks (each traced; about 40 ms each)', positiveInt, 200)
    .option('--json', 'print JSON')
    .addHelpText('after', `
Each rotation canary holds its numbers until the next week's rotation retires it; they then rest for
the cool-down before a new canary may take them. Each export canary keeps its numbers for good. The
plan needs, at any week, the numbers held plus those resting; the pool is the hospital's numbers and
the shared ones, blocked ones aside.

With --shared, the plan is also played on shared numbers (docs/trace.md, "Shared trap numbers"): one
canary a week on each of --per-week wards, the exports each a channel, one number a canary, a number
going to a canary only if no canary of its ward or export held it in the last 30 days. It gives the
fewest numbers that never run short that way, and, on --numbers (default the pool), how often the
trace names the source of simulated leaks first (seeded: the same figures every run), with half the
contacts naming the family and with none.

Examples:
  cradle pool plan
  cradle pool plan --per-week 7 --exports-per-week 5 --export-canaries 3 --weeks 104
  cradle pool plan --per-week 7 --exports-per-week 5 --export-canaries 3 --shared --numbers 30
  cradle pool plan --numbers-per-canary 1 --cooldown-days 180 --json`)
    .action(vaultAction<PlanOptions>(async ({ opts, db, config }) => {
      const h = namedHospital(opts, config) ?? defaultHospital(config);
      const perWeek = opts.perWeek ?? (h ? canariesPerWeek(h) : undefined);
      if (perWeek === undefined) throw new UserError('no rotation plan to measure: give --per-week, or a config whose hospital has rotation.perWeek or rotation.perWard');
      const cooldownDays = opts.cooldownDays ?? h?.cooldownDays ?? 730;
      const supply = h ? await vault.poolSupply(db, h.name, perWeek) : null;
      let numbersPerCanary = opts.numbersPerCanary;
      let rate = 'given';
      if (numbersPerCanary === undefined && supply && supply.canaries > 0) [numbersPerCanary, rate] = [supply.numbersPerCanary, `${supply.canaries} canaries so far`];
      if (numbersPerCanary === undefined) {
        const t = (await locales()).localeTables(h?.locale ?? 'zh-CN');
        numbersPerCanary = h?.fatherNumbers === 'mother' ? 1 : t.motherPhoneShare + t.fatherShare * t.fatherPhoneShare;
        rate = `${h?.locale ?? 'zh-CN'} families${h?.fatherNumbers === 'mother' ? ', fathers with the mother\'s number' : ''}`;
      }
      const counts = await vault.poolCounts(db, h?.name);
      const pool = Object.values(counts).reduce((a, b) => a + b, 0) - counts.blocked;
      const plan = { rotationPerWeek: perWeek, exportsPerWeek: opts.exportsPerWeek, canariesPerExport: opts.exportCanaries, numbersPerCanary: Math.round(numbersPerCanary * 100) / 100, cooldownDays, weeks: opts.weeks };
      const result = (await planner()).simulatePoolPlan(plan, pool);
      const accuracy = opts.shared ? await sharedAccuracy({ wards: perWeek, exportsPerWeek: opts.exportsPerWeek, canariesPerExport: opts.exportCanaries, weeks: opts.weeks }, opts.numbers ?? pool, opts.runs) : null;
      const data = { hospital: h?.name ?? null, plan: { ...plan, numbersPerCanaryFrom: rate }, pool, ...result, accuracy };
      emit(!!opts.json, data, () => [
        `plan: ${perWeek} rotation canar${perWeek === 1 ? 'y' : 'ies'} a week, ${plan.exportsPerWeek} export${plan.exportsPerWeek === 1 ? '' : 's'} a week × ${plan.canariesPerExport} canaries, ${plan.numbersPerCanary} number${plan.numbersPerCanary === 1 ? '' : 's'} a canary (${rate}), cool-down ${cooldownDays} days, ${plan.weeks} weeks`,
        `needs: ${result.peak} numbers at most, taking ${result.perWeek} a week`,
        `pool: ${pool} numbers (blocked ones aside): ${result.shortFrom === null ? `enough for the ${plan.weeks} weeks` : `short from week ${result.shortFrom + 1}`}`,
        table(['WEEK', 'HELD', 'RESTING', 'NEEDED'], result.sample.map((w) => [w.week + 1, w.held, w.resting, w.needed])),
        ...(accuracy
          ? [
              `shared numbers: the plan needs ${accuracy.numbersNeeded} at least; on ${accuracy.numbers}${accuracy.short ? `, ${accuracy.short} canaries get none (short)` : ''}:`,
              ...accuracy.figures.map((f) => `  ${f.nameShare === 0 ? 'no contact names the family' : `${Math.round(f.nameShare * 100)}% of contacts name the family`}: source first in ${f.telling ? `${pct(f.firstWhenTelling)} of the ${f.telling} of ${f.runs} leaks that can tell it` : `none of ${f.runs} leaks can tell it`}, ${pct(f.firstOverall)} of all; ${f.meanSet.toFixed(0)} candidates a contact that names no family`),
            ]
          : ['attribution accuracy: simulated with --shared (shared numbers; exclusive ones resolve every contact)']),
      ]);
    }));

  pool
    .command('list')
    .description('list trap numbers with their state, and the trap domains')
    .option('--state <state>', 'only numbers in this state (burn_in, available, assigned, retired, blocked)', oneOf<TrapNumberState>('burn_in', 'available', 'assigned', 'retired', 'blocked'))
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  cradle pool list\n  cradle pool list --state available --json\n\nWhere a profile is stored (cradle target profile), a warning on standard error gives the share of the\nhospital\'s real patients\' numbers in mobile segments the pool has none of (10% or more), and --json\ncarries the figures as "segments".')
    .action(vaultAction<ListOptions>(async ({ opts, db, config }) => {
      // A read-only command: the pool as refreshPool would leave it now (burn-ins and cool-downs that
      // have ended show as available), computed without writing; seeding writes the refresh.
      const now = new Date();
      const hospital = hospitalFilter(opts, config);
      const numbers = await vault.listTrapNumbers(db, { hospital, state: opts.state, asOf: now });
      const counts = await vault.poolCounts(db, hospital, now);
      const domains = await vault.trapDomains(db, hospital);
      const data = {
        counts,
        numbers: numbers.map((n) => ({
          e164: n.e164,
          region: n.region,
          hospital: n.hospital,
          state: n.state,
          since: n.added_at,
          burnInUntil: n.burn_in_until,
          cooldownUntil: n.cooldown_until,
          canary: n.canary_id,
          note: n.note,
        })),
        domains: domains.map((d) => ({ domain: d.domain, hospital: d.hospital })),
        segments: await vault.poolSegmentChecks(db, hospital),
        supply: await supplyOf(db, namedHospital(opts, config) ?? defaultHospital(config), now),
      };
      warnSegments(data.segments);
      if (data.supply?.low) {
        process.stderr.write(`cradle: warning: the pool holds ${data.supply.weeks} week${data.supply.weeks === 1 ? '' : 's'} of ${data.supply.hospital}'s rotation plan, fewer than ${vault.POOL_WEEKS_WANTED}: add numbers now (cradle pool add), new ones need their burn-in\n`);
      }
      emit(!!opts.json, data, () => [
        `numbers: ${Object.entries(counts).map(([s, n]) => `${n} ${s}`).join(', ')}`,
        numbers.length ? table(['NUMBER', 'STATE', 'SHARE', 'UNTIL', 'CANARY'], numbers.map((n) => [n.e164, n.state, n.hospital ?? 'shared', isoDate(n.burn_in_until ?? n.cooldown_until), n.canary_id])) : '(no numbers)',
        `domains: ${domains.length ? domains.map((d) => d.domain).join(', ') : '(none)'}`,
        ...(data.supply
          ? [supplyLine(data.supply)]
          : []),
      ]);
    }));
  onAction(program.commands.slice(first), load);
}

/** The weeks of the hospital's rotation plan the pool covers (src/pool/supply.ts); null without a hospital or a plan. */
async function supplyOf(db: Database, h: ConfigModule.HospitalConfig | null, now: Date) {
  const plan = h ? canariesPerWeek(h) : 0;
  if (!h || plan === 0) return null;
  const s = await (await import('../pool/supply.js')).planSupply(db, h, plan, now);
  return { hospital: h.name, canariesPerWeek: plan, numbersPerCanary: Math.round(s.numbersPerCanary * 100) / 100, numbersPerWeek: s.perWeek, numbers: s.supply, weeks: s.weeksLeft!, sharing: s.sharing, numbersNeeded: s.numbersNeeded, horizon: s.horizon, low: s.low };
}

function supplyLine(s: NonNullable<Awaited<ReturnType<typeof supplyOf>>>): string {
  const plan = `${s.hospital}'s rotation plan (${s.canariesPerWeek} canar${s.canariesPerWeek === 1 ? 'y' : 'ies'} a week`;
  const weeks = `${s.weeks} week${s.weeks === 1 ? '' : 's'}`;
  if (s.sharing === 'shared') {
    // Shared numbers are reused, not used up: the plan played on the pool, as `pool plan --shared` plays it.
    return `supply: ${s.numbers} shared numbers (blocked ones aside); ${plan}) needs ${s.numbersNeeded} that way: ${s.weeks >= s.horizon! ? `enough for the ${s.horizon} weeks simulated` : `short from week ${s.weeks + 1}: enough for ${weeks}`}`;
  }
  return `supply: ${s.numbers} numbers available or in burn-in; ${plan}, ${s.numbersPerCanary} number${s.numbersPerCanary === 1 ? '' : 's'} each so far) takes ${s.numbersPerWeek} a week: enough for ${weeks}`;
}

const pct = (x: number) => `${(100 * x).toFixed(1)}%`;

/** The plan on a shared pool of `numbers` (src/pool/share.ts), traced (src/workflows/pool-accuracy.ts). */
async function sharedAccuracy(plan: { wards: number; exportsPerWeek: number; canariesPerExport: number; weeks: number }, numbers: number, runs: number) {
  const s = await sharing();
  const full = s.sharingPlanOf({ ...plan, perWeek: plan.wards });
  if (full.wards === 0 && full.exportsPerWeek === 0) throw new UserError('nothing to simulate: the plan has no rotation canaries and no exports');
  const { world, numbersNeeded, short } = s.sharedSupply(full, numbers);
  const figures = [0.5, 0].map((nameShare) => {
    const r = s.accuracyOfSharing(world, { runs, nameShare, seed: `pool-plan:${nameShare}` });
    return { nameShare, runs: r.runs, telling: r.telling, firstWhenTelling: r.firstWhenTelling, firstOverall: r.firstOverall, meanSet: r.meanSet };
  });
  return { numbers, numbersNeeded, short, accountsPerWard: full.accountsPerWard, figures };
}
