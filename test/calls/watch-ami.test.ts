import { spawn } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { closeLingering, openDatabase } from '../../src/db/index.js';
import { demoConfig } from '../../src/demo/setup.js';
import { PACKAGE_ROOT } from '../../src/lib/paths.js';
import * as vault from '../../src/vault/index.js';
import { scratchDir } from '../helpers/db.js';
import { createTrapVault, TRAP_NUMBERS, type TrapVault } from '../ingest/trap-vault.js';

// The real `cradle watch` binary with watch.asterisk.ami in its config, against a small AMI server:
// it logs in with CRADLE_AMI_SECRET, records a Cdr event for a trap, and stops cleanly; without a
// secret it does not start.

const SECRET = 'ami-cli-secret-2c9d';

describe('cradle watch with watch.asterisk.ami', () => {
  let v: TrapVault;
  let server: net.Server;
  let port: number;
  const cwd = scratchDir('watch-ami');
  const logins: string[] = [];

  beforeAll(async () => {
    v = await createTrapVault('pglite', 'watchami');
    await v.db.close();
    server = net.createServer((s) => {
      s.on('error', () => undefined);
      s.write('Asterisk Call Manager/5.0.1\r\n');
      let seen = '';
      s.on('data', (d: Buffer) => {
        seen += d.toString();
        if (!seen.includes('\r\n\r\n') || logins.length > 0 && seen.startsWith('Action: Logoff')) return;
        if (seen.startsWith('Action: Login')) {
          logins.push(seen);
          seen = '';
          s.write('Response: Success\r\nActionID: cradle-login\r\nMessage: Authentication accepted\r\n\r\n');
          s.write('Event: Cdr\r\nSource: 13700001111\r\nDestination: 13912345678\r\nCallerID: "Zhang Wei" <13700001111>\r\nStartTime: 2026-11-24 10:15:02\r\nUniqueID: 1764000902.1\r\nUserField: \r\n\r\n');
        }
      });
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as net.AddressInfo).port;
    fs.writeFileSync(path.join(cwd, 'cradle.config.json'), JSON.stringify({ ...demoConfig({}), vault: v.location.location, watch: { asterisk: { ami: { host: '127.0.0.1', port, username: 'cradle' } } } }));
  });
  afterAll(async () => {
    await new Promise((r) => server?.close(r));
    await v?.location.cleanup();
  });

  const run = (env: Record<string, string>) => {
    const child = spawn(process.execPath, [path.join(PACKAGE_ROOT, 'bin', 'cradle'), 'watch', '--port', '0'], { cwd, env: { ...process.env, CRADLE_VAULT: '', CRADLE_CONFIG: '', CRADLE_AMI_SECRET: '', ...env } });
    let stderr = '';
    child.stderr.on('data', (d) => (stderr += d));
    const exit = new Promise<number | null>((done) => child.on('close', done));
    return { child, exit, stderr: () => stderr };
  };

  it('refuses to start without CRADLE_AMI_SECRET', async () => {
    await closeLingering();
    const r = run({});
    expect(await r.exit).toBe(1);
    expect(r.stderr()).toMatch(/^cradle: .*cradle\.config\.json: watch\.asterisk\.ami: no secret: set CRADLE_AMI_SECRET/m);
  });

  it('logs in, records the Cdr event for the trap, and stops on SIGTERM without logging the secret', async () => {
    await closeLingering();
    const r = run({ CRADLE_AMI_SECRET: SECRET });
    const url = await new Promise<string>((resolve) => {
      let out = '';
      r.child.stdout.on('data', (d) => {
        out += d;
        if (out.includes('\n')) resolve(out.slice(0, out.indexOf('\n')).replace('listening on ', ''));
      });
    });
    // The call is in the vault when /healthz counts it.
    let contacts = 0;
    for (let i = 0; i < 200 && contacts === 0; i++) {
      contacts = ((await (await fetch(`${url}/healthz`)).json()) as { contacts: number }).contacts;
      if (contacts === 0) await new Promise((res) => setTimeout(res, 25));
    }
    expect(contacts).toBe(1);
    expect(logins[0]).toContain(`Secret: ${SECRET}\r\n`);
    r.child.kill('SIGTERM');
    expect(await r.exit).toBe(0);
    expect(r.stderr()).toMatch(/cradle watch: ami 127\.0\.0\.1:\d+: logged in as cradle/);
    expect(r.stderr()).not.toContain(SECRET);
    const db = await openDatabase(v.location.location, { role: 'vault' });
    try {
      const rows = await vault.listContacts(db);
      expect(rows.map((c) => [c.source, c.provider_id, c.to_address])).toEqual([['cdr', '1764000902.1', TRAP_NUMBERS[0]]]);
    } finally {
      await db.close();
    }
  });
});
