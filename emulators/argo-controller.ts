/**
 * A scripted stand-in for the Argo Rollouts controller. It writes whole Rollout objects into the Kubernetes
 * emulator in the shapes the real v1.x controller writes (reference argo-rollouts.md sections 2 and 4.3),
 * but only when a test calls it: no timers, no goroutines, `now` is injectable. Each `tick` is one reconcile
 * that makes at most one meaningful state change and returns a short description of it (mostly the text
 * of the Kubernetes Event the real controller would record), or null when there is nothing to do.
 */
import { createHash } from 'node:crypto';
import type { KubernetesEmulator } from './kubernetes-emulator.js';

/** One entry of `spec.strategy.canary.steps` (`{setWeight: 10}`, `{pause: {}}`, `{pause: {duration: '30s'}}`, `{analysis: …}`, …). */
export type CanaryStep = Record<string, unknown>;

/** The "8-step canary" from the issue: setWeight 10, pause, setWeight 30, pause 30s, setWeight 60, pause 30s, setWeight 100 (7 entries). */
export const STANDARD_CANARY_STEPS: readonly CanaryStep[] = Object.freeze([
  { setWeight: 10 },
  { pause: {} },
  { setWeight: 30 },
  { pause: { duration: '30s' } },
  { setWeight: 60 },
  { pause: { duration: '30s' } },
  { setWeight: 100 },
]);

type Rollout = Record<string, any>;
type Status = Record<string, any>;
interface Ctx {
  now: Date;
  ts: string;
}

const REVISION_ANNOTATION = 'rollout.argoproj.io/revision';
/** A metric that failed: its name, condition(s) and the values measured, oldest first (each a Failed measurement). */
export interface FailedMetric {
  name: string;
  values: string[];
  successCondition?: string;
  failureCondition?: string;
}

const DEFAULT_FAILED_METRIC: FailedMetric = { name: 'success-rate', values: ['0.82', '0.79'], successCondition: 'result[0] >= 0.95' };

/** The AnalysisRun object of a failed analysis (reference 3.2: name, labels, annotation, ownerReference, status). */
function failedAnalysisRun(o: { ro: Rollout; ctx: Ctx; arName: string; kind: 'step' | 'background'; message: string; metric: FailedMetric }): object {
  const { ro, ctx, metric } = o;
  const hash = ro.status.currentPodHash;
  const labels: Record<string, string> = { 'rollouts-pod-template-hash': hash, 'rollout-type': o.kind === 'step' ? 'Step' : 'Background' };
  if (o.kind === 'step') labels['step-index'] = String(ro.status.currentStepIndex ?? 0);
  const spec: Rollout = { name: metric.name, interval: '10s', failureLimit: metric.values.length - 1, provider: { prometheus: { query: 'sum(rate(ok[1m])) / sum(rate(all[1m]))' } } };
  if (metric.successCondition) spec.successCondition = metric.successCondition;
  if (metric.failureCondition) spec.failureCondition = metric.failureCondition;
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'AnalysisRun',
    metadata: {
      name: o.arName,
      namespace: ro.metadata.namespace,
      labels,
      annotations: { 'rollout.argoproj.io/revision': String(revision(ro)) },
      ownerReferences: [{ apiVersion: 'argoproj.io/v1alpha1', kind: 'Rollout', name: ro.metadata.name, uid: ro.metadata.uid, controller: true, blockOwnerDeletion: true }],
    },
    spec: { metrics: [spec] },
    status: {
      phase: 'Failed',
      message: o.message,
      startedAt: ctx.ts,
      metricResults: [{
        name: metric.name,
        phase: 'Failed',
        count: metric.values.length,
        failed: metric.values.length,
        measurements: metric.values.map((value) => ({ phase: 'Failed', value, startedAt: ctx.ts, finishedAt: ctx.ts })),
      }],
    },
  };
}

// ---------------------------------------------------------------------------------------------------------------
// Small pure helpers

