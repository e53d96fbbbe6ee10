import type { EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-types.js';
import { approverList, isApprover } from '../policy/approvers.js';
import type { Clock } from '../ports.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import type { ConfirmationCards } from './confirmation-cards.js';
import { renderRejectAnswer } from './render-reject.js';

export interface RejectDeps {
  stores: Pick<Stores, 'confirmations'>;
  kernel: ThreadKernel;
  clock: Clock;
  cards: Pick<ConfirmationCards, 'settle'>;
}

/**
 * `/rollout reject <env> [app] [reason]` (Slack or PR comment): an approver refuses every request still waiting in the
 * environment's current deploy thread. Each is cancelled atomically (one caller wins against a confirmation), its card
 * shows who rejected it and why, in place of its buttons, and nothing is sent to the cluster. Recorded like a lock.
 */
export async function rejectRequests(deps: RejectDeps, o: { target: EnvTarget; ctx: CommandContext; reason?: string }): Promise<CommandReply> {
  const { target, ctx, reason } = o;
  const name = `${target.app.name} ${target.env.name}`;
  if (!isApprover(target, ctx)) return { text: renderRejectAnswer({ kind: 'denied', name, approvers: approverList(target) }) };
  const thread = await deps.kernel.current(target);
  const now = deps.clock.now();
  const waiting = thread ? (await deps.stores.confirmations.ofThread(thread.key)).filter((c) => c.status === 'pending' && c.expiresAt >= now) : [];
  const by = ctx.source === 'github' ? `@${ctx.user} (GitHub)` : ctx.user;
  let rejected = 0;
  for (const c of waiting) {
    if (!(await deps.stores.confirmations.cancel(c.id, by, now))) continue;
    rejected++;
    await deps.cards.settle(c.id, { kind: 'rejected', by, ...(reason ? { reason } : {}) });
  }
  if (rejected === 0 || !thread) return { text: renderRejectAnswer({ kind: 'nothing-waiting', name }) };
  await deps.kernel.record({ target, actor: { who: by, source: ctx.source }, action: 'reject', result: reason ? `rejected: ${reason}` : 'rejected', thread, cardLine: `rejected a request${reason ? `: ${reason}` : ''}` });
  await deps.kernel.commit();
  return { text: renderRejectAnswer({ kind: 'rejected', name, count: rejected, ...(reason ? { reason } : {}) }) };
}
