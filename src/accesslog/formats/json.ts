import { convert, fail, reject, shown } from '../fields.js';
import { TOO_LONG_REASON, type Line } from '../lines.js';
import type { AccessRow, ParsedLine } from '../../domain/access.js';

// One JSON object per line (JSON Lines, FHIR NDJSON): the reading both formats share.

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type JsonObject = { [key: string]: Json };

export async function* parseJsonLines(lines: AsyncIterable<Line>, build: (json: JsonObject) => AccessRow): AsyncGenerator<ParsedLine> {
  for await (const l of lines) {
    if (l.tooLong) yield reject(l.line, TOO_LONG_REASON, l.text);
    else if (!l.text.trim()) continue;
    else yield convert(l.line, l.text, () => build(parseJsonObject(l.text)));
  }
}

/**
 * Deeper than any log record or AuditEvent nests; a line nested deeper is a reject, read no further:
 * JSON.parse copes, but walking or printing such a value recursively overflows the stack.
 */
const MAX_JSON_DEPTH = 64;

function parseJsonObject(text: string): JsonObject {
  if (nestedDeeper(text, MAX_JSON_DEPTH)) fail(`json: nested deeper than ${MAX_JSON_DEPTH} levels`);
  let json: Json;
  try {
    json = JSON.parse(text) as Json;
  } catch (err) {
    return fail(`json: not valid JSON (${(err as Error).message})`);
  }
  return asObject(json) ?? fail(`json: expected one JSON object per line, got ${typeName(json)}`);
}

/** Whether JSON text opens more than `max` objects or arrays inside each other (one pass, strings skipped). */
function nestedDeeper(text: string, max: number): boolean {
  let depth = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (inString) {
      if (c === 0x5c) i++;
      else if (c === 0x22) inString = false;
    } else if (c === 0x22) inString = true;
    else if (c === 0x7b || c === 0x5b) {
      if (++depth > max) return true;
    } else if (c === 0x7d || c === 0x5d) depth--;
  }
  return false;
}

export function asObject(value: Json | undefined): JsonObject | undefined {
  return value !== null && typeof value === 'object' && !Array.isArray(value) ? value : undefined;
}

export function typeName(value: Json | undefined): string {
  if (value === null) return 'null';
  if (Array.isArray(value)) return 'an array';
  return typeof value === 'object' ? 'an object' : `a ${typeof value}`;
}

/** A JSON value for a reason: text as shown(), anything else as its JSON, cut at 80 characters. */
export function shownJson(value: Json): string {
  if (typeof value === 'string') return shown(value);
  const json = JSON.stringify(value);
  return json.length > 80 ? `${json.slice(0, 80)}…` : json;
}

export function jsonString(value: Json | undefined): string | undefined {
  return typeof value === 'string' && value.trim() ? value.trim() : undefined;
}

export function jsonArray(value: Json | undefined): Json[] {
  return Array.isArray(value) ? value : value === undefined ? [] : [value];
}
