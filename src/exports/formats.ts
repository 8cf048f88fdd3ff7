// The formats an export file is written in: light, for the CLI's options.
export type ExportFormat = 'csv' | 'tsv' | 'json' | 'xlsx';
export const EXPORT_FORMATS: readonly ExportFormat[] = ['csv', 'tsv', 'json', 'xlsx'];
