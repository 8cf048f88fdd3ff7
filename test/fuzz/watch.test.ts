import { describe } from '@jest/globals';
import { fuzzEach } from './suite.js';
import { smtpTarget, webhookTargets } from './targets.js';

// The watch service over the wire: signed webhooks of each provider, and SMTP dialogues with the trap listener.
describe('fuzzing webhooks and the SMTP listener', () => {
  fuzzEach([...webhookTargets, smtpTarget] as never[], { 'webhook-twilio-sms': 400, 'webhook-twilio-voice': 300, 'webhook-telnyx': 400, 'webhook-generic': 400, smtp: 150 });
});
