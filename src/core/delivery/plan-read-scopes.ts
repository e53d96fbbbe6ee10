import type { OutboxEntry } from '../store-data.js';
import type { ThreadHead } from '../store-ports.js';

/** The Slack method one read-back calls. */
export type ReadMethod = 'conversations.history' | 'conversations.replies';

/** What one read-back covers: a thread's replies, or a channel's top-level messages (roots and notices). */
export interface ReadScope {
  id: string;
  method: ReadMethod;
  channel: string;
  threadTs?: string;
  entries: OutboxEntry[];
}

/**
 * The entries in doubt (attempted, yet not being posted), by what one read-back would cover, oldest first. A reply
 * whose thread has no root ts is left out: it cannot be read back, and the planner of posts already says so.
 */
export function planReadScopes(o: { outbox: OutboxEntry[]; threads: Record<string, ThreadHead>; sending: ReadonlySet<string> }): ReadScope[] {
  const scopes = new Map<string, ReadScope>();
  for (const e of [...o.outbox].sort((a, b) => a.seq - b.seq)) {
    if (e.attemptedAt === undefined || o.sending.has(e.id)) continue;
    let threadTs: string | undefined;
    if (e.kind === 'reply') {
      threadTs = o.threads[e.threadKey]?.rootTs;
      if (!threadTs) continue;
    }
    const id = threadTs ? `${e.channel}/${threadTs}` : e.channel;
    const scope = scopes.get(id);
    if (scope) scope.entries.push(e);
    else scopes.set(id, { id, method: threadTs ? 'conversations.replies' : 'conversations.history', channel: e.channel, threadTs, entries: [e] });
  }
  return [...scopes.values()];
}
