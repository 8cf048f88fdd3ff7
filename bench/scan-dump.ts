import fs from 'node:fs';
import path from 'node:path';
import type { Family } from '../src/domain/index.js';
import { createRandom, generateFamily, type Random } from '../src/lib/generate/index.js';
import { DEMO_DISTRICTS, DEMO_WARDS, demoPopulation, randomMobile } from '../src/demo/setup.js';

// The scan benchmark's input: a deterministic CSV dump of zh-CN newborn rows (1 GiB, 8M+ rows by
// default) with canary families planted at fixed places, each in one of the formats a broker's
// list uses. The same seed gives the same bytes, so the file is cached next to its description.

export const DUMP_VERSION = 3;
const HEADER = '序号,母亲姓名,母亲电话,父亲姓名,父亲电话,邮箱,新生儿性别,出生时间,出生体重,病区,住址,备注\n';
const BENCH_TRAP_DOMAIN = 'mail.bench-hospital.example';

/** How a planted canary's phone (or e-mail) is written; `plain` marks what ripgrep's patterns can find. */
export const PLANT_FORMATS = [
  { name: 'plain', plain: true, write: (n: string) => n },
  { name: '+86 spaced', plain: false, write: (n: string) => `+86 ${n.slice(0, 3)} ${n.slice(3, 7)} ${n.slice(7)}` },
  { name: 'dashed', plain: false, write: (n: string) => `${n.slice(0, 3)}-${n.slice(3, 7)}-${n.slice(7)}` },
  { name: '0086 prefix', plain: true, write: (n: string) => `0086${n}` },
  { name: 'dotted', plain: false, write: (n: string) => `${n.slice(0, 3)}.${n.slice(3, 7)}.${n.slice(7)}` },
  { name: 'full-width', plain: false, write: (n: string) => [...n].map((d) => String.fromCharCode(0xff10 + Number(d))).join('') },
  { name: 'masked 138****5678 + name', plain: false, write: (n: string) => `${n.slice(0, 3)}****${n.slice(7)}` },
  { name: 'inside a remark', plain: true, write: (n: string) => n },
  { name: '+86 joined', plain: true, write: (n: string) => `+86${n}` },
  { name: 'e-mail only', plain: false, write: () => '' },
] as const;

export interface PlantedCanary {
  id: string;
  family: Family;
  /** 1-based line of the dump (the header is line 1). */
  line: number;
  format: string;
}

export interface DumpDescription {
  version: number;
  seed: number;
  bytes: number;
  rows: number;
  canaries: PlantedCanary[];
  /** The canaries' phones as plain national digits: ripgrep's patterns. */
  patterns: string[];
}

const national = (e164: string) => e164.replace(/^\+86/, '');

