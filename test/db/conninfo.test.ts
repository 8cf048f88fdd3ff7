import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import {
  formatConninfo,
  isServerLocation,
  parseConninfo,
  parseServiceFile,
  parseUrl,
  passwordFromFile,
  resolveServer,
  tlsPlan,
  withoutPassword,
  type Environment,
} from '../../src/db/conninfo.js';
import { describeConnectError } from '../../src/db/connect-error.js';
import { scratchDir } from '../helpers/db.js';

// Connection settings as libpq reads them, as pure code: keyword/value strings with libpq's
// quoting, URLs, service files, password files and what each sslmode asks of TLS.

describe('libpq keyword/value strings', () => {
  it('reads keywords, single quotes, backslash escapes and spaces around =', () => {
    expect(parseConninfo('host=vault.example.org dbname=cradle user=cradle sslmode=verify-full')).toEqual({
      host: 'vault.example.org', dbname: 'cradle', user: 'cradle', sslmode: 'verify-full',
    });
    expect(parseConninfo(`  host = db   password='it is' `)).toEqual({ host: 'db', password: 'it is' });
    // SQL's doubled quote is not libpq's: the second quote starts a keyword.
    expect(() => parseConninfo(`password='it''s'`)).toThrow(`missing "=" after "'s'"`);
    expect(parseConninfo(String.raw`password='a b\'c\\d' user=x\ y dbname=''`)).toEqual({ password: String.raw`a b'c\d`, user: 'x y', dbname: '' });
    expect(parseConninfo('')).toEqual({});
  });

  it('refuses what libpq refuses, and what Cradle cannot honour', () => {
    expect(() => parseConninfo('host')).toThrow('missing "=" after "host" in the connection string');
    expect(() => parseConninfo("host='db")).toThrow('unterminated quoted value of "host"');
    expect(() => parseConninfo('host=db foo=bar')).toThrow('invalid connection option "foo"');
    expect(() => parseConninfo('constructor=x')).toThrow('invalid connection option "constructor"');
    expect(() => parseConninfo('__proto__=x')).toThrow('invalid connection option "__proto__"');
    expect(() => parseConninfo('host=db require_auth=scram-sha-256')).toThrow('invalid connection option "require_auth"');
    expect(() => parseConninfo('host=db gssencmode=require')).toThrow('gssencmode=require is not supported');
    expect(parseConninfo('host=db gssencmode=disable keepalives=1')).toEqual({ host: 'db', gssencmode: 'disable', keepalives: '1' });
  });

  it('writes back what it reads', () => {
    const params = { host: 'db', password: String.raw`a b'c\d`, dbname: '' };
    expect(parseConninfo(formatConninfo(params))).toEqual(params);
  });

  it('tells servers from directories', () => {
    expect(isServerLocation('host=x dbname=y')).toBe(true);
    expect(isServerLocation('service=his')).toBe(true);
    expect(isServerLocation('postgres://h/db')).toBe(true);
    expect(isServerLocation('mysql://h/db')).toBe(true);
    expect(isServerLocation('.cradle')).toBe(false);
    expect(isServerLocation('/var/lib/cradle')).toBe(false);
  });
});

describe('URLs', () => {
  it('reads user, password (raw or encoded), host, port, IPv6, socket and parameters', () => {
    expect(parseUrl('postgresql://cradle:p%40ss@vault.example.org:6432/cradle?sslmode=verify-ca&sslrootcert=/etc/ca.pem')).toEqual({
      user: 'cradle', password: 'p@ss', host: 'vault.example.org', port: '6432', dbname: 'cradle', sslmode: 'verify-ca', sslrootcert: '/etc/ca.pem',
    });
    expect(parseUrl('postgres://u:S3cr#t/pa?ss@word@127.0.0.1:5432/db')).toMatchObject({ password: 'S3cr#t/pa?ss@word', host: '127.0.0.1', dbname: 'db' });
    expect(parseUrl('postgres://[::1]:5433/db')).toEqual({ host: '::1', port: '5433', dbname: 'db' });
    expect(parseUrl('postgres://%2Fvar%2Frun%2Fpostgresql/db')).toEqual({ host: '/var/run/postgresql', dbname: 'db' });
    expect(parseUrl('postgres:///db?host=/tmp&ssl=true')).toEqual({ host: '/tmp', dbname: 'db', sslmode: 'require' });
  });

  it('refuses broken URLs with the way to write them', () => {
    expect(() => parseUrl('postgres://u@[::1/db')).toThrow(/is not a valid URL \(an IPv6 address without its closing \]\); .*# as %23/);
    expect(() => parseUrl('postgres://h:port/db')).toThrow('port "port" is not a number');
    expect(() => parseUrl('postgres://a,b/db')).toThrow('several hosts');
    expect(() => parseUrl('postgres://h/db?foo=1')).toThrow('invalid connection option "foo"');
  });
});

