import fs from 'node:fs';
import path from 'node:path';
import { performance } from 'node:perf_hooks';
import { UserError } from '../../src/lib/errors.js';
import { createRandom } from '../../src/lib/generate/random.js';
import { CI_LIMITS, mutateCase, type Limits, type Structure } from './mutate.js';

// The fuzz harness: mutated inputs through the library functions the CLI uses, against a real vault,
// each case checked against the rule for untrusted input (docs/fuzzing.md):
//   it ends in a stored result, a documented warning, or a one-line user error
//   — never another exception, a hang, a silent success with nothing stored and no warning, an
//   import left `running`, an answer that makes the sender retry forever, or time beyond its budget.

/** What a parser did with one input, as the target sees it. */
export type Outcome =
  | { kind: 'stored'; detail?: string }
  | { kind: 'warned'; detail?: string }
  | { kind: 'user-error'; message: string }
  /** A server's permanent refusal (HTTP 4xx, SMTP 5xx): the sender is told not to retry. */
  | { kind: 'refused'; detail: string }
  /** Findings a target reports itself. */
  | { kind: 'silent'; detail: string }
  | { kind: 'retry-forever'; detail: string }
  | { kind: 'unexpected'; message: string };

export type FindingKind = 'unexpected-error' | 'hang' | 'silent' | 'retry-forever' | 'running-import' | 'over-budget' | 'bad-error-message' | 'super-linear';

export interface Finding {
  parser: string;
  case: number;
  kind: FindingKind;
  shape: string[];
  bytes: number;
  ms: number;
  detail: string;
  /** Where the input was saved, when a findings directory was given. */
  file?: string;
}

/** A parser under fuzzing: its seeds, how to mutate them, and how to run one input. */
export interface FuzzTarget<Ctx = unknown> {
  name: string;
  structure: Structure;
  seeds(ctx: Ctx): Buffer[] | Promise<Buffer[]>;
  /** Once per run: the vault (one database per target), servers, files. */
  setup(): Promise<Ctx>;
  run(ctx: Ctx, input: Buffer, caseNo: number): Promise<Outcome>;
  /** After each case: a finding the outcome does not show (an import left `running`), or null. */
  check?(ctx: Ctx): Promise<string | null>;
  teardown(ctx: Ctx): Promise<void>;
  /** Errors the CLI turns into UserError before printing them (CdrRowError, EventError). */
  userErrors?: (abstract new (...args: never[]) => Error)[];
  /** Per-target budget, when its cases do more than parse (an HTTP round trip, an SMTP dialogue). */
  budget?: Partial<Budget>;
}

/**
 * Time budget of one case: base + perByte × input size. Base covers a vault transaction on PGlite on a
 * loaded machine; perByte is ~20x slower than the slowest parser's measured throughput, so only
 * super-linear work (or a stall) runs over. An over-budget case is timed once more before it counts.
 */
export interface Budget {
  baseMs: number;
  perByteUs: number;
  /** A case still running after this multiple of its budget (at least hangMinMs) is a hang. */
  hangFactor: number;
  hangMinMs: number;
}

export const DEFAULT_BUDGET: Budget = { baseMs: 1500, perByteUs: 20, hangFactor: 10, hangMinMs: 10_000 };

/** A target stops after this many hangs: each costs the hang limit, and one is enough to fail. */
export const MAX_HANGS = 3;

export function budgetMs(b: Budget, bytes: number): number {
  return b.baseMs + (b.perByteUs * bytes) / 1000;
}

export interface RunOptions {
  cases: number;
  seed: string;
  limits?: Limits;
  /** Save each finding's input here (a .bin and a .json beside it). */
  findingsDir?: string;
  /** Called after each case (progress). */
  onCase?: (n: number) => void;
}

export interface TargetReport {
  parser: string;
  cases: number;
  outcomes: Record<string, number>;
  findings: Finding[];
  totalMs: number;
  /** Sum over cases of time used / time budget, as a fraction of the whole budget. */
  budgetUsed: number;
  /** The largest single-case fraction of its budget. */
  worstBudget: number;
}

/** Read the environment's FUZZ_SEED / FUZZ_CASES (the CI default is fixed). */
export function envSeed(): string {
  return process.env.FUZZ_SEED ?? process.env.SEED ?? 'cradle-fuzz-1';
}

