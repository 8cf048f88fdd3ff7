import { redact } from '../lib/redact.js';
import { hostPort, type ServerSettings } from './conninfo.js';

// Why a connection to a PostgreSQL server failed, in words a DBA acts on: the host and port, the
// database and user, then refused, not found, timed out, authentication, no such database or TLS.
// Never the password (the driver's own text is redacted with it).

const TLS_CODE = /CERT|SSL|TLS|SELF_SIGNED|UNABLE_TO_(GET|VERIFY)|HOSTNAME|ALTNAME/i;

export function describeConnectError(err: unknown, s: ServerSettings, secrets: readonly string[]): string {
  const e = err as NodeJS.ErrnoException & { code?: string };
  const code = String(e?.code ?? '');
  const raw = redact(String(e?.message ?? err), secrets);
  const where = `host ${hostPort(s)}${s.connectHost !== s.host ? ` (address ${s.connectHost})` : ''}, database ${s.dbname}, user ${s.user}`;
  const password = s.passwordSource ? `the password from ${s.passwordSource}` : 'no password was given';
  let why: string;
  if (code === 'ECONNREFUSED') why = 'connection refused; is PostgreSQL running there and listening on that port?';
  else if (code === 'ENOTFOUND' || code === 'EAI_AGAIN') why = `host name ${s.connectHost} not found`;
  else if (code === 'EHOSTUNREACH' || code === 'ENETUNREACH') why = `host unreachable (${code})`;
  else if (code === 'ETIMEDOUT' || /timeout/i.test(raw)) why = `timed out after ${s.connectTimeoutMs / 1000} s (connect_timeout); a firewall, or the wrong host or port?`;
  else if (code === '28P01') why = `authentication failed: ${raw} (${password}; Cradle reads ~/.pgpass or PGPASSFILE, PGPASSWORD, a service file or the location itself)`;
  else if (/password must be a string|none was supplied/i.test(raw)) why = 'authentication failed: the server asks for a password and none was found (put it in ~/.pgpass or PGPASSFILE, PGPASSWORD, or a service file)';
  else if (code === '28000') why = `authentication refused: ${raw}`;
  else if (code === '3D000') why = `no such database: database "${s.dbname}" does not exist`;
  else if (/does not support SSL/i.test(raw)) why = `TLS failure: the server does not offer TLS, and sslmode=${s.sslmode} requires it`;
  else if (TLS_CODE.test(code) || /SSL|TLS|certificate/i.test(raw)) why = `TLS failure (sslmode=${s.sslmode}): ${raw}`;
  else if (code === '53300') why = `the server has too many connections: ${raw}`;
  else why = raw + (code && !raw.includes(code) ? ` (${code})` : '');
  return `${why} (${where})`;
}
