import type { ChatContent } from '../ports.js';
import { RateLimitedError } from '../ports.js';
import type { ThreadRecord } from '../store-data.js';
import { backoffMs } from './backoff-ms.js';
import type { DeliveryContext } from './delivery-context.js';
import { fixOf } from './fix-of.js';
import { TokenBucket } from './token-bucket.js';

/**
 * Keeps every status card current with coalesced chat.update calls on one workspace-wide budget: a card changed many
 * times while it waited is updated once, to its latest version.
 */
export class CardUpdates {
  private readonly bucket: TokenBucket;
  private holdUntil = 0;
  private readonly inFlight = new Set<string>();
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(private readonly ctx: DeliveryContext, private readonly renderCard: (thread: ThreadRecord) => ChatContent | Promise<ChatContent>) {
    this.bucket = new TokenBucket(ctx.pacing.updatesPerSecond, ctx.pacing.updateBurst, ctx.clock.now());
  }

  /**
   * Starts the updates that may start now; returns how long until the next one may (Infinity when none waits).
   * `stale`: the threads whose card changed since Slack last saw it (ThreadStore.staleCards).
   */
  start(now: number, stale: ThreadRecord[]): number {
    let wait = Infinity;
    // The budget goes first to cards showing a final state, then to the newest deploys.
    const dirty = stale.filter((t) => !this.inFlight.has(t.key));
    dirty.sort((a, b) => Number(Boolean(b.outcome)) - Number(Boolean(a.outcome)) || b.createdAt - a.createdAt);
    for (const thread of dirty) {
      const failed = this.failures.get(thread.key);
      if (failed && failed.until > now) {
        wait = Math.min(wait, failed.until - now);
        continue;
      }
      if (this.holdUntil > now) {
        wait = Math.min(wait, this.holdUntil - now);
        break;
      }
      const tokenWait = this.bucket.waitMs(now);
      if (tokenWait > 0) {
        wait = Math.min(wait, tokenWait);
        break;
      }
      this.bucket.take(now);
      this.inFlight.add(thread.key);
      this.ctx.run(() => this.update(thread), () => this.inFlight.delete(thread.key));
    }
    return wait;
  }

  private async update(thread: ThreadRecord): Promise<void> {
    const { chat, clock, stores, log, metrics } = this.ctx;
    const version = thread.cardVersion;
    try {
      const content = await this.renderCard(thread);
      await chat.updateMessage({ ...content, channel: thread.channel, ts: thread.rootTs!, keys: [`${thread.key}#root`] });
      metrics?.slackCall('chat.update', 'ok');
      this.failures.delete(thread.key);
      await stores.threads.markCardSent(thread.key, version);
      await stores.flush();
    } catch (err) {
      const now = clock.now();
      if (err instanceof RateLimitedError) {
        this.holdUntil = now + err.retryAfterMs;
        metrics?.slackCall('chat.update', 'rate_limited');
        log.warn({ retryAfterMs: err.retryAfterMs }, 'slack rate limited chat.update, waiting as asked');
        return;
      }
      metrics?.slackCall('chat.update', 'error');
      const count = (this.failures.get(thread.key)?.count ?? 0) + 1;
      const backoff = backoffMs(count);
      this.failures.set(thread.key, { count, until: now + backoff });
      log.error({ err, thread: thread.key, backoffMs: backoff, fix: fixOf(err) }, 'status card update failed, will retry');
    }
  }
}
