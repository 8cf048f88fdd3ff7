import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';
import path from 'node:path';
import { UserError } from '../lib/errors.js';
import { splitUrl } from '../lib/redact.js';

// Where a PostgreSQL server is, written the ways psql users write it: a postgres:// URL, a libpq
// keyword/value connection string (`host=… dbname=… user=… sslmode=verify-full`), a service of
// pg_service.conf (`service=his`, or PGSERVICE), with the password from the string, PGPASSWORD, the
// service or the password file (~/.pgpass, PGPASSFILE), as libpq resolves them
// (https://www.postgresql.org/docs/current/libpq-connect.html). Everything here is pure but for the
// files it reads; node-postgres gets the settings resolved (its own pgpass support is deprecated).

export type Params = Record<string, string>;

export const SSL_MODES = ['disable', 'allow', 'prefer', 'require', 'verify-ca', 'verify-full'] as const;
export type SslMode = (typeof SSL_MODES)[number];

/** The libpq keywords Cradle honours. */
const SUPPORTED = new Set([
  'host', 'hostaddr', 'port', 'dbname', 'user', 'password', 'passfile', 'service', 'connect_timeout',
  'application_name', 'fallback_application_name', 'options', 'sslmode', 'sslrootcert', 'sslcert', 'sslkey', 'sslpassword',
]);
/** libpq keywords that cannot change how Cradle connects (ignored), with the value they must keep, if any. */
const HARMLESS: Record<string, RegExp | null> = {
  client_encoding: /^(utf8|utf-8|unicode)$/i,
  keepalives: null, keepalives_idle: null, keepalives_interval: null, keepalives_count: null, tcp_user_timeout: null,
  target_session_attrs: /^any$/, load_balance_hosts: /^disable$/, sslcompression: null, sslsni: null,
  gssencmode: /^(disable|prefer)$/, krbsrvname: null, gsslib: null, channel_binding: /^(disable|prefer)$/,
  sslnegotiation: /^postgres$/, sslcertmode: /^(disable|allow)$/, gssdelegation: null,
};

const ACCEPTED = 'a postgres:// URL, a libpq connection string (host=… dbname=… user=…), service=<name> of pg_service.conf, or an embedded database directory made by `cradle init`';

/** What a location may be: this text goes into messages. */
export function acceptedLocations(): string {
  return ACCEPTED;
}

const SCHEME = /^([A-Za-z][A-Za-z0-9+.-]*):\/\//;

/** `postgres://`, `mysql://`, …: the scheme in lower case, or null. */
export function urlScheme(location: string): string | null {
  return SCHEME.exec(location)?.[1].toLowerCase() ?? null;
}

/** `host=… dbname=…`: text that starts with a keyword and `=` (a directory is never taken for one). */
export function isConninfo(location: string): boolean {
  return /^\s*[A-Za-z_][A-Za-z0-9_]*\s*=/.test(location);
}

/** A server (any URL or a connection string), as opposed to an embedded directory. */
export function isServerLocation(location: string): boolean {
  return urlScheme(location) !== null || isConninfo(location);
}

// ---------- keyword/value strings ----------

/**
 * A libpq keyword/value connection string as its keywords: `key = value` separated by white space;
 * a value in single quotes may hold spaces; a backslash escapes the next character (`\'`, `\\`).
 */
export function parseConninfo(text: string): Params {
  const params: Params = {};
  let i = 0;
  const n = text.length;
  const space = (c: string | undefined) => c !== undefined && /\s/.test(c);
  while (i < n) {
    while (space(text[i])) i++;
    if (i >= n) break;
    const keyStart = i;
    while (i < n && text[i] !== '=' && !space(text[i])) i++;
    const key = text.slice(keyStart, i);
    while (space(text[i])) i++;
    if (text[i] !== '=') throw new UserError(`missing "=" after "${key}" in the connection string`);
    i++;
    while (space(text[i])) i++;
    let value = '';
    if (text[i] === "'") {
      i++;
      for (;;) {
        if (i >= n) throw new UserError(`unterminated quoted value of "${key}" in the connection string`);
        const c = text[i];
        if (c === '\\' && i + 1 < n) {
          value += text[i + 1];
          i += 2;
        } else if (c === "'") {
          i++;
          break;
        } else {
          value += c;
          i++;
        }
      }
    } else {
      while (i < n && !space(text[i])) {
        if (text[i] === '\\' && i + 1 < n) i++;
        value += text[i++];
      }
    }
    params[checkKeyword(key, value)] = value;
  }
  return params;
}

