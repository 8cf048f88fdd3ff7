// Errors a user can act on. The CLI prints their message on one line and exits 1; anything else is a bug.
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}
