import { describe } from '@jest/globals';
import { fuzzEach } from './suite.js';
import { ingestTargets } from './targets.js';

// `cradle ingest`: call records (Asterisk and mapped CSV), mail, mbox, events, Gammu SMSD inbox files, into a trap vault.
describe('fuzzing ingest', () => {
  fuzzEach(ingestTargets as never[], { 'cdr-asterisk': 300, 'cdr-csv': 300, mail: 250, mbox: 250, event: 1000, 'sms-gammu-files': 300 });
});
