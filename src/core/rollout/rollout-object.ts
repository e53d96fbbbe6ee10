import { z } from 'zod';

/*
 * The raw Argo Rollouts `Rollout` API object (argoproj.io/v1alpha1), naming only the fields we read.
 * Every object is loose (unknown keys pass through) and every field is optional and nullable: the controller
 * writes its status with `omitempty`, so false, 0, "" and [] are absent from the wire and an absent field
 * means the zero value (reference 2). Readers apply the defaults; the schema only checks the types.
 */

/** `{name, status, message}` of an AnalysisRun as mirrored into the rollout status (the phase key is `status`). */
export const RolloutAnalysisRunStatus = z.looseObject({
  /** AnalysisRun name. */
  name: z.string().nullish(),
  /** AnalysisPhase: Pending | Running | Successful | Failed | Error | Inconclusive. */
  status: z.string().nullish(),
  /** The run's message, e.g. `Metric "web" assessed Failed due to failed (1) > failureLimit (0)`. */
  message: z.string().nullish(),
});
export type RolloutAnalysisRunStatus = z.infer<typeof RolloutAnalysisRunStatus>;

/** One `spec.strategy.canary.steps[]` entry; exactly one key is set on a valid step. */
export const RolloutCanaryStep = z.looseObject({
  /** Desired canary traffic weight in percent. */
  setWeight: z.number().nullish(),
  /** `{}` is an indefinite pause; `duration` is seconds (int or numeric string) or a Go duration (`30s`, `1h0m0s`). */
  pause: z.looseObject({ duration: z.union([z.number(), z.string()]).nullish() }).nullish(),
  /** Step analysis; only its presence matters to us. */
  analysis: z.unknown().optional(),
  /** Experiment step; only its presence matters to us. */
  experiment: z.unknown().optional(),
  /** Canary replica count override (traffic routing only). */
  setCanaryScale: z.looseObject({
    weight: z.number().nullish(),
    replicas: z.number().nullish(),
    matchTrafficWeight: z.boolean().nullish(),
  }).nullish(),
  /** Header-based routing step; only its presence matters. */
  setHeaderRoute: z.unknown().optional(),
  /** Mirror routing step; only its presence matters. */
  setMirrorRoute: z.unknown().optional(),
  /** Step plugin; only its presence matters. */
  plugin: z.unknown().optional(),
});
export type RolloutCanaryStep = z.infer<typeof RolloutCanaryStep>;

const Container = z.looseObject({
  name: z.string().nullish(),
  image: z.string().nullish(),
});

const Condition = z.looseObject({
  /** Progressing | Available | Paused | Completed | Healthy | InvalidSpec | ReplicaFailure. */
  type: z.string().nullish(),
  /** "True" | "False" | "Unknown". */
  status: z.string().nullish(),
  /** e.g. RolloutAborted, ProgressDeadlineExceeded, RolloutPaused, NewReplicaSetAvailable. */
  reason: z.string().nullish(),
  message: z.string().nullish(),
});

/** The Rollout API object as read from the cluster. */
export const RolloutObject = z.looseObject({
  apiVersion: z.string().nullish(),
  /** Absent on items of some list responses; `readRollout` rejects any other kind. */
  kind: z.string().nullish(),
  metadata: z.looseObject({
    name: z.string(),
    namespace: z.string().nullish(),
    uid: z.string().nullish(),
    generation: z.number().nullish(),
    resourceVersion: z.string().nullish(),
    /** `rollout.argoproj.io/revision`, `rollout.argoproj.io/workload-generation`. */
    annotations: z.record(z.string(), z.string()).nullish(),
  }),
  spec: z.looseObject({
    /** Desired replicas; absent means 1. */
    replicas: z.number().nullish(),
    /** Manual pause (`kubectl argo rollouts pause`). */
    paused: z.boolean().nullish(),
    /** Requested restart time (RFC 3339). */
    restartAt: z.string().nullish(),
    /** Absent when `workloadRef` is used. */
    template: z.looseObject({
      spec: z.looseObject({ containers: z.array(Container).nullish(), initContainers: z.array(Container).nullish() }).nullish(),
    }).nullish(),
    /** The referenced Deployment / ReplicaSet / PodTemplate holding the pod template. */
    workloadRef: z.looseObject({
      apiVersion: z.string().nullish(),
      kind: z.string().nullish(),
      name: z.string().nullish(),
    }).nullish(),
    strategy: z.looseObject({
      canary: z.looseObject({
        steps: z.array(RolloutCanaryStep).nullish(),
        /** Presence means traffic-routed; `maxTrafficWeight` defaults to 100. */
        trafficRouting: z.looseObject({ maxTrafficWeight: z.number().nullish() }).nullish(),
      }).nullish(),
      blueGreen: z.looseObject({
        activeService: z.string().nullish(),
        previewService: z.string().nullish(),
        /** Default true: with it (and no autoPromotionSeconds) blue-green never pauses. */
        autoPromotionEnabled: z.boolean().nullish(),
        /** Seconds after the preview is ready; 0 = none. */
        autoPromotionSeconds: z.number().nullish(),
        /** Presence matters for the phase ("waiting for analysis to complete"). */
        postPromotionAnalysis: z.unknown().optional(),
      }).nullish(),
    }).nullish(),
  }).nullish(),
  status: z.looseObject({
    /** v1.0+: computed by the controller; absent on older objects. */
    phase: z.string().nullish(),
    message: z.string().nullish(),
    /** The decimal metadata.generation last reconciled, as a string (a hash before v0.10). Numbers are accepted too. */
    observedGeneration: z.union([z.string(), z.number().transform(String)]).nullish(),
    currentPodHash: z.string().nullish(),
    stableRS: z.string().nullish(),
    /** Canary only; absent means 0. */
    currentStepIndex: z.number().nullish(),
    pauseConditions: z.array(z.looseObject({
      reason: z.string().nullish(),
      startTime: z.string().nullish(),
    })).nullish(),
    controllerPause: z.boolean().nullish(),
    abort: z.boolean().nullish(),
    abortedAt: z.string().nullish(),
    restartedAt: z.string().nullish(),
    replicas: z.number().nullish(),
    updatedReplicas: z.number().nullish(),
    readyReplicas: z.number().nullish(),
    availableReplicas: z.number().nullish(),
    conditions: z.array(Condition).nullish(),
    canary: z.looseObject({
      currentStepAnalysisRunStatus: RolloutAnalysisRunStatus.nullish(),
      currentBackgroundAnalysisRunStatus: RolloutAnalysisRunStatus.nullish(),
      /** Traffic-routed canary only. */
      weights: z.looseObject({
        canary: z.looseObject({ weight: z.number().nullish() }).nullish(),
      }).nullish(),
    }).nullish(),
    blueGreen: z.looseObject({
      activeSelector: z.string().nullish(),
      previewSelector: z.string().nullish(),
      prePromotionAnalysisRunStatus: RolloutAnalysisRunStatus.nullish(),
      postPromotionAnalysisRunStatus: RolloutAnalysisRunStatus.nullish(),
    }).nullish(),
    /** workloadRef only: the referenced workload's generation last observed. */
    workloadObservedGeneration: z.union([z.string(), z.number().transform(String)]).nullish(),
  }).nullish(),
});
export type RolloutObject = z.infer<typeof RolloutObject>;
