/**
 * True when `id` is a Slack user id (`U0123ABCD`, or `W…` on Enterprise Grid) rather than a GitHub login or a word the
 * bot records as an actor (`chain`, `ttl`, `drill`). The one place that knows what a Slack user id looks like.
 */
export function isSlackUserId(id: string): boolean {
  return /^[UW][A-Z0-9]+$/.test(id);
}
