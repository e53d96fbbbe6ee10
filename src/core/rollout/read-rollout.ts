import { z } from 'zod';
import { currentSetWeight, toCanaryStep } from './canary-steps.js';
import { RolloutObject, type RolloutAnalysisRunStatus } from './rollout-object.js';
import { getRolloutPhase } from './rollout-phase.js';
import type { AnalysisKind, AnalysisStatus, CanaryProgress, ContainerImage, RolloutState } from './rollout-state.js';

const REVISION = 'rollout.argoproj.io/revision';

/**
 * Reads a Rollout API object (as JSON from the cluster) into our model. Throws an Error naming the problem
 * when the object is not a Rollout or its fields have the wrong types.
 */
export function readRollout(obj: unknown): RolloutState {
  const kind = typeof obj === 'object' && obj !== null ? (obj as { kind?: unknown }).kind : undefined;
  // Items of a list response may lack kind; any other kind is a caller mistake worth a clear message.
  if (kind !== undefined && kind !== null && kind !== 'Rollout') {
    throw new Error(`expected an Argo Rollouts Rollout, got kind ${JSON.stringify(kind)}`);
  }
  const parsed = RolloutObject.safeParse(obj);
  if (!parsed.success) {
    throw new Error(`not a readable Rollout object:\n${z.prettifyError(parsed.error)}`);
  }
  const ro = parsed.data;
  if (ro.apiVersion && !ro.apiVersion.startsWith('argoproj.io/')) {
    throw new Error(`expected apiVersion argoproj.io/v1alpha1 for a Rollout, got ${JSON.stringify(ro.apiVersion)}`);
  }

  const spec = ro.spec;
  const status = ro.status;
  const { phase, message } = getRolloutPhase(ro);
  const currentPodHash = status?.currentPodHash || undefined;
  const stableRS = status?.stableRS || undefined;
  const aborted = status?.abort ?? false;
  const pauseConditions = status?.pauseConditions ?? [];
  const canarySpec = spec?.strategy?.canary;
  const blueGreenSpec = spec?.strategy?.blueGreen;
  const workloadRef = spec?.workloadRef;

  const state: RolloutState = {
    namespace: ro.metadata.namespace ?? '',
    name: ro.metadata.name,
    revision: ro.metadata.annotations?.[REVISION] ?? '0',
    generation: ro.metadata.generation ?? 0,
    strategy: canarySpec ? 'canary' : blueGreenSpec ? 'blueGreen' : 'unknown',
    phase,
    message,
    fullyPromoted: stableRS !== undefined && stableRS === currentPodHash,
    images: workloadRef ? [] : readImages(spec?.template?.spec?.containers ?? []),
    specPaused: spec?.paused ?? false,
    pauseReasons: pauseConditions.map((c) => c.reason ?? ''),
    controllerPause: status?.controllerPause ?? false,
    aborted,
    analysis: readAnalysis(status),
    replicas: {
      desired: spec?.replicas ?? 1,
      updated: status?.updatedReplicas ?? 0,
      ready: status?.readyReplicas ?? 0,
      available: status?.availableReplicas ?? 0,
    },
  };
  if (ro.metadata.uid) state.uid = ro.metadata.uid;
  if (ro.metadata.resourceVersion) state.resourceVersion = ro.metadata.resourceVersion;
  if (currentPodHash) state.currentPodHash = currentPodHash;
  if (stableRS) state.stableRS = stableRS;
  const initContainers = workloadRef ? [] : spec?.template?.spec?.initContainers ?? [];
  if (initContainers.length) state.initImages = readImages(initContainers);
  if (spec?.restartAt && Date.parse(spec.restartAt) !== Date.parse(status?.restartedAt ?? '')) state.restartAt = spec.restartAt;
  const pausedSince = pauseConditions[0]?.startTime;
  if (pausedSince) state.pausedSince = pausedSince;
  if (aborted) {
    if (status?.abortedAt) state.abortedAt = status.abortedAt;
    state.abortReason = abortReason(ro, state.revision);
  }
  if (canarySpec) {
    const steps = (canarySpec.steps ?? []).map(toCanaryStep);
    const stepIndex = status?.currentStepIndex ?? 0;
    const canary: CanaryProgress = {
      stepIndex,
      stepCount: steps.length,
      steps,
      setWeight: currentSetWeight({
        steps,
        stepIndex,
        aborted,
        maxTrafficWeight: canarySpec.trafficRouting?.maxTrafficWeight ?? 100,
      }),
      trafficRouted: canarySpec.trafficRouting !== null && canarySpec.trafficRouting !== undefined,
    };
    const actual = status?.canary?.weights?.canary?.weight;
    if (actual !== null && actual !== undefined) canary.actualWeight = actual;
    state.canary = canary;
  }
  if (blueGreenSpec) {
    state.blueGreen = { autoPromotionEnabled: blueGreenSpec.autoPromotionEnabled ?? true };
    const active = status?.blueGreen?.activeSelector;
    const preview = status?.blueGreen?.previewSelector;
    if (active) state.blueGreen.activeSelector = active;
    if (preview) state.blueGreen.previewSelector = preview;
    if (blueGreenSpec.autoPromotionSeconds) state.blueGreen.autoPromotionSeconds = blueGreenSpec.autoPromotionSeconds;
  }
  if (workloadRef) state.workloadRef = { kind: workloadRef.kind ?? '', name: workloadRef.name ?? '' };
  return state;
}

