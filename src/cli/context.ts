import path from 'node:path';
import type { Command } from 'commander';
import type * as ConfigModule from '../config/index.js';
import type { Config, HospitalConfig } from '../config/index.js';
import { CONFIG_FILE } from '../config/file.js';
import type * as DbModule from '../db/index.js';
import type { Database } from '../db/index.js';
import { UserError } from '../lib/errors.js';
import type * as MappingModule from '../targetdb/mapping.js';
import type { Mapping } from '../targetdb/mapping.js';
import type * as VaultModule from '../vault/index.js';

// The CLI is the only place that opens databases. Locations come from flags, then the environment,
// then cradle.config.json.

// Every command's definition is loaded to parse the command line (and for --help); what an action
// needs is loaded when it runs. A command file keeps its actions' modules in `let` bindings filled
// by its `load`, hooked before its commands' actions (onAction); this file's own are filled by
// loadContext, which action() and the with* helpers await. Start-up stays short (docs/cli.md).
// Modules are imported one after another, not with Promise.all: jest's ESM loader (in-process CLI
// tests) fails on two concurrent imports that share a dependency.
let configModule: typeof ConfigModule;
let db: typeof DbModule;
let mappingModule: typeof MappingModule;
let vaultModule: typeof VaultModule;

/** The modules the helpers below use (config, databases, the vault's registration); mappings: loadMappings. */
export async function loadContext(): Promise<void> {
  [configModule, db, vaultModule] = [await import('../config/index.js'), await import('../db/index.js'), await import('../vault/index.js')];
}

/** The mapping module (with its date libraries), for the commands on a hospital's target only. */
async function loadMappings(): Promise<void> {
  mappingModule = await import('../targetdb/mapping.js');
}

/** Run `load` before the action of each command (or any of its subcommands): the modules the actions use. */
export function onAction(commands: readonly Command[], load: () => Promise<void>): void {
  for (const cmd of commands) cmd.hook('preAction', load);
}

export interface GlobalOptions {
  config?: string;
  vault?: string;
  target?: string;
  hospital?: string;
}

/** `--json`, which most commands take. */
export interface JsonOption {
  json?: boolean;
}

/**
 * The command's options, as the interface `O` its caller writes for them says (the parsers give
 * each its type), with the program's global ones.
 */
export function globals<O extends object = object>(cmd: Command): GlobalOptions & O {
  return cmd.optsWithGlobals<GlobalOptions & O>();
}

/**
 * A command's action: `fn` gets the typed options (with the global ones) and the command's arguments.
 * Commander calls an action with its arguments, its options and itself, with `this` the command.
 */
export function action<O extends object = object, A extends unknown[] = []>(fn: (opts: GlobalOptions & O, ...args: A) => Promise<void>) {
  return async function (this: Command, ...args: A): Promise<void> {
    await loadContext();
    await fn(globals<O>(this), ...args);
  };
}

/** An action on the vault: withVault around `fn`, which gets the options, the vault, the config and the arguments. */
export function vaultAction<O extends object = object, A extends unknown[] = []>(fn: (scope: { opts: GlobalOptions & O; db: Database; config: Config | null }, ...args: A) => Promise<void>) {
  return action<O, A>((opts, ...args) => withVault(opts, (db, config) => fn({ opts, db, config }, ...args)));
}

/**
 * `cradle <parent> show <id>`: one vault record by id, with --json and an example; an id the vault does
 * not hold is a user error naming the list command. `show` prints the record.
 */
export function showCommand<T>(
  parent: Command,
  spec: { noun: string; description: string; exampleId: string; get: (db: Database, id: string) => Promise<T | null> },
  show: (scope: { opts: GlobalOptions & JsonOption; db: Database; id: string }, item: T) => Promise<void>,
): void {
  parent
    .command('show <id>')
    .description(spec.description)
    .option('--json', 'print JSON')
    .addHelpText('after', `\nExample:\n  cradle ${parent.name()} show ${spec.exampleId}`)
    .action(vaultAction<JsonOption, [string]>(async ({ opts, db }, id) => {
      const item = await spec.get(db, id);
      if (!item) throw new UserError(`no ${spec.noun} ${id} in the vault; \`cradle ${parent.name()} list\` shows their ids`);
      await show({ opts, db, id }, item);
    }));
}

/** An action on one hospital: withHospital around `fn`. */
export function hospitalAction<O extends object = object, A extends unknown[] = []>(fn: (ctx: HospitalContext & { opts: GlobalOptions & O }, ...args: A) => Promise<void>) {
  return action<O, A>((opts, ...args) => withHospital(opts, (ctx) => fn({ ...ctx, opts }, ...args)));
}

