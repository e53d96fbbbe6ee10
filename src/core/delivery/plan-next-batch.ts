import type { OutboxEntry } from '../store-data.js';
import type { ThreadHead } from '../store-ports.js';

/**
 * What a channel sends next: a batch; the reply that cannot go because its thread has no root message; or `hold`, the
 * posts the channel must have before the best batch may go (it keeps the reserve for priority news and root cards).
 */
export type NextBatch = { batch: OutboxEntry[] } | { orphan: OutboxEntry } | { hold: number };

/** Slack shows at most 50 blocks in a message. */
const MAX_BLOCKS = 50;

/**
 * How soon priority news and a new deploy's root card should be in Slack (the goals of issue 16: priority news within
 * 2 s, a root card within 5 s). Between the two, whichever would miss its goal first goes first.
 */
const NEWS_DEADLINE_MS = 2000;
const ROOT_DEADLINE_MS = 5000;

/**
 * How urgent a thread's queue is:
 *  0. priority news people act on or that ends the deploy: a high-priority message the whole channel sees (a broadcast
 *     abort or "waiting for promotion", a notice that a cluster is unreachable), one with buttons, or any of a thread
 *     that has finished (its completion, its abort);
 *  1. a new deploy's root card: everything else of its thread waits for it;
 *  2. other high-priority replies (an action seen outside chat, a dispatch);
 *  3. any other reply (answers to people, notices);
 *  4. only plain step progress.
 */
export function rankOf(list: readonly OutboxEntry[], thread?: Pick<ThreadHead, 'outcome'>): 0 | 1 | 2 | 3 | 4 {
  const high = list.filter((e) => e.priority === 'high');
  if (high.some((e) => e.broadcast || e.blocks || e.kind === 'notice') || (high.length > 0 && thread?.outcome !== undefined)) return 0;
  if (list[0]!.kind === 'root') return 1;
  if (high.length > 0) return 2;
  return list.some((e) => !e.batchable) ? 3 : 4;
}

/**
 * Picks what a channel sends next: the thread with the most urgent queue, its root card if it has none yet, else its
 * oldest reply, merged with the replies queued behind it while the channel is busy. Undefined when nothing may go:
 * every thread waits for a read-back. Most urgent (rankOf): priority news people act on and root cards first, by the
 * earliest deadline (news 2 s after it was queued, a root card 5 s: a root card that has waited 4 s goes before news
 * queued a moment ago, which still makes its goal); then the other ranks in order, oldest first within each.
 *
 * Priority news and root cards may spend every post the channel has. Anything else leaves `reserve` posts while a
 * priority or root entry waits in the channel (one whose thread waits for a read-back, say), so that one goes the
 * moment it can; with none waiting it spends them all: a post kept idle in the 10 s window is lost for good (holding
 * one back always costs a tenth of the channel's posts, and step progress could no longer keep up).
 */
export function planNextBatch(o: {
  /** The channel's pending entries. */
  entries: OutboxEntry[];
  threads: Record<string, ThreadHead>;
  /** Posts the channel could send right away. */
  available: number;
  /** A backlog is more waiting than `available + backlogMargin`. */
  backlogMargin: number;
  maxBatch: number;
  /** Posts kept for priority news and root cards (already capped to what the burst allows). */
  reserve: number;
}): NextBatch | undefined {
  const byThread = new Map<string, OutboxEntry[]>();
  for (const e of o.entries) {
    const list = byThread.get(e.threadKey);
    if (list) list.push(e);
    else byThread.set(e.threadKey, [e]);
  }
  let best: { entries: OutboxEntry[]; rank: number; order: number; seq: number } | undefined;
  for (const list of byThread.values()) {
    list.sort((a, b) => a.seq - b.seq);
    // A thread whose next message may already be in Slack waits for its read-back.
    if (list[0]!.attemptedAt !== undefined) continue;
    const rank = rankOf(list, o.threads[list[0]!.threadKey]);
    const seq = list[0]!.seq;
    const order = rank <= 1 ? deadlineOf(list, rank) : seq;
    const klass = Math.max(0, rank - 1);
    const bestClass = best ? Math.max(0, best.rank - 1) : Infinity;
    if (!best || klass < bestClass || (klass === bestClass && (order < best.order || (order === best.order && seq < best.seq)))) best = { entries: list, rank, order, seq };
  }
  if (!best) return undefined;
  const [head] = best.entries;
  if (!head) return undefined;
  if (best.rank >= 3 && o.reserve > 0 && o.available < 1 + o.reserve && o.entries.some(urgent)) return { hold: 1 + o.reserve };
  if (head.kind !== 'reply') return { batch: [head] };
  if (!o.threads[head.threadKey]?.rootTs) return { orphan: head };
  return { batch: mergeRun(best.entries, o) };
}

/** When a thread of rank 0 or 1 should be in Slack: its oldest priority news's deadline (rank 0), or its root card's. */
function deadlineOf(list: readonly OutboxEntry[], rank: number): number {
  let at = Infinity;
  for (const e of list) {
    if (rank === 0 && e.priority === 'high') at = Math.min(at, e.createdAt + NEWS_DEADLINE_MS);
    if (e.kind === 'root') at = Math.min(at, e.createdAt + ROOT_DEADLINE_MS);
  }
  return at;
}

/**
 * A priority or root entry still to be shown. One marked attempted is in doubt here (the planner never sees a channel
 * whose post is in flight): it goes again, or its thread goes on, once its read-back answers.
 */
function urgent(e: OutboxEntry): boolean {
  return e.priority === 'high' || e.kind === 'root';
}

/**
 * The thread's head reply and, while the channel has more waiting than it can send right away, the replies queued
 * behind it, in order, as one message: progress always; under a backlog also priority news and interactive cards (a
 * "waiting for promotion" broadcast keeps its button), which would otherwise each take a post of their own while the
 * thread's progress ahead of them took another. A reply that is edited later in place (a confirmation card) stays its
 * own message, and so, without a backlog, do a broadcast and a card with blocks.
 */
function mergeRun(list: OutboxEntry[], o: { entries: OutboxEntry[]; available: number; backlogMargin: number; maxBatch: number }): OutboxEntry[] {
  const head = list[0]!;
  const batch = [head];
  const busy = o.entries.length > o.available;
  const backlog = o.entries.length > o.available + o.backlogMargin;
  const mergeable = (e: OutboxEntry) =>
    e.kind === 'reply' && !e.attemptedAt && !e.editable && (backlog ? true : !e.blocks && e.batchable && Boolean(e.broadcast) === Boolean(head.broadcast));
  if (!busy || !mergeable(head)) return batch;
  let blocks = blockCount(head);
  let interactive = Boolean(head.blocks);
  for (const e of list.slice(1)) {
    if (batch.length >= o.maxBatch || !mergeable(e)) break;
    // The merged message keeps every part's blocks only while they fit: a button must not be lost to the merge.
    if ((interactive || e.blocks) && blocks + blockCount(e) > MAX_BLOCKS) break;
    blocks += blockCount(e);
    interactive ||= Boolean(e.blocks);
    batch.push(e);
  }
  return batch;
}

/** Blocks one part adds to a merged message (mergeReplies: its own, or one section for its text). */
function blockCount(e: OutboxEntry): number {
  return e.blocks?.length ?? 1;
}
