// The one redaction of secrets for everything Cradle prints or stores about where its databases are
// and how it was run: connection URLs (any scheme: postgres, postgresql, mysql, …), libpq conninfo
// strings, Go-style MySQL DSNs, `password=`-like settings, PGPASSWORD-like variables and
// --password-like flags. Pure: text in, text out. It errs towards hiding too much: a URL whose
// password holds a raw `@`, `#`, `/`, `?` or space (not percent-encoded) is still hidden whole.

export const MASK = '***';

// What may follow the `@` that ends a URL's userinfo: a host (name, IPv4, [IPv6] or empty for a
// socket), an optional port, then the end of the authority, of the token, or of a quoted word.
const HOST_AFTER_AT = /(?:\[[0-9A-Fa-f:.]{0,64}\]|[A-Za-z0-9._~%-]{0,255})(?::\d{0,5})?(?=[/?#\s'"`),;:\]>]|$)/y;
// `scheme://user:` — the start of a password in a URL. The user may hold anything but separators.
const URL_USER = /(?<![A-Za-z0-9+.-])[A-Za-z][A-Za-z0-9+.-]*:\/\/[^\s:/?#'"`<>]*:/g;
// A `password=`-like key: conninfo `password`, `sslpassword`, URL parameters, `PGPASSWORD`,
// `MYSQL_PWD`, `CRADLE_SMTP_PASSWORD`, `--db-password=`; and JSON `"password": "…"`.
const SECRET_KEY = String.raw`(?:[A-Za-z][A-Za-z0-9]*[_-])*(?:ssl|pg)?(?:password|passwd|pwd)`;
const KEY_VALUE = new RegExp(String.raw`(?<![A-Za-z0-9_-])(-{0,2}${SECRET_KEY})(\s*=\s*)('(?:[^'\\]|\\.)*'?|"(?:[^"\\]|\\.)*"?|(?:\\.|[^\s'\\])*)`, 'gi');
const JSON_VALUE = new RegExp(String.raw`("${SECRET_KEY}"\s*:\s*)"(?:[^"\\]|\\.)*"`, 'gi');
// `--password <value>` written out as text (a command line in a message or a report).
const SECRET_FLAG = String.raw`--?(?:[a-z0-9]+-)*(?:password|passwd|pass|pwd|secret|token|api-key|apikey|auth-token)`;
const FLAG_VALUE = new RegExp(String.raw`(?<![\w-])(${SECRET_FLAG})(\s+|=)('(?:[^']|'\\'')*'|"(?:[^"\\]|\\.)*"|\S+)`, 'gi');
const SECRET_FLAG_ALONE = new RegExp(`^${SECRET_FLAG}$`, 'i');
// Go's MySQL DSN: user:password@tcp(host:port)/db (the password may hold `@`: the last one counts).
const GO_DSN_HOST = /@(?:tcp6?|udp|unix)\(/g;
// How far a password is looked for: bounds the work on long hostile texts.
const MAX_PASSWORD = 1024;

/** Where in `text` the `@` ending a password that starts at `from` is, or -1. `to` bounds the search. */
function lastHostAt(text: string, from: number, to: number): number {
  const span = text.slice(from, to);
  for (let at = span.lastIndexOf('@'); at >= 0; at = at > 0 ? span.lastIndexOf('@', at - 1) : -1) {
    HOST_AFTER_AT.lastIndex = from + at + 1;
    if (HOST_AFTER_AT.test(text)) return from + at;
  }
  return -1;
}

const isSpace = (ch: string) => /\s/.test(ch);

/** The end of the password of a URL whose password starts at `start` (after `scheme://user:`), or -1 for none. */
function urlPasswordEnd(text: string, start: number): number {
  const limit = Math.min(text.length, start + MAX_PASSWORD);
  let wordEnd = start;
  while (wordEnd < limit && !isSpace(text[wordEnd])) wordEnd++;
  const at = lastHostAt(text, start, wordEnd);
  if (at >= 0) return at;
  // An `@` but no host after any (a broken URL): hide up to the last one all the same.
  const loose = text.slice(start, wordEnd).lastIndexOf('@');
  if (loose >= 0) return start + loose;
  // No `@` in the word: `host:port`, or a port-less host with a stray colon; not a password…
  const word = text.slice(start, wordEnd);
  if (word === '' || /^\d*(?:[/?#'"`),;\]>]|$)/.test(word)) return -1;
  // …unless a raw space in the password split the word: look a few words further on this line.
  let next = wordEnd;
  for (let words = 0; words < 4; words++) {
    while (next < limit && isSpace(text[next]) && text[next] !== '\n' && text[next] !== '\r') next++;
    if (next >= limit || isSpace(text[next])) break;
    const wordStart = next;
    while (next < limit && !isSpace(text[next])) next++;
    const found = lastHostAt(text, wordStart, next);
    if (found >= 0) return found;
  }
  return -1;
}

/** `user:password@tcp(…)` → `user:***@tcp(…)`: the word before the last `@tcp(` of each DSN, from its first colon. */
function redactGoDsn(text: string): string {
  let result = '';
  let done = 0;
  let previous = 0; // a DSN's word does not reach back past the previous DSN's host
  GO_DSN_HOST.lastIndex = 0;
  for (let m = GO_DSN_HOST.exec(text); m; m = GO_DSN_HOST.exec(text)) {
    let wordStart = m.index;
    while (wordStart > Math.max(done, previous) && m.index - wordStart < MAX_PASSWORD && !/[\s'"=]/.test(text[wordStart - 1])) wordStart--;
    previous = m.index + m[0].length;
    const colon = text.indexOf(':', wordStart);
    if (colon < 0 || colon >= m.index || /[/?#@]/.test(text.slice(wordStart, colon))) continue;
    result += text.slice(done, colon + 1) + MASK;
    done = m.index;
  }
  return result + text.slice(done);
}

/**
 * `text` with every password in it replaced by `***`: URL userinfo passwords, `password=` settings
 * (conninfo, URL parameters, environment style), `--password`-like flag values, MySQL DSNs, and
 * any of the `known` secrets (as given or percent-encoded) wherever they appear.
 */
export function redact(text: string, known: readonly string[] = []): string {
  let out = text;
  for (const secret of known) {
    // Very short secrets would blank out ordinary text; the patterns below still catch them in place.
    if (secret.length < 4) continue;
    for (const form of new Set([secret, encodeURIComponent(secret)])) out = out.split(form).join(MASK);
  }
  let result = '';
  let done = 0;
  URL_USER.lastIndex = 0;
  let nextAt = -1;
  for (let m = URL_USER.exec(out); m; m = URL_USER.exec(out)) {
    const start = m.index + m[0].length;
    // No `@` near: no password (kept so a long text of `x://y:` stays linear).
    if (nextAt < start) nextAt = out.indexOf('@', start);
    if (nextAt < 0) break;
    if (nextAt - start > MAX_PASSWORD) continue;
    const end = urlPasswordEnd(out, start);
    if (end <= start) continue;
    result += out.slice(done, start) + MASK;
    done = end;
    URL_USER.lastIndex = end;
  }
  out = result + out.slice(done);
  out = redactGoDsn(out);
  out = out.replace(KEY_VALUE, (all, key: string, eq: string, value: string, offset: number) => {
    // Already hidden (a redacted location followed by `: why` in a message): keep its punctuation.
    if (value === '' || /^\*\*\*[:;,.)\]]?$/.test(value)) return all;
    // A URL parameter ends at `&` or `#`; keep what follows.
    const inUrl = offset > 0 && /[?&]/.test(out[offset - 1]);
    const rest = inUrl ? value.replace(/^[^&#]*/, '') : '';
    return `${key}${eq}${MASK}${rest}`;
  });
  out = out.replace(JSON_VALUE, (_all, key: string) => `${key}"${MASK}"`);
  out = out.replace(FLAG_VALUE, (all, flag: string, space: string, value: string) => (value === MASK ? all : `${flag}${space}${MASK}`));
  return out;
}

/** A command's arguments with their secrets hidden: redact() on each, and the value after a --password-like flag hidden whole. */
export function redactArgs(args: readonly string[]): string[] {
  return args.map((arg, i) => (i > 0 && SECRET_FLAG_ALONE.test(args[i - 1]) ? MASK : redact(arg)));
}

function shellWord(arg: string): string {
  return /^[\w@%+=:,./-]+$/.test(arg) ? arg : `'${arg.replace(/'/g, `'\\''`)}'`;
}

/** A command line to print or store (reports, bundles, lock files): redacted, then shell-quoted. */
export function commandLine(args: readonly string[]): string {
  return redactArgs(args).map(shellWord).join(' ');
}

// ---------- URLs with raw passwords ----------

/** The parts of a server URL, found robustly: the password runs from `://user:` to the last `@` before the host. */
export interface UrlParts {
  /** `postgres://` */
  scheme: string;
  user: string;
  /** null without a `:` in the userinfo. */
  password: string | null;
  /** The host and everything after it. */
  rest: string;
}

export function splitUrl(location: string): UrlParts | null {
  const m = /^([A-Za-z][A-Za-z0-9+.-]*:\/\/)/.exec(location);
  if (!m) return null;
  const scheme = m[1];
  let at = lastHostAt(location, scheme.length, location.length);
  if (at < 0) at = location.lastIndexOf('@'); // no host after any `@`: a broken URL, split all the same
  if (at < scheme.length) return { scheme, user: '', password: null, rest: location.slice(scheme.length) };
  const userinfo = location.slice(scheme.length, at);
  const colon = userinfo.indexOf(':');
  return {
    scheme,
    user: colon < 0 ? userinfo : userinfo.slice(0, colon),
    password: colon < 0 ? null : userinfo.slice(colon + 1),
    rest: location.slice(at + 1),
  };
}

// RFC 3986 userinfo: unreserved, sub-delims, ':' and valid %XX escapes.
const ENCODED_USERINFO = /^(?:[A-Za-z0-9\-._~!$&'()*+,;=:]|%[0-9A-Fa-f]{2})*$/;

/**
 * The URL with its user and password percent-encoded if they were written raw (holding `#`, `/`,
 * `?`, `@`, a space, a `%` not starting an escape, …), so a URL parser reads them as meant. A URL
 * that parses with a user or password in its authority is left as it is (an `@` in its query is
 * then just that); so are parts already percent-encoded (`%` and two hex digits is an escape).
 */
export function encodeUrlUserinfo(location: string): string {
  try {
    const url = new URL(location);
    if (url.username || url.password) return location;
  } catch {
    // unparseable as written: a raw `#`, `/` or `?` in the password cut the authority short
  }
  const parts = splitUrl(location);
  if (!parts || parts.password === null) return location;
  const encode = (s: string) => (ENCODED_USERINFO.test(s) ? s : encodeURIComponent(s));
  const password = parts.password === null ? '' : `:${encode(parts.password)}`;
  return `${parts.scheme}${encode(parts.user)}${password}@${parts.rest}`;
}
