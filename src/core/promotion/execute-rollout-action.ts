import type { Logger } from '../logger.js';
import type { Clock, RolloutCluster } from '../ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import { renderPromotion } from './render-promotion.js';
import { auditRolloutAction } from './audit-rollout-action.js';
import { describePatch } from './describe-patch.js';
import type { Preflight } from './run-preflight.js';

export interface ExecuteDeps {
  kernel: ThreadKernel;
  clock: Clock;
  log: Logger;
  cluster: RolloutCluster;
}

/**
 * Sends the preflight's patches in order, records who did it, and says so in the thread. Returns the outcome line.
 * Once a patch may have gone out this never throws: a store write that fails afterwards is logged, and what it held
 * stays in memory for the next write. So a caller that catches an error from here knows nothing was changed.
 */
export async function executeRolloutAction(deps: ExecuteDeps, o: { pf: Preflight; user: string; source: 'slack' | 'github' }): Promise<string> {
  const { pf, user, source } = o;
  const { target, thread } = pf;
  const { kernel } = deps;
  const sent: string[] = [];
  try {
    for (const patch of pf.patches) {
      await deps.cluster.patch(target.env.namespace, target.env.rollout, patch);
      sent.push(describePatch(patch));
    }
  } catch (err) {
    const message = (err as Error).message;
    const text = renderPromotion({ kind: 'patch-failed', action: pf.action, error: message, sent });
    deps.log.error({ err, app: target.app.name, env: target.env.name, action: pf.action }, 'rollout patch failed');
    await recordAfterChange(deps, pf, async () => {
      await kernel.reply(thread, `fail:${deps.clock.now()}`, text, 'high');
      await auditRolloutAction(kernel, { pf, actor: { who: user, source }, result: `failed: ${message}` });
    });
    return text;
  }
  const by = source === 'github' ? `@${user} (GitHub)` : user;
  const what = pf.action === 'promote' ? (pf.full ? 'promoted (full)' : 'promoted') : pf.action === 'abort' ? 'aborted' : 'retried';
  const text = renderPromotion({ kind: 'executed', what, user, github: source === 'github', describe: pf.describe, override: Boolean(pf.force && pf.proof && !pf.proof.ok), sent });
  await recordAfterChange(deps, pf, async () => {
    await kernel.reply(thread, `done:${pf.action}:${deps.clock.now()}`, text, 'high');
    await auditRolloutAction(kernel, { pf, actor: { who: by, source }, result: 'ok', cardLine: `${what}${pf.force ? ' with --force (override)' : ''}` });
  });
  return text;
}

/** Records what a patch attempt did and makes it durable; a failure here is logged, never thrown (see above). */
async function recordAfterChange(deps: ExecuteDeps, pf: Preflight, record: () => Promise<void>): Promise<void> {
  try {
    await record();
    await deps.kernel.commit();
  } catch (err) {
    deps.log.error({ err, app: pf.target.app.name, env: pf.target.env.name, fix: 'check that DATA_DIR is writable; the record is written with the next store write' }, 'store write after a rollout change failed');
    deps.kernel.wake();
  }
}
