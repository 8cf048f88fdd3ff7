import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { createRequire } from 'node:module';
import { afterAll, beforeAll, describe, expect, it } from '@jest/globals';
import { migrate, openDatabase, type Database } from '../../src/db/index.js';
import type { Family } from '../../src/domain/index.js';
import { DEMO_DISTRICTS } from '../../src/demo/setup.js';
import { createRandom, generateFamily } from '../../src/lib/generate/index.js';
import { isAscii, isUtf8 } from 'node:buffer';
import { ChunkMatcher, hasUtf8Line, matchDeferred } from '../../src/scan/chunk.js';
import { CHUNK_BYTES, scanChunked } from '../../src/scan/chunked.js';
import { inThread, startWorkers, type ChunkEngine } from '../../src/scan/workers.js';
import { CanaryMatcher } from '../../src/lib/match/matcher.js';
import { collectGarbage, runScan, startScan, type ScanResult } from '../../src/scan/scan.js';
import * as vault from '../../src/vault/index.js';
import { embeddedCopy, scratchDir } from '../helpers/db.js';

// Large files are read in chunks of whole lines and matched on worker threads; the answer must be
// the same as on one thread, line numbers included, whatever the encoding, line ends or line lengths.

const require = createRequire(import.meta.url);
const iconv = require('iconv-lite') as typeof import('iconv-lite');

function families(): Family[] {
  const rng = createRandom('parallel');
  let next = 0;
  return [0, 1, 2, 3].map(() =>
    generateFamily(rng, {
      locale: 'zh-CN', hospital: '示例医院', ward: '产科一病区', districts: DEMO_DISTRICTS, timeZone: 'Asia/Shanghai',
      birthFrom: new Date('2026-10-01T00:00:00Z'), birthTo: new Date('2026-11-01T00:00:00Z'),
      phone: () => `+86139${String(12_345_678 + 7919 * next++).padStart(8, '0')}`, emailDomain: () => 'mail.trap.example',
    }),
  );
}

const national = (e164: string) => e164.slice(3);

