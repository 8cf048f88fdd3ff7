import fs from 'node:fs';
import http from 'node:http';
import path from 'node:path';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { buildProgram } from '../../src/cli/program.js';
import { openDatabase } from '../../src/db/index.js';
import { FIXTURES_DIR, PACKAGE_ROOT } from '../../src/lib/paths.js';
import { cradleInProcess, type CliResult } from '../helpers/cli.js';
import { BACKENDS, embeddedCopy, scratchDir } from '../helpers/db.js';
import { createTestHospital, WARDS, type TestHospital } from '../helpers/hospital.js';

// Every `--json` example in docs/cli.md is what the command prints: one small hospital, every
// documented command run on it through the CLI (in-process), and each output held to its example.
//
// An example is a ```json block right after a marker line naming what it is the output of:
//   <!-- json: cradle seed --dry-run -->
// (the command and, where a command prints more than one shape, the option or argument that selects
// it; several, separated by ` | `, where they print the same shape). The output and the example must have the same keys at every level (an array's elements are
// each held to the example's first element; a value of null on either side matches anything), and
// the same kinds of value (string, number, boolean, array, object). Every output is an object, and
// every key in it is camelCase, except the keys of the maps in MAPS, which are names from the data
// (columns, wards, tables, HTTP headers). Setting CRADLE_JSON_DOCS_DUMP=<dir> writes each output
// there (<marker>.json), to update the docs from.

const CLI_MD = path.join(PACKAGE_ROOT, 'docs', 'cli.md');

/** Objects whose keys are names from the data, not fields: their keys are not compared or checked. */
const MAPS = new Set(['rows', 'plan', 'columns', 'byTable', 'headers', 'targetKeys', 'counts', 'notShown', 'byKind', 'keys']);

/** Commands with --json whose output this file does not run, and why. */
const NOT_RUN: Record<string, string> = {
  demo: 'builds a whole hospital: tens of CPU-seconds',
  watch: 'a server that runs until stopped',
  realism: 'trains classifiers: many CPU-seconds',
};

interface Example {
  /** What it is the output of: one or more (`<!-- json: cradle hits dismiss | cradle hits restore -->`). */
  markers: string[];
  line: number;
  json: unknown;
}

/** The marked examples of docs/cli.md. */
function examplesOf(markdown: string): Example[] {
  const lines = markdown.split('\n');
  const found: Example[] = [];
  for (let i = 0; i < lines.length; i++) {
    const marker = /^<!-- json: (cradle .*?) -->$/.exec(lines[i].trim())?.[1];
    if (!marker) continue;
    const fence = lines.findIndex((l, j) => j > i && l.trim() !== '');
    if (fence === -1 || lines[fence].trim() !== '```json') throw new Error(`docs/cli.md:${i + 1}: "${marker}" is not followed by a \`\`\`json block`);
    const end = lines.findIndex((l, j) => j > fence && l.trim() === '```');
    const text = lines.slice(fence + 1, end).join('\n');
    try {
      found.push({ markers: marker.split(' | ').map((m) => m.trim()), line: i + 1, json: JSON.parse(text) });
    } catch (err) {
      throw new Error(`docs/cli.md:${fence + 2}: the example of "${marker}" is not JSON: ${(err as Error).message}`);
    }
  }
  return found;
}

const kind = (v: unknown) => (v === null ? 'null' : Array.isArray(v) ? 'array' : typeof v);

/** Where `real` differs in shape from `doc`: keys one has and the other not, values of another kind. */
function shapeDiff(doc: unknown, real: unknown, at: string, out: Set<string>, key = ''): void {
  if (doc === null || real === null) return;
  if (kind(doc) !== kind(real)) {
    out.add(`${at || '(top)'}: the example has ${kind(doc)}, the output ${kind(real)}`);
    return;
  }
  if (Array.isArray(doc)) {
    if (doc.length === 0) return;
    for (const r of real as unknown[]) shapeDiff(doc[0], r, `${at}[]`, out);
    return;
  }
  if (typeof doc !== 'object' || MAPS.has(key)) return;
  const d = doc as Record<string, unknown>;
  const r = real as Record<string, unknown>;
  for (const k of Object.keys(r)) if (!(k in d)) out.add(`${at}.${k}: printed, not in the example`);
  for (const k of Object.keys(d)) if (!(k in r)) out.add(`${at}.${k}: in the example, not printed`);
  for (const k of Object.keys(d)) if (k in r) shapeDiff(d[k], r[k], `${at}.${k}`, out, k);
}

