export * from './mapping.js';
export * from './check.js';
export * from './families.js';
export * from './events.js';