describe('scanning large files in chunks on worker threads', () => {
  let db: Database;
  let dir: string;
  let fams: Family[];
  beforeAll(async () => {
    const location = embeddedCopy('parallel', 'vault');
    db = await openDatabase(location, { role: 'vault', create: true });
    await migrate(db);
    await vault.ensureHospital(db, 'h', 'zh-CN');
    fams = families();
    const canaries = fams.map((family, i) => ({ id: `can${i}`, family, isoWeek: '2026-W45' }));
    await vault.recordBatchIntent(db, { id: 'b1', hospital: 'h', rotationId: null, ward: null, channels: [] }, canaries);
    await vault.markBatchPlanted(db, 'b1', new Map(canaries.map((c) => [c.id, {}])), new Date());
    dir = scratchDir('parallel');
  });
  afterAll(async () => db?.close());

  /** About `lines` lines of filler with the canaries at known lines, in several formats. */
  function dump(lines: number, eol: string): { text: string; expected: Map<number, string> } {
    const rng = createRandom('filler');
    const out = ['序号,姓名,电话,备注'];
    const expected = new Map<number, string>();
    const places = [7, Math.floor(lines / 3), Math.floor(lines / 2) + 1, lines - 2];
    for (let n = 2; n <= lines; n++) {
      const k = places.indexOf(n);
      if (k >= 0) {
        const f = fams[k];
        const p = national(f.mother.phone!);
        const shown = [p, `+86 ${p.slice(0, 3)} ${p.slice(3, 7)} ${p.slice(7)}`, `${p.slice(0, 3)}****${p.slice(7)}`, [...p].map((d) => String.fromCharCode(0xff10 + Number(d))).join('')][k];
        out.push(`${n},${f.mother.name.full},${shown},`);
        expected.set(n, `can${k}`);
      } else {
        out.push(`${n},王${'丽华秀英'[rng.int(0, 3)]}${'芳敏静'[rng.int(0, 2)]},13${rng.int(100000000, 999999999)},备注${rng.int(1, 99)}`);
      }
    }
    return { text: out.join(eol) + eol, expected };
  }

  const found = (r: ScanResult) => new Map(r.matches.map((m) => [Number(m.place.replace('line ', '')), m.canaryId]));

  it('finds the same canaries on the same lines on one thread and on two, in UTF-8 with CRLF and in GBK', async () => {
    const { text, expected } = dump(120_000, '\r\n');
    const utf8 = path.join(dir, 'dump.csv');
    fs.writeFileSync(utf8, '\ufeff' + text);
    const gbk = path.join(dir, 'dump-gbk.csv');
    fs.writeFileSync(gbk, iconv.encode(text, 'gb18030'));
    expect(fs.statSync(utf8).size).toBeGreaterThan(2 * CHUNK_BYTES); // several chunks
    for (const file of [utf8, gbk]) {
      const one = await runScan(db, [file], undefined, { threads: 1 });
      const two = await runScan(db, [file], undefined, { threads: 2 });
      expect(found(one)).toEqual(expected);
      expect(found(two)).toEqual(expected);
      expect(two.files[0]).toMatchObject({ records: 120_000, sha256: one.files[0].sha256, bytes: fs.statSync(file).size, encoding: file === gbk ? 'gb18030' : 'utf-8' });
      expect(two.matches.find((m) => m.canaryId === 'can1')).toMatchObject({ column: '电话', kinds: expect.arrayContaining(['phone']) });
      expect(two.matches.find((m) => m.canaryId === 'can2')).toMatchObject({ column: '电话', kinds: expect.arrayContaining(['masked-phone', 'name']) });
    }
  });

  it('finds a phone cut by a chunk boundary inside a line longer than a chunk, and numbers the lines after it right', async () => {
    const p = national(fams[1].mother.phone!);
    const filler = 'x'.repeat(CHUNK_BYTES - 6);
    const file = path.join(dir, 'long.txt');
    fs.writeFileSync(file, `first line\n${filler}${p} ${'y'.repeat(3 * CHUNK_BYTES)}\nthird line\nphone ${national(fams[3].mother.phone!)}\n`);
    for (const threads of [1, 2]) {
      const r = await runScan(db, [file], undefined, { threads });
      expect(found(r)).toEqual(new Map([[2, 'can1'], [4, 'can3']]));
      expect(r.files[0].warnings).toEqual([expect.objectContaining({ message: expect.stringContaining('longer than') })]);
    }
  });

  it('gives the same answer with its threads started and the file hashed before the vault is read', async () => {
    const { text, expected } = dump(40_000, '\n');
    const file = path.join(dir, 'early.csv');
    fs.writeFileSync(file, text);
    const start = startScan([file], { threads: 2 });
    expect([...start.parallel]).toEqual([file]);
    expect(start.hashes).not.toBeNull();
    const early = await runScan(db, [file], undefined, { threads: 2, start });
    const one = await runScan(db, [file], undefined, { threads: 1 });
    expect(found(early)).toEqual(expected);
    expect(early.matches).toEqual(one.matches);
    expect(early.files[0]).toMatchObject({ records: 40_000, bytes: fs.statSync(file).size, sha256: crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex') });
    expect(early.files[0].warnings).toEqual([]);
  });

  it('takes the hash from the other thread, warns when it is not of the bytes scanned, and hashes here when it failed', async () => {
    const file = path.join(dir, 'hashed.csv');
    fs.writeFileSync(file, 'a,b\n1,2\n');
    const engine = inThread(new ChunkMatcher(new CanaryMatcher([]), [], false));
    const run = async (hash: Awaited<Parameters<typeof scanChunked>[4]['hash']>) => {
      const facts = { file, bytes: 0, sha256: '', format: 'csv', encoding: '' };
      const warnings: string[] = [];
      await scanChunked(file, 'csv', facts, (w) => warnings.push(w.message), { engine, inFlight: 1, onChunk: () => undefined, hash: Promise.resolve(hash!) });
      return { facts, warnings };
    };
    const real = crypto.createHash('sha256').update(fs.readFileSync(file)).digest('hex');
    expect(await run({ bytes: 8, sha256: 'beside' })).toEqual({ facts: expect.objectContaining({ bytes: 8, sha256: 'beside' }), warnings: [] });
    expect((await run({ bytes: 9, sha256: 'beside' })).warnings).toEqual([expect.stringContaining('changed while it was read')]);
    expect(await run({ error: 'EIO' })).toEqual({ facts: expect.objectContaining({ bytes: 8, sha256: real }), warnings: [] });
  });

  it('reads a file of many chunks into at most inFlight + 1 buffers, given back by the threads and read into again', async () => {
    const file = path.join(dir, 'many-chunks.csv');
    const line = '12345,某某某,13800000000,备注备注备注备注\n';
    fs.writeFileSync(file, line.repeat(Math.ceil((9 * CHUNK_BYTES) / Buffer.byteLength(line))));
    const inFlight = 2;
    const scan = async (engine: ChunkEngine) => {
      const allocated: ArrayBuffer[] = [];
      let lines = 0;
      await scanChunked(file, 'csv', { file, bytes: 0, sha256: '', format: 'csv', encoding: '' }, () => undefined, { engine, inFlight, onBuffer: (b) => allocated.push(b), onChunk: (r) => (lines += r.lines) });
      return { allocated: allocated.length, lines };
    };
    // On this thread: the buffers the chunks are read into are the same few objects throughout.
    const one = inThread(new ChunkMatcher(new CanaryMatcher([]), [], false));
    const seen = new Set<ArrayBufferLike>();
    let chunks = 0;
    const counted: ChunkEngine = { match: (t) => (chunks++, seen.add(t.bytes.buffer), one.match(t)), close: one.close };
    const here = await scan(counted);
    expect(chunks).toBeGreaterThanOrEqual(9);
    expect(seen.size).toBeLessThanOrEqual(inFlight + 1);
    expect(here.allocated).toBe(seen.size);
    // On worker threads: the bytes come back with each result, so no more are allocated.
    const pool = startWorkers(2, 1);
    try {
      pool.configure({ signatures: [], names: false });
      const threads = await scan(pool);
      expect(threads.allocated).toBeLessThanOrEqual(inFlight + 1);
      expect(threads.lines).toBe(here.lines);
    } finally {
      await pool.close();
    }
  });

  it('gives the worker threads their canaries once, before any chunk, and no more than their heaps were sized for', async () => {
    const signature = (id: string) => ({ canaryId: id, phones: ['+8613912345678'], emails: [], names: [], locale: 'zh-CN' as const });
    const pool = startWorkers(2, 1);
    try {
      await expect(pool.match({ bytes: Buffer.from('13912345678\n'), encoding: 'utf-8' })).rejects.toThrow('before the canaries');
      expect(() => pool.configure({ signatures: [signature('a'), signature('b')], names: false })).toThrow('sized for 1');
      pool.configure({ signatures: [signature('a')], names: false });
      expect(() => pool.configure({ signatures: [signature('a')], names: false })).toThrow('twice');
      // The threads run the byte pass and send back the lines it names, decoded, to be matched here.
      const { result } = await pool.match({ bytes: Buffer.from('x\n13912345678\n'), encoding: 'utf-8' });
      expect(result).toMatchObject({ lines: 2, matches: [], deferred: { records: [{ line: 1, text: '13912345678' }] } });
      matchDeferred(new CanaryMatcher([signature('a')]), result, false);
      expect(result.deferred).toBeUndefined();
      expect(result.matches).toEqual([expect.objectContaining({ canaryId: 'a', line: 1 })]);
    } finally {
      await pool.close();
    }
  });

  it('ends the threads of a start that is never scanned (the vault did not open)', async () => {
    const file = path.join(dir, 'never.csv');
    fs.writeFileSync(file, 'a,b\n1,2\n');
    const start = startScan([file, '-', path.join(dir, 'missing.csv')], { threads: 2 });
    expect([...start.parallel]).toEqual([file]); // stdin and a missing file are read on this thread
    await start.close();
    await start.close();
  });

  it('collects what is no longer reachable when asked, without --expose-gc, and leaves the flag unset', async () => {
    // A large unreachable object, known only by a WeakRef (kept alive until the job that made it ends).
    const ref = (() => new WeakRef(new Array(100_000).fill({ x: 1 })))();
    await new Promise((resolve) => setImmediate(resolve));
    collectGarbage();
    expect(ref.deref()).toBeUndefined();
    expect((globalThis as { gc?: unknown }).gc).toBeUndefined();
  });

  it('looks for names alone only when asked', async () => {
    const f = fams[0];
    const file = path.join(dir, 'names.txt');
    fs.writeFileSync(file, `名单\n${f.mother.name.full} ${f.father?.name.full ?? ''} ${f.baby.birthTime.slice(0, 10)}\n`);
    const plain = await runScan(db, [file]);
    expect(plain.weak).toEqual([]);
    const names = await runScan(db, [file], undefined, { names: true });
    expect(names.weak.map((w) => w.id)).toEqual(['can0']);
    expect(names.matches).toEqual([]);
  });
});

describe('telling a GB18030 chunk with a UTF-8 line in it', () => {
  // The definition: some line (between line ends) is valid UTF-8 and not ASCII alone.
  const byDefinition = (bytes: Buffer) => {
    for (let start = 0; start <= bytes.length;) {
      const nl = bytes.indexOf(0x0a, start);
      const piece = bytes.subarray(start, nl < 0 ? bytes.length : nl);
      if (isUtf8(piece) && !isAscii(piece)) return true;
      if (nl < 0) return false;
      start = nl + 1;
    }
    return false;
  };

  it('agrees with the line-by-line definition on GBK and UTF-8 lines, cut sequences and random bytes', () => {
    const lines = ['序号,姓名,手机', '1,王丽华,138 1234 5678', 'ascii only, 123', '', '€ 埃 ＠ １３８', '\u{1F600} 😀', 'é', '\r'];
    const pieces = lines.flatMap((l) => [iconv.encode(l, 'gb18030'), Buffer.from(l, 'utf8')]);
    const rng = createRandom('utf8-lines');
    for (let round = 0; round < 3000; round++) {
      const parts: Buffer[] = [];
      const count = 1 + Math.floor(rng.next() * 5);
      for (let k = 0; k < count; k++) {
        const r = rng.next();
        if (r < 0.7) parts.push(pieces[Math.floor(rng.next() * pieces.length)]);
        else parts.push(Buffer.from(Array.from({ length: 1 + Math.floor(rng.next() * 6) }, () => Math.floor(rng.next() * 256))));
        if (rng.next() < 0.6) parts.push(Buffer.from('\n'));
      }
      let bytes = Buffer.concat(parts);
      if (rng.next() < 0.3 && bytes.length > 1) bytes = bytes.subarray(0, Math.floor(rng.next() * bytes.length)); // a character cut at the end
      expect([round, hasUtf8Line(bytes)]).toEqual([round, byDefinition(bytes)]);
    }
  });
});
