import type { Config } from '../config/index.js';
import { selectHospital } from '../config/index.js';
import type { Database } from '../db/index.js';
import { verifyVault } from '../ledger/verify.js';
import { UserError } from '../lib/errors.js';
import { checkOutFile } from '../lib/out-file.js';
import { CRADLE_TOOL } from '../lib/version.js';
import { loadAuditReport, type AuditReportData, type LoadAuditOptions } from '../report/audit-load.js';
import type { ReportLang } from '../report/data.js';
import { writeAuditReportFile, type AuditReportFormat, type WrittenReport } from '../report/write.js';
import { cliActor, listRotations } from '../vault/index.js';

// The audit report of a period: verify the ledger (as `cradle verify` does), gather the audit's data
// with that verification, write it and record it in the ledger. Shared by `cradle audit` and `cradle demo`.

/** The hospital audited: the config's (`name`, its default, or its only one); without a config, the vault's only hospital. */
export async function auditedHospital(db: Database, config: Config | null, name: string | undefined): Promise<LoadAuditOptions['hospital']> {
  if (config) {
    const h = selectHospital(config, name);
    // A perWeek rotation has no fixed plan per ward: the latest week's allocation stands for it.
    const latest = h.rotation === null && h.rotationPerWeek ? (await listRotations(db, h.name)).at(-1)?.plan ?? null : null;
    return { name: h.name, displayName: h.displayName, timeZone: h.timeZone, wards: h.wards, rotation: h.rotation ?? latest };
  }
  const { rows } = await db.query<{ name: string }>(`SELECT name FROM hospitals ORDER BY name`);
  const hospital = name ?? (rows.length === 1 ? rows[0].name : undefined);
  if (!hospital || !rows.some((r) => r.name === hospital)) {
    throw new UserError(rows.length === 0 ? 'the vault holds no hospital yet' : `name the hospital with --hospital (the vault holds ${rows.map((r) => r.name).join(', ')}), or pass --config <file>`);
  }
  // Without the config: the plan of the latest rotation, weeks in UTC.
  const rotations = await listRotations(db, hospital);
  return { name: hospital, timeZone: 'UTC', rotation: rotations.length ? rotations[rotations.length - 1].plan : null };
}

export interface AuditReportOptions {
  hospital?: string;
  /** yyyy-mm-dd, inclusive. */
  from: string;
  to: string;
  format: AuditReportFormat;
  /** The file to write; null: only the data (for JSON on standard output), nothing recorded. */
  out: string | null;
  lang: ReportLang;
  /** The command line the report says made it (redacted). */
  command: string;
  now?: Date;
  force?: boolean;
}

export async function writeAuditReport(db: Database, config: Config | null, options: AuditReportOptions): Promise<{ data: AuditReportData; written: WrittenReport | null }> {
  if (options.out) checkOutFile(options.out, { force: options.force });
  const hospital = await auditedHospital(db, config, options.hospital);
  const verification = await verifyVault(db);
  const data = await loadAuditReport(db, { hospital, verification, from: options.from, to: options.to, now: options.now, generatedBy: cliActor(), command: options.command, tool: CRADLE_TOOL });
  if (!options.out) return { data, written: null };
  const written = await writeAuditReportFile(db, data, { format: options.format, out: options.out, lang: options.lang, force: options.force });
  return { data, written };
}
