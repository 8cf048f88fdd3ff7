import fs from 'node:fs';
import path from 'node:path';
import { importAccessLog } from '../accesslog/import.js';
import { parseMapOption } from '../accesslog/parse.js';
import type { Config, HospitalConfig } from '../config/index.js';
import type { Database } from '../db/index.js';
import type { DemoAdmissions } from '../demo/setup.js';
import { accessLogCsv, ACCESS_LOG_MAP, DEMO_LEAKED_WEEK, DEMO_LEAKER, DEMO_RECIPIENTS, robocalls, scamContacts, staffAccounts, type BirthRecord, type ScamContact } from '../demo/story.js';
import { runExport, type ExportResult } from '../exports/export.js';
import { writeOutFile } from '../lib/out-file.js';
import { createRandom } from '../lib/generate/index.js';
import { runScan } from '../scan/scan.js';
import { advanceCanaries, rotate } from '../seed/index.js';
import type { Mapping } from '../targetdb/index.js';
import { isoWeekOf } from '../lib/time.js';
import { traceIncident, type TraceReport } from '../trace/trace.js';
import { triagePending } from '../triage/triage.js';
import * as vault from '../vault/index.js';
import { startWatch } from '../watch/server.js';
import { twilioSignature } from '../watch/signatures.js';
import { writeAuditReport } from './audit-report.js';
import { writeIncidentReport } from './incident-report.js';

// The whole product in one run, on the demo hospital: four weekly rotations, weekly exports to five
// recipients, a month of staff access logs; then one recipient's export is sold, scammers text and
// call its canaries through the real webhook server, one mails a trap mailbox, robodialers walking the
// pool's numbers hit traps by chance (hits below the alert threshold, in no incident); Cradle triages,
// scans the seized spreadsheet and traces both incidents.

const DAY_MS = 86_400_000;
const DEMO_TWILIO_TOKEN = 'demo-twilio-auth-token';
/** Robodialers in the story, and the numbers each walks in order. */
const DEMO_DIALERS = 3;
const DEMO_DIALER_CALLS = 20;

export interface StoryContext {
  config: Config;
  dir: string;
  seed: string;
  now: Date;
  hospital: HospitalConfig;
  mapping: Mapping;
  vault: Database;
  target: Database;
  say: (step: string, why?: string) => void;
  /** The hospital's own admissions after Cradle's installation, written as the simulated clock reaches them. */
  admissions: DemoAdmissions;
}

export interface StoryResult {
  weeks: string[];
  canariesPlanted: number;
  exports: number;
  leaked: ExportResult & { recipient: string; week: string };
  seizedFile: string;
  accessLog: { file: string; lines: number; tripwires: number };
  contacts: { scam: number; robocalls: number; mail: number };
  hits: number;
  hitsIncident: string;
  scanIncident: string;
  hitsTrace: TraceReport;
  scanTrace: TraceReport;
  reports: string[];
}

/**
 * The simulated clock runs to `until`: the hospital admits its own families in time order while
 * Cradle's cron job (`cradle canaries advance`) writes each canary event as it falls due, so each
 * row gets the id and created time of the moment it is written.
 */
async function runClock(ctx: StoryContext, until: Date): Promise<void> {
  let last = 0;
  for (;;) {
    const { next } = await vault.upcomingEvents(ctx.vault, ctx.hospital.name, new Date(last));
    const to = next && new Date(next) <= until ? new Date(next) : until;
    last = to.getTime();
    await ctx.admissions.admitUntil(to);
    await advanceCanaries(ctx.vault, ctx.target, { hospital: ctx.hospital, mapping: ctx.mapping, until: to, simulated: true });
    if (to >= until) return;
  }
}

