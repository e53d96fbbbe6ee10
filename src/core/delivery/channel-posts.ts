import type { ChatContent } from '../ports.js';
import { RateLimitedError, ServiceError } from '../ports.js';
import type { OutboxEntry, ThreadRecord } from '../store-data.js';
import { backoffMs } from './backoff-ms.js';
import type { DeliveryContext, QueueView } from './delivery-context.js';
import { fixOf } from './fix-of.js';
import { mergeReplies } from './merge-replies.js';
import { POST_WINDOW_MS } from './pacing.js';
import { planNextBatch } from './plan-next-batch.js';
import { recordSent } from './record-sent.js';
import { PacedLimiter } from './token-bucket.js';

interface ChannelLane {
  bucket: PacedLimiter;
  busy: boolean;
  holdUntil: number;
  failures: number;
}

/**
 * The chat.postMessage side of delivery: one lane per channel, paced (a burst, then about one a second, never more
 * than that over any 10 s), one post in flight per channel, what goes next chosen by planNextBatch.
 *
 * Restart safety: an entry is marked attempted and flushed BEFORE its post. An attempted entry that is not being posted
 * is in doubt (we crashed, or lost the answer, after Slack may have taken it): it is not posted again until a read-back
 * has answered (ReadBacks). A post Slack refused (the chat port's error is `rejected`) is not in doubt: nothing was
 * posted.
 */
export class ChannelPosts {
  private readonly lanes = new Map<string, ChannelLane>();

  /** `sending`: filled with the entries of posts in flight (attempted, yet not in doubt), shared with ReadBacks. */
  constructor(
    private readonly ctx: DeliveryContext,
    private readonly renderCard: (thread: ThreadRecord) => ChatContent | Promise<ChatContent>,
    private readonly sending: Set<string>,
  ) {}

  /** The queue's entries to post, by channel. */
  byChannel(queue: Pick<QueueView, 'outbox'>): Map<string, OutboxEntry[]> {
    const byChannel = new Map<string, OutboxEntry[]>();
    for (const entry of queue.outbox) {
      const list = byChannel.get(entry.channel);
      if (list) list.push(entry);
      else byChannel.set(entry.channel, [entry]);
    }
    return byChannel;
  }

  /** The channels where more entries wait to be posted than can go right away plus `backlogMargin`. */
  backlogged(now: number, byChannel: ReadonlyMap<string, OutboxEntry[]>): Set<string> {
    const out = new Set<string>();
    for (const [channel, entries] of byChannel) {
      const waiting = entries.filter((e) => e.attemptedAt === undefined).length;
      if (waiting > Math.floor(this.lane(channel).bucket.available(now)) + this.ctx.pacing.backlogMargin) out.add(channel);
    }
    return out;
  }

  /** Starts the posts that may start now, at most one per channel; returns how long until the next one may. */
  start(now: number, queue: QueueView, byChannel = this.byChannel(queue)): number {
    const { pacing, log } = this.ctx;
    // The reserve must leave progress a post to send: a burst of 1 (or a window of 1) keeps none.
    const inWindow = Math.floor((pacing.postsPerSecond * POST_WINDOW_MS) / 1000);
    const reserve = Math.max(0, Math.min(pacing.priorityReserve, pacing.postBurst - 1, inWindow - 1));
    let wait = Infinity;
    for (const [channel, entries] of byChannel) {
      const lane = this.lane(channel);
      if (lane.busy) continue;
      if (lane.holdUntil > now) {
        wait = Math.min(wait, lane.holdUntil - now);
        continue;
      }
      const available = Math.floor(lane.bucket.available(now));
      const next = planNextBatch({ entries, threads: queue.threads, available, backlogMargin: pacing.backlogMargin, maxBatch: pacing.maxBatch, reserve });
      if (!next) continue;
      if ('orphan' in next) {
        // The root entry is gone but the thread has no ts: nothing can be posted in it. Should not happen; say so.
        log.error({ thread: next.orphan.threadKey, entry: next.orphan.id }, 'reply queued for a thread without a root message');
        continue;
      }
      if ('hold' in next) {
        wait = Math.min(wait, lane.bucket.waitMs(now, next.hold));
        continue;
      }
      const tokenWait = lane.bucket.waitMs(now);
      if (tokenWait > 0) {
        wait = Math.min(wait, tokenWait);
        continue;
      }
      lane.bucket.take(now);
      lane.busy = true;
      // A reply goes under its thread's root, which the look found (planNextBatch sends none to a thread without one).
      const rootTs = queue.threads[next.batch[0]!.threadKey]?.rootTs;
      this.ctx.run(() => this.send(next.batch, lane, now, rootTs), () => {
        lane.busy = false;
      });
    }
    return wait;
  }

