import { describe, expect, it } from 'vitest';
import { detectRevisionEnd } from '../../src/core/rollout-threads/detect-revision-end.js';
import { detectRolloutEvents } from '../../src/core/rollout-threads/detect-rollout-events.js';
import { renderEvent } from '../../src/core/rollout-threads/render-event.js';
import { asStable } from '../../src/core/rollout/as-stable.js';
import { canaryState } from '../support/state-builders.js';
import type { RolloutEvent } from '../../src/core/rollout-threads/rollout-event.js';
import { readRollout } from '../../src/core/rollout/read-rollout.js';
import type { RolloutState } from '../../src/core/rollout/rollout-state.js';
import { loadRolloutFixture, type RolloutFixtureFile } from '../../emulators/world/rollout-fixtures.js';

type Obj = Record<string, any>;

function fixtureState(file: RolloutFixtureFile, mutate?: (o: Obj) => void): RolloutState {
  const obj = loadRolloutFixture(file);
  mutate?.(obj);
  return readRollout(obj);
}

/** The 8-step v1 canary (setWeight 21, pause, 40, pause 10, 60, pause 10, 80, pause 10) moved to a chosen state. */
function canaryAt(index: number, opts: { pause?: string; unpausing?: boolean; promoted?: boolean; mutate?: (o: Obj) => void } = {}) {
  return fixtureState('canary-paused-at-pause-step-v1.yaml', (o) => {
    o.status.currentStepIndex = index;
    if (opts.pause) {
      o.status.pauseConditions = [{ reason: opts.pause, startTime: '2021-07-15T21:08:55Z' }];
      o.status.controllerPause = true;
      o.status.phase = 'Paused';
      o.status.message = opts.pause;
    } else {
      delete o.status.pauseConditions;
      if (opts.unpausing) o.status.controllerPause = true;
      else delete o.status.controllerPause;
      o.status.phase = 'Progressing';
      o.status.message = 'waiting for all steps to complete';
    }
    if (opts.promoted) {
      o.status.stableRS = o.status.currentPodHash;
      o.status.phase = 'Healthy';
      o.status.message = '';
    }
    opts.mutate?.(o);
  });
}

/** Runs each consecutive pair of states through the detector and returns all events in order. */
function walk(states: RolloutState[]): RolloutEvent[] {
  const events: RolloutEvent[] = [];
  let prev: RolloutState | undefined;
  for (const next of states) {
    events.push(...detectRolloutEvents(prev, next));
    prev = next;
  }
  return events;
}

const keys = (events: RolloutEvent[]) => events.map((e) => e.key);

const ABORT_MESSAGE = 'Rollout aborted update to revision 2: Background analysis phase failed: '
  + 'metric "web" assessed Failed due to failed (1) > failureLimit (0)';

function abortedCanary(mutate?: (o: Obj) => void) {
  return canaryAt(0, {
    mutate: (o) => {
      o.status.abort = true;
      o.status.abortedAt = '2021-07-15T21:10:00Z';
      o.status.canary = {
        currentBackgroundAnalysisRunStatus: {
          name: 'rollouts-demo-8566c77b97-2', status: 'Failed', message: 'metric "web" assessed Failed due to failed (1) > failureLimit (0)',
        },
      };
      o.status.conditions = [{ type: 'Progressing', status: 'False', reason: 'RolloutAborted', message: ABORT_MESSAGE }];
      o.status.phase = 'Degraded';
      o.status.message = `RolloutAborted: ${ABORT_MESSAGE}`;
      mutate?.(o);
    },
  });
}

