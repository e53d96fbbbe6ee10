/** One metric of an AnalysisRun: its condition from the spec and what was measured. */
export interface AnalysisMetric {
  name: string;
  /** Successful | Failed | Inconclusive | Error | Running | Pending (status.metricResults[].phase, Pending when absent). */
  phase: string;
  successCondition?: string;
  failureCondition?: string;
  /** The measurements, oldest first. */
  measurements: Array<{ phase: string; value?: string; message?: string }>;
  message?: string;
}

/** Our model of an Argo Rollouts AnalysisRun, read by `readAnalysisRun`. */
export interface AnalysisRun {
  namespace: string;
  name: string;
  /** status.phase, Pending when absent. */
  phase: string;
  message?: string;
  metrics: AnalysisMetric[];
}
