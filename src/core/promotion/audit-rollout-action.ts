import type { Clock, StateStore } from '../ports.js';
import type { Preflight } from './run-preflight.js';

/** Records a promote, abort or retry (and its result) in the audit log, one shape for every outcome. */
export function auditRolloutAction(deps: { store: StateStore; clock: Clock }, o: { pf: Preflight; who: string; source: 'slack' | 'github'; result: string }): void {
  const { pf } = o;
  deps.store.data.audit.push({
    at: deps.clock.now(),
    who: o.who,
    source: o.source,
    action: pf.action === 'promote' && pf.full ? 'promote --full' : pf.action,
    app: pf.target.app.name,
    env: pf.target.env.name,
    tag: pf.tag,
    digest: pf.image?.digest,
    override: pf.force && pf.proof ? !pf.proof.ok : undefined,
    result: o.result,
    threadKey: pf.thread.key,
  });
}
