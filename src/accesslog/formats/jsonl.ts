import { buildRow, fail, labelsFor, rowReading, type RawFields } from '../fields.js';
import { asObject, typeName, type Json, type JsonObject } from './json.js';
import { ACCESS_FIELDS, type AccessRow, type ParseOptions } from '../../domain/access.js';

// JSON Lines logs: one object per line, fields found by key or dotted path (and --map).

/** A key of the object, or a dotted path into nested objects ("actor.id") when no key has that exact name. */
function lookup(obj: JsonObject, key: string): Json | undefined {
  if (key in obj) return obj[key];
  let value: Json | undefined = obj;
  for (const part of key.split('.')) value = asObject(value)?.[part];
  return value;
}

export function jsonlRow(obj: JsonObject, options: ParseOptions): AccessRow {
  const labels = labelsFor(options.map);
  const raw: RawFields = {};
  for (const f of ACCESS_FIELDS) {
    const value = lookup(obj, options.map?.[f] ?? f);
    if (f === 'record') raw.record = jsonRecord(value, labels.record);
    else raw[f] = jsonText(value, labels[f]);
  }
  return buildRow(raw, labels, rowReading(options));
}

function jsonText(value: Json | undefined, label: string): string | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === 'string') return value;
  if (typeof value === 'number') return String(value);
  return fail(`${label}: expected text or a number, got ${typeName(value)}`);
}

function jsonRecord(value: Json | undefined, label: string): string | string[] | undefined {
  if (!Array.isArray(value)) return jsonText(value, label);
  return value.map((v) => jsonText(v, label) ?? '');
}
