import fs from 'node:fs';
import path from 'node:path';
import { Readable } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { describe, expect, it } from '@jest/globals';
import { checkOutFile, OutFileError, TempOutFile, writeOutFile } from '../../src/lib/out-file.js';
import { scratchDir } from '../helpers/db.js';

// The one writer of output files: exclusive random temporary files beside the destination, put in
// place in one step; existing files refused without force, directories always; links never followed.

/** A directory with a file an attacker would like Cradle to overwrite. */
function setup(): { dir: string; secret: string } {
  const dir = scratchDir('out-file');
  const secret = path.join(dir, 'secret.txt');
  fs.writeFileSync(secret, 'SECRET\n');
  return { dir, secret };
}

/** What is in the directory besides the secret and the links planted, i.e. what the writer left. */
function leftovers(dir: string): string[] {
  return fs.readdirSync(dir).filter((f) => f !== 'secret.txt' && !fs.lstatSync(path.join(dir, f)).isSymbolicLink()).sort();
}

describe('writeOutFile', () => {
  it('writes a new file, mode 0600, through a random temporary file it removes', async () => {
    const { dir } = setup();
    const out = path.join(dir, 'report.html');
    let tempPath = '';
    await writeOutFile(out, (f) => {
      tempPath = f.path;
      f.write('<p>hi</p>\n');
    });
    expect(fs.readFileSync(out, 'utf8')).toBe('<p>hi</p>\n');
    expect(fs.statSync(out).mode & 0o777).toBe(0o600);
    expect(path.dirname(tempPath)).toBe(dir);
    expect(path.basename(tempPath)).toMatch(/^\.report\.html\.[0-9a-f]{24}\.tmp$/);
    expect(leftovers(dir)).toEqual(['report.html']);
  });

  it('never follows a link planted under the old predictable temporary names', async () => {
    const { dir, secret } = setup();
    // The names the old writers used (`.<name>.<pid>.tmp`), for this process.
    for (const name of [`.report.html.${process.pid}.tmp`, `.report.html.${process.pid}.00000000.tmp`]) fs.symlinkSync(secret, path.join(dir, name));
    await writeOutFile(path.join(dir, 'report.html'), (f) => f.write('report'));
    expect(fs.readFileSync(secret, 'utf8')).toBe('SECRET\n');
    expect(fs.readFileSync(path.join(dir, 'report.html'), 'utf8')).toBe('report');
  });

  it('refuses an existing file without force and replaces it with force', async () => {
    const { dir } = setup();
    const out = path.join(dir, 'export.csv');
    fs.writeFileSync(out, 'old\n');
    await expect(writeOutFile(out, (f) => f.write('new\n'))).rejects.toThrow(new OutFileError(`--out ${out} exists; add --force to replace it`));
    expect(fs.readFileSync(out, 'utf8')).toBe('old\n');
    expect(leftovers(dir)).toEqual(['export.csv']);
    await writeOutFile(out, (f) => f.write('new\n'), { force: true });
    expect(fs.readFileSync(out, 'utf8')).toBe('new\n');
    expect(leftovers(dir)).toEqual(['export.csv']);
  });

  it('refuses a link at the destination without force; with force replaces the link itself, never its target', async () => {
    const { dir, secret } = setup();
    const out = path.join(dir, 'bundle.tar.gz');
    fs.symlinkSync(secret, out);
    await expect(writeOutFile(out, (f) => f.write('bundle'))).rejects.toThrow(/^--out .*bundle\.tar\.gz exists \(a symbolic link\); add --force to replace the link itself \(its target is left alone\)$/);
    expect(fs.lstatSync(out).isSymbolicLink()).toBe(true);
    await writeOutFile(out, (f) => f.write('bundle'), { force: true });
    expect(fs.lstatSync(out).isFile()).toBe(true);
    expect(fs.readFileSync(out, 'utf8')).toBe('bundle');
    expect(fs.readFileSync(secret, 'utf8')).toBe('SECRET\n');
    // A dangling link too: never created through.
    const dangling = path.join(dir, 'dangling.csv');
    fs.symlinkSync(path.join(dir, 'created-through-link'), dangling);
    await expect(writeOutFile(dangling, (f) => f.write('x'))).rejects.toThrow(/exists \(a symbolic link\)/);
    expect(fs.existsSync(path.join(dir, 'created-through-link'))).toBe(false);
  });

  it('refuses a directory, with or without force, in one line', async () => {
    const { dir } = setup();
    const sub = path.join(dir, 'reports');
    fs.mkdirSync(sub);
    for (const force of [false, true]) {
      await expect(writeOutFile(sub, (f) => f.write('x'), { force })).rejects.toThrow(new OutFileError(`--out ${sub} is a directory; give a file name`));
    }
    expect(() => checkOutFile(sub, { flag: '--rejects', force: true })).toThrow(`--rejects ${sub} is a directory; give a file name`);
    expect(() => checkOutFile(path.join(dir, 'nope', 'x.csv'))).toThrow(`cannot write ${path.join(dir, 'nope', 'x.csv')}: no directory ${path.join(dir, 'nope')}`);
    expect(leftovers(dir)).toEqual(['reports']);
    expect(fs.readdirSync(sub)).toEqual([]);
  });

  it('on a failure midway removes its temporary file and leaves the old destination as it was', async () => {
    const { dir } = setup();
    const out = path.join(dir, 'audit.html');
    fs.writeFileSync(out, 'old audit\n');
    await expect(
      writeOutFile(
        out,
        (f) => {
          f.write('half of a new aud');
          throw new Error('disk on fire');
        },
        { force: true },
      ),
    ).rejects.toThrow('disk on fire');
    expect(fs.readFileSync(out, 'utf8')).toBe('old audit\n');
    expect(leftovers(dir)).toEqual(['audit.html']);
    // A stream that fails halfway: the same.
    await expect(
      writeOutFile(
        out,
        async (f) => {
          const source = Readable.from(
            (function* () {
              yield Buffer.from('part one');
              throw new Error('source broke');
            })(),
          );
          await pipeline(source, f.stream());
        },
        { force: true },
      ),
    ).rejects.toThrow('source broke');
    expect(fs.readFileSync(out, 'utf8')).toBe('old audit\n');
    expect(leftovers(dir)).toEqual(['audit.html']);
  });

  it('streams, reads back through its descriptor and rewrites', async () => {
    const { dir } = setup();
    const out = path.join(dir, 'x.bin');
    const back = await writeOutFile(out, async (f) => {
      await pipeline(Readable.from([Buffer.from('abc'), Buffer.from('def')]), f.stream());
      f.write('g');
      expect(f.readBack().toString()).toBe('abcdefg');
      f.rewrite(Buffer.from('XY'));
      return f.readBack();
    });
    expect(back.toString()).toBe('XY');
    expect(fs.readFileSync(out, 'utf8')).toBe('XY');
  });
});

