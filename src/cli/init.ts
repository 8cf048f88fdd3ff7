import fs from 'node:fs';
import path from 'node:path';
import type { Command } from 'commander';
import type * as ConfigModule from '../config/index.js';
import { CONFIG_FILE } from '../config/file.js';
import type * as Db from '../db/index.js';
import { writeOutFile } from '../lib/out-file.js';
import { redact } from '../lib/redact.js';
import { FIXTURES_DIR } from '../lib/paths.js';
import type * as Ledger from '../vault/ledger.js';
import { action, configPath, onAction, type JsonOption } from './context.js';
import { emit } from './output.js';

// The action's modules, loaded when the command runs (src/cli/context.ts).
let configTemplate: typeof ConfigModule.configTemplate;
let loadConfig: typeof ConfigModule.loadConfig;
let isServerLocation: typeof Db.isServerLocation;
let locationKind: typeof Db.locationKind;
let migrate: typeof Db.migrate;
let openDatabase: typeof Db.openDatabase;
let resolveServer: typeof Db.resolveServer;
let withoutPassword: typeof Db.withoutPassword;
let sealRowsBaseline: typeof Ledger.sealRowsBaseline;
async function load(): Promise<void> {
  [{ configTemplate, loadConfig }, { isServerLocation, locationKind, migrate, openDatabase, resolveServer, withoutPassword }, { sealRowsBaseline }] = [
    await import('../config/index.js'),
    await import('../db/index.js'),
    await import('../vault/ledger.js'),
  ];
}

interface InitOptions extends JsonOption {
  force?: boolean;
}

export function registerInit(program: Command): void {
  const first = program.commands.length;
  program
    .command('init')
    .description('create the vault and, if there is none, a cradle.config.json template and mapping.json')
    .option('--force', 'overwrite an existing cradle.config.json')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      '\nThe vault and the target may be postgres:// URLs, libpq connection strings or services; a password in them is\n' +
        'used but never written to cradle.config.json: put it in ~/.pgpass (or PGPASSWORD, or a pg_service.conf service).\n' +
        'The target may also be mysql://user@host:3306/database (MySQL/MariaDB; its password in ~/.my.cnf or MYSQL_PWD).\n' +
        '\nExamples:\n  cradle init\n  cradle init --vault postgres://cradle@vault.example.org/cradle --target postgres://cradle_seed@his.example.org/his\n' +
        '  cradle init --vault "host=vault.example.org dbname=cradle user=cradle sslmode=verify-full" --target "service=his"\n' +
        '  cradle init --vault postgres://cradle@vault.example.org/cradle --target mysql://cradle_seed@his-db.example.org:3306/his',
    )
    .action(action<InitOptions>(async (opts) => {
      const file = configPath(opts);
      const dir = path.dirname(file);
      const created: string[] = [];
      const notes: string[] = [];
      // lstat: a link (even a dangling one) counts as there, and is replaced, never written through.
      const there = (f: string) => fs.lstatSync(f, { throwIfNoEntry: false }) !== undefined;
      const writeConfig = !there(file) || !!opts.force;
      const vaultArg = opts.vault ?? (process.env.CRADLE_VAULT || undefined);
      const targetArg = opts.target ?? (process.env.CRADLE_TARGET_URL || undefined);
      if (vaultArg) locationKind(vaultArg, 'vault');
      if (targetArg) locationKind(targetArg, 'target');
      // The vault is opened first: a location that cannot be opened leaves no config or mapping behind.
      const vaultLocation = vaultArg ?? (writeConfig ? path.join(dir, '.cradle') : loadConfig(file).vault);
      const vault = await openDatabase(vaultLocation, { role: 'vault', create: true });
      let applied: string[];
      try {
        if (writeConfig) {
          // Locations given on the command line are relative to where it runs; the config's are relative to the config.
          // A password is never written to the config: it says where the password goes instead.
          const written = (location: string, role: string) => {
            if (!isServerLocation(location)) return path.relative(dir, path.resolve(location)) || '.';
            const stripped = withoutPassword(location);
            if (stripped.hadPassword) notes.push(passwordAdvice(stripped.location, role));
            return stripped.location;
          };
          const template = configTemplate(vaultArg ? written(vaultArg, 'vault') : '.cradle', targetArg ? written(targetArg, 'target') : 'postgres://cradle@localhost:5432/hospital');
          fs.mkdirSync(dir, { recursive: true });
          await writeOutFile(file, (f) => f.write(JSON.stringify(template, null, 2) + '\n'), { force: !!opts.force, flag: '--config' });
          created.push(file);
        }
        const mappingFile = path.join(dir, 'mapping.json');
        if (!there(mappingFile)) {
          await writeOutFile(mappingFile, (f) => f.write(fs.readFileSync(path.join(FIXTURES_DIR, 'mappings', 'reference.json'))), { mode: 0o644 });
          created.push(mappingFile);
        }
        loadConfig(file);
        applied = await migrate(vault);
        await sealRowsBaseline(vault); // once, after migration 010 on a vault that held rows (docs/ledger.md)
      } finally {
        await vault.close();
      }
      const data = { config: file, created, vault: redact(vaultLocation), migrationsApplied: applied, notes };
      emit(!!opts.json, data, () => [
        ...created.map((f) => `created ${path.relative(process.cwd(), f) || f}`),
        ...notes.map((n) => `note: ${n}`),
        `vault ready at ${redact(vaultLocation)}${applied.length ? ` (applied ${applied.join(', ')})` : ' (up to date)'}`,
        'next: edit the config (target URL, wards, districts), then `cradle target check`, `cradle pool add --file numbers.txt`, `cradle seed --count 20 --dry-run`',
      ]);
    }));
  onAction(program.commands.slice(first), load);
}

/** Where the password left out of the config goes: the .pgpass line for this server, PGPASSWORD or a service. */
function passwordAdvice(location: string, role: string): string {
  if (/^(mysql|mariadb):\/\//i.test(location)) {
    return `the ${role}'s password was not written to ${CONFIG_FILE}; put it in ~/.my.cnf under [client] as password=<password> (chmod 600 ~/.my.cnf), or in MYSQL_PWD, or name another option file with ?option-file=<path>`;
  }
  let line = 'host:port:database:user:password';
  try {
    const s = resolveServer(location);
    const esc = (v: string) => v.replace(/[\\:]/g, (c) => `\\${c}`);
    line = `${esc(s.host)}:${s.port}:${esc(s.dbname)}:${esc(s.user)}:<password>`;
  } catch {
    // a service not found yet: the generic line
  }
  return `the ${role}'s password was not written to ${CONFIG_FILE}; put it in ~/.pgpass as ${line} (chmod 600 ~/.pgpass), or in PGPASSWORD, or in a pg_service.conf service`;
}