describe('detectRolloutEvents: an 8-step canary', () => {
  const states = [
    canaryAt(0),
    canaryAt(1, { pause: 'CanaryPauseStep' }),
    canaryAt(1, { unpausing: true }), // the user promoted
    canaryAt(2),
    canaryAt(3, { pause: 'CanaryPauseStep' }), // timed pause
    canaryAt(4), // the timer expired
    canaryAt(5, { pause: 'CanaryPauseStep' }),
    canaryAt(6),
    canaryAt(7, { pause: 'CanaryPauseStep' }),
    canaryAt(8),
    canaryAt(8, { promoted: true }),
  ];

  it('announces every step, pause, resume and the completion in order', () => {
    expect(keys(walk(states))).toEqual([
      'deploy-started',
      'step-completed:1', 'paused:CanaryPauseStep:1',
      'resumed:CanaryPauseStep:1',
      'step-completed:2',
      'step-completed:3', 'paused:CanaryPauseStep:3',
      'step-completed:4', 'resumed:CanaryPauseStep:3',
      'step-completed:5', 'paused:CanaryPauseStep:5',
      'step-completed:6', 'resumed:CanaryPauseStep:5',
      'step-completed:7', 'paused:CanaryPauseStep:7',
      'step-completed:8', 'resumed:CanaryPauseStep:7',
      'completed',
    ]);
  });

  it('starts the deploy with the revision and the image tag', () => {
    expect(detectRolloutEvents(undefined, states[0]!)).toEqual([
      { type: 'deploy-started', key: 'deploy-started', revision: '2', tag: 'yellow' },
    ]);
  });

  it('numbers completed steps from 1 with the step text and the weight after the step', () => {
    const steps = walk(states).filter((e) => e.type === 'step-completed');
    expect(steps.map((e) => [e.step, e.of, e.text, e.weight])).toEqual([
      [1, 8, 'setWeight: 21', 21], [2, 8, 'pause', 21], [3, 8, 'setWeight: 40', 40], [4, 8, 'pause: 10', 40],
      [5, 8, 'setWeight: 60', 60], [6, 8, 'pause: 10', 60], [7, 8, 'setWeight: 80', 80], [8, 8, 'pause: 10', 80],
    ]);
  });

  it('describes a pause with its 1-based step and the weight in effect', () => {
    expect(detectRolloutEvents(states[2], states[4]!)).toContainEqual(
      { type: 'paused', key: 'paused:CanaryPauseStep:3', reason: 'CanaryPauseStep', step: 4, of: 8, weight: 40 },
    );
  });

  it('announces each step when a watch skipped intermediate states', () => {
    expect(keys(detectRolloutEvents(canaryAt(2), canaryAt(4)))).toEqual(['step-completed:3', 'step-completed:4']);
  });

  it('announces no skipped steps on a full promotion, only the completion', () => {
    const pausedAt1 = canaryAt(1, { pause: 'CanaryPauseStep' });
    const jumped = canaryAt(8);
    const promoted = canaryAt(8, { promoted: true });
    expect(keys(walk([pausedAt1, jumped, promoted]))).toEqual(['deploy-started', 'paused:CanaryPauseStep:1', 'resumed:CanaryPauseStep:1', 'completed']);
  });

  it('announces no skipped steps on a fast-track to full promotion', () => {
    expect(keys(detectRolloutEvents(canaryAt(2), canaryAt(8, { promoted: true })))).toEqual(['completed']);
  });

  it('announces the last step when the completion arrives in the same diff', () => {
    expect(keys(detectRolloutEvents(canaryAt(7, { pause: 'CanaryPauseStep' }), canaryAt(8, { promoted: true }))))
      .toEqual(['step-completed:8', 'resumed:CanaryPauseStep:7', 'completed']);
  });

  it('announces a second pause seen right after another one as a new pause', () => {
    expect(keys(detectRolloutEvents(canaryAt(3, { pause: 'CanaryPauseStep' }), canaryAt(5, { pause: 'CanaryPauseStep' }))))
      .toEqual(['step-completed:4', 'step-completed:5', 'resumed:CanaryPauseStep:3', 'paused:CanaryPauseStep:5']);
  });

  it('announces nothing when nothing changed', () => {
    expect(detectRolloutEvents(states[1], states[1]!)).toEqual([]);
  });
});