function checkKeyword(key: string, value: string): string {
  if (SUPPORTED.has(key)) return key;
  if (Object.hasOwn(HARMLESS, key)) {
    const allowed = HARMLESS[key];
    if (allowed && !allowed.test(value)) throw new UserError(`connection option ${key}=${value} is not supported by Cradle (node-postgres cannot honour it)`);
    return key;
  }
  throw new UserError(`invalid connection option "${key}"; Cradle takes ${[...SUPPORTED].join(', ')}`);
}

/** Quote a value for a keyword/value string when it needs it. */
function quoteValue(value: string): string {
  return value !== '' && /^[^\s'\\]+$/.test(value) ? value : `'${value.replace(/[\\']/g, (c) => `\\${c}`)}'`;
}

export function formatConninfo(params: Params): string {
  return Object.entries(params).map(([k, v]) => `${k}=${quoteValue(v)}`).join(' ');
}

// ---------- URLs ----------

function decode(text: string, what: string): string {
  try {
    return decodeURIComponent(text);
  } catch {
    // A raw `%` in a password was never meant as an escape.
    if (what === 'password') return text;
    throw invalidUrl();
  }
}

function invalidUrl(why = ''): UserError {
  return new UserError(
    `is not a valid URL${why ? ` (${why})` : ''}; write it as postgres:// then user, password, host, port and database, with special characters in the password percent-encoded (# as %23, / as %2F, ? as %3F, @ as %40)`,
  );
}

/**
 * A postgres:// or postgresql:// URL as libpq keywords: `postgresql://[user[:password]@][host][:port][/dbname][?keyword=value&…]`.
 * A password written raw (`#`, `/`, `?`, `@` not percent-encoded) is read up to the last `@` before the host.
 */
export function parseUrl(location: string): Params {
  const parts = splitUrl(location);
  if (!parts) throw invalidUrl();
  const params: Params = {};
  if (parts.user) params.user = decode(parts.user, 'user');
  if (parts.password !== null) params.password = decode(parts.password, 'password');
  const rest = parts.rest;
  const q = rest.indexOf('?');
  const beforeQuery = q < 0 ? rest : rest.slice(0, q);
  const slash = beforeQuery.indexOf('/');
  const hostspec = slash < 0 ? beforeQuery : beforeQuery.slice(0, slash);
  const dbname = slash < 0 ? '' : beforeQuery.slice(slash + 1);
  if (hostspec.includes(',')) throw new UserError('several hosts in one location are not supported by Cradle; give one host');
  let host = hostspec;
  let port = '';
  if (hostspec.startsWith('[')) {
    const close = hostspec.indexOf(']');
    if (close < 0) throw invalidUrl('an IPv6 address without its closing ]');
    host = hostspec.slice(1, close);
    const after = hostspec.slice(close + 1);
    if (after && !after.startsWith(':')) throw invalidUrl();
    port = after.slice(1);
  } else {
    const colon = hostspec.lastIndexOf(':');
    if (colon >= 0) {
      host = hostspec.slice(0, colon);
      port = hostspec.slice(colon + 1);
    }
  }
  if (port && !/^\d+$/.test(port)) throw invalidUrl(`port "${port}" is not a number`);
  if (host) params.host = decode(host, 'host');
  if (port) params.port = port;
  if (dbname) params.dbname = decode(dbname, 'dbname');
  if (q >= 0) {
    for (const pair of rest.slice(q + 1).split('&')) {
      if (!pair) continue;
      const eq = pair.indexOf('=');
      if (eq < 0) throw invalidUrl(`parameter "${pair}" has no "="`);
      const key = decode(pair.slice(0, eq), 'parameter');
      const value = decode(pair.slice(eq + 1).replace(/\+/g, ' '), key === 'password' ? 'password' : 'parameter');
      // libpq, like JDBC: ssl=true means sslmode=require.
      if (key === 'ssl') {
        if (value !== 'true') throw new UserError(`URL parameter ssl=${value} is not understood; write sslmode=… (${SSL_MODES.join(', ')})`);
        params.sslmode ??= 'require';
        continue;
      }
      params[checkKeyword(key, value)] = value;
    }
  }
  return params;
}

// ---------- services ----------

export interface Environment {
  env: NodeJS.ProcessEnv;
  home: string;
  /** The OS user name: libpq's default user. */
  osUser: string;
}

export function processEnvironment(): Environment {
  let osUser = process.env.USER ?? 'postgres';
  try {
    osUser = os.userInfo().username;
  } catch {
    // no passwd entry (a container): keep $USER
  }
  return { env: process.env, home: os.homedir(), osUser };
}

/** The sections of a pg_service.conf: `[name]` then `keyword=value` lines; `#` starts a comment line. */
export function parseServiceFile(text: string, file: string): Map<string, Params> {
  const services = new Map<string, Params>();
  let current: Params | null = null;
  text.split(/\r?\n/).forEach((raw, index) => {
    const line = raw.trim();
    if (!line || line.startsWith('#')) return;
    const section = /^\[(.+)\]$/.exec(line);
    if (section) {
      const name = section[1].trim();
      current = services.get(name) ?? {};
      services.set(name, current);
      return;
    }
    const eq = line.indexOf('=');
    if (eq <= 0) throw new UserError(`${file}:${index + 1}: syntax error in the service file (want keyword=value or [service])`);
    if (!current) throw new UserError(`${file}:${index + 1}: keyword=value before any [service] section`);
    const key = line.slice(0, eq).trim();
    if (key === 'service') throw new UserError(`${file}:${index + 1}: nested service specifications are not supported`);
    (current as Params)[checkKeyword(key, line.slice(eq + 1).trim())] = line.slice(eq + 1).trim();
  });
  return services;
}

/** The files searched for a service, in order: the user's (PGSERVICEFILE or ~/.pg_service.conf), then the system's. */
export function serviceFiles(e: Environment): string[] {
  const user = e.env.PGSERVICEFILE || path.join(e.home, '.pg_service.conf');
  const sysconf = e.env.PGSYSCONFDIR || '/etc/postgresql-common';
  return [user, path.join(sysconf, 'pg_service.conf')];
}

function lookupService(name: string, e: Environment): Params {
  const files = serviceFiles(e);
  for (const file of files) {
    if (!fs.existsSync(file)) continue;
    const found = parseServiceFile(fs.readFileSync(file, 'utf8'), file).get(name);
    if (found) return found;
  }
  throw new UserError(`definition of service "${name}" not found in ${files.join(' or ')} (set PGSERVICEFILE to the file that has it)`);
}

// ---------- password file ----------

/** Fields of one .pgpass line split at unescaped colons, `\:` and `\\` unescaped. */
function pgpassFields(line: string): string[] {
  const fields: string[] = [];
  let current = '';
  for (let i = 0; i < line.length; i++) {
    const c = line[i];
    if (c === '\\' && i + 1 < line.length) current += line[++i];
    else if (c === ':' && fields.length < 4) {
      fields.push(current);
      current = '';
    } else current += c;
  }
  fields.push(current);
  return fields;
}

export interface PasswordLookup {
  password: string | null;
  /** `file:line` of the entry used. */
  source?: string;
  warning?: string;
}

/**
 * The password of the first line of a .pgpass file matching host, port, database and user
 * (`hostname:port:database:username:password`, `*` matches anything). libpq ignores a file that
 * group or others can read: so does this, with a warning.
 */
export function passwordFromFile(file: string, want: { host: string; port: number; dbname: string; user: string }): PasswordLookup {
  const stat = fs.statSync(file, { throwIfNoEntry: false });
  if (!stat) return { password: null };
  if (!stat.isFile()) return { password: null, warning: `password file ${file} is not a plain file; it is not used` };
  if (process.platform !== 'win32' && (stat.mode & 0o077) !== 0) {
    return { password: null, warning: `password file ${file} has group or world access; permissions should be u=rw (0600) or less (chmod 600 ${file}); it is not used` };
  }
  // libpq matches a Unix-socket connection against "localhost".
  const host = want.host === '' || want.host.startsWith('/') ? 'localhost' : want.host;
  const values = [host, String(want.port), want.dbname, want.user];
  const lines = fs.readFileSync(file, 'utf8').split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const line = lines[i];
    if (!line.trim() || line.startsWith('#')) continue;
    const fields = pgpassFields(line);
    if (fields.length < 5) continue;
    if (values.every((v, k) => fields[k] === '*' || fields[k] === v)) return { password: fields[4], source: `${file}:${i + 1}` };
  }
  return { password: null };
}

// ---------- resolution ----------

export interface ServerSettings {
  /** The host as given (for messages, the password file and the TLS server name); '' never: default localhost. */
  host: string;
  /** Where to connect: hostaddr when given, else host. */
  connectHost: string;
  port: number;
  user: string;
  dbname: string;
  password: string | null;
  /** Where the password came from, for messages: "the connection string", "PGPASSWORD", "service his", "~/.pgpass:3". */
  passwordSource: string | null;
  sslmode: SslMode;
  sslrootcert?: string;
  sslcert?: string;
  sslkey?: string;
  sslpassword?: string;
  applicationName?: string;
  options?: string;
  connectTimeoutMs: number;
  service?: string;
  warnings: string[];
}

/** libpq's environment variables for the keywords (used where neither the string nor the service sets one). */
const ENV_KEYS: Record<string, string> = {
  host: 'PGHOST', hostaddr: 'PGHOSTADDR', port: 'PGPORT', dbname: 'PGDATABASE', user: 'PGUSER', password: 'PGPASSWORD',
  passfile: 'PGPASSFILE', connect_timeout: 'PGCONNECT_TIMEOUT', application_name: 'PGAPPNAME', options: 'PGOPTIONS',
  sslmode: 'PGSSLMODE', sslrootcert: 'PGSSLROOTCERT', sslcert: 'PGSSLCERT', sslkey: 'PGSSLKEY',
};

/** The keywords of a server location (URL or connection string), before services and defaults. */
export function locationParams(location: string): Params {
  const scheme = urlScheme(location);
  if (scheme === 'postgres' || scheme === 'postgresql') return parseUrl(location);
  if (scheme === null && isConninfo(location)) return parseConninfo(location);
  throw new UserError(`not a PostgreSQL location; give ${ACCEPTED}`);
}

/** Resolve a location as libpq does: the string's keywords, then its service's, then the environment, then defaults. */
export function resolveServer(location: string, e: Environment = processEnvironment()): ServerSettings {
  const given = locationParams(location);
  const params: Params = { ...given };
  let passwordSource: string | null = given.password !== undefined ? 'the connection string' : null;
  const service = given.service ?? (e.env.PGSERVICE || undefined);
  if (service) {
    const fromService = lookupService(service, e);
    for (const [k, v] of Object.entries(fromService)) {
      if (params[k] !== undefined) continue;
      params[k] = v;
      if (k === 'password') passwordSource = `service ${service}`;
    }
  }
  for (const [k, variable] of Object.entries(ENV_KEYS)) {
    const value = e.env[variable];
    if (params[k] === undefined && value) {
      params[k] = value;
      if (k === 'password') passwordSource = variable;
    }
  }
  if ((params.host ?? '').includes(',')) throw new UserError('several hosts in one location are not supported by Cradle; give one host');
  const host = params.host || params.hostaddr || 'localhost';
  const port = Number(params.port || 5432);
  if (!Number.isInteger(port) || port < 1 || port > 65535) throw new UserError(`invalid port "${params.port}"`);
  const user = params.user || e.osUser;
  const dbname = params.dbname || user;
  const sslmode = (params.sslmode || 'prefer') as SslMode;
  if (!SSL_MODES.includes(sslmode)) throw new UserError(`invalid sslmode "${params.sslmode}"; libpq's are ${SSL_MODES.join(', ')}`);
  const timeout = Number(params.connect_timeout || 10);
  const warnings: string[] = [];
  let password: string | null = params.password ?? null;
  if (password === null || password === '') {
    password = null;
    passwordSource = null;
    const found = passwordFromFile(params.passfile || path.join(e.home, '.pgpass'), { host, port, dbname, user });
    if (found.warning) warnings.push(found.warning);
    if (found.password !== null) {
      password = found.password;
      passwordSource = found.source ?? null;
    }
  }
  return {
    host,
    connectHost: params.hostaddr || host,
    port,
    user,
    dbname,
    password,
    passwordSource,
    sslmode,
    sslrootcert: params.sslrootcert || undefined,
    sslcert: params.sslcert || undefined,
    sslkey: params.sslkey || undefined,
    sslpassword: params.sslpassword || undefined,
    applicationName: params.application_name || params.fallback_application_name || undefined,
    options: params.options || undefined,
    connectTimeoutMs: timeout > 0 ? Math.max(2, timeout) * 1000 : 0,
    service,
    warnings,
  };
}

/** `host:port` (IPv6 in brackets), for messages. */
export function hostPort(s: Pick<ServerSettings, 'host' | 'port'>): string {
  return `${s.host.includes(':') ? `[${s.host}]` : s.host}:${s.port}`;
}

/** The location without its password (URL userinfo or `password=`), and whether it had one: what `cradle init` may write to a config file. */
export function withoutPassword(location: string): { location: string; hadPassword: boolean } {
  const scheme = urlScheme(location);
  if (scheme !== null) {
    const parts = splitUrl(location);
    let out = location;
    let had = false;
    if (parts && parts.password !== null) {
      out = `${parts.scheme}${parts.user}@${parts.rest}`;
      had = true;
    }
    const q = out.indexOf('?');
    if (q >= 0) {
      const kept = out.slice(q + 1).split('&').filter((p) => !/^(ssl)?password=/i.test(p));
      had ||= kept.length !== out.slice(q + 1).split('&').length;
      out = out.slice(0, q) + (kept.length ? `?${kept.join('&')}` : '');
    }
    return { location: out, hadPassword: had };
  }
  if (isConninfo(location)) {
    const params = parseConninfo(location);
    const had = 'password' in params || 'sslpassword' in params;
    if (!had) return { location, hadPassword: false };
    delete params.password;
    delete params.sslpassword;
    return { location: formatConninfo(params), hadPassword: true };
  }
  return { location, hadPassword: false };
}

// ---------- TLS ----------

/** What node-postgres gets as `ssl`: false for a plain connection. */
export type TlsConfig = false | { rejectUnauthorized: boolean; ca?: string; cert?: string; key?: string; passphrase?: string; servername?: string; checkServerIdentity?: () => undefined };

export interface TlsPlan {
  /** The first way to connect, and the second one if the first fails as `retryWhen` says (allow, prefer). */
  attempts: TlsConfig[];
  retryWhen: 'no-ssl-on-server' | 'rejected' | null;
}

function readIfExists(file: string): string | undefined {
  return fs.existsSync(file) ? fs.readFileSync(file, 'utf8') : undefined;
}

function readGiven(file: string, keyword: string): string {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    throw new UserError(`cannot read ${keyword} ${file}: ${(err as NodeJS.ErrnoException).code ?? (err as Error).message}`);
  }
}

/**
 * How libpq's sslmode maps to TLS: disable (plain), allow (plain, TLS if refused), prefer (TLS
 * without checks, plain if the server has no TLS; the default), require (TLS without checks, or as
 * verify-ca when a root certificate is there), verify-ca (the chain), verify-full (the chain and
 * the host name). Certificates default to ~/.postgresql/root.crt, postgresql.crt and postgresql.key.
 */
export function tlsPlan(s: ServerSettings, home: string): TlsPlan {
  if (s.sslmode === 'disable') return { attempts: [false], retryWhen: null };
  const dir = path.join(home, '.postgresql');
  const client: { cert?: string; key?: string; passphrase?: string } = {};
  const cert = s.sslcert ? readGiven(s.sslcert, 'sslcert') : readIfExists(path.join(dir, 'postgresql.crt'));
  if (cert) {
    client.cert = cert;
    const key = s.sslkey ? readGiven(s.sslkey, 'sslkey') : readIfExists(path.join(dir, 'postgresql.key'));
    if (key) client.key = key;
    if (s.sslpassword) client.passphrase = s.sslpassword;
  }
  const loose = { rejectUnauthorized: false, ...client };
  if (s.sslmode === 'allow') return { attempts: [false, loose], retryWhen: 'rejected' };
  if (s.sslmode === 'prefer') return { attempts: [loose, false], retryWhen: 'no-ssl-on-server' };
  const rootFile = s.sslrootcert ?? path.join(dir, 'root.crt');
  let ca: string | undefined;
  if (s.sslrootcert === 'system') {
    // libpq: the system's CAs prove little about a name they did not check.
    if (s.sslmode !== 'verify-full') throw new UserError(`sslrootcert=system needs sslmode=verify-full, not ${s.sslmode}`);
  } else if (fs.existsSync(rootFile)) {
    ca = readGiven(rootFile, 'sslrootcert');
  } else if (s.sslrootcert) {
    throw new UserError(`sslrootcert ${rootFile} does not exist`);
  } else if (s.sslmode === 'require') {
    return { attempts: [loose], retryWhen: null };
  } else {
    throw new UserError(`sslmode=${s.sslmode} needs the server's root certificate: ${rootFile} does not exist; give sslrootcert=<file> (or sslrootcert=system with verify-full for the system's CAs)`);
  }
  // require with a root certificate behaves as verify-ca, as in libpq; verify-full also checks the name.
  const full = s.sslmode === 'verify-full';
  return {
    attempts: [{ rejectUnauthorized: true, ...(ca ? { ca } : {}), ...client, ...(net.isIP(s.host) ? {} : { servername: s.host }), ...(full ? {} : { checkServerIdentity: () => undefined }) }],
    retryWhen: null,
  };
}
