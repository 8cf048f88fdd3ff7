import crypto from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { Writable } from 'node:stream';

// The one way Cradle writes an output file (--out, the rejects file, the demo's files): a
// temporary file with a random name, created exclusively (O_EXCL, O_NOFOLLOW) in the destination's
// own directory, written through its descriptor only, fsynced, then put in place in one step.
// Nothing is ever opened by a predictable name, so a link planted beside the destination is never
// followed; the destination itself is replaced as a directory entry (a link there is replaced, its
// target left alone), and without `force` an existing entry is refused. docs/deployment.md, "Files Cradle writes".

/** A refused or failed output file, one line naming it; the CLI prints it as `cradle: …` and exits 1. */
export class OutFileError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'OutFileError';
  }
}

export interface OutFileOptions {
  /** Replace whatever file (or link: the link itself) is at the destination; without it an existing one is refused. */
  force?: boolean;
  /** The option that named the destination, for messages (default --out). */
  flag?: string;
  /** Permissions of the new file (default 0600: outputs name canaries or hold patients' rows). */
  mode?: number;
}

const O_NOFOLLOW = fs.constants.O_NOFOLLOW ?? 0;
/** Read-write so the file can be read back through its descriptor (hashing, re-encoding), never by name. */
const CREATE_FLAGS = fs.constants.O_RDWR | fs.constants.O_CREAT | fs.constants.O_EXCL | O_NOFOLLOW;

function describeCode(err: unknown): string {
  const e = err as NodeJS.ErrnoException;
  return e.code ? `${e.code}${e.message ? ` (${e.message.replace(/^[A-Z]+: /, '').split('\n')[0]})` : ''}` : String((err as Error).message ?? err);
}

