import { formatDuration } from '../text/duration.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { DrillRecord, ThreadRecord } from '../store-data.js';

/** A decided drill. */
export interface DrillVerdict {
  status: 'passed' | 'failed';
  verdict: string;
}

/**
 * Brings a running drill's marks up to date with what its deploy thread shows `now` (first sight of a failed analysis,
 * the abort, traffic back on stable, completion), writing them on `d`, and decides it once it can:
 * - passed: the analysis failed, the rollout aborted and the stable version serves again;
 * - failed: the rollout completed, a new revision replaced it, it was aborted but not by the analysis, or the deadline
 *   passed before all of that happened.
 * Returns undefined while the drill is still undecided.
 */
export function judgeDrill(d: DrillRecord, thread: ThreadRecord | undefined, now: number): DrillVerdict | undefined {
  const state = thread?.lastState;
  if (!thread) return { status: 'failed', verdict: 'the deploy thread is gone (pruned or replaced), so the drill could not be watched' };
  if (state && state.revision === thread.revision) {
    const failed = state.analysis.find((a) => a.status === 'Failed' || a.status === 'Error');
    if (failed && d.analysisFailedAt === undefined) {
      d.analysisFailedAt = now;
      d.analysisMessage = `${failed.kind} analysis ${failed.name}: ${failed.status}${failed.message ? ` (${failed.message})` : ''}`;
    }
    if ((state.aborted || thread.outcome === 'aborted') && d.abortedAt === undefined) {
      d.abortedAt = now;
      if (state.abortReason) d.abortReason = state.abortReason;
      // The controller writes the failed run and the abort together; its reason names the analysis when that was why.
      if (d.analysisFailedAt === undefined && /analysis/i.test(state.abortReason ?? '')) {
        d.analysisFailedAt = now;
        d.analysisMessage = state.abortReason;
      }
    }
    if (d.abortedAt !== undefined && d.stableAt === undefined && stableRestored(state)) d.stableAt = now;
    if (!state.aborted && state.fullyPromoted && d.completedAt === undefined) d.completedAt = now;
  }
  if (d.completedAt !== undefined || thread.outcome === 'completed') {
    d.completedAt ??= now;
    return { status: 'failed', verdict: `the rollout completed ${formatDuration(d.completedAt - (d.errorsOnAt ?? d.startedAt))} after errors went on: the analysis did not catch them, so this release would have reached everyone` };
  }
  if (thread.outcome === 'superseded') return { status: 'failed', verdict: 'a new revision replaced the canary before the drill was decided' };
  if (d.abortedAt !== undefined && d.stableAt !== undefined) {
    if (d.analysisFailedAt !== undefined) {
      return { status: 'passed', verdict: `the analysis caught the errors after ${formatDuration(d.analysisFailedAt - (d.errorsOnAt ?? d.startedAt))} and the rollout went back to stable ${formatDuration(d.stableAt - (d.errorsOnAt ?? d.startedAt))} after errors went on` };
    }
    return { status: 'failed', verdict: `the rollout aborted, but not because an analysis failed${d.abortReason ? ` (${d.abortReason})` : ''}: the analysis did not catch the errors` };
  }
  if (now >= d.deadline) {
    const within = formatDuration(d.deadline - d.startedAt);
    if (d.abortedAt !== undefined) return { status: 'failed', verdict: `the rollout aborted, but traffic was not back on the stable version within ${within}` };
    if (d.analysisFailedAt !== undefined) return { status: 'failed', verdict: `the analysis failed, but the rollout did not abort within ${within}` };
    return { status: 'failed', verdict: `nothing happened within ${within}: no analysis failed and the rollout neither aborted nor completed` };
  }
  return undefined;
}

/** Aborted, no traffic to the canary, and the stable pods all available. */
export function stableRestored(state: RolloutState): boolean {
  if (!state.aborted) return false;
  const weight = state.canary ? (state.canary.actualWeight ?? state.canary.setWeight) : 0;
  return weight === 0 && state.replicas.available >= state.replicas.desired;
}
