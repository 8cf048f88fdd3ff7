import crypto from 'node:crypto';

// Untrusted text made storable in PostgreSQL (and PGlite), pure. text and jsonb cannot hold U+0000,
// jsonb refuses lone UTF-16 surrogates, a btree index entry is limited to about 2.7 kB, and a
// timestamptz written by Date.toISOString() outside the years 0000-9999 cannot be read back. The
// callers keep the exact bytes elsewhere (a bytea column); these only decide what the searchable
// columns show, and say so in a warning.

/** What stands for U+0000 in stored text: SYMBOL FOR NULL, so the reader sees where one was. */
export const NUL_SHOWN_AS = '\u2400';

/** The longest value kept as is in an indexed text column, in UTF-16 code units (at most 1,536 UTF-8 bytes). */
export const MAX_INDEXED_CHARS = 512;

/** Instants stored as given: the years 1000 to 9999 (both backends store and read these back exactly). */
export const EARLIEST_STORED = Date.UTC(1000, 0, 1);
export const LATEST_STORED = Date.UTC(10000, 0, 1) - 1;

const LONE_SURROGATE = /[\ud800-\udbff](?![\udc00-\udfff])|(?<![\ud800-\udbff])[\udc00-\udfff]/g;

/** Text without U+0000 (shown as ␀) or lone surrogates (U+FFFD, as UTF-8 encoding would make them). */
export function storableText(text: string): string {
  return text.replaceAll('\u0000', NUL_SHOWN_AS).replace(LONE_SURROGATE, '\ufffd');
}

/** Whether storableText would change it. */
export function needsEscaping(text: string): boolean {
  LONE_SURROGATE.lastIndex = 0;
  return text.includes('\u0000') || LONE_SURROGATE.test(text);
}

/**
 * A value for an indexed (and possibly unique) column: as it is when short and clean, else its first
 * characters (escaped) then `…sha256:` and the hash of the whole value's UTF-8. Deterministic, so a
 * retry of the same oversized id is still recognised; the hash keeps two different ids apart even
 * when they differ only after the cut or only in a NUL.
 */
export function indexableKey(value: string): string {
  if (value.length <= MAX_INDEXED_CHARS && !needsEscaping(value)) return value;
  const hash = crypto.createHash('sha256').update(value, 'utf8').digest('hex');
  const tail = `…sha256:${hash}`;
  let head = value.slice(0, MAX_INDEXED_CHARS - tail.length);
  if (/[\ud800-\udbff]$/.test(head)) head = head.slice(0, -1); // don't cut a surrogate pair in two
  return storableText(head) + tail;
}

/** A JSON value with storableText applied to every string, keys included (jsonb refuses \u0000). */
export function storableJson(value: unknown): unknown {
  if (typeof value === 'string') return storableText(value);
  if (Array.isArray(value)) return value.map(storableJson);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [k, v] of Object.entries(value)) out[storableText(k)] = storableJson(v);
    return out;
  }
  return value;
}

/** Whether an instant is one the store keeps as given (see EARLIEST_STORED, LATEST_STORED). */
export function isStorableInstant(d: Date): boolean {
  const t = d.getTime();
  return Number.isFinite(t) && t >= EARLIEST_STORED && t <= LATEST_STORED;
}
