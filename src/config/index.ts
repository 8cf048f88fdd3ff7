import path from 'node:path';
import { createRequire } from 'node:module';
import type { z as Z } from 'zod';
import { parseChannel, type ChannelRef, type Locale } from '../domain/index.js';
import { isServerLocation } from '../db/index.js';
import { UserError } from '../lib/errors.js';
import { readJsonFile } from '../lib/json-file.js';
import { isTimeZone } from '../lib/zone-name.js';
import { excerpt, problemLines, quoted } from '../lib/control.js';

// cradle.config.json: where the vault is, and per hospital its target, mapping, wards, districts,
// trap-pool settings and weekly rotation plan. Relative paths are relative to the config file.

export { CONFIG_FILE } from './file.js';
import { configSchemas, type AlertsConfig, type ConfigData, type WatchConfig } from './schema.js';
import { quickConfig } from './quick.js';
export { ROBOT_KINDS, SYSLOG_FACILITIES, type AlertsConfig, type RobotKind, type WatchConfig } from './schema.js';

/** Days `cradle pool add` keeps new trap numbers in burn-in by default: two weeks of the background calls a number gets. */
import { DEFAULT_BURN_IN_DAYS } from './file.js';
export { DEFAULT_BURN_IN_DAYS };
/** The old guess of a NICU from its name, used only when a hospital does not declare nicuWards. */
export const NICU_NAME = /NICU|新生儿重症/i;
/** Names that may be a neonatal ward the guess misses (新生儿科, Neonatology, SCBU): worth a warning. */
const NEONATAL_NAME = /NICU|新生儿|neonat|SCBU|special care/i;

/**
 * Config advice that does not stop Cradle: a hospital with a ward that looks neonatal but no
 * nicuWards declared, whose NICU babies are then guessed from ward names (新生儿科 would get term babies).
 */
export function hospitalWarnings(config: { file: string }, h: HospitalConfig): string[] {
  const neonatal = h.wards.filter((w) => NEONATAL_NAME.test(w));
  if (h.nicuWardsDeclared || neonatal.length === 0) return [];
  return [
    `${config.file}: hospitals.${h.name}.nicuWards: not declared; guessed ${h.nicuWards.length ? h.nicuWards.map((w) => quoted(w)).join(', ') : 'none'} from the ward names ` +
      `(${neonatal.map((w) => quoted(w)).join(', ')} look neonatal): declare "nicuWards": [...] (or []) so that canaries there get the right babies`,
  ];
}

/** Relative certificate files of syslog receivers, resolved against the config file's folder. */
function resolveAlertFiles(base: string, alerts: AlertsConfig): AlertsConfig {
  if (!alerts.syslog) return alerts;
  const file = (f: string | undefined) => (f === undefined ? undefined : path.resolve(base, f));
  return { ...alerts, syslog: alerts.syslog.map((s) => ({ ...s, ca: file(s.ca), cert: file(s.cert), key: file(s.key) })) };
}

export interface HospitalConfig {
  name: string;
  displayName: string;
  target: string;
  mappingFile: string;
  locale: Locale;
  timeZone: string;
  /** The hospital's access-log action words (config `accessActions`); undefined: only the built-in words. */
  accessActions?: Record<string, string>;
  wards: string[];
  /** Neonatal intensive care wards (declared, or guessed from the names when nicuWardsDeclared is false). */
  nicuWards: string[];
  nicuWardsDeclared: boolean;
  districts: string[];
  seedChannel: ChannelRef;
  cooldownDays: number;
  /** Days new trap numbers spend in burn-in (config pool.burnInDays). */
  burnInDays: number;
  /** pool.fatherNumbers: "mother" gives a canary's father the mother's trap number; absent or "own", one of his own. */
  fatherNumbers?: 'own' | 'mother';
  /** pool.sharing: "shared" lets several canaries hold a number at once (docs/trace.md); absent or "exclusive", one. */
  sharing?: 'exclusive' | 'shared';
  /** The explicit plan (rotation.perWard), or null when the rotation allocates perWeek or there is none. */
  rotation: Record<string, number> | null;
  /** The k of `cradle target profile` (config `profile.k`); undefined: the default. */
  profileK?: number;
  /** The ROC AUC above which the realism audit warns (config `realism.warnAbove`); undefined: the default. */
  realismWarnAbove?: number;
  /** rotation.perWeek and how it is shared; null with an explicit perWard plan or no rotation. */
  rotationPerWeek: { total: number; allocation: 'births' | 'equal'; minPerWard: number } | null;
}

