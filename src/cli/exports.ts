import type { Command } from 'commander';
import type { ChannelRef } from '../domain/index.js';
import { UserError } from '../lib/errors.js';
import { checkOutFile } from '../lib/out-file.js';
import type * as Export from '../exports/export.js';
import type { ExportResult } from '../exports/export.js';
import { EXPORT_FORMATS, type ExportFormat } from '../exports/formats.js';
import type * as Vault from '../vault/index.js';
import { collect, columnFields, familyMap, dateArg, exportChannel, oneOf, positiveInt } from './args.js';
import { action, hospitalFilter, onAction, showCommand, vaultAction, withHospital, type JsonOption } from './context.js';
import { emit, isoDate, progress, progressDone, table } from './output.js';

// The actions' modules, loaded when one of these commands runs (src/cli/context.ts).
let runExport: typeof Export.runExport;
let vault: typeof Vault;
async function load(): Promise<void> {
  [{ runExport }, vault] = [await import('../exports/export.js'), await import('../vault/index.js')];
}

/** What `cradle export` and `cradle watermark` both take: a file with canaries for one recipient. */
export interface RecipientFileOptions extends JsonOption {
  channel: ChannelRef;
  out: string;
  force?: boolean;
  /** Family field → column, as --map gives it. */
  map?: Record<string, string>;
  canaries?: number;
  operator?: string;
  seed?: string;
  dryRun?: boolean;
}

interface ExportOptions extends RecipientFileOptions {
  query?: string;
  param?: string[];
  table?: string;
  from?: string;
  to?: string;
  format?: ExportFormat;
  code?: boolean;
}

/** The JSON of a dry run (export's and watermark's): the canary rows and their places; nothing recorded. */
export function dryRunSummary(result: ExportResult) {
  return {
    dryRun: true,
    file: result.file,
    format: result.format,
    rows: result.rows,
    canaries: result.canaries.map((c) => ({ row: c.row, mother: c.family.mother.name.full, motherPhone: c.family.mother.phone, cells: c.cells })),
    warnings: result.warnings,
  };
}

/** A dry run for people: each canary's row number and its cells, as the file would hold them. */
export function dryRunLines(result: ExportResult): string[] {
  const columns = Object.keys(result.canaries[0]?.cells ?? {});
  return [
    `dry run: ${result.file} would hold ${result.rows} rows + ${result.canaries.length} canaries (nothing written or recorded; no trap number taken)`,
    table(['ROW', ...columns], result.canaries.map((c) => [c.row, ...columns.map((k) => c.cells[k])])),
    ...result.warnings.map((w) => `warning: ${w}`),
  ];
}

/** The JSON of a written export (also watermark's): a stable contract, see docs/cli.md. */
export function exportSummary(result: ExportResult) {
  return {
    exportId: result.id,
    channel: result.channel,
    file: result.file,
    format: result.format,
    rows: result.rows,
    canaries: result.canaries.map((c) => ({ id: c.id, row: c.row, mother: c.family.mother.name.full, motherPhone: c.family.mother.phone, shared: !!c.shared })),
    sha256: result.sha256,
    bytes: result.bytes,
    warnings: result.warnings,
    code: result.code
      ? {
          pool: result.code.poolId,
          codeword: result.code.codeword,
          positions: result.code.positions,
          weight: result.code.spec.weight,
          field: result.code.spec.field,
          degree: result.code.spec.degree,
          poolSize: result.code.poolSize,
          capacity: result.code.capacity,
          overlap: result.code.overlap,
          newPool: result.code.newPool,
        }
      : null,
  };
}

export function registerExports(program: Command): void {
  const first = program.commands.length;
  program
    .command('export')
    .description("write an export file for one recipient, with canary families made for that file alone")
    .requiredOption('--channel <export:recipient>', 'who receives the file, e.g. export:vaccine-registry', exportChannel)
    .requiredOption('--out <file>', 'the file to write (.csv, .tsv, .json or .xlsx); a new file unless --force')
    .option('--force', 'replace an existing --out file (atomically, once the manifest is recorded)')
    .option('--query <sql>', 'a read-only query on the target, with $1, $2… for --param values')
    .option('--param <value>', 'a value for the query (repeatable, in order)', collect)
    .option('--table <name>', 'export a whole table or view ([schema.]name)')
    .option('--from <date>', 'default export: births from this day (hospital time)', dateArg)
    .option('--to <date>', 'default export: births up to and including this day', dateArg)
    .option('--format <format>', 'csv, tsv, json or xlsx (default: from the file name)', oneOf(...EXPORT_FORMATS))
    .option('--canaries <k>', 'canaries to add (default: 2% of the rows, at least 3, at most 300, fewer when the trap pool must keep numbers for the rotation plan\'s next 4 weeks; with --code: none of its own)', positiveInt)
    .option('--code', "give the file a codeword of the hospital's shared code canaries instead of canaries of its own (docs/codes.md)")
    .option('--operator <staff id>', 'the staff account running the export, recorded in the manifest')
    .option('--map <field=column>', 'say which column holds a family field: mother.phone=联系电话 (comma-separated, repeatable; column=field, the old order, is read with a warning)', familyMap)
    .option('--seed <seed>', 'make the canaries reproducible')
    .option('--dry-run', 'show the canary rows and the rows they would go to; write and record nothing')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
Every column of a canary row is written in the file's own style, learned from its real rows (codes,
date formats and time zone, precision, null rates, key patterns); keys are fresh values in their
sequence, unique against the file and the target. Columns are resolved by table and column.

