/** Socket errors that mean the server could not be reached or went away. */
const NETWORK_CODES = new Set(['ECONNREFUSED', 'ECONNRESET', 'ECONNABORTED', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENETUNREACH', 'ENOTFOUND', 'EAI_AGAIN']);
/** SQLSTATEs outside class 08 that mean "not now": shutting down (57P01..03) and too many connections (53300). */
const UNAVAILABLE_STATES = new Set(['57P01', '57P02', '57P03', '53300']);
/** What node-postgres says when a connection drops or cannot be had in time (these errors carry no code). */
const CLIENT_MESSAGES = [
  'Connection terminated',
  'timeout exceeded when trying to connect',
  'Client has encountered a connection error and is not queryable',
  'Query read timeout',
  'Connection timed out',
];

/**
 * Whether `err` says PostgreSQL is unreachable or unavailable for now (connection refused, reset or timed out, the
 * server shutting down or out of connections), as opposed to a bug or a rejected statement: the edge answers such a
 * failure with "try again" instead of an error report.
 */
export function isDatabaseUnavailable(err: unknown, depth = 0): boolean {
  if (!(err instanceof Error) || depth > 5) return false;
  const code = (err as { code?: unknown }).code;
  if (typeof code === 'string' && (NETWORK_CODES.has(code) || UNAVAILABLE_STATES.has(code) || /^08[0-9A-Z]{3}$/.test(code))) return true;
  if (CLIENT_MESSAGES.some((m) => err.message.includes(m))) return true;
  // Node reports a refused connection to a host with several addresses as an AggregateError of each attempt.
  if (err instanceof AggregateError && err.errors.some((e: unknown) => isDatabaseUnavailable(e, depth + 1))) return true;
  return isDatabaseUnavailable(err.cause, depth + 1);
}
