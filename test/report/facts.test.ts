import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { importAccessLog } from '../../src/accesslog/import.js';
import { openDatabase, type Database } from '../../src/db/index.js';
import { runExport, type ExportResult } from '../../src/exports/export.js';
import { FIXTURES_DIR } from '../../src/lib/paths.js';
import type { AuditReportData } from '../../src/report/audit-load.js';
import { auditDocument, renderAuditMarkdown } from '../../src/report/audit-render.js';
import type { IncidentReportData } from '../../src/report/data.js';
import type { Block, Doc, Text } from '../../src/report/document.js';
import { incidentDocument, renderMarkdown } from '../../src/report/render.js';
import { incidentStrings, isoShort } from '../../src/report/strings/index.js';
import { advanceCanaries, rotate } from '../../src/seed/index.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, WARDS, type TestHospital } from '../helpers/hospital.js';

// Reports that state only facts. A UTC+8 hospital (Asia/Shanghai) whose program started in week 48;
// the audit is made at 00:30 on Monday 7 December, local time (16:30 UTC on the 6th), with the
// day's work done after local midnight: week 50's rotation at 00:10, two texts to canaries at 00:15
// and 00:20, a nurse who opened canaries one at a time at 00:05 and 00:25, and a ward list that
// included canaries. The incident's canaries are an export's own (they exist only in its file) and
// one seeded canary. Both reports are made through the CLI at that fixed clock (CRADLE_NOW) and
// rendered in English and Chinese; every sentence of their fact paragraphs is checked against the
// vault, queried here by SQL of its own.

const NOW = '2026-12-06T16:30:00Z'; // 2026-12-07 00:30 in Beijing
const TODAY = '2026-12-07'; // the hospital's today; UTC's is still the 6th
const FROM = '2026-11-02'; // Monday of 2026-W45: three weeks before the first rotation
const PERIOD = { start: '2026-11-01T16:00:00.000Z', end: '2026-12-07T16:00:00.000Z' }; // the days in Beijing, as instants
const WEEKS = ['2026-W45', '2026-W46', '2026-W47', '2026-W48', '2026-W49', '2026-W50'];
const CALLER = '+8613311110000';

/** The sentences of a paragraph: English ends them with ". ", Chinese with "。". */
function sentences(text: string): string[] {
  return text
    .split(/(?<=\.)\s+(?=[A-Z0-9])|(?<=。)/u)
    .map((s) => s.trim())
    .filter(Boolean);
}

/** A sentence, the checks that recognise it, and what each asserts about it. */
type Check = [RegExp, (m: RegExpMatchArray) => void];

/** Every sentence must be recognised by exactly one check, whose assertions then hold. */
function checkEvery(texts: string[], checks: Check[]): number {
  let n = 0;
  for (const text of texts) {
    for (const s of sentences(text)) {
      const hits = checks.map(([re, fn]) => [s.match(re), fn] as const).filter(([m]) => m);
      if (hits.length !== 1) throw new Error(`${hits.length} checks recognise the sentence: ${s}`);
      hits[0][1](hits[0][0]!);
      n++;
    }
  }
  return n;
}

/** The text of a paragraph's runs. */
const plain = (text: Text) => text.map((r) => (typeof r === 'string' ? r : 'code' in r ? r.code : 'hash' in r ? r.hash : r.bad)).join('');

/** What a document's sections state: the paragraphs (summary, tallies, warnings, verdicts), notes left out (they explain, they count nothing). */
function paragraphs(doc: Doc, sections?: string[]): string[] {
  const of = (b: Block): string[] => (b.kind === 'paragraph' && b.tone !== 'note' ? [plain(b.text)] : b.kind === 'card' ? b.blocks.flatMap(of) : b.kind === 'figure' ? b.text.flatMap(of) : []);
  return doc.sections.filter((s) => !sections || sections.includes(s.id)).flatMap((s) => s.blocks.flatMap(of));
}

const n = (s: string | undefined) => (s === undefined ? 0 : Number(s.replace(/,/g, '')));

async function one<T>(db: Database, sql: string, params: unknown[] = []): Promise<T> {
  return (await db.query<{ v: T }>(sql, params)).rows[0].v;
}

