// A failure the user can act on: printed as one line, never as a stack trace.
export class UserError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'UserError';
  }
}

/** `file:line: what is wrong` — the shape every input error takes. */
export function inputError(file: string, line: number | null, what: string): UserError {
  return new UserError(line === null ? `${file}: ${what}` : `${file}:${line}: ${what}`);
}
