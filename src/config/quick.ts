import { LOCALES, parseChannel } from '../domain/index.js';
import { DEFAULT_BURN_IN_DAYS } from './file.js';
import type { ConfigData } from './schema.js';

// cradle.config.json read without zod, for the configs most commands meet: a vault, a default
// hospital and the hospitals, with no watch or alerts section. Loading zod and building the schemas
// of src/config/schema.ts is about a third of a short command's own start-up (issue 18).
//
// quickConfig gives exactly what ConfigSpec.parse would give for such a config (defaults filled in),
// or null whenever it is not sure: any other section, any value zod would refuse, anything unusual
// (a key holding undefined, an object that is not plain). A null sends the config through zod, which
// then either reads it or words its problems; test/config/quick.test.ts compares the two.

/** Thrown inside quickConfig when the config needs zod; never leaves this module. */
class NeedsZod extends Error {}

const fail = (): never => {
  throw new NeedsZod();
};

type Plain = Record<string, unknown>;

/** A plain object (JSON's) whose keys are all among `allowed` (a strict zod object), none holding undefined. */
function object(value: unknown, allowed: readonly string[]): Plain {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) fail();
  const obj = value as Plain;
  for (const key of Object.keys(obj)) if (!allowed.includes(key) || obj[key] === undefined) fail();
  return obj;
}

/** A record's entries (a plain object; keys never __proto__ nor empty). */
function entries(value: unknown): [string, unknown][] {
  if (typeof value !== 'object' || value === null || Object.getPrototypeOf(value) !== Object.prototype) fail();
  const list = Object.entries(value as Plain);
  for (const [key, v] of list) if (key === '' || key === '__proto__' || v === undefined) fail();
  return list;
}

function string(value: unknown, min = 0): string {
  return typeof value === 'string' && value.length >= min ? value : fail();
}

function integer(value: unknown, min: number): number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value >= min ? value : fail();
}

function oneOf<T extends string>(value: unknown, values: readonly T[]): T {
  return typeof value === 'string' && (values as readonly string[]).includes(value) ? (value as T) : fail();
}

function strings(value: unknown, minItems: number): string[] {
  if (!Array.isArray(value) || value.length < minItems) fail();
  return (value as unknown[]).map((v) => string(v, 1));
}

function channel(value: unknown): string {
  const s = string(value);
  try {
    parseChannel(s);
  } catch {
    fail();
  }
  return s;
}

type HospitalData = ConfigData['hospitals'][string];

function hospital(value: unknown): HospitalData {
  const h = object(value, ['displayName', 'target', 'mapping', 'locale', 'timeZone', 'accessActions', 'wards', 'nicuWards', 'districts', 'seedChannel', 'pool', 'profile', 'realism', 'rotation']);
  const pool = h.pool === undefined ? {} : object(h.pool, ['cooldownDays', 'burnInDays', 'fatherNumbers', 'sharing']);
  const out: HospitalData = {
    target: string(h.target, 1),
    mapping: string(h.mapping, 1),
    locale: h.locale === undefined ? 'zh-CN' : oneOf(h.locale, LOCALES),
    timeZone: h.timeZone === undefined ? 'Asia/Shanghai' : string(h.timeZone),
    wards: strings(h.wards, 1),
    districts: strings(h.districts, 1),
    seedChannel: h.seedChannel === undefined ? 'system:his' : channel(h.seedChannel),
    pool: {
      cooldownDays: pool.cooldownDays === undefined ? 730 : integer(pool.cooldownDays, 0),
      burnInDays: pool.burnInDays === undefined ? DEFAULT_BURN_IN_DAYS : integer(pool.burnInDays, 0),
      fatherNumbers: pool.fatherNumbers === undefined ? 'own' : oneOf(pool.fatherNumbers, ['own', 'mother'] as const),
      sharing: pool.sharing === undefined ? 'exclusive' : oneOf(pool.sharing, ['exclusive', 'shared'] as const),
    },
  };
  if (h.displayName !== undefined) out.displayName = string(h.displayName, 1);
  if (h.accessActions !== undefined) out.accessActions = Object.fromEntries(entries(h.accessActions).map(([k, v]) => [k, string(v, 1)]));
  if (h.nicuWards !== undefined) out.nicuWards = strings(h.nicuWards, 0);
  if (h.profile !== undefined) {
    const p = object(h.profile, ['k']);
    out.profile = { k: p.k === undefined ? 5 : integer(p.k, 2) };
  }
  if (h.realism !== undefined) {
    const r = object(h.realism, ['warnAbove']);
    const warnAbove = r.warnAbove;
    out.realism = { warnAbove: typeof warnAbove === 'number' && warnAbove >= 0.5 && warnAbove <= 1 ? warnAbove : fail() };
  }
  if (h.rotation !== undefined) {
    const r = object(h.rotation, ['perWeek', 'allocation', 'minPerWard', 'perWard']);
    out.rotation = {
      allocation: r.allocation === undefined ? 'births' : oneOf(r.allocation, ['births', 'equal'] as const),
      minPerWard: r.minPerWard === undefined ? 1 : integer(r.minPerWard, 0),
    };
    if (r.perWeek !== undefined) out.rotation.perWeek = integer(r.perWeek, 1);
    if (r.perWard !== undefined) out.rotation.perWard = Object.fromEntries(entries(r.perWard).map(([k, v]) => [k, integer(v, 0)]));
  }
  return out;
}

/** The config as ConfigSpec would parse it, when it is one this module reads; else null (use zod). */
export function quickConfig(doc: unknown): ConfigData | null {
  try {
    const c = object(doc, ['vault', 'defaultHospital', 'hospitals']);
    if (c.hospitals === undefined) return null;
    const hospitals: Record<string, HospitalData> = {};
    for (const [name, h] of entries(c.hospitals)) {
      if (!/^[A-Za-z0-9_.-]+$/.test(name)) return null;
      hospitals[name] = hospital(h);
    }
    const out: ConfigData = { vault: c.vault === undefined ? '.cradle' : string(c.vault, 1), hospitals };
    if (c.defaultHospital !== undefined) out.defaultHospital = string(c.defaultHospital);
    return out;
  } catch (err) {
    if (err instanceof NeedsZod) return null;
    throw err;
  }
}
