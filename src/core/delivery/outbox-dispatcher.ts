import type { ChatContent, ChatPort, Clock, Timer } from '../ports.js';
import type { Logger } from '../logger.js';
import type { OutboxEntry, ThreadRecord } from '../store-data.js';
import type { ThreadHead } from '../store-ports.js';
import { CardUpdates } from './card-updates.js';
import { ChannelPosts } from './channel-posts.js';
import type { DeliveryContext, DeliveryStores, QueueView } from './delivery-context.js';
import type { DeliveryMetrics } from './delivery-metrics.js';
import { DEFAULT_PACING, type Pacing } from './pacing.js';
import { planFolds, type FoldReason } from './plan-folds.js';
import { ReadBacks } from './read-backs.js';
import { readQueue } from './read-queue.js';

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

/**
 * Sends what the outbox holds, in order per thread, paced per channel, high priority first across threads
 * (ChannelPosts), keeps every status card current (CardUpdates), and settles entries in doubt (ReadBacks).
 *
 * Under a backlog, step progress a thread's current status card already shows is folded: it leaves the outbox unposted
 * (a store write, logged and counted with its reason), so the channel's posts go to what people act on and to new
 * deploys. Folding is decided here, between two looks at the store, so it never races a post of the same entry.
 */
export class OutboxDispatcher {
  private readonly pacing: Pacing;
  private readonly ctx: DeliveryContext;
  /** Entries of posts in flight: attempted, yet not in doubt. */
  private readonly sending = new Set<string>();
  private readonly posts: ChannelPosts;
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
    this.posts = new ChannelPosts(this.ctx, deps.renderCard, this.sending);
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

    const byChannel = this.posts.byChannel(queue);
    const backlogged = this.posts.backlogged(now, byChannel);
    // A post in flight may not show as attempted in this look yet (a database store writes the mark a moment later).
    const folds = [...backlogged]
      .flatMap((channel) => planFolds({ entries: byChannel.get(channel)!, threads: queue.threads, backlog: true }))
      .filter((f) => !this.sending.has(f.entry.id));
    if (folds.length > 0) {
      // What was decided from this look is out of date once the store changed: look again.
      if (await this.fold(folds)) this.again = true;
      else this.schedule(1000);
      return;
    }

    wait = Math.min(wait, this.readBacks.start(now, queue));
    wait = Math.min(wait, this.posts.start(now, queue, byChannel));
    wait = Math.min(wait, this.cardUpdates.start(now, stale, queue, backlogged));

    if (wait !== Infinity) this.schedule(Math.max(wait, 1));
  }

  /** Takes folded entries out of the outbox, durably; false when the store failed (nothing is decided from it then). */
  private async fold(folds: Array<{ entry: OutboxEntry; reason: FoldReason }>): Promise<boolean> {
    const { stores, log, metrics } = this.deps;
    const ids = folds.map((f) => f.entry.id);
    try {
      await stores.outbox.remove(ids);
      await stores.flush();
    } catch (err) {
      log.error({ err, entries: ids.length }, 'folding step progress into the status card failed, will look again');
      return false;
    }
    const byReason = new Map<FoldReason, number>();
    for (const f of folds) byReason.set(f.reason, (byReason.get(f.reason) ?? 0) + 1);
    for (const [reason, count] of byReason) metrics?.repliesFolded?.(count, reason);
    log.info({ entries: ids, reason: folds[0]!.reason }, 'step progress folded: its status card shows it, the channel has a backlog');
    return true;
  }

  /**
   * The queue and the stale cards, as of no earlier than the last call that settled: what is decided from it is then
   * decided synchronously, so no call settles in between.
   */
  private async look(): Promise<{ queue: QueueView; stale: ThreadHead[] }> {
    for (;;) {
      const seen = this.settledCount;
      const queue = await readQueue(this.deps.stores);
      const stale = await this.deps.stores.threads.staleCards();
      if (seen === this.settledCount) return { queue, stale };
    }
  }

  private settle(): void {
    this.settledCount++;
    this.inFlight--;
    if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    if (!this.stopped) this.kick();
  }
}