function lstatOrNull(file: string): fs.Stats | null {
  try {
    return fs.lstatSync(file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw err;
  }
}

function refusal(file: string, st: fs.Stats, flag: string): OutFileError {
  if (st.isDirectory()) return new OutFileError(`${flag} ${file} is a directory; give a file name`);
  if (st.isSymbolicLink()) return new OutFileError(`${flag} ${file} exists (a symbolic link); add --force to replace the link itself (its target is left alone)`);
  return new OutFileError(`${flag} ${file} exists; add --force to replace it`);
}

/**
 * Check a destination before any work is done: its directory exists, it is not a directory, and
 * (without force) nothing is there yet. Links are not followed. Returns the absolute path.
 */
export function checkOutFile(file: string, options: OutFileOptions = {}): string {
  const flag = options.flag ?? '--out';
  const abs = path.resolve(file);
  const dir = path.dirname(abs);
  let dirStat: fs.Stats;
  try {
    dirStat = fs.statSync(dir);
  } catch {
    throw new OutFileError(`cannot write ${file}: no directory ${dir}`);
  }
  if (!dirStat.isDirectory()) throw new OutFileError(`cannot write ${file}: ${dir} is not a directory`);
  const st = lstatOrNull(abs);
  if (st && (st.isDirectory() || !options.force)) throw refusal(file, st, flag);
  return abs;
}

/** A temporary file beside its destination, open for writing; commit() puts it in place, discard() removes it. */
export class TempOutFile {
  readonly path: string;
  readonly dest: string;
  private fd: number | null;
  private readonly ino: number;
  private readonly options: OutFileOptions;
  private readonly label: string;

  private constructor(dest: string, label: string, options: OutFileOptions) {
    this.dest = path.resolve(dest);
    this.label = label;
    this.options = options;
    const dir = path.dirname(this.dest);
    // Random and created exclusively: a planted file or link under any name makes open fail, never followed.
    for (let attempt = 0; ; attempt++) {
      const name = `.${path.basename(this.dest).slice(0, 100)}.${crypto.randomBytes(12).toString('hex')}.tmp`;
      const candidate = path.join(dir, name);
      try {
        this.fd = fs.openSync(candidate, CREATE_FLAGS, options.mode ?? 0o600);
        this.path = candidate;
        break;
      } catch (err) {
        if ((err as NodeJS.ErrnoException).code === 'EEXIST' && attempt < 5) continue;
        throw new OutFileError(`cannot write ${label}: ${describeCode(err)}`);
      }
    }
    this.ino = fs.fstatSync(this.fd).ino;
  }

  /** Check the destination (see checkOutFile) and create the temporary file beside it. */
  static create(dest: string, options: OutFileOptions = {}): TempOutFile {
    checkOutFile(dest, options);
    return new TempOutFile(dest, dest, options);
  }

  private get descriptor(): number {
    if (this.fd === null) throw new Error(`${this.path} is already closed`);
    return this.fd;
  }

  /** Append bytes (or UTF-8 text). */
  write(data: string | Uint8Array): void {
    const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
    let done = 0;
    while (done < bytes.length) done += fs.writeSync(this.descriptor, bytes, done, bytes.length - done);
  }

  /**
   * A stream that writes to the file (for libraries that write to a stream). Not fs.WriteStream:
   * destroying one closes its descriptor later, when the number may belong to another file.
   */
  stream(): Writable {
    return new Writable({
      write: (chunk: Buffer, _encoding, done) => {
        try {
          this.write(chunk);
          done();
        } catch (err) {
          done(err as Error);
        }
      },
    });
  }

  /** Everything written so far, read through the descriptor. */
  readBack(): Buffer {
    const size = fs.fstatSync(this.descriptor).size;
    const data = Buffer.alloc(size);
    let done = 0;
    while (done < size) {
      const n = fs.readSync(this.descriptor, data, done, size - done, done);
      if (n === 0) break;
      done += n;
    }
    return data.subarray(0, done);
  }

  /** Replace the whole content (e.g. re-encoded). */
  rewrite(data: Uint8Array): void {
    fs.ftruncateSync(this.descriptor, 0);
    let done = 0;
    while (done < data.length) done += fs.writeSync(this.descriptor, data, done, data.length - done, done);
  }

  /**
   * Flush to disk and put the file at its destination in one step. Without force, link() refuses
   * an entry that appeared meanwhile; with force, rename() replaces it (a link as a link).
   */
  commit(): void {
    const fd = this.descriptor;
    try {
      fs.fsyncSync(fd);
      fs.closeSync(fd);
      this.fd = null;
      // The name must still be our file: someone able to write the directory could have swapped it.
      const now = lstatOrNull(this.path);
      if (!now || now.ino !== this.ino || !now.isFile()) throw new OutFileError(`cannot write ${this.label}: its temporary file ${this.path} was replaced meanwhile`);
      const flag = this.options.flag ?? '--out';
      const there = lstatOrNull(this.dest);
      if (there && (there.isDirectory() || !this.options.force)) throw refusal(this.label, there, flag);
      if (this.options.force) {
        fs.renameSync(this.path, this.dest);
      } else {
        try {
          fs.linkSync(this.path, this.dest);
          fs.unlinkSync(this.path);
        } catch (err) {
          const code = (err as NodeJS.ErrnoException).code;
          if (code === 'EEXIST') throw refusal(this.label, lstatOrNull(this.dest) ?? fs.lstatSync(this.path), flag);
          // A file system without hard links: the check above, then rename.
          if (code !== 'EPERM' && code !== 'ENOTSUP' && code !== 'EOPNOTSUPP' && code !== 'ENOSYS') throw err;
          fs.renameSync(this.path, this.dest);
        }
      }
    } catch (err) {
      this.discard();
      if (err instanceof OutFileError) throw err;
      throw new OutFileError(`cannot write ${this.label}: ${describeCode(err)}`);
    }
    syncDirectory(path.dirname(this.dest));
  }

  /** Close and remove the temporary file (safe to call twice, and after commit). */
  discard(): void {
    if (this.fd !== null) {
      try {
        fs.closeSync(this.fd);
      } catch {
        // already closed by a failing library; the file is removed below either way
      }
      this.fd = null;
    }
    const st = lstatOrNull(this.path);
    if (st && st.ino === this.ino) fs.rmSync(this.path, { force: true });
  }
}

/** The rename is durable once the directory is synced; not every file system allows it, and it is only durability. */
function syncDirectory(dir: string): void {
  let fd: number | null = null;
  try {
    fd = fs.openSync(dir, fs.constants.O_RDONLY);
    fs.fsyncSync(fd);
  } catch {
    // e.g. EISDIR/EINVAL on file systems that cannot sync a directory
  } finally {
    if (fd !== null) fs.closeSync(fd);
  }
}

/**
 * Write a file through a temporary file (see TempOutFile): `write` fills it, then it is committed;
 * on any error the temporary file is removed and the destination is left as it was.
 */
export async function writeOutFile<T>(dest: string, write: (file: TempOutFile) => Promise<T> | T, options: OutFileOptions = {}): Promise<T> {
  const file = TempOutFile.create(dest, options);
  try {
    const result = await write(file);
    file.commit();
    return result;
  } catch (err) {
    file.discard();
    const e = err as NodeJS.ErrnoException;
    if (!(err instanceof OutFileError) && e && typeof e.code === 'string' && typeof e.syscall === 'string') throw new OutFileError(`cannot write ${dest}: ${describeCode(err)}`);
    throw err;
  }
}
