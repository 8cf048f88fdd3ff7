export * from './hospitals.js';
export * from './channels.js';
export * from './pool.js';
export * from './canaries.js';
export * from './rotations.js';
export * from './exports.js';
export * from './incidents.js';
export * from './codes.js';
