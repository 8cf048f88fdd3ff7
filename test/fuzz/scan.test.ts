import { describe } from '@jest/globals';
import { fuzzEach } from './suite.js';
import { scanTargets } from './targets.js';

// Scan readers for each file type and encoding; each case scans the fuzzed file and a good one after it.
describe('fuzzing scan readers', () => {
  fuzzEach(scanTargets as never[], { 'scan-csv': 250, 'scan-tsv': 150, 'scan-json': 200, 'scan-jsonl': 200, 'scan-xlsx': 250, 'scan-text': 150, 'scan-encodings': 200 });
});
