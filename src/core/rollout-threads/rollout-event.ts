import type { AnalysisKind, PauseReason } from '../rollout/rollout-state.js';

/**
 * What happened between two observed states of one rollout. Produced by `detectRolloutEvents`.
 * `key` is stable for the same happening, so re-deriving the events after a restart yields the same keys
 * and nothing is announced twice.
 */
export type RolloutEvent =
  | { type: 'deploy-started'; key: string; revision: string; tag?: string }
  | { type: 'step-completed'; key: string; step: number; of: number; text: string; weight: number }
  | { type: 'paused'; key: string; reason: PauseReason; step?: number; of?: number; weight?: number }
  | { type: 'resumed'; key: string }
  | { type: 'analysis'; key: string; kind: AnalysisKind; name: string; status: string; message?: string }
  /** `measured`: the failing metrics of the analysis behind it, with values and condition (`describeAnalysisFailure`). */
  | { type: 'aborted'; key: string; reason: string; measured?: string[] }
  | { type: 'retried'; key: string }
  | { type: 'completed'; key: string; revision: string }
  | { type: 'degraded'; key: string; message: string }
  | { type: 'recovered'; key: string }
  /**
   * An open thread's revision gave way to revision `by`. `ended` is what is known of how it ended: `completed` when the
   * new status names its pods stable (status.stableRS), `superseded` when it was watched up to the new revision and
   * never became stable, `unknown` when it was not watched (the bot was offline) and the status proves nothing.
   * `offline`: the bot had not seen the revision since it started, so it did not see it end.
   */
  | { type: 'replaced'; key: string; revision: string; by: string; ended: 'completed' | 'superseded' | 'unknown'; offline: boolean };

export type RolloutEventType = RolloutEvent['type'];
