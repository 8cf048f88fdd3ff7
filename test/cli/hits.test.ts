import crypto from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';

// `cradle triage`, `hits` and `incidents` through the CLI (in-process), on a vault with planted canaries
// and recorded contacts.

describe.each(BACKENDS)('cradle triage, hits and incidents on %s', (backend) => {
  let h: TestHospital;
  let location: string;
  let canary: vault.CanaryRow;
  const cwd = scratchDir('cli-hits');
  const run = (args: string[]) => cradleInProcess([...args, '--vault', location], { cwd });

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 100, trapNumbers: 20 });
    const now = new Date();
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 2, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now), seed: 'cli-hits' });
    [canary] = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    await vault.recordContact(h.vault, {
      source: 'manual', providerId: 'visit-1', kind: 'call', from: '+8617012345678', to: canary.family.mother.phone!, occurredAt: new Date(),
      body: `来电称是医院影楼，知道${canary.family.mother.name.full}的名字`, raw: Buffer.from('noted by hand'),
    });
    location = h.vaultLocation;
    await h.vault.close(); // the CLI opens the vault itself (an embedded one takes a lock)
  });
  afterAll(async () => {
    if (!h) return;
    h.vault = await openDatabase(location);
    await h.close();
  });

  it('triages the contact, lists the hit with its reasons and the incident', async () => {
    const triaged = json<{ triaged: number; hits: { canaryId: string; confidence: number; incidentId: string }[] }>(await run(['triage', '--json']));
    expect(triaged.triaged).toBe(1);
    expect(triaged.hits[0]).toMatchObject({ canaryId: canary.id });
    expect(triaged.hits[0].confidence).toBeGreaterThan(0.95);
    const hits = await run(['hits', '--since', '1d']);
    expect(hits.code).toBe(0);
    expect(hits.stdout).toContain(canary.id);
    expect(hits.stdout).toContain('+*********5678'); // the caller's number masked
    expect(hits.stdout).not.toContain('17012345678');
    // WHY: each reason with its share of the confidence.
    expect(hits.stdout).toMatch(/trap held by the canary \+0\.\d\d; names the family \+0\.\d\d/);
    const listed = json<{ hits: { confidence: number; incidentId: string | null; reasons: { code: string; label: string; reason: string; weight: number; effect: number }[] }[] }>(await run(['hits', '--json']));
    expect(listed.hits[0].reasons).toEqual([
      { code: 'trap', label: 'trap held by the canary', reason: expect.stringMatching(/exists only in the canary's records/), weight: 0.6, effect: expect.any(Number) },
      { code: 'names', label: 'names the family', reason: `the message names the canary: ${canary.family.mother.name.full}`, weight: 0.9, effect: expect.any(Number) },
    ]);
    expect(listed.hits[0].reasons.reduce((s, r) => s + r.effect, 0)).toBeCloseTo(listed.hits[0].confidence, 2);
    const { incidents } = json<{ incidents: { id: string; source: string; hits: number }[] }>(await run(['incidents', '--json']));
    expect(incidents).toEqual([expect.objectContaining({ id: triaged.hits[0].incidentId, source: 'hits', hits: 1, status: 'open' })]);
    const shown = await run(['incidents', triaged.hits[0].incidentId]);
    expect(shown.code).toBe(0);
    expect(shown.stdout).toMatch(/contact \d+ \(manual visit-1\)/);
    const contactId = Number(/contact (\d+) \(manual/.exec(shown.stdout)![1]);
    const raw = await run(['contact', String(contactId), '--raw']);
    expect(raw.stdout).toBe('noted by hand');
    const one = json<{ sha256: string; providerId: string }>(await run(['contact', String(contactId), '--json']));
    expect(one).toMatchObject({ providerId: 'visit-1', sha256: crypto.createHash('sha256').update('noted by hand').digest('hex') });
    const missing = await run(['incidents', 'nope']);
    expect(missing.code).not.toBe(0);
    expect(missing.stderr).toMatch(/no incident nope/);
    const bad = await run(['hits', '--since', 'soon']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/not a duration/);
    expect(bad.stderr).not.toMatch(/^\s+at /m);
  });
});
