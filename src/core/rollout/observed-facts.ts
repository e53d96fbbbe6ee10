import type { RolloutState } from './rollout-state.js';

/**
 * The state as the controller last described it: a state shown with Argo's "not yet observed" phase
 * (`showUnobserved`) goes back to the phase its facts were observed with, and loses the deleted mark. What the diffs
 * and the thread keying start from.
 */
export function observedFacts(state: RolloutState): RolloutState {
  if (!state.unobserved && !state.deleted) return state;
  const { unobserved, deleted: _deleted, ...rest } = state;
  return unobserved ? { ...rest, phase: unobserved.phase, message: unobserved.message } : rest;
}
