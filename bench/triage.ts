import crypto from 'node:crypto';
import os from 'node:os';
import pg from 'pg';
import { customAlphabet } from 'nanoid';
import { migrate, openDatabase, type Database } from '../src/db/index.js';
import { randomMobile } from '../src/demo/setup.js';
import type { Family } from '../src/domain/index.js';
import { createRandom, generateFamilies, type Random } from '../src/lib/generate/index.js';
import { redact } from '../src/lib/redact.js';
import { verifyVault } from '../src/ledger/verify.js';
import { triagePending } from '../src/triage/triage.js';
import { sealRows } from '../src/vault/index.js';
import { TRIAGE_LIMIT } from '../src/workflows/triage-and-alert.js';
import { parseArgs, UsageError } from './args.js';
import { backendCpu, cpuSince, fmtInt, groupByStatement, instrument, textTable, type Timed } from './instrument.js';

// `npm run bench:triage`: how many contacts per second triage takes on PostgreSQL, against how many
// the webhook intake can store, measured in the same run.
//
//   node dist/bench/triage.js [--contacts 20000] [--canaries 10000] [--flood 0] [--profile] [--verify]
//   server: CRADLE_BENCH_DATABASE_URL (default postgres://postgres@127.0.0.1:5432/test); its database is created and dropped.
//
// 1. A vault with C canaries (generated families, their parents' mobiles as trap numbers assigned 60
//    days ago), written with COPY.
// 2. Intake reference: the N contacts of a flood stored by 32 concurrent workers on a pg pool of 10,
//    each a single INSERT of the contact (the bare webhook server's statement with every column filled,
//    as recordContact writes it): the rate the vault can take contacts in.
// 3. Triage: triagePending as `cradle watch` calls it (its limit per call, alerts queued on one
//    channel), repeated until nothing is left: contacts/s, CPU-seconds of node and of the
//    PostgreSQL backends (from /proc, when the server runs on this machine).
// 4. --flood M: M more contacts stored at full intake speed while a loop triages them as `cradle
//    watch` does (likely hits first, rounds back to back while full). Prints the latency from a
//    contact's INSERT to its alert-outbox row seen committed (polled every 50 ms): the first alerted
//    contact of the flood's, and all; and how long after the last arrival the backlog was empty.

const USAGE = 'usage: node dist/bench/triage.js [--contacts N] [--canaries C] [--flood M] [--profile] [--verify]';
const suffix = customAlphabet('abcdefghijklmnopqrstuvwxyz0123456789', 8);
const HOSPITAL = 'h1';
const DAY_MS = 86_400_000;

interface Flags { contacts: number; canaries: number; flood: number; profile: boolean; verify: boolean }

interface BenchContact { providerId: string; kind: 'sms' | 'call'; from: string; to: string; occurredAt: Date; body: string | null; raw: Buffer }

const SPAM_ZH = [
  '【月子中心】恭喜您喜得贵子！本月入住立减3000元，详询400-800-1234，回T退订',
  '您好，宝宝满月写真免费拍摄名额仅剩3个，点击 t.cn/A6xYz 领取',
  '【奶粉试用】新生儿配方奶粉免费试用装已为您预留，回复1领取，回T退订',
  '早教中心开业大酬宾，0-3岁宝宝免费体验课，地址：鼓楼区中山路88号',
  '这里是母婴用品回访中心，您有一份新生儿礼包待领取，请按1',
];
const SPAM_EN = [
  'Congratulations on your new arrival! Claim your free newborn photo shoot today: http://photo.example/x',
  'Your baby insurance quote is ready. Reply YES to receive it, STOP to opt out.',
  'FREE formula samples for new parents - reply STOP to opt out',
];

async function admin(serverUrl: string, sql: string): Promise<void> {
  const c = new pg.Client({ connectionString: serverUrl });
  await c.connect();
  try {
    await c.query(sql);
  } finally {
    await c.end();
  }
}

