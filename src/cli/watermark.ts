import type { Command } from 'commander';
import type * as Infer from '../exports/infer.js';
import type * as Watermark from '../exports/watermark.js';
import { checkOutFile } from '../lib/out-file.js';
import { columnFields, familyMap, exportChannel, positiveInt } from './args.js';
import { action, onAction, withHospital } from './context.js';
import { dryRunLines, dryRunSummary, exportSummary, type RecipientFileOptions } from './exports.js';
import { emit, progress, progressDone, table } from './output.js';

// The action's modules, loaded when the command runs (src/cli/context.ts).
let describeColumns: typeof Infer.describeColumns;
let describeStyle: typeof Watermark.describeStyle;
let runWatermark: typeof Watermark.runWatermark;
async function load(): Promise<void> {
  [{ describeColumns }, { describeStyle, runWatermark }] = [await import('../exports/infer.js'), await import('../exports/watermark.js')];
}

export function registerWatermark(program: Command): void {
  const first = program.commands.length;
  program
    .command('watermark <file>')
    .description("add canary families made for one recipient to a CSV, TSV, JSON, JSON Lines or XLSX file another system produced, in the file's own style")
    .requiredOption('--channel <export:recipient>', 'who receives the file, e.g. export:insurer', exportChannel)
    .requiredOption('--out <file>', 'the watermarked file to write (a new file unless --force; the input is left as it is)')
    .option('--force', 'replace an existing --out file (atomically, once the manifest is recorded)')
    .option('--map <field=column>', 'say which column holds a family field: mother.phone=联系电话 (comma-separated, repeatable; column=field, the old order, is read with a warning)', familyMap)
    .option('--canaries <k>', 'canaries to add (default: 2% of the rows, at least 3, at most 300)', positiveInt)
    .option('--operator <staff id>', 'the staff account sending the file, recorded in the manifest')
    .option('--seed <seed>', 'make the canaries reproducible')
    .option('--dry-run', 'show the canary rows and the rows they would go to; write and record nothing')
    .option('--json', 'print JSON')
    .addHelpText(
      'after',
      `
A CSV/TSV file keeps its header, delimiter, quoting, encoding (UTF-8 with or without BOM, GBK/GB18030)
and line endings. A JSON file (an array of objects, compact or pretty-printed, or JSON Lines) keeps its
indentation, key order and value types; its own objects are written back byte for byte. An XLSX
workbook gets the canaries on its first sheet (header: the first non-empty row), with the cell types
and styles of the rows around them; its other sheets are kept. The output has the input's format.
Columns are matched to family fields by --map, then by their names (English or Chinese), then by
their values; canaries are written in each column's own date, phone and code formats, and every other
column in the style of the file's own rows (codes and their shares, formats, precision, null rates; a
key gets a fresh value in its sequence, a row-number column is renumbered).

Examples:
  cradle watermark his-export.csv --channel export:insurer --out insurer-2026-11.csv
  cradle watermark 新生儿名单.csv --channel export:photo-vendor --out photo.csv --map mother.phone=备注电话 --operator n0412
  cradle watermark births.tsv --channel export:registry --out registry.tsv --canaries 10 --json
  cradle watermark births.tsv --channel export:registry --out registry.tsv --dry-run
  cradle watermark 出生名单.xlsx --channel export:insurer --out insurer.xlsx
  cradle watermark newborns.json --channel export:app-vendor --out app-vendor.json`,
    )
    .action(action<RecipientFileOptions, [string]>(async (opts, file) => {
      if (!opts.dryRun) checkOutFile(opts.out, { force: !!opts.force });
      await withHospital(opts, async ({ hospital, mapping, vault: vaultDb, target }) => {
        progress(`watermarking ${file} for ${opts.channel.name}…`);
        const result = await runWatermark(vaultDb, target, {
          hospital,
          mapping,
          channel: opts.channel,
          file,
          out: opts.out,
          force: !!opts.force,
          columnFields: columnFields(opts.map),
          canaries: opts.canaries,
          operator: opts.operator,
          now: new Date(),
          onProgress: (fraction: number, step: string) => progress(step, fraction),
          seed: opts.seed,
          dryRun: !!opts.dryRun,
        });
        progressDone();
        if (result.dryRun) {
          emit(!!opts.json, { ...dryRunSummary(result), columns: describeColumns(result.columns) }, () => dryRunLines(result));
          return;
        }
        const columns = describeColumns(result.columns);
        const data = {
          ...exportSummary(result),
          columns,
          encoding: 'encoding' in result.style ? result.style.encoding : 'xlsx',
        };
        emit(!!opts.json, data, () => [
          `wrote ${result.file}: ${result.rows} rows + ${result.canaries.length} canaries for ${result.channel} (export ${result.id})`,
          `sha256 ${result.sha256}, ${result.bytes} bytes, ${describeStyle(result.style)}`,
          table(
            ['COLUMN', 'FIELD', 'FORMAT', 'FOUND BY'],
            Object.entries(columns).map(([name, c]) => [name, c?.field ?? '(real values)', c ? (c.format ?? c.phone ?? (c.map ? JSON.stringify(c.map) : '')) : '', c?.by ?? '']),
          ),
          ...result.warnings.map((w) => `warning: ${w}`),
        ]);
      });
    }));
  onAction(program.commands.slice(first), load);
}
