// The realism audit's defaults: light, for the CLI's help text.

/** The AUC above which the audit warns, unless told otherwise (`--warn-above`, else the hospital's `realism.warnAbove`). */
export const DEFAULT_WARN_ABOVE = 0.6;
/** Real rows sampled for the comparison. */
export const DEFAULT_REAL_ROWS = 3000;