/** Canaries, trap numbers and assignments by COPY; returns the families and every trap number. */
async function buildVault(db: Database, count: number, now: Date): Promise<{ families: Family[]; traps: Set<string> }> {
  const rng = createRandom('bench:triage:families');
  const phones = new Set<string>();
  const phone = () => {
    let p = randomMobile(rng);
    while (phones.has(p)) p = randomMobile(rng);
    phones.add(p);
    return p;
  };
  // In chunks of 1,000, each with its own index of taken names: the generator keeps names more than one
  // edit apart, which a single index of 10,000 zh-CN names cannot always do.
  const families: Family[] = [];
  for (let left = count; left > 0; left -= 1000) {
    families.push(...generateFamilies(rng, {
      locale: 'zh-CN', hospital: HOSPITAL, ward: '产科一病区', districts: ['鼓楼区', '玄武区', '秦淮区'], timeZone: 'Asia/Shanghai',
      birthFrom: new Date(now.getTime() - 90 * DAY_MS), birthTo: new Date(now.getTime() - 61 * DAY_MS), phone, emailDomain: () => null, now,
    }, Math.min(1000, left)));
  }
  const added = new Date(now.getTime() - 120 * DAY_MS).toISOString();
  const assigned = new Date(now.getTime() - 60 * DAY_MS).toISOString();
  await db.query(`INSERT INTO hospitals (name, locale) VALUES ($1, 'zh-CN')`, [HOSPITAL]);
  await db.query(`INSERT INTO seed_batches (id, hospital, channels, state, requested) VALUES ('bench', $1, '[]', 'planted', $2)`, [HOSPITAL, count]);
  const ids = families.map((_, i) => `bench${String(i).padStart(6, '0')}`);
  await db.copyFrom('canaries', ['id', 'hospital', 'batch_id', 'status', 'iso_week', 'ward', 'family', 'mother_name', 'father_name', 'mother_phone', 'father_phone', 'created_at', 'planted_at'],
    families.map((f, i) => [ids[i], HOSPITAL, 'bench', 'planted', '2026-W40', '产科一病区', JSON.stringify(f), f.mother.name, f.father?.name ?? null, f.mother.phone ?? null, f.father?.phone ?? null, assigned, assigned]));
  const traps: [string, string, 'mother' | 'father'][] = [];
  families.forEach((f, i) => {
    if (f.mother.phone) traps.push([f.mother.phone, ids[i], 'mother']);
    if (f.father?.phone) traps.push([f.father.phone, ids[i], 'father']);
  });
  await db.copyFrom('trap_numbers', ['id', 'e164', 'region', 'hospital', 'state', 'added_at'], traps.map(([e164], i) => [i + 1, e164, 'CN', HOSPITAL, 'assigned', added]));
  await db.query(`SELECT setval('trap_numbers_id_seq', $1)`, [traps.length]);
  await db.copyFrom('trap_assignments', ['trap_number_id', 'canary_id', 'role', 'assigned_at'], traps.map(([, id, role], i) => [i + 1, id, role, assigned]));
  // Sealed as planting seals them, so `--verify` checks the triage's entries against a clean vault.
  await db.transaction((tx) => sealRows(tx, 'canaries', ids, { actor: 'bench' }));
  await db.exec('ANALYZE');
  return { families, traps: new Set(traps.map(([e164]) => e164)) };
}

