import type { Actor, ThreadKernel } from '../threads/thread-kernel.js';
import type { Preflight } from './run-preflight.js';

/**
 * Records a promote, abort or retry (and its result) through the thread kernel, one shape for every outcome;
 * `cardLine` also shows it on the thread's card.
 */
export function auditRolloutAction(kernel: ThreadKernel, o: { pf: Preflight; actor: Actor; result: string; cardLine?: string }): Promise<void> {
  const { pf } = o;
  return kernel.record({
    target: pf.target,
    actor: o.actor,
    action: pf.action === 'promote' && pf.full ? 'promote --full' : pf.action,
    result: pf.lockOverride && o.result === 'ok' ? `ok, --force overriding the ${pf.lockOverride}` : o.result,
    thread: pf.thread,
    ...(o.cardLine ? { cardLine: o.cardLine } : {}),
    ...(pf.tag !== undefined ? { tag: pf.tag } : {}),
    ...(pf.image?.digest !== undefined ? { digest: pf.image.digest } : {}),
    ...(pf.force && (pf.proof || pf.lockOverride) ? { override: Boolean(pf.lockOverride) || !pf.proof?.ok } : {}),
  });
}
