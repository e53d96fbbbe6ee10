import type { RolloutState } from '../rollout/rollout-state.js';
import type { Confirmation, RolloutSnapshot } from '../store-data.js';
import type { Preflight } from './run-preflight.js';

/** The facts of a rollout a confirmation is shown with. */
export function snapshotOf(s: RolloutState): RolloutSnapshot {
  return {
    podHash: s.currentPodHash,
    image: s.images[0]?.image,
    phase: s.phase,
    pauseReasons: [...s.pauseReasons],
    stepIndex: s.canary?.stepIndex,
    aborted: s.aborted,
    specPaused: s.specPaused,
  };
}

/** What differs between the state a confirmation showed and the state now; undefined when nothing that matters. */
export function judgeChanges(c: Confirmation, pf: Preflight): string | undefined {
  const now = snapshotOf(pf.state);
  const was = c.snapshot;
  if (was.podHash !== now.podHash || was.image !== now.image) return `it now runs ${now.image ?? 'another image'} (pod hash ${now.podHash ?? '?'}, was ${was.podHash ?? '?'})`;
  if (was.aborted !== now.aborted) return now.aborted ? 'it was aborted' : 'it is no longer aborted';
  if (was.stepIndex !== now.stepIndex) return `it moved from step ${(was.stepIndex ?? 0) + 1} to step ${(now.stepIndex ?? 0) + 1}`;
  if (was.pauseReasons.join() !== now.pauseReasons.join() || was.specPaused !== now.specPaused) return `it is now ${now.phase}${now.pauseReasons.length ? ` (${now.pauseReasons.join(', ')})` : ''}, it was ${was.phase}${was.pauseReasons.length ? ` (${was.pauseReasons.join(', ')})` : ''}`;
  if (c.planKind && pf.planKind && c.planKind !== pf.planKind) return `promotion would now ${pf.describe}`;
  if (c.digest && pf.image && c.digest !== pf.image.digest) return `tag ${c.tag} now points to another image (${pf.image.digest})`;
  return undefined;
}
