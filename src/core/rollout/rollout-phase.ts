import type { RolloutObject } from './rollout-object.js';
import type { RolloutPhase } from './rollout-state.js';

/** A phase with its reason text, as `kubectl argo rollouts get` shows them. */
export interface PhaseAndMessage {
  phase: RolloutPhase;
  message: string;
}

const PHASES: readonly string[] = ['Healthy', 'Progressing', 'Paused', 'Degraded'];
const COMPLETED_ANALYSIS = new Set(['Successful', 'Failed', 'Error', 'Inconclusive']);
const WORKLOAD_GENERATION = 'rollout.argoproj.io/workload-generation';
const INTEGER = /^[+-]?\d+$/;

/**
 * The phase a client should show (GetRolloutPhase, reference 2.2). The stored `status.phase` is stale right
 * after a spec change or a promote, so three client-side checks come first; then the stored phase/message,
 * or, for pre-v1.0 objects without one, the controller's calculation.
 */
export function getRolloutPhase(ro: RolloutObject): PhaseAndMessage {
  if (!isGenerationObserved(ro)) {
    return { phase: 'Progressing', message: 'waiting for rollout spec update to be observed' };
  }
  const status = ro.status;
  if (status?.controllerPause && (status.pauseConditions ?? []).length === 0) {
    return { phase: 'Progressing', message: 'waiting for rollout to unpause' };
  }
  if (ro.spec?.workloadRef && !isWorkloadGenerationObserved(ro)) {
    return { phase: 'Progressing', message: 'waiting for rollout spec update to be observed for the reference workload' };
  }
  const stored = status?.phase;
  if (stored && PHASES.includes(stored)) {
    return { phase: stored as RolloutPhase, message: status?.message ?? '' };
  }
  return calculateRolloutPhase(ro);
}

/**
 * The controller-side phase (CalculateRolloutPhase, reference 2.2): first match wins, Degraded outranks Paused.
 */
export function calculateRolloutPhase(ro: Pick<RolloutObject, 'spec' | 'status'>): PhaseAndMessage {
  const spec = ro.spec;
  const status = ro.status;
  for (const cond of status?.conditions ?? []) {
    if (cond.type === 'InvalidSpec') return { phase: 'Degraded', message: `InvalidSpec: ${cond.message ?? ''}` };
    if (cond.reason === 'RolloutAborted' || cond.reason === 'ProgressDeadlineExceeded') {
      return { phase: 'Degraded', message: `${cond.reason}: ${cond.message ?? ''}` };
    }
  }
  if (spec?.paused) return { phase: 'Paused', message: 'manually paused' };
  const firstPause = status?.pauseConditions?.[0];
  if (firstPause) return { phase: 'Paused', message: firstPause.reason ?? '' };
  if (spec?.restartAt && !sameInstant(spec.restartAt, status?.restartedAt)) {
    return { phase: 'Progressing', message: 'rollout is restarting' };
  }
  const updated = status?.updatedReplicas ?? 0;
  const desired = spec?.replicas ?? 1;
  if (updated < desired) return { phase: 'Progressing', message: 'more replicas need to be updated' };
  if ((status?.availableReplicas ?? 0) < updated) {
    return { phase: 'Progressing', message: 'updated replicas are still becoming available' };
  }
  const currentPodHash = status?.currentPodHash ?? '';
  const stableRS = status?.stableRS ?? '';
  const fullyPromoted = stableRS !== '' && stableRS === currentPodHash;
  const blueGreen = spec?.strategy?.blueGreen;
  const canary = spec?.strategy?.canary;
  if (blueGreen) {
    const active = status?.blueGreen?.activeSelector ?? '';
    if (active === '' || active !== currentPodHash) return { phase: 'Progressing', message: 'active service cutover pending' };
    if (!fullyPromoted) {
      const post = status?.blueGreen?.postPromotionAnalysisRunStatus;
      const waitingForAnalysis = isPresent(blueGreen.postPromotionAnalysis) && !COMPLETED_ANALYSIS.has(post?.status ?? '');
      return {
        phase: 'Progressing',
        message: waitingForAnalysis ? 'waiting for analysis to complete' : 'waiting for post-promotion verification to complete',
      };
    }
  } else if (canary) {
    if (!canary.trafficRouting && (status?.replicas ?? 0) > updated) {
      return { phase: 'Progressing', message: 'old replicas are pending termination' };
    }
    if (!fullyPromoted) return { phase: 'Progressing', message: 'waiting for all steps to complete' };
  }
  return { phase: 'Healthy', message: '' };
}

/** A numeric observedGeneration must equal metadata.generation; greater, or a pre-v0.10 hash, counts as observed. */
function isGenerationObserved(ro: RolloutObject): boolean {
  const observed = ro.status?.observedGeneration;
  if (observed === null || observed === undefined || !INTEGER.test(observed)) return true;
  const observedNumber = Number.parseInt(observed, 10);
  const generation = ro.metadata.generation ?? 0;
  return observedNumber >= generation;
}

/** Without the annotation, or with a non-numeric observed value, the workload counts as observed (as upstream). */
function isWorkloadGenerationObserved(ro: RolloutObject): boolean {
  const annotation = ro.metadata.annotations?.[WORKLOAD_GENERATION];
  if (annotation === undefined || !INTEGER.test(annotation)) return true;
  const observed = ro.status?.workloadObservedGeneration;
  if (observed === null || observed === undefined || !INTEGER.test(observed)) return true;
  return Number.parseInt(observed, 10) === Number.parseInt(annotation, 10);
}

function sameInstant(a: string, b: string | null | undefined): boolean {
  if (!b) return false;
  const ta = Date.parse(a);
  const tb = Date.parse(b);
  return Number.isNaN(ta) || Number.isNaN(tb) ? a === b : ta === tb;
}

function isPresent(value: unknown): boolean {
  return value !== null && value !== undefined;
}
