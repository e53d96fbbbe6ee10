import type { Logger } from '../logger.js';
import type { RolloutCluster } from '../ports.js';
import { describeAnalysisFailure } from '../rollout/describe-analysis-failure.js';
import type { RolloutState } from '../rollout/rollout-state.js';

/**
 * Why the analysis behind an abort failed, in numbers: reads each Failed or Error run the rollout status names (now or
 * in the state before) and describes its failing metrics ("success-rate = 0.82, 0.79 (needs result[0] >= 0.95)"). A run
 * that cannot be read is logged and left out: the abort is announced with the controller's message all the same.
 */
export async function measureFailedAnalysis(o: { cluster: Pick<RolloutCluster, 'analysisRun'>; prev?: RolloutState; next: RolloutState; log: Logger; where?: string }): Promise<string[]> {
  const { next } = o;
  const runs = [...next.analysis, ...(o.prev?.analysis ?? [])].filter((a) => a.status === 'Failed' || a.status === 'Error');
  const names = [...new Set(runs.map((a) => a.name))];
  const lines: string[] = [];
  for (const name of names) {
    try {
      const run = await o.cluster.analysisRun(next.namespace, name, o.where);
      if (run) lines.push(...describeAnalysisFailure(run));
    } catch (err) {
      o.log.warn({ err, rollout: `${next.namespace}/${next.name}`, analysisRun: name }, 'analysis run could not be read for the abort reply');
    }
  }
  return lines;
}
