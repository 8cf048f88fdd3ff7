import { spawn } from 'node:child_process';
import path from 'node:path';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';

// Runs the real `cradle` binary as a user would, in a given directory.

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

export function cradle(args: string[], options: { cwd: string; env?: Record<string, string>; input?: string }): Promise<CliResult> {
  return new Promise((resolve, reject) => {
    const env: Record<string, string | undefined> = { ...process.env, ...options.env };
    for (const key of ['CRADLE_VAULT', 'CRADLE_TARGET_URL', 'CRADLE_CONFIG']) if (!options.env?.[key]) delete env[key];
    const child = spawn(process.execPath, [path.join(PACKAGE_ROOT, 'bin', 'cradle'), ...args], {
      cwd: options.cwd,
      env,
      stdio: ['pipe', 'pipe', 'pipe'],
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d) => (stdout += d));
    child.stderr.on('data', (d) => (stderr += d));
    child.on('error', reject);
    child.on('close', (code) => resolve({ code: code ?? -1, stdout, stderr }));
    child.stdin.end(options.input ?? '');
  });
}

export function json<T = unknown>(result: CliResult): T {
  if (result.code !== 0) throw new Error(`cradle exited ${result.code}: ${result.stderr}`);
  return JSON.parse(result.stdout) as T;
}
