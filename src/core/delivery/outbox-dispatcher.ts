import type { ChatContent, ChatPort, Clock, Timer } from '../ports.js';
import { RateLimitedError, ServiceError } from '../ports.js';
import type { Logger } from '../logger.js';
import type { OutboxEntry, ThreadRecord } from '../store-data.js';
import { backoffMs } from './backoff-ms.js';
import { CardUpdates } from './card-updates.js';
import type { DeliveryContext, DeliveryStores, QueueView } from './delivery-context.js';
import type { DeliveryMetrics } from './delivery-metrics.js';
import { fixOf } from './fix-of.js';
import { mergeReplies } from './merge-replies.js';
import { DEFAULT_PACING, type Pacing } from './pacing.js';
import { planNextBatch } from './plan-next-batch.js';
import { ReadBacks } from './read-backs.js';
import { readQueue } from './read-queue.js';
import { recordSent } from './record-sent.js';
import { PacedLimiter } from './token-bucket.js';

// Where callers have always found them.
export type { DeliveryMetrics } from './delivery-metrics.js';
export { DEFAULT_PACING, type Pacing } from './pacing.js';

export interface OutboxDispatcherDeps {
  chat: ChatPort;
  stores: DeliveryStores;
  clock: Clock;
  log: Logger;
  /** Renders a thread's status card from its record (the root message and its updates). */
  renderCard: (thread: ThreadRecord) => ChatContent | Promise<ChatContent>;
  pacing?: Partial<Pacing>;
  metrics?: DeliveryMetrics;
}

interface ChannelLane {
  bucket: PacedLimiter;
  busy: boolean;
  holdUntil: number;
  failures: number;
}

/**
 * Sends what the outbox holds, in order per thread, paced per channel, high priority first across threads, and keeps
 * every status card current (CardUpdates).
 *
 * Restart safety: an entry is marked attempted and flushed BEFORE its post. An attempted entry that is not being posted
 * is in doubt (we crashed, or lost the answer, after Slack may have taken it): it is not posted again until a read-back
 * has answered (ReadBacks). A post Slack refused (the chat port's error is `rejected`) is not in doubt: nothing was
 * posted.
 */
