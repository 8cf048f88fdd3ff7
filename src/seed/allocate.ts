// How a week's canaries are shared among wards. Pure: no database, no randomness.
//
// "births" (the default) follows the hospital's real births per ward, so that a ward's canaries
// are as common among its rows as the ward's births are: a ward with 8% of births gets about 8% of
// the canaries, and the canaries' weights, stays and ward mix look like the hospital's. "equal"
// gives every ward the same number, the old behaviour: a small ward (NICU) is then over-represented,
// which a thief can see in the ward mix and the birth weights of the canary rows.
//
// The trade-off is coverage: each ward is an exposure channel (ward:NAME), and a leak through a
// small ward can only be traced if that ward holds canaries of the weeks it leaks. So every ward
// gets at least `floor` canaries a week (default 1), and the rest follows births. With a small
// weekly total the floor dominates: 7 a week over 3 wards with 8% NICU gives NICU 1 (14%) rather
// than 0.56; the excess shrinks as the total grows (50 a week: NICU 4, 8%).

export type Allocation = 'births' | 'equal';

/**
 * Split `total` canaries over the wards (in the order of `births`' keys, which breaks ties):
 * every ward gets at least `floor`; wards whose share of births would give them less are held
 * at the floor and the others share the rest in proportion to their births, rounded by largest
 * remainder so that the parts add up to `total` exactly (ties go in ward order, starting `turn`
 * wards further on). With no births at all (an empty target),
 * or `allocation` "equal", the split is equal. Throws when total < floor × wards.
 */
export function allocateCanaries(births: Readonly<Record<string, number>>, total: number, floor = 1, allocation: Allocation = 'births', turn = 0): Record<string, number> {
  const wards = Object.keys(births);
  if (wards.length === 0) throw new Error('no wards to allocate canaries to');
  if (!Number.isInteger(total) || !Number.isInteger(floor) || floor < 0 || total < floor * wards.length) {
    throw new Error(`cannot give each of ${wards.length} wards at least ${floor} of ${total} canaries`);
  }
  const weight = (w: string) => (allocation === 'equal' || wards.every((x) => !(births[x] > 0)) ? 1 : Math.max(0, births[w] || 0));
  const out: Record<string, number> = Object.fromEntries(wards.map((w) => [w, floor]));
  // Water-filling: a ward whose proportional share is below the floor stays at the floor; the rest
  // is shared among the others, recomputed until every share is at least the floor. Not every ward
  // can fall below the floor (the shares add up to what is left, at least floor × wards), so some
  // stay open, all with a positive weight.
  let open = [...wards];
  let rest = total;
  for (;;) {
    const sum = open.reduce((a, w) => a + weight(w), 0);
    const low = open.filter((w) => (rest * weight(w)) / sum < floor);
    if (low.length === 0) break;
    open = open.filter((w) => !low.includes(w));
    rest -= floor * low.length;
  }
  const sum = open.reduce((a, w) => a + weight(w), 0);
  const exact = open.map((w) => ({ w, x: (rest * weight(w)) / sum }));
  for (const { w, x } of exact) out[w] = Math.floor(x);
  let left = rest - exact.reduce((a, { x }) => a + Math.floor(x), 0);
  // Equal remainders (46/46% wards, or an equal split of 10 over 3) are broken in ward order turned
  // by `turn` (the caller passes the week number), so that no ward gets the extra canary every week.
  const order = (w: string) => (open.indexOf(w) - (turn % open.length) + open.length) % open.length;
  const frac = (x: number) => x - Math.floor(x);
  const byRemainder = [...exact].sort((a, b) => (Math.abs(frac(b.x) - frac(a.x)) > 1e-9 ? frac(b.x) - frac(a.x) : order(a.w) - order(b.w)));
  for (let i = 0; left > 0; i++, left--) out[byRemainder[i].w]++;
  return out;
}