/** Keys that are not camelCase, outside the maps. */
function notCamel(v: unknown, at: string, out: Set<string>, key = ''): void {
  if (Array.isArray(v)) for (const x of v) notCamel(x, `${at}[]`, out);
  else if (v && typeof v === 'object' && !MAPS.has(key)) {
    for (const [k, x] of Object.entries(v)) {
      if (!/^[a-z][a-zA-Z0-9]*$/.test(k)) out.add(`${at}.${k}`);
      notCamel(x, `${at}.${k}`, out, k);
    }
  }
}

/** The commands that take --json, as "cradle pool add". */
function jsonCommands(): string[] {
  const found: string[] = [];
  const walk = (cmd: ReturnType<typeof buildProgram>, words: string[]) => {
    if (cmd.options.some((o) => o.long === '--json')) found.push(['cradle', ...words].join(' '));
    for (const sub of cmd.commands) walk(sub, [...words, sub.name()]);
  };
  walk(buildProgram(), []);
  return found;
}

const examples = examplesOf(fs.readFileSync(CLI_MD, 'utf8'));

describe('docs/cli.md has a JSON example for every --json command', () => {
  it('marks one or more examples of each', () => {
    const marked = new Set(examples.flatMap((e) => e.markers.map((m) => m.split(' --')[0].replace(/ <[^>]*>/g, ''))));
    const missing = jsonCommands().filter((c) => !marked.has(c));
    expect(missing.map((c) => `docs/cli.md: no "<!-- json: ${c} -->" example`)).toEqual([]);
  });
});

