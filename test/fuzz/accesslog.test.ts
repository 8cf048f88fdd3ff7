import { describe } from '@jest/globals';
import { fuzzEach } from './suite.js';
import { accessTargets } from './targets.js';

// Access logs in each format, imported into one hospital's vault with planted canaries.
describe('fuzzing access-log imports', () => {
  fuzzEach(accessTargets as never[], 300);
});
