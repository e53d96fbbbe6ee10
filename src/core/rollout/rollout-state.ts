/**
 * Our own model of one Argo Rollout, read from the API object by `readRollout`.
 * The core never sees raw Kubernetes objects: everything a use-case needs is here.
 */

/** Phase as `kubectl argo rollouts get` shows it (GetRolloutPhase, reference 2.2). */
export type RolloutPhase = 'Healthy' | 'Progressing' | 'Paused' | 'Degraded';

/** Pause reasons exactly as the controller writes them (reference 2.1). */
export type PauseReason = 'CanaryPauseStep' | 'BlueGreenPause' | 'InconclusiveAnalysisRun' | 'InconclusiveExperiment' | string;

/** Which analysis run a status belongs to. */
export type AnalysisKind = 'step' | 'background' | 'prePromotion' | 'postPromotion';

/** `{name, status, message}` of an AnalysisRun as mirrored into the rollout status (the key is `status`). */
export interface AnalysisStatus {
  kind: AnalysisKind;
  name: string;
  /** Pending | Running | Successful | Failed | Error | Inconclusive */
  status: string;
  message?: string;
}

/** One container image of the pod template. */
export interface ContainerImage {
  container: string;
  /** Full image reference as written in the template, e.g. `123.dkr.ecr.../vote:ea11a24-2026`. */
  image: string;
  /** The tag part (after the last `:` of the last path segment); undefined when the image has none or uses a digest only. */
  tag?: string;
}

/** A canary step reduced to what we show. */
export interface CanaryStep {
  /** `setWeight` | `pause` | `analysis` | `experiment` | `setCanaryScale` | `setHeaderRoute` | `setMirrorRoute` | `plugin` | `unknown` */
  kind: string;
  /** Text as CanaryStepString renders it: `setWeight: 20`, `pause`, `pause: 30s`, `analysis`, ... */
  text: string;
  /** setWeight value for setWeight steps. */
  weight?: number;
  /** Pause duration in seconds for timed pauses; undefined for an indefinite pause. */
  pauseSeconds?: number;
}

export interface CanaryProgress {
  /** 0-based index of the step being run (status.currentStepIndex, absent → 0). `== stepCount` means all steps done. */
  stepIndex: number;
  stepCount: number;
  steps: CanaryStep[];
  /** Desired weight (GetCurrentSetWeight): aborted → 0, done → maxTrafficWeight (100), else last setWeight at or before index. */
  setWeight: number;
  /** Traffic-routed actual weight (status.canary.weights.canary.weight) when present. */
  actualWeight?: number;
  /** True when spec.strategy.canary.trafficRouting is set. */
  trafficRouted: boolean;
}

export interface BlueGreenProgress {
  activeSelector?: string;
  previewSelector?: string;
  /** spec.strategy.blueGreen.autoPromotionEnabled (default true). */
  autoPromotionEnabled: boolean;
  autoPromotionSeconds?: number;
}

export interface RolloutState {
  namespace: string;
  name: string;
  /** metadata.uid, to tell a deleted and re-created rollout apart. */
  uid?: string;
  /** metadata.annotations["rollout.argoproj.io/revision"], "0" when absent. */
  revision: string;
  generation: number;
  resourceVersion?: string;
  strategy: 'canary' | 'blueGreen' | 'unknown';
  phase: RolloutPhase;
  message: string;
  currentPodHash?: string;
  stableRS?: string;
  /** stableRS set and equal to currentPodHash (IsFullyPromoted). */
  fullyPromoted: boolean;
  images: ContainerImage[];
  /** The pod template's init containers' images, when it has any (compared, not shown: a no-op revision keeps them too). */
  initImages?: ContainerImage[];
  /** spec.paused (manual pause). */
  specPaused: boolean;
  /**
   * spec.restartAt while the controller has not done that restart yet (status.restartedAt is another instant):
   * `kubectl argo rollouts restart` sets it. Undefined once done, so a restart long ago is not news.
   */
  restartAt?: string;
  pauseReasons: PauseReason[];
  /** startTime of the first pause condition (ISO) if any. */
  pausedSince?: string;
  controllerPause: boolean;
  aborted: boolean;
  abortedAt?: string;
  /** Why it aborted: the RolloutAborted condition's message, or status.message; undefined when not aborted. */
  abortReason?: string;
  canary?: CanaryProgress;
  blueGreen?: BlueGreenProgress;
  analysis: AnalysisStatus[];
  /** Replica counts, for the card. */
  replicas: { desired: number; updated: number; ready: number; available: number };
  /** Spec uses workloadRef (no spec.template; images come from the referenced workload). */
  workloadRef?: { kind: string; name: string };
  /**
   * Set on a state shown while the controller has not yet observed a spec change (observedGeneration, or the
   * referenced workload's generation, behind): `phase`/`message` then say what Argo shows ("waiting for rollout spec
   * update to be observed") and this keeps the phase and message the other facts were observed with. Events are
   * diffed from those (`observedFacts`), never from the shown phase.
   */
  unobserved?: { phase: RolloutPhase; message: string };
  /** The rollout was deleted from the cluster; the other facts are the last ones seen of it. */
  deleted?: boolean;
}
