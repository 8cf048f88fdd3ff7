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
    expect((await run(['triage'])).code).toBe(0);
    const { incidents } = json<{ status: string; incidents: { id: string; status: string; hits: number }[] }>(await run(['incidents', '--json']));
    expect(incidents).toEqual([expect.objectContaining({ status: 'open', hits: 2 })]);
    const id = incidents[0].id;

    const noted = await run(['incidents', 'note', id, 'Called the studio: they deny it.']);
    expect(noted.code).toBe(0);
    expect(noted.stdout).toMatch(new RegExp(`note added to incident ${id}: ledger entry #\\d+`));

    const { hits } = json<{ hits: { id: number; canaryId: string; status: string; incidentId: string }[] }>(await run(['hits', '--json']));
    expect(hits.map((x) => x.status)).toEqual(['active', 'active']);
    const victim = hits.find((x) => x.canaryId === canaries[1].id)!;
    const dismissed = await run(['hits', 'dismiss', String(victim.id), '--reason', 'a wrong number, the caller said so', '--by', 'wang.li']);
    expect(dismissed.code).toBe(0);
    expect(dismissed.stdout).toContain(`hit ${victim.id} dismissed (incident ${id})`);
    const listed = await run(['hits']);
    expect(listed.stdout).not.toMatch(new RegExp(`^${victim.id}\\s`, 'm'));
    expect(listed.stdout).toContain('(1 other hit(s) not shown: --status all)');
    expect(json<{ hits: { id: number; status: string }[] }>(await run(['hits', '--status', 'dismissed', '--json'])).hits).toEqual([expect.objectContaining({ id: victim.id, status: 'dismissed' })]);

    const trace = json<{ canaries: { canary_id: string }[]; excluded: { hits: { hitId: number; reason: string; by: string }[]; canaries: string[] } }>(await run(['trace', id, '--json']));
    expect(trace.canaries.map((x) => x.canary_id)).toEqual([canaries[0].id]);
    expect(trace.excluded).toEqual({ hits: [expect.objectContaining({ hitId: victim.id, reason: 'a wrong number, the caller said so', by: 'wang.li' })], canaries: [canaries[1].id] });
    const traceText = await run(['trace', id]);
    expect(traceText.stdout).toContain(`left out: 1 dismissed hit(s); canaries with no other evidence, not traced: ${canaries[1].id}`);
    expect(traceText.stdout).toContain(`hit ${victim.id} on ${canaries[1].id}: dismissed by wang.li`);

    const closed = await run(['incidents', 'close', id, '--reason', 'studio confirmed; reported to the police', '--json']);
    expect(json<{ from: string; to: string }>(closed)).toMatchObject({ from: 'open', to: 'closed' });
    const again = await run(['incidents', 'close', id, '--reason', 'again']);
    expect(again.code).toBe(1);
    expect(again.stderr.trim()).toBe(`cradle: cannot close incident ${id}: it is already closed`);
    const self = await run(['incidents', 'merge', id, id]);
    expect(self.code).toBe(1);
    expect(self.stderr).toContain(`cannot merge incident ${id} into itself`);
    const unknownHit = await run(['hits', 'dismiss', '99999', '--reason', 'x']);
    expect(unknownHit.code).toBe(1);
    expect(unknownHit.stderr).toContain('no hit 99999');
    const noReason = await run(['incidents', 'dismiss', id]);
    expect(noReason.code).not.toBe(0);
    expect(noReason.stderr).toMatch(/--reason/);

    // Lists: the open ones by default, saying what is not shown.
    const open = await run(['incidents']);
    expect(open.stdout).toContain('no open incidents');
    expect(open.stdout).toContain('(not shown: 1 closed; --status all)');
    expect(json<{ incidents: { id: string; status: string; dismissedHits: number }[] }>(await run(['incidents', '--status', 'closed', '--json'])).incidents).toEqual([expect.objectContaining({ id, status: 'closed', dismissedHits: 1 })]);
    const shown = await run(['incidents', id]);
    expect(shown.stdout).toMatch(/history:\n.* note: Called the studio: they deny it\.\n.*wang\.li: dismiss hit \d+; reason: a wrong number, the caller said so\n.*: close \(open → closed\); reason: studio confirmed; reported to the police/);

    // The report's history, in both languages; the dismissed hit is left out of its evidence.
    expect((await run(['report', id, '--format', 'md', '--out', 'report.md'])).code).toBe(0);
    const md = fs.readFileSync(path.join(cwd, 'report.md'), 'utf8');
    expect(md).toMatch(/## \d+\. History/);
    expect(md).toContain('Called the studio: they deny it.');
    expect(md).toContain(`hit ${victim.id} dismissed: left out of the trace`);
    expect(md).toContain('studio confirmed; reported to the police');
    expect(md).toContain(`Hit ${victim.id} was dismissed by an investigator`);
    expect((await run(['report', id, '--format', 'md', '--lang', 'zh-CN', '--out', 'report.zh.md'])).code).toBe(0);
    const zh = fs.readFileSync(path.join(cwd, 'report.zh.md'), 'utf8');
    expect(zh).toContain('处理记录');
    expect(zh).toContain(`驳回命中 ${victim.id}`);
    expect(zh).toContain('已关闭');

    const verified = json<{ ok: boolean }>(await run(['verify', '--json']));
    expect(verified.ok).toBe(true);
  });
});
