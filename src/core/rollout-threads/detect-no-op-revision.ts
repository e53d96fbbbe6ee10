import { observedFacts } from '../rollout/observed-facts.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { ThreadRecord } from '../store-data.js';

/** Why a new revision is or is not a no-op (the reason is logged, and the unit tests name it). */
export type NoOpJudgement =
  | { noOp: true }
  | { noOp: false; reason: 'no-stable-revision' | 'other-rollout' | 'not-next-revision' | 'stable-moved' | 'no-images' | 'images-differ' };

/**
 * Whether `next`, a revision that has no thread yet, is a no-op: its containers run exactly the images the stable
 * revision runs, so only the pod template's metadata changed (an Argo Rollouts upgrade rewrites every Rollout so).
 *
 * The stable revision's images are known only from what the bot saw settled: the environment's `baseline` (seen
 * settled, newer than any thread when present), else the current thread when it `completed`. A real deploy is never
 * taken for one: every container's full image reference must be equal (init containers too; names, tags, digests, registries); `next`
 * must be the very next revision of the same rollout (nothing unseen happened between, such as a deploy and a
 * rollback while the bot was offline); and Argo's `stableRS` must still be the known stable revision's pod hash,
 * unless `next` has itself become stable. A rollout whose images come from a `workloadRef` (none read) never is one.
 */
export function detectNoOpRevision(o: { next: RolloutState; baseline?: RolloutState; previous?: Pick<ThreadRecord, 'outcome' | 'lastState'> }): NoOpJudgement {
  const known = o.baseline ?? (o.previous?.outcome === 'completed' ? o.previous.lastState : undefined);
  if (!known || known.deleted) return { noOp: false, reason: 'no-stable-revision' };
  const stable = observedFacts(known);
  if (!stable.fullyPromoted || stable.aborted) return { noOp: false, reason: 'no-stable-revision' };
  const { next } = o;
  if (!stable.uid || stable.uid !== next.uid || stable.namespace !== next.namespace || stable.name !== next.name) return { noOp: false, reason: 'other-rollout' };
  if (!/^\d+$/.test(stable.revision) || Number(next.revision) !== Number(stable.revision) + 1) return { noOp: false, reason: 'not-next-revision' };
  if (!next.fullyPromoted && (stable.currentPodHash === undefined || next.stableRS !== stable.currentPodHash)) return { noOp: false, reason: 'stable-moved' };
  if (next.workloadRef || stable.workloadRef || !hasImages(next) || !hasImages(stable)) return { noOp: false, reason: 'no-images' };
  return sameImages(stable, next) ? { noOp: true } : { noOp: false, reason: 'images-differ' };
}

/**
 * Container by container (by name, order aside, init containers apart), the same full image reference; the same set of
 * containers. An empty image reference proves nothing.
 */
function sameImages(a: RolloutState, b: RolloutState): boolean {
  const list = (s: RolloutState) => [
    ...s.images.map((i) => JSON.stringify(['c', i.container, i.image])),
    ...(s.initImages ?? []).map((i) => JSON.stringify(['i', i.container, i.image])),
  ].sort();
  const [x, y] = [list(a), list(b)];
  return x.length === y.length && new Set(x).size === x.length && x.every((v, i) => v === y[i]);
}

function hasImages(s: RolloutState): boolean {
  return s.images.length > 0 && [...s.images, ...(s.initImages ?? [])].every((i) => i.image !== '');
}
