import type { Command } from 'commander';
import { escapeControls } from '../lib/control.js';
import type * as Trace from '../trace/trace.js';
import type { TraceReport, TraceSuspect } from '../trace/trace.js';
import type * as Ledger from '../vault/ledger.js';
import { positiveInt } from './args.js';
import { onAction, vaultAction, type JsonOption } from './context.js';
import { emit, isoDate, table } from './output.js';

// The action's modules, loaded when the command runs (src/cli/context.ts).
let traceIncident: typeof Trace.traceIncident;
let recordTrace: typeof Ledger.recordTrace;
async function load(): Promise<void> {
  [{ traceIncident }, { recordTrace }] = [await import('../trace/trace.js'), await import('../vault/ledger.js')];
}

// `cradle trace <incident>`: which channel the leaked batch most likely came from, and how sure.

function pct(p: number): string {
  return p >= 0.9995 ? '>99.9%' : p < 0.0005 ? '<0.1%' : `${(100 * p).toFixed(1)}%`;
}

function describe(s: TraceSuspect, total: number): string[] {
  const lines = [`${s.label}: ${pct(s.posterior)}, explains ${s.explains.length} of ${total} canaries`];
  if (s.window) lines.push(`  leak window: after ${isoDate(s.window.from)}, before ${isoDate(s.window.to)}`);
  if (s.export) lines.push(`  export ${s.export.id} to ${s.export.recipient ?? '?'} by ${s.export.operator ?? 'unknown operator'} on ${isoDate(s.export.at)}: ${s.export.file ?? ''} sha256 ${s.export.sha256 ?? '?'}`);
  if (s.unexplained.length) lines.push(`  does not explain: ${s.unexplained.slice(0, 12).join(', ')}${s.unexplained.length > 12 ? `, … (${s.unexplained.length})` : ''}`);
  for (const l of s.logLines.slice(0, 10)) lines.push(`  ${isoDate(l.at)} ${l.action} (${l.scope}) ${l.canary}${l.system ? ` in ${l.system}` : ''}${l.ip ? ` from ${l.ip}` : ''}  [${l.file}:${l.line}]`);
  if (s.logLines.length > 10) lines.push(`  … ${s.logLines.length - 10} more log lines (--json)`);
  return lines;
}

/** What the trace left out (dismissed hits), one line each, or nothing. */
function leftOut(r: TraceReport): string[] {
  const x = r.excluded;
  if (!x.hits.length) return [];
  const lines = [`left out: ${x.hits.length} dismissed hit(s)${x.canaries.length ? `; canaries with no other evidence, not traced: ${x.canaries.join(', ')}` : ''}`];
  for (const h of x.hits.slice(0, 10)) lines.push(escapeControls(`  hit ${h.hitId} on ${h.canaryId}: dismissed${h.by ? ` by ${h.by}` : ''}${h.at ? ` ${isoDate(h.at)}` : ''}${h.reason ? `: ${h.reason}` : ''}`));
  if (x.hits.length > 10) lines.push(`  … ${x.hits.length - 10} more (--json)`);
  return lines;
}

function human(r: TraceReport): string[] {
  const total = r.canaries.length + r.ambiguous.length;
  if (total === 0) return [`incident ${r.incident.id} has no canaries to trace`, ...leftOut(r)];
  const weeks = r.weeks.length > 1 ? `${r.weeks[0]} to ${r.weeks[r.weeks.length - 1]}` : r.weeks[0] ?? 'unknown weeks';
  const shared = r.ambiguous.length ? ` and ${r.ambiguous.length} contact(s) on shared numbers naming no family (each one of its candidates)` : '';
  const out = [
    `incident ${r.incident.id} (${r.incident.source}): ${r.canaries.length} canaries${shared}, planted in ${weeks}; first evidence of the leak ${isoDate(r.leakedBy)}`,
    `${r.candidates} candidate channel(s) saw them; the vault holds ${r.vaultSize} canaries`,
    ...leftOut(r),
    '',
    table(
      ['#', 'SUSPECT', 'KIND', 'POSTERIOR', 'EXPLAINS', 'LEAK WINDOW'],
      r.suspects.map((s, i) => [i + 1, s.label, s.kind, pct(s.posterior), s.kind === 'unknown' ? '' : `${s.explains.length}/${total}`, s.window ? `${isoDate(s.window.from).slice(0, 10)} → ${isoDate(s.window.to).slice(0, 10)}` : '']),
    ),
    '',
  ];
  for (const s of r.suspects.slice(0, 3)) if (s.kind !== 'unknown') out.push(...describe(s, total));
  out.push('', 'The model and its assumptions: docs/trace.md');
  return out;
}

/** The trace as `--json` prints it: the incident and its canaries camelCase, as `incidents --json` writes them. */
function traceJson(r: TraceReport) {
  const { incident: i, canaries, ambiguous, ...rest } = r;
  return {
    incident: { id: i.id, source: i.source, title: i.title, status: i.status, mergedInto: i.merged_into, createdAt: i.created_at },
    canaries: canaries.map((c) => ({ canaryId: c.canary_id, plantedAt: c.planted_at, isoWeek: c.iso_week, leakedBy: c.leaked_by, evidence: c.evidence })),
    ambiguous: ambiguous.map((a) => ({ candidates: a.candidates.map((c) => ({ canaryId: c.canary_id, plantedAt: c.planted_at })), leakedBy: a.leaked_by, evidence: a.evidence })),
    ...rest,
    // `parts` (a merged suspect's two channels) is always present: null for the others.
    suspects: rest.suspects.map((s) => ({ ...s, parts: s.parts ?? null })),
  };
}

interface TraceOptions extends JsonOption {
  top: number;
}

export function registerTrace(program: Command): void {
  const first = program.commands.length;
  program
    .command('trace')
    .argument('<incident>', 'incident id (cradle incidents lists them)')
    .description('rank the channels (exports, accounts, systems, wards) that could have leaked an incident, with posterior probabilities')
    .option('--top <n>', 'suspects to show', positiveInt, 10)
    .option('--json', 'print JSON: every suspect with the canaries it explains and not, its window, export and log lines')
    .addHelpText('after', `
Every channel that saw the incident's canaries is a candidate; a channel cannot explain a canary it
never saw, nor one that leaked before it saw it. "unknown source" stands for a leak from somewhere
Cradle has no record of. The model is in docs/trace.md.

Examples:
  cradle trace INC-7Q2KX9
  cradle trace INC-7Q2KX9 --json | jq '.suspects[0]'`)
    .action(vaultAction<TraceOptions, [string]>(async ({ opts, db }, incident) => {
      const report = await traceIncident(db, incident, { top: opts.top });
      // The run and what it concluded go into the evidence ledger (docs/ledger.md).
      await db.transaction((tx) => recordTrace(tx, { incident: report.incident.id, suspects: report.suspects, canaries: report.canaries.length, vaultSize: report.vaultSize }));
      emit(!!opts.json, traceJson(report), () => human(report));
    }));
  onAction(program.commands.slice(first), load);
}
