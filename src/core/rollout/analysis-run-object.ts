import { z } from 'zod';

/*
 * The raw Argo Rollouts `AnalysisRun` API object (argoproj.io/v1alpha1, reference 3.2), naming only the fields we read.
 * Loose and nullish throughout, like the Rollout schema: the controller omits zero values.
 */

/** One `status.metricResults[].measurements[]` entry. */
const Measurement = z.looseObject({
  /** Successful | Failed | Inconclusive | Error | Running. */
  phase: z.string().nullish(),
  /** What the provider returned, as text (`"0.82"`, `"[0.82]"`, `"false"`). */
  value: z.string().nullish(),
  /** Why a measurement errored. */
  message: z.string().nullish(),
});

export const AnalysisRunObject = z.looseObject({
  kind: z.string().nullish(),
  metadata: z.looseObject({ name: z.string(), namespace: z.string().nullish() }),
  spec: z
    .looseObject({
      metrics: z
        .array(
          z.looseObject({
            name: z.string(),
            /** expr-lang condition on `result` that makes a measurement Successful. */
            successCondition: z.string().nullish(),
            /** expr-lang condition on `result` that makes a measurement Failed. */
            failureCondition: z.string().nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
  status: z
    .looseObject({
      /** Pending | Running | Successful | Failed | Error | Inconclusive. */
      phase: z.string().nullish(),
      message: z.string().nullish(),
      metricResults: z
        .array(
          z.looseObject({
            name: z.string(),
            phase: z.string().nullish(),
            message: z.string().nullish(),
            failed: z.number().nullish(),
            error: z.number().nullish(),
            measurements: z.array(Measurement).nullish(),
          }),
        )
        .nullish(),
    })
    .nullish(),
});
export type AnalysisRunObject = z.infer<typeof AnalysisRunObject>;
