import type { OutboxEntry } from '../store-data.js';
import type { ThreadHead } from '../store-ports.js';
import { isCardProgress } from './plan-folds.js';

/**
 * The order in which stale cards get the workspace's chat.update budget (about 50 a minute), most useful first:
 *  1. cards whose thread has step progress queued in a channel with a backlog: the update shows it at once, and the
 *     progress is then folded into the card instead of taking one of the channel's posts (planFolds);
 *  2. cards whose thread still has anything else queued (its thread does not show its latest state yet);
 *  3. the rest, whose thread already shows its latest state in its last reply: finished deploys first, then the newest.
 * Within 1 and 2 the thread whose oldest queued entry is oldest goes first.
 */
export function rankStaleCards(o: { stale: readonly ThreadHead[]; queued: readonly OutboxEntry[]; backlogged: ReadonlySet<string> }): ThreadHead[] {
  const byKey = new Map(o.stale.map((t) => [t.key, t]));
  const oldest = new Map<string, { progress: number; any: number }>();
  for (const e of o.queued) {
    if (e.attemptedAt !== undefined) continue;
    const thread = byKey.get(e.threadKey);
    if (!thread) continue;
    const seen = oldest.get(e.threadKey) ?? { progress: Infinity, any: Infinity };
    if (o.backlogged.has(e.channel) && isCardProgress(e, thread)) seen.progress = Math.min(seen.progress, e.seq);
    seen.any = Math.min(seen.any, e.seq);
    oldest.set(e.threadKey, seen);
  }
  const ranked = o.stale.map((t) => {
    const q = oldest.get(t.key);
    if (q && q.progress !== Infinity) return { t, tier: 0, seq: q.progress };
    if (q) return { t, tier: 1, seq: q.any };
    return { t, tier: 2, seq: 0 };
  });
  ranked.sort((a, b) => a.tier - b.tier || a.seq - b.seq || Number(Boolean(b.t.outcome)) - Number(Boolean(a.t.outcome)) || b.t.createdAt - a.t.createdAt);
  return ranked.map((r) => r.t);
}
