import { rolloutName } from '../catalog.js';
import type { Logger } from '../logger.js';
import type { Clock, RolloutCluster } from '../ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import type { Stores } from '../store-ports.js';
import { renderExecuted, renderPatchFailed } from './render-promotion.js';
import { expectedTransition, ownReplyClaim } from './expected-transition.js';
import { withoutPodHashes } from '../rollout/without-pod-hashes.js';
import type { ExpectedReply } from '../store-data.js';
import { auditRolloutAction } from './audit-rollout-action.js';
import { describePatch } from './describe-patch.js';
import type { Preflight } from './run-preflight.js';

export interface ExecuteDeps {
  kernel: ThreadKernel;
  clock: Clock;
  log: Logger;
  cluster: RolloutCluster;
  stores: Pick<Stores, 'actionMarks' | 'claims'>;
}

/**
 * Sends the preflight's patches in order, records who did it, and says so in the thread. Returns the outcome line.
 * Once a patch may have gone out this never throws: a store write that fails afterwards is logged, and what it held
 * stays in memory for the next write. So a caller that catches an error from here knows nothing was changed.
 * Before the first patch it marks the thread (actionMarks), so the observer knows the change it then sees is the bot's.
 */
export async function executeRolloutAction(deps: ExecuteDeps, o: { pf: Preflight; user: string; source: 'slack' | 'github' }): Promise<{ text: string; ok: boolean }> {
  const { pf, user, source } = o;
  const { target, thread } = pf;
  const { kernel } = deps;
  const sent: string[] = [];
  // One reply for the action and the transition it causes: keyed as the observer keys that transition, and in the
  // mark before the patch, so whichever of us sees it first words it this way and the other queues nothing more.
  const attempt = (await kernel.byKey(thread.key))?.attempt ?? thread.attempt;
  const expected = expectedTransition(pf, attempt);
  const done = renderExecuted({
    action: pf.action, full: pf.full, user, github: source === 'github', describe: withoutPodHashes(pf.describe, pf.state), override: Boolean(pf.force && pf.proof && !pf.proof.ok),
    sent: pf.patches.map(describePatch), env: target.env.name, revision: pf.state.revision, strategy: pf.state.strategy,
  });
  const reply: ExpectedReply = { key: expected ?? `done:${pf.action}:${deps.clock.now()}`, text: done.text, blocks: done.blocks, priority: 'high', broadcast: pf.action === 'abort' };
  try {
    await deps.stores.actionMarks.set(thread.key, { action: pf.action, at: deps.clock.now(), ...(expected ? { reply } : {}) });
    for (const patch of pf.patches) {
      await deps.cluster.patch(target.env.namespace, rolloutName(target), patch, target.env.cluster);
      sent.push(describePatch(patch));
    }
  } catch (err) {
    const message = (err as Error).message;
    const failed = renderPatchFailed({ kind: 'patch-failed', action: pf.action, error: message, sent });
    const text = failed.mrkdwn;
    deps.log.error({ err, app: target.app.name, env: target.env.name, action: pf.action }, 'rollout patch failed');
    await recordAfterChange(deps, pf, async () => {
      // Nothing went out: no transition will come, so the mark no longer words one.
      if (expected && sent.length === 0) await deps.stores.actionMarks.set(thread.key, { action: pf.action, at: deps.clock.now() });
      await kernel.reply(thread, `fail:${deps.clock.now()}`, failed.text, 'high', { blocks: failed.blocks, rolloutLabel: true });
      await auditRolloutAction(kernel, { pf, actor: { who: user, source }, result: `failed: ${message}` });
    });
    return { text, ok: false };
  }
  const by = source === 'github' ? `@${user} (GitHub)` : user;
  const what = pf.action === 'promote' ? (pf.full ? 'promoted (full)' : 'promoted') : pf.action === 'abort' ? 'aborted' : 'retried';
  const text = done.mrkdwn;
  await recordAfterChange(deps, pf, async () => {
    // The observer may have seen the transition first and posted this reply itself: one of us claims it.
    if (!expected || (await deps.stores.claims.claim(ownReplyClaim(thread.key, expected), deps.clock.now()))) {
      await kernel.reply(thread, reply.key, reply.text, reply.priority, { blocks: reply.blocks, broadcast: reply.broadcast, rolloutLabel: true });
    }
    await auditRolloutAction(kernel, { pf, actor: { who: by, source }, result: 'ok', cardLine: `${what}${pf.force ? ' with --force (override)' : ''}` });
  });
  return { text, ok: true };
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
