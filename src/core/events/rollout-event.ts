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
  | { type: 'aborted'; key: string; reason: string }
  | { type: 'retried'; key: string }
  | { type: 'completed'; key: string; revision: string }
  | { type: 'degraded'; key: string; message: string }
  | { type: 'recovered'; key: string };

export type RolloutEventType = RolloutEvent['type'];
