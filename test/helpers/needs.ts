import fs from 'node:fs';
import { describe, it } from '@jest/globals';
import { chromiumPath } from '../../src/report/pdf.js';

// Tests that need a program a fresh machine (Node and npm only) lacks. CI installs them (.ci/run) and
// runs the tests; elsewhere they are skipped under a name that says what to install, and one warning
// per file says so in the run's output, so that a skip is never silent.

export interface Need {
  what: string;
  present: boolean;
  install: string;
}

export const CHROMIUM: Need = {
  what: 'Chromium',
  present: fs.existsSync(chromiumPath()),
  install: `install chromium (apt-get install chromium) or set CRADLE_CHROMIUM; none at ${chromiumPath()}`,
};

const PG15 = '/usr/lib/postgresql/15';
export const PGAUDIT: Need = {
  what: 'pgaudit with PostgreSQL 15',
  present: ['lib/pgaudit.so', 'bin/initdb', 'bin/pg_ctl'].every((f) => fs.existsSync(`${PG15}/${f}`)),
  install: 'install pgaudit (apt-get install postgresql-15-pgaudit)',
};

export const ZSH: Need = {
  what: 'zsh',
  present: ['/usr/bin/zsh', '/bin/zsh'].some((f) => fs.existsSync(f)),
  install: 'install zsh (apt-get install zsh)',
};

export const SYSTEMD_ANALYZE: Need = {
  what: 'systemd-analyze',
  present: fs.existsSync('/usr/bin/systemd-analyze'),
  install: 'install systemd (apt-get install systemd)',
};

export const GAMMU_SMSD: Need = {
  what: 'gammu-smsd',
  present: ['/usr/bin/gammu-smsd', '/usr/local/bin/gammu-smsd'].some((f) => fs.existsSync(f)),
  install: 'install Gammu SMSD (apt-get install gammu-smsd)',
};

const warned = new Set<Need>();
function skipped(need: Need, name: string): string {
  if (!warned.has(need)) {
    warned.add(need);
    // Straight to stderr: Jest does not print the console of a file whose tests were all skipped.
    process.stderr.write(`${need.what} missing: tests that need it are skipped (${need.install})\n`);
  }
  return `${name} (skipped: ${need.install})`;
}

/** `it`, or a skipped test whose name says what to install. */
export function itWith(need: Need): (name: string, fn: () => Promise<unknown> | void, timeout?: number) => void {
  return (name, fn, timeout) => (need.present ? it(name, fn, timeout) : it.skip(skipped(need, name), fn));
}

/** `describe`, or a skipped block whose name says what to install. */
export function describeWith(need: Need): (name: string, fn: () => void) => void {
  return (name, fn) => (need.present ? describe(name, fn) : describe.skip(skipped(need, name), fn));
}


/** MariaDB's server binaries and the server_audit plugin (Debian's mariadb-server package ships both). */
export const MARIADB_PLUGIN_DIR = ['/usr/lib/mysql/plugin', '/usr/lib64/mysql/plugin', '/usr/lib/mariadb/plugin', '/usr/local/mysql/lib/plugin'].find((d) => fs.existsSync(`${d}/server_audit.so`));
export const SERVER_AUDIT: Need = {
  what: 'mariadbd with the server_audit plugin',
  present: MARIADB_PLUGIN_DIR !== undefined && ['/usr/sbin/mariadbd', '/usr/bin/mariadb-install-db'].every((f) => fs.existsSync(f)),
  install: 'install MariaDB (apt-get install mariadb-server: it ships mariadbd, mariadb-install-db and server_audit.so)',
};

/** MariaDB's server binaries, for a private server (test/helpers/private-mariadb.ts). */
export const MARIADBD: Need = {
  what: 'mariadbd and mariadb-install-db',
  present: ['/usr/sbin/mariadbd', '/usr/bin/mariadb-install-db'].every((f) => fs.existsSync(f)),
  install: 'install MariaDB (apt-get install mariadb-server)',
};