/**
 * The tag of an image reference: the part after the last `:` of the last path segment, ignoring a digest.
 * `host:5000/repo:tag` → `tag`; `host:5000/repo` → undefined; `repo@sha256:…` → undefined; `repo:tag@sha256:…` → `tag`.
 */
export function imageTag(image: string): string | undefined {
  const at = image.indexOf('@');
  const name = at >= 0 ? image.slice(0, at) : image;
  const lastSegment = name.slice(name.lastIndexOf('/') + 1);
  const colon = lastSegment.lastIndexOf(':');
  if (colon < 0) return undefined;
  const tag = lastSegment.slice(colon + 1);
  return tag === '' ? undefined : tag;
}

function readImages(containers: ReadonlyArray<{ name?: string | null; image?: string | null }>): ContainerImage[] {
  return containers.map((c) => {
    const image = c.image ?? '';
    const tag = imageTag(image);
    return { container: c.name ?? '', image, ...(tag !== undefined ? { tag } : {}) };
  });
}

function readAnalysis(status: RolloutObject['status']): AnalysisStatus[] {
  const sources: Array<[AnalysisKind, RolloutAnalysisRunStatus | null | undefined]> = [
    ['step', status?.canary?.currentStepAnalysisRunStatus],
    ['background', status?.canary?.currentBackgroundAnalysisRunStatus],
    ['prePromotion', status?.blueGreen?.prePromotionAnalysisRunStatus],
    ['postPromotion', status?.blueGreen?.postPromotionAnalysisRunStatus],
  ];
  const out: AnalysisStatus[] = [];
  for (const [kind, run] of sources) {
    if (!run?.name) continue;
    // A run the controller has just created has no phase yet; the analysis controller treats that as Pending.
    const entry: AnalysisStatus = { kind, name: run.name, status: run.status || 'Pending' };
    if (run.message) entry.message = run.message;
    out.push(entry);
  }
  return out;
}

/**
 * Why the rollout aborted: the RolloutAborted condition's message, else the stored RolloutAborted phase message,
 * else (abort just requested, the controller has not written its condition yet) the message the controller
 * writes for a user abort.
 */
function abortReason(ro: RolloutObject, revision: string): string {
  const cond = ro.status?.conditions?.find((c) => c.reason === 'RolloutAborted' && c.message);
  if (cond?.message) return cond.message;
  const message = ro.status?.message ?? '';
  const prefix = 'RolloutAborted: ';
  if (message.startsWith(prefix) && message.length > prefix.length) return message.slice(prefix.length);
  return `Rollout aborted update to revision ${revision}`;
}
