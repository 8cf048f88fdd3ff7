import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import { birthWindow, plantCanaries } from '../../src/seed/index.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, type TestHospital } from '../helpers/hospital.js';

// The investigator's story through the CLI (in-process): an incident, a note, a hit dismissed, the
// trace leaving it out, the incident closed, the report showing the history; the ledger verifies.

describe.each(BACKENDS)('an incident life cycle through the CLI on %s', (backend) => {
  let h: TestHospital;
  let location: string;
  let canaries: vault.CanaryRow[];
  const cwd = scratchDir('cli-incident-life');
  const run = (args: string[]) => cradleInProcess([...args, '--vault', location], { cwd });

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 100, trapNumbers: 20 });
    const now = new Date();
    await plantCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, count: 2, channels: [h.hospital.seedChannel], now, isoWeek: '2026-W48', ...birthWindow(now), seed: 'cli-life' });
    canaries = await vault.listCanaries(h.vault, { hospital: h.hospital.name });
    for (const [i, c] of canaries.entries()) {
      await vault.recordContact(h.vault, {
        source: 'manual', providerId: `visit-${i}`, kind: 'call', from: '+8617012345678', to: c.family.mother.phone!, occurredAt: new Date(),
        body: `来电称是医院影楼，知道${c.family.mother.name.full}的名字`, raw: Buffer.from(`noted by hand ${i}`),
      });
    }
    location = h.vaultLocation;
    await h.vault.close(); // the CLI opens the vault itself (an embedded one takes a lock)
  });
  afterAll(async () => {
    if (!h) return;
    h.vault = await openDatabase(location);
    await h.close();
  });

  it('notes, dismisses a hit, traces without it, closes, and reports the history', async () => {
    // Kept to the story's steps (each command opens the vault: about 0.4 CPU-s); the transitions'
    // refusals are tested on the vault (test/vault/incident-life.test.ts), the wording in test/report/render.test.ts.
    const triaged = json<{ hits: { hitId: number; canaryId: string; incidentId: string }[] }>(await run(['triage', '--json']));
    expect(triaged.hits).toHaveLength(2);
    const id = triaged.hits[0].incidentId;
    expect(triaged.hits[1].incidentId).toBe(id);
    const victim = triaged.hits.find((x) => x.canaryId === canaries[1].id)!;

    const noted = await run(['incidents', 'note', id, 'Called the studio: they deny it.']);
    expect(noted.code).toBe(0);
    expect(noted.stdout).toMatch(new RegExp(`note added to incident ${id}: ledger entry #\\d+`));

    const dismissed = await run(['hits', 'dismiss', String(victim.hitId), '--reason', 'a wrong number, the caller said so', '--by', 'wang.li']);
    expect(dismissed.code).toBe(0);
    expect(dismissed.stdout).toContain(`hit ${victim.hitId} dismissed (incident ${id})`);
    const listed = json<{ status: string; hits: { id: number; canaryId: string; status: string; incidentId: string }[]; notShown: number }>(await run(['hits', '--status', 'all', '--json']));
    expect(listed).toMatchObject({ status: 'all', notShown: 0 });
    expect(listed.hits.map((x) => [x.id, x.status, x.incidentId]).sort()).toEqual(triaged.hits.map((x) => [x.hitId, x.hitId === victim.hitId ? 'dismissed' : 'active', id]).sort());
    const noReason = await run(['hits', 'dismiss', String(victim.hitId)]);
    expect(noReason.code).not.toBe(0);
    expect(noReason.stderr).toMatch(/--reason/);

    const trace = json<{ canaries: { canaryId: string }[]; excluded: { hits: { hitId: number; reason: string; by: string }[]; canaries: string[] } }>(await run(['trace', id, '--json']));
    expect(trace.canaries.map((x) => x.canaryId)).toEqual([canaries[0].id]);
    expect(trace.excluded).toEqual({ hits: [expect.objectContaining({ hitId: victim.hitId, reason: 'a wrong number, the caller said so', by: 'wang.li' })], canaries: [canaries[1].id] });
    const traceText = await run(['trace', id]);
    expect(traceText.stdout).toContain(`left out: 1 dismissed hit(s); canaries with no other evidence, not traced: ${canaries[1].id}`);
    expect(traceText.stdout).toContain(`hit ${victim.hitId} on ${canaries[1].id}: dismissed by wang.li`);

    const closed = await run(['incidents', 'close', id, '--reason', 'studio confirmed; reported to the police', '--json']);
    expect(json<{ from: string; to: string }>(closed)).toMatchObject({ from: 'open', to: 'closed' });
    const again = await run(['incidents', 'close', id, '--reason', 'again']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`cradle: cannot close incident ${id}: it is already closed`);

    // Lists: the open ones by default, saying what is not shown; one incident with its history.
    const open = await run(['incidents']);
    expect(open.stdout).toContain('no open incidents');
    expect(open.stdout).toContain('(not shown: 1 closed; --status all)');
    const shown = await run(['incidents', id]);
    expect(shown.stdout).toContain(`incident ${id} (hits, closed)`);
    expect(shown.stdout).toMatch(/history:\n.* note: Called the studio: they deny it\.\n.*wang\.li: dismiss hit \d+; reason: a wrong number, the caller said so\n.*: close \(open → closed\); reason: studio confirmed; reported to the police/);

    // The report's history; the dismissed hit is left out of its evidence.
    expect((await run(['report', id, '--format', 'md', '--out', 'report.md'])).code).toBe(0);
    const md = fs.readFileSync(path.join(cwd, 'report.md'), 'utf8');
    const history = md.slice(md.search(/## \d+\. History/), md.search(/## \d+\. Chain of custody/));
    expect(history).toContain('| note | Called the studio: they deny it. |');
    expect(history).toContain(`| wang.li | hit ${victim.hitId} dismissed: left out of the trace | a wrong number, the caller said so |`);
    expect(history).toContain('| closed | studio confirmed; reported to the police |');
    expect(md).toContain(`Hit ${victim.hitId} was dismissed by an investigator`);

    const verified = json<{ ok: boolean }>(await run(['verify', '--json']));
    expect(verified.ok).toBe(true);
  });
});