export function envCases(ciDefault: number): number {
  const n = Number(process.env.FUZZ_CASES ?? process.env.CASES);
  return Number.isFinite(n) && n > 0 ? Math.floor(n) : ciDefault;
}

// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const CONTROL = /[\u0000-\u0008\u000b-\u001f\u007f]/;
// eslint-disable-next-line no-control-regex -- control characters are what this looks for
const CONTROLS = /[\u0000-\u001f\u007f\ufffd]/g;

/** A user error must be short lines of text: no control characters, nothing huge echoed from the input. */
export function errorMessageProblem(message: string): string | null {
  if (CONTROL.test(message)) return 'raw control characters in the error message';
  if (message.length > 4000) return `error message of ${message.length} characters`;
  if (!message.trim()) return 'empty error message';
  return null;
}

class Timeout extends Error {}

async function withTimeout<T>(work: Promise<T>, ms: number): Promise<T> {
  let timer: NodeJS.Timeout | undefined;
  try {
    return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(new Timeout()), ms)))]);
  } finally {
    clearTimeout(timer);
  }
}

/** The shape of a message without its particulars, to group findings: numbers and quoted text elided. */
export function normalise(message: string): string {
  return message
    .replace(/(?:\/[^\s/:"']+)+\//g, '…/') // directories of scratch files
    .replace(/"(?:[^"\\]|\\.){0,200}"/g, '"…"')
    .replace(/'[^']{0,200}'/g, "'…'")
    .replace(/0x[0-9a-f]+/gi, '0x…')
    .replace(/\d+/g, 'N')
    .replace(/\s+/g, ' ')
    .slice(0, 160);
}

/** Findings grouped into classes: parser, kind and the normalised detail; with a count and an example. */
export function findingClasses(findings: readonly Finding[]): { key: string; parser: string; kind: FindingKind; count: number; example: Finding }[] {
  const classes = new Map<string, { key: string; parser: string; kind: FindingKind; count: number; example: Finding }>();
  for (const f of findings) {
    const detail = f.kind === 'bad-error-message' ? f.detail.replace(/ e\.g\. .*$/s, '') : f.detail;
    const key = `${f.parser} ${f.kind}: ${f.kind === 'bad-error-message' ? detail : normalise(detail)}`;
    const c = classes.get(key);
    if (c) c.count++;
    else classes.set(key, { key, parser: f.parser, kind: f.kind, count: 1, example: f });
  }
  return [...classes.values()];
}

function classify(target: FuzzTarget<unknown>, err: unknown): Outcome {
  if (err instanceof UserError || target.userErrors?.some((E) => err instanceof E)) return { kind: 'user-error', message: (err as Error).message };
  const e = err as Error;
  return { kind: 'unexpected', message: `${e?.name ?? 'Error'}: ${e?.message ?? String(err)}` };
}

/** One case timed: the outcome, or a hang when it does not settle within the hang limit. */
async function timedRun<Ctx>(target: FuzzTarget<Ctx>, ctx: Ctx, input: Buffer, caseNo: number, budget: Budget): Promise<{ outcome: Outcome | 'hang'; ms: number }> {
  const limit = Math.max(budget.hangMinMs, budget.hangFactor * budgetMs(budget, input.length));
  const start = performance.now();
  let outcome: Outcome | 'hang';
  try {
    outcome = await withTimeout(target.run(ctx, input, caseNo), limit);
  } catch (err) {
    outcome = err instanceof Timeout ? 'hang' : classify(target as FuzzTarget<unknown>, err);
  }
  return { outcome, ms: performance.now() - start };
}

/** Run `cases` mutated inputs through a target; deterministic for a given seed. */
export async function fuzzTarget<Ctx>(target: FuzzTarget<Ctx>, options: RunOptions): Promise<TargetReport> {
  const limits = options.limits ?? CI_LIMITS;
  const budget: Budget = { ...DEFAULT_BUDGET, ...target.budget };
  const ctx = await target.setup();
  let corpus: Buffer[];
  try {
    corpus = await target.seeds(ctx);
  } catch (err) {
    await target.teardown(ctx);
    throw err;
  }
  const report: TargetReport = { parser: target.name, cases: 0, outcomes: {}, findings: [], totalMs: 0, budgetUsed: 0, worstBudget: 0 };
  let budgetTotal = 0;
  try {
    for (let i = 0; i < options.cases; i++) {
      const rng = createRandom(`${options.seed}:${target.name}:${i}`);
      // Every seed once unmutated first: the fixtures themselves must pass.
      const { input, shape } = i < corpus.length ? { input: corpus[i], shape: ['seed'] } : await mutateCase(rng.pick(corpus), target.structure, rng, { limits, corpus });
      const found: Omit<Finding, 'parser' | 'case' | 'shape' | 'bytes'>[] = [];
      const first = await timedRun(target, ctx, input, i, budget);
      const outcome = first.outcome;
      let ms = first.ms;
      const allowed = budgetMs(budget, input.length);
      if (outcome !== 'hang' && ms > allowed) {
        // Timed again before it counts: the machine is shared, one slow case can be noise.
        const again = await timedRun(target, ctx, input, i, budget);
        if (again.ms > allowed) found.push({ kind: 'over-budget', ms: Math.min(ms, again.ms), detail: `${Math.round(Math.min(ms, again.ms))} ms for ${input.length} bytes (budget ${Math.round(allowed)} ms)` });
        ms = Math.min(ms, again.ms);
      }
      report.cases++;
      report.totalMs += ms;
      report.budgetUsed += ms;
      budgetTotal += allowed;
      report.worstBudget = Math.max(report.worstBudget, ms / allowed);
      const kind = outcome === 'hang' ? 'hang' : outcome.kind;
      report.outcomes[kind] = (report.outcomes[kind] ?? 0) + 1;
      if (outcome === 'hang') found.push({ kind: 'hang', ms, detail: `no answer after ${Math.round(ms)} ms` });
      else if (outcome.kind === 'unexpected') found.push({ kind: 'unexpected-error', ms, detail: outcome.message });
      else if (outcome.kind === 'silent') found.push({ kind: 'silent', ms, detail: outcome.detail });
      else if (outcome.kind === 'retry-forever') found.push({ kind: 'retry-forever', ms, detail: outcome.detail });
      else if (outcome.kind === 'user-error') {
        const problem = errorMessageProblem(outcome.message);
        // Grouped by the problem and how the message starts (which check produced it), not by the echoed bytes.
        if (problem) {
          const start = normalise(outcome.message).replace(CONTROLS, '').slice(0, 48);
          found.push({ kind: 'bad-error-message', ms, detail: `${problem}: ${JSON.stringify(start)}… e.g. ${JSON.stringify(outcome.message.slice(0, 160))}` });
        }
      }
      const left = target.check ? await target.check(ctx).catch((err: Error) => `check failed: ${err.message}`) : null;
      if (left) found.push({ kind: 'running-import', ms, detail: left });
      for (const f of found) {
        const finding: Finding = { parser: target.name, case: i, shape, bytes: input.length, ...f };
        if (options.findingsDir) finding.file = saveFinding(options.findingsDir, finding, input, options.seed);
        report.findings.push(finding);
      }
      options.onCase?.(i + 1);
      if (report.outcomes.hang >= MAX_HANGS) break;
    }
  } finally {
    await target.teardown(ctx);
  }
  report.budgetUsed = budgetTotal ? report.budgetUsed / budgetTotal : 0;
  return report;
}

/** The input of a finding and what happened, to reproduce it: FUZZ_SEED=<seed> and the case number. */
export function saveFinding(dir: string, f: Finding, input: Buffer, seed: string): string {
  fs.mkdirSync(dir, { recursive: true });
  const base = path.join(dir, `${f.parser}-${String(f.case).padStart(6, '0')}-${f.kind}`);
  fs.writeFileSync(`${base}.bin`, input);
  fs.writeFileSync(`${base}.json`, JSON.stringify({ ...f, seed }, null, 2) + '\n');
  return `${base}.bin`;
}

/** A one-line summary of a finding for test failures and the report. */
export function describeFinding(f: Finding): string {
  return `${f.parser} case ${f.case} [${f.shape.join('+')}, ${f.bytes} B, ${Math.round(f.ms)} ms] ${f.kind}: ${f.detail.slice(0, 300)}`;
}