describe('TempOutFile', () => {
  it('refuses a destination that appeared while it was written, keeping that file', () => {
    const { dir } = setup();
    const out = path.join(dir, 'race.csv');
    const temp = TempOutFile.create(out);
    temp.write('mine');
    fs.writeFileSync(out, 'theirs');
    expect(() => temp.commit()).toThrow(`--out ${out} exists; add --force to replace it`);
    expect(fs.readFileSync(out, 'utf8')).toBe('theirs');
    expect(leftovers(dir)).toEqual(['race.csv']);
  });

  it('notices its temporary file swapped for a link and writes nothing through it', () => {
    const { dir, secret } = setup();
    const out = path.join(dir, 'swap.csv');
    const temp = TempOutFile.create(out);
    temp.write('mine');
    fs.rmSync(temp.path);
    fs.symlinkSync(secret, temp.path);
    expect(() => temp.commit()).toThrow(/was replaced meanwhile/);
    expect(fs.existsSync(out)).toBe(false);
    expect(fs.readFileSync(secret, 'utf8')).toBe('SECRET\n');
    // The planted link is not ours to remove.
    expect(fs.lstatSync(temp.path).isSymbolicLink()).toBe(true);
  });

  it('gives each temporary file its own name', () => {
    const { dir } = setup();
    const out = path.join(dir, 'a.csv');
    const a = TempOutFile.create(out);
    const b = TempOutFile.create(out);
    expect(a.path).not.toBe(b.path);
    a.discard();
    b.discard();
    a.discard();
    expect(leftovers(dir)).toEqual([]);
  });
});
