import type { Logger } from '../logger.js';
import type { Clock, RolloutCluster, StateStore } from '../ports.js';
import { renderPromotion } from './render-promotion.js';
import type { ThreadRecord } from '../store-data.js';
import { auditRolloutAction } from './audit-rollout-action.js';
import { describePatch } from './describe-patch.js';
import type { Preflight } from './run-preflight.js';

export interface ExecuteDeps {
  store: StateStore;
  clock: Clock;
  log: Logger;
  cluster: RolloutCluster;
  /** Queues a reply in the deploy thread (the observer's durable outbox). */
  reply: (thread: ThreadRecord, key: string, text: string, priority: 'high' | 'normal') => void;
  onChange: () => void;
}

/**
 * Sends the preflight's patches in order, records who did it, and says so in the thread. Returns the outcome line.
 * Once a patch may have gone out this never throws: a store write that fails afterwards is logged, and what it held
 * stays in memory for the next write. So a caller that catches an error from here knows nothing was changed.
 */
export async function executeRolloutAction(deps: ExecuteDeps, o: { pf: Preflight; user: string; source: 'slack' | 'github' }): Promise<string> {
  const { pf, user, source } = o;
  const { target, thread } = pf;
  const sent: string[] = [];
  let text: string;
  try {
    for (const patch of pf.patches) {
      await deps.cluster.patch(target.env.namespace, target.env.rollout, patch);
      sent.push(describePatch(patch));
    }
  } catch (err) {
    const message = (err as Error).message;
    text = renderPromotion({ kind: 'patch-failed', action: pf.action, error: message, sent });
    deps.log.error({ err, app: target.app.name, env: target.env.name, action: pf.action }, 'rollout patch failed');
    deps.reply(thread, `fail:${deps.clock.now()}`, text, 'high');
    auditRolloutAction(deps, { pf, who: user, source, result: `failed: ${message}` });
    await commitAfterChange(deps, pf);
    return text;
  }
  const by = source === 'github' ? `@${user} (GitHub)` : user;
  const what = pf.action === 'promote' ? (pf.full ? 'promoted (full)' : 'promoted') : pf.action === 'abort' ? 'aborted' : 'retried';
  thread.actions.push({ at: deps.clock.now(), who: by, what: `${what}${pf.force ? ' with --force (override)' : ''}` });
  thread.cardVersion++;
  text = renderPromotion({ kind: 'executed', what, user, github: source === 'github', describe: pf.describe, override: Boolean(pf.force && pf.proof && !pf.proof.ok), sent });
  deps.reply(thread, `done:${pf.action}:${deps.clock.now()}`, text, 'high');
  auditRolloutAction(deps, { pf, who: by, source, result: 'ok' });
  await commitAfterChange(deps, pf);
  return text;
}

async function commitAfterChange(deps: ExecuteDeps, pf: Preflight): Promise<void> {
  try {
    await deps.store.flush();
  } catch (err) {
    deps.log.error({ err, app: pf.target.app.name, env: pf.target.env.name, fix: 'check that DATA_DIR is writable; the record is written with the next store write' }, 'store write after a rollout change failed');
  }
  deps.onChange();
}
