import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { cradle, cradleInProcess, type CliResult } from '../helpers/cli.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, WARDS, type TestHospital } from '../helpers/hospital.js';
import { DAY, PLANTED, seedAndExport } from '../helpers/leak.js';

// Every command that writes a file, through the CLI, against an attacker who can plant links
// beside its output and a user who points --out at something that is already there: a link planted
// under the old predictable temporary names (`.<name>.<pid>.tmp`) or at --out never gets its target
// written; an existing file is refused without --force and replaced with it; a directory is refused
// in one line (export used to crash with EISDIR); nothing is left behind. The links under old temporary
// names are planted for the next processes' pids: those tests run the real binary (a process of its
// own, as a user's); the rest run the CLI in-process (test/helpers/cli.ts), where the link is planted
// under the test's own pid.

const SECRET = 'SECRET: must never be overwritten\n';

/** Links to `target` under the names `.<name>.<pid>.tmp` of the given pids. */
function plantPidLinks(dir: string, name: string, target: string, pids: number[]): void {
  for (const pid of pids) fs.symlinkSync(target, path.join(dir, `.${name}.${pid}.tmp`));
}

/**
 * The pids the next process is likely to get: the 4,096 after the last one given out (threads take
 * pids too, so a window rather than the next one); all 32,768 of Linux' default cost 0.1 s and more
 * per test in symlinks alone, for pids no process of this test takes.
 */
function nextPids(): number[] {
  const read = (f: string) => {
    try {
      return Number(fs.readFileSync(f, 'utf8').trim());
    } catch {
      return NaN;
    }
  };
  const pidMax = read('/proc/sys/kernel/pid_max') || 32768;
  const last = read('/proc/sys/kernel/ns_last_pid') || process.pid;
  return Array.from({ length: Math.min(4096, pidMax) }, (_, i) => ((last + i) % pidMax) + 1);
}

/** Regular files in `dir` that are neither wanted nor the secret: temporary files left behind. */
function strayFiles(dir: string, wanted: string[]): string[] {
  return fs.readdirSync(dir).filter((f) => !wanted.includes(f) && f !== 'secret.txt' && !fs.lstatSync(path.join(dir, f)).isSymbolicLink());
}