function sha(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/**
 * The pod-template hash this emulated controller gives an image. The real one hashes the whole pod template;
 * tests only need it stable per image, different between images, and equal again when an image comes back (rollback).
 */
export function podTemplateHash(image: string): string {
  return sha(image).slice(0, 10);
}

function templateHash(ro: Rollout): string {
  const containers: Array<{ image?: string }> = ro.spec?.template?.spec?.containers ?? [];
  const images = containers.map((c) => c.image ?? '').join(',');
  // The pod template's annotations count too (as in the real hash), only when set: hashes of plain templates stay per image.
  const annotations = ro.spec?.template?.metadata?.annotations;
  return podTemplateHash(annotations && Object.keys(annotations).length ? `${images}|${JSON.stringify(annotations)}` : images);
}

function stepsHash(steps: unknown[]): string {
  return sha(JSON.stringify(steps)).slice(0, 10);
}

function rfc3339(d: Date): string {
  return d.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

/** `RolloutPause.DurationSeconds` (reference 2.5): an int is seconds, a numeric string is seconds, else a Go duration. */
export function durationSeconds(duration: unknown): number | undefined {
  if (typeof duration === 'number') return duration;
  if (typeof duration !== 'string' || duration === '') return undefined;
  if (/^\d+$/.test(duration)) return Number(duration);
  const units: Record<string, number> = { h: 3600, m: 60, s: 1, ms: 0.001 };
  let total = 0;
  const re = /(\d+(?:\.\d+)?)(ms|h|m|s)/g;
  let consumed = '';
  for (let m = re.exec(duration); m; m = re.exec(duration)) {
    total += Number(m[1]) * (units[m[2] as string] as number);
    consumed += m[0];
  }
  return consumed === duration ? total : undefined;
}

/** `CanaryStepString` (rolloututil.go) closely enough for event texts. */
function stepText(step: CanaryStep): string {
  if ('setWeight' in step) return `setWeight: ${String(step.setWeight)}`;
  if ('pause' in step) {
    const d = (step.pause as { duration?: unknown } | undefined)?.duration;
    return d === undefined ? 'pause' : `pause: ${String(d)}`;
  }
  return Object.keys(step)[0] ?? 'unknown';
}

function steps(ro: Rollout): CanaryStep[] {
  return ro.spec?.strategy?.canary?.steps ?? [];
}

function isCanary(ro: Rollout): boolean {
  return ro.spec?.strategy?.canary !== undefined;
}

function replicas(ro: Rollout): number {
  return ro.spec?.replicas ?? 1;
}

function revision(ro: Rollout): number {
  return Number(ro.metadata?.annotations?.[REVISION_ANNOTATION] ?? 0);
}

function rsName(ro: Rollout): string {
  return `${ro.metadata.name}-${ro.status.currentPodHash}`;
}

function fullyPromoted(s: Status): boolean {
  return !!s.stableRS && s.stableRS === s.currentPodHash;
}

function hasPause(s: Status, reason: string): boolean {
  return (s.pauseConditions ?? []).some((p: { reason: string }) => p.reason === reason);
}

/** `GetCurrentSetWeight` (reference 2.5): 0 when aborted, max weight after the last step, else the last setWeight at or before the index. */
function currentSetWeight(ro: Rollout): number {
  const s = ro.status;
  if (s.abort) return 0;
  const all = steps(ro);
  const i = s.currentStepIndex ?? 0;
  if (i >= all.length) return ro.spec.strategy.canary.trafficRouting?.maxTrafficWeight ?? 100;
  for (let j = i; j >= 0; j--) {
    const w = all[j]?.setWeight;
    if (typeof w === 'number') return w;
  }
  return 0;
}

/** `SetRolloutCondition`: no change when status and reason are unchanged; lastTransitionTime moves only with status. */
function setCondition(s: Status, type: string, status: string, reason: string, message: string, ts: string): void {
  s.conditions ??= [];
  const cur = s.conditions.find((c: { type: string }) => c.type === type);
  if (cur && cur.status === status && cur.reason === reason) return;
  const lastTransitionTime = cur && cur.status === status ? cur.lastTransitionTime : ts;
  s.conditions = s.conditions.filter((c: { type: string }) => c.type !== type);
  s.conditions.push({ lastTransitionTime, lastUpdateTime: ts, message, reason, status, type });
}

function condition(s: Status, type: string): Record<string, string> | undefined {
  return (s.conditions ?? []).find((c: { type: string }) => c.type === type);
}

/** Progress was made (index, stable or replicas moved): Progressing True/ReplicaSetUpdated (rollout/sync.go calculateRolloutConditions). */
function markProgress(ro: Rollout, ctx: Ctx): void {
  setCondition(ro.status, 'Progressing', 'True', 'ReplicaSetUpdated', `ReplicaSet "${rsName(ro)}" is progressing.`, ctx.ts);
}

// ---------------------------------------------------------------------------------------------------------------
// Derived status: what every controller status write recomputes (rollout/sync.go persistRolloutStatus)

/** `CalculateRolloutPhase` (reference 2.2): the first matching rule wins. */
function calculatePhase(ro: Rollout): [string, string] {
  const s = ro.status;
  const conds: Array<Record<string, string>> = s.conditions ?? [];
  const invalid = conds.find((c) => c.type === 'InvalidSpec');
  if (invalid) return ['Degraded', `InvalidSpec: ${invalid.message}`];
  const failed = conds.find((c) => c.reason === 'RolloutAborted' || c.reason === 'ProgressDeadlineExceeded');
  if (failed) return ['Degraded', `${failed.reason}: ${failed.message}`];
  if (ro.spec.paused) return ['Paused', 'manually paused'];
  if (s.pauseConditions?.length) return ['Paused', s.pauseConditions[0].reason];
  if (ro.spec.restartAt && ro.spec.restartAt !== s.restartedAt) return ['Progressing', 'rollout is restarting'];
  if ((s.updatedReplicas ?? 0) < replicas(ro)) return ['Progressing', 'more replicas need to be updated'];
  if ((s.availableReplicas ?? 0) < (s.updatedReplicas ?? 0)) return ['Progressing', 'updated replicas are still becoming available'];
  const bg = ro.spec.strategy.blueGreen;
  if (bg) {
    if (!s.blueGreen?.activeSelector || s.blueGreen.activeSelector !== s.currentPodHash) return ['Progressing', 'active service cutover pending'];
    if (!fullyPromoted(s)) {
      const post = s.blueGreen.postPromotionAnalysisRunStatus;
      const waiting = bg.postPromotionAnalysis && !['Successful', 'Failed', 'Error', 'Inconclusive'].includes(post?.status);
      return ['Progressing', waiting ? 'waiting for analysis to complete' : 'waiting for post-promotion verification to complete'];
    }
  } else {
    if (!ro.spec.strategy.canary.trafficRouting && (s.replicas ?? 0) > (s.updatedReplicas ?? 0)) {
      return ['Progressing', 'old replicas are pending termination'];
    }
    if (!fullyPromoted(s)) return ['Progressing', 'waiting for all steps to complete'];
  }
  return ['Healthy', ''];
}

/** Replica totals for a canary: the canary RS at the desired weight; a basic canary shrinks stable, a traffic-routed one keeps it. */
function setCanaryReplicas(ro: Rollout): void {
  const s = ro.status;
  const r = replicas(ro);
  const trafficRouting = ro.spec.strategy.canary.trafficRouting;
  const weight = fullyPromoted(s) ? 100 : currentSetWeight(ro);
  const canary = weight >= 100 ? r : Math.ceil((r * weight) / 100);
  const stable = fullyPromoted(s) ? 0 : trafficRouting ? r : r - canary;
  Object.assign(s, { replicas: canary + stable, updatedReplicas: canary, readyReplicas: canary + stable, availableReplicas: canary + stable });
  if (trafficRouting) {
    const canaryWeight = fullyPromoted(s) ? 0 : weight;
    s.canary.weights = {
      canary: { podTemplateHash: s.currentPodHash, serviceName: ro.spec.strategy.canary.canaryService, weight: canaryWeight },
      stable: { podTemplateHash: s.stableRS, serviceName: ro.spec.strategy.canary.stableService, weight: 100 - canaryWeight },
    };
  }
}

/** `checkPausedConditions` (rollout/sync.go): Progressing Unknown RolloutPaused/RolloutResumed and the Paused condition, unless aborted. */
function syncPausedConditions(ro: Rollout, ctx: Ctx): void {
  const s = ro.status;
  const isPaused = (s.pauseConditions?.length ?? 0) > 0 || !!ro.spec.paused;
  const progressing = condition(s, 'Progressing');
  if (progressing?.reason === 'RolloutAborted') return;
  const progressingPaused = progressing?.reason === 'RolloutPaused';
  if (isPaused && !progressingPaused) setCondition(s, 'Progressing', 'Unknown', 'RolloutPaused', 'Rollout is paused', ctx.ts);
  if (!isPaused && progressingPaused) setCondition(s, 'Progressing', 'Unknown', 'RolloutResumed', 'Rollout is resumed', ctx.ts);
  if (isPaused !== (condition(s, 'Paused')?.status === 'True')) {
    setCondition(s, 'Paused', isPaused ? 'True' : 'False', 'RolloutPaused', 'Rollout is paused', ctx.ts);
  }
}

/** `RolloutHealthy` (utils/conditions): everything updated and available, and the strategy has finished. */
function rolloutHealthy(ro: Rollout): boolean {
  const s = ro.status;
  const r = replicas(ro);
  let strategyDone: boolean;
  if (ro.spec.strategy.blueGreen) {
    const previewDone = !ro.spec.strategy.blueGreen.previewService || s.blueGreen?.previewSelector === s.currentPodHash;
    strategyDone = s.blueGreen?.activeSelector === s.currentPodHash && previewDone;
  } else {
    const m = steps(ro).length;
    strategyDone = (m === 0 || s.currentStepIndex === m) && fullyPromoted(s) && s.replicas === r;
  }
  return s.updatedReplicas === r && s.availableReplicas === r && strategyDone;
}

/** Everything a status write recomputes after a transition: omitempty fields, replicas, conditions, observedGeneration, phase. */
function finalizeStatus(ro: Rollout, ctx: Ctx): void {
  const s = ro.status;
  s.canary ??= {};
  s.blueGreen ??= {};
  // omitempty on the wire (reference 2): false, "" and empty lists are absent; abortedAt only lives while aborted.
  if (!s.pauseConditions?.length) delete s.pauseConditions;
  for (const key of ['abort', 'controllerPause', 'promoteFull']) if (!s[key]) delete s[key];
  if (!s.abort) delete s.abortedAt;
  if (isCanary(ro)) setCanaryReplicas(ro);
  else if (fullyPromoted(s)) Object.assign(s, { replicas: replicas(ro), updatedReplicas: replicas(ro), readyReplicas: replicas(ro), availableReplicas: replicas(ro) });
  s.HPAReplicas = s.replicas;
  const app = ro.spec.selector?.matchLabels?.app ?? ro.metadata.name;
  s.selector = ro.spec.strategy.blueGreen ? `app=${app},rollouts-pod-template-hash=${s.blueGreen.activeSelector}` : `app=${app}`;
  syncPausedConditions(ro, ctx);
  setCondition(s, 'Available', 'True', 'AvailableReason', 'Rollout has minimum availability', ctx.ts);
  setCondition(s, 'Completed', fullyPromoted(s) ? 'True' : 'False', 'RolloutCompleted', 'RolloutCompleted', ctx.ts);
  const isPaused = (s.pauseConditions?.length ?? 0) > 0 || !!ro.spec.paused;
  if (!isPaused && rolloutHealthy(ro)) setCondition(s, 'Healthy', 'True', 'RolloutHealthy', 'Rollout is healthy', ctx.ts);
  else if (condition(s, 'Healthy')) setCondition(s, 'Healthy', 'False', 'RolloutHealthy', 'Rollout is not healthy', ctx.ts);
  s.observedGeneration = String(ro.metadata.generation);
  [s.phase, s.message] = calculatePhase(ro);
}

// ---------------------------------------------------------------------------------------------------------------
// Transitions: each changes the draft and returns what the real controller would announce

function stepAnalysisName(ro: Rollout, index: number): string {
  return `${ro.metadata.name}-${ro.status.currentPodHash}-${revision(ro)}-${index}`;
}

function backgroundAnalysisName(ro: Rollout, previous?: string): string {
  const base = `${ro.metadata.name}-${ro.status.currentPodHash}-${revision(ro)}`;
  if (!previous?.startsWith(base)) return base;
  // A retry creates new AnalysisRuns; the real controller avoids the name clash with a `.N` collision counter.
  const n = Number(/\.(\d+)$/.exec(previous)?.[1] ?? 0);
  return `${base}.${n + 1}`;
}

/** A new pod template was observed (reference 4.3 RolloutUpdated, 2.8, 1.7 for a rollback to the stable RS). */
function startUpdate(ro: Rollout, ctx: Ctx): string {
  const s = ro.status;
  const hash = templateHash(ro);
  const rev = revision(ro) + 1;
  ro.metadata.annotations = { ...ro.metadata.annotations, [REVISION_ANNOTATION]: String(rev) };
  s.currentPodHash = hash;
  // Any template change resets the update: abort and pauses go (reference 2.6, "Aborted").
  for (const key of ['abort', 'abortedAt', 'pauseConditions', 'controllerPause']) delete s[key];
  if (isCanary(ro)) {
    s.currentStepHash = stepsHash(steps(ro));
    s.canary = {};
  }
  if (hash === s.stableRS) {
    // Rollback to the stable RS: fast-tracked, fully promoted at once, no RolloutCompleted (reference 1.7, 4.3).
    if (isCanary(ro)) s.currentStepIndex = steps(ro).length;
    else s.blueGreen = { ...s.blueGreen, activeSelector: hash, previewSelector: hash };
    setCondition(s, 'Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName(ro)}" has successfully progressed.`, ctx.ts);
    return isCanary(ro) ? 'SkipSteps: Rollback to stable ReplicaSets' : `RolloutUpdated: Rollout updated to revision ${rev}`;
  }
  if (isCanary(ro)) {
    if (steps(ro).length > 0) s.currentStepIndex = 0;
    if (ro.spec.strategy.canary.analysis) {
      s.canary.currentBackgroundAnalysisRunStatus = { name: backgroundAnalysisName(ro), status: 'Running' };
    }
  } else {
    // The preview Service follows the new RS at once; the RS itself is not available yet.
    s.blueGreen = { ...s.blueGreen, previewSelector: hash };
    const r = replicas(ro);
    Object.assign(s, { replicas: r, updatedReplicas: 0, readyReplicas: r, availableReplicas: r });
  }
  setCondition(s, 'Progressing', 'True', 'NewReplicaSetCreated', `Created new replica set "${rsName(ro)}"`, ctx.ts);
  return `RolloutUpdated: Rollout updated to revision ${rev}`;
}

/** The steps list changed: progress restarts at step 0 unless already promoted (reference 2.1 currentStepHash). */
function resetSteps(ro: Rollout, ctx: Ctx): string {
  const s = ro.status;
  s.currentStepHash = stepsHash(steps(ro));
  if (fullyPromoted(s)) {
    s.currentStepIndex = steps(ro).length;
    return 'steps changed (already promoted)';
  }
  s.currentStepIndex = 0;
  delete s.canary.currentStepAnalysisRunStatus;
  delete s.pauseConditions;
  delete s.controllerPause;
  markProgress(ro, ctx);
  return `steps changed: restarting at step 1/${steps(ro).length}`;
}

/** Abort (user `status.abort`, failed analysis, progressDeadlineAbort): reference 2.6 "Aborted" and 4.3 RolloutAborted. */
function abort(ro: Rollout, ctx: Ctx, detail?: string): string {
  const s = ro.status;
  s.abort = true;
  s.abortedAt ??= ctx.ts;
  delete s.pauseConditions;
  delete s.controllerPause;
  if (isCanary(ro) && !fullyPromoted(s) && steps(ro).length > 0) s.currentStepIndex = 0;
  if (!isCanary(ro)) {
    // The active Service stays on stable; the preview RS is scaled down (after abortScaleDownDelaySeconds).
    s.blueGreen = { ...s.blueGreen, activeSelector: s.stableRS };
    Object.assign(s, { replicas: replicas(ro), updatedReplicas: 0, readyReplicas: replicas(ro), availableReplicas: replicas(ro) });
  }
  const message = `Rollout aborted update to revision ${revision(ro)}${detail ? `: ${detail}` : ''}`;
  setCondition(s, 'Progressing', 'False', 'RolloutAborted', message, ctx.ts);
  return `RolloutAborted: ${message}`;
}

/** `status.abort` back to false after an abort: step 0 of the same revision with new AnalysisRuns (reference 1.3, 2.6). */
function retry(ro: Rollout, ctx: Ctx): string {
  const s = ro.status;
  delete s.abortedAt;
  if (isCanary(ro)) {
    if (steps(ro).length > 0) s.currentStepIndex = 0;
    const previous = s.canary.currentBackgroundAnalysisRunStatus?.name;
    delete s.canary.currentStepAnalysisRunStatus;
    if (ro.spec.strategy.canary.analysis) {
      s.canary.currentBackgroundAnalysisRunStatus = { name: backgroundAnalysisName(ro, previous), status: 'Running' };
    }
  }
  setCondition(s, 'Progressing', 'Unknown', 'RolloutRetry', 'Retrying Rollout after abort', ctx.ts);
  return 'RolloutRetry: Retrying Rollout after abort';
}

/** stableRS := currentPodHash (promoteStable; reference 4.3 RolloutCompleted). */
function promoteStable(ro: Rollout, ctx: Ctx, reason: string): string {
  const s = ro.status;
  s.stableRS = s.currentPodHash;
  delete s.pauseConditions;
  delete s.controllerPause;
  if (isCanary(ro)) {
    if (steps(ro).length > 0) s.currentStepIndex = steps(ro).length;
    delete s.canary.currentStepAnalysisRunStatus;
    delete s.canary.currentBackgroundAnalysisRunStatus;
  }
  setCondition(s, 'Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName(ro)}" has successfully progressed.`, ctx.ts);
  return `RolloutCompleted: Rollout completed update to revision ${revision(ro)} (${s.currentPodHash}): ${reason}`;
}

/** `status.promoteFull` (reference 1.6): skip remaining steps, pauses and analysis; also clears abort. */
function promoteFull(ro: Rollout, ctx: Ctx): string {
  const s = ro.status;
  for (const key of ['promoteFull', 'abort', 'abortedAt']) delete s[key];
  if (!isCanary(ro)) s.blueGreen = { ...s.blueGreen, activeSelector: s.currentPodHash, previewSelector: s.currentPodHash };
  return promoteStable(ro, ctx, 'Full promotion requested');
}

function addPause(ro: Rollout, ctx: Ctx, reason: string): string {
  const s = ro.status;
  s.pauseConditions = [...(s.pauseConditions ?? []), { reason, startTime: ctx.ts }];
  s.controllerPause = true;
  return `RolloutPaused: Rollout is paused (${reason})`;
}

/** `completedCurrentCanaryStep` → index+1, step AR cleared, CanaryPauseStep removed (reference 2.5). */
function completeStep(ro: Rollout, ctx: Ctx): string {
  const s = ro.status;
  const all = steps(ro);
  const i: number = s.currentStepIndex ?? 0;
  s.currentStepIndex = i + 1;
  delete s.canary.currentStepAnalysisRunStatus;
  s.pauseConditions = (s.pauseConditions ?? []).filter((p: { reason: string }) => p.reason !== 'CanaryPauseStep');
  if (s.pauseConditions.length === 0) delete s.controllerPause;
  markProgress(ro, ctx);
  return `RolloutStepCompleted: Rollout step ${i + 1}/${all.length} completed (${stepText(all[i] as CanaryStep)})`;
}

/** One canary reconcile at the current step (reference 2.5, 2.6, 2.7). */
function reconcileCanary(ro: Rollout, ctx: Ctx): string | null {
  const s = ro.status;
  const all = steps(ro);
  const i = Math.min(Math.max(s.currentStepIndex ?? 0, 0), all.length);
  if (all.length > 0) s.currentStepIndex = i;
  // An analysis run of an earlier step means the user skipped it (promote); the controller terminates it (2.7).
  const stepAr = s.canary.currentStepAnalysisRunStatus;
  if (stepAr && !String(stepAr.name).endsWith(`-${i}`)) delete s.canary.currentStepAnalysisRunStatus;
  if (i >= all.length) return promoteStable(ro, ctx, `Completed all ${all.length} canary steps`);
  if (hasPause(s, 'InconclusiveAnalysisRun') || hasPause(s, 'InconclusiveExperiment')) return null;
  const step = all[i] as CanaryStep;
  const userResumed = !!s.controllerPause && !(s.pauseConditions?.length > 0);
  if ('pause' in step) {
    if (userResumed) return completeStep(ro, ctx);
    const pause = (s.pauseConditions ?? []).find((p: { reason: string }) => p.reason === 'CanaryPauseStep');
    if (!pause) return addPause(ro, ctx, 'CanaryPauseStep');
    const seconds = durationSeconds((step.pause as { duration?: unknown } | undefined)?.duration);
    if (seconds !== undefined && ctx.now.getTime() >= Date.parse(pause.startTime) + seconds * 1000) return completeStep(ro, ctx);
    return null;
  }
  if (userResumed) {
    // A promote of an inconclusive background analysis only clears pauseConditions; the controller resumes.
    delete s.controllerPause;
    return 'RolloutResumed: Rollout is resumed';
  }
  if ('analysis' in step) {
    const ar = s.canary.currentStepAnalysisRunStatus;
    if (!ar) {
      const name = stepAnalysisName(ro, i);
      s.canary.currentStepAnalysisRunStatus = { name, status: 'Running' };
      return `AnalysisRunRunning: Step Analysis Run '${name}' Status New: 'Running' Previous: 'NoPreviousStatus'`;
    }
    if (ar.status === 'Running' || ar.status === 'Successful') return completeStep(ro, ctx);
    return null;
  }
  // setWeight, setCanaryScale, experiment, …: the replicas/weights are reached within one reconcile here.
  return completeStep(ro, ctx);
}

/** One blue-green reconcile (reference 2.6 "Blue-green preview ready", 2.7). */
function reconcileBlueGreen(ro: Rollout, ctx: Ctx): string | null {
  const s = ro.status;
  const bg = ro.spec.strategy.blueGreen;
  const r = replicas(ro);
  const needsPause = bg.autoPromotionEnabled === false || (bg.autoPromotionSeconds ?? 0) > 0;
  if ((s.updatedReplicas ?? 0) < r) {
    // The preview RS becomes fully available (ReadyForPause); only then may the controller pause.
    Object.assign(s, { replicas: 2 * r, updatedReplicas: r, readyReplicas: 2 * r, availableReplicas: 2 * r });
    s.blueGreen = { ...s.blueGreen, previewSelector: s.currentPodHash };
    if (needsPause) return addPause(ro, ctx, 'BlueGreenPause');
    markProgress(ro, ctx);
    return `ScalingReplicaSet: Scaled up ReplicaSet ${rsName(ro)} (revision ${revision(ro)}) from 0 to ${r}`;
  }
  if (s.blueGreen.activeSelector !== s.currentPodHash) {
    const pause = (s.pauseConditions ?? []).find((p: { reason: string }) => p.reason === 'BlueGreenPause');
    const autoAfter = bg.autoPromotionSeconds ?? 0;
    const timerDone = pause && autoAfter > 0 && ctx.now.getTime() >= Date.parse(pause.startTime) + autoAfter * 1000;
    if (pause && !timerDone) return null;
    const from = s.blueGreen.activeSelector ?? '';
    s.blueGreen = { ...s.blueGreen, activeSelector: s.currentPodHash };
    delete s.pauseConditions;
    delete s.controllerPause;
    markProgress(ro, ctx);
    return `SwitchService: Switched selector for service '${bg.activeService}' from '${from}' to '${s.currentPodHash}'`;
  }
  // Old RS goes after scaleDownDelaySeconds; the emulator does it at once.
  Object.assign(s, { replicas: r, readyReplicas: r, availableReplicas: r });
  return promoteStable(ro, ctx, 'Completed blue-green update');
}

/**
 * One reconcile. Order matters and mirrors the real controller: a new template or steps list resets the
 * update; promoteFull, abort and retry are user requests; aborted, timed-out and manually paused rollouts
 * do not advance; otherwise the strategy moves one step. Returns null when only a resync is due.
 */
function reconcile(ro: Rollout, ctx: Ctx): string | null {
  const s = (ro.status ??= {});
  s.canary ??= {};
  s.blueGreen ??= {};
  if (templateHash(ro) !== s.currentPodHash) return startUpdate(ro, ctx);
  if (isCanary(ro) && s.currentStepHash !== stepsHash(steps(ro))) return resetSteps(ro, ctx);
  if (s.promoteFull && !ro.spec.paused && !fullyPromoted(s)) return promoteFull(ro, ctx);
  if (s.abort && fullyPromoted(s)) {
    // rollout/controller.go: "Removing abort condition from fully promoted rollout" (reference 1.7).
    for (const key of ['abort', 'abortedAt']) delete s[key];
    if (condition(s, 'Progressing')?.reason === 'RolloutAborted') {
      setCondition(s, 'Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName(ro)}" has successfully progressed.`, ctx.ts);
    }
    return 'abort removed from a fully promoted rollout';
  }
  if (s.abort && !s.abortedAt) return abort(ro, ctx);
  if (!s.abort && s.abortedAt) return retry(ro, ctx);
  if (s.abort) return null;
  if (condition(s, 'Progressing')?.reason === 'ProgressDeadlineExceeded') return null;
  if (ro.spec.paused || fullyPromoted(s)) return null;
  return isCanary(ro) ? reconcileCanary(ro, ctx) : reconcileBlueGreen(ro, ctx);
}

/** Describes a write that no transition announced (manual pause/resume, a new generation observed). */
function describeResync(before: Rollout, after: Rollout): string {
  if (after.status.message === 'manually paused' && before.status?.message !== 'manually paused') return 'manually paused';
  if (condition(after.status, 'Progressing')?.reason === 'RolloutResumed' && condition(before.status ?? {}, 'Progressing')?.reason !== 'RolloutResumed') {
    return 'RolloutResumed: Rollout is resumed';
  }
  return `observed generation ${after.metadata.generation}`;
}

// ---------------------------------------------------------------------------------------------------------------
// Object construction

interface CreateOptions {
  namespace: string;
  name: string;
  image: string;
  replicas?: number;
}

function baseRollout(o: CreateOptions, strategy: Rollout, ctx: Ctx): Rollout {
  return {
    apiVersion: 'argoproj.io/v1alpha1',
    kind: 'Rollout',
    metadata: {
      name: o.name,
      namespace: o.namespace,
      creationTimestamp: ctx.ts,
      generation: 1,
      labels: { app: o.name },
      annotations: { [REVISION_ANNOTATION]: '1' },
    },
    spec: {
      replicas: o.replicas ?? 3,
      revisionHistoryLimit: 3,
      selector: { matchLabels: { app: o.name } },
      strategy,
      template: {
        metadata: { labels: { app: o.name } },
        spec: { containers: [{ name: o.name, image: o.image, ports: [{ containerPort: 8080, name: 'http', protocol: 'TCP' }] }] },
      },
    },
    status: {},
  };
}

/** Initial deploy (reference 2.8): all steps skipped, stable == current, Healthy. */
function initialStatus(ro: Rollout, ctx: Ctx): void {
  const hash = templateHash(ro);
  const s: Status = { canary: {}, blueGreen: {}, currentPodHash: hash, stableRS: hash };
  ro.status = s;
  if (isCanary(ro)) {
    s.currentStepHash = stepsHash(steps(ro));
    if (steps(ro).length > 0) s.currentStepIndex = steps(ro).length;
  } else {
    s.blueGreen = { activeSelector: hash, previewSelector: hash };
  }
  setCondition(s, 'Progressing', 'True', 'NewReplicaSetAvailable', `ReplicaSet "${rsName(ro)}" has successfully progressed.`, ctx.ts);
  finalizeStatus(ro, ctx);
}

// ---------------------------------------------------------------------------------------------------------------

/** Drives rollouts in a {@link KubernetesEmulator} the way the Argo Rollouts controller would, one explicit call at a time. */
export class ArgoController {
  private readonly now: () => Date;

  constructor(
    private readonly emulator: KubernetesEmulator,
    opts: { now?: () => Date } = {},
  ) {
    this.now = opts.now ?? (() => new Date());
  }

  /** Create a canary rollout at revision 1, already Healthy (initial deploy done: index == len(steps), stableRS == currentPodHash). */
  createCanary(o: CreateOptions & { steps: readonly object[]; backgroundAnalysis?: boolean; trafficRouting?: boolean }): void {
    const canary: Rollout = { steps: JSON.parse(JSON.stringify(o.steps)) };
    if (o.trafficRouting) Object.assign(canary, { canaryService: `${o.name}-canary`, stableService: `${o.name}-stable`, trafficRouting: { smi: {} } });
    if (o.backgroundAnalysis) canary.analysis = { templates: [{ templateName: 'success-rate' }] };
    const ctx = this.ctx();
    const ro = baseRollout(o, { canary }, ctx);
    initialStatus(ro, ctx);
    this.emulator.apply(ro);
  }

  /** Blue-green at revision 1, Healthy, active == stable. */
  createBlueGreen(o: CreateOptions & { autoPromotionEnabled?: boolean; autoPromotionSeconds?: number }): void {
    const blueGreen: Rollout = { activeService: `${o.name}-active`, previewService: `${o.name}-preview` };
    if (o.autoPromotionEnabled !== undefined) blueGreen.autoPromotionEnabled = o.autoPromotionEnabled;
    if (o.autoPromotionSeconds !== undefined) blueGreen.autoPromotionSeconds = o.autoPromotionSeconds;
    const ctx = this.ctx();
    const ro = baseRollout(o, { blueGreen }, ctx);
    initialStatus(ro, ctx);
    this.emulator.apply(ro);
  }

  /**
   * A user/CD tool sets a new image in spec.template (generation+1), then the controller observes it:
   * revision+1, new currentPodHash, index 0, Progressing. Two writes, two MODIFIED events, as on a real cluster.
   */
  deploy(ns: string, name: string, image: string): void {
    this.emulator.mutate(ns, name, (ro) => {
      const containers: Array<{ image: string }> = ro.spec.template.spec.containers;
      for (const c of containers) c.image = image;
    });
    this.tick(ns, name);
  }

  /**
   * Changes only the pod template's metadata (what an Argo Rollouts upgrade does to every Rollout, or a
   * `kubectl patch` of a template annotation): generation+1, then the controller observes a new pod-template hash, so
   * revision+1 with the same images. Two writes, as `deploy`.
   */
  annotateTemplate(ns: string, name: string, annotations: Record<string, string>): void {
    this.emulator.mutate(ns, name, (ro) => {
      const template = ro.spec.template;
      template.metadata = { ...template.metadata, annotations: { ...template.metadata?.annotations, ...annotations } };
    });
    this.tick(ns, name);
  }

  /** One reconcile; returns a short description of the change it made, or null when there was nothing to do. */
  tick(ns: string, name: string): string | null {
    const ctx = this.ctx();
    const before = this.mustGet(ns, name);
    const ro: Rollout = JSON.parse(JSON.stringify(before));
    const description = reconcile(ro, ctx);
    finalizeStatus(ro, ctx);
    const after = this.emulator.apply(ro) as Rollout;
    if (after.metadata.resourceVersion === before.metadata.resourceVersion) return null;
    return description ?? describeResync(before, after);
  }

  /** Ticks until a tick returns null or `max` ticks ran; returns the descriptions. */
  settle(ns: string, name: string, max = 50): string[] {
    const out: string[] = [];
    for (let i = 0; i < max; i++) {
      const d = this.tick(ns, name);
      if (d === null) break;
      out.push(d);
    }
    return out;
  }

  /**
   * The step (default) or background AnalysisRun fails: the AnalysisRun object is written Failed, with the metric's
   * condition in `spec.metrics[]` and its measurements in `status.metricResults[]` (default: `success-rate` measured
   * 0.82 then 0.79 against `result[0] >= 0.95`); its status in the rollout becomes Failed with `message`, and the
   * rollout aborts with `Step-based analysis phase failed: <msg>` / `Background analysis phase failed: <msg>` (reference 2.3).
   */
  failAnalysis(ns: string, name: string, o: { kind?: 'step' | 'background'; message?: string; metric?: FailedMetric } = {}): void {
    const metric = o.metric ?? DEFAULT_FAILED_METRIC;
    const message = o.message ?? `Metric "${metric.name}" assessed Failed due to failed (${metric.values.length}) > failureLimit (${metric.values.length - 1})`;
    this.writeAnalysis(ns, name, o.kind ?? 'step', 'Failed', message, (ro, ctx, arName) => {
      this.emulator.applyAnalysisRun(failedAnalysisRun({ ro, ctx, arName, kind: o.kind ?? 'step', message, metric }));
      const what = o.kind === 'background' ? 'Background analysis' : 'Step-based analysis';
      abort(ro, ctx, `${what} phase failed: ${message}`);
    });
  }

  /** The step (default) or background AnalysisRun is Inconclusive: the rollout pauses with InconclusiveAnalysisRun (reference 2.6). */
  inconclusiveAnalysis(ns: string, name: string, o: { kind?: 'step' | 'background'; message?: string } = {}): void {
    this.writeAnalysis(ns, name, o.kind ?? 'step', 'Inconclusive', o.message, (ro, ctx) => {
      addPause(ro, ctx, 'InconclusiveAnalysisRun');
    });
  }

  /** Progress deadline exceeded: Progressing False/ProgressDeadlineExceeded, phase Degraded; aborts too with spec.progressDeadlineAbort. */
  timeOut(ns: string, name: string): void {
    const ctx = this.ctx();
    const ro = this.mustGet(ns, name);
    if (fullyPromoted(ro.status)) throw new Error(`timeOut: ${ns}/${name} is not updating, so it cannot time out`);
    const message = `ReplicaSet "${rsName(ro)}" has timed out progressing.`;
    setCondition(ro.status, 'Progressing', 'False', 'ProgressDeadlineExceeded', message, ctx.ts);
    if (ro.spec.progressDeadlineAbort) abort(ro, ctx, message);
    finalizeStatus(ro, ctx);
    this.emulator.apply(ro);
  }

  private writeAnalysis(
    ns: string,
    name: string,
    kind: 'step' | 'background',
    phase: string,
    message: string | undefined,
    then: (ro: Rollout, ctx: Ctx, arName: string) => void,
  ): void {
    const ctx = this.ctx();
    const ro = this.mustGet(ns, name);
    if (!isCanary(ro)) throw new Error(`${ns}/${name}: analysis helpers support canary rollouts only`);
    const s = ro.status;
    s.canary ??= {};
    const key = kind === 'step' ? 'currentStepAnalysisRunStatus' : 'currentBackgroundAnalysisRunStatus';
    const arName = s.canary[key]?.name ?? (kind === 'step' ? stepAnalysisName(ro, s.currentStepIndex ?? 0) : backgroundAnalysisName(ro));
    s.canary[key] = { name: arName, status: phase, ...(message ? { message } : {}) };
    then(ro, ctx, arName);
    finalizeStatus(ro, ctx);
    this.emulator.apply(ro);
  }

  private mustGet(ns: string, name: string): Rollout {
    const ro = this.emulator.get(ns, name);
    if (!ro) throw new Error(`rollout ${ns}/${name} does not exist`);
    return ro;
  }

  private ctx(): Ctx {
    const now = this.now();
    return { now, ts: rfc3339(now) };
  }
}
