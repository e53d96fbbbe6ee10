import type { ChatContent, ChatPort, Clock, StateStore, Timer } from '../ports.js';
import { RateLimitedError, ServiceError } from '../ports.js';
import type { Logger } from '../logger.js';
import type { OutboxEntry, ThreadRecord } from '../store-data.js';
import { PacedLimiter, TokenBucket } from './token-bucket.js';

/** How fast we may talk to Slack. Slack allows about one post per second per channel, with short bursts. */
export interface Pacing {
  /** Posts per second per channel (default 1). */
  postsPerSecond: number;
  /** Posts a channel may burst before pacing kicks in (default 4); the average over any 10 s stays at `postsPerSecond`. */
  postBurst: number;
  /** chat.update calls per second for the whole workspace (Tier 3 is about 50 a minute; default 1). */
  updatesPerSecond: number;
  /** chat.update burst (default 10). */
  updateBurst: number;
  /** Most replies merged into one message while a channel is busy (default 10). */
  maxBatch: number;
}

export const DEFAULT_PACING: Pacing = { postsPerSecond: 1, postBurst: 4, updatesPerSecond: 1, updateBurst: 10, maxBatch: 10 };

/** Counters the dispatcher reports; the metrics adapter turns them into Prometheus series. */
export interface DeliveryMetrics {
  slackCall(method: string, outcome: 'ok' | 'rate_limited' | 'error'): void;
  queueDepth(depth: number): void;
  /** Milliseconds from an entry's creation to the call that showed it. */
  deliveryLatency?(ms: number, priority: string): void;
}

export interface OutboxDispatcherDeps {
  chat: ChatPort;
  store: StateStore;
  clock: Clock;
  log: Logger;
  /** Renders a thread's status card from its record (the root message and its updates). */
  renderCard: (thread: ThreadRecord) => ChatContent;
  pacing?: Partial<Pacing>;
  metrics?: DeliveryMetrics;
}

interface ChannelLane {
  bucket: PacedLimiter;
  busy: boolean;
  holdUntil: number;
  failures: number;
}

const MAX_BACKOFF_MS = 60_000;
/** Slack answers that mean reading history back will never work here. */
const CANNOT_READ_BACK = new Set(['unknown_method', 'missing_scope', 'not_allowed_token_type', 'method_deprecated', 'channel_not_found', 'thread_not_found']);

/**
 * Sends what the outbox holds, in order per thread, paced per channel, high priority first across threads, and keeps
 * every status card current with coalesced chat.update calls.
 *
 * Restart safety: an entry is marked attempted and flushed BEFORE its post; an attempted entry is looked up in Slack
 * (by the key in its metadata) before it is posted again, so a crash between the post and the flush that records it
 * neither loses nor duplicates the message.
 */
export class OutboxDispatcher {
  private readonly pacing: Pacing;
  private readonly lanes = new Map<string, ChannelLane>();
  private readonly updateBucket: TokenBucket;
  private updateHoldUntil = 0;
  private readonly updatesInFlight = new Set<string>();
  private readonly updateFailures = new Map<string, { count: number; until: number }>();
  private timer: Timer | undefined;
  private timerAt = Infinity;
  private pumping = false;
  private again = false;
  private stopped = false;
  private inFlight = 0;
  private readonly idleWaiters: Array<() => void> = [];

