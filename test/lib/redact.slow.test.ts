import { describe, expect, it } from '@jest/globals';
import { redact } from '../../src/lib/redact.js';

// The slow tier (npm run test:slow): a growth bound measured in time, so that it runs where CI runs it
// and not in the quick tiers on a loaded machine.

describe('long hostile texts', () => {
  it('stay linear', () => {
    const n = 400_000;
    const texts = ['a'.repeat(n), 'a://b:'.repeat(n / 6), 'a_'.repeat(n / 2), '-a'.repeat(n / 2), 'x://u:' + '@a'.repeat(n / 2), 'a://b:c @'.repeat(n / 9), 'a:b@tcp('.repeat(n / 8), 'password='.repeat(n / 9), '"a_'.repeat(n / 3)];
    for (const text of texts) {
      const started = Date.now();
      redact(text);
      // Quadratic versions of these patterns take minutes on 400 KB; linear ones tens of milliseconds.
      expect(Date.now() - started).toBeLessThan(3000);
    }
  });
});