Examples:
  cradle export --channel export:birth-office --from 2026-11-01 --to 2026-11-30 --out births.csv --dry-run
  cradle export --channel export:birth-office --from 2026-11-01 --to 2026-11-30 --out births.csv
  cradle export --channel export:vaccine-registry --query "SELECT * FROM births b JOIN families f USING (family_id) WHERE discharged_at >= $1" --param 2026-11-01 --out vax.csv --operator n0412
  cradle export --channel export:photo-vendor --table newborn_export_view --out photo.json
  cradle export --channel export:insurer --from 2026-11-01 --to 2026-11-30 --out insurer.csv --code`,
    )
    .action(action<ExportOptions>(async (opts) => {
      if (opts.query && opts.table) throw new UserError('give either --query or --table, not both');
      if ((opts.query || opts.table) && (opts.from || opts.to)) throw new UserError('--from/--to apply to the default export; put the dates in your --query instead');
      if (!opts.dryRun) checkOutFile(opts.out, { force: !!opts.force });
      await withHospital(opts, async ({ hospital, mapping, vault: vaultDb, target }) => {
        progress(`exporting for ${opts.channel.name}…`);
        const result = await runExport(vaultDb, target, {
          hospital,
          mapping,
          channel: opts.channel,
          out: opts.out,
          force: !!opts.force,
          format: opts.format,
          query: opts.query,
          table: opts.table,
          params: opts.param ?? [],
          from: opts.from,
          to: opts.to,
          canaries: opts.canaries,
          code: opts.code ? {} : undefined,
          operator: opts.operator,
          columnFields: columnFields(opts.map),
          now: new Date(),
          onProgress: (fraction: number, step: string) => progress(step, fraction),
          seed: opts.seed,
          dryRun: !!opts.dryRun,
        });
        progressDone();
        if (result.dryRun) {
          emit(!!opts.json, dryRunSummary(result), () => dryRunLines(result));
          return;
        }
        const data = exportSummary(result);
        const code = result.code;
        emit(!!opts.json, data, () => [
          `wrote ${result.file}: ${result.rows} rows + ${result.canaries.length} canaries for ${result.channel} (export ${result.id})`,
          ...(code
            ? [
                ...(code.newPool ? [`made code pool ${code.poolId}: ${code.poolSize} shared canaries for up to ${code.capacity} exports`] : []),
                `codeword ${code.codeword} of code pool ${code.poolId}: ${code.spec.weight} of its ${code.poolSize} shared canaries; at most ${code.overlap} in common with any earlier export's, ${code.spec.degree - 1} with any later one's`,
              ]
            : []),
          `sha256 ${result.sha256}, ${result.bytes} bytes`,
          ...result.warnings.map((w) => `warning: ${w}`),
        ]);
      });
    }));

  const exports = program.command('exports').description('the manifests of exports written so far');
  exports
    .command('list')
    .description('list exports, oldest first')
    .option('--json', 'print JSON')
    .addHelpText('after', '\nExamples:\n  cradle exports list\n  cradle exports list --json')
    .action(vaultAction<JsonOption>(async ({ opts, db, config }) => {
      const rows = await vault.listExports(db, hospitalFilter(opts, config));
      const list = rows.map((x) => ({ id: x.id, hospital: x.hospital, channel: x.channel, operator: x.operator, file: x.file_name, format: x.format, rows: x.row_count, canaries: x.canary_count, sha256: x.sha256, createdAt: x.created_at }));
      emit(!!opts.json, { count: list.length, exports: list }, () =>
        rows.length ? table(['ID', 'CHANNEL', 'FILE', 'ROWS', 'CANARIES', 'OPERATOR', 'WHEN'], rows.map((x) => [x.id, x.channel, x.file_name, x.row_count, x.canary_count, x.operator, isoDate(x.created_at)])) : 'no exports yet',
      );
    }));
  showCommand(
    exports,
    { noun: 'export', description: 'one export: its query, operator, file hash and the canaries it holds', exampleId: '4k2n8x0q1z', get: (db, id) => vault.getExport(db, id) },
    async ({ opts, db, id }, x) => {
      const canaries = await vault.exportCanaries(db, id);
      const code = await vault.exportCodeword(db, id);
      const data = {
        id: x.id,
        hospital: x.hospital,
        channel: x.channel,
        operator: x.operator,
        query: x.query,
        params: x.params,
        file: x.file_name,
        format: x.format,
        rows: x.row_count,
        sha256: x.sha256,
        bytes: x.bytes,
        createdAt: x.created_at,
        canaries: canaries.map((c) => ({ id: c.canary_id, row: c.row_number, mother: c.mother_name, motherPhone: c.mother_phone, shared: c.shared })),
        code: code ? { pool: code.pool_id, codeword: code.codeword, positions: code.positions, weight: code.weight, poolSize: code.length } : null,
      };
      emit(!!opts.json, data, () => [
        `export ${x.id} to ${x.channel} by ${x.operator ?? '(operator not given)'} at ${isoDate(x.created_at)}`,
        `  file     ${x.file_name} (${x.format}, ${x.row_count} rows + ${canaries.length} canaries, ${x.bytes} bytes)`,
        `  sha256   ${x.sha256}`,
        `  query    ${x.query}${x.params.length ? `  params ${JSON.stringify(x.params)}` : ''}`,
        ...(code ? [`  code     codeword ${code.codeword} of code pool ${code.pool_id} (${code.weight} of its ${code.length} shared canaries, marked *)`] : []),
        table(['ROW', 'CANARY', 'MOTHER', 'PHONE'], canaries.map((c) => [c.row_number, c.shared ? `${c.canary_id}*` : c.canary_id, c.mother_name, c.mother_phone])),
      ]);
    },
  );
  onAction(program.commands.slice(first), load);
}
