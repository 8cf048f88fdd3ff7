import { boundedMessage } from './control.js';

// Errors a user can act on. The CLI prints their message on one line and exits 1; anything else is a bug.
// The message is bounded here too, whatever its builder quoted: no raw control characters, no huge echo.
export class UserError extends Error {
  constructor(message: string) {
    super(boundedMessage(message));
    this.name = 'UserError';
  }
}

/** What a caught value says: an Error's message, anything else as text. */
export function errorMessage(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}

/** A system error's code (ENOENT, EADDRINUSE…), if the caught value has one. */
export function errorCode(err: unknown): string | undefined {
  return err instanceof Error && 'code' in err && typeof err.code === 'string' ? err.code : undefined;
}
