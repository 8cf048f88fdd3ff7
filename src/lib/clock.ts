import { UserError } from './errors.js';

// What a command takes as "now": the system clock, or CRADLE_NOW, an ISO 8601 instant with its
// offset (2026-12-06T16:30:00Z, 2026-12-07T00:30:00+08:00), so tests and replays run at a fixed time
// without waiting for it. Read by the CLI (src/cli) and passed down as a `now` argument.

const INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d+)?)?(Z|[+-]\d{2}:?\d{2})$/;

/** CRADLE_NOW when set, else the system clock; a CRADLE_NOW that is not an instant with its offset is a user error. */
export function clockNow(env: NodeJS.ProcessEnv = process.env): Date {
  const text = env.CRADLE_NOW?.trim();
  if (!text) return new Date();
  const at = new Date(text);
  if (!INSTANT.test(text) || Number.isNaN(at.getTime())) throw new UserError(`CRADLE_NOW wants an ISO 8601 instant with its offset, like 2026-12-06T16:30:00Z or 2026-12-07T00:30:00+08:00, not "${text}"`);
  return at;
}
