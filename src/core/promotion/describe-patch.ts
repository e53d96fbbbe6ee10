import type { RolloutPatch } from '../ports.js';

/** `PATCH rollouts/status {"status":{"pauseConditions":null}}` */
export function describePatch(p: RolloutPatch): string {
  return `PATCH ${p.target === 'status' ? 'rollouts/status' : 'rollouts'} ${JSON.stringify(p.body)}`;
}
