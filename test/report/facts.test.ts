import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { importAccessLog } from '../../src/accesslog/import.js';
import { openDatabase, type Database } from '../../src/db/index.js';
import { runExport, type ExportResult } from '../../src/exports/export.js';
import { FIXTURES_DIR, PACKAGE_ROOT } from '../../src/lib/paths.js';
import type { AuditReportData } from '../../src/report/audit-load.js';
import { auditDocument, renderAuditMarkdown } from '../../src/report/audit-render.js';
import type { IncidentReportData } from '../../src/report/data.js';
import type { Block, Doc, Field, Text } from '../../src/report/document.js';
import { incidentDocument, renderMarkdown } from '../../src/report/render.js';
import { TRACE_MODEL } from '../../src/workflows/incident-report.js';
import { auditStrings, incidentStrings, isoShort } from '../../src/report/strings/index.js';
import { advanceCanaries, rotate } from '../../src/seed/index.js';
import { triagePending } from '../../src/triage/triage.js';
import * as vault from '../../src/vault/index.js';
import { cradleInProcess, json } from '../helpers/cli.js';
import { BACKENDS, scratchDir } from '../helpers/db.js';
import { createTestHospital, WARDS, type TestHospital } from '../helpers/hospital.js';

// Reports that state only facts. A UTC+8 hospital (Asia/Shanghai) whose program started in week 48;
// the audit is made at 00:30 on Monday 7 December, local time (16:30 UTC on the 6th), with the
// day's work done after local midnight: week 50's rotation at 00:10, three texts to canaries from
// 00:15 to 00:19, a nurse who opened canaries one at a time at 00:05 and 00:25, and a ward list that
// included canaries. The incident's canaries are an export's own (they exist only in its file) and
// one seeded canary. Both reports are made through the CLI at that fixed clock (CRADLE_NOW) and
// rendered in English and Chinese; every sentence either document states (head, paragraphs, notes,
// headings, fields, list items, cards, the timeline's caption, legend and events) must be recognised
// by exactly one check, each asserted against the vault, queried here by SQL of its own (or, for what
// the vault does not hold, against the configuration, the clock and the trace model's parameters).

const NOW = '2026-12-06T16:30:00Z'; // 2026-12-07 00:30 in Beijing
const TODAY = '2026-12-07'; // the hospital's today; UTC's is still the 6th
const FROM = '2026-11-02'; // Monday of 2026-W45: three weeks before the first rotation
const PERIOD = { start: '2026-11-01T16:00:00.000Z', end: '2026-12-07T16:00:00.000Z' }; // the days in Beijing, as instants
const WEEKS = ['2026-W45', '2026-W46', '2026-W47', '2026-W48', '2026-W49', '2026-W50'];
const CALLER = '+8613311110000';
const DISPLAY = '测试妇幼保健院';
const VERSION = (JSON.parse(fs.readFileSync(path.join(PACKAGE_ROOT, 'package.json'), 'utf8')) as { version: string }).version;

/**
 * The sentences of a text: English ends them with ". ", Chinese with "。", "！" or "？" (a "；" joins
 * the clauses of one sentence); a heading, a field or a list item without a final mark is one sentence.
 */
