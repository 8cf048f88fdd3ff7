import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { maskDigits, maskPhone } from '../../src/lib/phone.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';

// Callers' numbers written in full-width digits or with slashes and underscores must be masked like
// any other: in the incident title triage writes, in `cradle hits` and `incidents`, and in the report.

// Each caller: how it arrived, and its digits as one ASCII string (what must never be shown whole).
const CALLERS = [
  { from: '＋８６１３８００１３８０００', digits: '8613800138000', masked: '+*********8000' },
  { from: '+86/138_0013_8001', digits: '8613800138001', masked: '+*********8001' },
  { from: '+86 138\u200b0013\u200b8002', digits: '8613800138002', masked: '+*********8002' },
];

/** The text with everything but digits dropped and full-width digits made ASCII: a number shown whole in any form is found. */
const digitsOf = (text: string) => text.normalize('NFKC').replace(/[^\d\n]/g, '');

describe('maskDigits and maskPhone', () => {
  it('mask digits of any width between any separators, keeping the last four', () => {
    expect(maskDigits('回电 １３８００１３８０００ 或 +86/138_0013_8001')).toBe('回电 *******８０００ 或 +**/***_****_8001');
    expect(maskDigits('from +8613900001111 to 138-0000-2222')).toBe('from +*********1111 to ***-****-2222');
    expect(maskPhone('＋８６ １３８－００１３－８０００')).toBe('+*********8000');
    expect(maskPhone('+86/138_0013_8000')).toBe('+*********8000');
    expect(maskPhone('(138) 0013.8000')).toBe('*******8000');
    expect(maskPhone('promo@studio.example')).toBe('promo@studio.example');
    expect(maskPhone('STUDIO 13800138000')).toBe('STUDIO *******8000');
  });
});

describe.each(BACKENDS)('callers written oddly are masked on %s', (backend) => {
  let h: TestHospital;
  let location: string;
  let canaries: vault.CanaryRow[];
  const cwd = scratchDir('cli-masking');
  const run = (args: string[]) => cradleInProcess(['--vault', location, ...args], { cwd });

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 100, trapNumbers: 20 });
    const now = new Date(Date.now() - 3_600_000);
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 3, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now), seed: 'cli-masking' });
    canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    for (const [i, c] of CALLERS.entries()) {
      const canary = canaries[i];
      await vault.recordContact(h.vault, {
        source: 'generic', providerId: `odd-${i}`, kind: 'sms', from: c.from, to: canary.family.mother.phone!, occurredAt: new Date(now.getTime() + (i + 1) * 60_000),
        body: `${canary.family.mother.name.full}您好，宝宝写真免费，回电 ${c.from}`, raw: Buffer.from(`from=${c.from}`),
      });
    }
    location = h.vaultLocation;
    await h.vault.close();
  });
  afterAll(async () => {
    if (!h) return;
    h.vault = await openDatabase(location);
    await h.close();
  });

  it('in the incident titles, hits, incidents and the report', async () => {
    const triaged = json<{ hits: { incidentId: string }[] }>(await run(['triage', '--json']));
    expect(triaged.hits).toHaveLength(3);
    const hits = await run(['hits']);
    expect(hits.code).toBe(0);
    const incidents = await run(['incidents']);
    expect(incidents.code).toBe(0);
    const outputs = [hits.stdout, incidents.stdout];
    for (const id of new Set(triaged.hits.map((x) => x.incidentId))) {
      const shown = await run(['incidents', id]);
      expect(shown.code).toBe(0);
      outputs.push(shown.stdout);
      // The default report (HTML); Markdown and the bundle's copies are made from the same data.
      const report = await run(['report', id, '--out', `${id}.html`]);
      expect(report.stderr).toBe('');
      outputs.push(fs.readFileSync(path.join(cwd, `${id}.html`), 'utf8'));
    }
    for (const c of CALLERS) {
      expect(hits.stdout).toContain(c.masked);
      for (const text of outputs) {
        expect(text).not.toContain(c.from);
        expect(digitsOf(text)).not.toContain(c.digits);
      }
    }
    // The titles, as stored, carry the number masked in one form (senders with one script share an incident).
    const listed = json<{ incidents: { title: string }[] }>(await run(['incidents', '--json'])).incidents;
    expect(listed.length).toBeGreaterThan(0);
    for (const i of listed) expect(CALLERS.map((c) => c.masked)).toContain(i.title.replace(/^.* from /, ''));
  });
});
