import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { cradle, json } from '../helpers/cli.js';
import { scratchDir } from '../helpers/db.js';

// The slow tier (npm run test:slow): `cradle demo` plays the whole story (a year of births, four
// rotations, exports, access logs, the leak, its incidents and reports) in one binary run.

describe('cradle demo', () => {
  it('plays the whole story and names the leaking export, leaving a hospital a newcomer can explore', async () => {
    const cwd = scratchDir('cli-demo');
    const res = await cradle(['demo', '--births', '2000', '--json'], { cwd });
    const out = json<{
      births: number;
      canaries: number;
      exports: number;
      accessLog: { tripwires: number };
      contacts: { scam: number; mail: number };
      leaked: { export: string; recipient: string };
      incidents: { hits: string; scan: string };
      verdict: { hits: { key: string; posterior: number }; scan: { key: string }; right: boolean };
      reports: string[];
    }>(res);
    expect(out.reports.map((r) => path.basename(r))).toEqual([`incident-${out.incidents.hits}.html`, `incident-${out.incidents.hits}.zh-CN.html`, 'audit.html']);
    for (const r of out.reports) expect(fs.readFileSync(r, 'utf8')).toMatch(/^<!DOCTYPE html>/i);
    expect(out).toMatchObject({ births: 2000, canaries: 40, exports: 20, leaked: { recipient: 'screening-lab' }, contacts: { mail: 1 } });
    expect(out.accessLog.tripwires).toBeGreaterThan(0);
    expect(out.verdict).toMatchObject({ right: true, hits: { key: `export-file:${out.leaked.export}` }, scan: { key: `export-file:${out.leaked.export}` } });
    expect(out.verdict.hits.posterior).toBeGreaterThan(0.9);
    const demoDir = path.join(cwd, 'cradle-demo');
    const traced = json<{ suspects: { key: string }[] }>(await cradle(['trace', out.incidents.hits, '--json'], { cwd: demoDir }));
    expect(traced.suspects[0].key).toBe(`export-file:${out.leaked.export}`);
    // The whole story sealed everything the trace read: the ledger and every sealed row verify clean.
    const verified = await cradle(['verify', '--json'], { cwd: demoDir });
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, evidence: { problemCount: 0 } });
    expect(JSON.parse(verified.stdout).evidence.byTable).toMatchObject({ exposures: expect.any(Number), access_blocks: expect.any(Number), incidents: expect.any(Number) });
    expect(verified.code).toBe(0);
    const check = await cradle(['--config', path.join(demoDir, 'cradle.config.json'), 'target', 'check'], { cwd });
    expect(check.code).toBe(0);
    const again = await cradle(['demo'], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a demo/);
    // The whole story in one binary run plus four more: about 40 CPU-seconds, minutes on a loaded machine.
  }, 900_000);
});