export interface Config {
  file: string;
  vault: string;
  defaultHospital?: string;
  hospitals: Map<string, HospitalConfig>;
  watch?: WatchConfig;
  alerts?: AlertsConfig;
}

function resolveLocation(base: string, location: string): string {
  return isServerLocation(location) ? location : path.resolve(base, location);
}

let schemas: ReturnType<typeof configSchemas> | undefined;

/**
 * The config checked by its zod schema (src/config/schema.ts), zod loaded on first use. zod is
 * required, not imported: loadConfig stays synchronous, and a config quickConfig reads never loads it.
 */
function zodParse(doc: unknown): { success: true; data: ConfigData } | { success: false; error: { issues: readonly { path: readonly PropertyKey[]; message: string }[] } } {
  schemas ??= configSchemas((createRequire(import.meta.url)('zod') as { z: typeof Z }).z);
  return schemas.ConfigSpec.safeParse(doc);
}

export function parseConfig(doc: unknown, file: string): Config {
  // The plain configs (no watch or alerts sections) are read without zod; anything else, and every
  // config with a problem, goes through zod, which words the problems.
  const quick = quickConfig(doc);
  const parsed = quick ? { success: true as const, data: quick } : zodParse(doc);
  if (!parsed.success) {
    throw new UserError(
      problemLines(parsed.error.issues.map((i) => `${file}: ${excerpt(i.path.map(String).join('.')) || '(top level)'}: ${excerpt(i.message)}`)),
    );
  }
  const base = path.dirname(path.resolve(file));
  const problems: string[] = [];
  const hospitals = new Map<string, HospitalConfig>();
  for (const [name, h] of Object.entries(parsed.data.hospitals)) {
    if (!isTimeZone(h.timeZone)) problems.push(`${file}: hospitals.${excerpt(name)}.timeZone: unknown time zone ${quoted(h.timeZone)}`);
    (h.nicuWards ?? []).forEach((ward, i) => {
      if (!h.wards.includes(ward)) problems.push(`${file}: hospitals.${excerpt(name)}.nicuWards.${i}: ${quoted(ward)} is not one of the hospital's wards (${excerpt(h.wards.join(', '))})`);
    });
    const at = `${file}: hospitals.${excerpt(name)}.rotation`;
    if (h.rotation && (h.rotation.perWard === undefined) === (h.rotation.perWeek === undefined)) {
      problems.push(`${at}: give either perWeek (shared among wards by allocation) or perWard (an explicit plan), not ${h.rotation.perWard ? 'both' : 'neither'}`);
    }
    if (h.rotation?.perWeek !== undefined && h.rotation.perWeek < h.rotation.minPerWard * h.wards.length) {
      problems.push(`${at}.perWeek: ${h.rotation.perWeek} cannot give each of the ${h.wards.length} wards minPerWard ${h.rotation.minPerWard}; raise perWeek to at least ${h.rotation.minPerWard * h.wards.length} or lower minPerWard`);
    }
    for (const ward of Object.keys(h.rotation?.perWard ?? {})) {
      if (!h.wards.includes(ward)) problems.push(`${file}: hospitals.${excerpt(name)}.rotation.perWard.${excerpt(ward)}: not one of the hospital's wards (${excerpt(h.wards.join(', '))})`);
    }
    hospitals.set(name, {
      name,
      displayName: h.displayName ?? name,
      target: resolveLocation(base, h.target),
      mappingFile: path.resolve(base, h.mapping),
      locale: h.locale,
      timeZone: h.timeZone,
      wards: h.wards,
      nicuWards: h.nicuWards ?? h.wards.filter((w) => NICU_NAME.test(w)),
      nicuWardsDeclared: h.nicuWards !== undefined,
      districts: h.districts,
      seedChannel: parseChannel(h.seedChannel),
      cooldownDays: h.pool.cooldownDays,
      burnInDays: h.pool.burnInDays,
      fatherNumbers: h.pool.fatherNumbers,
      sharing: h.pool.sharing,
      rotation: h.rotation?.perWard ?? null,
      ...(h.accessActions ? { accessActions: h.accessActions } : {}),
      ...(h.profile ? { profileK: h.profile.k } : {}),
      ...(h.realism ? { realismWarnAbove: h.realism.warnAbove } : {}),
      rotationPerWeek: h.rotation?.perWeek !== undefined && h.rotation.perWard === undefined
        ? { total: h.rotation.perWeek, allocation: h.rotation.allocation, minPerWard: h.rotation.minPerWard }
        : null,
    });
  }
  if (hospitals.size === 0) problems.push(`${file}: hospitals: name at least one hospital`);
  if (parsed.data.defaultHospital && !hospitals.has(parsed.data.defaultHospital)) {
    problems.push(`${file}: defaultHospital: ${quoted(parsed.data.defaultHospital)} is not among hospitals`);
  }
  if (problems.length) throw new UserError(problemLines(problems));
  return { file: path.resolve(file), vault: resolveLocation(base, parsed.data.vault), defaultHospital: parsed.data.defaultHospital, hospitals, watch: parsed.data.watch, alerts: parsed.data.alerts && resolveAlertFiles(base, parsed.data.alerts) };
}

