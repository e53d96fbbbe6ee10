import type { RolloutState } from './rollout-state.js';

/**
 * "step 2/7 (pause) · set weight 10%" for a canary; undefined otherwise. The set weight is what the steps ask for
 * (GetCurrentSetWeight); the actual weight is added where the status reports it (traffic-routed canaries).
 */
export function describeProgress(state: RolloutState): string | undefined {
  const c = state.canary;
  if (!c || c.stepCount === 0) return undefined;
  const weight = c.actualWeight !== undefined ? `set weight ${c.setWeight}% · actual weight ${c.actualWeight}%` : `set weight ${c.setWeight}%`;
  if (c.stepIndex >= c.stepCount) return `all ${c.stepCount} steps done · ${weight}`;
  const step = c.steps[c.stepIndex];
  return `step ${c.stepIndex + 1}/${c.stepCount}${step ? ` (${step.text})` : ''} · ${weight}`;
}

/**
 * The phase in words, without Argo's reason codes: "Paused at step 2/8 (pause 1m)", "Paused: preview ready, waiting
 * for promotion", "Degraded: the new version's ReplicaSet has timed out progressing.", "Healthy".
 */
export function describePhase(state: RolloutState): string {
  if (state.deleted) return 'Deleted: the rollout is no longer in the cluster';
  // Argo's own words while the controller has not observed the spec: nothing else about the state is current.
  if (state.unobserved) return `${state.phase}: ${state.message}`;
  if (state.aborted) return 'Aborted: back on the stable version';
  const reason = state.pauseReasons[0];
  if (state.phase === 'Paused' || reason !== undefined) {
    if (reason === 'BlueGreenPause') {
      const auto = state.blueGreen?.autoPromotionSeconds;
      return auto && auto > 0 ? `Paused: preview ready, promotes itself after ${auto}s` : 'Paused: preview ready, waiting for promotion';
    }
    if (reason?.startsWith('Inconclusive')) return 'Paused: analysis inconclusive, waiting for a decision';
    if (reason === 'CanaryPauseStep') return `Paused${pausedAt(state)}`;
    if (state.specPaused) return 'Paused manually';
    return `Paused${pausedAt(state)}`;
  }
  const message = humanMessage(state.message, state);
  return message ? `${state.phase}: ${message}` : state.phase;
}

/**
 * A controller message for people: without its leading reason code (`RolloutAborted: `, `ProgressDeadlineExceeded: `),
 * with a ReplicaSet named for what it is rather than by its pod-template hash, and without bare status words.
 */
export function humanMessage(message: string, state: Pick<RolloutState, 'currentPodHash' | 'stableRS'>): string {
  let m = message.replace(/^[A-Z][A-Za-z]+: /, '');
  if (/^[A-Z][a-z]+(?:[A-Z][a-z]+)+$/.test(m)) return '';
  m = m.replace(/ReplicaSet "[^"]*"/g, (rs) => {
    if (state.currentPodHash && rs.includes(state.currentPodHash)) return "the new version's ReplicaSet";
    if (state.stableRS && rs.includes(state.stableRS)) return "the stable version's ReplicaSet";
    return 'a ReplicaSet';
  });
  return m;
}

/** " at step 2/8 (pause 1m)" for a canary paused at a step; "" otherwise. */
function pausedAt(state: RolloutState): string {
  const c = state.canary;
  if (!c || c.stepIndex >= c.stepCount) return '';
  const step = c.steps[c.stepIndex];
  return ` at step ${c.stepIndex + 1}/${c.stepCount}${step ? ` (${step.text.replace(/: /, ' ')})` : ''}`;
}

/** The emoji that heads a card for this state. */
export function phaseEmoji(state: RolloutState): string {
  if (state.deleted) return '🗑️';
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
