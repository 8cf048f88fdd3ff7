import { boundedMessage } from './control.js';

// Errors a user can act on. The CLI prints their message on one line and exits 1; anything else is a bug.
// The message is bounded here too, whatever its builder quoted: no raw control characters, no huge echo.
export class UserError extends Error {
  constructor(message: string) {
    super(boundedMessage(message));
    this.name = 'UserError';
  }
}
