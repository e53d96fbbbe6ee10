import { RateLimitedError, ServiceError } from '../ports.js';
import type { OutboxEntry } from '../store-data.js';
import { backoffMs } from './backoff-ms.js';
import type { DeliveryContext, QueueView } from './delivery-context.js';
import { fixOf } from './fix-of.js';
import { planReadScopes, type ReadMethod, type ReadScope } from './plan-read-scopes.js';
import { readQueue } from './read-queue.js';
import { recordSent } from './record-sent.js';
import { TokenBucket } from './token-bucket.js';

/** Slack's clock and ours may disagree: read back from a minute before the entry was made. */
const READ_BACK_MARGIN_MS = 60_000;

/** A read-back under way, page by page. */
interface ReadScan {
  sinceMs: number;
  cursor?: string;
  /** The entries in doubt when the scan began: reaching its last page proves only these absent. */
  ids: Set<string>;
}

/**
 * Settles the entries in doubt by reading Slack back. Read-backs are paced on their own budget per method and
 * batched, one per thread (conversations.replies) or per channel for top-level messages (conversations.history),
 * whatever number of entries they settle. An entry found is recorded; one absent from every page is freed to post; a
 * 429 waits as told and any other failure backs off, the entry still in doubt. Only a read-back that can never work
 * (kind `cannot-read-back`) lets an entry be posted unseen.
 */
export class ReadBacks {
  private readonly methods = new Map<ReadMethod, { bucket: TokenBucket; holdUntil: number }>();
  private readonly scans = new Map<string, ReadScan>();
  private readonly inFlight = new Set<string>();
  private readonly failures = new Map<string, { count: number; until: number }>();

  /** `sending`: the entries of posts in flight, attempted yet not in doubt. */
  constructor(private readonly ctx: DeliveryContext, private readonly sending: ReadonlySet<string>) {}

  /** Starts the read-backs that may start now; returns how long until the next one may (Infinity when none waits). */
  start(now: number, queue: QueueView): number {
    let wait = Infinity;
    for (const scope of this.scopes(queue)) {
      if (this.inFlight.has(scope.id)) continue;
      const failed = this.failures.get(scope.id);
      if (failed && failed.until > now) {
        wait = Math.min(wait, failed.until - now);
        continue;
      }
      const method = this.method(scope.method);
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
      this.inFlight.add(scope.id);
      this.ctx.run(() => this.readBack(scope), () => this.inFlight.delete(scope.id));
    }
    return wait;
  }

  private scopes(queue: QueueView): ReadScope[] {
    return planReadScopes({ outbox: queue.outbox, threads: queue.threads, sending: this.sending });
  }

  private method(method: ReadMethod) {
    let m = this.methods.get(method);
    if (!m) {
      m = { bucket: new TokenBucket(this.ctx.pacing.readsPerMinute / 60, this.ctx.pacing.readBurst, this.ctx.clock.now()), holdUntil: 0 };
      this.methods.set(method, m);
    }
    return m;
  }

  /** Reads one page back for a scope and settles what it can: found entries are recorded, absent ones freed to post. */
  private async readBack(scope: ReadScope): Promise<void> {
    const { chat, clock, stores, log, metrics } = this.ctx;
    let scan = this.scans.get(scope.id);
    if (!scan) {
      scan = { sinceMs: Math.min(...scope.entries.map((e) => e.createdAt)) - READ_BACK_MARGIN_MS, ids: new Set(scope.entries.map((e) => e.id)) };
      this.scans.set(scope.id, scan);
    }
    try {
      const page = await chat.readBack({ channel: scope.channel, threadTs: scope.threadTs, sinceMs: scan.sinceMs, cursor: scan.cursor });
      metrics?.slackCall(scope.method, 'ok');
      this.failures.delete(scope.id);
      for (const e of await this.inDoubt(scope.id)) {
        const ts = page.keys[e.id];
        if (ts === undefined) continue;
        log.info({ entry: e.id, ts }, 'message found in Slack, not posting it again');
        await recordSent({ outbox: stores.outbox, batch: [e], ts, cardVersion: undefined });
      }
      const left = await this.inDoubt(scope.id);
      if (left.length === 0) {
        this.scans.delete(scope.id);
      } else if (page.cursor) {
        scan.cursor = page.cursor;
      } else {
        this.scans.delete(scope.id);
        const absent = left.filter((e) => scan.ids.has(e.id));
        for (const e of absent) log.info({ entry: e.id, method: scope.method }, 'message not in Slack, posting it');
        await stores.outbox.clearAttempted(absent.map((e) => e.id));
      }
      await stores.flush();
    } catch (err) {
      const now = clock.now();
      if (err instanceof RateLimitedError) {
        // Slack answered nothing: the entries stay in doubt and are looked up again once it lets us.
        this.method(scope.method).holdUntil = now + err.retryAfterMs;
        metrics?.slackCall(scope.method, 'rate_limited');
        log.warn({ method: scope.method, retryAfterMs: err.retryAfterMs }, 'slack rate limited reading history back, waiting as asked');
        return;
      }
      metrics?.slackCall(scope.method, 'error');
      if (err instanceof ServiceError && err.kind === 'cannot-read-back') {
        // Waiting would hold the thread forever: a possible duplicate is better than a message never sent.
        this.scans.delete(scope.id);
        await stores.outbox.clearAttempted((await this.inDoubt(scope.id)).map((e) => e.id));
        log.warn({ err, method: scope.method, channel: scope.channel, entries: scope.entries.map((e) => e.id), fix: err.fix }, 'cannot read slack history back, posting again');
        await stores.flush();
        return;
      }
      const count = (this.failures.get(scope.id)?.count ?? 0) + 1;
      const backoff = backoffMs(count);
      this.failures.set(scope.id, { count, until: now + backoff });
      log.error({ err, method: scope.method, channel: scope.channel, backoffMs: backoff, fix: fixOf(err) }, 'reading slack history back failed, will look again before posting');
    }
  }

  /** The entries of a scope still in doubt now. */
  private async inDoubt(scopeId: string): Promise<OutboxEntry[]> {
    return this.scopes(await readQueue(this.ctx.stores)).find((s) => s.id === scopeId)?.entries ?? [];
  }
}
