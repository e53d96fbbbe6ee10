import type { RolloutState } from './rollout-state.js';

/** "step 2/7 (pause) · weight 10%" for a canary; undefined otherwise. */
export function describeProgress(state: RolloutState): string | undefined {
  const c = state.canary;
  if (!c || c.stepCount === 0) return undefined;
  const weight = c.actualWeight !== undefined && c.actualWeight !== c.setWeight ? `weight ${c.setWeight}% (actual ${c.actualWeight}%)` : `weight ${c.setWeight}%`;
  if (c.stepIndex >= c.stepCount) return `all ${c.stepCount} steps done · ${weight}`;
  const step = c.steps[c.stepIndex];
  return `step ${c.stepIndex + 1}/${c.stepCount}${step ? ` (${step.text})` : ''} · ${weight}`;
}

/** Phase with its message: "Paused (CanaryPauseStep)". */
export function describePhase(state: RolloutState): string {
  return state.message ? `${state.phase} (${state.message})` : state.phase;
}

/** The emoji that heads a card for this state. */
export function phaseEmoji(state: RolloutState): string {
  if (state.aborted) return '🛑';
  switch (state.phase) {
    case 'Healthy':
      return '✅';
    case 'Paused':
      return '⏸️';
    case 'Degraded':
      return '🔥';
    default:
      return '🔄';
  }
}

/** True when a person has to act: an indefinite canary pause, a blue-green preview waiting, an inconclusive analysis. */
export function waitsForPromotion(state: RolloutState): boolean {
  if (state.aborted || state.pauseReasons.length === 0) return false;
  const reason = state.pauseReasons[0];
  if (reason === 'BlueGreenPause') return !(state.blueGreen?.autoPromotionSeconds && state.blueGreen.autoPromotionSeconds > 0);
  if (reason === 'CanaryPauseStep') {
    const step = state.canary?.steps[state.canary.stepIndex];
    return step?.kind === 'pause' && step.pauseSeconds === undefined;
  }
  return reason === 'InconclusiveAnalysisRun' || reason === 'InconclusiveExperiment';
}

/** The tag people know the deploy by: the first container's tag. */
export function primaryTag(state: RolloutState): string | undefined {
  return state.images.find((i) => i.tag)?.tag;
}
