import type { Command } from 'commander';
import { UserError } from '../lib/errors.js';
import type * as Verify from '../ledger/verify.js';
import type { VerifyReport } from '../ledger/verify.js';
import { action, onAction, withVault, type JsonOption } from './context.js';
import { emit } from './output.js';

// The action's modules, loaded when the command runs (src/cli/context.ts).
let verifyVault: typeof Verify.verifyVault;
async function load(): Promise<void> {
  ({ verifyVault } = await import('../ledger/verify.js'));
}

// `cradle verify`: recompute the evidence ledger's hash chain and check the evidence against it.

const KIND_LABELS: [keyof VerifyReport['evidence']['byKind'], string][] = [
  ['contact', 'contacts'],
  ['hit', 'hits'],
  ['export', 'exports'],
  ['scan', 'scans'],
  ['import', 'imports'],
];

export function human(r: VerifyReport): string[] {
  const { ledger, evidence } = r;
  const out: string[] = [];
  const head = ledger.head ? `head #${ledger.head.seq} ${ledger.head.hash}` : 'empty';
  if (ledger.break) {
    const b = ledger.break;
    out.push(`ledger: BROKEN at entry #${b.seq} (${b.kind} ${b.ref}): ${b.problem} — ${b.detail}`);
    out.push(`  ${ledger.entries} entries read; stored ${head}`);
  } else {
    out.push(`ledger: ${ledger.entries} entries, chain intact, ${head}`);
  }
  if (ledger.anchor) {
    out.push(
      ledger.anchor.found
        ? `anchor: ${ledger.anchor.hash} is entry #${ledger.anchor.seq}: the ledger up to it is the one anchored`
        : `anchor: NOT FOUND — ${ledger.anchor.hash} is not in the intact chain: the ledger was rewritten or cut back since it was anchored`,
    );
  }
  const kinds = KIND_LABELS.map(([k, label]) => `${label} ${evidence.byKind[k]}`).join(', ');
  const tables = Object.entries(evidence.byTable)
    .filter(([, n]) => n > 0)
    .map(([t, n]) => `${t} ${n}`)
    .join(', ');
  out.push(`sealed rows: ${evidence.rowsChecked} checked${tables ? ` (${tables})` : ''}: what the trace reads`);
  if (evidence.problemCount === 0) out.push(`evidence: ${evidence.checked} rows checked (${kinds}), all match the ledger`);
  else {
    out.push(`evidence: ${evidence.checked} rows checked (${kinds}); ${evidence.problemCount} problem(s):`);
    for (const p of evidence.problems) out.push(`  ${p.kind} ${p.ref}: ${p.detail}`);
    if (evidence.problemCount > evidence.problems.length) out.push(`  … ${evidence.problemCount - evidence.problems.length} more (--json lists the first ${evidence.problems.length})`);
  }
  const figures = r.senderFigures;
  if (figures.problems.length === 0) out.push(`sender figures: ${figures.checked} rows, all agree with history`);
  else {
    out.push(`sender figures: ${figures.problems.length} row(s) disagree with history (triage judges senders by them: a row written behind Cradle's back, or a bug):`);
    for (const p of figures.problems) out.push(`  ${p.table} ${p.from} ${p.key}: holds ${p.tableHas ?? 'nothing'}, history has ${p.historyHas ?? 'nothing'}`);
  }
  if (evidence.unsealedContacts) out.push(`not sealed yet: ${evidence.unsealedContacts} contact(s) not triaged yet (sealed when triaged: cradle triage, or cradle watch)`);
  if (evidence.unsealedRows) out.push(`not sealed yet: ${evidence.unsealedRows} canary row(s) not planted yet (sealed when planted)`);
  if (evidence.rowsBaseline === 'pending') out.push('baseline: the upgrade\'s seal of rows written before migration 010 is pending: run any cradle command with write access to the vault');
  else if (evidence.rowsBaseline) out.push(`baseline: rows written before migration 010 were sealed at ${evidence.rowsBaseline.at.toISOString()} (entry #${evidence.rowsBaseline.seq}); changes before then cannot be seen`);
  if (evidence.predateLedger) out.push(`not covered: ${evidence.predateLedger} row(s) the vault held before it had a ledger`);
  if (ledger.head && r.ok) out.push(`Keep the head hash outside the vault (docs/ledger.md): cradle verify --anchor ${ledger.head.hash}`);
  return out;
}

interface VerifyOptions extends JsonOption {
  anchor?: string;
}

export function registerVerify(program: Command): void {
  const first = program.commands.length;
  program
    .command('verify')
    .description('check the evidence ledger: recompute its hash chain, name the first entry altered, removed or reordered, and check the evidence rows against it')
    .option('--anchor <hash>', 'a head hash kept outside the vault earlier (printed by verify and with reports): it must still be in the chain')
    .option('--json', 'print JSON: the chain (entries, head, first break), the anchor, and the evidence checked with its problems')
    .addHelpText('after', `
Every contact (once triaged), hit, export manifest, scan, access-log import, trace run and report is an
entry of a hash-chained ledger in the vault, and so is a hash of every row the trace reads to decide
who is blamed (incidents, canaries, channels, exposures, export rows and codewords, code pools, contact
metadata, tripwires, access-event blocks). verify recomputes every entry's hashes in order, then
re-hashes each contact's raw bytes and compares every contact, hit, export, scan, import and sealed
row with the newest ledger entry about it, naming any row inserted, changed or deleted behind
Cradle's back. Exit code 0: all intact; 1: something was altered, removed, reordered or unrecorded.

The ledger cannot show a rewrite of the whole vault with every hash recomputed: keep the head hash
somewhere the vault's administrators cannot change, and check it with --anchor. See docs/ledger.md.

Examples:
  cradle verify
  cradle verify --json | jq '.ledger.head.hash'
  cradle verify --anchor 3f9a…c2 (the head hash e-mailed to the auditors with the last report)`)
    .action(action<VerifyOptions>(async (opts) => {
      const anchor = opts.anchor?.trim().toLowerCase();
      if (anchor !== undefined && !/^[0-9a-f]{64}$/.test(anchor)) throw new UserError(`--anchor wants a head hash: 64 hex digits, not ${opts.anchor}`);
      await withVault(opts, async (db) => {
        const report = await verifyVault(db, { anchor });
        emit(!!opts.json, report, () => human(report));
        if (!report.ok) process.exitCode = 1;
      });
    }));
  onAction(program.commands.slice(first), load);
}