/** Plant four weekly rotations and send each week's births to the five recipients. */
async function plantAndExport(ctx: StoryContext): Promise<{ weeks: string[]; planted: number; exports: (ExportResult & { recipient: string; week: string })[] }> {
  const weeks: string[] = [];
  const exports: (ExportResult & { recipient: string; week: string })[] = [];
  let planted = 0;
  const exportDir = path.join(ctx.dir, 'exports');
  fs.mkdirSync(exportDir, { recursive: true });
  for (let k = 0; k < 4; k++) {
    // Two days before each week's mark: a rotation's births fall from 30 hours to 8¼ days after it
    // runs, so the last week's canaries are all admitted and born before the demo's present.
    const at = new Date(ctx.now.getTime() - (4 - k) * 7 * DAY_MS - 2 * DAY_MS);
    const week = isoWeekOf(at, ctx.hospital.timeZone);
    await runClock(ctx, at);
    const res = await rotate(ctx.vault, ctx.target, { hospital: ctx.hospital, mapping: ctx.mapping, week, now: at, seed: `${ctx.seed}:${week}` });
    planted += res.plantedNow.reduce((n, p) => n + p.canaries.length, 0);
    weeks.push(week);
    const exportAt = new Date(at.getTime() + 2 * DAY_MS);
    // The rotation only scheduled its canaries: the cron job's `canaries advance` writes each
    // admission, birth and discharge as the (simulated) clock reaches it.
    await runClock(ctx, exportAt);
    const day = (t: number) => new Date(t + 8 * 3_600_000).toISOString().slice(0, 10);
    for (const recipient of DEMO_RECIPIENTS) {
      const res = await runExport(ctx.vault, ctx.target, {
        hospital: ctx.hospital,
        mapping: ctx.mapping,
        channel: { kind: 'export', name: recipient },
        out: path.join(exportDir, `${week}-${recipient}.csv`),
        force: true,
        params: [],
        columnFields: {},
        from: day(exportAt.getTime() - 9 * DAY_MS),
        to: day(exportAt.getTime() - DAY_MS),
        canaries: 3,
        operator: `c${String(81 + DEMO_RECIPIENTS.indexOf(recipient)).padStart(4, '0')}`,
        now: exportAt,
        seed: `${ctx.seed}:${week}:${recipient}`,
      });
      exports.push({ ...res, recipient, week });
    }
  }
  await runClock(ctx, ctx.now);
  await ctx.admissions.admitUntil(new Date(8.64e15));
  return { weeks, planted, exports };
}

/** A month of the records system's access log, with one nosy nurse, imported like any audit log. */
async function importStaffLog(ctx: StoryContext): Promise<StoryResult['accessLog']> {
  const rng = createRandom(`${ctx.seed}:staff`);
  const from = new Date(ctx.now.getTime() - 30 * DAY_MS);
  const { rows } = await ctx.target.query<{ birth_id: number; ward: string; birth_time: Date }>(`SELECT birth_id, ward, birth_time FROM births WHERE birth_time >= $1`, [new Date(from.getTime() - 5 * DAY_MS).toISOString()]);
  const canaries = (await vault.listCanaries(ctx.vault, { hospital: ctx.hospital.name })).filter((c) => c.target_keys?.birth);
  const keyOf = new Set(canaries.map((c) => String(c.target_keys!.birth.birth_id)));
  const births: BirthRecord[] = rows.filter((r) => !keyOf.has(String(r.birth_id))).map((r) => ({ key: String(r.birth_id), ward: r.ward, at: new Date(r.birth_time) }));
  const canaryRecords: BirthRecord[] = canaries.map((c) => ({ key: String(c.target_keys!.birth.birth_id), ward: c.ward, at: c.planted_at ?? c.created_at }));
  const accounts = staffAccounts(rng, ctx.hospital.wards);
  const curious = { account: accounts[7].id, canary: canaryRecords[canaryRecords.length - 1], at: new Date(ctx.now.getTime() - 2 * DAY_MS) };
  const csv = accessLogCsv(rng, { accounts, from, to: ctx.now, births, canaries: canaryRecords, curious });
  const file = path.join(ctx.dir, 'logs', 'his-access.csv');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  await writeOutFile(file, (f) => f.write(csv), { force: true });
  const res = await importAccessLog(ctx.vault, file, {
    hospital: ctx.hospital.name,
    format: 'csv',
    timeZone: ctx.hospital.timeZone,
    map: parseMapOption(ACCESS_LOG_MAP),
    recordKey: { alias: 'birth', table: 'births', column: 'birth_id' },
    alertChannels: [],
  });
  return { file, lines: res.lines, tripwires: res.tripwires };
}

/** What a broker sells on: a third of the leaked export's rows, retyped into a spreadsheet. */
async function seizedSpreadsheet(ctx: StoryContext, leaked: ExportResult): Promise<string> {
  const rng = createRandom(`${ctx.seed}:broker`);
  const [header, ...rows] = fs.readFileSync(leaked.file, 'utf8').trimEnd().split(/\r?\n/).map((l) => l.split(','));
  const wanted: Record<string, string> = { mother_name: '母亲姓名', mother_phone: '联系电话', baby_name: '宝宝姓名', birth_time: '出生时间', district: '区', address: '住址' };
  const columns = header.map((h, i) => [h, i] as const).filter(([h]) => wanted[h]);
  const third = rows.filter(() => rng.chance(1 / 3));
  // Make sure the sample carries the leaked file's own canaries' rows, as a real third would by chance.
  for (const c of leaked.canaries) if (!third.includes(rows[c.row - 1])) third.push(rows[c.row - 1]);
  const { default: ExcelJS } = await import('exceljs');
  const book = new ExcelJS.Workbook();
  const sheet = book.addWorksheet('宝宝名单');
  sheet.addRow(columns.map(([h]) => wanted[h]));
  for (const r of third) sheet.addRow(columns.map(([, i]) => r[i] ?? ''));
  const file = path.join(ctx.dir, 'seized', '新生儿名单-11月.xlsx');
  fs.mkdirSync(path.dirname(file), { recursive: true });
  const xlsx = Buffer.from(await book.xlsx.writeBuffer());
  await writeOutFile(file, (f) => f.write(xlsx), { force: true });
  return file;
}