describe.each(BACKENDS)('output files through the CLI on %s', (backend) => {
  let h: TestHospital;
  let cwd: string;
  let incidentId: string;
  let source: string;
  const run = (args: string[]): Promise<CliResult> => cradleInProcess(['--vault', h.vaultLocation, ...args], { cwd });
  const runBinary = (args: string[]): Promise<CliResult> => cradle(['--vault', h.vaultLocation, ...args], { cwd });

  /** Each command that takes --out, writing to `out` (relative to cwd). */
  const writers: { name: string; args: (out: string) => string[] }[] = [
    { name: 'export', args: (out) => ['export', '--channel', 'export:registry', '--from', '2026-10-01', '--to', '2026-11-30', '--canaries', '3', '--out', out] },
    { name: 'watermark', args: (out) => ['watermark', source, '--channel', 'export:insurer-copy', '--canaries', '3', '--out', out] },
    { name: 'report', args: (out) => ['report', incidentId, '--format', 'md', '--out', out] },
    { name: 'audit', args: (out) => ['audit', '--from', '2026-11-01', '--to', '2026-11-30', '--format', 'md', '--out', out] },
    { name: 'evidence export', args: (out) => ['evidence', 'export', incidentId, '--out', out] },
  ];
  const outName: Record<string, string> = { export: 'e.csv', watermark: 'w.csv', report: 'r.md', audit: 'a.md', 'evidence export': 'b.tar.gz' };

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 100, trapNumbers: 120 });
    const dir = scratchDir('out-files-setup');
    const { photo } = await seedAndExport(h, dir, 'out-files');
    source = photo.file;
    for (const [i, c] of photo.canaries.slice(0, 2).entries()) {
      await vault.recordContact(h.vault, { source: 'generic', providerId: `SM${i}`, kind: 'sms', from: '+8613311110000', to: c.family.mother.phone!, occurredAt: new Date(PLANTED.getTime() + (9 + i) * DAY), body: '宝宝写真免费拍摄', raw: Buffer.from(`sms ${i}`) });
    }
    incidentId = (await triagePending(h.vault)).hits[0].incidentId!;
    cwd = scratchDir('out-files');
    fs.writeFileSync(
      path.join(cwd, 'cradle.config.json'),
      JSON.stringify({ hospitals: { h1: { displayName: '测试妇幼保健院', target: h.target.label, mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'), wards: WARDS, districts: ['鼓楼区'], timeZone: 'Asia/Shanghai' } } }),
    );
    // One handle at a time on an embedded database: the CLI opens them from here on.
    if (backend === 'pglite') {
      await h.vault.close();
      await h.target.close();
    }
  });
  afterAll(async () => {
    if (!h) return;
    // The helper's close() would close the embedded handles closed above again: remove their directories instead.
    if (backend === 'pglite') for (const d of [h.vaultLocation, h.target.label]) fs.rmSync(d, { recursive: true, force: true });
    else await h.close();
  });

  it.each(['report', 'audit', 'evidence export'])('%s writes a new file without following a link planted under an old temporary name', async (name) => {
    const dir = path.join(cwd, `planted-${name.replace(' ', '-')}`);
    fs.mkdirSync(dir);
    const secret = path.join(dir, 'secret.txt');
    fs.writeFileSync(secret, SECRET);
    const file = outName[name];
    plantPidLinks(dir, file, secret, nextPids());
    const res = await runBinary(writers.find((w) => w.name === name)!.args(path.join(path.basename(dir), file)));
    expect(res.stderr).toBe('');
    expect(res.code).toBe(0);
    expect(fs.readFileSync(secret, 'utf8')).toBe(SECRET);
    expect(fs.lstatSync(path.join(dir, file)).isFile()).toBe(true);
    expect(strayFiles(dir, [file])).toEqual([]);
  });

  it.each(writers.map((w) => w.name))('%s refuses a directory, an existing file and a link at --out without --force, and replaces the file or link itself with it', async (name) => {
    const writer = writers.find((w) => w.name === name)!;
    const dir = path.join(cwd, `out-${name.replace(' ', '-')}`);
    fs.mkdirSync(dir);
    const rel = (f: string) => path.join(path.basename(dir), f);
    const secret = path.join(dir, 'secret.txt');
    fs.writeFileSync(secret, SECRET);

    // A directory: one line, exit 1 (export used to crash with EISDIR; --force changes nothing, test/lib/out-file.test.ts).
    fs.mkdirSync(path.join(dir, 'folder'));
    const res = await run(writer.args(rel('folder')));
    expect(res.stderr).toBe(`cradle: --out ${rel('folder')} is a directory; give a file name\n`);
    expect(res.code).toBe(1);
    expect(fs.readdirSync(path.join(dir, 'folder'))).toEqual([]);

    // An existing file: refused and left as it was, then replaced with --force.
    const file = outName[name];
    fs.writeFileSync(path.join(dir, file), 'old\n');
    const refused = await run(writer.args(rel(file)));
    expect(refused.stderr).toBe(`cradle: --out ${rel(file)} exists; add --force to replace it\n`);
    expect(refused.code).toBe(1);
    expect(fs.readFileSync(path.join(dir, file), 'utf8')).toBe('old\n');
    // Replaced with --force, beside a link planted under the old temporary name of this process (the
    // CLI runs in it): not followed.
    plantPidLinks(dir, file, secret, [process.pid]);
    const forced = await run([...writer.args(rel(file)), '--force']);
    expect(forced.stderr).toBe('');
    expect(forced.code).toBe(0);
    expect(fs.readFileSync(secret, 'utf8')).toBe(SECRET);
    expect(fs.lstatSync(path.join(dir, file)).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(dir, file), 'utf8')).not.toBe('old\n');
    expect(fs.statSync(path.join(dir, file)).mode & 0o777).toBe(0o600);

    // A link at --out: refused; with --force the link itself is replaced and its target left alone.
    const link = `link-${file}`;
    fs.symlinkSync(secret, path.join(dir, link));
    const linkRefused = await run(writer.args(rel(link)));
    expect(linkRefused.stderr).toBe(`cradle: --out ${rel(link)} exists (a symbolic link); add --force to replace the link itself (its target is left alone)\n`);
    expect(linkRefused.code).toBe(1);
    expect(fs.lstatSync(path.join(dir, link)).isSymbolicLink()).toBe(true);
    const linkForced = await run([...writer.args(rel(link)), '--force']);
    expect(linkForced.stderr).toBe('');
    expect(linkForced.code).toBe(0);
    expect(fs.lstatSync(path.join(dir, link)).isFile()).toBe(true);
    expect(fs.readFileSync(secret, 'utf8')).toBe(SECRET);

    expect(strayFiles(dir, ['folder', file, link]).sort()).toEqual([]);
  });

  it('a report that fails midway leaves the old file and no temporary file', async () => {
    const dir = path.join(cwd, 'failing');
    fs.mkdirSync(dir);
    fs.writeFileSync(path.join(dir, 'r.pdf'), 'old pdf\n');
    const res = await cradleInProcess(['--vault', h.vaultLocation, 'report', incidentId, '--out', path.join('failing', 'r.pdf'), '--force'], { cwd, env: { CRADLE_CHROMIUM: path.join(cwd, 'no-such-chromium') } });
    expect(res.code).toBe(1);
    expect(res.stderr).toMatch(/^cradle: no Chromium at .* to print the PDF/);
    expect(fs.readFileSync(path.join(dir, 'r.pdf'), 'utf8')).toBe('old pdf\n');
    expect(strayFiles(dir, ['r.pdf'])).toEqual([]);
  });

  it("logs import replaces its rejects file (or a link planted there) without writing through it, and refuses a directory before importing", async () => {
    const dir = path.join(cwd, 'logs');
    fs.mkdirSync(dir);
    const secret = path.join(dir, 'secret.txt');
    fs.writeFileSync(secret, SECRET);
    const log = path.join('logs', 'audit.csv');
    fs.writeFileSync(path.join(cwd, log), ['event_time,operator,op,patient_id', '2026-11-05 10:00:00,nurse01,view,1', 'yesterday,nurse01,view,2'].join('\n') + '\n');
    fs.symlinkSync(secret, path.join(cwd, `${log}.rejects.csv`));
    const args = ['logs', 'import', log, '--format', 'csv', '--map', 'ts=event_time,user=operator,action=op,record=patient_id'];
    const first = await run(args);
    expect(first.code).toBe(0);
    expect(fs.readFileSync(secret, 'utf8')).toBe(SECRET);
    expect(fs.lstatSync(path.join(cwd, `${log}.rejects.csv`)).isFile()).toBe(true);
    expect(fs.readFileSync(path.join(cwd, `${log}.rejects.csv`), 'utf8')).toMatch(/^line,reason,text\n3,/);
    // The next import of the same log replaces the previous rejects file: expected, not refused.
    const again = await run(args);
    expect(again.code).toBe(0);
    expect(fs.readFileSync(path.join(cwd, `${log}.rejects.csv`), 'utf8')).toMatch(/^line,reason,text\n3,/);
    fs.mkdirSync(path.join(dir, 'rejects-dir'));
    const toDir = await run([...args, '--rejects', path.join('logs', 'rejects-dir')]);
    expect(toDir.stderr).toBe(`cradle: --rejects ${path.join('logs', 'rejects-dir')} is a directory; give a file name\n`);
    expect(toDir.code).toBe(1);
    expect(strayFiles(dir, ['audit.csv', 'audit.csv.rejects.csv', 'rejects-dir'])).toEqual([]);
  });
});