function sentences(text: string): string[] {
  return text
    .split(/(?<=\.)\s+(?=[A-Z0-9])|(?<=[。！？])/u)
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

type Lang = 'en' | 'zh-CN';
type Groups = Record<string, string | undefined>;

/** One fact in both languages: a pattern for each, with the same named groups, and one assertion on them. */
type Fact = [en: RegExp, zh: RegExp, assert: (g: Groups) => void];
const checksIn = (lang: Lang, facts: Fact[]): Check[] => facts.map(([en, zh, assert]): Check => [lang === 'en' ? en : zh, (m) => assert(m.groups ?? {})]);

const escape = (s: string) => s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');

/**
 * Text of the string tables that carries no value of the data (what a note or a lead explains, a
 * heading that names what follows): recognised only word for word, so it states no count, date, name
 * or status the checks above would have to hold to.
 */
function fixed(texts: string[]): Check {
  const all = texts.flatMap((t) => sentences(t.replace(/`/g, '')));
  return [new RegExp(`^(?:${all.map(escape).join('|')})$`, 'u'), () => undefined];
}

/** The text of a line's runs. */
const plain = (text: Text) => text.map((r) => (typeof r === 'string' ? r : 'code' in r ? r.code : 'hash' in r ? r.hash : r.bad)).join('');

/**
 * What a document states: its head ('head': title, lead, fields, notice, footer) and, section by
 * section, every paragraph (notes too: one that states a fact, such as dismissed hits, is checked like
 * any other), heading, field, list item, card (its title and content) and figure (its caption, legend,
 * and the text under it, with the rows of its events table). Other tables' cells are values, not
 * sentences (the Markdown checks above look at those that matter); section titles are fixed words.
 */
function statements(doc: Doc, sections?: string[]): string[] {
  const field = (f: Field) => `${f.label}: ${plain(f.value)}`;
  const of = (b: Block, inFigure = false): string[] => {
    switch (b.kind) {
      case 'paragraph':
        return [plain(b.text)];
      case 'heading':
        return [b.text];
      case 'fields':
        return b.fields.map(field);
      case 'list':
        return b.items.map(plain);
      case 'card':
        return [b.title, ...b.blocks.flatMap((x) => of(x))];
      case 'figure':
        return [b.caption, ...b.legend.map((l) => l.label), ...b.text.flatMap((x) => of(x, true))];
      case 'table':
        return inFigure ? b.rows.map((r) => r.map(plain).join(': ')) : [];
    }
  };
  const head = !sections || sections.includes('head') ? [doc.title, doc.lead, ...doc.fields.map(field), doc.notice.text, doc.footer] : [];
  return [...head, ...doc.sections.filter((s) => !sections || sections.includes(s.id)).flatMap((s) => s.blocks.flatMap((b) => of(b)))];
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** An instant as a report writes it to the minute, in a time zone, by Intl (not by the report's code). */
function wall(iso: string | Date, timeZone: string, lang: Lang): string {
  const fmt = new Intl.DateTimeFormat('en-US', { timeZone, year: 'numeric', month: 'numeric', day: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' });
  const p = Object.fromEntries(fmt.formatToParts(new Date(iso)).map((x) => [x.type, x.value]));
  return lang === 'en' ? `${p.day} ${MONTHS[Number(p.month) - 1]} ${p.year} ${p.hour}:${p.minute}` : `${p.year}年${p.month}月${p.day}日 ${p.hour}:${p.minute}`;
}

/** A time zone's offset at an instant, by Intl: Asia/Shanghai (UTC+08:00). */
function zoneName(timeZone: string, at: string): string {
  const off = new Intl.DateTimeFormat('en-US', { timeZone, timeZoneName: 'longOffset' }).formatToParts(new Date(at)).find((x) => x.type === 'timeZoneName')!.value;
  return `${timeZone} (${off.replace('GMT', 'UTC')})`;
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
    fs.writeFileSync(config, JSON.stringify({ hospitals: { h1: { displayName: DISPLAY, target: 'postgres://unused@127.0.0.1:1/none', mapping: path.join(FIXTURES_DIR, 'mappings', 'reference.json'), wards: WARDS, districts: ['鼓楼区', '玄武区', '秦淮区'], timeZone: 'Asia/Shanghai', rotation: { perWard: { 产科一病区: 2, NICU: 1 } } } } }));
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

    it("counts each week's and each ward's canaries as the vault holds them", async () => {
      // Week 50's canaries are drawn and scheduled (their births come later in the week): the weeks
      // table counts them as scheduled or planted, the wards table finds none of them planted yet.
      const rowsOf = (doc: Doc, style: string) => doc.sections.flatMap((s) => s.blocks).flatMap((b) => (b.kind === 'table' && b.style === style ? b.rows.map((r) => r.map(plain)) : []));
      for (const lang of ['en', 'zh-CN'] as const) {
        const doc = auditDocument(data, lang);
        expect(doc.sections.flatMap((s) => s.blocks).find((b) => b.kind === 'table' && b.style === 'weeks')).toMatchObject({ headers: expect.arrayContaining([auditStrings(lang).cols.planted]) });
        for (const [week, , , , drawn] of rowsOf(doc, 'weeks')) {
          expect(n(drawn)).toBe(await one<number>(h.vault, `SELECT count(*)::int AS v FROM canaries WHERE hospital = 'h1' AND batch_id IS NOT NULL AND iso_week = $1 AND status IN ('scheduled', 'planted', 'retired')`, [week]));
        }
        const wards = rowsOf(doc, 'wards');
        expect(wards.length).toBeGreaterThan(0);
        for (const [ward, live, planted, retired] of wards) {
          const { rows: [v] } = await h.vault.query<{ live: number; planted: number; retired: number }>(
            `SELECT count(*) FILTER (WHERE planted_at < $2 AND (retired_at IS NULL OR retired_at >= $2))::int AS live,
                    count(*) FILTER (WHERE planted_at >= $3 AND planted_at < $2)::int AS planted, count(*) FILTER (WHERE retired_at >= $3 AND retired_at < $2)::int AS retired
               FROM canaries WHERE hospital = 'h1' AND batch_id IS NOT NULL AND ward = $1`,
            [ward, NOW, PERIOD.start],
          );
          expect([n(live), n(planted), n(retired)]).toEqual([v.live, v.planted, v.retired]);
        }
      }
      expect(await one<number>(h.vault, `SELECT count(*)::int AS v FROM canaries WHERE iso_week = '2026-W50' AND status = 'scheduled'`)).toBe(3);
    });

    /** Every sentence of the audit in a language, each checked against the vault (or, for what the vault does not hold, the configuration and the clock). */
    async function checkAudit(lang: Lang): Promise<number> {
      const rotations = await facts.rotations();
      const first = await facts.firstRotation();
      const counted = WEEKS.filter((w) => w >= first);
      const done = rotations.filter((r) => r.completed_at && counted.includes(r.iso_week)).length;
      const incidents = await facts.incidents();
      const of = (status: string) => incidents.filter((i) => i.status === status).length;
      const listed = await facts.listed();
      const perCanary = await facts.numbersPerCanary();
      const perWeek = Math.ceil(3 * perCanary);
      const supply = await facts.supply();
      const weeksLeft = Math.floor(supply / perWeek);
      const tripwires = await facts.singleOpens();
      const singleAccounts = await facts.singleAccounts();
      const hits = await facts.hitsInPeriod();
      const noisy = await facts.noisy();
      const live = await facts.seededLive();
      const recipients = await facts.recipients();
      const hospital = await one<number>(h.vault, `SELECT count(*)::int AS v FROM hospitals WHERE name = 'h1'`);
      const zone = zoneName('Asia/Shanghai', NOW);
      const a = auditStrings(lang);
      const factsOf: Fact[] = [
        // The head: the hospital (its name in the configuration, its code in the vault), the period, the zone, when and by whom.
        [/^Canary program audit: (?<name>.+)$/, /^金丝雀计划审计报告：(?<name>.+)$/, (g) => expect(g.name).toBe(DISPLAY)],
        [/^Hospital: (?<name>.+) \((?<code>\S+)\)$/, /^医院: (?<name>.+) \((?<code>\S+)\)$/, (g) => expect([g.name, g.code, hospital]).toEqual([DISPLAY, 'h1', 1])],
        [/^Period: (?<from>\S+) – (?<to>\S+)$/, /^审计期间: (?<from>\S+) – (?<to>\S+)$/, (g) => expect([g.from, g.to]).toEqual([FROM, TODAY])],
        [/^Time zone: (?<zone>.+)$/, /^时区: (?<zone>.+)$/, (g) => expect(g.zone).toBe(zone)],
        // Made at 00:30 in Beijing, not at 16:30 UTC the day before.
        [/^Report made: (?<when>.+), by (?<by>\S+)$/, /^报告生成: (?<when>.+), 操作人 (?<by>\S+)$/, (g) => expect([g.when, g.by]).toEqual([wall(NOW, 'Asia/Shanghai', lang), os.userInfo().username])],
        [/^Command: (?<cmd>.+)$/, /^命令: (?<cmd>.+)$/, (g) => expect(g.cmd).toBe(`cradle --vault ${h.vaultLocation} --config ${config} audit --from ${FROM} --format json`)],
        [/^Tool: cradle (?<v>\S+)$/, /^工具: cradle (?<v>\S+)$/, (g) => expect(g.v).toBe(VERSION)],
        [/^(?:Dates and times are the hospital's|Dates and times): (?<zone>.+)\.$/, /^(?:日期和时间均为医院所在时区|日期和时间)：(?<zone>.+)。$/, (g) => expect(g.zone).toBe(zone)],
        // The summary.
        [
          /^From (?<from>\S+) to (?<to>\S+), (?<name>.+?): (?<done>\d+) of (?<weeks>\d+) weekly rotations? done(?:, (?<missed>\d+) missed)?(?:, (?<partial>\d+) not completed)?\.$/,
          /^(?<from>\S+) 至 (?<to>\S+)，(?<name>[^：]+)：应执行 (?<weeks>\d+) 周轮换，已完成 (?<done>\d+) 周(?:，遗漏 (?<missed>\d+) 周)?(?:，(?<partial>\d+) 周未完成)?。$/,
          (g) => {
            expect([g.from, g.to, g.name]).toEqual([FROM, TODAY, DISPLAY]);
            expect([n(g.done), n(g.weeks), n(g.missed), n(g.partial)]).toEqual([done, counted.length, counted.length - done, 0]);
          },
        ],
        [/^(?<before>\d+) earlier weeks? came before the first rotation \((?<first>\S+)\)\.$/, /^另有 (?<before>\d+) 周早于首次轮换（(?<first>\S+)）。$/, (g) => expect([n(g.before), g.first]).toEqual([WEEKS.length - counted.length, first])],
        [
          /^(?<live>\d+) seeded canar(?:y|ies) live at the end of the period, and export canaries with (?<recipients>\d+) recipients?\.$/,
          /^期末在位的植入金丝雀 (?<live>\d+) 个，导出金丝雀涉及 (?<recipients>\d+) 个接收方。$/,
          (g) => expect([n(g.live), n(g.recipients)]).toEqual([live, recipients]),
        ],
        [
          /^The trap pool (?:holds (?<weeks>\d+) weeks of numbers|is running out: (?<low>\d+) weeks? of numbers left)\.$/,
          /^(?:陷阱号码池可供 (?<weeks>\d+) 周使用|陷阱号码池即将用尽：仅剩 (?<low>\d+) 周的号码)。$/,
          (g) => expect([n(g.weeks ?? g.low), g.low === undefined]).toEqual([weeksLeft, weeksLeft >= 4]),
        ],
        [
          /^(?<incidents>\d+) incidents? \((?<open>\d+) open\), (?<tripwires>\d+) tripwires? \(canary records opened on their own\)(?:, and (?<records>\d+) canary records? shown in (?<lists>\d+) lists?)?\.$/,
          /^事件 (?<incidents>\d+) 个（处理中 (?<open>\d+) 个），绊线（单独打开金丝雀记录）(?<tripwires>\d+) 条(?:，另有 (?<lists>\d+) 次列表显示金丝雀记录 (?<records>\d+) 次)?。$/,
          (g) => {
            expect([n(g.incidents), n(g.open), n(g.tripwires)]).toEqual([incidents.length, of('open'), tripwires]);
            expect([n(g.records), n(g.lists)]).toEqual([listed.records, listed.lines]);
          },
        ],
        [/^The evidence ledger verifies\.$/, /^证据账本校验通过。$/, () => expect(data.ledger.ok).toBe(true)],
        // Weekly rotations: the plan is the configuration's.
        [/^Rotation plan: (?<total>\d+) \((?<wards>[^)]*)\) canaries per week\.$/, /^轮换计划：每周 (?<total>\d+) 个金丝雀（(?<wards>[^）]*)）。$/, (g) => expect([n(g.total), g.wards]).toEqual([3, lang === 'en' ? '产科一病区 2, NICU 1' : '产科一病区 2 个，NICU 1 个'])],
        [
          /^(?<done>\d+) done, (?<missed>\d+) missed(?:, (?<partial>\d+) started but not completed)?(?:, (?<due>\d+) due this week)?\.$/,
          /^已完成 (?<done>\d+) 周，遗漏 (?<missed>\d+) 周(?:，(?<partial>\d+) 周已开始但未完成)?(?:，本周 (?<due>\d+) 周待执行)?。$/,
          (g) => expect([n(g.done), n(g.missed), n(g.partial), n(g.due)]).toEqual([done, counted.length - done, 0, 0]),
        ],
        [
          /^(?<before>\d+) weeks? of the period came before the hospital's first rotation \((?<first>\S+)\) and (?:is|are) not counted as missed\.$/,
          /^审计期间有 (?<before>\d+) 周早于医院的首次轮换（(?<first>\S+)），不计为遗漏。$/,
          (g) => expect([n(g.before), g.first]).toEqual([WEEKS.length - counted.length, first]),
        ],
        // The trap pool.
        [
          /^(?<supply>\d+) numbers available or in burn-in; a week's rotation takes (?<perWeek>\d+) \((?<perCanary>[\d.]+) per canary\), the next (?<weeks>\d+) weeks (?<needed>\d+): enough for (?<left>\d+) weeks?\.$/,
          /^可用或预热中的号码共 (?<supply>\d+) 个；每周轮换需要 (?<perWeek>\d+) 个（每个金丝雀 (?<perCanary>[\d.]+) 个），今后 (?<weeks>\d+) 周需要 (?<needed>\d+) 个：可用 (?<left>\d+) 周。$/,
          (g) => {
            expect([n(g.supply), n(g.perWeek), n(g.weeks), n(g.needed), n(g.left)]).toEqual([supply, perWeek, 4, perWeek * 4, weeksLeft]);
            expect(n(g.perCanary)).toBeCloseTo(perCanary, 2);
          },
        ],
        [
          /^Warning: the pool holds fewer than (?<weeks>\d+) weeks of trap numbers \((?<left>\d+) left\)\.$/,
          /^警告：号码池剩余不足 (?<weeks>\d+) 周（仅剩 (?<left>\d+) 周）。$/,
          (g) => expect([n(g.left), n(g.left) < n(g.weeks)]).toEqual([weeksLeft, true]),
        ],
        [/^Add numbers now \(cradle pool add\): new ones need their burn-in before use\.$/, /^请立即添加号码（cradle pool add）：新号码使用前需经过预热期。$/, () => expect(weeksLeft).toBeLessThan(4)],
        [/^No trap number was contacted before a canary held it\.$/, /^没有号码在分配给金丝雀之前收到联系。$/, () => expect(noisy).toBe(0)],
        // Hits and incidents.
        [
          /^(?<hits>\d+) hits? on the hospital's canaries in the period; incidents: (?<open>\d+) open, (?<closed>\d+) closed, (?<dismissed>\d+) dismissed \(not a leak\)(?:, (?<merged>\d+) merged into another)?\.$/,
          /^本期医院金丝雀共有 (?<hits>\d+) 次命中；事件：处理中 (?<open>\d+) 个，已关闭 (?<closed>\d+) 个，已驳回（非泄露）(?<dismissed>\d+) 个(?:，已合并 (?<merged>\d+) 个)?。$/,
          (g) => expect([n(g.hits), n(g.open), n(g.closed), n(g.dismissed), n(g.merged)]).toEqual([hits, of('open'), of('closed'), of('dismissed'), of('merged')]),
        ],
        // Tripwires and lists.
        [
          /^(?<opened>\d+) canary records? (?:was|were) opened on (?:its|their) own \(viewed, printed or exported one at a time\) by (?<accounts>\d+) accounts?: each is a tripwire\.$/,
          /^(?<accounts>\d+) 个账号单独打开（逐条查看、打印或导出）金丝雀记录 (?<opened>\d+) 次：每次都是一条绊线。$/,
          (g) => expect([n(g.opened), n(g.accounts)]).toEqual([tripwires, singleAccounts]),
        ],
        // The table of lines under this heading shows them all, or says how many it leaves out.
        [/^(?:The newest (?<shown>\d+) of (?<total>\d+) lines|The lines)$/, /^(?:最近 (?<shown>\d+) 条（共 (?<total>\d+) 条）记录|记录)$/, (g) =>
          g.shown === undefined ? expect(data.tripwires.lines.length).toBe(tripwires) : expect([n(g.shown), n(g.total)]).toEqual([data.tripwires.lines.length, tripwires]),
        ],
        [
          /^(?<lines>\d+) lists?, search(?:es)? or bulk exports? by (?<accounts>\d+) accounts? included canary records (?<records>\d+) times? \((?<canaries>\d+) canar(?:y|ies)\)\.$/,
          /^(?<accounts>\d+) 个账号的 (?<lines>\d+) 次列表、搜索或批量导出共显示金丝雀记录 (?<records>\d+) 次（涉及 (?<canaries>\d+) 个金丝雀）。$/,
          (g) => expect([n(g.lines), n(g.accounts), n(g.records), n(g.canaries)]).toEqual([listed.lines, listed.accounts, listed.records, listed.canaries]),
        ],
        // The ledger and realism.
        [/^The ledger verifies: chain intact and the evidence matches it\.$/, /^账本校验通过：哈希链完整，证据与账本一致。$/, () => expect(data.ledger.ok).toBe(true)],
        [/^Not measured in this report: run cradle audit --realism \(it reads the target, read-only\) or cradle realism\.$/, /^本报告未测量：请运行 cradle audit --realism（只读访问目标库）或 cradle realism。$/, () => expect(data.realism).toBeNull()],
      ];
      // Words of the string tables alone: the lead, the footer's maker, headings that name a table,
      // what a list exposure is, and the note on keeping the ledger's head.
      const words = fixed([a.subtitle, 'Made by Cradle (cradle audit).', '由 Cradle 生成（cradle audit）。', a.byWard, a.byRecipient, a.poolCounts, a.noise, a.tripwireAccounts, a.listHeading, a.listTally(2, 2, 2, 2).replace(/^[^.。]*[.。]\s*/u, ''), a.ledgerNote]);
      return checkEvery(statements(auditDocument(data, lang)), [...checksIn(lang, factsOf), words]);
    }

    it('states only facts the vault holds, in English', async () => {
      expect(await checkAudit('en')).toBeGreaterThanOrEqual(36);
    });

    it('states the same facts in Chinese', async () => {
      expect(await checkAudit('zh-CN')).toBeGreaterThanOrEqual(36);
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

    /** Every sentence of the incident report in a language, each checked against the vault (the trace's own figures, which the vault does not hold, against the data and the model's parameters). */
    async function checkIncident(lang: Lang): Promise<number> {
      const t = incidentStrings(lang);
      const rows = await facts.origins(data.canaries.map((c) => c.id));
      const ids = rows.map((r) => r.id);
      const seeded = rows.filter((r) => r.seeded);
      const exportOnly = rows.filter((r) => !r.seeded);
      const origins = seeded.length && exportOnly.length ? 'both' : seeded.length ? 'seeded' : 'export';
      const { rows: [inc] } = await h.vault.query<{ title: string; status: string; source: string }>(`SELECT title, status, source FROM incidents WHERE id = $1`, [incident]);
      const { rows: [contacts] } = await h.vault.query<{ first: Date; last: Date; senders: number; hits: number }>(
        `SELECT min(e.occurred_at) AS first, max(e.occurred_at) AS last, count(DISTINCT e.from_address)::int AS senders, count(*)::int AS hits
           FROM hits x JOIN contact_events e ON e.id = x.event_id WHERE x.incident_id = $1 AND x.status = 'active'`,
        [incident],
      );
      const { rows: contactTimes } = await h.vault.query<{ canary_id: string; at: Date }>(`SELECT x.canary_id, e.occurred_at AS at FROM hits x JOIN contact_events e ON e.id = x.event_id WHERE x.incident_id = $1 AND x.status = 'active'`, [incident]);
      const { rows: [x] } = await h.vault.query<{ id: string; file_name: string; recipient: string; operator: string; sha256: string; created_at: Date }>(
        `SELECT x.id, x.file_name, ch.name AS recipient, x.operator, x.sha256, x.created_at FROM exports x JOIN channels ch ON ch.id = x.channel_id WHERE x.id = $1`,
        [exportOnly[0].export_id],
      );
      expect(new Set(exportOnly.map((r) => r.export_id))).toEqual(new Set([x.id]));
      const hospitals = await one<string>(h.vault, `SELECT string_agg(DISTINCT hospital, ', ') AS v FROM canaries WHERE id = ANY($1::text[])`, [ids]);
      const { rows: planted } = await h.vault.query<{ id: string; at: Date }>(`SELECT id, planted_at AS at FROM canaries WHERE id = ANY($1::text[])`, [ids]);
      // When each channel first saw each canary (an export file is its recipient's), and how many canaries each saw in all.
      const { rows: seen } = await h.vault.query<{ label: string; canary_id: string; at: Date }>(
        `SELECT ch.kind || ':' || ch.name AS label, e.canary_id, min(e.exposed_at) AS at FROM exposures e JOIN channels ch ON ch.id = e.channel_id GROUP BY 1, 2`,
      );
      const channels = await one<number>(h.vault, `SELECT count(DISTINCT CASE WHEN detail->>'export' IS NOT NULL THEN 'x' || (detail->>'export') ELSE 'c' || channel_id END)::int AS v FROM exposures WHERE canary_id = ANY($1::text[])`, [ids]);
      const vaultCanaries = await one<number>(h.vault, `SELECT count(*)::int AS v FROM canaries WHERE status <> 'pending'`);
      const { rows: ledger } = await h.vault.query<{ seq: number; at: Date; hash: string }>(`SELECT seq::int AS seq, at, hash FROM ledger WHERE seq = $1`, [data.custody.ledger.head!.seq]);
      const lifeCycle = await one<number>(h.vault, `SELECT count(*)::int AS v FROM ledger WHERE kind IN ('incident', 'hit-status') AND (incident_id = $1 OR ref = $1)`, [incident]);

      const utc = (at: Date | string) => wall(at, 'UTC', lang);
      const iso = (at: Date) => new Date(at).toISOString();
      const leakedBy = (id: string) => Math.min(...contactTimes.filter((c) => c.canary_id === id).map((c) => new Date(c.at).getTime()));
      // A canary's birth in the vault: planted for a seeded one, written into its file for an export-only one.
      const bornAt = (id: string) => (rows.find((r) => r.id === id)!.seeded ? new Date(planted.find((p) => p.id === id)!.at) : new Date(x.created_at)).getTime();
      const seenBy = (label: string, id: string) => seen.find((s) => s.label === label && s.canary_id === id);
      /** The canaries found that a channel had seen before the first evidence of their leak. */
      const explained = (label: string) => ids.filter((id) => seenBy(label, id) && new Date(seenBy(label, id)!.at).getTime() < leakedBy(id));
      const windowOf = (label: string) => {
        const e = explained(label);
        return { from: Math.max(...e.map((id) => Math.max(new Date(seenBy(label, id)!.at).getTime(), bornAt(id)))), to: Math.min(...e.map(leakedBy)) };
      };
      const top = data.suspects[0];
      const topLabel = `export:${x.recipient}`;
      const count = (times: number[], when: string) => times.filter((at) => utc(new Date(at)) === when).length;
      const masked = `+${'*'.repeat(CALLER.length - 5)}${CALLER.slice(-4)}`;
      const word = (g: string | undefined, of: Record<string, string>) => of[g ?? ''];
      const HOW: Record<string, string> = { planted: 'seeded', 'written into export files': 'export', 'planted or written into export files': 'both', exported: 'export', 'planted or exported': 'both', 植入: 'seeded', 写入导出文件: 'export', 植入或写入导出文件: 'both', 导出: 'export', 植入或导出: 'both' };
      const KIND: Record<string, string> = { account: 'account', system: 'system', ward: 'ward', 账号: 'account', 系统: 'system', 病区: 'ward' };
      const WHEN = String.raw`\d+ \w{3} \d{4} \d\d:\d\d|\d{4}年\d+月\d+日 \d\d:\d\d`;
      // The suspect whose card the sentences are in: set by the card's title, read by its reasons.
      let card = '';
      let rank = 0;

      const incidentFacts: Fact[] = [
        // The head.
        [/^Incident report (?<id>\S+)$/, /^事件报告 (?<id>\S+)$/, (g) => expect(g.id).toBe(incident)],
        [/^Incident: (?<id>\S+) (?<title>.+)$/, /^事件: (?<id>\S+) (?<title>.+)$/, (g) => expect([g.id, g.title]).toEqual([incident, inc.title.replace(CALLER, masked)])],
        [/^Found by: (?<source>.+)$/, /^发现方式: (?<source>.+)$/, (g) => expect([g.source, inc.source]).toEqual([t.sourceName('hits'), 'hits'])],
        [/^Status: (?<status>.+)$/, /^状态: (?<status>.+)$/, (g) => expect([g.status, inc.status]).toEqual([t.status('open'), 'open'])],
        [/^Hospital: (?<h>.+)$/, /^医院: (?<h>.+)$/, (g) => expect(g.h).toBe(hospitals)],
        // In the head to the minute, in the chain of custody to the second: UTC, as the notice says.
        [/^Report made: (?<when>.+), by (?<by>\S+)$/, /^报告生成: (?<when>.+), 操作人 (?<by>\S+)$/, (g) => {
          expect([utc(NOW), NOW.replace('T', ' ')]).toContain(g.when);
          expect(g.by).toBe(os.userInfo().username);
        }],
        [/^Command: (?<cmd>.+)$/, /^命令: (?<cmd>.+)$/, (g) => expect(g.cmd).toBe(`cradle --vault ${h.vaultLocation} --config ${config} report ${incident} --format json`)],
        [/^Tool: cradle (?<v>\S+)$/, /^工具: cradle (?<v>\S+)$/, (g) => expect(g.v).toBe(VERSION)],
        [/^Callers’ numbers are partly masked \(all but the last four digits\); canary numbers are Cradle’s own trap numbers and are shown in full\.$|^Callers’ numbers are masked\.$/, /^来电\/发信方号码已部分遮蔽（仅显示后四位）；金丝雀号码是 Cradle 自有的陷阱号码，完整显示。$|^来电号码已遮蔽。$/, () => {
          expect(data.unmasked).toBe(false);
          expect(data.hits.map((hit) => hit.from)).toEqual(contactTimes.map(() => masked));
          expect(data.hits.map((hit) => hit.to).sort()).toEqual(data.canaries.map((c) => c.motherPhone).sort());
        }],
        // Every time of the incident report is UTC: the first contact, 16:15 UTC, is 00:15 in Beijing.
        [/^All times (?:are )?UTC\.$/, /^所有时间均为 UTC。$/, () => expect(md[lang]).toContain(`| ${utc(contacts.first)} |`)],
        // The summary.
        [
          /^On (?<date>\d+ \w+ \d{4}), (?<canaries>\d+) canary famil(?:y|ies) (?:was|were) contacted (?<hits>\d+) times? by (?<senders>\d+) senders?\.$/,
          /^(?<date>\d{4}年\d+月\d+日)，(?<canaries>\d+) 个金丝雀家庭被 (?<senders>\d+) 个来源联系了 (?<hits>\d+) 次。$/,
          (g) => {
            // The incident report is in UTC: the 6th.
            expect([g.date, t.date(iso(contacts.last))]).toEqual([t.date(iso(contacts.first)), t.date(iso(contacts.first))]);
            expect(utc(contacts.first)).toMatch(lang === 'en' ? /^6 Dec/ : /12月6日/);
            expect([n(g.canaries), n(g.hits), n(g.senders)]).toEqual([rows.length, contacts.hits, contacts.senders]);
          },
        ],
        [
          /^These families do not exist: (?<seeded>\d+) of them was planted in week (?<week>\S+) into the newborn records of (?<hosp>\S+); (?<exported>\d+) are export-only canaries, never in the newborn records, written only into the export file (?<file>\S+) \(export (?<id>\S+) to (?<recipient>\S+)\)\.$/,
          /^这些家庭并不存在：其中 (?<seeded>\d+) 个于 (?<week>\S+) 周植入(?<hosp>\S+?)的新生儿记录；(?<exported>\d+) 个是仅存在于导出文件中的金丝雀，从未进入新生儿记录，只写入了导出文件 (?<file>\S+)（导出 (?<id>\S+)，接收方 (?<recipient>\S+)）。$/,
          (g) => {
            expect([n(g.seeded), g.week, g.hosp]).toEqual([seeded.length, seeded[0].iso_week, hospitals]);
            expect([n(g.exported), g.file, g.id, g.recipient]).toEqual([exportOnly.length, x.file_name, x.id, x.recipient]);
          },
        ],
        [
          /^The most likely source is export (?<id>\S+) to (?<recipient>\S+) \(operator (?<operator>\S+), file (?<file>\S+), sha256 (?<sha>[0-9a-f]{64})\), with probability (?<pct>\S+) \((?<certainty>[^)]+)\)\.$/,
          /^最可能的来源是发给 (?<recipient>\S+) 的导出 (?<id>\S+)（操作员 (?<operator>\S+)，文件 (?<file>\S+)，sha256 (?<sha>[0-9a-f]{64})），概率为 (?<pct>\S+)（(?<certainty>[^）]+)）。$/,
          (g) => {
            expect([top.kind, top.label]).toEqual(['export', topLabel]);
            expect([g.id, g.recipient, g.operator, g.file, g.sha]).toEqual([x.id, x.recipient, x.operator, x.file_name, x.sha256]);
            expect([g.pct, g.certainty]).toEqual([t.pct(top.posterior), t.certainty(top.posterior)]);
          },
        ],
        [/^The most likely source is (?!export )(.+), with probability/, /^最可能的来源是(?!发给 )/, () => expect(top.kind).not.toBe('export')],
        [/^The leak most likely happened between (?<range>.+)\.$/, /^泄露最可能发生在(?<range>.+)之间。$/, (g) => {
          // Not before the file was exported, and before the first contact.
          const w = windowOf(topLabel);
          expect([w.from, w.to]).toEqual([new Date(x.created_at).getTime(), new Date(contacts.first).getTime()]);
          expect(g.range).toBe(t.dateRange(iso(x.created_at), iso(contacts.first)));
        }],
        [/^The next suspect, (?<label>.+), has (?<pct>\S+)\.$/, /^其次的可疑来源(?:是(?<unknown>未知来源)| (?<label>\S+) )，概率为 (?<pct>\S+)。$/, (g) => {
          const next = data.suspects[1];
          expect(next.kind === 'unknown').toBe(g.unknown !== undefined || g.label === 'an unknown source');
          if (next.kind !== 'unknown') expect(g.label).toBe(next.label);
          expect(g.pct).toBe(t.pct(next.posterior));
        }],
        // The timeline: its caption and legend, the events under it, the leak window.
        [
          /^When the canaries were (?<how>planted|written into export files|planted or written into export files), when the suspected channels saw them, and when (?<found>they were contacted|the seized files were scanned); the shaded band is the leak window of (?<which>the most likely source|the most likely source Cradle has a record of), (?<label>\S+)\.$/,
          /^金丝雀(?<how>植入|写入导出文件|植入或写入导出文件)的时间、可疑渠道接触它们的时间，以及(?<found>它们被联系|查获文件被扫描)的时间；阴影区域为(?<which>最可能来源| Cradle 有记录的最可能来源) (?<label>\S+) 的泄露时间窗。$/,
          (g) => {
            expect([word(g.how, HOW), word(g.found, { 'they were contacted': 'hits', 它们被联系: 'hits' })]).toEqual([origins, inc.source]);
            expect([word(g.which, { 'the most likely source': 'top', 最可能来源: 'top' }), g.label]).toEqual(['top', topLabel]);
          },
        ],
        [/^Canaries (?<how>planted|exported|planted or exported)$/, /^金丝雀(?<how>植入|导出|植入或导出)$/, (g) => expect(word(g.how, HOW)).toBe(origins)],
        [/^Contacts \/ hits$/, /^联系 \/ 命中$/, () => expect(inc.source).toBe('hits')],
        [/^Leak window: (?<label>\S+)$/, /^泄露时间窗：(?<label>\S+)$/, (g) => expect(g.label).toBe(topLabel)],
        [
          new RegExp(`^(?<when>${WHEN}): (?<n>\\d+) (?<only>export-only )?canar(?:y|ies) (?<how>planted|written into an export file)$`),
          new RegExp(`^(?<when>${WHEN}): (?<how>植入|写入导出文件) (?<n>\\d+) 个(?<only>仅存在于导出文件中的)?金丝雀$`),
          (g) => {
            const exported = g.how === 'written into an export file' || g.how === '写入导出文件';
            expect(g.only !== undefined).toBe(exported);
            expect(n(g.n)).toBe(count((exported ? exportOnly : seeded).map((r) => bornAt(r.id)), g.when!));
          },
        ],
        [
          new RegExp(`^(?<when>${WHEN}): (?<n>\\d+) canar(?:y|ies) seen by (?<label>\\S+)$`),
          new RegExp(`^(?<when>${WHEN}): (?<label>\\S+) 接触 (?<n>\\d+) 个金丝雀$`),
          (g) => expect(n(g.n)).toBe(count(ids.flatMap((id) => (seenBy(g.label!, id) ? [new Date(seenBy(g.label!, id)!.at).getTime()] : [])), g.when!)),
        ],
        [
          new RegExp(`^(?<when>${WHEN}): (?<n>\\d+) contacts?$`),
          new RegExp(`^(?<when>${WHEN}): 收到 (?<n>\\d+) 次联系$`),
          (g) => expect(n(g.n)).toBe(count(contactTimes.map((c) => new Date(c.at).getTime()), g.when!)),
        ],
        [/^leak window of (?<label>\S+): after (?<from>.+), before (?<to>.+)$/, /^(?<label>\S+) 的泄露时间窗：(?<from>.+) 之后，(?<to>.+) 之前$/, (g) => {
          expect([g.label, g.from, g.to]).toEqual([topLabel, utc(x.created_at), utc(contacts.first)]);
        }],
        // The suspects: each card's title (rank, channel, probability), what the channel is, and why.
        [/^(?<rank>\d+)\. (?<label>.+) \((?<pct>[^()]+)\)$/, /^(?<rank>\d+)\. (?<label>.+) \((?<pct>[^()]+)\)$/, (g) => {
          rank++;
          const s = data.suspects[rank - 1];
          expect(n(g.rank)).toBe(rank);
          expect(g.pct).toBe(t.pct(s.posterior));
          if (rank > 1) expect(s.posterior).toBeLessThanOrEqual(data.suspects[rank - 2].posterior);
          card = s.kind === 'unknown' ? 'unknown' : s.label;
          expect(g.label).toBe(s.kind === 'unknown' ? t.unknownSource : s.label);
          if (card !== 'unknown') expect(seen.some((e) => e.label === card)).toBe(true);
        }],
        [
          /^export (?<id>\S+) to (?<recipient>\S+) \(operator (?<operator>\S+), file (?<file>\S+), sha256 (?<sha>[0-9a-f]{64})\)$/,
          /^发给 (?<recipient>\S+) 的导出 (?<id>\S+)（操作员 (?<operator>\S+)，文件 (?<file>\S+)，sha256 (?<sha>[0-9a-f]{64})）$/,
          (g) => expect([card, g.id, g.recipient, g.operator, g.file, g.sha]).toEqual([`export:${g.recipient}`, x.id, x.recipient, x.operator, x.file_name, x.sha256]),
        ],
        [/^the (?<kind>account|system|ward) (?<name>\S+)$/, /^(?<kind>账号|系统|病区) (?<name>\S+)$/, (g) => expect(card).toBe(`${word(g.kind, KIND)}:${g.name}`)],
        [/^a source Cradle has no record of$/, /^Cradle 没有记录的来源$/, () => expect(card).toBe('unknown')],
        [
          /^It had seen (?:all (?<all>\d+)|(?<explained>\d+) of the (?<total>\d+)) canaries found, before the evidence of their leak\.$/,
          /^在泄露证据出现之前，它接触过(?:全部 (?<all>\d+) 个被发现的金丝雀|被发现的 (?<total>\d+) 个金丝雀中的 (?<explained>\d+) 个)。$/,
          (g) => {
            // The unknown source stands for a channel that saw them all.
            const e = card === 'unknown' ? ids : explained(card);
            expect([n(g.explained ?? g.all), n(g.total ?? g.all)]).toEqual([e.length, ids.length]);
            expect(g.all === undefined).toBe(e.length < ids.length);
          },
        ],
        [/^It saw (?<seen>\d+) canar(?:y|ies) in all: the fewer besides those found, the sharper the match\.$/, /^它总共接触过 (?<seen>\d+) 个金丝雀：除被发现者之外接触得越少，匹配越明确。$/, (g) => expect(n(g.seen)).toBe(seen.filter((e) => e.label === card).length)],
        [
          /^Exported on (?<when>.+?) by operator (?<operator>\S+) to (?<recipient>\S+) as (?<file>\S+)\.$/,
          /^于 (?<when>.+?) 由操作员 (?<operator>\S+) 导出给 (?<recipient>\S+)，文件 (?<file>\S+)。$/,
          (g) => expect([card, g.when, g.operator, g.recipient, g.file]).toEqual([`export:${x.recipient}`, utc(x.created_at), x.operator, x.recipient, x.file_name]),
        ],
        [/^The leak would have happened between (?<from>.+) and (?<to>.+)\.$/, /^泄露应发生在 (?<from>.+) 至 (?<to>.+) 之间。$/, (g) => {
          const w = windowOf(card);
          expect([g.from, g.to]).toEqual([utc(new Date(w.from)), utc(new Date(w.to))]);
        }],
        [
          /^It cannot explain (?<n>\d+) canar(?:y|ies) \((?<ids>[^)]+)\): never seen by it, or seen only after they leaked\.$/,
          /^它无法解释 (?<n>\d+) 个金丝雀（(?<ids>[^）]+)）：从未接触，或在其泄露之后才接触。$/,
          (g) => {
            const not = ids.filter((id) => !explained(card).includes(id));
            expect([n(g.n), g.ids!.split(/, |、/).sort()]).toEqual([not.length, not.slice(0, 6).sort()]);
          },
        ],
        // The model's parameters are the trace's own (the vault holds none of them).
        [/^Stands for any channel Cradle has no record of \(prior probability (?<prior>\S+)\)\.$/, /^代表 Cradle 没有记录的任何渠道（先验概率 (?<prior>\S+)）。$/, (g) => expect([card, g.prior]).toEqual(['unknown', t.pct(TRACE_MODEL.unknownPrior)])],
        // How the source was traced.
        [/^(?<u>\d+) channels? saw these canaries; the vault holds (?<n>\d+) canar(?:y|ies)\.$/, /^共有 (?<u>\d+) 个渠道接触过这些金丝雀；金丝雀库共有 (?<n>\d+) 个。$/, (g) => expect([n(g.u), n(g.n)]).toEqual([channels, vaultCanaries])],
        [/^The leak happened at one unknown moment, .*; the first evidence follows the leak by (?<days>[\d.]+) days on average\.$/, /^泄露发生在某个未知时刻，.*；最早证据平均在泄露后 (?<days>[\d.]+) 天出现。$/, (g) => expect(n(g.days)).toBe(TRACE_MODEL.evidenceDelayDays)],
        [/^Canaries found that the channel cannot explain .*: (?<noise>[\d.]+) such canaries per incident on average\.$/, /^渠道无法解释的被发现金丝雀视为噪声.*：平均每个事件 (?<noise>[\d.]+) 个。$/, (g) => expect(n(g.noise)).toBe(TRACE_MODEL.noise)],
        [/^Before the evidence, .* prior probability (?<u>\S+), two separate leaks merged into one incident (?<m>\S+)\.$/, /^在获得证据之前，.*先验概率为 (?<u>\S+)，两次独立泄露合并为一个事件的先验概率为 (?<m>\S+)。$/, (g) => expect([g.u, g.m]).toEqual([t.pct(TRACE_MODEL.unknownPrior), t.pct(TRACE_MODEL.mergePrior)])],
        // History and chain of custody: the head when the report was made (the CLI's report of the same incident was recorded after it).
        [/^Nobody has closed, dismissed, merged or annotated this incident, nor dismissed any of its hits\.$/, /^尚无人关闭、驳回、合并或备注此事件，也没有驳回其中的命中。$/, () => expect(lifeCycle).toBe(0)],
        [/^Ledger head when this report was made: entry (?<seq>\d+), (?<at>\S+ \S+)\.$/, /^生成本报告时的账本最新条目：第 (?<seq>\d+) 条，(?<at>\S+ \S+)。$/, (g) => expect([n(g.seq), g.at]).toEqual([ledger[0].seq, isoShort(iso(ledger[0].at))])],
        [/^Hash: (?<hash>[0-9a-f]{64})$/, /^哈希： ?(?<hash>[0-9a-f]{64})$/, (g) => expect(g.hash).toBe(ledger[0].hash)],
        // Recommended actions: for an export, its recipient, id, file and hash; for contacts, keeping them.
        [/^Contact (?<recipient>\S+) about export (?<id>\S+): ask who held the file and where it went\.$/, /^就导出 (?<id>\S+) 联系 (?<recipient>\S+)：查明谁持有该文件以及文件的去向。$/, (g) => expect([g.recipient, g.id]).toEqual([x.recipient, x.id])],
        [/^Suspend or revoke the data-sharing agreement with (?<recipient>\S+) until it is explained\.$/, /^在查明原因之前，暂停或撤销与 (?<recipient>\S+) 的数据共享协议。$/, (g) => expect(g.recipient).toBe(x.recipient)],
        [/^Preserve the export file (?<file>\S+) and its manifest \(sha256 (?<sha>[0-9a-f]{12})…\) as evidence\.$/, /^保全导出文件 (?<file>\S+) 及其清单（sha256 (?<sha>[0-9a-f]{12})…）作为证据。$/, (g) => expect([g.file, g.sha]).toEqual([x.file_name, x.sha256.slice(0, 12)])],
        [/^Keep the recorded contacts \(raw bytes, hashes above\) and hand the unmasked caller numbers to the police on request\.$/, /^保留已记录的联系（原始字节及上列哈希），并应警方要求提供未遮蔽的来电号码。$/, () => expect(inc.source).toBe('hits')],
      ];
      // Words of the string tables alone: the lead, the footer's maker, headings, the notes that say how
      // to check a hash and why to keep the ledger's head, the assumptions without a figure, and the
      // actions every report ends with.
      const assumptions = t.assumptions(TRACE_MODEL, 0, 0);
      const words = fixed([
        t.subtitle,
        lang === 'en' ? 'Made by Cradle.' : '由 Cradle 生成。',
        t.sections.suspects,
        t.contacts,
        t.custodyFiles,
        t.ledgerEntries,
        t.verifyNote,
        t.ledgerHeadNote,
        assumptions[0],
        sentences(assumptions[1])[0],
        assumptions[3],
        assumptions[6],
        t.action('anchor-ledger', null),
        t.action('keep-watching', null),
      ]);
      const texts = statements(incidentDocument(data, lang));
      const checked = checkEvery(texts, [...checksIn(lang, incidentFacts), words]);
      // Every suspect has its card.
      expect(rank).toBe(data.suspects.length);
      return checked;
    }

    it('states only facts the vault holds, in English', async () => {
      expect(await checkIncident('en')).toBeGreaterThanOrEqual(82);
    });

    it('states the same facts in Chinese', async () => {
      expect(await checkIncident('zh-CN')).toBeGreaterThanOrEqual(82);
    });

    it('says export-only canaries were exported, not planted, in the canaries table and the timeline', async () => {
      const rows = await facts.origins(data.canaries.map((c) => c.id));
      const exportOnly = rows.filter((r) => !r.seeded);
      const { rows: [x] } = await h.vault.query<{ id: string; file_name: string }>(`SELECT id, file_name FROM exports WHERE id = $1`, [exportOnly[0].export_id]);
      expect(md.en).not.toMatch(/export-only[^\n]*planted in week|planted in week[^\n]*were contacted/);
      for (const r of exportOnly) expect(md.en).toMatch(new RegExp(`\\| \`${r.id}\` \\|[^\\n]*\\| export only: ${x.file_name.replace('.', '\\.')} \\(${x.id}\\) \\|`));
      expect(md.en).toMatch(new RegExp(`\\| ${exportOnly.length} export-only canaries written into an export file \\|`));
      expect(md['zh-CN']).toContain(`写入导出文件 ${exportOnly.length} 个仅存在于导出文件中的金丝雀`);
    });
  });
});