/** Scammers' texts and calls as Twilio delivers them: signed webhooks to the real `watch` server. */
async function deliverThroughWatch(ctx: StoryContext, contacts: readonly ScamContact[], mail: { to: string; name: string } | null): Promise<void> {
  const watch = await startWatch(ctx.vault, { host: '127.0.0.1', port: 0, secrets: { twilioAuthToken: DEMO_TWILIO_TOKEN }, smtpPort: mail ? 0 : undefined, log: () => undefined });
  try {
    let sid = 0;
    for (const c of contacts) {
      const route = c.kind === 'sms' ? '/webhooks/twilio/sms' : '/webhooks/twilio/voice';
      const id = `${c.kind === 'sms' ? 'SM' : 'CA'}${String(++sid).padStart(32, '0')}`;
      const params: [string, string][] =
        c.kind === 'sms'
          ? [['MessageSid', id], ['AccountSid', 'ACdemo'], ['From', c.from], ['To', c.to], ['Body', c.body ?? ''], ['NumMedia', '0']]
          : [['CallSid', id], ['AccountSid', 'ACdemo'], ['From', c.from], ['To', c.to], ['CallStatus', 'ringing'], ['Direction', 'inbound']];
      const url = `${watch.url}${route}`;
      const res = await fetch(url, {
        method: 'POST',
        headers: { 'content-type': 'application/x-www-form-urlencoded', 'x-twilio-signature': twilioSignature(DEMO_TWILIO_TOKEN, url, params) },
        body: new URLSearchParams(params).toString(),
      });
      if (!res.ok) throw new Error(`the watch server answered ${res.status} to a signed ${c.kind}`);
      await res.arrayBuffer();
    }
    if (mail) {
      const { default: nodemailer } = await import('nodemailer'); // loaded only when the demo sends its mail
      const transport = nodemailer.createTransport({ host: '127.0.0.1', port: watch.smtpPort!, secure: false, ignoreTLS: true });
      await transport.sendMail({
        from: '"新生儿摄影" <vip@baby-photo.example>',
        to: mail.to,
        subject: '恭喜宝宝出生，免费写真预约',
        text: `${mail.name}您好：恭喜您喜得贵子！本院合作影楼为新生儿提供免费写真，请回复预约。`,
        messageId: `<demo-${ctx.seed}@baby-photo.example>`,
      });
      transport.close();
    }
  } finally {
    await watch.close();
  }
}