export class OutboxDispatcher {
  private readonly pacing: Pacing;
  private readonly ctx: DeliveryContext;
  private readonly lanes = new Map<string, ChannelLane>();
  /** Entries of posts in flight: attempted, yet not in doubt. */
  private readonly sending = new Set<string>();
  private readonly readBacks: ReadBacks;
  private readonly cardUpdates: CardUpdates;
  private timer: Timer | undefined;
  private timerAt = Infinity;
  private pumping = false;
  private again = false;
  private stopped = false;
  private inFlight = 0;
  /** Calls settled so far: a look at the store taken before the latest one settled is out of date. */
  private settledCount = 0;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: OutboxDispatcherDeps) {
    this.pacing = { ...DEFAULT_PACING, ...deps.pacing };
    const { chat, stores, clock, log, metrics } = deps;
    this.ctx = {
      chat, stores, clock, log, metrics,
      pacing: this.pacing,
      run: (start, done) => {
        this.inFlight++;
        void start().finally(() => {
          done();
          this.settle();
        });
      },
    };
    this.cardUpdates = new CardUpdates(this.ctx, deps.renderCard);
    this.readBacks = new ReadBacks(this.ctx, this.sending);
  }

  /** Something was added to the outbox or a card changed: look for work. */
  kick(): void {
    if (this.stopped) return;
    this.schedule(0);
  }

  /** Stops starting new calls; resolves once the calls in flight have finished and been recorded. */
  async stop(): Promise<void> {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
    if (this.inFlight > 0) await new Promise<void>((resolve) => this.idleWaiters.push(resolve));
  }

  /** Starts again after stop() (a replica that leads again): looks for work at once. */
  resume(): void {
    this.stopped = false;
    this.kick();
  }

  /** True when nothing is pending: no outbox entries and every card up to date. */
  async isIdle(): Promise<boolean> {
    if (this.inFlight > 0) return false;
    const { outbox, threads } = this.deps.stores;
    if ((await outbox.depth()) > 0) return false;
    return (await threads.staleCards()).length === 0 && this.inFlight === 0;
  }

  private schedule(ms: number): void {
    const at = this.deps.clock.now() + ms;
    if (this.timer && this.timerAt <= at) return;
    this.timer?.cancel();
    this.timerAt = at;
    this.timer = this.deps.clock.setTimer(ms, () => {
      this.timer = undefined;
      this.timerAt = Infinity;
      void this.pump();
    });
  }

  private lane(channel: string): ChannelLane {
    let lane = this.lanes.get(channel);
    if (!lane) {
      lane = { bucket: new PacedLimiter(this.pacing.postsPerSecond, this.pacing.postBurst, this.deps.clock.now()), busy: false, holdUntil: 0, failures: 0 };
      this.lanes.set(channel, lane);
    }
    return lane;
  }

  private async pump(): Promise<void> {
    if (this.stopped) return;
    if (this.pumping) {
      this.again = true;
      return;
    }
    this.pumping = true;
    try {
      do {
        this.again = false;
        await this.pumpOnce();
      } while (this.again && !this.stopped);
    } finally {
      this.pumping = false;
    }
  }

  /** Starts every call that may start now, and sets a timer for the earliest one that must wait. */
  private async pumpOnce(): Promise<void> {
    const { queue, stale } = await this.look();
    if (this.stopped) return;
    const now = this.deps.clock.now();
    let wait = Infinity;
    this.deps.metrics?.queueDepth(queue.outbox.length + queue.edits.length);

    wait = Math.min(wait, this.readBacks.start(now, queue));
    wait = Math.min(wait, this.startPosts(now, queue));
    wait = Math.min(wait, this.cardUpdates.start(now, stale, queue));

    if (wait !== Infinity) this.schedule(Math.max(wait, 1));
  }

  /**
   * The queue and the stale cards, as of no earlier than the last call that settled: what is decided from it is then
   * decided synchronously, so no call settles in between.
   */
  private async look(): Promise<{ queue: QueueView; stale: ThreadRecord[] }> {
    for (;;) {
      const seen = this.settledCount;
      const queue = await readQueue(this.deps.stores);
      const stale = await this.deps.stores.threads.staleCards();
      if (seen === this.settledCount) return { queue, stale };
    }
  }

  /** Starts the posts that may start now, at most one per channel; returns how long until the next one may. */
  private startPosts(now: number, queue: QueueView): number {
    let wait = Infinity;
    const byChannel = new Map<string, OutboxEntry[]>();
    for (const entry of queue.outbox) {
      const list = byChannel.get(entry.channel);
      if (list) list.push(entry);
      else byChannel.set(entry.channel, [entry]);
    }
    for (const [channel, entries] of byChannel) {
      const lane = this.lane(channel);
      if (lane.busy) continue;
      if (lane.holdUntil > now) {
        wait = Math.min(wait, lane.holdUntil - now);
        continue;
      }
      const next = planNextBatch({ entries, threads: queue.threads, available: Math.floor(lane.bucket.available(now)), postBurst: this.pacing.postBurst, maxBatch: this.pacing.maxBatch });
      if (next && 'orphan' in next) {
        // The root entry is gone but the thread has no ts: nothing can be posted in it. Should not happen; say so.
        this.deps.log.error({ thread: next.orphan.threadKey, entry: next.orphan.id }, 'reply queued for a thread without a root message');
        continue;
      }
      if (!next) continue;
      const tokenWait = lane.bucket.waitMs(now);
      if (tokenWait > 0) {
        wait = Math.min(wait, tokenWait);
        continue;
      }
      lane.bucket.take(now);
      lane.busy = true;
      this.ctx.run(() => this.send(next.batch, lane, now), () => {
        lane.busy = false;
      });
    }
    return wait;
  }

  private settle(): void {
    this.settledCount++;
    this.inFlight--;
    if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    if (!this.stopped) this.kick();
  }

  private async send(batch: OutboxEntry[], lane: ChannelLane, slotTakenAt: number): Promise<void> {
    const { stores, chat, clock } = this.deps;
    const head = batch[0]!;
    const method = 'chat.postMessage';
    for (const e of batch) this.sending.add(e.id);
    try {
      await stores.outbox.markAttempted(batch.map((e) => e.id), clock.now());
      await stores.flush();
      const thread = await stores.threads.byKey(head.threadKey);

      let content: ChatContent;
      let cardVersion: number | undefined;
      if (head.kind === 'root' && thread) {
        cardVersion = thread.cardVersion;
        content = await this.deps.renderCard(thread);
      } else if (batch.length === 1) {
        content = { text: head.text, blocks: head.blocks };
      } else {
        content = mergeReplies(batch);
      }
      lane.bucket.restamp(slotTakenAt, clock.now());
      const { ts } = await chat.postMessage({
        ...content,
        channel: head.channel,
        threadTs: head.kind === 'reply' ? thread?.rootTs : undefined,
        broadcast: head.kind === 'reply' ? batch.some((e) => e.broadcast) : undefined,
        keys: batch.map((e) => e.id),
      });
      this.deps.metrics?.slackCall(method, 'ok');
      for (const e of batch) this.deps.metrics?.deliveryLatency?.(clock.now() - e.createdAt, e.priority);
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
    const { clock, log, stores } = this.deps;
    const head = batch[0]!;
    const now = clock.now();
    const ids = batch.map((e) => e.id);
    if (err instanceof RateLimitedError) {
      // Slack said "not now": nothing was posted, so the entry is not in doubt.
      lane.holdUntil = now + err.retryAfterMs;
      this.deps.metrics?.slackCall(method, 'rate_limited');
      log.warn({ channel: head.channel, retryAfterMs: err.retryAfterMs }, 'slack rate limited the channel, waiting as asked');
      await stores.outbox.clearAttempted(ids);
      return;
    }
    this.deps.metrics?.slackCall(method, 'error');
    lane.failures++;
    const backoff = backoffMs(lane.failures);
    lane.holdUntil = now + backoff;
    log.error({ err, channel: head.channel, entry: head.id, backoffMs: backoff, fix: fixOf(err) }, 'slack post failed, will retry');
    // Slack answered and did not post; any other failure (a lost connection, a 5xx) leaves the entry in doubt.
    if (err instanceof ServiceError && err.rejected) await stores.outbox.clearAttempted(ids);
  }
}
