import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import type { Command } from 'commander';
import { describe, expect, it } from '@jest/globals';
import { buildProgram } from '../../src/cli/program.js';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';
import { itWith, SYSTEMD_ANALYZE } from '../helpers/needs.js';

// deploy/: the systemd units and their scripts, the Dockerfile and the compose file. Every cradle
// command line in them must be one the program has, every timer must start a unit that exists, the
// units must pass systemd's own check, and the Dockerfile must copy only what exists and run the
// release as a user other than root. (Building the image needs a Docker engine: docs/deployment.md.)

const DEPLOY = path.join(PACKAGE_ROOT, 'deploy');
const SYSTEMD = path.join(DEPLOY, 'systemd');
const read = (file: string) => fs.readFileSync(file, 'utf8');
const unitFiles = fs.readdirSync(SYSTEMD).filter((f) => /\.(service|timer)$/.test(f));
const scripts = fs.readdirSync(SYSTEMD).filter((f) => f.endsWith('.sh'));

/** Each `…/bin/cradle <args>` in a file, continuation lines joined. */
function cradleLines(text: string): string[] {
  return [...text.replace(/\\\n\s*/g, ' ').matchAll(/\/opt\/cradle\/bin\/cradle ([^\n]*)/g)].map((m) => m[1]);
}

/** What is wrong with `cradle <line>`: an unknown command, or an option its command lacks. */
function problems(program: Command, line: string): string[] {
  const words = line.split(/\s+/).filter(Boolean);
  let cmd = program;
  let i = 0;
  for (; i < words.length; i++) {
    const sub = cmd.commands.find((c) => c.name() === words[i]);
    if (!sub) break;
    cmd = sub;
  }
  if (cmd === program) return [`no command in "cradle ${line}"`];
  if (cmd.commands.length > 0) return [`"cradle ${line}" names a command group, not a command`];
  const known = new Set([...cmd.options, ...program.options].map((o) => o.long));
  return words.slice(i).filter((w) => w.startsWith('--') && !known.has(w.split('=')[0])).map((w) => `"cradle ${line}": ${w} is not an option of ${cmd.name()}`);
}

describe('deploy/systemd', () => {
  const program = buildProgram();

  it('holds the watcher, and a service for every timer', () => {
    expect(unitFiles).toContain('cradle-watch.service');
    for (const timer of unitFiles.filter((f) => f.endsWith('.timer'))) {
      const unit = /^Unit=(.*)$/m.exec(read(path.join(SYSTEMD, timer)))?.[1] ?? timer.replace(/\.timer$/, '.service');
      expect(`${timer} -> ${unitFiles.includes(unit) ? 'found' : unit}`).toBe(`${timer} -> found`);
      expect(read(path.join(SYSTEMD, timer))).toMatch(/^Persistent=true$/m);
    }
  });

  it('runs only commands and options cradle has', () => {
    const lines = [...unitFiles, ...scripts].flatMap((f) => cradleLines(read(path.join(SYSTEMD, f))).map((l) => ({ f, l })));
    expect(lines.length).toBeGreaterThanOrEqual(7);
    expect(problems(program, 'rotate --jsn')).toEqual(['"cradle rotate --jsn": --jsn is not an option of rotate']);
    expect(problems(program, 'canaries')).toHaveLength(1);
    expect(lines.flatMap(({ f, l }) => problems(program, l.replace(/"[^"]*"|\$\{[^}]*\}/g, 'X')).map((p) => `${f}: ${p}`))).toEqual([]);
    // The scripts the units start are the ones shipped here.
    for (const s of scripts) expect(unitFiles.some((u) => read(path.join(SYSTEMD, u)).includes(`ExecStart=/usr/local/lib/cradle/${s}`))).toBe(true);
  });

  itWith(SYSTEMD_ANALYZE)('passes systemd-analyze verify', async () => {
    const units = unitFiles.map((f) => path.join(SYSTEMD, f));
    const out = await promisify(execFile)('systemd-analyze', ['verify', '--man=no', ...units]).then(
      (r) => r.stderr,
      (e: { stderr: string }) => e.stderr,
    );
    // The helper scripts are installed to /usr/local/lib/cradle, which this machine lacks.
    const found = out.split('\n').filter((l) => l.trim() && !/Command \/usr\/local\/lib\/cradle\/[\w-]+\.sh is not executable/.test(l));
    expect(found).toEqual([]);
  });
});

describe('deploy/Dockerfile and compose.yaml', () => {
  const dockerfile = read(path.join(DEPLOY, 'Dockerfile'));

  it('copies only what exists, installs the release with npm ci --omit=dev, and runs it as cradle', () => {
    const copied = [...dockerfile.matchAll(/^COPY (?!--from)(.+)$/gm)].flatMap((m) => m[1].trim().split(/\s+/).slice(0, -1));
    expect(copied.length).toBeGreaterThan(5);
    expect(copied.filter((f) => !fs.existsSync(path.join(PACKAGE_ROOT, f)))).toEqual([]);
    const runtime = dockerfile.slice(dockerfile.lastIndexOf('\nFROM '));
    expect(runtime).toMatch(/npm ci --omit=dev/);
    expect(runtime).toMatch(/^USER cradle$/m);
    expect(runtime).not.toMatch(/\btsc\b|npm run build/);
    expect(dockerfile).toMatch(/npm pack/);
  });

  it('composes a PostgreSQL vault, the vault set-up and cradle watch', () => {
    const compose = read(path.join(DEPLOY, 'compose.yaml'));
    expect(compose).toMatch(/dockerfile: deploy\/Dockerfile/);
    expect(compose).toMatch(/image: postgres:\d+/);
    expect(compose).toMatch(/command: \["init"\]/);
    expect(compose).toMatch(/command: \["watch", "--host", "0\.0\.0\.0"/);
    expect(compose).toMatch(/CRADLE_VAULT: postgres:\/\/cradle:\$\{CRADLE_VAULT_PASSWORD/);
    expect(fs.existsSync(path.join(DEPLOY, 'env.example'))).toBe(true);
  });
});
