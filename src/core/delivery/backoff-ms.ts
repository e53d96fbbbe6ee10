const MAX_BACKOFF_MS = 60_000;

/** How long to wait after `failures` failures in a row: 1 s, doubling, at most a minute. */
export function backoffMs(failures: number): number {
  return Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(failures - 1, 6));
}
