import type { Database, Queryable } from '../db/index.js';
import { checkSenderFigures, type SenderFigureCheck } from '../vault/sender-figures.js';
import { canonicalJson, contentHash, entryHash, EVIDENCE, evidenceSelect, GENESIS, ROWS, rowHash, rowSelect, SEALED_TABLES, type EvidenceKind, type LedgerEntry, type SealedTable } from '../vault/ledger.js';

// `cradle verify`: walk the evidence ledger (src/vault/ledger.ts) in seq order, recompute every hash,
// name the first entry that was altered, removed or reordered; then check the evidence rows against
// the newest entry about each. The chain walk (ChainWalker) and the comparison (compareEvidence) are
// pure; verifyVault reads the vault in pages, in one read-only snapshot. docs/ledger.md explains.

export type BreakKind = 'altered' | 'removed' | 'reordered';

export interface ChainBreak {
  seq: number;
  kind: string;
  ref: string;
  problem: BreakKind;
  detail: string;
}

export interface ChainResult {
  entries: number;
  intact: boolean;
  head: { seq: number; hash: string; at: Date } | null;
  break: ChainBreak | null;
  /** With an anchor (a head hash kept outside the vault): whether the chain still holds it, and where. */
  anchor?: { hash: string; found: boolean; seq: number | null };
}

/** Walks entries in seq order; stops judging at the first break but keeps counting. */
export class ChainWalker {
  entries = 0;
  private prev: { seq: number; hash: string } | null = null;
  private last: LedgerEntry | null = null;
  private broken: ChainBreak | null = null;
  private anchorSeq: number | null = null;

  /**
   * @param seqOfHash the seq of the entry with this hash, if any (only asked when the chain breaks)
   * @param anchor a head hash recorded outside the vault earlier: must be in the chain
   */
  constructor(
    private readonly seqOfHash: (hash: string) => Promise<number | null> | number | null,
    private readonly anchor?: string,
  ) {}

  async push(e: LedgerEntry): Promise<void> {
    this.entries++;
    if (!this.broken) this.broken = await this.check(e);
    if (this.anchor && e.hash === this.anchor && this.anchorSeq === null) this.anchorSeq = e.seq;
    this.prev = { seq: e.seq, hash: e.hash };
    this.last = e;
  }

