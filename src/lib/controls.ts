// Text from outside (a log line, a file name, a header) can reach an error line. Printed raw, an ESC
// could recolour or rewrite the terminal, a CR overwrite the line, a newline or U+2028 start a fake
// one, and bidi overrides reorder what is read. These are written as visible escapes instead.

// C0 controls (newline included), DEL, C1 controls, the Unicode line and paragraph separators, and
// the bidirectional embedding, override and isolate controls.
// eslint-disable-next-line no-control-regex -- matching controls is the point
const CONTROLS = /[\u0000-\u001f\u007f-\u009f\u2028\u2029\u202a-\u202e\u2066-\u2069]/g;

/** `text` with every control character written as \xNN (up to U+00FF) or \uNNNN: safe on one terminal line. */
export function escapeControls(text: string): string {
  return text.replace(CONTROLS, (c) => {
    const code = c.charCodeAt(0);
    return code <= 0xff ? `\\x${code.toString(16).padStart(2, '0')}` : `\\u${code.toString(16).padStart(4, '0')}`;
  });
}
