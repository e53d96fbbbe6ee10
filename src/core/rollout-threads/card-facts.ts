import type { RolloutState } from '../rollout/rollout-state.js';

/** The facts a card shows; the card is re-sent only when these change. */
export function cardFacts(s: RolloutState): string {
  return JSON.stringify([
    s.phase, s.message, s.deleted, s.aborted, s.abortReason, s.fullyPromoted, s.pauseReasons, s.specPaused,
    s.canary?.stepIndex, s.canary?.setWeight, s.canary?.actualWeight,
    s.blueGreen?.activeSelector, s.blueGreen?.previewSelector, s.images.map((i) => i.image),
  ]);
}