describe('services, password files and the environment', () => {
  let dir: string;
  let env: Environment;
  const file = (name: string, text: string, mode = 0o600) => {
    const f = path.join(dir, name);
    fs.writeFileSync(f, text, { mode });
    fs.chmodSync(f, mode);
    return f;
  };

  beforeAll(() => {
    dir = scratchDir('conninfo');
    const services = file('pg_service.conf', '# the hospital\n[his]\nhost=his-db.example.org\nport=6543\ndbname=his\nuser=cradle_seed\n\n[vault]\nhost = vault.example.org\ndbname=cradle\nsslmode=verify-full\npassword=from-service\n');
    const pgpass = file(
      'pgpass',
      [
        '# hostname:port:database:username:password',
        'his-db.example.org:6543:his:cradle_seed:target-secret',
        String.raw`vault.example.org:*:cradle:cradle:vault\:se\\cret`,
        '*:*:*:*:fallback',
      ].join('\n'),
    );
    env = { env: { PGSERVICEFILE: services, PGPASSFILE: pgpass, PGSYSCONFDIR: dir }, home: dir, osUser: 'nurse' };
  });
  afterAll(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('parses service files and refuses a broken one with file and line', () => {
    expect(parseServiceFile('[a]\nhost=x\n# c\n[b]\nport=1\n', 'f')).toEqual(new Map([['a', { host: 'x' }], ['b', { port: '1' }]]));
    expect(() => parseServiceFile('[a]\nhost\n', 'f')).toThrow('f:2: syntax error');
    expect(() => parseServiceFile('host=x\n', 'f')).toThrow('f:1: keyword=value before any [service]');
  });

  it('takes a service, then the password file: the vault and the target get their own passwords', () => {
    const target = resolveServer('service=his', env);
    expect(target).toMatchObject({ host: 'his-db.example.org', port: 6543, dbname: 'his', user: 'cradle_seed', password: 'target-secret', sslmode: 'prefer', service: 'his' });
    expect(target.passwordSource).toBe(`${env.env.PGPASSFILE}:2`);
    // The string's keywords win over the service's; the escaped colon and backslash are the password's.
    const vault = resolveServer("service=vault user=cradle password=''", env);
    expect(vault).toMatchObject({ host: 'vault.example.org', port: 5432, user: 'cradle', password: String.raw`vault:se\cret`, sslmode: 'verify-full' });
    // A password in the service, none in the string.
    expect(resolveServer('service=vault user=cradle', env)).toMatchObject({ password: 'from-service', passwordSource: 'service vault' });
    // PGSERVICE, and libpq's defaults: user the OS user, database the user.
    expect(resolveServer('host=db', { ...env, env: { ...env.env, PGSERVICE: 'his' } })).toMatchObject({ host: 'db', port: 6543, service: 'his' });
    expect(resolveServer('host=db', env)).toMatchObject({ user: 'nurse', dbname: 'nurse', password: 'fallback', connectTimeoutMs: 10_000 });
  });

  it('lets the string and PGPASSWORD come before the password file', () => {
    expect(resolveServer('service=his password=given', env)).toMatchObject({ password: 'given', passwordSource: 'the connection string' });
    expect(resolveServer('service=his', { ...env, env: { ...env.env, PGPASSWORD: 'from-env' } })).toMatchObject({ password: 'from-env', passwordSource: 'PGPASSWORD' });
    expect(resolveServer('postgres://cradle_seed@his-db.example.org:6543/his', env)).toMatchObject({ password: 'target-secret' });
  });

  it('says where a missing service was looked for', () => {
    expect(() => resolveServer('service=nowhere', env)).toThrow(/definition of service "nowhere" not found in .*pg_service\.conf or .*pg_service\.conf/);
  });

  it('ignores a password file others can read, with a warning, as libpq does', () => {
    const open = file('pgpass-open', '*:*:*:*:leaky\n', 0o644);
    const found = passwordFromFile(open, { host: 'h', port: 5432, dbname: 'd', user: 'u' });
    expect(found.password).toBeNull();
    expect(found.warning).toMatch(/has group or world access; permissions should be u=rw \(0600\) or less/);
    const settings = resolveServer(`host=h passfile=${open}`, env);
    expect(settings.password).toBeNull();
    expect(settings.warnings).toHaveLength(1);
    // A socket connection matches "localhost".
    const local = file('pgpass-local', 'localhost:5432:d:u:sock\n');
    expect(passwordFromFile(local, { host: '/var/run/postgresql', port: 5432, dbname: 'd', user: 'u' }).password).toBe('sock');
  });

  it('maps every sslmode to what TLS must do', () => {
    const plan = (sslmode: string, extra = '') => tlsPlan(resolveServer(`host=db.example.org sslmode=${sslmode} ${extra}`, env), dir);
    expect(plan('disable')).toEqual({ attempts: [false], retryWhen: null });
    expect(plan('allow')).toEqual({ attempts: [false, { rejectUnauthorized: false }], retryWhen: 'rejected' });
    expect(plan('prefer')).toEqual({ attempts: [{ rejectUnauthorized: false }, false], retryWhen: 'no-ssl-on-server' });
    expect(plan('require')).toEqual({ attempts: [{ rejectUnauthorized: false }], retryWhen: null });
    expect(() => plan('verify-ca')).toThrow(/sslmode=verify-ca needs the server's root certificate: .*root\.crt does not exist/);
    expect(() => plan('verify-full', 'sslrootcert=/nowhere.pem')).toThrow('sslrootcert /nowhere.pem does not exist');
    expect(() => plan('require', 'sslrootcert=system')).toThrow('sslrootcert=system needs sslmode=verify-full');
    expect(() => resolveServer('host=db sslmode=maybe', env)).toThrow('invalid sslmode "maybe"');
    const ca = file('ca.pem', 'CERT');
    const full = plan('verify-full', `sslrootcert=${ca}`).attempts[0];
    expect(full).toEqual({ rejectUnauthorized: true, ca: 'CERT', servername: 'db.example.org' });
    const byCa = plan('verify-ca', `sslrootcert=${ca}`).attempts[0];
    expect(byCa && byCa.checkServerIdentity?.()).toBeUndefined();
    expect(byCa).toMatchObject({ rejectUnauthorized: true, ca: 'CERT' });
    // require with a root certificate checks the chain, as libpq's does.
    expect(plan('require', `sslrootcert=${ca}`).attempts[0]).toMatchObject({ rejectUnauthorized: true, ca: 'CERT' });
    const cert = file('client.crt', 'CLIENT');
    const key = file('client.key', 'KEY');
    expect(plan('require', `sslcert=${cert} sslkey=${key} sslpassword=pp`).attempts[0]).toEqual({ rejectUnauthorized: false, cert: 'CLIENT', key: 'KEY', passphrase: 'pp' });
  });

  it('takes passwords out of what init writes', () => {
    expect(withoutPassword('postgres://u:pw@h/db?sslmode=require&password=x')).toEqual({ location: 'postgres://u@h/db?sslmode=require', hadPassword: true });
    expect(withoutPassword("host=h password='a b' user=u")).toEqual({ location: 'host=h user=u', hadPassword: true });
    expect(withoutPassword('service=his')).toEqual({ location: 'service=his', hadPassword: false });
  });
});

describe('connection errors', () => {
  const env: Environment = { env: {}, home: '/nonexistent', osUser: 'nurse' };
  const s = { ...resolveServer('host=vault.example.org port=6432 dbname=cradle user=cradle password=hunter22', env) };
  const say = (err: object) => describeConnectError(Object.assign(new Error('message' in err ? String(err.message) : 'x'), err), s, ['hunter22']);

  it('says which host, database and user, and why', () => {
    expect(say({ code: 'ECONNREFUSED' })).toBe('connection refused; is PostgreSQL running there and listening on that port? (host vault.example.org:6432, database cradle, user cradle)');
    expect(say({ code: 'ENOTFOUND' })).toMatch(/^host name vault\.example\.org not found/);
    expect(say({ message: 'timeout expired' })).toMatch(/^timed out after 10 s/);
    expect(say({ code: '28P01', message: 'password authentication failed for user "cradle" hunter22' })).toBe(
      'authentication failed: password authentication failed for user "cradle" *** (the password from the connection string; Cradle reads ~/.pgpass or PGPASSFILE, PGPASSWORD, a service file or the location itself) (host vault.example.org:6432, database cradle, user cradle)',
    );
    expect(say({ code: '3D000', message: 'database "cradle" does not exist' })).toMatch(/^no such database: database "cradle" does not exist/);
    expect(say({ message: 'The server does not support SSL connections' })).toMatch(/^TLS failure: the server does not offer TLS, and sslmode=prefer requires it/);
    expect(say({ code: 'DEPTH_ZERO_SELF_SIGNED_CERT', message: 'self-signed certificate' })).toMatch(/^TLS failure \(sslmode=prefer\): self-signed certificate/);
    expect(say({ message: 'the server asks for a password and none was supplied' })).toMatch(/^authentication failed: the server asks for a password and none was found/);
  });
});
