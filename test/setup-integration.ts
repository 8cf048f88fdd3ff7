import { afterAll } from '@jest/globals';
import { closeLingering, lingerEmbedded } from '../src/db/index.js';

// Integration tests run many commands in one process: embedded databases stay open between them
// (src/db/open.ts, lingering) and close when the file ends. A test that hands a directory to another
// process, copies it or checks its lock calls closeLingering() or lingerEmbedded(false) first.
lingerEmbedded(true);
afterAll(() => closeLingering());
