import type { RolloutState } from './rollout-state.js';

/**
 * The state a revision was in once it became stable, built from the last state seen of it: for a revision the bot
 * learns completed from a later status (`stableRS`) instead of watching it happen. What that status cannot tell (the
 * replica counts, the analysis runs) stays as last seen.
 */
export function asStable(last: RolloutState): RolloutState {
  const { pausedSince: _pausedSince, abortedAt: _abortedAt, abortReason: _abortReason, ...rest } = last;
  const state: RolloutState = {
    ...rest,
    phase: 'Healthy',
    message: '',
    fullyPromoted: true,
    specPaused: false,
    pauseReasons: [],
    controllerPause: false,
    aborted: false,
  };
  if (last.currentPodHash !== undefined) state.stableRS = last.currentPodHash;
  if (last.canary) {
    const { actualWeight: _actual, ...canary } = last.canary;
    // A finished canary sends all traffic to the new pods (maxTrafficWeight, 100 unless set).
    state.canary = { ...canary, stepIndex: canary.stepCount, setWeight: 100 };
  }
  // A promoted blue-green points both services at the new pods.
  if (last.blueGreen && last.currentPodHash !== undefined) state.blueGreen = { ...last.blueGreen, activeSelector: last.currentPodHash, previewSelector: last.currentPodHash };
  return state;
}
