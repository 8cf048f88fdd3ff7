import { describe, expect, it } from '@jest/globals';
import { float4, openIncidentAt, recentBodiesAt, type IncidentBody, type OpenIncidentHit } from '../../src/vault/hits.js';
import { unrelatedNumbersAt, type SenderFigures } from '../../src/vault/sender-figures.js';

// Triage's batch-wide look-ups (src/triage/triage.ts): what openHitIncident and recentIncidentBodies
// read, picked in memory for one hit's time, with the same window bounds and order as the SQL.

const W = 7 * 86_400_000;
const t = Date.parse('2026-12-01T00:00:00.000Z');
const us = (ms: number) => BigInt(ms) * 1000n;

describe('batch look-ups', () => {
  it('openIncidentAt: the latest hit within the window of the sender or on the canary, ties by hit id', () => {
    const hits: OpenIncidentHit[] = [
      { incident_id: 'old', from_address: '+1', canary_id: 'A', us: us(t - W) - 1n, id: 1 }, // a microsecond outside the window
      { incident_id: 'edge', from_address: '+1', canary_id: 'B', us: us(t - W), id: 2 }, // on its edge: inside (BETWEEN)
      { incident_id: 'canary', from_address: '+2', canary_id: 'A', us: us(t - 1000), id: 3 },
      { incident_id: 'tie', from_address: '+3', canary_id: 'A', us: us(t - 1000), id: 4 },
      { incident_id: 'future', from_address: '+4', canary_id: 'C', us: us(t + W) + 1n, id: 5 },
    ];
    const at = new Date(t);
    expect(openIncidentAt(hits, '+1', 'Z', at, W)).toBe('edge');
    expect(openIncidentAt(hits, '+1', 'A', at, W)).toBe('tie');
    expect(openIncidentAt(hits, null, 'A', at, W)).toBe('tie');
    expect(openIncidentAt(hits, '+4', 'C', at, W)).toBeNull();
    expect(openIncidentAt(hits, '+9', 'Z', at, W)).toBeNull();
  });

  it('recentBodiesAt: bodies within the window, the latest first, at most 500', () => {
    const bodies: IncidentBody[] = Array.from({ length: 600 }, (_, i) => ({ incident_id: `i${i}`, body: `body ${i}`, us: us(t - i * 1000), id: i }));
    bodies.push({ incident_id: 'out', body: 'too late', us: us(t + W) + 1n, id: 1000 }, { incident_id: 'same', body: 'same time', us: us(t), id: 1001 });
    const got = recentBodiesAt(bodies, new Date(t), W);
    expect(got).toHaveLength(500);
    expect(got.slice(0, 3).map((b) => b.incident_id)).toEqual(['same', 'i0', 'i1']);
    expect(got.at(-1)!.incident_id).toBe('i498');
  });

  it('float4: a number as PostgreSQL gives a real back', () => {
    expect(float4(0.123)).toBe(0.123);
    expect(float4(0.1)).toBe(0.1);
    expect(float4(1 / 3)).toBe(0.33333334);
    expect(float4(0)).toBe(0);
    expect(float4(16777217)).toBe(16777216);
  });
});

// A sender's numbers no canary held, summed (sender-figures.ts): counted in memory only when the sums
// say exactly how many fall in the window; otherwise history is asked (null).
describe('unrelatedNumbersAt from sums', () => {
  const figures = (numbers: number, span: [number, number] | null, sums: { numbers: number; span: [number, number] | null }): SenderFigures => ({
    hits: 0, canaries: 0, on: new Set(), numbers,
    firstAt: span && new Date(span[0]), lastAt: span && new Date(span[1]),
    untriaged: { numbers: sums.numbers, firstAt: sums.span && new Date(sums.span[0]), lastAt: sums.span && new Date(sums.span[1]) },
  });
  const at = new Date(t);

  it('counts the sums whose contacts all lie inside the window, edges included, and none outside it', () => {
    expect(unrelatedNumbersAt(figures(0, null, { numbers: 0, span: null }), at, W)).toBe(0);
    expect(unrelatedNumbersAt(figures(0, null, { numbers: 40, span: [t - W, t + W] }), at, W)).toBe(40);
    expect(unrelatedNumbersAt(figures(3, [t - 1000, t], { numbers: 40, span: [t - 5, t + 5] }), at, W)).toBe(43);
    expect(unrelatedNumbersAt(figures(3, [t - 1000, t], { numbers: 40, span: [t + W + 1, t + 2 * W] }), at, W)).toBe(3);
    expect(unrelatedNumbersAt(figures(0, null, { numbers: 40, span: [t - 3 * W, t - W - 1] }), at, W)).toBe(0);
  });

  it('asks history when the contacts lie both inside and outside the window, or the kept numbers reach outside it', () => {
    expect(unrelatedNumbersAt(figures(0, null, { numbers: 40, span: [t - W - 1, t] }), at, W)).toBeNull();
    expect(unrelatedNumbersAt(figures(0, null, { numbers: 40, span: [t, t + W + 1] }), at, W)).toBeNull();
    expect(unrelatedNumbersAt(figures(3, [t - W - 1, t], { numbers: 0, span: null }), at, W)).toBeNull();
  });
});