  constructor(private readonly deps: OutboxDispatcherDeps) {
    this.pacing = { ...DEFAULT_PACING, ...deps.pacing };
    this.updateBucket = new TokenBucket(this.pacing.updatesPerSecond, this.pacing.updateBurst, deps.clock.now());
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

  /** True when nothing is pending: no outbox entries and every card up to date. */
  isIdle(): boolean {
    const { data } = this.deps.store;
    if (data.outbox.length > 0 || this.inFlight > 0) return false;
    return Object.values(data.threads).every((t) => !t.rootTs || t.cardSent >= t.cardVersion);
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
        this.pumpOnce();
      } while (this.again && !this.stopped);
    } finally {
      this.pumping = false;
    }
  }

  /** Starts every call that may start now, and sets a timer for the earliest one that must wait. */
  private pumpOnce(): void {
    const { data } = this.deps.store;
    const now = this.deps.clock.now();
    let wait = Infinity;
    this.deps.metrics?.queueDepth(data.outbox.length);

    // Posts: group pending entries by channel.
    const byChannel = new Map<string, OutboxEntry[]>();
    for (const entry of data.outbox) {
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
      const batch = this.nextBatch(entries, lane, now);
      if (!batch) continue;
      const tokenWait = lane.bucket.waitMs(now);
      if (tokenWait > 0) {
        wait = Math.min(wait, tokenWait);
        continue;
      }
      lane.bucket.take(now);
      lane.busy = true;
      this.inFlight++;
      void this.send(batch, lane, now).finally(() => {
        lane.busy = false;
        this.settle();
      });
    }

    // Card updates: threads whose card changed since Slack last saw it. The workspace-wide budget goes first to
    // cards showing a final state, then to the newest deploys.
    const dirty = Object.values(data.threads).filter((t) => t.rootTs && t.cardSent < t.cardVersion && !this.updatesInFlight.has(t.key));
    dirty.sort((a, b) => Number(Boolean(b.outcome)) - Number(Boolean(a.outcome)) || b.createdAt - a.createdAt);
    for (const thread of dirty) {
      const failed = this.updateFailures.get(thread.key);
      if (failed && failed.until > now) {
        wait = Math.min(wait, failed.until - now);
        continue;
      }
      if (this.updateHoldUntil > now) {
        wait = Math.min(wait, this.updateHoldUntil - now);
        break;
      }
      const tokenWait = this.updateBucket.waitMs(now);
      if (tokenWait > 0) {
        wait = Math.min(wait, tokenWait);
        break;
      }
      this.updateBucket.take(now);
      this.updatesInFlight.add(thread.key);
      this.inFlight++;
      void this.updateCard(thread).finally(() => {
        this.updatesInFlight.delete(thread.key);
        this.settle();
      });
    }

    if (wait !== Infinity) this.schedule(Math.max(wait, 1));
  }

  private settle(): void {
    this.inFlight--;
    if (this.inFlight === 0) for (const resolve of this.idleWaiters.splice(0)) resolve();
    if (!this.stopped) this.kick();
  }

  /**
   * Picks what a channel sends next: the thread with the most urgent pending entry (high priority first, then oldest),
   * its root card if it has none yet, else its oldest reply, merged with the replies queued behind it when they can be.
   */
  private nextBatch(entries: OutboxEntry[], lane: ChannelLane, now: number): OutboxEntry[] | undefined {
    const { data } = this.deps.store;
    const byThread = new Map<string, OutboxEntry[]>();
    for (const e of entries) {
      const list = byThread.get(e.threadKey);
      if (list) list.push(e);
      else byThread.set(e.threadKey, [e]);
    }
    let best: { entries: OutboxEntry[]; high: boolean; seq: number } | undefined;
    for (const list of byThread.values()) {
      list.sort((a, b) => a.seq - b.seq);
      const high = list.some((e) => e.priority === 'high');
      const seq = list[0]!.seq;
      if (!best || (high && !best.high) || (high === best.high && seq < best.seq)) best = { entries: list, high, seq };
    }
    if (!best) return undefined;
    const [head] = best.entries;
    if (!head) return undefined;
    if (head.kind !== 'reply') return [head];
    const thread = data.threads[head.threadKey];
    if (!thread?.rootTs) {
      // The root entry is gone but the thread has no ts: nothing can be posted in it. Should not happen; say so.
      this.deps.log.error({ thread: head.threadKey, entry: head.id }, 'reply queued for a thread without a root message');
      return undefined;
    }
    // While the channel has more waiting than it can send right away, merge the thread's queued replies into one
    // message, in order: progress always; under a real backlog also priority replies, which would otherwise queue
    // behind each other. Interactive cards (blocks) and a change of broadcast end the run.
    const batch = [head];
    const available = Math.floor(lane.bucket.available(now));
    const busy = entries.length > available;
    const backlog = entries.length > available + this.pacing.postBurst;
    // Under a real backlog a broadcast (an abort, "waiting for promotion") may take the progress queued ahead of it
    // along: the merged message is broadcast, and the priority news does not wait behind its own thread's progress.
    const mergeable = (e: OutboxEntry) =>
      e.kind === 'reply' && !e.attemptedAt && !e.blocks && (backlog || (e.batchable && Boolean(e.broadcast) === Boolean(head.broadcast)));
    if (busy && mergeable(head)) {
      for (const e of best.entries.slice(1)) {
        if (batch.length >= this.pacing.maxBatch || !mergeable(e)) break;
        batch.push(e);
      }
    }
    return batch;
  }

  private async send(batch: OutboxEntry[], lane: ChannelLane, slotTakenAt: number): Promise<void> {
    const { store, chat, clock, log } = this.deps;
    const head = batch[0]!;
    const thread = store.data.threads[head.threadKey];
    const method = 'chat.postMessage';
    try {
      // An attempted entry may already be in Slack (we crashed or timed out after posting): look before posting again.
      if (head.attemptedAt !== undefined) {
        const found = await chat
          .findMessageByKey({
            channel: head.channel,
            key: head.id,
            threadTs: head.kind === 'reply' ? thread?.rootTs : undefined,
            sinceMs: head.createdAt - 60_000,
          })
          .catch((err: unknown) => {
            // A workspace that will never let us read history back: posting again is better than never posting.
            if (err instanceof ServiceError && CANNOT_READ_BACK.has(err.code ?? '')) {
              log.warn({ err, entry: head.id, fix: 'add the channels:history and groups:history scopes so restarts can tell posted from not posted' }, 'cannot read slack history back, posting again');
              return undefined;
            }
            throw err;
          });
        if (found) {
          log.info({ entry: head.id, ts: found }, 'message found in Slack after restart, not posting again');
          this.recordSent(batch, found, thread, undefined);
          await store.flush();
          return;
        }
      }
      const now = clock.now();
      for (const e of batch) {
        e.attemptedAt = now;
        e.attempts++;
      }
      await store.flush();

      let content: ChatContent;
      let cardVersion: number | undefined;
      if (head.kind === 'root' && thread) {
        cardVersion = thread.cardVersion;
        content = this.deps.renderCard(thread);
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
      this.recordSent(batch, ts, thread, cardVersion);
      await store.flush();
    } catch (err) {
      this.onFailure(err, batch, lane, method);
    }
  }

  private recordSent(batch: OutboxEntry[], ts: string, thread: ThreadRecord | undefined, cardVersion: number | undefined): void {
    const { data } = this.deps.store;
    const ids = new Set(batch.map((e) => e.id));
    data.outbox = data.outbox.filter((e) => !ids.has(e.id));
    const head = batch[0]!;
    if (head.kind === 'root' && thread) {
      thread.rootTs = ts;
      // Found after a restart: we do not know which version Slack shows, so refresh it.
      thread.cardSent = cardVersion ?? 0;
    }
  }

  private onFailure(err: unknown, batch: OutboxEntry[], lane: ChannelLane, method: string): void {
    const { clock, log } = this.deps;
    const head = batch[0]!;
    const now = clock.now();
    if (err instanceof RateLimitedError) {
      // Slack said "not now": nothing was posted, so the entry is not in doubt.
      for (const e of batch) e.attemptedAt = undefined;
      lane.holdUntil = now + err.retryAfterMs;
      this.deps.metrics?.slackCall(method, 'rate_limited');
      log.warn({ channel: head.channel, retryAfterMs: err.retryAfterMs }, 'slack rate limited the channel, waiting as asked');
      return;
    }
    this.deps.metrics?.slackCall(method, 'error');
    if (err instanceof ServiceError && err.code && !err.code.startsWith('http') && err.code !== 'request_error') {
      // Slack answered ok:false: it did not post.
      for (const e of batch) e.attemptedAt = undefined;
    }
    lane.failures++;
    const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(lane.failures - 1, 6));
    lane.holdUntil = now + backoff;
    log.error({ err, channel: head.channel, entry: head.id, backoffMs: backoff, fix: fixHint(err) }, 'slack post failed, will retry');
  }

  private async updateCard(thread: ThreadRecord): Promise<void> {
    const { chat, clock, store, log } = this.deps;
    const version = thread.cardVersion;
    const content = this.deps.renderCard(thread);
    try {
      await chat.updateMessage({ ...content, channel: thread.channel, ts: thread.rootTs!, keys: [`${thread.key}#root`] });
      this.deps.metrics?.slackCall('chat.update', 'ok');
      this.updateFailures.delete(thread.key);
      if (thread.cardSent < version) thread.cardSent = version;
      await store.flush();
    } catch (err) {
      const now = clock.now();
      if (err instanceof RateLimitedError) {
        this.updateHoldUntil = now + err.retryAfterMs;
        this.deps.metrics?.slackCall('chat.update', 'rate_limited');
        log.warn({ retryAfterMs: err.retryAfterMs }, 'slack rate limited chat.update, waiting as asked');
        return;
      }
      this.deps.metrics?.slackCall('chat.update', 'error');
      const count = (this.updateFailures.get(thread.key)?.count ?? 0) + 1;
      const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(count - 1, 6));
      this.updateFailures.set(thread.key, { count, until: now + backoff });
      log.error({ err, thread: thread.key, backoffMs: backoff, fix: fixHint(err) }, 'status card update failed, will retry');
    }
  }
}

/** Several progress replies of one thread as one message, in order. */
function mergeReplies(batch: OutboxEntry[]): ChatContent {
  const text = batch.map((e) => e.text).join('\n');
  const blocks = batch.flatMap((e) => e.blocks ?? [{ type: 'section', text: { type: 'mrkdwn', text: e.text } }]);
  return { text, blocks: blocks.length <= 50 ? blocks : undefined };
}

function fixHint(err: unknown): string | undefined {
  const code = err instanceof ServiceError ? err.code : undefined;
  switch (code) {
    case 'not_in_channel':
      return 'invite the bot to the channel (/invite @rollout-chatops)';
    case 'channel_not_found':
      return 'check slackChannel in the config: it must be a channel id (C...) the bot can see';
    case 'invalid_auth':
    case 'not_authed':
    case 'token_revoked':
      return 'check SLACK_BOT_TOKEN';
    case 'missing_scope':
      return 'add the missing scope to the Slack app (see README) and reinstall it';
    default:
      return undefined;
  }
}