describe('detectRolloutEvents: blue-green', () => {
  const paused = fixtureState('bluegreen-paused-awaiting-promotion.yaml');
  const unpausing = fixtureState('bluegreen-paused-awaiting-promotion.yaml', (o) => { delete o.status.pauseConditions; });
  const switched = fixtureState('bluegreen-paused-awaiting-promotion.yaml', (o) => {
    delete o.status.pauseConditions;
    delete o.status.controllerPause;
    o.status.blueGreen.activeSelector = '74b948fccb';
  });
  const completed = fixtureState('bluegreen-paused-awaiting-promotion.yaml', (o) => {
    delete o.status.pauseConditions;
    delete o.status.controllerPause;
    o.status.blueGreen.activeSelector = '74b948fccb';
    o.status.stableRS = '74b948fccb';
    o.status.replicas = 3;
    o.status.readyReplicas = 3;
  });

  it('announces the preview pause, its resume and the completion', () => {
    expect(walk([paused, unpausing, switched, completed])).toEqual([
      { type: 'deploy-started', key: 'deploy-started', revision: '11', tag: 'green' },
      { type: 'paused', key: 'paused:BlueGreenPause', reason: 'BlueGreenPause' },
      { type: 'resumed', key: 'resumed:BlueGreenPause' },
      { type: 'completed', key: 'completed', revision: '11' },
    ]);
  });

  it('reads the completed state as Healthy', () => {
    expect(completed.phase).toBe('Healthy');
  });
});

describe('detectRolloutEvents: abort and retry', () => {
  const pausedAt1 = canaryAt(1, { pause: 'CanaryPauseStep' });
  const aborted = abortedCanary();

  it('announces the failed analysis and the abort with its reason, and no resume', () => {
    expect(detectRolloutEvents(pausedAt1, aborted)).toEqual([
      {
        type: 'analysis', key: 'analysis:background:rollouts-demo-8566c77b97-2:Failed', kind: 'background',
        name: 'rollouts-demo-8566c77b97-2', status: 'Failed', message: 'metric "web" assessed Failed due to failed (1) > failureLimit (0)',
      },
      { type: 'aborted', key: 'aborted', reason: ABORT_MESSAGE },
    ]);
  });

  it('does not treat the index reset to 0 as a step event', () => {
    expect(detectRolloutEvents(canaryAt(3), aborted).some((e) => e.type === 'step-completed')).toBe(false);
  });

  it('announces a user abort before the controller wrote its condition, with the message it will write', () => {
    const requested = canaryAt(1, { pause: 'CanaryPauseStep', mutate: (o) => { o.status.abort = true; } });
    expect(detectRolloutEvents(pausedAt1, requested)).toEqual([
      { type: 'aborted', key: 'aborted', reason: 'Rollout aborted update to revision 2' },
    ]);
  });

  it('announces a retry, then the new analysis run', () => {
    const retried = canaryAt(0, {
      mutate: (o) => {
        o.status.canary = { currentBackgroundAnalysisRunStatus: { name: 'rollouts-demo-8566c77b97-2.1', status: 'Running' } };
        o.status.conditions = [{ type: 'Progressing', status: 'Unknown', reason: 'RolloutRetry', message: 'Retrying Rollout after abort' }];
      },
    });
    expect(keys(detectRolloutEvents(aborted, retried))).toEqual(['retried', 'analysis:background:rollouts-demo-8566c77b97-2.1:Running']);
  });

  it('announces only the retry while the stored phase still says RolloutAborted', () => {
    const patched = abortedCanary((o) => { o.status.abort = false; });
    expect(keys(detectRolloutEvents(aborted, patched))).toEqual(['retried']);
  });

  it('announces the steps again after a retry with the same keys (the caller scopes keys by attempt)', () => {
    const retried = canaryAt(0);
    expect(keys(walk([pausedAt1, aborted, retried, canaryAt(1, { pause: 'CanaryPauseStep' })])))
      .toEqual(['deploy-started', 'paused:CanaryPauseStep:1', 'analysis:background:rollouts-demo-8566c77b97-2:Failed', 'aborted',
        'retried', 'step-completed:1', 'paused:CanaryPauseStep:1']);
  });
});

