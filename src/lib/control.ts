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
