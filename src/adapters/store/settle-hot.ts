import type { History } from './history.js';
import { failpoint } from './store-files.js';
import type { HotState } from './hot-journal.js';

export interface SettleOptions {
  now: () => number;
  /** How long a finished deploy stays in the hot state (default 10 min): late replies and card edits still find it. */
  hotForMs?: number;
  /** How long a delivery claim stays in the hot state (default 3 days: GitHub redelivers up to 3 days back). */
  claimsHotForMs?: number;
  /** Least time between two looks for what can leave (default 1 s). */
  everyMs?: number;
}

/**
 * Moves what has settled from the hot state to the history, at most once per `everyMs`: finished deploys nothing refers
 * to any more (not an environment's current deploy, no queued message, no pending confirmation, card up to date, no
 * running drill or errors banner on it), their decided confirmations, and old delivery claims. The history is appended
 * and synced first; only then do the records leave the hot document (a crash in between keeps both, and the hot copy
 * wins). A record changed during the append stays hot and leaves next time.
 */
export function createSettler(hot: HotState, history: History, o: SettleOptions): () => Promise<void> {
  let last = -Infinity;
  return async () => {
    const now = o.now();
    if (now - last < (o.everyMs ?? 1000)) {
      await history.appendPending();
      return;
    }
    last = now;
    const d = hot.data;
    const inUse = new Set<string>();
    for (const e of Object.values(d.envs)) if (e.threadKey) inUse.add(e.threadKey);
    for (const e of d.outbox) inUse.add(e.threadKey);
    for (const c of Object.values(d.confirmations)) if (c.status === 'pending') inUse.add(c.threadKey);
    for (const x of Object.values(d.drills ?? {})) if (x.status === 'running') inUse.add(x.threadKey);
    for (const x of Object.values(d.errorSims ?? {})) if (x.threadKey) inUse.add(x.threadKey);
    const hotFor = o.hotForMs ?? 10 * 60_000;
    const threads: string[] = [];
    for (const [key, t] of Object.entries(d.threads)) {
      if (!t.outcome || (t.finishedAt ?? t.startedAt) > now - hotFor || inUse.has(key) || t.cardSent < t.cardVersion) continue;
      history.queueThread(t);
      threads.push(key);
    }
    const leaving = new Set(threads);
    const confirmations: string[] = [];
    for (const [id, c] of Object.entries(d.confirmations)) {
      if (c.status === 'pending' || (d.threads[c.threadKey] && !leaving.has(c.threadKey))) continue;
      history.queueConfirmation(c);
      confirmations.push(id);
    }
    const claimsBefore = now - (o.claimsHotForMs ?? 3 * 86_400_000);
    const claims: string[] = [];
    let changed: Set<string>;
    // Every claim of the last 3 days is here (one per slash command, button press and comment): walked without
    // copying it into an array of entries each second.
    for (const key in d.seen) {
      const at = d.seen[key]!;
      if (at >= claimsBefore) continue;
      history.queueClaim(key, at);
      claims.push(key);
    }
    hot.watchChanges();
    try {
      await history.appendPending();
    } finally {
      changed = hot.changesSeen();
    }
    failpoint('settle:after-history');
    for (const key of threads) {
      if (changed.has(`threads ${key}`)) continue;
      delete d.threads[key];
      hot.touch('threads', key);
    }
    for (const id of confirmations) {
      if (changed.has(`confirmations ${id}`)) continue;
      delete d.confirmations[id];
      hot.touch('confirmations', id);
    }
    for (const key of claims) {
      if (changed.has(`seen ${key}`)) continue;
      delete d.seen[key];
      hot.touch('seen', key);
    }
    for (const [id, p] of Object.entries(d.posted ?? {})) {
      if (d.threads[p.threadKey]) continue;
      delete d.posted![id];
      hot.touch('posted', id);
    }
  };
}
