import { describe, expect, it } from '@jest/globals';
import { commandLine, encodeUrlUserinfo, redact, redactArgs, splitUrl } from '../../src/lib/redact.js';

// The one redaction: every way a password can be written into a location or a command line.

const NASTY = 'S3cr#t/pa?ss@word';
const ENCODED = encodeURIComponent(NASTY); // S3cr%23t%2Fpa%3Fss%40word

describe('redact', () => {
  const cases: [string, string, string][] = [
    // [what, input, expected]
    ['postgres URL', 'postgres://cradle:hunter22@db.example.org:5432/vault', 'postgres://cradle:***@db.example.org:5432/vault'],
    ['postgresql URL with parameters', 'postgresql://cradle:hunter22@db:5432/vault?sslmode=verify-full', 'postgresql://cradle:***@db:5432/vault?sslmode=verify-full'],
    ['mysql URL', 'mysql://root:hunter22@127.0.0.1:3306/his', 'mysql://root:***@127.0.0.1:3306/his'],
    ['mariadb URL', 'mariadb://root:hunter22@127.0.0.1/his', 'mariadb://root:***@127.0.0.1/his'],
    ['percent-encoded # / ? @', `postgres://u:${ENCODED}@h:5432/db`, 'postgres://u:***@h:5432/db'],
    ['raw # / ? @ (new URL misreads it)', `postgres://u:${NASTY}@127.0.0.1:5432/db`, 'postgres://u:***@127.0.0.1:5432/db'],
    ['raw colon', 'postgres://u:pa:ss:word@h/db', 'postgres://u:***@h/db'],
    ['raw @ twice, no path', 'postgres://u:a@b@c@host', 'postgres://u:***@host'],
    ['raw space', 'postgres://u:a b c@host/db', 'postgres://u:***@host/db'],
    ['raw quote', `postgres://u:it's@host/db`, 'postgres://u:***@host/db'],
    ['raw percent', 'postgres://u:50%off@host/db', 'postgres://u:***@host/db'],
    ['empty user', 'postgres://:hunter22@host/db', 'postgres://:***@host/db'],
    ['user holding @', 'postgres://ops@corp:hunter22@host/db', 'postgres://ops@corp:***@host/db'],
    ['IPv6 host', 'postgres://u:hunter22@[::1]:5432/db', 'postgres://u:***@[::1]:5432/db'],
    ['socket (empty host)', 'postgres://u:hunter22@/db?host=/run/postgresql', 'postgres://u:***@/db?host=/run/postgresql'],
    ['password parameter in the URL', 'postgres://h/db?user=u&password=hunter22&sslmode=require', 'postgres://h/db?user=u&password=***&sslmode=require'],
    ['conninfo', 'host=h port=5432 user=u password=hunter22 dbname=db', 'host=h port=5432 user=u password=*** dbname=db'],
    ['conninfo quoted with spaces', `host=h password='a b\\'c' dbname=db`, 'host=h password=*** dbname=db'],
    ['conninfo spaced =', 'password = hunter22 dbname=db', 'password = *** dbname=db'],
    ['conninfo sslpassword', 'sslkey=k.pem sslpassword=hunter22', 'sslkey=k.pem sslpassword=***'],
    ['PGPASSWORD', 'PGPASSWORD=hunter22 cradle init', 'PGPASSWORD=*** cradle init'],
    ['MYSQL_PWD', 'MYSQL_PWD=hunter22', 'MYSQL_PWD=***'],
    ['prefixed variable', 'CRADLE_SMTP_PASSWORD="hunter 22"', 'CRADLE_SMTP_PASSWORD=***'],
    ['--password value', 'cradle x --password hunter22 --out r.html', 'cradle x --password *** --out r.html'],
    ['--password=value', 'cradle x --password=hunter22', 'cradle x --password=***'],
    ['--token quoted', `cradle x --token 'a b'\\''c' --json`, 'cradle x --token *** --json'],
    ['JSON', '{"user":"u","password":"hu\\"nter"}', '{"user":"u","password":"***"}'],
    ['Go MySQL DSN', 'root:pa@ss@tcp(127.0.0.1:3306)/his', 'root:***@tcp(127.0.0.1:3306)/his'],
    ['in a message', `cannot connect to vault postgres://u:${NASTY}@h:5432/db: ECONNREFUSED; ask ops@example.org`, 'cannot connect to vault postgres://u:***@h:5432/db: ECONNREFUSED; ask ops@example.org'],
    ['two URLs', 'postgres://a:one1@h1/d --target postgres://b:two2@h2/d', 'postgres://a:***@h1/d --target postgres://b:***@h2/d'],
    ['shell-quoted', `cradle --vault 'postgres://u:it'\\''s#x@h/db' report`, `cradle --vault 'postgres://u:***@h/db' report`],
    ['broken host', 'postgres://u:S3cr#t/pa?ss@word@[::1/db', 'postgres://u:***@[::1/db'],
    ['JDBC', 'jdbc:mysql://u:hunter22@h/db', 'jdbc:mysql://u:***@h/db'],
    // Left alone: no password in them.
    ['no password', 'postgres://cradle@db.example.org:5432/vault', 'postgres://cradle@db.example.org:5432/vault'],
    ['host and port', 'postgres://db.example.org:5432/vault', 'postgres://db.example.org:5432/vault'],
    ['https with port and @ later', 'see https://example.org:8443/x and mail a@b.org', 'see https://example.org:8443/x and mail a@b.org'],
    ['directory', '/var/lib/cradle/vault', '/var/lib/cradle/vault'],
    ['prose', 'password authentication failed for user "cradle"', 'password authentication failed for user "cradle"'],
    ['already redacted', 'postgres://u:***@h/db password=*** --password ***', 'postgres://u:***@h/db password=*** --password ***'],
  ];
  it.each(cases)('%s', (_what, input, expected) => {
    expect(redact(input)).toBe(expected);
    // Idempotent: redacting twice changes nothing more.
    expect(redact(expected)).toBe(expected);
  });

  it('hides known secrets wherever they appear, as given and percent-encoded', () => {
    expect(redact(`getaddrinfo ENOTFOUND ${NASTY} and ${ENCODED}`, [NASTY])).toBe('getaddrinfo ENOTFOUND *** and ***');
    expect(redact('a 123 b', ['123'])).toBe('a 123 b'); // too short to blank out everywhere
  });

  it('never lets the distinctive password through, however it is written', () => {
    const forms = [NASTY, ENCODED, ENCODED.toLowerCase()];
    for (const pw of forms) {
      for (const text of [`postgres://u:${pw}@h/db`, `postgresql://cradle:${pw}@127.0.0.1:5432/x?sslmode=disable`, `mysql://root:${pw}@h:3306/x`, `host=h password='${pw}'`, `PGPASSWORD='${pw}'`]) {
        const out = redact(text);
        expect(out).not.toContain(pw);
        expect(out).not.toContain('S3cr');
        expect(out).not.toContain('word@h');
      }
    }
  });
});