describe('detectRolloutEvents: analysis', () => {
  const withStepRun = (status: string | undefined) => canaryAt(2, {
    mutate: (o) => {
      o.status.canary = status === undefined ? {} : { currentStepAnalysisRunStatus: { name: 'rollouts-demo-8566c77b97-2-2', status } };
    },
  });

  it('announces each phase change of a step analysis run', () => {
    expect(keys(walk([withStepRun(undefined), withStepRun('Pending'), withStepRun('Running'), withStepRun('Running'), withStepRun('Successful')])))
      .toEqual([
        'deploy-started',
        'analysis:step:rollouts-demo-8566c77b97-2-2:Pending',
        'analysis:step:rollouts-demo-8566c77b97-2-2:Running',
        'analysis:step:rollouts-demo-8566c77b97-2-2:Successful',
      ]);
  });

  it('announces nothing when a finished run is cleared on step completion', () => {
    expect(detectRolloutEvents(withStepRun('Successful'), withStepRun(undefined))).toEqual([]);
  });

  it('announces an inconclusive run before the pause it causes', () => {
    const running = withStepRun('Running');
    const inconclusive = canaryAt(2, {
      pause: 'InconclusiveAnalysisRun',
      mutate: (o) => { o.status.canary = { currentStepAnalysisRunStatus: { name: 'rollouts-demo-8566c77b97-2-2', status: 'Inconclusive', message: 'inconclusive (1) > 0' } }; },
    });
    expect(detectRolloutEvents(running, inconclusive)).toEqual([
      {
        type: 'analysis', key: 'analysis:step:rollouts-demo-8566c77b97-2-2:Inconclusive', kind: 'step',
        name: 'rollouts-demo-8566c77b97-2-2', status: 'Inconclusive', message: 'inconclusive (1) > 0',
      },
      { type: 'paused', key: 'paused:InconclusiveAnalysisRun:2', reason: 'InconclusiveAnalysisRun', step: 3, of: 8, weight: 40 },
    ]);
  });

  it('announces a replacement run with a new name', () => {
    const a = canaryAt(2, { mutate: (o) => { o.status.canary = { currentBackgroundAnalysisRunStatus: { name: 'bg-1', status: 'Running' } }; } });
    const b = canaryAt(2, { mutate: (o) => { o.status.canary = { currentBackgroundAnalysisRunStatus: { name: 'bg-2', status: 'Running' } }; } });
    expect(keys(detectRolloutEvents(a, b))).toEqual(['analysis:background:bg-2:Running']);
  });
});

