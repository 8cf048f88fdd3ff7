// The profile's k: light, for the CLI's help text.

/** The smallest k the k rule accepts, and the default. */
export const MIN_K = 2;
export const DEFAULT_K = 5;
