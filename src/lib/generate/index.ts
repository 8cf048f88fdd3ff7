// Public API of the canary generator: pure functions, no I/O.
export { createRandom, truncatedNormal, weightedTable, type Random, type WeightedTable } from './random.js';
export { confusable, latinOf, NameIndex, withinOneEdit } from './names.js';
export { generateFamilies, generateFamily, localeTables, NICU_WARD, type FamilyOptions } from './family.js';
export type { Bounded, LocaleTables, NameSampler, Sampler } from './locale.js';
