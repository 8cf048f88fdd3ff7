import { describe, expect, it } from '@jest/globals';
import { isTimeZone } from '../../src/lib/zone-name.js';

// The time zone check takes what Intl.DateTimeFormat takes: canonical names from the cheap list,
// aliases by constructing a formatter.

describe('isTimeZone', () => {
  it('takes canonical names and the aliases a DateTimeFormat takes, and nothing else', () => {
    for (const name of ['Asia/Shanghai', 'America/New_York', 'UTC', 'Etc/UTC', 'Asia/Kolkata', 'Asia/Calcutta', 'Etc/GMT-8']) expect(isTimeZone(name)).toBe(true);
    for (const name of ['Asia/Beijing', 'Mars/Olympus', '', 'asia/shanghai_x']) expect(isTimeZone(name)).toBe(false);
  });
});
