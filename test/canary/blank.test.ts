import { describe, expect, it } from '@jest/globals';
import { applyProfile, blankShares } from '../../src/canary/profile.js';
import type { ColumnProfile, Family, HospitalProfile } from '../../src/domain/index.js';
import { createRandom, generateFamily, localeTables } from '../../src/lib/generate/index.js';
import { parseMapping, previewRows } from '../../src/targetdb/index.js';

// A canary leaves a mapped column empty as often as the hospital's real rows do (the column profile's
// null share): columns never filled stay empty, columns always filled stay filled, a column empty in
// 40% of families is empty in about 40% of canaries; a father's columns are empty with his absence
// first; the trap phone is never emptied, and a hospital that mostly leaves it empty is told what that costs.

const mapping = parseMapping(
  {
    inserts: [
      {
        as: 'm',
        table: 'ZY_BRXX',
        columns: {
          XM: 'mother.name',
          LXDH: { field: 'mother.phone', phone: 'national' },
          SFZH: 'mother.idNumber',
          CSRQ: 'mother.birthDate',
          JTDZ: 'address',
          QX: 'district',
          ZFXM: 'father.name',
          ZFSFZH: 'father.idNumber',
          RYSJ: { field: 'admittedAt', format: 'yyyy-MM-dd HH:mm:ss' },
        },
      },
    ],
  },
  'blank-test',
);
const FATHER = localeTables('zh-CN').fatherShare;
const SHARES: Record<string, number> = { XM: 0, LXDH: 0, SFZH: 1, CSRQ: 0, JTDZ: 0.4, QX: 0.02, ZFXM: 1 - FATHER, ZFSFZH: 0.4, RYSJ: 0 };
const column = (nullShare: number, field: string): ColumnProfile => ({ dataType: 'character varying', nullShare, rows: 1000, distinct: 500, field, identifying: true });
const profileWith = (shares: Record<string, number>): HospitalProfile =>
  ({
    version: 1,
    hospital: 'h1',
    learnedAt: '2026-12-01T00:00:00.000Z',
    families: 1000,
    k: 5,
    mapping: { source: 'blank-test', sha256: 'x' },
    columns: Object.fromEntries(mapping.inserts[0].columns.filter((c) => c.value.type === 'field').map((c) => [`m.${c.column}`, column(shares[c.column] ?? 0, (c.value as { field: string }).field)])),
    family: {},
  }) as HospitalProfile;

function families(n: number, seed: string): Family[] {
  const rng = createRandom(seed);
  return Array.from({ length: n }, (_, i) => {
    const f = generateFamily(rng, {
      locale: 'zh-CN', hospital: '测试妇幼保健院', ward: '产科一病区', districts: ['鼓楼区', '玄武区'], timeZone: 'Asia/Shanghai',
      birthFrom: new Date('2026-11-01T00:00:00Z'), birthTo: new Date('2026-11-30T00:00:00Z'),
      phone: () => `+86139${String(i).padStart(8, '0')}`, emailDomain: () => null,
      // From a profile that says nothing: the locale's tables, with ID-card numbers for both parents.
      profile: { wards: { total: 0, values: {}, other: 0 } },
    });
    // As drafting does: every canary's mother carries a trap phone.
    f.mother.phone ??= `+86138${String(i).padStart(8, '0')}`;
    return f;
  });
}

function nullShares(fams: Family[]): Record<string, number> {
  const rows = fams.map((f) => previewRows(mapping, f, 'Asia/Shanghai')['public.ZY_BRXX']);
  return Object.fromEntries(Object.keys(SHARES).map((c) => [c, rows.filter((r) => r[c] === null).length / rows.length]));
}

describe('canaries leave mapped columns empty with the real rows\' null shares', () => {
  it('matches shares of 0, about 0.4 and 1 within sampling error, with the father\'s columns empty first with the father', () => {
    const fams = families(3000, 'blank');
    applyProfile(fams, profileWith(SHARES), mapping, 'Asia/Shanghai', createRandom('blank:profile'));
    const got = nullShares(fams);
    for (const [c, want] of Object.entries(SHARES)) expect([c, Math.abs(got[c] - want) < 0.03]).toEqual([c, true]);
    expect(got.SFZH).toBe(1);
    expect(got.XM).toBe(0);
    expect(got.CSRQ).toBe(0);
    // A family without a father has both his columns empty; the ID number's extra nulls fall among the fathers there are.
    const noFather = fams.filter((f) => f.father === null);
    expect(noFather.length).toBeGreaterThan(0);
    expect(noFather.every((f) => previewRows(mapping, f, 'Asia/Shanghai')['public.ZY_BRXX'].ZFSFZH === null)).toBe(true);
    expect(blankShares(profileWith(SHARES), mapping, FATHER).get('father.idNumber')).toBeCloseTo((0.4 - (1 - FATHER)) / FATHER, 6);
    expect(blankShares(profileWith(SHARES), mapping, FATHER).has('father.name')).toBe(false);
    // A field written to a NOT NULL column (whose empties are empty text) is never left empty.
    expect(blankShares(profileWith(SHARES), mapping, FATHER, new Set(['m.SFZH'])).has('mother.idNumber')).toBe(false);
    // The family keeps its values (the vault's copy); only what is written is empty.
    expect(fams.every((f) => typeof f.mother.idNumber === 'string')).toBe(true);
  });

  it('is reproducible with a seed, and without a profile fills every column as before', () => {
    const a = families(50, 'same');
    const b = families(50, 'same');
    applyProfile(a, profileWith(SHARES), mapping, 'Asia/Shanghai', createRandom('p'));
    applyProfile(b, profileWith(SHARES), mapping, 'Asia/Shanghai', createRandom('p'));
    expect(a.map((f) => f.blank ?? [])).toEqual(b.map((f) => f.blank ?? []));
    const c = families(50, 'same');
    applyProfile(c, null, mapping, 'Asia/Shanghai', createRandom('p'));
    expect(c.every((f) => f.blank === undefined)).toBe(true);
    expect(nullShares(c).SFZH).toBe(0);
    expect(nullShares(c).ZFSFZH).toBeCloseTo(1 - FATHER, 1);
  });

  it('never empties the trap phone: a hospital that mostly leaves it empty is warned with the share of canaries that differ', () => {
    const fams = families(200, 'phone');
    const warnings = applyProfile(fams, profileWith({ ...SHARES, LXDH: 0.7 }), mapping, 'Asia/Shanghai', createRandom('phone:profile'));
    expect(nullShares(fams).LXDH).toBe(0);
    expect(warnings).toContainEqual(expect.stringMatching(/^real rows leave public\.ZY_BRXX\.LXDH \(the mother's phone\) empty in 70% of families, but every canary carries its trap number there: about 70% of canaries differ/));
    expect(applyProfile(families(5, 'q'), profileWith(SHARES), mapping, 'Asia/Shanghai', createRandom('q')).filter((w) => /mother's phone/.test(w))).toEqual([]);
  });
});
