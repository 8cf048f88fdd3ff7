import fs from 'node:fs';
import type { Command } from 'commander';
import { UserError } from '../lib/errors.js';
import type * as ScanAndTrace from '../workflows/scan-and-trace.js';
import { positiveInt } from './args.js';
import { globals, onAction, withVault, type JsonOption } from './context.js';
import { emit, progress, progressDone, table } from './output.js';

// The action's modules, loaded when the command runs (src/cli/context.ts).
let scanAndTrace: typeof ScanAndTrace.scanAndTrace;
let startScan: typeof ScanAndTrace.startScan;
async function load(): Promise<void> {
  ({ scanAndTrace, startScan } = await import('../workflows/scan-and-trace.js'));
}

/** scan's exit code when it found canaries (and recorded an incident): 1 and 2 are failure and bad usage. */
export const EXIT_CANARIES_FOUND = 3;

export function registerScan(program: Command): void {
  const first = program.commands.length;
  program
    .command('scan <files...>')
    .description('find canaries in seized or leaked files and rank the suspects (exports, accounts, systems, wards) that could have leaked them')
    .option('--names', 'also look for canary names in records with no canary phone or e-mail (a list of names alone); slower')
    .option('--threads <n>', 'worker threads for files of 16 MiB or more (default: one per core)', positiveInt)
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Reads CSV, TSV, JSON/JSONL, XLSX, SQL dumps and plain text, UTF-8 or GBK; - reads standard input.
A run that finds canaries records an incident in the vault with the files' hashes and every match,
and ranks its suspects with the trace model, as \`cradle trace <incident>\` does (docs/trace.md).
By default the full matcher (names in characters or pinyin, masks) runs on the records that hold a
canary phone (whole, reformatted or masked) or e-mail: every confident match has one. --names runs it
on every record, to count name-only mentions as weak evidence.

Exit codes: 0 scanned, no canary found (weak evidence alone counts as none); 3 canaries found and an
incident recorded; 1 failure (a missing or unreadable file, the vault); 2 bad usage.

Examples:
  cradle scan seized.xlsx other-dump.txt
  cradle scan names-only-list.txt --names
  unzip -p leak.zip | cradle scan - --json`,
    )
    .action(async (files: string[], o: { names?: boolean; threads?: number }, cmd: Command) => {
      const opts = globals<JsonOption>(cmd);
      for (const f of files) if (f !== '-' && !fs.existsSync(f)) throw new UserError(`${f}: no such file`);
      // The worker threads and the large files' hashes start while the vault opens.
      const options = { names: o.names, threads: o.threads };
      const start = startScan(files, options);
      try {
        await neverSilent(() => withVault(opts, async (db) => {
          const result = await scanAndTrace(db, files, (file, n, fraction) => progress(`${file}: ${n.toLocaleString('en')} records`, fraction), { ...options, start });
          progressDone();
          const unread = result.files.filter((f) => f.records === 0 && f.warnings.some((w) => w.skipped));
          if (unread.length === result.files.length) {
            const w = unread[0].warnings.find((x) => x.skipped)!;
            throw new UserError(`no file could be read: ${w.file}: ${w.message}${unread.length > 1 ? ` (and ${unread.length - 1} more file(s) not readable)` : ''}`);
          }
          const pct = (p: number) => `${(p * 100).toFixed(p > 0.999 && p < 1 ? 2 : 1)}%`;
          // `parts` (a merged suspect's two channels) is always present in JSON: null for the others.
          emit(!!opts.json, { ...result, suspects: result.suspects.map((s) => ({ ...s, parts: s.parts ?? null })) }, () => [
            ...result.files.map((f) => `${f.file}: ${f.records.toLocaleString('en')} records, ${f.format}, ${f.encoding}, sha256 ${f.sha256.slice(0, 16)}…`),
            ...result.files.flatMap((f) => f.warnings.map((w) => `warning: ${w.file}${w.where ? ` (${w.where})` : ''}: ${w.message}`)),
            result.matches.length
              ? table(['FILE', 'WHERE', 'COLUMN', 'CANARY', 'MATCHED', 'CONF'], result.matches.map((m) => [m.file, m.place, m.column, m.canaryId, m.matched, m.confidence.toFixed(2)]))
              : 'no canaries found',
            ...(result.weak.length ? [`${result.weak.length} canaries with weak evidence only (a name, or a masked phone with no name): not used to name a suspect`] : []),
            ...(result.suspects.length
              ? ['', 'most likely suspects:', table(['SUSPECT', 'KIND', 'P', 'EXPLAINS', 'EXPORT', 'OPERATOR'], result.suspects.slice(0, 5).map((s) => [s.label, s.kind, pct(s.posterior), `${s.explains.length}/${s.explains.length + s.unexplained.length}`, s.export?.id, s.export?.operator]))]
              : []),
            ...(result.incidentId ? [`recorded incident ${result.incidentId}`] : []),
          ]);
          if (result.matches.length) process.exitCode = EXIT_CANARIES_FOUND;
        }));
      } finally {
        await start.close(); // also when the vault does not open: the threads would keep the process alive
      }
    });
  onAction(program.commands.slice(first), load);
}

/**
 * Runs `work`; should Node run out of things to do while it waits (a reader waiting for an event that
 * never comes), it exits 1 saying so instead of 0 with nothing said.
 */
async function neverSilent<T>(work: () => Promise<T>): Promise<T> {
  const unfinished = () => {
    process.stderr.write('cradle: the scan stopped before it finished (a file reader never completed): nothing was recorded\n');
    process.exit(1);
  };
  process.once('beforeExit', unfinished);
  try {
    return await work();
  } finally {
    process.off('beforeExit', unfinished);
  }
}
