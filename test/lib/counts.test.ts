import { describe, expect, it } from '@jest/globals';
import { countsOf, shares } from '../../src/lib/counts.js';

describe('the k rule', () => {
  it('keeps values shared by at least k families, counts the rest as other and skips nulls', () => {
    const counts = countsOf([['产科一病区', 40], ['新生儿科', 5], ['陈婷婷', 4], [null, 9]], 5);
    expect(counts).toEqual({ total: 49, values: { 产科一病区: 40, 新生儿科: 5 }, other: 4 });
    expect(shares(counts)).toEqual([['产科一病区', 40 / 49], ['新生儿科', 5 / 49]]);
  });

  it('keeps nothing of a value one family holds, whatever k', () => {
    expect(countsOf([['13961250001', 1]], 2).values).toEqual({});
  });
});
