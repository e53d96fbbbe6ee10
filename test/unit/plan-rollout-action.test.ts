import { describe, expect, it } from 'vitest';
import {
  planAbort, planPromotion, planRetry, type PromotionPlan,
} from '../../src/core/promotion/plan-rollout-action.js';
import type { RolloutPatch } from '../../src/core/ports.js';
import { readRollout } from '../../src/core/rollout/read-rollout.js';
import type { RolloutState } from '../../src/core/rollout/rollout-state.js';
import { loadRolloutFixture, type RolloutFixtureFile } from '../../emulators/world/rollout-fixtures.js';

type Obj = Record<string, any>;

function state(file: RolloutFixtureFile, mutate?: (o: Obj) => void): RolloutState {
  const obj = loadRolloutFixture(file);
  mutate?.(obj);
  return readRollout(obj);
}

const status = (fields: Record<string, unknown>): RolloutPatch => ({ target: 'status', body: { status: fields } });
const UNPAUSE: RolloutPatch = { target: 'main', body: { spec: { paused: false } } };
const CLEAR = status({ pauseConditions: null });
const FULL = status({ promoteFull: true });

type Case = { file: RolloutFixtureFile; kind: PromotionPlan['kind']; patches: RolloutPatch[]; describe: RegExp };

describe('planPromotion on every fixture', () => {
  const plain: Case[] = [
    { file: 'bluegreen-paused-awaiting-promotion.yaml', kind: 'clear-pause', patches: [CLEAR],
      describe: /^switches the active service to the preview \(74b948fccb\)$/ },
    { file: 'canary-aborted-background-analysis-failed.yaml', kind: 'aborted', patches: [],
      describe: /aborted.*`\/rollout retry`.*`--full`/ },
    { file: 'canary-paused-at-pause-step-v1.yaml', kind: 'clear-pause', patches: [CLEAR],
      describe: /^continues from step 2\/8 \(pause\) to step 3\/8 \(setWeight: 40\)$/ },
    { file: 'canary-paused-inconclusive-analysis.yaml', kind: 'clear-pause', patches: [CLEAR],
      describe: /^accepts the inconclusive analysis and lets the rollout continue at step 2\/2 \(experiment\)$/ },
    { file: 'canary-trafficrouted-weights-timedout.yaml', kind: 'skip-running-step',
      patches: [status({ pauseConditions: null, currentStepIndex: 1 })],
      describe: /^step 1\/8 \(setWeight: 20\) is still running.*skip it and jump to step 2\/8 \(pause\).*--full/ },
    { file: 'degraded-invalid-spec.yaml', kind: 'nothing-to-promote', patches: [],
      describe: /^nothing to promote: the rollout spec is invalid \(The Rollout "rollout-invalid" is invalid: / },
    { file: 'healthy-canary-workloadref-v1.yaml', kind: 'nothing-to-promote', patches: [],
      describe: /^revision 1 is already fully promoted \(75bbd56864\)$/ },
  ];
  it.each(plain)('promote $file → $kind', ({ file, kind, patches, describe: text }) => {
    const plan = planPromotion(state(file), { full: false });
    expect({ kind: plan.kind, patches: plan.patches }).toEqual({ kind, patches });
    expect(plan.describe).toMatch(text);
  });

  const full: Case[] = [
    { file: 'bluegreen-paused-awaiting-promotion.yaml', kind: 'full', patches: [FULL],
      describe: /^switches the active service to the new version \(74b948fccb\) now, skipping any pause and analysis$/ },
    { file: 'canary-aborted-background-analysis-failed.yaml', kind: 'full', patches: [FULL],
      describe: /^clears the abort, skips the remaining steps from step 1\/2 \(setWeight: 10\) and sends 100% of traffic to the new version \(db976bc44\)/ },
    { file: 'canary-paused-at-pause-step-v1.yaml', kind: 'full', patches: [FULL],
      describe: /^skips the remaining steps from step 2\/8 \(pause\) and sends 100% of traffic to the new version \(8566c77b97\)/ },
    { file: 'canary-paused-inconclusive-analysis.yaml', kind: 'full', patches: [FULL], describe: /step 2\/2 \(experiment\)/ },
    { file: 'canary-trafficrouted-weights-timedout.yaml', kind: 'full', patches: [FULL], describe: /step 1\/8 \(setWeight: 20\)/ },
    { file: 'degraded-invalid-spec.yaml', kind: 'nothing-to-promote', patches: [], describe: /no new version/ },
    { file: 'healthy-canary-workloadref-v1.yaml', kind: 'nothing-to-promote', patches: [], describe: /already fully promoted/ },
  ];
  it.each(full)('promote --full $file → $kind', ({ file, kind, patches, describe: text }) => {
    const plan = planPromotion(state(file), { full: true });
    expect({ kind: plan.kind, patches: plan.patches }).toEqual({ kind, patches });
    expect(plan.describe).toMatch(text);
  });
});

describe('planPromotion with a manual pause (spec.paused)', () => {
  const manuallyPaused = (mutate?: (o: Obj) => void) => state('canary-paused-at-pause-step-v1.yaml', (o) => {
    o.spec.paused = true;
    mutate?.(o);
  });

  it('sends the status patch first, then the spec unpause', () => {
    const plan = planPromotion(manuallyPaused(), { full: false });
    expect(plan.kind).toBe('clear-pause');
    expect(plan.patches).toEqual([CLEAR, UNPAUSE]);
    expect(plan.describe).toMatch(/and lifts the manual pause \(spec\.paused\)$/);
  });

  it('lifts a manual pause at a running step with the spec patch alone, skipping nothing', () => {
    const plan = planPromotion(manuallyPaused((o) => {
      o.status.currentStepIndex = 2;
      delete o.status.pauseConditions;
      delete o.status.controllerPause;
    }), { full: false });
    expect(plan).toEqual({
      kind: 'clear-pause', patches: [UNPAUSE], describe: 'lifts the manual pause (spec.paused); it resumes at step 3/8 (setWeight: 40)',
    });
  });

  it('sends promoteFull first, then the spec unpause, with --full', () => {
    expect(planPromotion(manuallyPaused(), { full: true }).patches).toEqual([FULL, UNPAUSE]);
  });

  it('only unpauses a fully promoted rollout with --full', () => {
    const plan = planPromotion(state('healthy-canary-workloadref-v1.yaml', (o) => { o.spec.paused = true; }), { full: true });
    expect({ kind: plan.kind, patches: plan.patches }).toEqual({ kind: 'clear-pause', patches: [UNPAUSE] });
  });

  it('lifts a manual pause on a blue-green that has no pause condition', () => {
    const plan = planPromotion(state('bluegreen-paused-awaiting-promotion.yaml', (o) => {
      o.spec.paused = true;
      delete o.status.pauseConditions;
      delete o.status.controllerPause;
    }), { full: false });
    expect({ kind: plan.kind, patches: plan.patches }).toEqual({ kind: 'clear-pause', patches: [UNPAUSE] });
  });
});

describe('planPromotion on an inconclusive step analysis (rule a)', () => {
  /** The v1 canary with step 3 turned into an analysis step that came back Inconclusive. */
  const inconclusiveStep = (mutate?: (o: Obj) => void) => state('canary-paused-at-pause-step-v1.yaml', (o) => {
    o.spec.strategy.canary.steps[2] = { analysis: { templates: [{ templateName: 'success-rate' }] } };
    o.status.currentStepIndex = 2;
    o.status.pauseConditions = [{ reason: 'InconclusiveAnalysisRun', startTime: '2021-07-15T21:08:55Z' }];
    o.status.canary = { currentStepAnalysisRunStatus: { name: 'rollouts-demo-8566c77b97-2-2', status: 'Inconclusive' } };
    o.status.phase = 'Paused';
    o.status.message = 'InconclusiveAnalysisRun';
    mutate?.(o);
  });

  it('clears the pause and controllerPause and moves to the next step in one patch', () => {
    expect(planPromotion(inconclusiveStep(), { full: false })).toEqual({
      kind: 'continue-inconclusive-step',
      patches: [status({ pauseConditions: null, controllerPause: false, currentStepIndex: 3 })],
      describe: 'accepts the inconclusive analysis rollouts-demo-8566c77b97-2-2 at step 3/8 (analysis) and continues to step 4/8 (pause: 10)',
    });
  });

  it('adds the spec unpause after it when manually paused too', () => {
    expect(planPromotion(inconclusiveStep((o) => { o.spec.paused = true; }), { full: false }).patches).toEqual([
      status({ pauseConditions: null, controllerPause: false, currentStepIndex: 3 }), UNPAUSE,
    ]);
  });

  it('caps the next index at the number of steps', () => {
    const plan = planPromotion(inconclusiveStep((o) => { o.status.currentStepIndex = 8; }), { full: false });
    expect(plan.patches).toEqual([status({ pauseConditions: null, controllerPause: false, currentStepIndex: 8 })]);
  });

  it('falls back to clearing the pause when controllerPause is not set (rule b)', () => {
    const plan = planPromotion(inconclusiveStep((o) => { delete o.status.controllerPause; }), { full: false });
    expect({ kind: plan.kind, patches: plan.patches }).toEqual({ kind: 'clear-pause', patches: [CLEAR] });
    expect(plan.describe).toBe('accepts the inconclusive analysis rollouts-demo-8566c77b97-2-2 and lets the rollout continue at step 3/8 (analysis)');
  });
});

describe('planPromotion on a canary that is not paused', () => {
  const v1At = (index: number, mutate?: (o: Obj) => void) => state('canary-paused-at-pause-step-v1.yaml', (o) => {
    o.status.currentStepIndex = index;
    delete o.status.pauseConditions;
    delete o.status.controllerPause;
    o.status.phase = 'Progressing';
    o.status.message = 'more replicas need to be updated';
    mutate?.(o);
  });

  it('classifies promoting a running setWeight step as skipping it', () => {
    expect(planPromotion(v1At(2), { full: false })).toEqual({
      kind: 'skip-running-step',
      patches: [status({ pauseConditions: null, currentStepIndex: 3 })],
      describe: 'step 3/8 (setWeight: 40) is still running and is not a pause: promoting would skip it and jump to '
        + 'step 4/8 (pause: 10). Use `--full` to skip all remaining steps',
    });
  });

  it('plans nothing while a promotion is already under way (controllerPause without a pause condition)', () => {
    const plan = planPromotion(v1At(1, (o) => { o.status.controllerPause = true; }), { full: false });
    expect(plan.kind).toBe('nothing-to-promote');
    expect(plan.describe).toMatch(/already under way/);
  });

  it('plans nothing for a canary whose steps are all done but not yet stable', () => {
    const plan = planPromotion(v1At(8), { full: false });
    expect({ kind: plan.kind, patches: plan.patches }).toEqual({ kind: 'nothing-to-promote', patches: [] });
    expect(plan.describe).toBe('all 8 steps are done; the controller is finishing the promotion of 8566c77b97');
  });

  it('explains that a canary without steps needs no promote', () => {
    const plan = planPromotion(v1At(0, (o) => { o.spec.strategy.canary.steps = []; }), { full: false });
    expect(plan).toEqual({
      kind: 'nothing-to-promote', patches: [],
      describe: 'a canary without steps has no step to promote: the controller moves it to 100% by itself',
    });
  });

  it('plans nothing for a finished canary', () => {
    const plan = planPromotion(v1At(8, (o) => { o.status.stableRS = '8566c77b97'; }), { full: false });
    expect(plan).toEqual({ kind: 'nothing-to-promote', patches: [], describe: 'revision 2 is already fully promoted (8566c77b97)' });
  });

  it('plans nothing for a finished canary with --full', () => {
    const plan = planPromotion(v1At(8, (o) => { o.status.stableRS = '8566c77b97'; }), { full: true });
    expect({ kind: plan.kind, patches: plan.patches }).toEqual({ kind: 'nothing-to-promote', patches: [] });
  });
});

describe('planPromotion on a blue-green without a pause', () => {
  const bg = (mutate: (o: Obj) => void) => state('bluegreen-paused-awaiting-promotion.yaml', (o) => {
    delete o.status.pauseConditions;
    delete o.status.controllerPause;
    mutate(o);
  });

  it('explains that auto-promotion needs no promote', () => {
    const plan = planPromotion(bg((o) => { delete o.spec.strategy.blueGreen.autoPromotionEnabled; }), { full: false });
    expect(plan).toEqual({
      kind: 'nothing-to-promote', patches: [],
      describe: 'auto-promotion is on: the controller switches the active service to the preview (74b948fccb) as soon as it is ready',
    });
  });

  it('explains a timed auto-promotion', () => {
    const plan = planPromotion(bg((o) => {
      delete o.spec.strategy.blueGreen.autoPromotionEnabled;
      o.spec.strategy.blueGreen.autoPromotionSeconds = 30;
    }), { full: false });
    expect(plan.kind).toBe('nothing-to-promote');
    expect(plan.describe).toMatch(/promotes itself after 30s/);
  });

  it('explains that a manual-promotion preview is not ready yet', () => {
    const plan = planPromotion(bg(() => {}), { full: false });
    expect(plan.kind).toBe('nothing-to-promote');
    expect(plan.describe).toMatch(/^not paused yet: the preview \(74b948fccb\) is still becoming ready/);
  });

  it('explains that the cutover already happened', () => {
    const plan = planPromotion(bg((o) => { o.status.blueGreen.activeSelector = '74b948fccb'; }), { full: false });
    expect(plan.kind).toBe('nothing-to-promote');
    expect(plan.describe).toMatch(/already points at the new version \(74b948fccb\)/);
  });

  it('still promotes fully with --full', () => {
    expect(planPromotion(bg(() => {}), { full: true }).patches).toEqual([FULL]);
  });
});

describe('planAbort', () => {
  it('aborts a paused canary with one status patch', () => {
    expect(planAbort(state('canary-paused-at-pause-step-v1.yaml'))).toEqual({
      patches: [status({ abort: true })],
      describe: 'aborts the update to revision 2: traffic returns to the stable version (77f4f8ff97) and the canary (8566c77b97) is scaled down',
    });
  });

  it('describes a blue-green abort in terms of the active service', () => {
    expect(planAbort(state('bluegreen-paused-awaiting-promotion.yaml'))).toEqual({
      patches: [status({ abort: true })],
      describe: 'aborts the update to revision 11: the active service stays on or returns to the stable version (6cbccd9f99) '
        + 'and the preview (74b948fccb) is scaled down',
    });
  });

  it('refuses to abort an aborted rollout and points to retry', () => {
    const plan = planAbort(state('canary-aborted-background-analysis-failed.yaml'));
    expect(plan).toEqual({ refusal: expect.stringMatching(/already aborted.*`\/rollout retry`/) });
  });

  it('refuses to abort a fully promoted rollout', () => {
    expect(planAbort(state('healthy-canary-workloadref-v1.yaml'))).toEqual({ refusal: expect.stringMatching(/nothing to abort/) });
  });
});

describe('planRetry', () => {
  it('retries an aborted canary with one status patch', () => {
    expect(planRetry(state('canary-aborted-background-analysis-failed.yaml'))).toEqual({
      patches: [status({ abort: false })],
      describe: 'retries the update to revision 2 from step 1/2 (setWeight: 10), with new analysis runs',
    });
  });

  it('retries an aborted blue-green, bringing the preview back', () => {
    const plan = planRetry(state('bluegreen-paused-awaiting-promotion.yaml', (o) => { o.status.abort = true; }));
    expect(plan).toEqual({
      patches: [status({ abort: false })], describe: 'retries the update to revision 11: the preview (74b948fccb) is brought up again',
    });
  });

  it('refuses to retry a rollout that is not aborted', () => {
    expect(planRetry(state('canary-paused-at-pause-step-v1.yaml'))).toEqual({ refusal: expect.stringMatching(/not aborted/) });
  });
});
