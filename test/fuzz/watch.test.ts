import { describe } from '@jest/globals';
import { fuzzEach } from './suite.js';
import { amiTarget, smtpTarget, webhookTargets } from './targets.js';

// The watch service over the wire: signed webhooks of each provider, SMTP dialogues with the trap
// listener, and what an Asterisk Manager Interface sends its client after the login.
describe('fuzzing webhooks and the SMTP listener', () => {
  fuzzEach([...webhookTargets, smtpTarget, amiTarget] as never[], { 'webhook-twilio-sms': 400, 'webhook-twilio-voice': 300, 'webhook-twilio-recording': 300, 'webhook-telnyx': 400, 'webhook-generic': 400, smtp: 150, ami: 300 });
});
