import type { Family, Parent, PersonName } from '../domain/index.js';

// The family fields a mapping may name, and how each is read from a family. Light: the CLI's --map
// parser checks field names against it without loading the mapping's parser.

export type FieldKind = 'text' | 'phone' | 'date' | 'instant' | 'number' | 'sex';

interface FieldDef {
  kind: FieldKind;
  get(family: Family): unknown;
}

function nameFields(prefix: string, pick: (f: Family) => PersonName | undefined): Record<string, FieldDef> {
  return {
    [`${prefix}.name`]: { kind: 'text', get: (f) => pick(f)?.full ?? null },
    [`${prefix}.familyName`]: { kind: 'text', get: (f) => pick(f)?.family ?? null },
    [`${prefix}.givenName`]: { kind: 'text', get: (f) => pick(f)?.given ?? null },
    [`${prefix}.latin`]: { kind: 'text', get: (f) => pick(f)?.latin ?? null },
  };
}

function parentFields(role: 'mother' | 'father'): Record<string, FieldDef> {
  const parent = (f: Family): Parent | null => (role === 'mother' ? f.mother : f.father);
  return {
    ...nameFields(role, (f) => parent(f)?.name),
    [`${role}.birthDate`]: { kind: 'date', get: (f) => parent(f)?.birthDate ?? null },
    [`${role}.age`]: { kind: 'number', get: (f) => parent(f)?.age ?? null },
    [`${role}.phone`]: { kind: 'phone', get: (f) => parent(f)?.phone ?? null },
    [`${role}.email`]: { kind: 'text', get: (f) => parent(f)?.email ?? null },
    [`${role}.idNumber`]: { kind: 'text', get: (f) => parent(f)?.idNumber ?? null },
  };
}

/** Every family field a mapping may name. */
export const FIELDS: Readonly<Record<string, FieldDef>> = {
  ...parentFields('mother'),
  ...parentFields('father'),
  ...nameFields('baby', (f) => f.baby.name),
  'baby.sex': { kind: 'sex', get: (f) => f.baby.sex },
  'baby.birthTime': { kind: 'instant', get: (f) => f.baby.birthTime },
  'baby.weightGrams': { kind: 'number', get: (f) => f.baby.weightGrams },
  'baby.weightKg': { kind: 'number', get: (f) => (f.baby.weightGrams / 1000).toFixed(2) },
  'baby.gestationWeeks': { kind: 'number', get: (f) => f.baby.gestationWeeks ?? null },
  /** Map it to the hospital's codes: "map": {"vaginal": "顺产", "caesarean": "剖宫产"}. */
  deliveryMode: { kind: 'text', get: (f) => f.deliveryMode ?? null },
  hospital: { kind: 'text', get: (f) => f.hospital },
  ward: { kind: 'text', get: (f) => f.ward },
  /** The mother's ward, where her row has one of its own (a NICU baby's mother is on an obstetric ward). */
  motherWard: { kind: 'text', get: (f) => f.motherWard ?? f.ward },
  admittedAt: { kind: 'instant', get: (f) => f.admittedAt },
  dischargedAt: { kind: 'instant', get: (f) => f.dischargedAt },
  address: { kind: 'text', get: (f) => f.address.full },
  district: { kind: 'text', get: (f) => f.address.district },
  street: { kind: 'text', get: (f) => f.address.street },
};
