/**
 * The answer to a person whose command, typed word or button press could not be handled: what failed, why, and that
 * nothing was changed (callers only use it when that is so).
 */
export function renderFailure(o: { what: string; error: unknown }): string {
  const why = o.error instanceof Error ? o.error.message : String(o.error);
  return `⚠️ ${o.what} failed: ${why}. Nothing was changed; try again.`;
}
