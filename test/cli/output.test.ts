import { describe, expect, it } from '@jest/globals';
import { progressBar, table } from '../../src/cli/output.js';

describe('terminal output', () => {
  it('draws a progress bar for the fraction done, clamped to 0–100%', () => {
    expect(progressBar(0, 10)).toBe('[░░░░░░░░░░]   0%');
    expect(progressBar(0.5, 10)).toBe('[█████░░░░░]  50%');
    expect(progressBar(0.999, 10)).toBe('[██████████]  99%');
    expect(progressBar(1.7, 4)).toBe('[████] 100%');
    expect(progressBar(Number.NaN, 4)).toBe('[░░░░]   0%');
  });

  it('pads table columns, counting CJK characters double', () => {
    expect(table(['A', 'B'], [['产科', 1], ['x', null]])).toBe('A     B\n产科  1\nx');
  });
});
