import type { OutboxEntry, ThreadRecord } from '../store-data.js';

/** What a channel sends next: a batch, or the reply that cannot go because its thread has no root message. */
export type NextBatch = { batch: OutboxEntry[] } | { orphan: OutboxEntry };

/**
 * Picks what a channel sends next: the thread with the most urgent pending entry (high priority first, then a root
 * card not yet posted, then progress; oldest first within each),
 * its root card if it has none yet, else its oldest reply, merged with the replies queued behind it when they can be.
 * Undefined when nothing may go: every thread waits for a read-back.
 */
export function planNextBatch(o: {
  /** The channel's pending entries. */
  entries: OutboxEntry[];
  threads: Record<string, ThreadRecord>;
  /** Posts the channel could send right away. */
  available: number;
  postBurst: number;
  maxBatch: number;
}): NextBatch | undefined {
  const byThread = new Map<string, OutboxEntry[]>();
  for (const e of o.entries) {
    const list = byThread.get(e.threadKey);
    if (list) list.push(e);
    else byThread.set(e.threadKey, [e]);
  }
  // Rank: a thread with priority news (abort, waiting for promotion, completion) first, then a new deploy's root card,
  // then step progress; within a rank, the thread whose oldest entry is oldest.
  let best: { entries: OutboxEntry[]; rank: number; seq: number } | undefined;
  for (const list of byThread.values()) {
    list.sort((a, b) => a.seq - b.seq);
    // A thread whose next message may already be in Slack waits for its read-back.
    if (list[0]!.attemptedAt !== undefined) continue;
    const rank = list.some((e) => e.priority === 'high') ? 0 : list[0]!.kind === 'root' ? 1 : 2;
    const seq = list[0]!.seq;
    if (!best || rank < best.rank || (rank === best.rank && seq < best.seq)) best = { entries: list, rank, seq };
  }
  if (!best) return undefined;
  const [head] = best.entries;
  if (!head) return undefined;
  if (head.kind !== 'reply') return { batch: [head] };
  if (!o.threads[head.threadKey]?.rootTs) return { orphan: head };
  // While the channel has more waiting than it can send right away, merge the thread's queued replies into one
  // message, in order: progress always; under a real backlog also priority replies, which would otherwise queue
  // behind each other. Interactive cards (blocks) and a change of broadcast end the run.
  const batch = [head];
  const busy = o.entries.length > o.available;
  const backlog = o.entries.length > o.available + o.postBurst;
  // Under a real backlog a broadcast (an abort, "waiting for promotion") may take the progress queued ahead of it
  // along: the merged message is broadcast, and the priority news does not wait behind its own thread's progress.
  const mergeable = (e: OutboxEntry) =>
    e.kind === 'reply' && !e.attemptedAt && !e.blocks && (backlog || (e.batchable && Boolean(e.broadcast) === Boolean(head.broadcast)));
  if (busy && mergeable(head)) {
    for (const e of best.entries.slice(1)) {
      if (batch.length >= o.maxBatch || !mergeable(e)) break;
      batch.push(e);
    }
  }
  return { batch };
}
