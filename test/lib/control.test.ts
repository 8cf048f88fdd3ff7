import { describe, expect, it } from '@jest/globals';
import { escapeControls } from '../../src/lib/control.js';

describe('escapeControls', () => {
  it('writes C0, DEL, C1, line separators and bidi controls as visible escapes', () => {
    expect(escapeControls('a\x1b[31mred\x1b[0m\rfake\nline\ttab\x00\x7f\x85\x9b2J')).toBe('a\\x1b[31mred\\x1b[0m\\rfake\\nline\\ttab\\x00\\x7f\\x85\\x9b2J');
    expect(escapeControls('x\u2028y\u2029z\u202eevil\u2066')).toBe('x\\u2028y\\u2029z\\u202eevil\\u2066');
  });

  it('leaves ordinary text, CJK and emoji alone', () => {
    const text = 'cradle: 产科一病区 «quoted» — ok ✓ 👶 C:\\path';
    expect(escapeControls(text)).toBe(text);
  });
});
