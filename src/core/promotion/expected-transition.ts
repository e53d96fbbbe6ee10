import type { Preflight } from './run-preflight.js';

/**
 * The key the rollout observer gives the transition a planned action causes (the event key of
 * `detectRolloutEvents`, scoped by attempt as the observer scopes it): an abort's `aborted`, a retry's `retried` (in
 * the next attempt), a blue-green promotion's `resumed:BlueGreenPause`, a canary pause step's `step-completed:<n>`.
 * Undefined when the action causes no one transition that can be named (`--full`, lifting a manual pause, no patch).
 */
export function expectedTransition(pf: Pick<Preflight, 'action' | 'full' | 'state' | 'patches' | 'planKind'>, attempt: number): string | undefined {
  if (pf.patches.length === 0) return undefined;
  if (pf.action === 'abort') return `a${attempt}:aborted`;
  if (pf.action === 'retry') return `a${attempt + 1}:retried`;
  if (pf.full) return undefined;
  const reason = pf.state.pauseReasons[0];
  if (reason === 'BlueGreenPause' && !pf.state.canary) return `a${attempt}:resumed:BlueGreenPause`;
  const canary = pf.state.canary;
  const stepDone = reason === 'CanaryPauseStep' || pf.planKind === 'continue-inconclusive-step';
  if (canary && stepDone && canary.stepIndex < canary.stepCount) return `a${attempt}:step-completed:${canary.stepIndex + 1}`;
  return undefined;
}

/** The claim that lets exactly one of the executor and the observer post an action's reply (`claims.claim`). */
export function ownReplyClaim(threadKey: string, eventKey: string): string {
  return `own-reply/${threadKey}#${eventKey}`;
}
