import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from '@jest/globals';
import { cradle, json } from '../helpers/cli.js';
import { scratchDir } from '../helpers/db.js';
import { openDatabase } from '../../src/db/index.js';

// The slow tier (npm run test:slow): `cradle demo` plays the whole story (a year of births, four
// rotations, exports, access logs, the leak, its incidents and reports) in one binary run.

describe('cradle demo', () => {
  let demoDir = '';
  it('plays the whole story and names the leaking export, leaving a hospital a newcomer can explore', async () => {
    const cwd = scratchDir('cli-demo');
    const res = await cradle(['demo', '--births', '2000', '--json'], { cwd });
    const out = json<{
      births: number;
      canaries: number;
      exports: number;
      accessLog: { tripwires: number };
      contacts: { scam: number; mail: number };
      leaked: { export: string; recipient: string };
      incidents: { hits: string; scan: string };
      verdict: { hits: { key: string; posterior: number }; scan: { key: string }; right: boolean };
      reports: string[];
    }>(res);
    expect(out.reports.map((r) => path.basename(r))).toEqual([`incident-${out.incidents.hits}.html`, `incident-${out.incidents.hits}.zh-CN.html`, 'audit.html']);
    for (const r of out.reports) expect(fs.readFileSync(r, 'utf8')).toMatch(/^<!DOCTYPE html>/i);
    expect(out).toMatchObject({ births: 2000, canaries: 40, exports: 20, leaked: { recipient: 'screening-lab' } });
    // One mail when a canary of the leaked file carries a trap e-mail (canaries carry e-mail as often as real patients on that provider do).
    expect(out.contacts.mail).toBeLessThanOrEqual(1);
    expect(out.accessLog.tripwires).toBeGreaterThan(0);
    expect(out.verdict).toMatchObject({ right: true, hits: { key: `export-file:${out.leaked.export}` }, scan: { key: `export-file:${out.leaked.export}` } });
    expect(out.verdict.hits.posterior).toBeGreaterThan(0.9);
    demoDir = path.join(cwd, 'cradle-demo');
    const traced = json<{ suspects: { key: string }[] }>(await cradle(['trace', out.incidents.hits, '--json'], { cwd: demoDir }));
    expect(traced.suspects[0].key).toBe(`export-file:${out.leaked.export}`);
    // The whole story sealed everything the trace read: the ledger and every sealed row verify clean.
    const verified = await cradle(['verify', '--json'], { cwd: demoDir });
    expect(JSON.parse(verified.stdout)).toMatchObject({ ok: true, evidence: { problemCount: 0 } });
    expect(JSON.parse(verified.stdout).evidence.byTable).toMatchObject({ exposures: expect.any(Number), access_blocks: expect.any(Number), incidents: expect.any(Number) });
    expect(verified.code).toBe(0);
    // No false incident: the scam campaign and the seized spreadsheet, and at most the studio's e-mail
    // on its own (when it mails a family on the list that no text reached: another sender, another
    // canary, so an incident of its own, and a true one). The robodialers' hits (bare calls from
    // senders that walked the pool) stay below the alert threshold, in no incident.
    const incidents = json<{ incidents: { id: string; source: string }[] }>(await cradle(['incidents', '--status', 'all', '--json'], { cwd: demoDir })).incidents;
    const hits = json<{ hits: { kind: string; confidence: number; incidentId: string | null; reasons: { code: string }[] }[] }>(await cradle(['hits', '--status', 'all', '--json'], { cwd: demoDir })).hits;
    const story = [`hits:${out.incidents.hits}`, `scan:${out.incidents.scan}`];
    const others = incidents.filter((i) => !story.includes(`${i.source}:${i.id}`));
    expect(incidents.map((i) => `${i.source}:${i.id}`)).toEqual(expect.arrayContaining(story));
    expect(others.length).toBeLessThanOrEqual(out.contacts.mail);
    for (const i of others) {
      const of = hits.filter((x) => x.incidentId === i.id);
      expect(i.source).toBe('hits');
      expect(of.map((x) => x.kind)).toEqual(['email']);
      expect(of[0].reasons.map((r) => r.code)).toContain('names');
    }
    const robo = hits.filter((x) => x.reasons.some((r) => r.code === 'dialer'));
    expect(robo.length).toBeGreaterThan(0);
    for (const x of robo) expect(x).toMatchObject({ kind: 'call', incidentId: null, confidence: expect.any(Number) });
    expect(Math.max(...robo.map((x) => x.confidence))).toBeLessThan(0.5);
    expect(hits.filter((x) => x.incidentId !== null).every((x) => x.confidence >= 0.5)).toBe(true);
    const check = await cradle(['--config', path.join(demoDir, 'cradle.config.json'), 'target', 'check'], { cwd });
    expect(check.code).toBe(0);
    const again = await cradle(['demo'], { cwd });
    expect(again.code).toBe(1);
    expect(again.stderr).toMatch(/already holds a demo/);
    // The whole story in one binary run plus four more: about 40 CPU-seconds, minutes on a loaded machine.
  }, 900_000);

  // Issue 12: the demo must pass its own realism audit. Structure first: the hospital writes its own
  // rows in time order between Cradle's runs, so no canary shares a created time and ids follow time.
  it('interleaves canaries with the hospital\'s own rows: ids in time order, created times of their own, the trap domain one mothers use', async () => {
    expect(demoDir).not.toBe('');
    const vaultDb = await openDatabase(path.join(demoDir, '.cradle'), { role: 'vault' });
    const target = await openDatabase(path.join(demoDir, 'hospital-db'), { role: 'target' });
    try {
      const { rows: keys } = await vaultDb.query<{ f: string; b: string; email: string | null }>(
        `SELECT target_keys->'family'->>'family_id' AS f, target_keys->'birth'->>'birth_id' AS b, family->'mother'->>'email' AS email FROM canaries WHERE status IN ('planted', 'retired') AND target_keys ? 'family'`,
      );
      expect(keys.length).toBe(40);
      const ids = keys.map((k) => Number(k.f));
      const { rows: stamps } = await target.query<{ n: number; distinct: number; min: number; max: number }>(
        `SELECT count(*)::int AS n, count(DISTINCT created_at)::int AS distinct, min(family_id)::int AS min, max(family_id)::int AS max FROM families WHERE family_id = ANY($1::bigint[])`,
        [ids],
      );
      expect(stamps[0]).toMatchObject({ n: 40, distinct: 40 });
      // Real families on both sides of the canaries and between them: the canaries are not a block.
      const { rows: between } = await target.query<{ before: number; inside: number }>(
        `SELECT count(*) FILTER (WHERE family_id < $2)::int AS before, count(*) FILTER (WHERE family_id BETWEEN $2 AND $3 AND NOT family_id = ANY($1::bigint[]))::int AS inside FROM families`,
        [ids, stamps[0].min, stamps[0].max],
      );
      expect(between[0].before).toBeGreaterThan(1000);
      expect(between[0].inside).toBeGreaterThan(60);
      // No id out of order: family ids follow created times, birth ids birth times, for every row.
      const { rows: inversions } = await target.query<{ families: number; births: number }>(
        `SELECT (SELECT count(*)::int FROM (SELECT created_at < lag(created_at) OVER (ORDER BY family_id) AS back FROM families) t WHERE back) AS families,
                (SELECT count(*)::int FROM (SELECT birth_time < lag(birth_time) OVER (ORDER BY birth_id) AS back FROM births) t WHERE back) AS births`,
      );
      expect(inversions[0]).toEqual({ families: 0, births: 0 });
      // The trap domain is a provider real mothers use, and every canary address is on it.
      const { rows: providers } = await target.query<{ share: number }>(
        `SELECT avg((split_part(email, '@', 2) = 'jsmail.example')::int)::float8 AS share FROM families WHERE email IS NOT NULL AND NOT family_id = ANY($1::bigint[])`,
        [ids],
      );
      expect(providers[0].share).toBeGreaterThan(0.3);
      expect(keys.filter((k) => k.email).every((k) => k.email!.endsWith('@jsmail.example'))).toBe(true);
    } finally {
      await target.close();
      await vaultDb.close();
    }
  }, 120_000);

  // Fails today (figures in the issue note): the profile's address templates fill house, building and
  // room numbers with uniform digits, and its k-filtered name characters differ from the hospital's.
  it.failing('passes its own realism audit: planted canaries and a dry-run sample below ROC AUC 0.6', async () => {
    const report = json<{ planted: { classifier: { auc: number } }; sample: { classifier: { auc: number } } }>(await cradle(['realism', '--json', '--seed', '1'], { cwd: demoDir }));
    expect(report.planted.classifier.auc).toBeLessThanOrEqual(0.6);
    expect(report.sample.classifier.auc).toBeLessThanOrEqual(0.6);
  }, 300_000);
});
