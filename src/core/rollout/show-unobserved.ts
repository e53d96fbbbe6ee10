import { observedFacts } from './observed-facts.js';
import type { RolloutState } from './rollout-state.js';

/**
 * What to show while the controller has not observed the spec yet: the facts of `accepted` (the last state the
 * controller described; the new one may still carry the old revision and a spec nobody reconciled) under the phase
 * and message Argo's `GetRolloutPhase` gives `latest` ("Progressing: waiting for rollout spec update to be observed").
 */
export function showUnobserved(accepted: RolloutState, latest: Pick<RolloutState, 'phase' | 'message' | 'generation'>): RolloutState {
  const facts = observedFacts(accepted);
  return { ...facts, phase: latest.phase, message: latest.message, generation: latest.generation, unobserved: { phase: facts.phase, message: facts.message } };
}
