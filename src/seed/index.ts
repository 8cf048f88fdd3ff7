export { plantCanaries, reconcileBatches, type SeedRequest, type SeedResult, type PlannedCanary, type ReconcileResult } from './plant.js';
export { rotate, birthWindow, comingBirthWindow, type RotateRequest, type RotateResult } from './rotate.js';
export { advanceCanaries, type AdvanceRequest, type AdvanceResult, type AdvancedEvent } from './lifecycle.js';
export { allocateCanaries, type Allocation } from './allocate.js';
export { realBirthsPerWard, weekPlan } from './week-plan.js';
