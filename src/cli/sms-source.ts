import fs from 'node:fs';
import { InvalidArgumentError } from 'commander';
import type { Database } from '../db/index.js';
import { UserError } from '../lib/errors.js';
import type { SmsPollOptions, SmsPollSummary } from '../ingest/index.js';

// An SMS inbox `cradle ingest sms` and `cradle watch` follow: Gammu SMSD's inbox folder (files
// backend) or its database (SQL backend, opened here, read-only). Shared by the two commands.

export type SmsFormat = 'gammu-files' | 'gammu-sql';

export interface SmsSourceOptions {
  format: SmsFormat;
  /** gammu-files: the InboxPath folder. */
  dir?: string;
  /** gammu-sql: postgres://… or mysql://… of SMSD's database. */
  source?: string;
  /** The trap numbers: a number (every message), or PhoneID=number (SQL rows by RecipientID). */
  to: string[];
  table?: string;
}

export interface SmsSource {
  /** What the vault calls it. */
  name: string;
  poll(vault: Database, opts: SmsPollOptions): Promise<SmsPollSummary>;
  close(): Promise<void>;
}

/** `--to +8613912345678` or `--to modem1=+8613912345678` (repeatable). */
export function smsToArg(value: string, previous: string[] = []): string[] {
  if (!/^([^=\s]+=)?\+?[\d\s()-]{5,}$/.test(value.trim())) throw new InvalidArgumentError('expected the trap number the SIM answers on (+8613912345678), or PhoneID=number for an SQL inbox shared by several modems');
  return [...previous, value.trim()];
}

/** Trap numbers by PhoneID ('' = any), each a trap number in the vault; an error names the one that is not. */
async function trapMap(vault: Database, to: string[], region: string): Promise<Map<string, string>> {
  const { normalisePhone } = await import('../ingest/index.js');
  const map = new Map<string, string>();
  for (const t of to) {
    const eq = t.indexOf('=');
    const [id, number] = eq < 0 ? ['', t] : [t.slice(0, eq), t.slice(eq + 1)];
    const e164 = normalisePhone(number, region);
    if (!e164) throw new UserError(`--to ${t}: ${number} is not a phone number`);
    const { rows } = await vault.query<{ n: number }>(`SELECT count(*)::int AS n FROM trap_numbers WHERE e164 = $1`, [e164]);
    if (!rows[0].n) throw new UserError(`--to ${t}: ${e164} is not a trap number in the vault (cradle pool add ${e164})`);
    if (map.has(id)) throw new UserError(`--to: ${id ? `PhoneID ${id}` : 'the default number'} given twice`);
    map.set(id, e164);
  }
  return map;
}

export async function openSmsSource(vault: Database, o: SmsSourceOptions, region: string): Promise<SmsSource> {
  const ingest = await import('../ingest/index.js');
  if (!o.to.length) throw new UserError(`--to <trap number> is needed: ${o.format === 'gammu-files' ? "inbox file names carry the sender, not the SIM's own number" : 'the inbox table carries the PhoneID (RecipientID), not the SIM\'s number'}`);
  const to = await trapMap(vault, o.to, region);
  if (o.format === 'gammu-files') {
    if (o.source) throw new UserError('--source is for --format gammu-sql; give the inbox folder with --dir');
    if (!o.dir) throw new UserError('--format gammu-files needs --dir <InboxPath of gammu-smsdrc>');
    if (!fs.existsSync(o.dir) || !fs.statSync(o.dir).isDirectory()) throw new UserError(`--dir ${o.dir}: no such folder`);
    if (to.size !== 1 || !to.has('')) throw new UserError('--format gammu-files takes one --to <number>: one inbox folder belongs to one SIM');
    const number = to.get('')!;
    const dir = o.dir;
    return {
      name: ingest.filesSourceName(dir),
      poll: (v, opts) => ingest.pollGammuFiles(v, dir, number, { ...opts, settleMs: 1000 }),
      close: async () => {},
    };
  }
  if (o.dir) throw new UserError('--dir is for --format gammu-files; give the database with --source');
  if (!o.source) throw new UserError('--format gammu-sql needs --source postgres://…/smsd or mysql://…/smsd (the database of gammu-smsdrc)');
  const db = await import('../db/index.js');
  const kind = db.locationKind(o.source, 'SMSD database');
  if (kind === 'embedded') throw new UserError(`--source: give the SMSD database as postgres://user@host:5432/smsd or mysql://user@host:3306/smsd`);
  let identity: string;
  if (kind === 'mysql') {
    const s = db.resolveMysql(o.source);
    identity = `${db.hostPort(s)}/${s.database}`;
  } else {
    const s = db.resolveServer(o.source);
    identity = `${db.hostPort(s)}/${s.dbname}`;
  }
  const smsd = await db.openDatabase(o.source, { role: 'SMSD database' });
  const table = o.table ?? 'inbox';
  return {
    name: ingest.sqlSourceName(identity),
    poll: (v, opts) => ingest.pollGammuSql(v, { db: smsd, identity, to, table }, opts),
    close: () => smsd.close(),
  };
}
