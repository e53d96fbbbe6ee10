import type { ChatContent } from '../ports.js';
import { RateLimitedError, ServiceError } from '../ports.js';
import type { OutboxEntry, ThreadRecord } from '../store-data.js';
import type { ThreadHead } from '../store-ports.js';
import { backoffMs } from './backoff-ms.js';
import type { DeliveryContext, QueueView } from './delivery-context.js';
import { fixOf } from './fix-of.js';
import { UPDATE_WINDOW_MS } from './pacing.js';
import { rankStaleCards } from './rank-stale-cards.js';
import { PacedLimiter } from './token-bucket.js';

/**
 * Keeps every status card current with coalesced chat.update calls on one workspace-wide budget (Tier 3: about 50 a
 * minute, never more in any minute): a card changed many times while it waited is updated once, to its latest
 * version, and the cards that show what their thread does not yet go first (rankStaleCards). Edits of posted replies
 * (outbox entries of kind `edit`, already coalesced by the store) share that budget and go before any card: they take
 * the buttons off decided confirmation cards, which people may otherwise still press.
 */
export class CardUpdates {
  private readonly bucket: PacedLimiter;
  private holdUntil = 0;
  private readonly inFlight = new Set<string>();
  private readonly failures = new Map<string, { count: number; until: number }>();

  constructor(private readonly ctx: DeliveryContext, private readonly renderCard: (thread: ThreadRecord) => ChatContent | Promise<ChatContent>) {
    this.bucket = new PacedLimiter(ctx.pacing.updatesPerSecond, ctx.pacing.updateBurst, ctx.clock.now(), UPDATE_WINDOW_MS);
  }

  /**
   * Starts the updates that may start now; returns how long until the next one may (Infinity when none waits).
   * `stale`: the threads whose card changed since Slack last saw it (ThreadStore.staleCards); `backlogged`: the
   * channels with a backlog of posts.
   */
  start(now: number, stale: ThreadHead[], queue: Pick<QueueView, 'outbox' | 'edits'>, backlogged: ReadonlySet<string> = new Set()): number {
    let wait = Infinity;
    const queued = new Set(queue.outbox.map((e) => e.id));
    for (const edit of queue.edits) {
      // The reply it edits is not in Slack yet: it waits (the post comes first, in its channel's lane).
      if (this.inFlight.has(edit.id) || queued.has(edit.editOf ?? '')) continue;
      const failed = this.failures.get(edit.id);
      if (failed && failed.until > now) {
        wait = Math.min(wait, failed.until - now);
        continue;
      }
      const budgetWait = Math.max(this.holdUntil - now, this.bucket.waitMs(now));
      if (budgetWait > 0) return Math.min(wait, budgetWait);
      this.bucket.take(now);
      this.inFlight.add(edit.id);
      this.ctx.run(() => this.counted(now, () => this.edit(edit)), () => this.inFlight.delete(edit.id));
    }
    const dirty = rankStaleCards({ stale: stale.filter((t) => !this.inFlight.has(t.key)), queued: queue.outbox, backlogged });
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
      this.ctx.run(() => this.counted(now, () => this.update(thread)), () => this.inFlight.delete(thread.key));
    }
    return wait;
  }

  /** Runs one call taken from the budget at `takenAt`; it counts in the minute's window until it has settled. */
  private async counted(takenAt: number, call: () => Promise<void>): Promise<void> {
    try {
      await call();
    } finally {
      this.bucket.restamp(takenAt, this.ctx.clock.now());
    }
  }

  /** Applies one edit of a posted reply; an edit whose reply Slack never showed (or no longer has) is dropped. */
  private async edit(edit: OutboxEntry): Promise<void> {
    const { chat, clock, stores, log, metrics } = this.ctx;
    // The seq of the edit applied now: a newer edit coalesced meanwhile gets another and stays queued.
    edit = { ...edit };
    const posted = await stores.outbox.postedOf(edit.editOf ?? '');
    if (!posted) {
      log.warn({ entry: edit.id, editOf: edit.editOf }, 'edit of a reply whose ts is unknown, dropped');
      await stores.outbox.editDone(edit.id, edit.seq);
      return;
    }
    try {
      await chat.updateMessage({ text: edit.text, blocks: edit.blocks, channel: posted.channel, ts: posted.ts, keys: [edit.editOf!] });
      metrics?.slackCall('chat.update', 'ok');
      this.failures.delete(edit.id);
      await stores.outbox.editDone(edit.id, edit.seq);
      await stores.flush();
    } catch (err) {
      this.failed(err, edit.id, clock.now());
      if (err instanceof RateLimitedError) return;
      // Slack refusing the same edit again and again (the message was deleted, say) will not change: give up on it.
      const giveUp = err instanceof ServiceError && err.rejected && (this.failures.get(edit.id)?.count ?? 0) >= 3;
      log.error({ err, entry: edit.id, fix: fixOf(err) }, giveUp ? 'reply edit refused, dropped' : 'reply edit failed, will retry');
      if (giveUp) {
        this.failures.delete(edit.id);
        await stores.outbox.editDone(edit.id, edit.seq);
      }
    }
  }

  private failed(err: unknown, key: string, now: number): void {
    if (err instanceof RateLimitedError) {
      this.holdUntil = now + err.retryAfterMs;
      this.ctx.metrics?.slackCall('chat.update', 'rate_limited');
      this.ctx.log.warn({ retryAfterMs: err.retryAfterMs }, 'slack rate limited chat.update, waiting as asked');
      return;
    }
    this.ctx.metrics?.slackCall('chat.update', 'error');
    const count = (this.failures.get(key)?.count ?? 0) + 1;
    this.failures.set(key, { count, until: now + backoffMs(count) });
  }

  private async update(head: ThreadHead): Promise<void> {
    const { chat, clock, stores, log, metrics } = this.ctx;
    try {
      // The card is rendered from a fresh read of the whole record (the look had only its head).
      const thread = await stores.threads.byKey(head.key);
      if (!thread?.rootTs) return;
      const version = thread.cardVersion;
      const content = await this.renderCard(thread);
      await chat.updateMessage({ ...content, channel: thread.channel, ts: thread.rootTs!, keys: [`${thread.key}#root`] });
      metrics?.slackCall('chat.update', 'ok');
      this.failures.delete(head.key);
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
      const count = (this.failures.get(head.key)?.count ?? 0) + 1;
      const backoff = backoffMs(count);
      this.failures.set(head.key, { count, until: now + backoff });
      log.error({ err, thread: head.key, backoffMs: backoff, fix: fixOf(err) }, 'status card update failed, will retry');
    }
  }
}