describe('command lines', () => {
  it('hides the value after a --password-like flag and passwords in any argument, then shell-quotes', () => {
    expect(redactArgs(['cradle', '--vault', `postgres://u:${NASTY}@h/db`, '--password', 'plain', 'report', 'INC-1'])).toEqual(['cradle', '--vault', 'postgres://u:***@h/db', '--password', '***', 'report', 'INC-1']);
    expect(commandLine(['cradle', '--target', `postgresql://u:${NASTY}@h/db`, 'report', 'INC 1', '--out', 'r.html'])).toBe(`cradle --target 'postgresql://u:***@h/db' report 'INC 1' --out r.html`);
    expect(commandLine(['cradle', '--target=postgres://u:p@h/db', '--vault', '/srv/vault'])).toBe(`cradle '--target=postgres://u:***@h/db' --vault /srv/vault`);
    expect(commandLine(['cradle', `--vault=host=h password='x y'`])).toBe(`cradle '--vault=host=h password=***'`);
  });
});

describe('URLs with raw passwords', () => {
  it('splits at the last @ before the host', () => {
    expect(splitUrl(`postgres://u:${NASTY}@127.0.0.1:5432/db`)).toEqual({ scheme: 'postgres://', user: 'u', password: NASTY, rest: '127.0.0.1:5432/db' });
    expect(splitUrl('postgres://h:5432/db')).toEqual({ scheme: 'postgres://', user: '', password: null, rest: 'h:5432/db' });
    expect(splitUrl('postgres://u@h/db')).toEqual({ scheme: 'postgres://', user: 'u', password: null, rest: 'h/db' });
    expect(splitUrl('/var/lib/cradle')).toBeNull();
  });

  it('percent-encodes a raw password so a URL parser reads it as meant, and leaves an encoded one alone', () => {
    const raw = `postgres://u:${NASTY}@127.0.0.1:5432/db`;
    const fixed = encodeUrlUserinfo(raw);
    expect(fixed).toBe(`postgres://u:${ENCODED}@127.0.0.1:5432/db`);
    const url = new URL(fixed);
    expect([url.hostname, url.port, url.pathname, decodeURIComponent(url.password)]).toEqual(['127.0.0.1', '5432', '/db', NASTY]);
    expect(encodeUrlUserinfo(fixed)).toBe(fixed);
    // A stray % parses (node-postgres escapes it itself); with a # too the raw form is encoded whole.
    expect(encodeUrlUserinfo('postgres://u:50%off@h/db')).toBe('postgres://u:50%off@h/db');
    expect(encodeUrlUserinfo('postgres://u:50%off#x@h/db')).toBe('postgres://u:50%25off%23x@h/db');
    expect(encodeUrlUserinfo('postgres://u:pa:ss@h/db')).toBe('postgres://u:pa:ss@h/db');
    expect(encodeUrlUserinfo('postgres://h:5432/db?sslmode=disable')).toBe('postgres://h:5432/db?sslmode=disable');
    // Raw, the # / ? cut the authority short at a digit-only "port": still the raw form.
    expect(encodeUrlUserinfo('postgres://u:12#3/4?5@h/db')).toBe('postgres://u:12%233%2F4%3F5@h/db');
    // Valid as written, with a user: an @ in the query is left to the query.
    expect(encodeUrlUserinfo('postgres://u:p@h/db?application_name=a@b')).toBe('postgres://u:p@h/db?application_name=a@b');
    expect(encodeUrlUserinfo('postgres://h/db?application_name=a@b')).toBe('postgres://h/db?application_name=a@b');
    // Misread without the encoding: the host would be taken from inside the password.
    expect(() => new URL(raw)).toThrow();
  });
});