export function configPath(opts: GlobalOptions): string {
  return path.resolve(opts.config ?? (process.env.CRADLE_CONFIG || undefined) ?? CONFIG_FILE);
}

export function readConfig(opts: GlobalOptions): Config;
export function readConfig(opts: GlobalOptions, required: boolean): Config | null;
export function readConfig(opts: GlobalOptions, required = true): Config | null {
  const file = configPath(opts);
  try {
    return configModule.loadConfig(file);
  } catch (err) {
    if (!required && err instanceof UserError && err.message.startsWith('no ')) return null;
    throw err;
  }
}

/** The hospital named by --hospital, checked against the config; null without the flag. */
export function namedHospital(opts: GlobalOptions, config: Config | null): HospitalConfig | null {
  if (!opts.hospital) return null;
  if (!config) throw new UserError(`--hospital needs a ${CONFIG_FILE} naming that hospital (or --config <file>)`);
  return configModule.selectHospital(config, opts.hospital);
}

/** The name of the hospital --hospital names; undefined without the flag. */
export function hospitalFilter(opts: GlobalOptions, config: Config | null): string | undefined {
  return namedHospital(opts, config)?.name;
}

export function vaultLocation(opts: GlobalOptions, config: Config | null): string {
  const location = opts.vault ?? (process.env.CRADLE_VAULT || undefined) ?? config?.vault;
  if (!location) throw new UserError(`no vault: pass --vault <dir|postgres://...|"host=... dbname=..."|service=NAME>, set CRADLE_VAULT, or run \`cradle init\``);
  return location;
}

/** Open the vault, bring its schema up to date, register the config's hospitals, run `fn`, close. */
export async function withVault<T>(opts: GlobalOptions, fn: (vault: Database, config: Config | null) => Promise<T>, options: { create?: boolean; configRequired?: boolean } = {}): Promise<T> {
  await loadContext();
  const config = readConfig(opts, options.configRequired ?? false);
  const vault = await db.openDatabase(vaultLocation(opts, config), { role: 'vault', create: options.create });
  try {
    await db.migrate(vault, undefined, { existingOnly: true });
    await vaultModule.sealRowsBaseline(vault); // once, after migration 010 on a vault that held rows (docs/ledger.md)
    for (const h of config?.hospitals.values() ?? []) await vaultModule.ensureHospital(vault, h.name, h.locale);
    return await fn(vault, config);
  } finally {
    await vault.close();
  }
}

/** A hospital of the config with its mapping and its target database open. */
export interface TargetContext {
  config: Config;
  hospital: HospitalConfig;
  mapping: Mapping;
  target: Database;
}

/** The vault open too: everything a command on one hospital needs. */
export interface HospitalContext extends TargetContext {
  vault: Database;
}

export function targetLocation(opts: GlobalOptions, hospital: HospitalConfig): string {
  return opts.target ?? (process.env.CRADLE_TARGET_URL || undefined) ?? hospital.target;
}

/** The hospital the command works on, with its mapping: read before any database is opened. */
function hospitalScope(opts: GlobalOptions): Omit<TargetContext, 'target'> {
  const config = readConfig(opts);
  const hospital = configModule.selectHospital(config, opts.hospital);
  return { config, hospital, mapping: mappingModule.loadMapping(hospital.mappingFile) };
}

async function inTarget<T>(opts: GlobalOptions, scope: Omit<TargetContext, 'target'>, fn: (ctx: TargetContext) => Promise<T>): Promise<T> {
  const target = await db.openDatabase(targetLocation(opts, scope.hospital), { role: `target of ${scope.hospital.name}` });
  try {
    return await fn({ ...scope, target });
  } finally {
    await target.close();
  }
}

/** The hospital's config, mapping and target, without the vault. */
export async function withTarget<T>(opts: GlobalOptions, fn: (ctx: TargetContext) => Promise<T>): Promise<T> {
  await loadContext();
  await loadMappings();
  return inTarget(opts, hospitalScope(opts), fn);
}

/** Everything a command on one hospital needs: its config, mapping, vault and target. */
export async function withHospital<T>(opts: GlobalOptions, fn: (ctx: HospitalContext) => Promise<T>): Promise<T> {
  await loadContext();
  await loadMappings();
  const scope = hospitalScope(opts);
  return withVault(opts, (vault) => inTarget(opts, scope, (ctx) => fn({ ...ctx, vault })), { configRequired: true });
}
