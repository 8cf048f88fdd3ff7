export { plantCanaries, reconcileBatches, type SeedRequest, type SeedResult, type PlannedCanary, type ReconcileResult } from './plant.js';
export { rotate, birthWindow, type RotateRequest, type RotateResult } from './rotate.js';
export { allocateCanaries, type Allocation } from './allocate.js';
export { realBirthsPerWard, weekPlan } from './week-plan.js';
