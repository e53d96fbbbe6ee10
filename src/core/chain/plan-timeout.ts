import type { EnvTarget } from '../catalog.js';
import type { RolloutState } from '../rollout/rollout-state.js';

const DEFAULT_TIMEOUT_PLAIN = 5 * 60_000;
const DEFAULT_TIMEOUT_STEPS = 10 * 60_000;

/** The environment's timeout: configured, or 5 min for a rollout without steps or pauses, 10 min for canary steps and blue-green. */
export function timeoutFor(target: EnvTarget, state: RolloutState): number {
  if (target.env.timeout) return target.env.timeout;
  if (state.strategy === 'blueGreen' || (state.canary && state.canary.stepCount > 0)) return DEFAULT_TIMEOUT_STEPS;
  return DEFAULT_TIMEOUT_PLAIN;
}
