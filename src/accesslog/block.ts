import { writeBlockLineStart } from '../vault/access-events.js';

// A block of access events as the vault stores it (sql/vault/008_access_blocks.sql): one event per
// line, in the form src/vault/access-events.ts writes and reads. Built in one growing buffer with an index
// by time, so an import keeps no object per event (at millions of lines the garbage collector was a
// quarter of the import) and finds an event twice by comparing bytes of events with the same time.
// While rows come in time order (a log nearly always), that index is not built: an event can only be
// found again among the last rows, those of its own time, and another block's lookups search the times
// by bisection; the first row earlier than the last builds it (a probe per row into a table of half a
// megabyte was a fifth of the byte path's time, in cache misses).
// The bytes are the stored text as it is: the block goes to the database as one parameter, not as CSV.

const NEWLINE = 0x0a;

export class EventBlock {
  buf: Buffer;
  /** Where the row being written starts; rows before it are committed. */
  end = 0;
  count = 0;
  fromMs = Infinity;
  toMs = -Infinity;
  private rowStart: Int32Array;
  private textStart: Int32Array;
  private at: Float64Array;
  private lineNo: Float64Array;
  /** Open addressing by time: row index + 1, 0 for an empty slot; built only once the rows leave time order. */
  private slots: Int32Array;
  private shift: number;
  /** Rows are in time order (none earlier than the one before): the slots are not used. */
  private sorted = true;
  /** When sorted: the first of the last rows, those at toMs. */
  private runStart = 0;
  /** Where the current row's text starts (after its line number). */
  private textAt = 0;

  constructor(capacity: number, bytesPerRow = 96) {
    const rows = Math.max(capacity, 4);
    this.buf = Buffer.allocUnsafe(rows * bytesPerRow);
    this.rowStart = new Int32Array(rows + 1);
    this.textStart = new Int32Array(rows);
    this.at = new Float64Array(rows);
    this.lineNo = new Float64Array(rows);
    const bits = Math.max(3, Math.ceil(Math.log2(rows * 2)));
    this.slots = new Int32Array(0);
    this.shift = 32 - bits;
  }

  /** Empty the block for reuse, keeping its buffers. */
  reset(): this {
    this.end = this.count = this.textAt = 0;
    this.fromMs = Infinity;
    this.toMs = -Infinity;
    this.sorted = true;
    this.runStart = 0;
    return this;
  }

  /** Room for `bytes` more in the buffer. */
  reserve(bytes: number): void {
    if (this.end + bytes <= this.buf.length) return;
    const grown = Buffer.allocUnsafe(Math.max(this.buf.length * 2, this.end + bytes));
    this.buf.copy(grown, 0, 0, this.end);
    this.buf = grown;
  }

  /** Start a row: writes its line number; the caller then writes the text at `end`. */
  beginRow(line: number): number {
    if (this.count === this.at.length) this.grow();
    this.rowStart[this.count] = this.end;
    this.reserve(24);
    this.end = this.textAt = writeBlockLineStart(this.buf, this.end, line);
    this.lineNo[this.count] = line;
    return this.end;
  }

  /**
   * Commit the row written since beginRow (its text ends at `textEnd`), unless the block holds the same
   * event already: then the row is dropped and false returned.
   */
  commitRow(atMs: number, textEnd: number): boolean {
    const start = this.textAt;
    // A time later than every row's is new; the same time as the last rows' is looked for among them.
    if (atMs > this.toMs) this.runStart = this.count;
    else {
      if (this.sorted && atMs < this.toMs) this.index();
      if (this.find(this.buf, start, textEnd, atMs) >= 0) {
        this.end = this.rowStart[this.count];
        return false;
      }
    }
    const row = this.count++;
    this.textStart[row] = start;
    this.at[row] = atMs;
    this.buf[textEnd] = NEWLINE;
    this.end = textEnd + 1;
    this.rowStart[this.count] = this.end;
    if (!this.sorted) this.slot(row);
    if (atMs < this.fromMs) this.fromMs = atMs;
    if (atMs > this.toMs) this.toMs = atMs;
    return true;
  }

