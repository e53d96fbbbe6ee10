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
  /**
   * Read-back requests per minute, for each of conversations.history and conversations.replies (default 1: Slack
   * allows some apps no more). Reading back is how an entry in doubt is settled, so it has its own budget.
   */
  readsPerMinute: number;
  /** Read-back requests a method may burst before that pace applies (default 3); a 429 still waits as told. */
  readBurst: number;
}

export const DEFAULT_PACING: Pacing = { postsPerSecond: 1, postBurst: 4, updatesPerSecond: 1, updateBurst: 10, maxBatch: 10, readsPerMinute: 1, readBurst: 3 };

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
/** Slack's clock and ours may disagree: read back from a minute before the entry was made. */
const READ_BACK_MARGIN_MS = 60_000;
/**
 * Slack answers to a read-back that will not change by asking again, so waiting for them would hold the thread
 * forever: this token can never read the conversation (no history scope, a token type or method that cannot, a
 * channel the bot cannot see or is not in, a thread that does not exist). The entry is posted again: a possible
 * duplicate is better than a message never sent. Every other failure (429, internal_error, 5xx, a lost connection,
 * a rejected token) leaves the entry in doubt and is asked again later.
 */
const CANNOT_READ_BACK = new Set(['unknown_method', 'missing_scope', 'not_allowed_token_type', 'method_deprecated', 'channel_not_found', 'not_in_channel', 'thread_not_found']);

type ReadMethod = 'conversations.history' | 'conversations.replies';

/** What one read-back covers: a thread's replies, or a channel's top-level messages (roots and notices). */
interface ReadScope {
  id: string;
  method: ReadMethod;
  channel: string;
  threadTs?: string;
  entries: OutboxEntry[];
}

/** A read-back under way, page by page. */
interface ReadScan {
  sinceMs: number;
  cursor?: string;
  /** The entries in doubt when the scan began: reaching its last page proves only these absent. */
  ids: Set<string>;
}

/**
 * Sends what the outbox holds, in order per thread, paced per channel, high priority first across threads, and keeps
 * every status card current with coalesced chat.update calls.
 *
 * Restart safety: an entry is marked attempted and flushed BEFORE its post. An attempted entry that is not being posted
 * is in doubt (we crashed, or lost the answer, after Slack may have taken it): it is not posted again until a read-back
 * has answered. Read-backs are paced on their own budget and batched, one per thread (conversations.replies) or per
 * channel for top-level messages (conversations.history), whatever number of entries they settle. An entry found is
 * recorded; one absent from every page is posted; a 429 waits as told and any other failure backs off, the entry
 * still in doubt. Only a read-back that can never work (CANNOT_READ_BACK) lets an entry be posted unseen.
 */
export class OutboxDispatcher {
  private readonly pacing: Pacing;
  private readonly lanes = new Map<string, ChannelLane>();
  private readonly updateBucket: TokenBucket;
  private updateHoldUntil = 0;
  private readonly updatesInFlight = new Set<string>();
  private readonly updateFailures = new Map<string, { count: number; until: number }>();
  /** Entries of posts in flight: attempted, yet not in doubt. */
  private readonly sending = new Set<string>();
  private readonly readMethods = new Map<ReadMethod, { bucket: TokenBucket; holdUntil: number }>();
  private readonly scans = new Map<string, ReadScan>();
  private readonly readsInFlight = new Set<string>();
  private readonly readFailures = new Map<string, { count: number; until: number }>();
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

