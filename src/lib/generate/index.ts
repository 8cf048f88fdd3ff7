// Public API of the canary generator: pure functions, no I/O.
export { createRandom, truncatedNormal, weightedTable, type Random, type WeightedTable } from './random.js';
export { confusable, latinOf, NameIndex, withinOneEdit } from './names.js';
export { generateFamilies, generateFamily, NICU_WARD, type FamilyOptions } from './family.js';
export { localeTables } from './profile-family.js';
export type { Bounded, LocaleTables, NameSampler, Sampler } from './locale.js';
export { drawKept, drawQuantile, generateFamilyFromProfile, weeksForWeight, type ProfileFamilyOptions } from './profile-family.js';
export { ID_WEIGHTS, idCheckDigit, idNumber, idSex, validIdNumber } from './id-number.js';
export { addressTokens, headAndBody, slotKey, templateOf, templateParts, type AddressToken } from './address-template.js';
export { drawColumnValue, fromQuantiles, roundToProfile, wallMs, wallText, withTimePrecision, type DrawContext } from './columns.js';
