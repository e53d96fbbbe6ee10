import { ecrRepositoryOf, rolloutName, type Catalog, type EnvTarget } from '../catalog.js';
import type { Proof } from '../deploys/describe-proof.js';
import { proveTag } from '../deploys/prove-tag.js';
import { planAbort, planPromotion, planRetry } from './plan-rollout-action.js';
import type { Clock, ImageFacts, ImageRegistry, RolloutCluster, RolloutPatch } from '../ports.js';
import { primaryTag } from '../rollout/describe-state.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import type { LockGate } from '../locks/lock-gate.js';

export type RolloutAction = 'promote' | 'abort' | 'retry';

/** Everything checked before asking for (or skipping) confirmation. */
export interface Preflight {
  target: EnvTarget;
  thread: ThreadRecord;
  state: RolloutState;
  action: RolloutAction;
  full: boolean;
  force: boolean;
  tag?: string;
  image?: ImageFacts;
  patches: RolloutPatch[];
  describe: string;
  planKind?: string;
  proof?: Proof;
  /** Set when the action must not happen; says why in a person's words. */
  refusal?: string;
  /** The lock or freeze an approver's `--force` overrides (recorded with the action). */
  lockOverride?: string;
  /** The refusal only says this rollout has nothing to do now (a several-rollout deploy then leaves it alone). */
  idle?: boolean;
  /**
   * A several-rollout deploy: the other rollouts this action also goes to (each its own checked preflight), the ones
   * left alone and why, and the deploy's thread (the lead's) where the request is shown.
   */
  members?: Preflight[];
  skipped?: string[];
  home?: ThreadRecord;
}

/**
 * The checks before asking for (or skipping) confirmation, and again when it arrives: a fresh read of the rollout (same
 * revision as the thread), the exact patches chosen from the object as `kubectl argo rollouts` would, the image tag
 * verified in ECR, and the tag proven in the previous environment (unless `--force`). Sets `refusal` instead of throwing.
 */
export async function runPreflight(
  deps: { cluster: RolloutCluster; registry: ImageRegistry; stores: Pick<Stores, 'threads' | 'envs'>; catalog: Catalog; clock: Clock; locks?: LockGate },
  o: { target: EnvTarget; thread: ThreadRecord; action: RolloutAction; full: boolean; force: boolean },
): Promise<Preflight> {
  const { target, thread, action } = o;
  const base: Preflight = { ...o, state: thread.lastState!, patches: [], describe: '' };
  // A locked or frozen environment refuses promotions (abort and retry stay open); `--force` overrides, recorded.
  const lock = action === 'promote' ? await deps.locks?.verdict({ target, what: 'promote' }) : undefined;
  if (lock && !o.force) return { ...base, refusal: lock.refusal };
  if (lock) base.lockOverride = lock.summary;
  let state: RolloutState | undefined;
  try {
    state = await deps.cluster.get(target.env.namespace, rolloutName(target), target.env.cluster);
  } catch (err) {
    return { ...base, refusal: `I could not read the rollout (${(err as Error).message}).` };
  }
  if (!state) return { ...base, refusal: `rollout \`${target.env.namespace}/${rolloutName(target)}\` does not exist.` };
  const pf: Preflight = { ...base, state, tag: primaryTag(state) };
  if (state.revision !== thread.revision || (thread.uid && state.uid !== thread.uid)) {
    pf.refusal = `the rollout moved on to revision ${state.revision} since this thread started; use the newer thread.`;
    return pf;
  }

  if (action === 'promote') {
    const plan = planPromotion(state, { full: o.full });
    pf.planKind = plan.kind;
    pf.describe = plan.describe;
    pf.patches = plan.patches;
    if (plan.kind === 'skip-running-step') pf.refusal = `${plan.describe}. Promoting now would skip the running step; wait until it pauses, or use \`--full\` to skip all remaining steps.`;
    else if (plan.kind === 'nothing-to-promote' || plan.kind === 'aborted') pf.refusal = plan.describe;
    pf.idle = plan.kind === 'skip-running-step' || plan.kind === 'nothing-to-promote';
  } else {
    const plan = action === 'abort' ? planAbort(state) : planRetry(state);
    if ('refusal' in plan) {
      pf.refusal = plan.refusal;
      pf.idle = true;
    }
    else {
      pf.describe = plan.describe;
      pf.patches = plan.patches;
    }
  }
  if (pf.refusal) return pf;

  if (action === 'promote') {
    // The exact tag the rollout runs must exist in ECR; anything else is reported as what it is.
    if (!pf.tag) {
      pf.refusal = `the rollout's image has no tag I can verify (${state.images.map((i) => i.image).join(', ') || 'no image'}).`;
      return pf;
    }
    const repo = ecrRepositoryOf(target);
    try {
      pf.image = await deps.registry.describe(repo, pf.tag);
    } catch (err) {
      pf.refusal = `I could not verify the image in ECR: ${(err as Error).message}. Nothing was promoted; try again once ECR answers.`;
      return pf;
    }
    if (!pf.image) {
      pf.refusal = `image tag \`${pf.tag}\` does not exist in ECR repository \`${repo}\`: pods would fail to pull it.`;
      return pf;
    }
    pf.proof = await proveTag(deps, { target, tag: pf.tag, now: deps.clock.now() });
    if (!pf.proof.ok && !o.force) pf.refusal = `${pf.proof.text}. Promote what is proven, or (approvers) add \`--force\` to override; the override is recorded.`;
  }
  return pf;
}
