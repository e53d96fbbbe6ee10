import type { Logger } from '../logger.js';
import type { Clock, Timer } from '../ports.js';
import type { Confirmation } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import { CONFIRMATION_TTL_MS } from './open-confirmation.js';
import { progressCard, renderCardOutcome, settledCard, type CardOutcome } from './render-card-outcome.js';

export interface ConfirmationCardsDeps {
  stores: Pick<Stores, 'confirmations' | 'outbox' | 'flush'>;
  kernel: ThreadKernel;
  clock: Clock;
  log: Logger;
}

/**
 * The confirmation cards as they change: once a request is decided (done, refused, failed, cancelled, superseded,
 * expired, done outside chat) its card is edited in place, once, so the buttons give way to the outcome. Expiry runs
 * on a timer on the injected clock per pending request, armed again at start-up (`resume`).
 */
export class ConfirmationCards {
  private readonly timers = new Map<string, Timer>();

  constructor(private readonly deps: ConfirmationCardsDeps) {}

  /** The card of `c` was queued under outbox id `cardKey` with `card`: keep it (to edit it later) and arm its expiry. */
  async posted(c: Confirmation, cardKey: string, card: { text: string; blocks: unknown[] }): Promise<void> {
    await this.deps.stores.confirmations.update(c.id, { cardKey, card });
    this.arm(c);
  }

  /** Shows `outcome` on the card of confirmation `id` in place of its buttons, once (later outcomes change nothing). */
  async settle(id: string, outcome: CardOutcome): Promise<void> {
    const { stores, clock } = this.deps;
    this.timers.get(id)?.cancel();
    this.timers.delete(id);
    const line = renderCardOutcome(outcome);
    const c = await stores.confirmations.settleCard(id, line);
    if (!c?.card || !c.cardKey) return;
    const content = settledCard(c.card, line);
    await stores.outbox.enqueueEdit({ id: `edit:${c.cardKey}`, editOf: c.cardKey, threadKey: c.threadKey, channel: '', priority: 'high', text: content.text, blocks: content.blocks, createdAt: clock.now() });
    await this.deps.kernel.commit();
  }

  /**
   * Shows `line` (the approvals so far) on the still-pending card of `id`, in place, buttons kept; a later progress
   * line or the outcome replaces it (edits of one card coalesce in the outbox).
   */
  async progress(id: string, line: string): Promise<void> {
    const { stores, clock } = this.deps;
    const c = await stores.confirmations.get(id);
    if (!c?.card || !c.cardKey || c.cardOutcome !== undefined) return;
    const content = progressCard(c.card, line);
    await stores.outbox.enqueueEdit({ id: `edit:${c.cardKey}`, editOf: c.cardKey, threadKey: c.threadKey, channel: '', priority: 'high', text: content.text, blocks: content.blocks, createdAt: clock.now() });
    await this.deps.kernel.commit();
  }

  /** Arms the expiry timers of every pending request that still shows its buttons (start-up). */
  async resume(): Promise<void> {
    for (const c of await this.deps.stores.confirmations.pending()) if (c.cardKey && c.cardOutcome === undefined) this.arm(c);
  }

  stop(): void {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
  }

  private arm(c: Confirmation): void {
    this.timers.get(c.id)?.cancel();
    const ms = Math.max(0, c.expiresAt - this.deps.clock.now() + 1);
    this.timers.set(c.id, this.deps.clock.setTimer(ms, () => {
      this.timers.delete(c.id);
      void this.expire(c.id).catch((err: unknown) => this.deps.log.error({ err, confirmation: c.id }, 'expiring a confirmation card failed'));
    }));
  }

  private async expire(id: string): Promise<void> {
    const c = await this.deps.stores.confirmations.get(id);
    if (!c || c.status !== 'pending') return;
    if (this.deps.clock.now() <= c.expiresAt) return this.arm(c);
    await this.settle(id, { kind: 'expired', afterMin: Math.round(CONFIRMATION_TTL_MS / 60_000) });
  }
}
