// The config file's default name: light, for the CLI's definitions and help.
export const CONFIG_FILE = 'cradle.config.json';