describe.each(BACKENDS)('reports state only facts, for a UTC+8 hospital at 00:30 local time, on %s', (backend) => {
  let h: TestHospital & { trapNumbers: string[] };
  let dir: string;
  let config: string;
  let studio: ExportResult;
  let incident: string;
  let open = true;
  /** The vault handle open for the test's queries, or closed for the CLI (which opens it itself). */
  const setOpen = async (want: boolean) => {
    if (!h || open === want) return;
    if (want) h.vault = await openDatabase(h.vaultLocation);
    else await h.vault.close();
    open = want;
  };
  const cli = (args: string[]) => cradleInProcess(['--vault', h.vaultLocation, '--config', config, ...args], { cwd: dir, env: { CRADLE_NOW: NOW } });

  // The vault's facts, by SQL of the test's own.
  const facts = {
    rotations: () => h.vault.query<{ iso_week: string; completed_at: Date | null }>(`SELECT iso_week, completed_at FROM rotations WHERE hospital = 'h1' ORDER BY iso_week`).then((r) => r.rows),
    firstRotation: () => one<string>(h.vault, `SELECT min(iso_week) AS v FROM rotations WHERE hospital = 'h1'`),
    singleOpens: () => one<number>(h.vault, `SELECT count(*)::int AS v FROM tripwires WHERE hospital = 'h1' AND scope = 'single' AND at >= $1 AND at < $2`, [PERIOD.start, PERIOD.end]),
    singleAccounts: () => one<number>(h.vault, `SELECT count(DISTINCT account)::int AS v FROM tripwires WHERE hospital = 'h1' AND scope = 'single' AND at >= $1 AND at < $2`, [PERIOD.start, PERIOD.end]),
    listed: () =>
      h.vault
        .query<{ records: number; lines: number; canaries: number; accounts: number }>(
          `SELECT count(*)::int AS records, count(DISTINCT (import_id, line))::int AS lines, count(DISTINCT canary_id)::int AS canaries, count(DISTINCT account)::int AS accounts
             FROM tripwires WHERE hospital = 'h1' AND scope = 'bulk' AND at >= $1 AND at < $2`,
          [PERIOD.start, PERIOD.end],
        )
        .then((r) => r.rows[0]),
    incidents: () =>
      h.vault
        .query<{ id: string; status: string }>(
          `SELECT DISTINCT i.id, i.status FROM incidents i JOIN hits x ON x.incident_id = i.id JOIN contact_events e ON e.id = x.event_id JOIN canaries c ON c.id = x.canary_id
            WHERE c.hospital = 'h1' AND e.occurred_at >= $1 AND e.occurred_at < $2`,
          [PERIOD.start, PERIOD.end],
        )
        .then((r) => r.rows),
    hitsInPeriod: () =>
      one<number>(h.vault, `SELECT count(*)::int AS v FROM hits x JOIN contact_events e ON e.id = x.event_id JOIN canaries c ON c.id = x.canary_id WHERE c.hospital = 'h1' AND e.occurred_at >= $1 AND e.occurred_at < $2`, [PERIOD.start, PERIOD.end]),
    seededLive: () => one<number>(h.vault, `SELECT count(*)::int AS v FROM canaries WHERE hospital = 'h1' AND batch_id IS NOT NULL AND planted_at < $1 AND (retired_at IS NULL OR retired_at >= $1)`, [NOW]),
    recipients: () => one<number>(h.vault, `SELECT count(DISTINCT channel_id)::int AS v FROM exports WHERE hospital = 'h1' AND created_at < $1`, [NOW]),
    supply: () => one<number>(h.vault, `SELECT count(*)::int AS v FROM trap_numbers WHERE state IN ('available', 'burn_in')`),
    numbersPerCanary: () => one<number>(h.vault, `SELECT (count(*)::float8 / count(DISTINCT a.canary_id)) AS v FROM trap_assignments a JOIN canaries c ON c.id = a.canary_id WHERE c.hospital = 'h1'`),
    noisy: () =>
      one<number>(
        h.vault,
        `SELECT count(*)::int AS v FROM trap_numbers t WHERE EXISTS (SELECT 1 FROM contact_events e WHERE e.to_address = t.e164 AND e.occurred_at >= t.added_at
           AND e.occurred_at < coalesce((SELECT min(a.assigned_at) FROM trap_assignments a WHERE a.trap_number_id = t.id), $1::timestamptz))`,
        [NOW],
      ),
    origins: (ids: string[]) =>
      h.vault
        .query<{ id: string; seeded: boolean; iso_week: string; file_name: string | null; export_id: string | null; recipient: string | null }>(
          `SELECT c.id, c.batch_id IS NOT NULL AS seeded, c.iso_week, x.file_name, x.id AS export_id, ch.name AS recipient
             FROM canaries c LEFT JOIN exports x ON x.id = c.export_id LEFT JOIN channels ch ON ch.id = x.channel_id WHERE c.id = ANY($1::text[]) ORDER BY c.id`,
          [ids],
        )
        .then((r) => r.rows),
  };

  beforeAll(async () => {
    h = await createTestHospital({ backend, schema: 'reference', population: 200, trapNumbers: 40 });
    dir = scratchDir('facts');
    await h.vault.query(`UPDATE trap_numbers SET added_at = '2026-10-01T00:00:00Z'`);
    // Cradle's first rotation is week 48's; weeks 45 to 47 of the period came before it.
    // Simulated time runs in order: the target holds at each step only the canaries due by then.
    const advance = (until: string) => advanceCanaries(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, until: new Date(until), simulated: true });
    const rotation = (week: string, at: string) => rotate(h.vault, h.target, { hospital: h.hospital, mapping: h.mapping, week, now: new Date(at), seed: `facts:${week}` });
    await rotation('2026-W48', '2026-11-23T02:00:00Z');
    await advance('2026-11-30T02:00:00Z');
    await rotation('2026-W49', '2026-11-30T02:00:00Z');
    await advance('2026-12-02T03:00:00Z');
    // An export whose own canaries exist only in its file.
    studio = await runExport(h.vault, h.target, {
      hospital: h.hospital, mapping: h.mapping, channel: { kind: 'export', name: 'photo-studio' }, out: path.join(dir, 'photo-studio.csv'), params: [], columnFields: {}, now: new Date('2026-12-02T03:00:00Z'), canaries: 3, operator: 'n0101', seed: 'facts',
    });
    await advance('2026-12-06T16:10:00Z');
    await rotation('2026-W50', '2026-12-06T16:10:00Z');
    await advance(NOW);
    // After local midnight: one caller texts two of the export's canaries and a seeded one.
    // Seeded canaries in the target, the live ones first (week 50's rotation retired week 48's).
    const seeded = (await vault.listCanaries(h.vault, { hospital: 'h1' })).filter((c) => c.batch_id && c.target_keys).sort((a, b) => Number(b.status === 'planted') - Number(a.status === 'planted'));
    expect(seeded.length).toBeGreaterThanOrEqual(4);
    const texted = [
      ...studio.canaries.slice(0, 2).map((c) => ({ name: c.family.mother.name.full, phone: c.family.mother.phone! })),
      { name: seeded[0].mother_name, phone: seeded[0].mother_phone! },
    ];
    for (const [i, c] of texted.entries()) {
      await vault.recordContact(h.vault, { source: 'generic', providerId: `f${i}`, kind: 'sms', from: CALLER, to: c.phone, occurredAt: new Date(Date.parse('2026-12-06T16:15:00Z') + i * 120_000), body: `${c.name}您好，恭喜宝宝出生，免费新生儿摄影`, raw: Buffer.from(`raw ${i}`) });
    }
    await triagePending(h.vault);
    // The hospital's audit log, in local time: a nurse opens two canaries one at a time; a clerk's
    // ward list shows three canaries among real records.
    const key = (x: vault.CanaryRow) => String(x.target_keys!.birth.birth_id);
    const { rows: real } = await h.target.query<{ birth_id: number }>(`SELECT birth_id FROM births ORDER BY birth_id LIMIT 5`);
    const log = path.join(dir, 'HIS_AUDIT_20261207.csv');
    fs.writeFileSync(
      log,
      [
        'ts,user,action,record',
        `2026-12-07 00:02:00,clerk07,list,${[...real.map((r) => r.birth_id), ...seeded.slice(1, 4).map(key)].join(';')}`,
        `2026-12-07 00:05:00,nurse42,view,${key(seeded[1])}`,
        `2026-12-07 00:25:00,nurse42,print,${key(seeded[2])}`,
        // The day before, in Beijing: outside a period ending on the 6th… and inside this one.
        `2026-12-06 23:50:00,nurse42,view,${key(seeded[3])}`,
      ].join('\n') + '\n',
    );
    await importAccessLog(h.vault, log, { hospital: 'h1', format: 'csv', timeZone: 'Asia/Shanghai', recordKey: { alias: 'birth', table: 'births', column: 'birth_id' }, alertChannels: [] });
    const { rows } = await h.vault.query<{ id: string }>(`SELECT DISTINCT incident_id AS id FROM hits WHERE incident_id IS NOT NULL`);
    expect(rows).toHaveLength(1);
    incident = rows[0].id;
    // The CLI's config: the test hospital, in Asia/Shanghai (the default zone).
    config = path.join(dir, 'cradle.config.json');
    fs.writeFileSync(config, JSON.stringify({ hospitals: { h1: { displayName: '测试妇幼保健院', target: 'postgres://unused@127.0.0.1:1/none', mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'), wards: WARDS, districts: ['鼓楼区', '玄武区', '秦淮区'], timeZone: 'Asia/Shanghai', rotation: { perWard: { 产科一病区: 2, NICU: 1 } } } } }));
    // The CLI opens the vault itself.
    await setOpen(false);
  });
  afterAll(async () => {
    await setOpen(true);
    await h?.close();
  });

  describe('the audit', () => {
    let data: AuditReportData;
    const md: Record<string, string> = {};
    beforeAll(async () => {
      // Through the CLI: the data, and the English file; the Chinese from the same data (one vault
      // opening less: the CLI writes the file with this same function).
      data = json<AuditReportData>(await cli(['audit', '--from', FROM, '--format', 'json']));
      const out = await cli(['audit', '--from', FROM, '--out', 'audit.en.md']);
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      md.en = fs.readFileSync(path.join(dir, 'audit.en.md'), 'utf8');
      md['zh-CN'] = renderAuditMarkdown(data, 'zh-CN');
      await setOpen(true);
    });
    afterAll(async () => setOpen(false));

    it("runs to today in the hospital's time zone and counts the day's work", () => {
      expect(data.period).toEqual({ from: FROM, to: TODAY, ...PERIOD });
      expect(data.generatedAt).toBe('2026-12-06T16:30:00.000Z');
      expect(data.rotations.weeks.map((w) => [w.week, w.status])).toEqual([
        ['2026-W45', 'before'],
        ['2026-W46', 'before'],
        ['2026-W47', 'before'],
        ['2026-W48', 'done'],
        ['2026-W49', 'done'],
        ['2026-W50', 'done'],
      ]);
      expect(data.rotations).toMatchObject({ done: 3, missed: 0, partial: 0, due: 0, before: 3, firstWeek: '2026-W48', firstRotation: '2026-W48' });
      expect(data.hits.incidents.map((i) => i.id)).toEqual([incident]);
      expect(data.hits.inPeriod).toBe(3);
      // Single-record opens are the tripwires; the ward list's canaries are list exposures.
      expect(data.tripwires.total).toBe(3);
      expect(data.tripwires.accounts).toEqual([expect.objectContaining({ account: 'nurse42', lines: 3, canaries: 3 })]);
      expect(data.tripwires.lines.every((l) => l.scope === 'single')).toBe(true);
      expect(data.listExposures).toMatchObject({ total: 3, lines: 1, canaries: 3, accounts: [expect.objectContaining({ account: 'clerk07', lines: 1, canaries: 3 })] });
    });

    it("refuses a --from after the hospital's today, saying which day that is", async () => {
      await setOpen(false);
      try {
        // The 7th is today in Beijing (in UTC it is still the 6th): the 8th is tomorrow.
        const out = await cli(['audit', '--from', '2026-12-08', '--format', 'json']);
        expect([out.code, out.stdout, out.stderr]).toEqual([1, '', 'cradle: --from 2026-12-08 is after today, 2026-12-07 in Asia/Shanghai: give --to, or an earlier --from\n']);
      } finally {
        await setOpen(true);
      }
    });

    it('shows every date and time as the hospital’s', () => {
      expect(md.en).toContain('Asia/Shanghai (UTC+08:00)');
      // The nurse's first open, 16:05 UTC on the 6th, is 00:05 on the 7th in Beijing.
      expect(md.en).toContain('| 7 Dec 2026 00:05 | `nurse42` |');
      expect(md['zh-CN']).toContain('| 2026年12月7日 00:05 | `nurse42` |');
      expect(md.en).not.toMatch(/6 Dec 2026 16:/);
      expect(md.en).toContain('| 2026-W50 | 7 December 2026 | done |');
      expect(md.en).toContain('| 2026-W45 | 2 November 2026 | before the first rotation | 0 | 0 |');
      expect(md.en).not.toContain('MISSED');
    });

    it('states only facts the vault holds, in English', async () => {
      const rotations = await facts.rotations();
      const first = await facts.firstRotation();
      const counted = WEEKS.filter((w) => w >= first);
      const done = rotations.filter((r) => r.completed_at && counted.includes(r.iso_week)).length;
      const incidents = await facts.incidents();
      const listed = await facts.listed();
      const perWeek = Math.ceil(3 * (await facts.numbersPerCanary()));
      const supply = await facts.supply();
      const tripwires = await facts.singleOpens();
      const singleAccounts = await facts.singleAccounts();
      const hits = await facts.hitsInPeriod();
      const noisy = await facts.noisy();
      const live = await facts.seededLive();
      const recipients = await facts.recipients();
      const checks: Check[] = [
        [/^From (\S+) to (\S+), (.+?): (\d+) of (\d+) weekly rotations? done(?:, (\d+) missed)?(?:, (\d+) not completed)?\.$/, (m) => {
          expect([m[1], m[2], m[3]]).toEqual([FROM, TODAY, '测试妇幼保健院']);
          expect([n(m[4]), n(m[5]), n(m[6]), n(m[7])]).toEqual([done, counted.length, counted.length - done, 0]);
        }],
        [/^(\d+) earlier weeks? came before the first rotation \((\S+)\)\.$/, (m) => expect([n(m[1]), m[2]]).toEqual([WEEKS.length - counted.length, first])],
        [/^(\d+) seeded canar(?:y|ies) live at the end of the period, and export canaries with (\d+) recipients?\.$/, (m) => expect([n(m[1]), n(m[2])]).toEqual([live, recipients])],
        [/^The trap pool (?:holds (\d+) weeks of numbers|is running out: (\d+) weeks? of numbers left)\.$/, (m) => expect(n(m[1] ?? m[2])).toBe(Math.floor(supply / perWeek))],
        [/^(\d+) incidents? \((\d+) open\), (\d+) tripwires? \(canary records opened on their own\)(?:, and (\d+) canary records? shown in (\d+) lists?)?\.$/, (m) => {
          expect([n(m[1]), n(m[2])]).toEqual([incidents.length, incidents.filter((i) => i.status === 'open').length]);
          expect(n(m[3])).toBe(tripwires);
          expect([n(m[4]), n(m[5])]).toEqual([listed.records, listed.lines]);
        }],
        [/^The evidence ledger verifies\.$/, () => expect(data.ledger.ok).toBe(true)],
        [/^Rotation plan: (\d+) \(产科一病区 2, NICU 1\) canaries per week\.$/, (m) => expect(n(m[1])).toBe(3)],
        [/^(\d+) done, (\d+) missed\.$/, (m) => expect([n(m[1]), n(m[2])]).toEqual([done, counted.length - done])],
        [/^(\d+) weeks? of the period came before the hospital's first rotation \((\S+)\) and (?:is|are) not counted as missed\.$/, (m) => expect([n(m[1]), m[2]]).toEqual([WEEKS.length - counted.length, first])],
        [/^(\d+) numbers available or in burn-in; a week's rotation takes (\d+) \(([\d.]+) per canary\), the next 4 weeks (\d+): enough for (\d+) weeks?\.$/, (m) => {
          expect([n(m[1]), n(m[2]), n(m[4]), n(m[5])]).toEqual([supply, perWeek, perWeek * 4, Math.floor(supply / perWeek)]);
        }],
        [/^(?:Warning: the pool holds fewer than 4 weeks of trap numbers \((\d+) left\)\.|Add numbers now \(cradle pool add\): new ones need their burn-in before use\.)$/, (m) => m[1] !== undefined && expect(n(m[1])).toBe(Math.floor(supply / perWeek))],
        [/^No trap number was contacted before a canary held it\.$/, () => expect(noisy).toBe(0)],
        [/^(\d+) hits? on the hospital's canaries in the period; incidents: (\d+) open, (\d+) closed, (\d+) dismissed \(not a leak\)(?:, (\d+) merged into another)?\.$/, (m) => {
          const of = (status: string) => incidents.filter((i) => i.status === status).length;
          expect([n(m[1]), n(m[2]), n(m[3]), n(m[4]), n(m[5] ?? '0')]).toEqual([hits, of('open'), of('closed'), of('dismissed'), of('merged')]);
        }],
        [/^(\d+) canary records? (?:was|were) opened on (?:its|their) own \(viewed, printed or exported one at a time\) by (\d+) accounts?: each is a tripwire\.$/, (m) => expect([n(m[1]), n(m[2])]).toEqual([tripwires, singleAccounts])],
        [/^(\d+) lists?, search(?:es)? or bulk exports? by (\d+) accounts? included canary records (\d+) times? \((\d+) canar(?:y|ies)\)\.$/, (m) => {
          expect([n(m[1]), n(m[2]), n(m[3]), n(m[4])]).toEqual([listed.lines, listed.accounts, listed.records, listed.canaries]);
        }],
        // What a list exposure is: a definition, not a count.
        [/^Such a line shows many records at once, canaries among them: an exposure the trace weighs, not a tripwire, and no alert\.$/, () => undefined],
        [/^The ledger verifies: chain intact and the evidence matches it\.$/, () => expect(data.ledger.ok).toBe(true)],
        [/^Not measured in this report: run cradle audit --realism \(it reads the target, read-only\) or cradle realism\.$/, () => expect(data.realism).toBeNull()],
      ];
      expect(checkEvery(paragraphs(auditDocument(data, 'en')), checks)).toBeGreaterThanOrEqual(15);
    });

    it('states the same facts in Chinese', async () => {
      const first = await facts.firstRotation();
      const counted = WEEKS.filter((w) => w >= first);
      const incidents = await facts.incidents();
      const listed = await facts.listed();
      const tripwires = await facts.singleOpens();
      const doc = auditDocument(data, 'zh-CN');
      const summary = paragraphs(doc, ['summary']).join('');
      expect(summary).toContain(`${FROM} 至 ${TODAY}，测试妇幼保健院：应执行 ${counted.length} 周轮换，已完成 ${counted.length} 周。另有 ${WEEKS.length - counted.length} 周早于首次轮换（${first}）。`);
      expect(summary).toContain(`事件 ${incidents.length} 个（处理中 ${incidents.filter((i) => i.status === 'open').length} 个），绊线（单独打开金丝雀记录）${tripwires} 条，另有 ${listed.lines} 次列表显示金丝雀记录 ${listed.records} 次。`);
      expect(summary).not.toContain('遗漏');
      const tripwireSection = paragraphs(doc, ['tripwires']).join('');
      expect(tripwireSection).toContain(`1 个账号单独打开（逐条查看、打印或导出）金丝雀记录 ${tripwires} 次`);
      expect(tripwireSection).toContain(`1 个账号的 ${listed.lines} 次列表、搜索或批量导出共显示金丝雀记录 ${listed.records} 次（涉及 ${listed.canaries} 个金丝雀）`);
      expect(paragraphs(doc, ['rotations']).join('')).toContain(`审计期间有 ${WEEKS.length - counted.length} 周早于医院的首次轮换（${first}），不计为遗漏。`);
    });
  });

  describe('the incident report', () => {
    let data: IncidentReportData;
    const md: Record<string, string> = {};
    beforeAll(async () => {
      // Through the CLI: the data, and the Chinese file; the English from the same data.
      data = json<IncidentReportData>(await cli(['report', incident, '--format', 'json']));
      const out = await cli(['report', incident, '--out', 'report.zh-CN.md', '--lang', 'zh-CN']);
      expect(out.stderr).toBe('');
      expect(out.code).toBe(0);
      md['zh-CN'] = fs.readFileSync(path.join(dir, 'report.zh-CN.md'), 'utf8');
      md.en = renderMarkdown(data, 'en');
      await setOpen(true);
    });
    afterAll(async () => setOpen(false));

    it('tells export-only canaries from seeded ones, naming the export file', () => {
      const own = new Set(studio.canaries.map((c) => c.id));
      expect(data.generatedAt).toBe('2026-12-06T16:30:00.000Z');
      expect(data.canaries.map((c) => [own.has(c.id), c.origin])).toEqual(expect.arrayContaining([[true, 'export'], [true, 'export'], [false, 'seeded']]));
      for (const c of data.canaries.filter((x) => x.origin === 'export')) expect(c.exports).toEqual([expect.objectContaining({ id: studio.id, file: 'photo-studio.csv', recipient: 'photo-studio' })]);
      expect(data.canaries.find((c) => c.origin === 'seeded')!.exports).toEqual([]);
    });

    it('states only facts the vault holds, in English and Chinese', async () => {
      const rows = await facts.origins(data.canaries.map((c) => c.id));
      const seeded = rows.filter((r) => r.seeded);
      const exportOnly = rows.filter((r) => !r.seeded);
      const { rows: contacts } = await h.vault.query<{ first: Date; last: Date; senders: number; hits: number }>(
        `SELECT min(e.occurred_at) AS first, max(e.occurred_at) AS last, count(DISTINCT e.from_address)::int AS senders, count(*)::int AS hits
           FROM hits x JOIN contact_events e ON e.id = x.event_id WHERE x.incident_id = $1 AND x.status = 'active'`,
        [incident],
      );
      const { rows: [x] } = await h.vault.query<{ id: string; file_name: string; recipient: string; operator: string; sha256: string; created_at: Date }>(
        `SELECT x.id, x.file_name, ch.name AS recipient, x.operator, x.sha256, x.created_at FROM exports x JOIN channels ch ON ch.id = x.channel_id WHERE x.id = $1`,
        [exportOnly[0].export_id],
      );
      expect(new Set(exportOnly.map((r) => r.export_id))).toEqual(new Set([x.id]));
      const top = data.suspects[0];
      const t = incidentStrings('en');
      const en: Check[] = [
        [/^On (\d+ \w+ \d{4}), (\d+) canary families were contacted (\d+) times by (\d+) senders?\.$/, (m) => {
          // The incident report is in UTC: 16:15 on the 6th.
          expect(m[1]).toBe(`${new Date(contacts[0].first).getUTCDate()} December 2026`);
          expect(new Date(contacts[0].last).getUTCDate()).toBe(new Date(contacts[0].first).getUTCDate());
          expect([n(m[2]), n(m[3]), n(m[4])]).toEqual([rows.length, contacts[0].hits, contacts[0].senders]);
        }],
        [/^These families do not exist: (\d+) of them was planted in week (\S+) and is recorded only in the newborn records of (\S+); (\d+) are export-only canaries, never in the newborn records, written only into the export file (\S+) \(export (\S+) to (\S+)\)\.$/, (m) => {
          expect([n(m[1]), m[2], m[3]]).toEqual([seeded.length, seeded[0].iso_week, 'h1']);
          expect([n(m[4]), m[5], m[6], m[7]]).toEqual([exportOnly.length, x.file_name, x.id, x.recipient]);
        }],
        [/^The most likely source is export (\S+) to (\S+) \(operator (\S+), file (\S+), sha256 ([0-9a-f]{64})\), with probability ([\d.<>]+%) \((very likely|likely|more likely than not|uncertain)\)\.$/, (m) => {
          expect(top.kind).toBe('export');
          expect([m[1], m[2], m[3], m[4], m[5]]).toEqual([x.id, x.recipient, x.operator, x.file_name, x.sha256]);
          expect([m[6], m[7]]).toEqual([t.pct(top.posterior), t.certainty(top.posterior)]);
        }],
        [/^The most likely source is (.+), with probability ([\d.<>]+%) \((very likely|likely|more likely than not|uncertain)\)\.$/, () => expect(top.kind).not.toBe('export')],
        [/^The leak most likely happened between (.+)\.$/, (m) => {
          // Not before the file was exported, and before the first contact.
          expect(Date.parse(top.window!.from)).toBeGreaterThanOrEqual(new Date(x.created_at).getTime());
          expect(top.window!.to).toBe(new Date(contacts[0].first).toISOString());
          expect(m[1]).toBe(t.dateRange(top.window!.from, top.window!.to));
        }],
        [/^The next suspect, (.+), has ([\d.<>]+%)\.$/, (m) => expect(m[1]).toBe(data.suspects[1].kind === 'unknown' ? 'an unknown source' : data.suspects[1].label)],
      ];
      // The two "most likely" patterns overlap for an export: the export one is the one that must match.
      en[3][0] = /^The most likely source is (?!export )(.+), with probability ([\d.<>]+%) \((very likely|likely|more likely than not|uncertain)\)\.$/;
      expect(checkEvery(paragraphs(incidentDocument(data, 'en'), ['summary']), en)).toBeGreaterThanOrEqual(4);

      // The other sections' paragraphs: the leak window under the chart, each detailed suspect, the ledger head.
      const channel = (kind: string, name: string) => one<number>(h.vault, `SELECT count(*)::int AS v FROM channels WHERE kind = $1 AND name = $2`, [kind, name]);
      const { rows: ledger } = await h.vault.query<{ seq: number; at: Date; hash: string }>(`SELECT seq::int AS seq, at, hash FROM ledger WHERE seq = $1`, [data.custody.ledger.head!.seq]);
      const lifeCycle = await one<number>(h.vault, `SELECT count(*)::int AS v FROM ledger WHERE kind IN ('incident', 'hit-status') AND (incident_id = $1 OR ref = $1)`, [incident]);
      const named: Record<string, number> = {};
      for (const s of data.suspects) if (s.kind !== 'unknown' && s.kind !== 'merged') named[s.label] = await channel(s.kind, s.label.slice(s.label.indexOf(':') + 1));
      const rest: Check[] = [
        [/^leak window of (\S+): after (.+), before (.+)$/, (m) => {
          expect([m[1], m[2], m[3]]).toEqual([top.label, t.dateTime(top.window!.from), t.dateTime(new Date(contacts[0].first).toISOString())]);
        }],
        [/^export (\S+) to (\S+) \(operator (\S+), file (\S+), sha256 ([0-9a-f]{64})\)$/, (m) => expect([m[1], m[2], m[3], m[4], m[5]]).toEqual([x.id, x.recipient, x.operator, x.file_name, x.sha256])],
        [/^the (account|system|ward) (\S+)$/, (m) => expect(named[`${m[1]}:${m[2]}`]).toBe(1)],
        [/^a source Cradle has no record of$/, () => expect(data.suspects.some((s) => s.kind === 'unknown')).toBe(true)],
        // The head when the report was made (the CLI's report of the same incident was recorded after it).
        [/^Ledger head when this report was made: entry (\d+), (\S+ \S+)\.$/, (m) => expect([n(m[1]), m[2]]).toEqual([ledger[0].seq, isoShort(new Date(ledger[0].at).toISOString())])],
        [/^Hash: ([0-9a-f]{64})$/, (m) => expect(m[1]).toBe(ledger[0].hash)],
        [/^Nobody has closed, dismissed, merged or annotated this incident, nor dismissed any of its hits\.$/, () => expect(lifeCycle).toBe(0)],
      ];
      expect(checkEvery(paragraphs(incidentDocument(data, 'en'), ['timeline', 'evidence', 'canaries', 'suspects', 'history', 'custody']), rest)).toBeGreaterThanOrEqual(5);
      expect(md.en).not.toMatch(/export-only[^\n]*planted in week|planted in week[^\n]*were contacted/);

      const zh = paragraphs(incidentDocument(data, 'zh-CN'), ['summary']).join('');
      expect(zh).toContain(`这些家庭并不存在：其中 ${seeded.length} 个于 ${seeded[0].iso_week} 周植入，只记录在h1的新生儿记录中；${exportOnly.length} 个是仅存在于导出文件中的金丝雀，从未进入新生儿记录，只写入了导出文件 ${x.file_name}（导出 ${x.id}，接收方 ${x.recipient}）。`);
      expect(zh).toContain(`${rows.length} 个金丝雀家庭被 ${contacts[0].senders} 个来源联系了 ${contacts[0].hits} 次。`);

      // The canaries table and the timeline say the same: export-only canaries were exported, not planted.
      for (const r of exportOnly) expect(md.en).toMatch(new RegExp(`\\| \`${r.id}\` \\|[^\\n]*\\| export only: ${x.file_name.replace('.', '\\.')} \\(${x.id}\\) \\|`));
      expect(md.en).toMatch(new RegExp(`\\| ${exportOnly.length} export-only canaries written into an export file \\|`));
      expect(md['zh-CN']).toContain(`写入导出文件 ${exportOnly.length} 个仅存在于导出文件中的金丝雀`);
    });
  });
});
