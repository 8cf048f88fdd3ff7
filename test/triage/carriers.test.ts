import { describe, expect, it } from '@jest/globals';
import { carrierOf } from '../../src/lib/carriers.js';
import { LOW, rejudge, scoreHit } from '../../src/triage/score.js';

// A trap SIM kept alive hears from its carrier: 10086's monthly bill reaches every trap, and would
// otherwise be a hit on each with "the same sender contacted other canaries". What the message says
// still counts: fraud is sent under 10086 from fake base stations.

describe('carriers\' service numbers', () => {
  it('knows them as SMSD, a forwarding app or a webhook writes them, and nothing else', () => {
    expect(carrierOf('10086')).toEqual({ number: '10086', carrier: 'China Mobile' });
    expect(carrierOf('+8610010')).toEqual({ number: '10010', carrier: 'China Unicom' });
    expect(carrierOf('008610000')).toEqual({ number: '10000', carrier: 'China Telecom' });
    for (const other of ['+8613800138000', '1008', '100861', '106575000000', '95588', null, '']) expect(carrierOf(other)).toBeNull();
  });

  it('makes a bill from 10086 to every trap no hit worth an alert, and a message naming a family from it one', () => {
    const bill = scoreHit({ heldAtTime: true, background: null, names: [], babyBirthDate: null, otherCanaries: 29, unrelatedNumbers: 0, carrier: carrierOf('10086') });
    expect(bill.confidence).toBe(0);
    expect(bill.reasons.map((r) => r.code)).toEqual(['trap', 'carrier']);
    expect(bill.confidence).toBeLessThan(LOW);
    // Without the carrier it is what the hazard was: an alert on every trap.
    expect(scoreHit({ heldAtTime: true, background: null, names: [], babyBirthDate: null, otherCanaries: 29, unrelatedNumbers: 0 }).confidence).toBeGreaterThan(0.9);

    const spoofed = scoreHit({ heldAtTime: true, background: null, names: ['李娜'], babyBirthDate: '2026-11-20', otherCanaries: 3, unrelatedNumbers: 0, carrier: carrierOf('10086') });
    expect(spoofed.confidence).toBeCloseTo(1 - 0.1 * 0.2, 3);
    expect(spoofed.reasons.map((r) => r.code)).toEqual(['trap', 'names', 'birth-date', 'carrier']);

    // Re-judged later with the sender's other canaries: still none.
    expect(rejudge(bill.reasons, { otherCanaries: 29, unrelatedNumbers: 0 }).confidence).toBe(0);
  });
});
