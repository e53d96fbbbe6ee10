import { ServiceError } from '../ports.js';

/** The operator's fix an adapter attached to a failure, for the log line. */
export function fixOf(err: unknown): string | undefined {
  return err instanceof ServiceError ? err.fix : undefined;
}
