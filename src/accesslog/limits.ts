/**
 * Rejected lines `cradle logs import` takes, by default, before it stops: a tenth, judged once
 * DEFAULT_MIN_LINES lines were read; a shorter log stops only when none of its lines could be read. A
 * --max-rejects given is judged on every batch and at the end, however few lines were read.
 * Light, apart from import.ts: the CLI's help text shows it.
 */
export const DEFAULT_MAX_REJECTS = { share: 0.1, minLines: 100 } as const;
