import type { EnvTarget } from '../catalog.js';
import type { Clock } from '../ports.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import type { ConfirmationCards } from './confirmation-cards.js';
import { detectOutsideChanges } from './detect-outside-action.js';
import { verbOf } from './open-confirmation.js';
import { waitMarkOf } from './promote-button.js';
import { outsideDone, renderOutsideAction } from './render-outside-action.js';

/** How long a bot action's mark explains what the observer sees next. */
const MARK_MS = 10 * 60_000;

export interface OutsideActionsDeps {
  stores: Pick<Stores, 'actionMarks' | 'confirmations'>;
  kernel: ThreadKernel;
  clock: Clock;
  cards: ConfirmationCards;
}

/**
 * What happens outside chat shows in chat: a promote, abort, retry, pause, resume or restart the observer sees without the bot's
 * mark of the same change (executeRolloutAction sets one before its patch) is said in the thread as done outside chat,
 * and a live confirmation card for it shows "Done outside chat" instead of its buttons. A rollout observer hook.
 */
export class OutsideActions {
  constructor(private readonly deps: OutsideActionsDeps) {}

  async onThreadChanged(o: { thread: ThreadRecord; target: EnvTarget; state: RolloutState; events: string[]; previous?: RolloutState }): Promise<void> {
    const changes = detectOutsideChanges({ previous: o.previous, state: o.state, events: o.events });
    if (!changes.length) return;
    const { stores, kernel, clock } = this.deps;
    const now = clock.now();
    const mark = await stores.actionMarks.get(o.thread.key);
    for (const change of changes) {
      if (change.verb && mark && mark.action === change.verb && now - mark.at <= MARK_MS) {
        // The bot's own change: it is told (and recorded) by the action itself. One mark explains one change.
        await stores.actionMarks.delete(o.thread.key);
        continue;
      }
      // Who aborted outside chat is news as urgent as the abort; a promote, pause or restart there is context (the
      // transition it causes carries its own priority: a pause waiting for a person, a completion).
      await kernel.reply(o.thread, `outside:a${o.thread.attempt}:${change.kind}:${change.mark ?? waitMarkOf(o.previous!)}`, renderOutsideAction(change.kind), change.kind === 'aborted' ? 'high' : 'normal');
      if (!change.verb) continue;
      for (const c of await stores.confirmations.ofThread(o.thread.key)) {
        if (c.status !== 'pending' || c.action === 'deploy' || verbOf(c.action) !== change.verb) continue;
        if (await stores.confirmations.claim(c.id, 'outside chat', now)) await this.deps.cards.settle(c.id, { kind: 'outside', done: outsideDone(change.kind) });
      }
    }
  }
}
