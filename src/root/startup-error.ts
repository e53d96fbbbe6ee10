/** A start-up problem with a one-line explanation for the operator (no stack trace). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}