describe.each(BACKENDS)('the --json examples of docs/cli.md are what the commands print, on %s', (backend) => {
  const cwd = scratchDir('json-docs');
  const outputs = new Map<string, unknown>();
  let h: TestHospital;
  let web: http.Server;
  let vaultLocation: string;

  /** Runs `cradle <args>`, expects `code`, and keeps its JSON as the output of `marker`. */
  const run = async (marker: string, args: string[], code = 0): Promise<Record<string, unknown>> => {
    const res: CliResult = await cradleInProcess(args, { cwd });
    if (res.code !== code) throw new Error(`cradle ${args.join(' ')} exited ${res.code} (expected ${code}): ${res.stderr}`);
    const data = JSON.parse(res.stdout) as Record<string, unknown>;
    outputs.set(`cradle ${marker}`, data);
    const dump = process.env.CRADLE_JSON_DOCS_DUMP;
    if (dump && backend === 'pglite') {
      fs.mkdirSync(dump, { recursive: true });
      fs.writeFileSync(path.join(dump, `${marker.replace(/[^\w-]+/g, '_')}.json`), `${JSON.stringify(data, null, 2)}\n`);
    }
    return data;
  };

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 80, trapNumbers: 30, rotation: { 产科一病区: 1 } });
    vaultLocation = h.vaultLocation;
    await h.vault.close(); // the CLI opens both databases itself (an embedded one takes a lock)
    await h.target.close();
    web = http.createServer((req, res) => { req.resume(); req.on('end', () => res.writeHead(204).end()); });
    await new Promise<void>((r) => web.listen(0, '127.0.0.1', r));
    fs.writeFileSync(path.join(cwd, 'cradle.config.json'), JSON.stringify({
      vault: vaultLocation,
      hospitals: {
        h1: {
          displayName: '测试妇幼保健院',
          target: h.hospital.target,
          mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'),
          locale: 'zh-CN',
          timeZone: 'Asia/Shanghai',
          wards: WARDS,
          districts: ['鼓楼区', '玄武区'],
          rotation: { perWard: { 产科一病区: 1 } },
        },
      },
      alerts: { webhooks: [{ name: 'sec', url: `http://127.0.0.1:${(web.address() as AddressInfo).port}/hook`, format: 'json' }] },
    }));
  });
  afterAll(async () => {
    await new Promise<void>((r) => web?.close(() => r()));
    if (!h) return;
    h.vault = await openDatabase(vaultLocation);
    h.target = await openDatabase(h.hospital.target);
    await h.close();
  });

  it('runs every documented command and holds its output to the example', async () => {
    const init = scratchDir('json-docs-init');
    await cradleInProcess(['init', '--vault', embeddedCopy('json-docs-init', 'vault'), '--json'], { cwd: init }).then((res) => {
      expect(res.code).toBe(0);
      outputs.set('cradle init', JSON.parse(res.stdout));
    });

    await run('target check', ['target', 'check', '--json']);
    await run('target profile', ['target', 'profile', '--json']);
    fs.writeFileSync(path.join(cwd, 'numbers.txt'), '+8613900001111\n+8613900002222\n');
    await run('pool add', ['pool', 'add', '--file', 'numbers.txt', '--burn-in', '14d', '--json']);
    await run('pool add-domain', ['pool', 'add-domain', 'mail.example.org', '--json']);
    await run('pool list', ['pool', 'list', '--json']);
    await run('pool plan', ['pool', 'plan', '--per-week', '7', '--exports-per-week', '5', '--weeks', '12', '--json']);
    await run('seed --dry-run', ['seed', '--count', '1', '--dry-run', '--json']);
    await run('seed', ['seed', '--count', '3', '--seed', 'docs', '--json']);
    await run('rotate', ['rotate', '--json']);
    await run('canaries advance', ['canaries', 'advance', '--json']);
    const { canaries } = (await run('canaries list', ['canaries', 'list', '--json'])) as { canaries: { id: string; motherPhone: string; mother: string }[] };
    const shown = (await run('canaries show', ['canaries', 'show', canaries[0].id, '--json'])) as { targetKeys: { birth: { birth_id: number } } };

    const exported = (await run('export', ['export', '--channel', 'export:lab', '--out', 'lab.csv', '--canaries', '2', '--json'])) as { exportId: string };
    await run('watermark', ['watermark', 'lab.csv', '--channel', 'export:insurer', '--out', 'insurer.csv', '--json']);
    await run('exports list', ['exports', 'list', '--json']);
    await run('exports show', ['exports', 'show', exported.exportId, '--json']);
    await run('scan', ['scan', 'lab.csv', '--json'], 3);

    // A contact naming a canary, on its trap: a hit and an incident.
    const canary = canaries[0];
    // Two of them, from two callers on two canaries: two incidents, to merge.
    const other = canaries[1];
    fs.writeFileSync(path.join(cwd, 'visit.json'), JSON.stringify([
      { kind: 'call', to: canary.motherPhone, from: '13700001111', occurredAt: new Date().toISOString(), body: `来电称是医院影楼，知道${canary.mother}的名字`, id: 'desk-1' },
      { kind: 'sms', to: other.motherPhone, from: '13800002222', occurredAt: new Date().toISOString(), body: `${other.mother}女士您好，这里是医院营养科`, id: 'desk-2' },
    ]));
    await run('ingest event', ['ingest', 'event', 'visit.json', '--json']);
    await run('ingest cdr', ['ingest', 'cdr', path.join(FIXTURES_DIR, 'ingest', 'Master.csv'), '--json']);
    fs.writeFileSync(path.join(cwd, 'desk-1.wav'), Buffer.from('RIFF....WAVEfmt recording of the call'));
    await run('ingest recording', ['ingest', 'recording', 'desk-1.wav', '--call', 'desk-1', '--json']);
    await run('ingest mail', ['ingest', 'mail', path.join(FIXTURES_DIR, 'ingest', 'box.mbox'), '--json']);
    const inbox = path.join(cwd, 'gammu-inbox');
    fs.mkdirSync(inbox);
    fs.copyFileSync(path.join(FIXTURES_DIR, 'gammu', 'detail-multipart.txt'), path.join(inbox, 'IN20261207_101559_00_+8613700002222_00.txt'));
    fs.utimesSync(path.join(inbox, 'IN20261207_101559_00_+8613700002222_00.txt'), new Date(Date.now() - 5000), new Date(Date.now() - 5000));
    await run('ingest sms', ['ingest', 'sms', '--format', 'gammu-files', '--dir', inbox, '--to', canary.motherPhone, '--time-zone', 'Asia/Shanghai', '--json']);
    const triaged = (await run('triage', ['triage', '--json'])) as { hits: { hitId: number; incidentId: string }[] };
    const hit = triaged.hits[0];
    await run('hits', ['hits', '--status', 'all', '--json']);
    await run('incidents', ['incidents', '--status', 'all', '--json']);
    const incident = (await run('incidents <id>', ['incidents', hit.incidentId, '--json'])) as { hits: { eventId: number }[] };
    await run('contact', ['contact', String(incident.hits[0].eventId), '--json']);
    await run('incidents note', ['incidents', 'note', hit.incidentId, 'called back', '--by', 'wang.li', '--json']);
    await run('hits dismiss', ['hits', 'dismiss', String(hit.hitId), '--reason', 'a test', '--json']);
    await run('hits restore', ['hits', 'restore', String(hit.hitId), '--reason', 'not a test', '--json']);
    await run('alerts deliver', ['alerts', 'deliver', '--json']);
    await run('alerts test', ['alerts', 'test', '--json']);

    // An access log in which an account opens the canary's record on its own.
    const lines = ['ts,user,action,record,ip,system', `2026-12-01 08:00:00,nurse042,view,${shown.targetKeys.birth.birth_id},10.2.0.15,EMR`, '2026-12-01 08:01:00,nurse042,view,no-such-record,10.2.0.15,EMR', 'not a line'];
    fs.writeFileSync(path.join(cwd, 'access.csv'), `${lines.join('\n')}\n`);
    const imported = (await run('logs import', ['logs', 'import', 'access.csv', '--format', 'csv', '--max-rejects', '0.9', '--json'])) as { importId: number };
    await run('logs list', ['logs', 'list', '--json']);
    await run('logs show', ['logs', 'show', String(imported.importId), '--json']);
    await run('tripwires', ['tripwires', '--since', '3650d', '--json']);

    await run('trace', ['trace', hit.incidentId, '--json']);
    await run('evidence export', ['evidence', 'export', hit.incidentId, '--out', 'bundle.tar.gz', '--json']);
    await run('verify', ['verify', '--json']);
    await run('logs remove', ['logs', 'remove', String(imported.importId), '--reason', 'a test import', '--json']);
    const second = triaged.hits.find((x) => x.incidentId !== hit.incidentId);
    if (!second) throw new Error(`the two contacts made one incident: ${JSON.stringify(triaged.hits)}`);
    await run('incidents merge', ['incidents', 'merge', hit.incidentId, second.incidentId, '--reason', 'one leak', '--json']);
    await run('incidents close', ['incidents', 'close', hit.incidentId, '--reason', 'traced', '--json']);
    await run('incidents reopen', ['incidents', 'reopen', hit.incidentId, '--reason', 'more calls', '--json']);
    await run('incidents dismiss', ['incidents', 'dismiss', hit.incidentId, '--reason', 'a drill', '--json']);

    const problems: string[] = [];
    for (const e of examples) {
      for (const marker of e.markers) {
        const real = outputs.get(marker);
        if (real === undefined) {
          if (!NOT_RUN[marker.slice('cradle '.length).split(' ')[0]]) problems.push(`docs/cli.md:${e.line}: "${marker}": this test runs no such command; add it to the test`);
          continue;
        }
        const diff = new Set<string>();
        shapeDiff(e.json, real, '', diff);
        for (const d of diff) problems.push(`docs/cli.md:${e.line}: "${marker}": ${d}`);
      }
    }
    for (const [marker, real] of outputs) {
      if (!examples.some((e) => e.markers.includes(marker))) problems.push(`docs/cli.md: no example of "${marker}" (mark it <!-- json: ${marker} -->)`);
      if (kind(real) !== 'object') problems.push(`${marker} --json prints ${kind(real)}, not an object`);
      const keys = new Set<string>();
      notCamel(real, '', keys);
      for (const k of keys) problems.push(`${marker} --json: ${k} is not camelCase`);
    }
    expect(problems).toEqual([]);
  });
});