function cell(value: string): string {
  return /[",\n]/.test(value) ? `"${value.replace(/"/g, '""')}"` : value;
}

const pad2 = (n: number) => (n < 10 ? `0${n}` : String(n));

/** Local time in Asia/Shanghai (UTC+8, no DST) as yyyy-MM-dd HH:mm. */
function shanghaiTime(iso: string): string {
  const d = new Date(Date.parse(iso) + 8 * 3_600_000);
  return `${d.getUTCFullYear()}-${pad2(d.getUTCMonth() + 1)}-${pad2(d.getUTCDate())} ${pad2(d.getUTCHours())}:${pad2(d.getUTCMinutes())}`;
}

function row(n: number, f: Family, phoneText: (e164: string | null) => string, email: string, remark: string): string {
  return [
    String(n),
    f.mother.name.full,
    phoneText(f.mother.phone),
    f.father?.name.full ?? '',
    phoneText(f.father?.phone ?? null),
    email,
    f.baby.sex === 'male' ? '男' : '女',
    shanghaiTime(f.baby.birthTime),
    String(f.baby.weightGrams),
    f.ward,
    f.address.full,
    remark,
  ].map(cell).join(',') + '\n';
}

/** 10,000 canary families with unique trap phones and an e-mail on the trap domain. */
function canaryFamilies(rng: Random, count: number, now: Date): Family[] {
  const phones = new Set<string>();
  const uniquePhone = () => {
    for (;;) {
      const p = randomMobile(rng);
      if (!phones.has(p)) return phones.add(p), p;
    }
  };
  const families: Family[] = [];
  const emails = new Set<string>();
  while (families.length < count) {
    const family = generateFamily(rng, {
      locale: 'zh-CN',
      hospital: '南京市示例妇幼保健院',
      ward: rng.pick(DEMO_WARDS),
      districts: DEMO_DISTRICTS,
      timeZone: 'Asia/Shanghai',
      birthFrom: new Date(now.getTime() - 365 * 86_400_000),
      birthTo: now,
      phone: uniquePhone,
      emailDomain: () => BENCH_TRAP_DOMAIN,
      now,
    });
    // Every canary has an address on the trap domain, for the e-mail-only rows; the vault keeps them unique.
    const email = family.mother.email ?? `${family.mother.name.latin.replace(/\s+/g, '').toLowerCase()}${families.length}@${BENCH_TRAP_DOMAIN}`;
    if (emails.has(email)) continue;
    emails.add(email);
    family.mother.email = email;
    families.push(family);
  }
  return families;
}

/**
 * Write the dump (or reuse the cached one with the same description) and return its description.
 * Progress goes to stderr.
 */
export async function ensureDump(dir: string, opts: { bytes: number; minRows: number; canaries: number; seed: number }): Promise<{ file: string; description: DumpDescription }> {
  fs.mkdirSync(dir, { recursive: true });
  const stem = `scan-dump-v${DUMP_VERSION}-s${opts.seed}-${opts.bytes}-${opts.minRows}-${opts.canaries}`;
  const file = path.join(dir, `${stem}.csv`);
  const describedAt = path.join(dir, `${stem}.json`);
  if (fs.existsSync(file) && fs.existsSync(describedAt)) {
    const description = JSON.parse(fs.readFileSync(describedAt, 'utf8')) as DumpDescription;
    if (fs.statSync(file).size === description.bytes) return { file, description };
  }

  const now = new Date('2026-11-28T00:00:00Z');
  const rng = createRandom(opts.seed);
  const canaries = canaryFamilies(rng, opts.canaries, now);
  const canaryPhones = new Set(canaries.flatMap((f) => [f.mother.phone, f.father?.phone].filter((p): p is string => !!p)));
  // Real rows recombine a pool of generated families with fresh phone numbers: the generator's
  // distributions at a fraction of its cost per row.
  const pool = [...demoPopulation(createRandom(opts.seed + 1), 50_000, now)];
  const realPhone = () => {
    for (;;) {
      const p = randomMobile(rng);
      if (!canaryPhones.has(p)) return p;
    }
  };

  const estimatedRows = Math.max(opts.minRows, Math.ceil(opts.bytes / 128));
  const every = Math.max(1, Math.floor(estimatedRows / (opts.canaries + 1)));
  const planted: PlantedCanary[] = [];
  const tmp = `${file}.tmp`;
  const out = fs.openSync(tmp, 'w');
  let buffered: string[] = [HEADER];
  let bufferedBytes = Buffer.byteLength(HEADER);
  let written = 0;
  let rows = 0;
  const flush = () => {
    const b = Buffer.from(buffered.join(''));
    fs.writeSync(out, b);
    written += b.length;
    buffered = [];
    bufferedBytes = 0;
  };
  try {
    while (written + bufferedBytes < opts.bytes || rows < opts.minRows || planted.length < canaries.length) {
      rows++;
      let text: string;
      if (rows % every === 0 && planted.length < canaries.length) {
        const f = canaries[planted.length];
        const format = PLANT_FORMATS[planted.length % PLANT_FORMATS.length];
        const phoneText = (p: string | null) => (p && format.name !== 'inside a remark' ? format.write(national(p)) : '');
        const remark = format.name === 'inside a remark' ? `家属称请致电${national(f.mother.phone!)}联系` : '';
        text = row(rows, f, phoneText, f.mother.email ?? '', remark);
        planted.push({ id: `bench${String(planted.length).padStart(5, '0')}`, family: f, line: rows + 1, format: format.name });
      } else {
        const base = pool[rng.int(0, pool.length - 1)];
        const other = pool[rng.int(0, pool.length - 1)];
        const f: Family = { ...base, mother: { ...base.mother, name: other.mother.name, phone: realPhone() }, father: base.father && { ...base.father, phone: rng.chance(0.8) ? realPhone() : null } };
        text = row(rows, f, (p) => (p ? national(p) : ''), rng.chance(0.2) ? base.mother.email ?? '' : '', '');
      }
      buffered.push(text);
      bufferedBytes += Buffer.byteLength(text);
      if (buffered.length >= 20_000) {
        flush();
        if (rows % 1_000_000 < 20_000) process.stderr.write(`[bench] dump: ${(written / 2 ** 20).toFixed(0)} MiB, ${rows.toLocaleString('en')} rows\n`);
      }
    }
    flush();
  } finally {
    fs.closeSync(out);
  }
  fs.renameSync(tmp, file);
  const patterns = [...canaryPhones].map(national).sort();
  const description: DumpDescription = { version: DUMP_VERSION, seed: opts.seed, bytes: written, rows, canaries: planted, patterns };
  fs.writeFileSync(describedAt, JSON.stringify(description));
  return { file, description };
}
