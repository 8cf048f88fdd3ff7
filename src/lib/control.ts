// Control characters in text that came from outside (a log line, a field), made visible before the text
// is stored or shown: a raw NUL cannot be stored in PostgreSQL text, a newline or carriage return would
// forge lines of a message or a CSV file, and terminal escapes or bidirectional overrides would change
// what an investigator sees. Pure.

// eslint-disable-next-line no-control-regex -- control characters are what it looks for
const CONTROLS = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;
// eslint-disable-next-line no-control-regex
const ANY_CONTROL = /[\x00-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069]/;
const NAMED: Record<string, string> = { '\t': '\\t', '\n': '\\n', '\r': '\\r' };

/**
 * The text with each C0/C1 control character, DEL, line or paragraph separator and bidirectional
 * override written as an escape: \t \n \r, \xNN, \uNNNN. Backslashes are left alone, so escaping twice
 * changes nothing (the text is for people to read; the original file keeps the exact bytes).
 */
export function escapeControls(text: string): string {
  if (!ANY_CONTROL.test(text)) return text;
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return NAMED[c] ?? (code < 0x100 ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`);
  });
}

/**
 * Outside text echoed in a message (an error line, a reason): its first `max` characters, "…" when cut,
 * control characters escaped. Whatever the input (a 100 KB field, a UTF-16 file read as UTF-8), the
 * message stays short and one line.
 */
export function excerpt(text: string, max = 200): string {
  return escapeControls(text.length > max ? `${text.slice(0, max)}…` : text);
}

/** A value quoted in a message: the excerpt in double quotes, as JSON writes it (quotes and backslashes escaped). */
export function quoted(text: string, max = 80): string {
  return escapeControls(JSON.stringify(text.length > max ? `${text.slice(0, max)}…` : text));
}

/** Most problems one message lists; a file with thousands of broken entries names the first ones. */
export const MAX_PROBLEMS = 20;

/** Problems one per line, at most MAX_PROBLEMS of them and a count of the rest. */
export function problemLines(problems: readonly string[]): string {
  const shown = problems.slice(0, MAX_PROBLEMS);
  if (problems.length > MAX_PROBLEMS) shown.push(`… and ${problems.length - MAX_PROBLEMS} more problems`);
  return shown.join('\n');
}

/** Longest message an error keeps; longer ones are cut (a defence: builders quote excerpts). */
export const MAX_MESSAGE = 3000;

/**
 * An error message safe to print: each line's control characters escaped (the line breaks between
 * lines kept), and at most MAX_MESSAGE characters.
 */
export function boundedMessage(message: string): string {
  const lines = message.split('\n').map(escapeControls).join('\n');
  if (lines.length <= MAX_MESSAGE) return lines;
  const tail = ` … (cut: ${lines.length.toLocaleString('en')} characters)`;
  return lines.slice(0, MAX_MESSAGE - tail.length) + tail;
}
