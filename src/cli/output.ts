// Human output by default, JSON with --json. JSON goes to stdout alone so scripts can pipe it.

export function emit(json: boolean | undefined, data: unknown, human: () => string | string[]): void {
  if (json) {
    process.stdout.write(JSON.stringify(data, null, 2) + '\n');
    return;
  }
  const text = human();
  process.stdout.write((Array.isArray(text) ? text.join('\n') : text) + '\n');
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
