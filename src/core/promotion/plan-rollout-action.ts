import { stepTitle } from '../rollout/canary-steps.js';
import type { RolloutPatch } from '../ports.js';
import type { CanaryStep, RolloutState } from '../rollout/rollout-state.js';


/** What `promote` would do, classified for the UI; `patches` are sent in order. */
export type PromotionPlan =
  /** A pause is cleared: canary pause step, BlueGreenPause, inconclusive background analysis, manual pause. */
  | { kind: 'clear-pause'; describe: string; patches: RolloutPatch[] }
  /** Rule 1.5 a: an inconclusive step analysis is accepted and the index moves on in the same patch. */
  | { kind: 'continue-inconclusive-step'; describe: string; patches: RolloutPatch[] }
  /** Rule 1.5 c: the current (running) step would be skipped. The bot refuses this unless `--full`. */
  | { kind: 'skip-running-step'; describe: string; patches: RolloutPatch[] }
  /** `--full`: skip every remaining step, pause and analysis. */
  | { kind: 'full'; describe: string; patches: RolloutPatch[] }
  /** Nothing would change; `describe` says why. */
  | { kind: 'nothing-to-promote'; describe: string; patches: [] }
  /** Promote does not un-abort; `describe` points to retry and `--full`. */
  | { kind: 'aborted'; describe: string; patches: [] };

/** A planned abort or retry, or the reason it makes no sense in this state. */
export type ActionPlan = { patches: RolloutPatch[]; describe: string } | { refusal: string };

const UNPAUSE: RolloutPatch = { target: 'main', body: { spec: { paused: false } } };

/**
 * Plans `promote` (reference 1.5) or `promote --full` (1.6) from the observed state: the status patch first, then
 * `{"spec":{"paused":false}}` only when `spec.paused`. Two deliberate departures from the CLI, both to avoid skipping
 * a step the user did not mean to skip (pitfall 3): a manual pause with no pause condition is lifted with the spec
 * patch alone (as Argo CD's `resume` does), and a state where a promote is already under way
 * (`controllerPause` with no pause condition) or a canary whose steps are all done plans no status patch.
 */
export function planPromotion(state: RolloutState, opts: { full: boolean }): PromotionPlan {
  const unpause = state.specPaused ? [UNPAUSE] : [];
  const unpauseNote = state.specPaused ? ', and lifts the manual pause (spec.paused)' : '';
  if (opts.full) return planFull(state, unpause, unpauseNote);
  if (state.aborted) {
    return {
      kind: 'aborted',
      patches: [],
      describe: `the update to revision ${state.revision} is aborted, and promote does not undo an abort: `
        + 'use `/rollout retry` to run the update again from the start, or `--full` to go straight to the new version',
    };
  }

  const canary = state.strategy === 'canary' ? state.canary : undefined;
  const steps = canary?.steps ?? [];
  const index = canary?.stepIndex ?? 0;
  // The CLI increments the index only while it is below the number of steps.
  const nextIndex = index < steps.length ? index + 1 : index;
  const paused = state.pauseReasons.length > 0;
  const stepRun = state.analysis.find((a) => a.kind === 'step');

  if (canary && stepRun?.status === 'Inconclusive' && paused && state.controllerPause) {
    return {
      kind: 'continue-inconclusive-step',
      patches: [status({ pauseConditions: null, controllerPause: false, currentStepIndex: nextIndex }), ...unpause],
      describe: `accepts the inconclusive analysis ${stepRun.name} at ${stepTitle(steps, index)} `
        + `and continues to ${stepTitle(steps, nextIndex)}${unpauseNote}`,
    };
  }
  if (paused) {
    return {
      kind: 'clear-pause',
      patches: [status({ pauseConditions: null }), ...unpause],
      describe: `${describePause(state, steps, index)}${unpauseNote}`,
    };
  }
  if (state.specPaused) {
    const where = canary && index < steps.length ? `; it resumes at ${stepTitle(steps, index)}` : '';
    return { kind: 'clear-pause', patches: [UNPAUSE], describe: `lifts the manual pause (spec.paused)${where}` };
  }
  if (state.controllerPause) {
    return {
      kind: 'nothing-to-promote',
      patches: [],
      describe: 'a promotion is already under way: the pause was cleared and the controller has not picked it up yet',
    };
  }
  if (canary && index < steps.length) {
    return {
      kind: 'skip-running-step',
      patches: [status({ pauseConditions: null, currentStepIndex: nextIndex })],
      describe: `${stepTitle(steps, index)} is still running and is not a pause: promoting would skip it and jump to `
        + `${stepTitle(steps, nextIndex)}. Use \`--full\` to skip all remaining steps`,
    };
  }
  return { kind: 'nothing-to-promote', patches: [], describe: whyNothingToPromote(state) };
}

/**
 * Plans `abort` (reference 1.2): `{"status":{"abort":true}}`. Refused when already aborted, or when fully
 * promoted (there is no update to abort; going back needs a rollback).
 */
export function planAbort(state: RolloutState): ActionPlan {
  if (state.aborted) {
    return { refusal: `the update to revision ${state.revision} is already aborted; use \`/rollout retry\` to run it again` };
  }
  if (state.fullyPromoted) {
    return {
      refusal: `nothing to abort: revision ${state.revision} is fully promoted (${state.stableRS}). To go back, roll back to an earlier revision`,
    };
  }
  const stable = state.stableRS ? ` (${state.stableRS})` : '';
  const newVersion = state.currentPodHash ? ` (${state.currentPodHash})` : '';
  const effect = state.strategy === 'blueGreen'
    ? `the active service stays on or returns to the stable version${stable} and the preview${newVersion} is scaled down`
    : `traffic returns to the stable version${stable} and the canary${newVersion} is scaled down`;
  return {
    patches: [status({ abort: true })],
    describe: `aborts the update to revision ${state.revision}: ${effect}`,
  };
}