    wait = Math.min(wait, this.startReadBacks(now));

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
      // A thread whose next message may already be in Slack waits for its read-back.
      if (list[0]!.attemptedAt !== undefined) continue;
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
    const { store, chat, clock } = this.deps;
    const head = batch[0]!;
    const thread = store.data.threads[head.threadKey];
    const method = 'chat.postMessage';
    for (const e of batch) this.sending.add(e.id);
    try {
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
    } finally {
      for (const e of batch) this.sending.delete(e.id);
    }
  }

  /** The entries in doubt, by what one read-back would cover, oldest first. */
  private readScopes(): ReadScope[] {
    const { data } = this.deps.store;
    const scopes = new Map<string, ReadScope>();
    for (const e of [...data.outbox].sort((a, b) => a.seq - b.seq)) {
      if (e.attemptedAt === undefined || this.sending.has(e.id)) continue;
      let threadTs: string | undefined;
      if (e.kind === 'reply') {
        threadTs = data.threads[e.threadKey]?.rootTs;
        if (!threadTs) continue; // nextBatch already says so
      }
      const id = threadTs ? `${e.channel}/${threadTs}` : e.channel;
      const scope = scopes.get(id);
      if (scope) scope.entries.push(e);
      else scopes.set(id, { id, method: threadTs ? 'conversations.replies' : 'conversations.history', channel: e.channel, threadTs, entries: [e] });
    }
    return [...scopes.values()];
  }

  private readMethod(method: ReadMethod) {
    let m = this.readMethods.get(method);
    if (!m) {
      m = { bucket: new TokenBucket(this.pacing.readsPerMinute / 60, this.pacing.readBurst, this.deps.clock.now()), holdUntil: 0 };
      this.readMethods.set(method, m);
    }
    return m;
  }

  /** Starts the read-backs that may start now; returns how long until the next one may (Infinity when none waits). */
  private startReadBacks(now: number): number {
    let wait = Infinity;
    for (const scope of this.readScopes()) {
      if (this.readsInFlight.has(scope.id)) continue;
      const failed = this.readFailures.get(scope.id);
      if (failed && failed.until > now) {
        wait = Math.min(wait, failed.until - now);
        continue;
      }
      const method = this.readMethod(scope.method);
      if (method.holdUntil > now) {
        wait = Math.min(wait, method.holdUntil - now);
        continue;
      }
      const tokenWait = method.bucket.waitMs(now);
      if (tokenWait > 0) {
        wait = Math.min(wait, tokenWait);
        continue;
      }
      method.bucket.take(now);
      this.readsInFlight.add(scope.id);
      this.inFlight++;
      void this.readBack(scope).finally(() => {
        this.readsInFlight.delete(scope.id);
        this.settle();
      });
    }
    return wait;
  }

  /** Reads one page back for a scope and settles what it can: found entries are recorded, absent ones freed to post. */
  private async readBack(scope: ReadScope): Promise<void> {
    const { chat, clock, store, log } = this.deps;
    let scan = this.scans.get(scope.id);
    if (!scan) {
      scan = { sinceMs: Math.min(...scope.entries.map((e) => e.createdAt)) - READ_BACK_MARGIN_MS, ids: new Set(scope.entries.map((e) => e.id)) };
      this.scans.set(scope.id, scan);
    }
    try {
      const page = await chat.readBack({ channel: scope.channel, threadTs: scope.threadTs, sinceMs: scan.sinceMs, cursor: scan.cursor });
      this.deps.metrics?.slackCall(scope.method, 'ok');
      this.readFailures.delete(scope.id);
      for (const e of this.inDoubt(scope.id)) {
        const ts = page.keys[e.id];
        if (ts === undefined) continue;
        log.info({ entry: e.id, ts }, 'message found in Slack, not posting it again');
        this.recordSent([e], ts, store.data.threads[e.threadKey], undefined);
      }
      if (this.inDoubt(scope.id).length === 0) {
        this.scans.delete(scope.id);
      } else if (page.cursor) {
        scan.cursor = page.cursor;
      } else {
        this.scans.delete(scope.id);
        for (const e of this.inDoubt(scope.id)) {
          if (!scan.ids.has(e.id)) continue;
          log.info({ entry: e.id, method: scope.method }, 'message not in Slack, posting it');
          e.attemptedAt = undefined;
        }
      }
      await store.flush();
    } catch (err) {
      const now = clock.now();
      if (err instanceof RateLimitedError) {
        // Slack answered nothing: the entries stay in doubt and are looked up again once it lets us.
        this.readMethod(scope.method).holdUntil = now + err.retryAfterMs;
        this.deps.metrics?.slackCall(scope.method, 'rate_limited');
        log.warn({ method: scope.method, retryAfterMs: err.retryAfterMs }, 'slack rate limited reading history back, waiting as asked');
        return;
      }
      this.deps.metrics?.slackCall(scope.method, 'error');
      if (err instanceof ServiceError && CANNOT_READ_BACK.has(err.code ?? '')) {
        this.scans.delete(scope.id);
        for (const e of this.inDoubt(scope.id)) e.attemptedAt = undefined;
        log.warn({ err, method: scope.method, channel: scope.channel, entries: scope.entries.map((e) => e.id), fix: readBackFix(err.code) }, 'cannot read slack history back, posting again');
        await store.flush();
        return;
      }
      const count = (this.readFailures.get(scope.id)?.count ?? 0) + 1;
      const backoff = Math.min(MAX_BACKOFF_MS, 1000 * 2 ** Math.min(count - 1, 6));
      this.readFailures.set(scope.id, { count, until: now + backoff });
      log.error({ err, method: scope.method, channel: scope.channel, backoffMs: backoff, fix: fixHint(err) }, 'reading slack history back failed, will look again before posting');
    }
  }

  /** The entries of a scope still in doubt now. */
  private inDoubt(scopeId: string): OutboxEntry[] {
    return this.readScopes().find((s) => s.id === scopeId)?.entries ?? [];
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

function readBackFix(code: string | undefined): string {
  if (code === 'not_in_channel' || code === 'channel_not_found') return 'invite the bot to the channel (/invite @rollout-chatops) so restarts can tell posted from not posted';
  if (code === 'thread_not_found') return 'the thread root is gone (deleted?); replies to it cannot be read back';
  return 'add the channels:history and groups:history scopes so restarts can tell posted from not posted';
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
