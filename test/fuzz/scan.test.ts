import { describe } from '@jest/globals';
import { fuzzEach } from './suite.js';
import { scanTargets } from './targets.js';

// Scan readers for each file type and encoding; each case scans the fuzzed file and a good one after it.
describe('fuzzing scan readers', () => {
  fuzzEach(scanTargets as never[], { 'scan-csv': 120, 'scan-tsv': 80, 'scan-json': 100, 'scan-jsonl': 100, 'scan-xlsx': 150, 'scan-text': 80, 'scan-encodings': 100 });
});