/** A flood: robocalls and spam from 300 dialers to trap and other numbers; some name a family, some its baby's birth date. */
function floodContacts(rng: Random, families: Family[], traps: Set<string>, n: number, start: Date, tag: string): BenchContact[] {
  const dialers = Array.from({ length: 300 }, () => randomMobile(rng));
  const withPhone = families.filter((f) => f.mother.phone);
  const nonTrap = () => {
    let p = randomMobile(rng);
    while (traps.has(p)) p = randomMobile(rng);
    return p;
  };
  const out: BenchContact[] = [];
  for (let i = 0; i < n; i++) {
    const r = rng.next();
    const occurredAt = new Date(start.getTime() + i * 20);
    let c: Omit<BenchContact, 'raw' | 'providerId'>;
    if (r < 0.9) {
      // A dialer: a silent robocall, or a spam text in Chinese or English, to a trap or to any number.
      const call = rng.chance(0.4);
      c = { kind: call ? 'call' : 'sms', from: rng.pick(dialers), to: r < 0.6 ? nonTrap() : rng.pick(withPhone).mother.phone!, occurredAt, body: call ? null : rng.chance(0.75) ? rng.pick(SPAM_ZH) : rng.pick(SPAM_EN) };
    } else {
      // A stranger who has the list: names the mother; a third also give the baby's birth date.
      const f = rng.pick(withPhone);
      const d = new Date(Date.parse(f.baby.birthTime) + 8 * 3_600_000);
      const date = `${d.getUTCFullYear()}年${d.getUTCMonth() + 1}月${d.getUTCDate()}日`;
      const body = r < 0.93
        ? `${f.mother.name}您好，您家宝宝${date}出生，新生儿医保补贴需核对信息，请添加微信 bb${rng.int(1000, 9999)}`
        : rng.chance(0.7)
          ? `${f.mother.name}女士您好，我是宝宝摄影的小李，给宝宝拍百天照有优惠，请问方便吗？`
          : `Dear ${f.mother.name}, congratulations on your baby! Reply to book a free newborn photo session.`;
      c = { kind: 'sms', from: randomMobile(rng), to: f.mother.phone!, occurredAt, body };
    }
    const providerId = `SM${tag}${i.toString(36).padStart(8, '0')}`;
    out.push({ ...c, providerId, raw: Buffer.from(new URLSearchParams({ MessageSid: providerId, From: c.from, To: c.to, Body: c.body ?? '' }).toString()) });
  }
  return out;
}

const INSERT = `INSERT INTO contact_events (source, provider_id, kind, from_address, to_address, occurred_at, body, remote_addr, headers, raw, sha256)
  VALUES ('twilio-sms', $1, $2, $3, $4, $5, $6, '127.0.0.1', '{}', $7, $8) ON CONFLICT (source, provider_id) DO NOTHING`;
const params = (c: BenchContact) => [c.providerId, c.kind, c.from, c.to, c.occurredAt.toISOString(), c.body, c.raw, crypto.createHash('sha256').update(c.raw).digest('hex')];

/** Store the contacts with 32 concurrent workers on a pool of 10 connections; `each` after each INSERT. */
async function store(pool: pg.Pool, contacts: readonly BenchContact[], each?: (c: BenchContact) => void): Promise<void> {
  let next = 0;
  await Promise.all(Array.from({ length: 32 }, async () => {
    while (next < contacts.length) {
      const c = contacts[next++];
      await pool.query(INSERT, params(c));
      each?.(c);
    }
  }));
}

interface Phase { seconds: number; node: number; pg: number | null }

async function measure(pool: pg.Pool, name: string, fn: () => Promise<void>): Promise<Phase> {
  const [pg0, cpu0, t0] = [await backendCpu(pool, name), process.cpuUsage(), performance.now()];
  await fn();
  const cpu = process.cpuUsage(cpu0);
  const seconds = (performance.now() - t0) / 1000;
  return { seconds, node: (cpu.user + cpu.system) / 1e6, pg: cpuSince(pg0, await backendCpu(pool, name)) };
}