  /** Add an event whose text is a string (the general reader's path); false when it is in the block already. */
  addText(line: number, atMs: number, text: string): boolean {
    this.beginRow(line);
    this.reserve(Buffer.byteLength(text) + 1);
    return this.commitRow(atMs, this.end + this.buf.write(text, this.end));
  }

  /** Whether the block holds the event text src[start, end) at this time. */
  has(src: Buffer, start: number, end: number, atMs: number): boolean {
    return this.find(src, start, end, atMs) >= 0;
  }

  line(row: number): number {
    return this.lineNo[row];
  }

  time(row: number): number {
    return this.at[row];
  }

  /** The event text of a row. */
  text(row: number): string {
    return this.buf.toString('utf8', this.textStart[row], this.rowStart[row + 1] - 1);
  }

  /** The rows for which keep(row, block) holds, as a new block. */
  filter(keep: (row: number) => boolean): EventBlock {
    const out = new EventBlock(this.count, Math.ceil(this.end / Math.max(this.count, 1)) + 1);
    for (let row = 0; row < this.count; row++) {
      if (!keep(row)) continue;
      const textEnd = this.rowStart[row + 1] - 1;
      out.beginRow(this.lineNo[row]);
      out.reserve(textEnd - this.textStart[row] + 1);
      out.end += this.buf.copy(out.buf, out.end, this.textStart[row], textEnd);
      out.commitRow(this.at[row], out.end);
    }
    return out;
  }

  /** Whether another block holds row `row` of this one. */
  rowIn(row: number, other: EventBlock): boolean {
    return other.has(this.buf, this.textStart[row], this.rowStart[row + 1] - 1, this.at[row]);
  }

  /** The block's rows, newline-separated: the text the vault stores. */
  bytes(): Buffer {
    return this.buf.subarray(0, Math.max(0, this.end - 1));
  }

  private find(src: Buffer, start: number, end: number, atMs: number): number {
    if (this.sorted) {
      // The rows at atMs: from the last ones' start, or the first row at atMs by bisection.
      let row = this.runStart;
      if (atMs !== this.toMs) {
        let [lo, hi] = [0, this.count];
        while (lo < hi) {
          const mid = (lo + hi) >>> 1;
          if (this.at[mid] < atMs) lo = mid + 1;
          else hi = mid;
        }
        row = lo;
      }
      for (; row < this.count && this.at[row] === atMs; row++) if (this.same(row, src, start, end)) return row;
      return -1;
    }
    for (let slot = this.hash(atMs); this.slots[slot] !== 0; slot = (slot + 1) & (this.slots.length - 1)) {
      const row = this.slots[slot] - 1;
      if (this.at[row] === atMs && this.same(row, src, start, end)) return row;
    }
    return -1;
  }

  /** Whether row `row`'s text is src[start, end). */
  private same(row: number, src: Buffer, start: number, end: number): boolean {
    const length = end - start;
    const from = this.textStart[row];
    if (this.rowStart[row + 1] - 1 - from !== length) return false;
    let i = 0;
    while (i < length && this.buf[from + i] === src[start + i]) i++;
    return i === length;
  }

  /** Leave time order: the rows so far go into the slots, as every row after them. */
  private index(): void {
    this.sorted = false;
    const size = 1 << (32 - this.shift);
    if (this.slots.length !== size) this.slots = new Int32Array(size);
    else this.slots.fill(0);
    for (let row = 0; row < this.count; row++) this.slot(row);
  }

  private slot(row: number): void {
    let slot = this.hash(this.at[row]);
    while (this.slots[slot] !== 0) slot = (slot + 1) & (this.slots.length - 1);
    this.slots[slot] = row + 1;
  }

  private hash(atMs: number): number {
    return Math.imul((atMs % 4294967296) | 0, 0x9e3779b1) >>> this.shift;
  }

  private grow(): void {
    const rows = this.at.length * 2;
    const copy = <T extends Int32Array | Float64Array>(a: T, n: number): T => {
      const b = new (a.constructor as new (n: number) => T)(n);
      b.set(a);
      return b;
    };
    this.rowStart = copy(this.rowStart, rows + 1);
    this.textStart = copy(this.textStart, rows);
    this.at = copy(this.at, rows);
    this.lineNo = copy(this.lineNo, rows);
    this.shift--;
    if (!this.sorted) this.index();
  }
}