describe('detectRolloutEvents: first sight', () => {
  it('describes a paused rollout as deploy-started plus its pause', () => {
    expect(detectRolloutEvents(undefined, fixtureState('canary-paused-at-pause-step-v1.yaml'))).toEqual([
      { type: 'deploy-started', key: 'deploy-started', revision: '2', tag: 'yellow' },
      { type: 'paused', key: 'paused:CanaryPauseStep:1', reason: 'CanaryPauseStep', step: 2, of: 8, weight: 21 },
    ]);
  });

  it('describes an aborted rollout with its failed analysis and the abort reason', () => {
    expect(detectRolloutEvents(undefined, fixtureState('canary-aborted-background-analysis-failed.yaml'))).toEqual([
      { type: 'deploy-started', key: 'deploy-started', revision: '2', tag: 'yellow' },
      {
        type: 'analysis', key: 'analysis:background:rollout-background-analysis-db976bc44-2:Failed', kind: 'background',
        name: 'rollout-background-analysis-db976bc44-2', status: 'Failed',
        message: 'metric "web" assessed Failed due to failed (1) > failureLimit (0)',
      },
      { type: 'aborted', key: 'aborted', reason: 'metric "web" assessed Failed due to failed (1) > failureLimit (0)' },
    ]);
  });

  it('describes a timed-out inconclusive pause as paused and degraded', () => {
    expect(keys(detectRolloutEvents(undefined, fixtureState('canary-paused-inconclusive-analysis.yaml')))).toEqual([
      'deploy-started',
      'paused:InconclusiveAnalysisRun:1',
      'degraded:ProgressDeadlineExceeded: ReplicaSet "rollout-experiment-analysis-6f646bf7b7" has timed out progressing.',
    ]);
  });

  it('describes a fully promoted rollout as started and completed, without a tag for a workloadRef', () => {
    expect(detectRolloutEvents(undefined, fixtureState('healthy-canary-workloadref-v1.yaml'))).toEqual([
      { type: 'deploy-started', key: 'deploy-started', revision: '1' },
      { type: 'completed', key: 'completed', revision: '1' },
    ]);
  });

  it('describes a manually paused rollout with reason manual', () => {
    const state = canaryAt(2, { mutate: (o) => { o.spec.paused = true; } });
    expect(detectRolloutEvents(undefined, state)).toContainEqual(
      { type: 'paused', key: 'paused:manual:2', reason: 'manual', step: 3, of: 8, weight: 40 },
    );
  });

  it('starts over on a new revision, without step events', () => {
    const next = canaryAt(3, { mutate: (o) => { o.metadata.annotations['rollout.argoproj.io/revision'] = '3'; } });
    expect(keys(detectRolloutEvents(canaryAt(1), next))).toEqual(['deploy-started']);
  });

  it('starts over when the rollout was deleted and re-created under the same name', () => {
    const next = canaryAt(1, { mutate: (o) => { o.metadata.uid = 'another-uid'; } });
    expect(keys(detectRolloutEvents(canaryAt(1), next))).toEqual(['deploy-started']);
  });
});

describe('detectRolloutEvents: manual pause and degradation', () => {
  it('announces a manual pause and its lifting', () => {
    const running = canaryAt(2);
    const manual = canaryAt(2, { mutate: (o) => { o.spec.paused = true; o.status.phase = 'Paused'; o.status.message = 'manually paused'; } });
    expect(keys(walk([running, manual, running]))).toEqual(['deploy-started', 'paused:manual:2', 'resumed:manual:2']);
  });

  const TIMEOUT = 'ProgressDeadlineExceeded: ReplicaSet "rollouts-demo-8566c77b97" has timed out progressing.';
  const timedOut = canaryAt(2, { mutate: (o) => { o.status.phase = 'Degraded'; o.status.message = TIMEOUT; } });

  it('announces a degradation and the recovery from it', () => {
    expect(walk([canaryAt(2), timedOut, canaryAt(2)]).slice(1)).toEqual([
      { type: 'degraded', key: `degraded:${TIMEOUT}`, message: TIMEOUT },
      { type: 'recovered', key: `recovered:${TIMEOUT}` },
    ]);
  });

  it('does not call an unobserved spec change a recovery', () => {
    const stale = canaryAt(2, { mutate: (o) => { o.status.phase = 'Degraded'; o.status.message = TIMEOUT; o.metadata.generation = 6; } });
    expect(stale.message).toBe('waiting for rollout spec update to be observed');
    expect(detectRolloutEvents(timedOut, stale)).toEqual([]);
  });

  it('does not announce an abort as a degradation', () => {
    expect(detectRolloutEvents(canaryAt(1), abortedCanary()).some((e) => e.type === 'degraded')).toBe(false);
  });
});

