// The config file's default name: light, for the CLI's definitions and help.
export const CONFIG_FILE = 'cradle.config.json';

/** How long new trap numbers stay in burn-in unless the config's pool.burnInDays or --burn-in says otherwise. */
export const DEFAULT_BURN_IN_DAYS = 14;