/** Plans `retry` (reference 1.3): `{"status":{"abort":false}}`. Refused unless the rollout is aborted. */
export function planRetry(state: RolloutState): ActionPlan {
  if (!state.aborted) {
    return { refusal: `revision ${state.revision} is not aborted; retry only restarts an aborted update` };
  }
  const steps = state.strategy === 'canary' ? state.canary?.steps ?? [] : [];
  const from = steps.length > 0 ? ` from ${stepTitle(steps, 0)}` : '';
  const preview = state.strategy === 'blueGreen' && state.currentPodHash ? `: the preview (${state.currentPodHash}) is brought up again` : '';
  const analysis = state.analysis.length > 0 ? ', with new analysis runs' : '';
  return {
    patches: [status({ abort: false })],
    describe: `retries the update to revision ${state.revision}${from}${preview}${analysis}`,
  };
}

function planFull(state: RolloutState, unpause: RolloutPatch[], unpauseNote: string): PromotionPlan {
  // The CLI compares the raw fields: no status patch when both are equal, including both empty.
  const needsFull = (state.currentPodHash ?? '') !== (state.stableRS ?? '');
  if (!needsFull) {
    if (unpause.length > 0) {
      return { kind: 'clear-pause', patches: unpause, describe: `${alreadyPromoted(state)}; lifts the manual pause (spec.paused)` };
    }
    return { kind: 'nothing-to-promote', patches: [], describe: alreadyPromoted(state) };
  }
  const target = state.currentPodHash ?? 'the new version';
  const clearsAbort = state.aborted ? 'clears the abort, ' : '';
  let what: string;
  if (state.strategy === 'blueGreen') {
    what = `switches the active service to the new version (${target}) now, skipping any pause and analysis`;
  } else if (state.strategy === 'canary') {
    const steps = state.canary?.steps ?? [];
    const index = state.aborted ? 0 : state.canary?.stepIndex ?? 0;
    const skipped = index < steps.length ? `skips the remaining steps from ${stepTitle(steps, index)} and ` : '';
    what = `${skipped}sends 100% of traffic to the new version (${target}), skipping any analysis`;
  } else {
    what = `promotes the new version (${target}) fully`;
  }
  return { kind: 'full', patches: [status({ promoteFull: true }), ...unpause], describe: `${clearsAbort}${what}${unpauseNote}` };
}

function describePause(state: RolloutState, steps: readonly CanaryStep[], index: number): string {
  const reason = state.pauseReasons[0] ?? '';
  const canary = state.strategy === 'canary';
  const at = canary && index < steps.length ? ` at ${stepTitle(steps, index)}` : '';
  switch (reason) {
    case 'CanaryPauseStep':
      return `continues from ${stepTitle(steps, index)} to ${stepTitle(steps, index + 1)}`;
    case 'BlueGreenPause':
      return `switches the active service to the preview (${state.blueGreen?.previewSelector ?? state.currentPodHash ?? 'new version'})`;
    case 'InconclusiveAnalysisRun': {
      const run = state.analysis.find((a) => a.status === 'Inconclusive');
      const name = run ? ` ${run.name}` : '';
      return `accepts the inconclusive analysis${name} and lets the rollout continue${at}`;
    }
    case 'InconclusiveExperiment':
      return `accepts the inconclusive experiment and lets the rollout continue${at}`;
    default:
      return `clears the ${reason} pause${at}`;
  }
}

function whyNothingToPromote(state: RolloutState): string {
  if (state.fullyPromoted) return alreadyPromoted(state);
  if (state.message.startsWith('InvalidSpec: ')) return `nothing to promote: the rollout spec is invalid (${state.message.slice(13)})`;
  if (state.strategy === 'canary') {
    const count = state.canary?.stepCount ?? 0;
    if (count === 0) return 'a canary without steps has no step to promote: the controller moves it to 100% by itself';
    return `all ${count} steps are done; the controller is finishing the promotion of ${state.currentPodHash ?? 'the new version'}`;
  }
  if (state.strategy === 'blueGreen') {
    const bg = state.blueGreen;
    const preview = bg?.previewSelector ?? state.currentPodHash ?? 'the new version';
    if (bg?.activeSelector && bg.activeSelector === state.currentPodHash) {
      return `the active service already points at the new version (${bg.activeSelector}); the controller is finishing (${state.message || state.phase})`;
    }
    if (bg?.autoPromotionEnabled !== false && !bg?.autoPromotionSeconds) {
      return `auto-promotion is on: the controller switches the active service to the preview (${preview}) as soon as it is ready`;
    }
    if (bg?.autoPromotionSeconds) {
      return `not paused yet: the rollout pauses once the preview (${preview}) is ready, then promotes itself after ${bg.autoPromotionSeconds}s`;
    }
    return `not paused yet: the preview (${preview}) is still becoming ready (or its pre-promotion analysis is running)`;
  }
  return 'the rollout has no canary or blue-green strategy to promote';
}

function alreadyPromoted(state: RolloutState): string {
  if (!state.currentPodHash && !state.stableRS) return `nothing to promote: revision ${state.revision} has no new version (${state.message || state.phase})`;
  return `revision ${state.revision} is already fully promoted (${state.stableRS ?? state.currentPodHash})`;
}

function status(fields: Record<string, unknown>): RolloutPatch {
  return { target: 'status', body: { status: fields } };
}
