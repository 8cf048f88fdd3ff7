import type { Config, HospitalConfig } from '../config/index.js';
import { selectHospital } from '../config/index.js';
import type { Database } from '../db/index.js';
import { verifyVault } from '../ledger/verify.js';
import { UserError } from '../lib/errors.js';
import { checkOutFile } from '../lib/out-file.js';
import { CRADLE_TOOL } from '../lib/version.js';
import { planSupply } from '../pool/supply.js';
import { realismAudit, type RealismReport } from '../realism/audit.js';
import { hospitalToday, loadAuditReport, type AuditRealism, type AuditReportData, type LoadAuditOptions } from '../report/audit-load.js';
import type { Mapping } from '../targetdb/mapping.js';
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
    // Before its first rotation, a perWeek plan is only a number of canaries a week.
    return { name: h.name, displayName: h.displayName, timeZone: h.timeZone, wards: h.wards, rotation: h.rotation ?? latest, perWeek: h.rotationPerWeek?.total ?? null, sharing: h.sharing };
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
  /** yyyy-mm-dd, inclusive, in the hospital's time zone; `to` defaults to today there (at `now`). */
  from: string;
  to?: string;
  format: AuditReportFormat;
  /** The file to write; null: only the data (for JSON on standard output), nothing recorded. */
  out: string | null;
  lang: ReportLang;
  /** The command line the report says made it (redacted). */
  command: string;
  now?: Date;
  force?: boolean;
  /** Run the realism audit (`cradle realism`) on this hospital's target, read-only, and report it. */
  realism?: { target: Database; hospital: HospitalConfig; mapping: Mapping; sample?: number; seed?: string };
}

/** Dry-run canaries the audit report's realism section drafts (fewer than `cradle realism`'s default, to stay quick). */
export const AUDIT_REALISM_SAMPLE = 100;

/** The realism audit as the audit report states it: the AUCs, what the classifier relied on, the fields diverging most. */
export function auditRealism(r: RealismReport): AuditRealism {
  const comparisons = (['planted', 'sample'] as const).flatMap((kind) => {
    const c = r[kind];
    if (!c) return [];
    return [{
      kind,
      canaries: c.canaries,
      real: c.real,
      auc: c.classifier?.auc ?? null,
      low: c.classifier?.low ?? null,
      high: c.classifier?.high ?? null,
      reliedOn: (c.classifier?.topFeatures ?? []).slice(0, 3).map((f) => f.feature),
      fields: c.fields.slice(0, 5).map((f) => {
        const t = f.tests.filter((x) => x.df !== 0).sort((a, b) => a.p - b.p || b.distance - a.distance)[0] ?? f.tests[0];
        return { field: f.field, test: `${t.test} (${t.on})`, distance: f.distance, p: f.p };
      }),
    }];
  });
  return { warnAbove: r.warnAbove, auc: r.auc, warning: r.warning !== null, comparisons, notes: [...r.notes, ...comparisons.flatMap((c) => r[c.kind]?.notes ?? [])] };
}

export async function writeAuditReport(db: Database, config: Config | null, options: AuditReportOptions): Promise<{ data: AuditReportData; written: WrittenReport | null }> {
  if (options.out) checkOutFile(options.out, { force: options.force });
  const hospital = await auditedHospital(db, config, options.hospital);
  const now = options.now ?? new Date();
  // Every date of the audit is a day in the hospital's time zone, today's too: at 00:30 in Beijing
  // it is already tomorrow in Beijing, still today in UTC.
  const to = options.to ?? hospitalToday(now, hospital.timeZone);
  if (!options.to && options.from > to) throw new UserError(`--from ${options.from} is after today, ${to} in ${hospital.timeZone}: give --to, or an earlier --from`);
  const verification = await verifyVault(db);
  // The pool's weeks under its pool.sharing, as `cradle pool list` gives them (src/pool/supply.ts).
  const poolSupply = (canariesPerWeek: number) => planSupply(db, { name: hospital.name, sharing: hospital.sharing }, canariesPerWeek);
  const data = await loadAuditReport(db, { hospital, verification, from: options.from, to, now, generatedBy: cliActor(), command: options.command, tool: CRADLE_TOOL, knownSenders: config?.watch?.knownSenders ?? [], poolSupply });
  if (options.realism) {
    const { target, hospital: h, mapping, sample, seed } = options.realism;
    data.realism = auditRealism(await realismAudit(db, target, { hospital: h, mapping, now, sample: sample ?? AUDIT_REALISM_SAMPLE, seed }));
  }
  if (!options.out) return { data, written: null };
  const written = await writeAuditReportFile(db, data, { format: options.format, out: options.out, lang: options.lang, force: options.force });
  return { data, written };
}
