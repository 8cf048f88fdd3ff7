import { describe } from '@jest/globals';
import { fuzzEach } from './suite.js';
import { configTargets } from './targets.js';

// cradle.config.json and mapping files, loaded as the CLI loads them.
describe('fuzzing config and mapping files', () => {
  fuzzEach(configTargets as never[], 1500);
});