  private async check(e: LedgerEntry): Promise<ChainBreak | null> {
    const at = (problem: BreakKind, detail: string): ChainBreak => ({ seq: e.seq, kind: e.kind, ref: e.ref, problem, detail });
    if (contentHash(e.content) !== e.content_hash) return at('altered', 'content does not match its hash');
    const expectedSeq = this.prev ? this.prev.seq + 1 : 1;
    if (e.seq !== expectedSeq) {
      const missing = e.seq - 1 === expectedSeq ? `entry #${expectedSeq} is missing` : `entries #${expectedSeq} to #${e.seq - 1} are missing`;
      return at('removed', `${missing} (the chain goes from ${this.prev ? `#${this.prev.seq}` : 'its start'} to #${e.seq})`);
    }
    const expectedPrev = this.prev ? this.prev.hash : GENESIS;
    if (e.prev_hash !== expectedPrev) {
      const follows = e.prev_hash === GENESIS ? 0 : await this.seqOfHash(e.prev_hash);
      if (follows !== null && follows !== undefined) {
        return at('reordered', `it was chained after ${follows === 0 ? 'the start of the ledger' : `entry #${follows}`}, not after ${this.prev ? `#${this.prev.seq}` : 'the start'}`);
      }
      return at('removed', `the entry it was chained after is no longer in the ledger (removed, or rewritten in place of #${this.prev ? this.prev.seq : 0})`);
    }
    if (entryHash(e) !== e.hash) return at('altered', 'its fields (seq, time, kind, ref, incident, actor or hashes) do not match its hash');
    return null;
  }

  result(): ChainResult {
    const r: ChainResult = {
      entries: this.entries,
      intact: this.broken === null,
      head: this.last ? { seq: this.last.seq, hash: this.last.hash, at: this.last.at } : null,
      break: this.broken,
    };
    if (this.anchor) {
      r.anchor = { hash: this.anchor, found: this.anchorSeq !== null, seq: this.anchorSeq };
      // The anchor may only be trusted within the intact part of the chain.
      if (this.broken && this.anchorSeq !== null && this.anchorSeq >= this.broken.seq) r.anchor.found = false;
    }
    return r;
  }
}

/** Walk a sequence of entries (tests, or pages read elsewhere). */
export async function verifyChain(entries: Iterable<LedgerEntry> | AsyncIterable<LedgerEntry>, seqOfHash: (hash: string) => Promise<number | null> | number | null, anchor?: string): Promise<ChainResult> {
  const walker = new ChainWalker(seqOfHash, anchor);
  for await (const e of entries) await walker.push(e);
  return walker.result();
}

export interface EvidenceProblem {
  /** The kind of evidence, or the table of a sealed row (`rows` entries). */
  kind: EvidenceKind | SealedTable;
  ref: string;
  /** The ledger entry it was checked against, if any. */
  seq: number | null;
  problem: 'mismatch' | 'raw' | 'missing' | 'unrecorded';
  detail: string;
}

/** The top-level fields in which two contents differ. */
export function differingFields(a: unknown, b: unknown): string[] {
  const ra = (a && typeof a === 'object' && !Array.isArray(a) ? a : {}) as Record<string, unknown>;
  const rb = (b && typeof b === 'object' && !Array.isArray(b) ? b : {}) as Record<string, unknown>;
  const keys = [...new Set([...Object.keys(ra), ...Object.keys(rb)])].sort();
  return keys.filter((k) => canonicalJson(ra[k]) !== canonicalJson(rb[k]));
}

/** Compare an evidence row's content now with the content of its newest ledger entry. */
export function compareEvidence(kind: EvidenceKind, ref: string, now: unknown, entry: { seq: number; content: unknown }): EvidenceProblem | null {
  if (canonicalJson(now) === canonicalJson(entry.content)) return null;
  const fields = differingFields(now, entry.content);
  return { kind, ref, seq: entry.seq, problem: 'mismatch', detail: `does not match ledger entry #${entry.seq}${fields.length ? ` (${fields.join(', ')})` : ''}` };
}

export interface EvidenceResult {
  /** Rows compared with their ledger entry. */
  checked: number;
  byKind: Record<EvidenceKind, number>;
  /** Contacts not triaged yet: sealed when triaged. */
  unsealedContacts: number;
  /** Rows the vault held before it had a ledger (counted in ledger_baseline): never sealed. */
  predateLedger: number;
  problems: EvidenceProblem[];
  /** All problems found; `problems` lists the first MAX_PROBLEMS. */
  problemCount: number;
  /** Rows of the tables the trace reads, compared with the newest `rows` entry naming them. */
  rowsChecked: number;
  byTable: Record<SealedTable, number>;
  /** Rows not sealed yet by design (canaries not planted yet; untriaged contacts are counted above). */
  unsealedRows: number;
  /** The upgrade's baseline seal of rows that existed before migration 010: its first entry; pending if not written yet. */
  rowsBaseline: { seq: number; at: Date } | 'pending' | null;
}

export interface VerifyReport {
  ok: boolean;
  ledger: ChainResult;
  evidence: EvidenceResult;
  /** Triage's per-sender figures (sender_canaries, sender_numbers) checked against history. */
  senderFigures: SenderFigureCheck;
}

export const PAGE = 5000;
export const MAX_PROBLEMS = 100;
const KINDS: EvidenceKind[] = ['contact', 'hit', 'export', 'scan', 'import'];

/** Entries in seq order, a page at a time. */
export async function* ledgerPages(db: Queryable, pageSize = PAGE): AsyncGenerator<LedgerEntry[]> {
  let after = 0;
  for (;;) {
    const { rows } = await db.query<LedgerEntry>(
      `SELECT seq, at, kind, ref, incident_id, actor, content, content_hash, prev_hash, hash FROM ledger WHERE seq > $1 ORDER BY seq LIMIT $2`,
      [after, pageSize],
    );
    if (rows.length === 0) return;
    yield rows;
    after = rows[rows.length - 1].seq;
    if (rows.length < pageSize) return;
  }
}

interface Baseline {
  contact_max: number;
  hit_max: number;
  import_max: number;
  export_ids: string[];
  scan_ids: string[];
}

function predates(kind: EvidenceKind, key: string, b: Baseline | null): boolean {
  if (!b) return false;
  switch (kind) {
    case 'contact':
      return Number(key) <= b.contact_max;
    case 'hit':
      return Number(key) <= b.hit_max;
    case 'import':
      return Number(key) <= b.import_max;
    case 'export':
      return b.export_ids.includes(key);
    case 'scan':
      return b.scan_ids.includes(key);
  }
}

/** The newest `rows` entry about each row, per table, gathered while the chain is walked. */
export class RowSeals {
  readonly tables = new Map<SealedTable, Map<string, { seq: number; hash: string | null }>>();
  baseline: { seq: number; at: Date } | null = null;

  push(e: LedgerEntry): void {
    if (e.kind !== 'rows') return;
    const content = e.content as { table?: string; baseline?: boolean; rows?: Record<string, string | null> } | null;
    const table = content?.table as SealedTable | undefined;
    if (!table || !(table in ROWS) || !content?.rows || typeof content.rows !== 'object') return;
    if (content.baseline && !this.baseline) this.baseline = { seq: e.seq, at: e.at };
    let seals = this.tables.get(table);
    if (!seals) this.tables.set(table, (seals = new Map()));
    for (const [key, hash] of Object.entries(content.rows)) seals.set(key, { seq: e.seq, hash: typeof hash === 'string' ? hash : null });
  }
}

/** Every row of the sealed tables against the newest `rows` entry naming it; rows named but gone. */
async function checkRows(db: Queryable, seals: RowSeals, pageSize: number, res: EvidenceResult, report: (p: EvidenceProblem) => void): Promise<void> {
  for (const table of SEALED_TABLES) {
    const src = ROWS[table];
    const sealed = seals.tables.get(table) ?? new Map<string, { seq: number; hash: string | null }>();
    const seen = new Set<string>();
    const keyCol = src.keyType === 'bigint' ? src.key : `${src.key}::text`;
    const sql = `${rowSelect(table, src.unsealed ? `(${src.unsealed}) AS not_sealed_yet` : '')} WHERE ${keyCol} > $1 ORDER BY ${keyCol} LIMIT $2`;
    let after: string | number = src.keyType === 'bigint' ? 0 : '';
    for (;;) {
      const { rows } = await db.query<Record<string, unknown> & { key: string; not_sealed_yet?: boolean }>(sql, [after, pageSize]);
      for (const row of rows) {
        const key = String(row.key);
        seen.add(key);
        const seal = sealed.get(key);
        if (!seal) {
          if (row.not_sealed_yet) {
            if (table !== 'contact_events') res.unsealedRows++;
          } else report({ kind: table, ref: key, seq: null, problem: 'unrecorded', detail: 'is not in the ledger: no entry seals this row (written behind Cradle\'s back)' });
          continue;
        }
        res.rowsChecked++;
        res.byTable[table]++;
        if (seal.hash === null) report({ kind: table, ref: key, seq: seal.seq, problem: 'mismatch', detail: `is in the vault, but ledger entry #${seal.seq} records it as deleted` });
        else if (rowHash(table, row) !== seal.hash) report({ kind: table, ref: key, seq: seal.seq, problem: 'mismatch', detail: `does not match ledger entry #${seal.seq} (the row was changed)` });
      }
      if (rows.length < pageSize) break;
      after = src.keyType === 'bigint' ? Number(rows[rows.length - 1].key) : rows[rows.length - 1].key;
    }
    const gone = [...sealed].filter(([key, s]) => s.hash !== null && !seen.has(key)).sort((a, b) => a[1].seq - b[1].seq);
    for (const [key, s] of gone) report({ kind: table, ref: key, seq: s.seq, problem: 'missing', detail: `is missing from the vault, but ledger entry #${s.seq} records it` });
  }
}

async function checkEvidence(db: Queryable, pageSize: number, seals: RowSeals): Promise<EvidenceResult> {
  const res: EvidenceResult = {
    checked: 0,
    byKind: { contact: 0, hit: 0, export: 0, scan: 0, import: 0 },
    unsealedContacts: 0,
    predateLedger: 0,
    problems: [],
    problemCount: 0,
    rowsChecked: 0,
    byTable: Object.fromEntries(SEALED_TABLES.map((t) => [t, 0])) as Record<SealedTable, number>,
    unsealedRows: 0,
    rowsBaseline: seals.baseline,
  };
  const report = (p: EvidenceProblem) => {
    res.problemCount++;
    if (res.problems.length < MAX_PROBLEMS) res.problems.push(p);
  };
  const { rows: base } = await db.query<Baseline>(`SELECT contact_max, hit_max, import_max, export_ids, scan_ids FROM ledger_baseline`);
  const baseline = base[0] ?? null;

  for (const kind of KINDS) {
    const src = EVIDENCE[kind];
    const extra = kind === 'contact' ? `encode(sha256(e.raw), 'hex') AS raw_sha256` : '';
    const sql = `SELECT q.*, l.seq AS ledger_seq, l.content AS ledger_content
                   FROM (${evidenceSelect(src, extra)} WHERE ${src.filter ? `${src.filter} AND ` : ''}${src.keyColumn} > $1 ORDER BY ${src.keyColumn} LIMIT $2) q
                   LEFT JOIN LATERAL (SELECT seq, content FROM ledger WHERE kind = $3 AND ref = q.key::text ORDER BY seq DESC LIMIT 1) l ON true
                  ORDER BY q.key`;
    let after: string | number = src.keyType === 'bigint' ? 0 : '';
    for (;;) {
      const { rows } = await db.query<Record<string, unknown> & { key: string | number; ledger_seq: number | null; ledger_content: unknown }>(sql, [after, pageSize, kind]);
      for (const row of rows) {
        const key = String(row.key);
        if (kind === 'contact' && row.raw_sha256 !== row.sha256) report({ kind, ref: key, seq: row.ledger_seq, problem: 'raw', detail: 'its raw bytes do not match their stored sha256' });
        if (row.ledger_seq === null) {
          if (kind === 'contact' && row.triaged_at === null) res.unsealedContacts++;
          else if (predates(kind, key, baseline)) res.predateLedger++;
          else report({ kind, ref: key, seq: null, problem: 'unrecorded', detail: 'is not in the ledger' });
          continue;
        }
        res.checked++;
        res.byKind[kind]++;
        const p = compareEvidence(kind, key, src.content(row), { seq: row.ledger_seq, content: row.ledger_content });
        if (p) report(p);
      }
      if (rows.length < pageSize) break;
      after = rows[rows.length - 1].key;
    }
    // Entries about rows that are gone.
    const { rows: gone } = await db.query<{ ref: string; seq: number }>(
      `SELECT l.ref, max(l.seq) AS seq FROM ledger l
        WHERE l.kind = $1 AND NOT EXISTS (SELECT 1 FROM ${src.table} WHERE ${src.filter ? `${src.filter} AND ` : ''}${src.keyColumn}::text = l.ref)
        GROUP BY l.ref ORDER BY 2`,
      [kind],
    );
    for (const g of gone) report({ kind, ref: g.ref, seq: g.seq, problem: 'missing', detail: `is missing from the vault${src.filter ? ` (or no longer a finished ${kind})` : ''}, but ledger entry #${g.seq} records it` });
  }
  await checkRows(db, seals, pageSize, res, report);
  if (!res.rowsBaseline) {
    const { rows: marker } = await db.query<{ pending: boolean }>(`SELECT sealed_seq IS NULL AS pending FROM ledger_rows_baseline`);
    if (marker[0]?.pending) res.rowsBaseline = 'pending';
  }
  return res;
}

/** Verify the ledger and the evidence of a vault, in one read-only snapshot. */
export async function verifyVault(db: Database, options: { anchor?: string; pageSize?: number } = {}): Promise<VerifyReport> {
  const pageSize = options.pageSize ?? PAGE;
  return db.transaction(
    async (tx) => {
      const seqOfHash = async (hash: string) => {
        const { rows } = await tx.query<{ seq: number }>(`SELECT seq FROM ledger WHERE hash = $1`, [hash]);
        return rows[0]?.seq ?? null;
      };
      const walker = new ChainWalker(seqOfHash, options.anchor);
      const seals = new RowSeals();
      for await (const page of ledgerPages(tx, pageSize)) {
        for (const e of page) {
          await walker.push(e);
          seals.push(e);
        }
      }
      const ledger = walker.result();
      const evidence = await checkEvidence(tx, pageSize, seals);
      const senderFigures = await checkSenderFigures(tx, MAX_PROBLEMS);
      const ok = ledger.intact && (!ledger.anchor || ledger.anchor.found) && evidence.problemCount === 0 && senderFigures.problems.length === 0;
      return { ok, ledger, evidence, senderFigures };
    },
    // One snapshot on a server too, so a service appending meanwhile is not mistaken for tampering.
    { readOnly: true, snapshot: true },
  );
}