async function main(): Promise<void> {
  const flags: Flags = { contacts: 20_000, canaries: 10_000, flood: 0, profile: false, verify: false };
  parseArgs<Flags>(process.argv.slice(2), flags, { '--contacts': 'contacts', '--canaries': 'canaries', '--flood': 'flood' }, USAGE, (name): boolean => {
    if (name === '--profile') return (flags.profile = true);
    if (name === '--verify') return (flags.verify = true);
    return false;
  });
  const serverUrl = process.env.CRADLE_BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
  const name = `cradle_bench_triage_${suffix()}`;
  await admin(serverUrl, `CREATE DATABASE ${name}`);
  const dbUrl = new URL(serverUrl);
  dbUrl.pathname = `/${name}`;
  const pool = new pg.Pool({ connectionString: dbUrl.toString(), max: 10 });
  let raw: Database | null = null;
  try {
    raw = await openDatabase(dbUrl.toString(), { role: 'vault', create: true });
    await migrate(raw);
    const log: Timed[] = [];
    const db = flags.profile ? instrument(raw, 'vault', log) : raw;
    const now = new Date();
    console.log(`Cradle triage benchmark — node ${process.version}, ${os.cpus().length} × ${os.cpus()[0]?.model ?? 'cpu'}, load ${os.loadavg().map((l) => l.toFixed(1)).join(' ')}; PostgreSQL ${redact(serverUrl)}`);
    const t0 = performance.now();
    const { families, traps } = await buildVault(raw, flags.canaries, now);
    console.log(`vault: ${fmtInt(families.length)} canaries, ${fmtInt(traps.size)} trap numbers (${((performance.now() - t0) / 1000).toFixed(1)} s)`);

    const rng = createRandom('bench:triage:contacts');
    const contacts = floodContacts(rng, families, traps, flags.contacts, new Date(now.getTime() - 3_600_000), 'a');
    const intake = await measure(pool, name, () => store(pool, contacts));
    const options = { alertChannels: ['email'], actor: 'bench', limit: TRIAGE_LIMIT };
    let hits = 0, alerted = 0, calls = 0;
    const triage = await measure(pool, name, async () => {
      for (;;) {
        const r = await triagePending(db, options);
        calls++;
        hits += r.hits.length;
        alerted += r.hits.filter((h) => h.alerted).length;
        if (r.triaged === 0) break;
      }
    });
    const rate = (p: Phase) => flags.contacts / p.seconds;
    const perK = (v: number | null) => (v === null ? '-' : (v / flags.contacts * 1000).toFixed(2));
    console.log(`\n${fmtInt(flags.contacts)} contacts (a flood: 90% dialers' robocalls and spam, a third of them to traps; 10% strangers naming a family, 3% with the birth date)`);
    console.log(textTable(['phase', 'contacts/s', 'wall s', 'node CPU s', 'PG CPU s', 'node CPU s/1k', 'PG CPU s/1k'], [
      ['intake reference: INSERT, 32 workers, pool of 10', fmtInt(rate(intake)), intake.seconds.toFixed(1), intake.node.toFixed(1), intake.pg?.toFixed(1) ?? '-', perK(intake.node), perK(intake.pg)],
      [`triage (triagePending, limit ${TRIAGE_LIMIT}, ${calls} calls)`, fmtInt(rate(triage)), triage.seconds.toFixed(1), triage.node.toFixed(1), triage.pg?.toFixed(1) ?? '-', perK(triage.node), perK(triage.pg)],
    ]));
    const cpu = (p: Phase) => p.node + (p.pg ?? 0);
    console.log(`hits ${fmtInt(hits)}, alerted ${fmtInt(alerted)}; triage/intake: ${(rate(triage) / rate(intake)).toFixed(2)} by wall time, ${(cpu(intake) / cpu(triage)).toFixed(2)} by CPU (node+PG) per contact; goal ≥ 1`);
    if (flags.profile) {
      console.log('\nstatements by total time:');
      console.log(textTable(['statement', 'count', 'ms'], groupByStatement(log).slice(0, 15).map((g) => [g.label, fmtInt(g.count), fmtInt(g.ms)])));
    }
    if (flags.verify) {
      const t = performance.now();
      const report = await verifyVault(raw);
      console.log(`\ncradle verify: ${report.ok ? 'ok' : 'FAILED'} (${((performance.now() - t) / 1000).toFixed(1)} s)${report.ok ? '' : `\n${JSON.stringify(report).slice(0, 2000)}`}`);
    }

    if (flags.flood) {
      // A flood arriving at full intake speed while a watch-like loop triages every second.
      log.length = 0; // --profile: the flood's statements apart
      const more = floodContacts(createRandom('bench:triage:flood'), families, traps, flags.flood, now, 'b');
      let lastArrival = 0, drainedAt = 0, storing = true;
      const arrivedAt = new Map<string, number>();
      const alertedAt = new Map<number, number>();
      let running: Promise<void> | null = null;
      // As `cradle watch` runs it (src/cli/watch.ts): a round a second, likely hits first, rounds back to back while full.
      const watchOptions = { ...options, order: 'likely-hits' as const };
      const tick = () => {
        running ??= (async () => {
          const r = await triagePending(db, watchOptions);
          const t = performance.now();
          if (!storing && r.triaged === 0 && !drainedAt) drainedAt = t;
          return r.triaged >= TRIAGE_LIMIT;
        })().then((full) => {
          running = null;
          if (full) setImmediate(tick);
        });
      };
      const timer = setInterval(tick, 1000);
      // When each alert-outbox row becomes visible (its batch committed), polled every 50 ms.
      let lastOutbox = 0, polling = true;
      const poll = (async () => {
        while (polling) {
          const { rows } = await pool.query<{ id: string; event_id: string }>(`SELECT o.id, h.event_id FROM alert_outbox o JOIN hits h ON h.id = o.hit_id WHERE o.id > $1 ORDER BY o.id`, [lastOutbox]);
          const t = performance.now();
          for (const r of rows) {
            lastOutbox = Number(r.id);
            if (!alertedAt.has(Number(r.event_id))) alertedAt.set(Number(r.event_id), t);
          }
          await new Promise((r) => setTimeout(r, 50));
        }
      })();
      const t1 = performance.now();
      await store(pool, more, (c) => arrivedAt.set(c.providerId, performance.now()));
      lastArrival = performance.now();
      storing = false;
      while (!drainedAt) await new Promise((r) => setTimeout(r, 100));
      clearInterval(timer);
      await running;
      polling = false;
      await poll;
      // Each alerted hit's latency: from its INSERT's answer to its outbox row seen committed.
      const { rows } = await pool.query<{ id: string; provider_id: string }>(`SELECT id, provider_id FROM contact_events WHERE provider_id = ANY($1::text[])`, [more.map((c) => c.providerId)]);
      const lat = rows.flatMap((r) => (alertedAt.has(Number(r.id)) ? [{ arrived: arrivedAt.get(r.provider_id)!, ms: alertedAt.get(Number(r.id))! - arrivedAt.get(r.provider_id)! }] : []));
      const first = lat.reduce((a, b) => (b.arrived < a.arrived ? b : a), lat[0]);
      const sorted = lat.map((l) => l.ms).sort((x, y) => x - y);
      const q = (p: number) => ((sorted[Math.min(sorted.length - 1, Math.floor(p * sorted.length))] ?? NaN) / 1000).toFixed(1);
      const storedS = (lastArrival - t1) / 1000;
      console.log(`\nflood: ${fmtInt(flags.flood)} more contacts stored in ${storedS.toFixed(1)} s (${fmtInt(flags.flood / storedS)}/s) while watch's loop triaged (likely hits first, rounds of ${TRIAGE_LIMIT})`);
      console.log(`backlog empty ${((drainedAt - lastArrival) / 1000).toFixed(1)} s after the last arrival (goal < 60 s)`);
      console.log(`alerted hits: ${fmtInt(lat.length)}; first real hit of the flood alerted ${first ? (first.ms / 1000).toFixed(1) : '-'} s after its arrival (goal < 5 s); all alerted: p50 ${q(0.5)} s, p95 ${q(0.95)} s, max ${q(1)} s`);
      if (flags.profile) {
        console.log('\nflood: statements by total time:');
        console.log(textTable(['statement', 'count', 'ms'], groupByStatement(log).slice(0, 15).map((g) => [g.label, fmtInt(g.count), fmtInt(g.ms)])));
      }
    }
  } finally {
    await pool.end();
    await raw?.close();
    await admin(serverUrl, `DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
  }
}

main().then(
  () => process.exit(0),
  (err: unknown) => {
    console.error(err instanceof UsageError ? err.message : `bench failed: ${err instanceof Error ? err.stack ?? err.message : String(err)}`);
    process.exit(err instanceof UsageError ? 2 : 1);
  },
);
