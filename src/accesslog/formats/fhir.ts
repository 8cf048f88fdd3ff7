import { BULK_ACTIONS, classifyAction, fail, shown, SINGLE_ACTIONS } from '../fields.js';
import { parseTimestamp, TIMESTAMP_HINT } from '../time.js';
import { asObject, jsonArray, jsonString, shownJson, type Json, type JsonObject } from './json.js';
import type { AccessRow } from '../../domain/access.js';

// FHIR R4 (and R5) AuditEvent as NDJSON: who, what action, on which entities, from where.

const FHIR_ACTIONS: Record<string, string> = { C: 'create', R: 'read', U: 'update', D: 'delete', E: 'execute' };

/** http://hl7.org/fhir/restful-interaction codes, which AuditEvent.subtype uses for REST operations. */
const REST_INTERACTIONS = new Set([
  'read', 'vread', 'update', 'patch', 'delete', 'history', 'history-instance', 'history-type', 'history-system',
  'create', 'search', 'search-type', 'search-system', 'capabilities', 'transaction', 'batch', 'operation',
]);

/** Interactions that return whatever matched: bulk even when they happen to name one record. */
const FHIR_BULK = new Set(['search', 'search-type', 'search-system', 'history-type', 'history-system', 'batch', 'transaction']);

interface Coding {
  code?: string;
  display?: string;
}

export function fhirRow(ev: JsonObject, timeZone: string): AccessRow {
  if (ev.resourceType !== 'AuditEvent') {
    fail(ev.resourceType === undefined ? 'resourceType: missing (expected AuditEvent)' : `resourceType: ${shownJson(ev.resourceType)} is not AuditEvent`);
  }
  const recorded = jsonString(ev.recorded) ?? fail('recorded: missing');
  const at = parseTimestamp(recorded, timeZone) ?? fail(`recorded: ${shown(recorded)} is not a timestamp (${TIMESTAMP_HINT})`);
  const agents = jsonArray(ev.agent).map(asObject).filter((a) => a !== undefined);
  if (!agents.length) fail('agent: missing');
  const agent = agents.find((a) => a.requestor === true) ?? agents[0];
  const account = agentAccount(agent) ?? fail('agent.who: missing (no who.identifier.value or who.reference)');
  const subtypes = codings(ev.subtype);
  const action = fhirAction(ev.action, subtypes, codings(ev.type));
  const entities = jsonArray(ev.entity).map(asObject).filter((e) => e !== undefined);
  const records = [...new Set(entities.map(entityKey).filter((k) => k !== undefined))];
  const bulk = subtypes.some((c) => FHIR_BULK.has(c.code?.toLowerCase() ?? '')) || entities.some((e) => e.query !== undefined);
  return {
    at,
    account,
    action,
    scope: bulk ? 'bulk' : classifyAction(action, records.length),
    records,
    system: observer(asObject(ev.source)),
    ip: networkAddress(agent) ?? agents.map(networkAddress).find((a) => a !== null) ?? null,
  };
}

/** Codings of a Coding, a Coding[] (R4 subtype) or a CodeableConcept (R5 type): one level, as FHIR nests them. */
function codings(value: Json | undefined): Coding[] {
  const coding = (o: JsonObject): Coding => ({ code: jsonString(o.code), display: jsonString(o.display) });
  return jsonArray(value).flatMap((v) => {
    const o = asObject(v);
    if (!o) return [];
    if (Array.isArray(o.coding)) return o.coding.map(asObject).filter((c) => c !== undefined).map(coding);
    return [coding(o)];
  });
}

/** The REST interaction when a subtype names one, else a known action word in a subtype or type, else the action code. */
function fhirAction(code: Json | undefined, subtypes: Coding[], types: Coding[]): string {
  const rest = subtypes.map((c) => c.code?.toLowerCase() ?? '').find((c) => REST_INTERACTIONS.has(c));
  if (rest) return rest;
  for (const c of [...subtypes, ...types]) {
    const word = [c.code, c.display].map((w) => w?.toLowerCase()).find((w) => w && (SINGLE_ACTIONS.includes(w) || BULK_ACTIONS.includes(w)));
    if (word) return word;
  }
  if (typeof code === 'string' && FHIR_ACTIONS[code]) return FHIR_ACTIONS[code];
  return fail(code === undefined ? 'action: missing (and no subtype names a REST interaction)' : `action: ${shownJson(code)} is not C, R, U, D or E`);
}

function agentAccount(agent: JsonObject): string | undefined {
  const who = asObject(agent.who);
  return jsonString(asObject(who?.identifier)?.value) ?? jsonString(who?.reference) ?? jsonString(who?.display) ?? jsonString(agent.altId) ?? jsonString(agent.name);
}

function networkAddress(agent: JsonObject): string | null {
  // R4 agent.network.address; R5 agent.networkString.
  return jsonString(asObject(agent.network)?.address) ?? jsonString(agent.networkString) ?? null;
}

function observer(source: JsonObject | undefined): string | null {
  const o = asObject(source?.observer);
  return jsonString(o?.display) ?? jsonString(asObject(o?.identifier)?.value) ?? jsonString(o?.reference) ?? null;
}

/** The id in what.reference ("Patient/123", ".../Patient/123/_history/2" → "123"), else what.identifier.value. */
function entityKey(entity: JsonObject): string | undefined {
  const what = asObject(entity.what);
  const ref = jsonString(what?.reference);
  if (ref) {
    const path = ref.replace(/[?#].*$/, '').replace(/\/_history\/[^/]*$/, '');
    return path.slice(path.lastIndexOf('/') + 1) || undefined;
  }
  return jsonString(asObject(what?.identifier)?.value);
}
