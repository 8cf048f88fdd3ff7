// Human output by default, JSON with --json. JSON goes to stdout alone so scripts can pipe it.

export function emit(json: boolean | undefined, data: unknown, human: () => string | string[]): void {
  if (json) {
    writeJson(data, (s) => process.stdout.write(s));
    return;
  }
  const text = human();
  process.stdout.write((Array.isArray(text) ? text.join('\n') : text) + '\n');
}

/**
 * `JSON.stringify(data, null, 2)` and a line end, the same bytes, written about 1 MiB at a time: a
 * long top-level array (a scan's matches, 10,000 and more with their reasons) is stringified a
 * thousand elements at a time. Why: as one string, and its copy with the line end, it was 40-60 MiB at the end of
 * `cradle scan --json` on a 1 GiB dump, the command's peak of memory.
 */
export function writeJson(data: unknown, write: (s: string) => void): void {
  const plain = data !== null && typeof data === 'object' && !Array.isArray(data) && Object.getPrototypeOf(data) === Object.prototype && !('toJSON' in data);
  if (!plain) {
    write(JSON.stringify(data, null, 2) + '\n');
    return;
  }
  const parts: string[] = [];
  let pending = 0;
  const flush = () => {
    if (parts.length) write(parts.join(''));
    parts.length = 0;
    pending = 0;
  };
  const put = (s: string) => {
    parts.push(s);
    pending += s.length;
    if (pending >= 1 << 20) flush();
  };
  // Each entry as JSON.stringify writes it inside the object (`{"key": value}` less its braces), a
  // long array a thousand elements at a time: the native stringify indents them, nothing is re-read.
  put('{');
  let first = true;
  for (const [key, value] of Object.entries(data)) {
    const batches = Array.isArray(value) && value.length > 1000 && !('toJSON' in value);
    const text = JSON.stringify({ [key]: batches ? value.slice(0, 1000) : value }, null, 2);
    if (text === '{}') continue; // left out, as JSON.stringify leaves it (undefined, a function)
    put((first ? '' : ',') + text.slice(1, batches ? -6 : -2)); // '\n  "key": [\n    …' without '\n  ]\n}'
    if (batches) {
      const head = `{\n  ${JSON.stringify(key)}: [`.length;
      for (let i = 1000; i < value.length; i += 1000) put(',' + JSON.stringify({ [key]: value.slice(i, i + 1000) }, null, 2).slice(head, -6));
      put('\n  ]');
    }
    first = false;
  }
  put(first ? '}\n' : '\n}\n');
  flush();
}

/** `[████░░░░]  50%`: how far long work has come, for a terminal. */
export function progressBar(fraction: number, width = 24): string {
  const f = Math.min(Math.max(Number.isFinite(fraction) ? fraction : 0, 0), 1);
  const full = Math.round(f * width);
  return `[${'█'.repeat(full)}${'░'.repeat(width - full)}] ${String(Math.floor(f * 100)).padStart(3)}%`;
}

/** A status line on stderr, with a bar when the fraction done is known; on a terminal only (nothing on a pipe). */
export function progress(message: string, fraction?: number): void {
  if (!process.stderr.isTTY) return;
  const line = fraction === undefined ? message : `${progressBar(fraction)} ${message}`;
  process.stderr.write(`\r\x1b[2K${line.slice(0, Math.max((process.stderr.columns ?? 100) - 1, 20))}`);
}

export function progressDone(): void {
  if (process.stderr.isTTY) process.stderr.write('\r\x1b[2K');
}

/** Plain-text table with columns padded to the widest cell (CJK counted double-width). */
export function table(headers: string[], rows: (string | number | null | undefined)[][]): string {
  const width = (s: string) => [...s].reduce((w, ch) => w + (/[\u1100-\u115f\u2e80-\ua4cf\uac00-\ud7a3\uf900-\ufaff\ufe30-\ufe4f\uff00-\uff60\uffe0-\uffe6]/.test(ch) ? 2 : 1), 0);
  const cells = [headers, ...rows.map((r) => r.map((c) => (c === null || c === undefined ? '' : String(c))))];
  const widths = headers.map((_, i) => Math.max(...cells.map((r) => width(r[i] ?? ''))));
  return cells.map((r) => r.map((c, i) => c + ' '.repeat(widths[i] - width(c))).join('  ').trimEnd()).join('\n');
}

export function isoDate(d: Date | string | null | undefined): string {
  if (!d) return '';
  return (typeof d === 'string' ? new Date(d) : d).toISOString().replace('T', ' ').replace(/\.\d{3}Z$/, 'Z');
}