  private lane(channel: string): ChannelLane {
    let lane = this.lanes.get(channel);
    if (!lane) {
      const { postsPerSecond, postBurst } = this.ctx.pacing;
      lane = { bucket: new PacedLimiter(postsPerSecond, postBurst, this.ctx.clock.now(), POST_WINDOW_MS), busy: false, holdUntil: 0, failures: 0 };
      this.lanes.set(channel, lane);
    }
    return lane;
  }

  private async send(batch: OutboxEntry[], lane: ChannelLane, slotTakenAt: number, rootTs: string | undefined): Promise<void> {
    const { stores, chat, clock, metrics } = this.ctx;
    const head = batch[0]!;
    const method = 'chat.postMessage';
    let stamp = slotTakenAt;
    for (const e of batch) this.sending.add(e.id);
    try {
      await stores.outbox.markAttempted(batch.map((e) => e.id), clock.now());
      await stores.flush();
      // A root card is rendered from the whole record, read now.
      const record = head.kind === 'root' ? await stores.threads.byKey(head.threadKey) : undefined;

      let content: ChatContent;
      let cardVersion: number | undefined;
      if (record) {
        cardVersion = record.cardVersion;
        content = await this.renderCard(record);
      } else if (batch.length === 1) {
        content = { text: head.text, blocks: head.blocks };
      } else {
        content = mergeReplies(batch);
      }
      stamp = lane.bucket.restamp(stamp, clock.now());
      let ts: string;
      try {
        ({ ts } = await chat.postMessage({
          ...content,
          channel: head.channel,
          threadTs: head.kind === 'reply' ? rootTs : undefined,
          broadcast: head.kind === 'reply' ? batch.some((e) => e.broadcast) : undefined,
          keys: batch.map((e) => e.id),
        }));
      } finally {
        // Slack took the post somewhere between sending and answering: the window counts it until the answer.
        lane.bucket.restamp(stamp, clock.now());
      }
      metrics?.slackCall(method, 'ok');
      for (const e of batch) metrics?.deliveryLatency?.(clock.now() - e.createdAt, e.priority);
      lane.failures = 0;
      await recordSent({ outbox: stores.outbox, batch, ts, cardVersion });
      await stores.flush();
    } catch (err) {
      await this.onFailure(err, batch, lane, method);
    } finally {
      for (const e of batch) this.sending.delete(e.id);
    }
  }

  private async onFailure(err: unknown, batch: OutboxEntry[], lane: ChannelLane, method: string): Promise<void> {
    const { clock, log, stores, metrics } = this.ctx;
    const head = batch[0]!;
    const now = clock.now();
    const ids = batch.map((e) => e.id);
    if (err instanceof RateLimitedError) {
      // Slack said "not now": nothing was posted, so the entry is not in doubt.
      lane.holdUntil = now + err.retryAfterMs;
      metrics?.slackCall(method, 'rate_limited');
      log.warn({ channel: head.channel, retryAfterMs: err.retryAfterMs }, 'slack rate limited the channel, waiting as asked');
      await stores.outbox.clearAttempted(ids);
      return;
    }
    metrics?.slackCall(method, 'error');
    lane.failures++;
    const backoff = backoffMs(lane.failures);
    lane.holdUntil = now + backoff;
    log.error({ err, channel: head.channel, entry: head.id, backoffMs: backoff, fix: fixOf(err) }, 'slack post failed, will retry');
    // Slack answered and did not post; any other failure (a lost connection, a 5xx) leaves the entry in doubt.
    if (err instanceof ServiceError && err.rejected) await stores.outbox.clearAttempted(ids);
  }
}