export async function playStory(ctx: StoryContext): Promise<StoryResult> {
  ctx.say('four weekly rotations and weekly exports', 'each Monday new canary families are planted in every ward; each Wednesday the week\'s births go to five recipients, each file with 3 canaries of its own');
  const { weeks, planted, exports } = await plantAndExport(ctx);
  ctx.say(`planted ${planted} canaries in ${weeks.join(', ')}; wrote ${exports.length} export files`);

  ctx.say('a month of staff access logs', '100 accounts open records; ward clerks print ward lists (canaries on them are exposures); one nurse opens a canary on its own: a tripwire');
  const accessLog = await importStaffLog(ctx);
  ctx.say(`imported ${accessLog.lines.toLocaleString('en')} log lines; ${accessLog.tripwires} touched canary records`);

  const leaked = exports.find((x) => x.recipient === DEMO_LEAKER && x.week === weeks[DEMO_LEAKED_WEEK])!;
  ctx.say(`the leak: ${DEMO_LEAKER}'s export of ${leaked.week} is sold`, 'a broker retypes a third of it into a spreadsheet; scammers start calling the families on it');
  const seizedFile = await seizedSpreadsheet(ctx, leaked);
  const inFile = await vault.canariesInExport(ctx.vault, leaked.id);
  const rng = createRandom(`${ctx.seed}:scam`);
  const targets = [...inFile.filter((c) => c.own), ...inFile.filter((c) => !c.own).slice(0, 2)].filter((c) => c.family.mother.phone);
  const scam = scamContacts(rng, targets.map((c) => ({ phone: c.family.mother.phone!, name: c.family.mother.name.full })));
  const trapNumbers = (await vault.listTrapNumbers(ctx.vault, { hospital: ctx.hospital.name })).map((t) => t.e164);
  const noise = robocalls(rng, trapNumbers, DEMO_DIALERS, DEMO_DIALER_CALLS);
  let mailTarget: (typeof inFile)[number] | undefined;
  // The studio mails a family it also texts when it can (the same list, the same campaign), else any on the list.
  for (const c of [...targets, ...inFile]) if (!mailTarget && c.family.mother.email && (await vault.isTrapDomain(ctx.vault, vault.domainOf(c.family.mother.email), ctx.hospital.name))) mailTarget = c;
  // Canaries carry e-mail as often as real patients on the trap provider do, so a file may hold none to mail.
  ctx.say(`${scam.length} scam texts and calls and ${noise.length} robocalls (${DEMO_DIALERS} robodialers walking ${DEMO_DIALER_CALLS} numbers of the pool each) arrive as signed Twilio webhooks; ${mailTarget ? 'one e-mail reaches a trap mailbox' : 'no canary in the file carries an e-mail, so no mail is sent'}`);
  await deliverThroughWatch(ctx, [...scam, ...noise], mailTarget ? { to: mailTarget.family.mother.email!, name: mailTarget.family.mother.name.full } : null);

  ctx.say('triage', 'each contact goes to the canary that held the trap at the time and is scored; hits at or above 0.5 are grouped into incidents, the robodialers\' (numbers no canary held, no names) stay below it');
  const triage = await triagePending(ctx.vault, { alertChannels: [] });
  const incidents = (await vault.listIncidents(ctx.vault)).filter((i) => i.source === 'hits');
  const hitsIncident = incidents.sort((a, b) => b.canaries - a.canaries)[0];
  ctx.say(`${triage.hits.length} hits, ${triage.ignored.length} contacts ignored; incident ${hitsIncident.id} groups ${hitsIncident.hits} hits on ${hitsIncident.canaries} canaries`);

  ctx.say('scan the seized spreadsheet', 'the police hand over the broker\'s file; Cradle finds the canaries in it whatever the columns are called');
  const scan = await runScan(ctx.vault, [seizedFile]);
  ctx.say(`found ${new Set(scan.matches.map((m) => m.canaryId)).size} canaries in ${path.basename(seizedFile)}; incident ${scan.incidentId}`);

  ctx.say('trace', 'every channel that saw those canaries is a suspect; the model weighs which explains them best');
  const hitsTrace = await traceIncident(ctx.vault, hitsIncident.id);
  const scanTrace = await traceIncident(ctx.vault, scan.incidentId!);

  ctx.say('reports', 'the incident report an investigator hands on (English and Chinese) and the audit report of the month, recorded in the evidence ledger');
  const reportDir = path.join(ctx.dir, 'reports');
  fs.mkdirSync(reportDir, { recursive: true });
  const reports: string[] = [];
  for (const [lang, suffix] of [['en', ''], ['zh-CN', '.zh-CN']] as const) {
    const out = path.join(reportDir, `incident-${hitsIncident.id}${suffix}.html`);
    await writeIncidentReport(ctx.vault, hitsIncident.id, { format: 'html', out, force: true, lang, command: `cradle report ${hitsIncident.id} --out ${path.relative(ctx.dir, out)}${lang === 'en' ? '' : ' --lang zh-CN'}` });
    reports.push(out);
  }
  // The audit covers the four rotation weeks up to today, as days in the hospital's zone.
  const day = (t: number) => new Intl.DateTimeFormat('en-CA', { timeZone: ctx.hospital.timeZone }).format(new Date(t));
  const audit = path.join(reportDir, 'audit.html');
  const [from, to] = [day(ctx.now.getTime() - 4 * 7 * DAY_MS), day(ctx.now.getTime())];
  await writeAuditReport(ctx.vault, ctx.config, { from, to, format: 'html', out: audit, force: true, lang: 'en', command: `cradle audit --from ${from} --to ${to} --out ${path.relative(ctx.dir, audit)}`, now: ctx.now });
  reports.push(audit);
  return {
    reports,
    weeks,
    canariesPlanted: planted,
    exports: exports.length,
    leaked,
    seizedFile,
    accessLog,
    contacts: { scam: scam.length, robocalls: noise.length, mail: mailTarget ? 1 : 0 },
    hits: triage.hits.length,
    hitsIncident: hitsIncident.id,
    scanIncident: scan.incidentId!,
    hitsTrace,
    scanTrace,
  };
}
