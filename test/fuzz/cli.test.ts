import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { createRandom } from '../../src/lib/generate/random.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { cradle, type CliResult } from '../helpers/cli.js';
import { migrate, openDatabase } from '../../src/db/index.js';
import { newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';
import { createTrapVault, type TrapVault } from '../ingest/trap-vault.js';
import { envSeed } from './harness.js';
import { CI_LIMITS, mutateCase, type Structure } from './mutate.js';

// A small sample of fuzzed inputs through the real binary: the process must exit 0 (or scan's 3) with output, or
// exit 1 with `cradle: …` lines on stderr (no "unexpected error", no stack, no control characters),
// within a minute. The library-level fuzz tests cover the many cases; this checks the CLI's framing.

const SAMPLE = Number(process.env.FUZZ_CLI_SAMPLE ?? 2);
const fixture = (...p: string[]) => fs.readFileSync(path.join(FIXTURES_DIR, ...p));

interface CliTarget {
  name: string;
  structure: Structure;
  seed: () => Buffer;
  file: string;
  args: (file: string) => string[];
}

const TARGETS: CliTarget[] = [
  { name: 'logs-csv', structure: 'csv', seed: () => fixture('access', 'his-access.csv'), file: 'access.csv', args: (f) => ['logs', 'import', f, '--format', 'csv'] },
  { name: 'logs-fhir', structure: 'jsonl', seed: () => fixture('access', 'fhir-audit.ndjson'), file: 'audit.ndjson', args: (f) => ['logs', 'import', f, '--format', 'fhir'] },
  { name: 'cdr-asterisk', structure: 'csv', seed: () => fixture('ingest', 'Master.csv'), file: 'Master.csv', args: (f) => ['ingest', 'cdr', f, '--format', 'asterisk'] },
  { name: 'mail', structure: 'mime', seed: () => fixture('ingest', 'message.eml'), file: 'message.eml', args: (f) => ['ingest', 'mail', f] },
  { name: 'event', structure: 'json', seed: () => fixture('ingest', 'visit.json'), file: 'visit.json', args: (f) => ['ingest', 'event', f] },
  // A vault of its own: the trap vault's canary is a partial family, made for ingest, not for scan.
  { name: 'scan-xlsx', structure: 'xlsx', seed: () => fixture('leaks', 'hearing-screening.xlsx'), file: 'leak.xlsx', args: (f) => ['--vault', scanVault.location, 'scan', f, path.join(FIXTURES_DIR, 'leaks', 'vaccine-one-district.csv')] },
  { name: 'config', structure: 'json', seed: () => Buffer.from(fs.readFileSync(configFile)), file: 'fuzzed.config.json', args: (f) => ['--config', f, 'tripwires'] },
];

let configFile = '';
let scanVault: TestLocation;

function withTimeout(p: Promise<CliResult>, ms: number): Promise<CliResult | 'hang'> {
  return Promise.race([p, new Promise<'hang'>((resolve) => setTimeout(() => resolve('hang'), ms).unref())]);
}

/** What is wrong with how the binary ended, or null. */
export function cliProblem(r: CliResult | 'hang'): string | null {
  if (r === 'hang') return 'no exit within 60 s';
  // 3: scan found canaries (and recorded an incident), an answer like 0.
  if (r.code === 0 || r.code === 3) return r.stdout.trim() ? null : `exit ${r.code} with no output`;
  if (r.code !== 1) return `exit ${r.code}`;
  const lines = r.stderr.split('\n').filter((l) => l.trim());
  if (!lines.length) return 'exit 1 with nothing on stderr';
  if (lines.some((l) => /unexpected error/.test(l))) return `unexpected error: ${lines[0]}`;
  const stray = lines.find((l) => !l.startsWith('cradle: '));
  if (stray) return `a stderr line not in the cradle: form: ${JSON.stringify(stray.slice(0, 120))}`;
  // eslint-disable-next-line no-control-regex -- control characters are what this looks for
  if (/[\u0000-\u0008\u000b-\u001f\u007f]/.test(r.stderr)) return 'control characters on stderr';
  return null;
}

describe('fuzzed inputs through the cradle binary', () => {
  let v: TrapVault;
  let cwd: string;
  beforeAll(async () => {
    v = await createTrapVault('pglite', 'fuzz-cli');
    await v.db.close();
    scanVault = await newDatabase('pglite', 'fuzz-cli-scan');
    const db = await openDatabase(scanVault.location, { role: 'vault', create: true });
    await migrate(db);
    await db.close();
    cwd = scratchDir('fuzz-cli');
    configFile = path.join(cwd, 'cradle.config.json');
    fs.writeFileSync(
      configFile,
      JSON.stringify({ vault: v.location.location, hospitals: { h1: { target: path.join(cwd, 'no-target'), mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'), wards: ['NICU'], districts: ['鼓楼区'], timeZone: 'Asia/Shanghai' } } }),
    );
  });
  afterAll(async () => {
    await v?.location.cleanup();
    await scanVault?.cleanup();
  });

  const cases = TARGETS.flatMap((t) => Array.from({ length: SAMPLE }, (_, i) => [t.name, i, t] as const));
  it.each(cases)('%s case %i exits 0 with output or 1 with one-line cradle: errors', async (_name, i, t) => {
    const rng = createRandom(`${envSeed()}:cli:${t.name}:${i}`);
    const seed = t.seed();
    const { input, shape } = await mutateCase(seed, t.structure, rng, { limits: CI_LIMITS, corpus: [seed] });
    const file = path.join(cwd, `${i}-${t.file}`);
    fs.writeFileSync(file, input);
    const result = await withTimeout(cradle(t.args(file), { cwd }), 60_000);
    expect({ shape: shape.join('+'), problem: cliProblem(result) }).toEqual({ shape: shape.join('+'), problem: null });
  });
});