describe('detectRolloutEvents: stable keys', () => {
  const pairs: Array<[string, RolloutState | undefined, RolloutState]> = [
    ['first sight', undefined, fixtureState('canary-aborted-background-analysis-failed.yaml')],
    ['steps and pause', canaryAt(0), canaryAt(3, { pause: 'CanaryPauseStep' })],
    ['abort', canaryAt(1, { pause: 'CanaryPauseStep' }), abortedCanary()],
    ['completion', canaryAt(7, { pause: 'CanaryPauseStep' }), canaryAt(8, { promoted: true })],
  ];
  it.each(pairs)('yields the same events when the %s diff is re-run', (_label, prev, next) => {
    const first = detectRolloutEvents(prev, next);
    const again = detectRolloutEvents(prev && structuredClone(prev), structuredClone(next));
    expect(first.length).toBeGreaterThan(0);
    expect(again).toEqual(first);
  });

  it('yields distinct keys within one diff', () => {
    const events = walk([canaryAt(0), canaryAt(3, { pause: 'CanaryPauseStep' }), canaryAt(8, { promoted: true })]);
    expect(new Set(keys(events)).size).toBe(events.length);
  });
});

describe('detectRevisionEnd (a newer revision replaced an open thread\'s)', () => {
  const rev3 = canaryState({ revision: '3', currentPodHash: 'hash3', stableRS: 'hash2' });
  const rev4 = (stableRS: string) => canaryState({ revision: '4', currentPodHash: 'hash4', stableRS, phase: 'Progressing', message: 'more replicas need to be updated', pauseReasons: [], controllerPause: false });

  it.each([
    { name: 'stableRS is its pod hash, bot was offline → completed while offline', stable: 'hash3', watched: false, ended: 'completed', offline: true },
    { name: 'stableRS is its pod hash, watched (states coalesced) → completed', stable: 'hash3', watched: true, ended: 'completed', offline: false },
    { name: 'never became stable, watched → superseded before it finished', stable: 'hash2', watched: true, ended: 'superseded', offline: false },
    { name: 'never became stable, bot was offline → ended unseen', stable: 'hash2', watched: false, ended: 'unknown', offline: true },
  ] as const)('$name', ({ stable, watched, ended, offline }) => {
    expect(detectRevisionEnd({ revision: rev3.revision, podHash: rev3.currentPodHash, next: rev4(stable), watched })).toEqual({
      type: 'replaced', key: 'replaced:r4', revision: '3', by: '4', ended, offline,
    });
  });

  it('claims no completion when the old pod hash is unknown', () => {
    expect(detectRevisionEnd({ revision: '3', podHash: undefined, next: rev4('hash3'), watched: false }).ended).toBe('unknown');
  });

  it.each([
    { ended: 'completed', offline: true, text: '🎉 Revision 3 completed while I was offline; revision 4 has started since.' },
    { ended: 'completed', offline: false, text: '🎉 Revision 3 completed; revision 4 has started since.' },
    { ended: 'superseded', offline: false, text: '⏭️ Superseded by revision 4 before it finished.' },
    { ended: 'unknown', offline: true, text: '⏹️ Revision 3 ended while I was offline; revision 4 replaced it.' },
  ] as const)('says "$text"', ({ ended, offline, text }) => {
    expect(renderEvent({ type: 'replaced', key: 'replaced:r4', revision: '3', by: '4', ended, offline }, rev4('hash2'), undefined)?.text).toBe(text);
  });

  it('turns the last state seen of a revision proved stable into a completed one', () => {
    const stable = asStable(rev3);
    expect(stable).toMatchObject({ phase: 'Healthy', message: '', fullyPromoted: true, stableRS: 'hash3', pauseReasons: [], controllerPause: false, aborted: false });
    expect(stable.canary).toMatchObject({ stepIndex: 4, stepCount: 4, setWeight: 100 });
    expect(stable.pausedSince).toBeUndefined();
  });
});
