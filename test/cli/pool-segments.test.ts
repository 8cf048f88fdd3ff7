import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { openDatabase } from '../../src/db/index.js';
import type { Counts, HospitalProfile } from '../../src/domain/index.js';
import { cradle, cradleInProcess, json } from '../helpers/cli.js';
import { BACKENDS, newDatabase, scratchDir, type TestLocation } from '../helpers/db.js';
import { regionalPopulationSql, REGIONAL_SCHEMA, writeRegionalConfig } from '../fixtures/his-population.js';

// `cradle pool add`, `pool list` and `audit` against the real patients' phone segments of the stored
// profile: silent before any profile; with one, the share of real numbers in segments the pool has
// none of, on standard error and as `segments` in --json, falling as numbers in those segments are added.

const FAMILIES = 300;

interface SegmentCheck {
  hospital: string;
  profileId: number;
  numbers: number;
  uncoveredShare: number;
  missing: string[];
  warning: string | null;
}

describe.each(BACKENDS)('trap pool against the profile phone segments on %s', (backend) => {
  let cwd: string;
  let vaultLoc: TestLocation;
  let targetLoc: TestLocation;
  let segments: Counts;
  let kept: [string, number][];
  // Through the binary when it reads stdin, in-process otherwise.
  const run = (args: string[], input?: string) => (input === undefined ? cradleInProcess(args, { cwd }) : cradle(args, { cwd, input }));
  const pct = (share: number) => `${Math.round(share * 100)}%`;

  beforeAll(async () => {
    cwd = scratchDir(`cli-pool-segments-${backend}`);
    vaultLoc = await newDatabase(backend, 'segvault');
    targetLoc = await newDatabase(backend, 'segtarget');
    const target = await openDatabase(targetLoc.location);
    await target.exec(REGIONAL_SCHEMA);
    await target.exec(regionalPopulationSql(FAMILIES));
    // Two segments many patients share (the fixture spreads its numbers over hundreds of segments).
    for (const [segment, n, from] of [['1377654', 60, 100], ['1860519', 50, 200]] as const) {
      await target.query(
        `INSERT INTO his."ZY_BRXX" ("ZYH", "XM", "LXDH", "MZ", "BQ", "RYSJ")
         SELECT 'ZY2026120' || lpad(i::text, 5, '0'), '王芳', $1 || lpad(i::text, 4, '0'), '汉族', '产科一病区', '2026-12-01 10:11:12'
           FROM generate_series($2::int, $3::int) i`,
        [segment, from, from + n - 1],
      );
    }
    await target.close();
    writeRegionalConfig(cwd, vaultLoc.location, targetLoc.location);
    json(await run(['init', '--json']));
  }, 120_000);
  afterAll(async () => {
    await vaultLoc?.cleanup();
    await targetLoc?.cleanup();
  });

  it('says nothing of segments while no profile is stored', async () => {
    const add = await run(['pool', 'add', '--file', '-', '--json'], '13000000001\n');
    expect(add.code).toBe(0);
    expect(add.stderr).toBe('');
    expect(json<{ segments: SegmentCheck[] }>(add).segments).toEqual([]);
    const list = await run(['pool', 'list', '--json']);
    expect(list.stderr).toBe('');
    expect(json<{ segments: SegmentCheck[] }>(list).segments).toEqual([]);
  });

  it('with a stored profile, pool list warns with the share of real numbers in segments the pool lacks', async () => {
    json(await run(['target', 'profile', '--json']));
    const doc = json<HospitalProfile>(await run(['target', 'profile', '--show', '--json']));
    segments = doc.family.phones!.segments;
    kept = Object.entries(segments.values).sort((a, b) => b[1] - a[1]);
    expect(kept.length).toBeGreaterThanOrEqual(2);
    const keptShare = kept.reduce((a, [, n]) => a + n, 0) / segments.total;

    const list = await run(['pool', 'list', '--json']);
    expect(list.code).toBe(0);
    const [check] = json<{ segments: SegmentCheck[] }>(list).segments;
    // The one number in the pool (130 0000 0001) is in no real segment.
    expect(check).toMatchObject({ hospital: 'changzhou', numbers: 1, missing: kept.slice(0, 3).map(([s]) => s) });
    expect(check.uncoveredShare).toBeCloseTo(keptShare, 10);
    expect(list.stderr).toBe(
      `cradle: warning: ${pct(keptShare)} of changzhou's real patients' numbers are in segments your pool has none of (most common: ${kept.slice(0, 3).map(([s]) => s).join(', ')}); canaries in other segments are easier to tell apart: add numbers in those segments with \`cradle pool add\`\n`,
    );
    const human = await run(['pool', 'list']);
    expect(human.stderr).toBe(list.stderr);
  });

  it('pool add reports the figure after the numbers go in, and falls silent once every kept segment is covered', async () => {
    const [top, second] = kept;
    const partial = await run(['pool', 'add', '--file', '-', '--json'], `${top[0]}0001\n${top[0]}0002\n`);
    expect(partial.code).toBe(0);
    const [after] = json<{ segments: SegmentCheck[] }>(partial).segments;
    const left = kept.slice(1).reduce((a, [, n]) => a + n, 0) / segments.total;
    expect(after.numbers).toBe(3);
    expect(after.uncoveredShare).toBeCloseTo(left, 10);
    expect(after.missing[0]).toBe(second[0]);
    expect(partial.stderr).toMatch(new RegExp(`^cradle: warning: ${pct(left)} of changzhou's real patients' numbers are in segments your pool has none of \\(most common: ${second[0]}`));

    const rest = kept.slice(1).map(([s]) => `${s}0001`).join('\n');
    const full = await run(['pool', 'add', '--file', '-', '--json', '--hospital', 'changzhou'], rest + '\n');
    expect(full.code).toBe(0);
    expect(full.stderr).toBe('');
    const [covered] = json<{ segments: SegmentCheck[] }>(full).segments;
    expect(covered).toMatchObject({ uncoveredShare: 0, missing: [], warning: null, numbers: 3 + kept.length - 1 });
  });

  it('audit carries the check in its pool section and warns on standard error', async () => {
    // Block every number but the first top-segment one: the other kept segments are uncovered again.
    const { rows } = await (async () => {
      const db = await openDatabase(vaultLoc.location);
      try {
        return await db.query<{ n: number }>(`UPDATE trap_numbers SET state = 'blocked' WHERE e164 NOT LIKE $1 RETURNING 1 AS n`, [`+86${kept[0][0]}%`]);
      } finally {
        await db.close();
      }
    })();
    expect(rows.length).toBe(1 + kept.length - 1);
    const res = await run(['audit', '--from', '2026-10-01', '--to', '2026-12-31', '--format', 'json']);
    expect(res.code).toBe(0);
    const left = kept.slice(1).reduce((a, [, n]) => a + n, 0) / segments.total;
    const data = json<{ pool: { segments: SegmentCheck } }>(res);
    expect(data.pool.segments).toMatchObject({ hospital: 'changzhou', numbers: 2, missing: kept.slice(1, 4).map(([s]) => s) });
    expect(data.pool.segments.uncoveredShare).toBeCloseTo(left, 10);
    expect(res.stderr).toMatch(new RegExp(`^cradle: warning: ${pct(left)} of changzhou's real patients' numbers are in segments your pool has none of`));
    const md = await run(['audit', '--from', '2026-10-01', '--to', '2026-12-31', '--out', 'q.md']);
    expect(md.code).toBe(0);
    expect(fs.readFileSync(path.join(cwd, 'q.md'), 'utf8')).toContain(`Warning: ${pct(left)} of the real patients' mobile numbers are in segments the pool has none of (most common: ${kept.slice(1, 4).map(([s]) => s).join(', ')}).`);
  });
});
