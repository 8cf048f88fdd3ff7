import path from 'node:path';
import type { Command } from 'commander';
import { CONFIG_FILE, loadConfig, selectHospital, type Config, type HospitalConfig } from '../config/index.js';
import { migrate, openDatabase, type Database } from '../db/index.js';
import { UserError } from '../lib/errors.js';
import { loadMapping, type Mapping } from '../targetdb/mapping.js';
import { ensureHospital, sealRowsBaseline } from '../vault/index.js';

// The CLI is the only place that opens databases. Locations come from flags, then the environment,
// then cradle.config.json.

export interface GlobalOptions {
  config?: string;
  vault?: string;
  target?: string;
  hospital?: string;
}

export function globals(cmd: Command): GlobalOptions & Record<string, unknown> {
  return cmd.optsWithGlobals();
}

export function configPath(opts: GlobalOptions): string {
  return path.resolve(opts.config ?? (process.env.CRADLE_CONFIG || undefined) ?? CONFIG_FILE);
}

export function readConfig(opts: GlobalOptions, required = true): Config | null {
  const file = configPath(opts);
  try {
    return loadConfig(file);
  } catch (err) {
    if (!required && err instanceof UserError && err.message.startsWith('no ')) return null;
    throw err;
  }
}

/** The hospital named by --hospital, checked against the config; undefined without the flag. */
export function hospitalFilter(opts: GlobalOptions, config: Config | null): string | undefined {
  if (!opts.hospital) return undefined;
  if (!config) throw new UserError(`--hospital needs a ${CONFIG_FILE} naming that hospital (or --config <file>)`);
  return selectHospital(config, opts.hospital).name;
}

export function vaultLocation(opts: GlobalOptions, config: Config | null): string {
  const location = opts.vault ?? (process.env.CRADLE_VAULT || undefined) ?? config?.vault;
  if (!location) throw new UserError(`no vault: pass --vault <dir|postgres://...>, set CRADLE_VAULT, or run \`cradle init\``);
  return location;
}

/** Open the vault, bring its schema up to date, register the config's hospitals, run `fn`, close. */
export async function withVault<T>(opts: GlobalOptions, fn: (vault: Database, config: Config | null) => Promise<T>, options: { create?: boolean; configRequired?: boolean } = {}): Promise<T> {
  const config = readConfig(opts, options.configRequired ?? false);
  const vault = await openDatabase(vaultLocation(opts, config), { role: 'vault', create: options.create });
  try {
    await migrate(vault, undefined, { existingOnly: true });
    await sealRowsBaseline(vault); // once, after migration 010 on a vault that held rows (docs/ledger.md)
    for (const h of config?.hospitals.values() ?? []) await ensureHospital(vault, h.name, h.locale);
    return await fn(vault, config);
  } finally {
    await vault.close();
  }
}

export interface HospitalContext {
  config: Config;
  hospital: HospitalConfig;
  mapping: Mapping;
  vault: Database;
  target: Database;
}

export function targetLocation(opts: GlobalOptions, hospital: HospitalConfig): string {
  return opts.target ?? (process.env.CRADLE_TARGET_URL || undefined) ?? hospital.target;
}

/** Everything a command on one hospital needs: its config, mapping, vault and target. */
export async function withHospital<T>(opts: GlobalOptions, fn: (ctx: HospitalContext) => Promise<T>, options: { vault?: boolean } = {}): Promise<T> {
  const config = readConfig(opts)!;
  const hospital = selectHospital(config, opts.hospital);
  const mapping = loadMapping(hospital.mappingFile);
  const run = async (vault: Database) => {
    const target = await openDatabase(targetLocation(opts, hospital), { role: `target of ${hospital.name}` });
    try {
      return await fn({ config, hospital, mapping, vault, target });
    } finally {
      await target.close();
    }
  };
  if (options.vault === false) return run(null as unknown as Database);
  return withVault(opts, run, { configRequired: true });
}
