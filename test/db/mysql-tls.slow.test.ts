import { execFileSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { UserError } from '../../src/lib/errors.js';
import { scratchDir } from '../helpers/db.js';
import { describeWith, MARIADBD } from '../helpers/needs.js';
import { startPrivateMariadb, type PrivateMariadb } from '../helpers/private-mariadb.js';

// A MySQL/MariaDB target over TLS, as a DBA sets it up: a private mariadbd that requires secure
// transport, its certificate signed by the hospital's own CA for the name "localhost" only. Each
// ssl-mode of the target URL against it: what connects, what is refused, and that the session is
// really encrypted.

const sh = (dir: string, args: string[]) => execFileSync('openssl', args, { cwd: dir, stdio: 'pipe', timeout: 30_000 });

describeWith(MARIADBD)('a MariaDB target over TLS', () => {
  let dir: string;
  let server: PrivateMariadb;
  const url = (host: string, query: string) => `mysql://root@${host}:${server.port}/mysql${query ? `?${query}` : ''}`;

  beforeAll(async () => {
    dir = scratchDir('mysql-tls');
    // The hospital's CA, a server certificate for DNS:localhost (no IP), and somebody else's CA.
    sh(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'ca.key', '-out', 'ca.pem', '-days', '2', '-subj', '/CN=Hospital Test CA']);
    sh(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=localhost']);
    fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:localhost\n');
    sh(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext']);
    sh(dir, ['req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'other.key', '-out', 'other.pem', '-days', '2', '-subj', '/CN=Someone Else CA']);
    server = await startPrivateMariadb(dir, [
      `--ssl-ca=${path.join(dir, 'ca.pem')}`, `--ssl-cert=${path.join(dir, 'server.pem')}`, `--ssl-key=${path.join(dir, 'server.key')}`, '--require-secure-transport=ON',
    ]);
  });
  afterAll(async () => {
    await server?.stop();
    if (dir) fs.rmSync(dir, { recursive: true, force: true });
  }, 60_000);

  /** The TLS version of the session, or the error's message when the target does not open. */
  async function attempt(location: string): Promise<string> {
    try {
      const db = await openDatabase(location, { role: 'target' });
      try {
        const { rows } = await db.query<{ Value: string }>(`SHOW SESSION STATUS LIKE 'Ssl_version'`);
        return rows[0]?.Value ?? '';
      } finally {
        await db.close();
      }
    } catch (err) {
      expect(err).toBeInstanceOf(UserError); // a one-line message, never a stack trace
      return (err as Error).message;
    }
  }

  it('connects encrypted with ssl-mode=REQUIRED, VERIFY_CA and VERIFY_IDENTITY, each with what it needs', async () => {
    const ca = path.join(dir, 'ca.pem');
    expect(await attempt(url('127.0.0.1', 'ssl-mode=REQUIRED'))).toMatch(/^TLSv1\.[23]$/);
    expect(await attempt(url('127.0.0.1', `ssl-mode=VERIFY_CA&ssl-ca=${ca}`))).toMatch(/^TLSv1\.[23]$/);
    // The certificate names localhost: the name is checked, so localhost passes.
    expect(await attempt(url('localhost', `ssl-mode=VERIFY_IDENTITY&ssl-ca=${ca}`))).toMatch(/^TLSv1\.[23]$/);
  });

  it('refuses, saying which store, host and why: no TLS, a certificate from another CA, a name the certificate does not carry', async () => {
    const other = path.join(dir, 'other.pem');
    const ca = path.join(dir, 'ca.pem');
    const host = `host 127.0.0.1:${server.port}`;
    const plain = await attempt(url('127.0.0.1', ''));
    // MariaDB says "access denied" to a plain connection it requires TLS of: the message says so.
    expect(plain).toMatch(/^cannot connect to target mysql:\/\/root@127\.0\.0\.1:\d+\/mysql: authentication failed: .*; if the server requires TLS, add \?ssl-mode=VERIFY_IDENTITY&ssl-ca=<CA file>/);
    expect(plain).toContain(host);
    const wrongCa = await attempt(url('127.0.0.1', `ssl-mode=VERIFY_CA&ssl-ca=${other}`));
    expect(wrongCa).toMatch(/TLS failure \(ssl-mode=VERIFY_CA\)/);
    expect(wrongCa).toContain(host);
    // An address: the driver would check the certificate against "localhost", so it is refused up front.
    expect(await attempt(url('127.0.0.1', `ssl-mode=VERIFY_IDENTITY&ssl-ca=${ca}`))).toMatch(/ssl-mode=VERIFY_IDENTITY checks the server's name: give the host name its certificate carries, not the address 127\.0\.0\.1/);
    // A certificate for another name (the server reloads its files with FLUSH SSL): VERIFY_IDENTITY
    // refuses what VERIFY_CA accepts.
    sh(dir, ['req', '-newkey', 'rsa:2048', '-nodes', '-keyout', 'server.key', '-out', 'server.csr', '-subj', '/CN=his-db.hospital.test']);
    fs.writeFileSync(path.join(dir, 'san.ext'), 'subjectAltName=DNS:his-db.hospital.test\n');
    sh(dir, ['x509', '-req', '-in', 'server.csr', '-CA', 'ca.pem', '-CAkey', 'ca.key', '-CAcreateserial', '-out', 'server.pem', '-days', '2', '-extfile', 'san.ext']);
    const admin = await openDatabase(url('127.0.0.1', 'ssl-mode=REQUIRED'), { role: 'target' });
    await admin.query('FLUSH SSL').finally(() => admin.close());
    const wrongName = await attempt(url('localhost', `ssl-mode=VERIFY_IDENTITY&ssl-ca=${ca}`));
    expect(wrongName).toMatch(/TLS failure \(ssl-mode=VERIFY_IDENTITY\).*localhost/);
    expect(await attempt(url('localhost', `ssl-mode=VERIFY_CA&ssl-ca=${ca}`))).toMatch(/^TLSv1\.[23]$/);
    // A missing CA file is the user's error, named.
    expect(await attempt(url('127.0.0.1', `ssl-mode=VERIFY_CA&ssl-ca=${path.join(dir, 'nope.pem')}`))).toMatch(/^target mysql:\/\/root@127\.0\.0\.1:\d+\/mysql\?\S+: ssl-ca=\S+nope\.pem: cannot read the CA file \(ENOENT\)$/);
  });
});
