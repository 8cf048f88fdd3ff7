export * from './mapping.js';
export * from './check.js';
export * from './families.js';
export * from './read.js';
export * from './wards.js';
export * from './reuse.js';
export * from './events.js';
