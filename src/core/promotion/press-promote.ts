import type { Catalog } from '../catalog.js';
import type { Logger } from '../logger.js';
import { approvalRule, approverList, isApprover } from '../policy/approvers.js';
import type { Clock, ImageRegistry, RolloutCluster } from '../ports.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import { auditRolloutAction } from './audit-rollout-action.js';
import type { ConfirmationCards } from './confirmation-cards.js';
import type { PressedButton } from './confirmation-service.js';
import { verbOf } from './open-confirmation.js';
import { groupWaitMark, parsePromoteButtonValue, waitMarkOf } from './promote-button.js';
import { renderConfirmationNotice } from './render-confirmation-notice.js';
import { renderPromotion } from './render-promotion.js';
import { allOf, busyKeyOf, executeDeployAction, runDeployPreflight } from './run-deploy-preflight.js';

export interface PressPromoteDeps {
  catalog: Catalog;
  stores: Stores;
  kernel: ThreadKernel;
  clock: Clock;
  log: Logger;
  cluster: RolloutCluster;
  registry: ImageRegistry;
  cards: ConfirmationCards;
  ephemeral?: (o: { channel: string; user: string; threadTs?: string; text: string }) => Promise<void>;
  /** Who is changing which rollout (`namespace/name`) right now; shared with the requests and confirmations. */
  busy: Map<string, string>;
}

/**
 * The Promote button on a "waiting for promotion" broadcast or a root card. Slack's confirm dialog was the explicit
 * intent, so after the same preflight as `/promote` (fresh read, exact patch, tag in ECR, proof in the previous
 * environment) it executes exactly that plan, with the same audit record and thread reply as a confirmed request,
 * provided the rollout still waits where the button was shown. Only approvers; every refusal goes to the presser alone
 * and sends nothing. The requests still waiting to promote in that thread are done by it (their cards say so).
 */
export async function pressPromote(deps: PressPromoteDeps, o: PressedButton): Promise<void> {
  const { kernel, catalog, busy, clock } = deps;
  const parsed = parsePromoteButtonValue(o.value);
  const thread = parsed ? await kernel.byKey(parsed.threadKey) : undefined;
  const say = async (text: string) => {
    if (deps.ephemeral) return deps.ephemeral({ channel: o.channel, user: o.user, threadTs: thread?.rootTs ?? o.threadTs, text });
    if (thread) {
      await kernel.reply(thread, `press:${o.user}:${clock.now()}`, text, 'normal');
      await kernel.commit();
    }
  };
  const target = thread ? catalog.target(thread.app, thread.env) : undefined;
  if (!parsed || !thread || !target) return say(renderConfirmationNotice({ kind: 'unknown', user: o.user }));
  if (thread.channel !== o.channel) return say(renderConfirmationNotice({ kind: 'elsewhere', user: o.user }));
  const name = `${target.app.name} ${target.env.name}`;
  if (!isApprover(target, { source: 'slack', user: o.user })) return say(renderConfirmationNotice({ kind: 'not-approver', user: o.user, name, approvers: approverList(target) }));
  const { required } = approvalRule(target);
  if (required >= 2) return say(renderConfirmationNotice({ kind: 'needs-request', user: o.user, required, env: target.env.name }));
  const changed = (why: string) => say(renderPromotion({ kind: 'changed', action: 'promote', env: target.env.name, why }));
  if ((await kernel.current(target))?.key !== thread.key) return changed('this button belongs to an earlier deploy of this environment.');
  const rk = busyKeyOf(catalog, target);
  const holder = busy.get(rk);
  if (holder) return say(renderPromotion({ kind: 'busy', holder, name, wait: true }));
  busy.set(rk, o.user);
  try {
    const pf = await runDeployPreflight(deps, { target, thread, action: 'promote', full: false, force: false });
    const mark = pf.members ? groupWaitMark(allOf(pf).map((p) => p.state)) : waitMarkOf(pf.state);
    const moved = !pf.refusal && mark !== parsed.waitMark;
    if (pf.refusal || moved) {
      const why = pf.refusal ?? 'the rollout is no longer waiting where this button was shown.';
      await auditRolloutAction(kernel, { pf, actor: { who: o.user, source: 'slack' }, result: `refused: ${why}` });
      await kernel.commit();
      return changed(why);
    }
    const { ok } = await executeDeployAction(deps, { pf, user: o.user, source: 'slack' });
    if (!ok) return;
    // The promotion is done: requests still waiting to promote this deploy are done by it, and their cards say so.
    const now = clock.now();
    for (const c of await deps.stores.confirmations.ofThread(thread.key)) {
      if (c.status !== 'pending' || verbOf(c.action) !== 'promote' || c.action === 'deploy') continue;
      if (await deps.stores.confirmations.claim(c.id, o.user, now)) await deps.cards.settle(c.id, { kind: 'done', action: 'promote', by: o.user, at: now });
    }
  } finally {
    busy.delete(rk);
  }
}