export function loadConfig(file: string): Config {
  const doc = readJsonFile(file, 'config', () => `no ${path.basename(file)} at ${path.dirname(path.resolve(file))}; run \`cradle init\` or pass --config <file>`);
  return parseConfig(doc, file);
}

/** Pick the hospital a command works on: --hospital, else the default, else the only one. */
export function selectHospital(config: Config, name?: string): HospitalConfig {
  const wanted = name ?? config.defaultHospital ?? (config.hospitals.size === 1 ? [...config.hospitals.keys()][0] : undefined);
  if (!wanted) throw new UserError(`${config.file} names several hospitals (${[...config.hospitals.keys()].join(', ')}); choose one with --hospital`);
  const hospital = config.hospitals.get(wanted);
  if (!hospital) throw new UserError(`no hospital "${wanted}" in ${config.file} (known: ${[...config.hospitals.keys()].join(', ')})`);
  return hospital;
}

/** The hospital meant when none is named: the config's default or its only one; null when there is none to choose. */
/** Canaries a week of the hospital's rotation plants: the explicit plan's sum, or perWeek; 0 without a plan. */
export function canariesPerWeek(h: HospitalConfig): number {
  return h.rotation ? Object.values(h.rotation).reduce((a, b) => a + b, 0) : (h.rotationPerWeek?.total ?? 0);
}

export function defaultHospital(config: Config | null): HospitalConfig | null {
  if (!config) return null;
  try {
    return selectHospital(config);
  } catch {
    return null;
  }
}

/** The template `cradle init` writes, pointing at the reference mapping and an embedded vault. */
export function configTemplate(vault: string, target: string): object {
  return {
    vault,
    defaultHospital: 'main',
    hospitals: {
      main: {
        displayName: 'Maternity hospital',
        target,
        mapping: 'mapping.json',
        locale: 'zh-CN',
        timeZone: 'Asia/Shanghai',
        wards: ['产科一病区', '产科二病区', 'NICU'],
        nicuWards: ['NICU'],
        districts: ['鼓楼区', '玄武区', '秦淮区', '建邺区'],
        seedChannel: 'system:his',
        pool: { cooldownDays: 730, burnInDays: DEFAULT_BURN_IN_DAYS },
        rotation: { perWeek: 7, allocation: 'births', minPerWard: 1 },
      },
    },
  };
}
