import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { currentSetWeight, pauseDurationSeconds, toCanaryStep } from '../../src/core/rollout/canary-steps.js';
import { imageTag, readRollout } from '../../src/core/rollout/read-rollout.js';
import { RolloutObject } from '../../src/core/rollout/rollout-object.js';
import { calculateRolloutPhase, getRolloutPhase } from '../../src/core/rollout/rollout-phase.js';
import type { RolloutState } from '../../src/core/rollout/rollout-state.js';
import {
  ROLLOUT_FIXTURE_FILES, loadRolloutFixture, rolloutFixtureText, type RolloutFixtureFile,
} from '../../emulators/world/rollout-fixtures.js';

const SHARED_FIXTURES = new URL('../../../shared/fixtures/argo-rollouts/', import.meta.url);

type Expected = {
  file: RolloutFixtureFile;
  phase: RolloutState['phase'];
  message: string;
  /** The fields of RolloutState that must match (toMatchObject). */
  state: Record<string, unknown>;
};

const EXPECTED: Expected[] = [
  {
    file: 'bluegreen-paused-awaiting-promotion.yaml',
    phase: 'Paused',
    message: 'BlueGreenPause',
    state: {
      namespace: 'jesse-test', name: 'bluegreen-demo', revision: '11', generation: 410, strategy: 'blueGreen',
      currentPodHash: '74b948fccb', stableRS: '6cbccd9f99', fullyPromoted: false,
      images: [{ container: 'bluegreen-demo', image: 'argoproj/rollouts-demo:green', tag: 'green' }],
      specPaused: false, pauseReasons: ['BlueGreenPause'], pausedSince: '2019-10-28T04:50:20Z', controllerPause: true,
      aborted: false, analysis: [],
      blueGreen: { activeSelector: '6cbccd9f99', previewSelector: '74b948fccb', autoPromotionEnabled: false },
      replicas: { desired: 3, updated: 3, ready: 6, available: 3 },
    },
  },
  {
    file: 'canary-aborted-background-analysis-failed.yaml',
    phase: 'Degraded',
    message: 'RolloutAborted: metric "web" assessed Failed due to failed (1) > failureLimit (0)',
    state: {
      strategy: 'canary', revision: '2', aborted: true, abortedAt: '2020-09-22T09:10:05Z',
      abortReason: 'metric "web" assessed Failed due to failed (1) > failureLimit (0)',
      pauseReasons: [], fullyPromoted: false,
      canary: { stepIndex: 0, stepCount: 2, setWeight: 0, trafficRouted: false },
      analysis: [{
        kind: 'background', name: 'rollout-background-analysis-db976bc44-2', status: 'Failed',
        message: 'metric "web" assessed Failed due to failed (1) > failureLimit (0)',
      }],
      replicas: { desired: 1, updated: 0, ready: 1, available: 1 },
    },
  },
  {
    file: 'canary-paused-at-pause-step-v1.yaml',
    phase: 'Paused',
    message: 'CanaryPauseStep',
    state: {
      namespace: 'rollouts-demo', name: 'rollouts-demo', uid: 'bf946046-d90e-49b9-863c-76f82bed3b31', revision: '2',
      strategy: 'canary', currentPodHash: '8566c77b97', stableRS: '77f4f8ff97', fullyPromoted: false,
      images: [{ container: 'rollouts-demo', image: 'argoproj/rollouts-demo:yellow', tag: 'yellow' }],
      pauseReasons: ['CanaryPauseStep'], controllerPause: true, aborted: false,
      canary: {
        stepIndex: 1, stepCount: 8, setWeight: 21, trafficRouted: false,
        steps: [
          { kind: 'setWeight', text: 'setWeight: 21', weight: 21 },
          { kind: 'pause', text: 'pause' },
          { kind: 'setWeight', text: 'setWeight: 40', weight: 40 },
          { kind: 'pause', text: 'pause: 10', pauseSeconds: 10 },
          { kind: 'setWeight', text: 'setWeight: 60', weight: 60 },
          { kind: 'pause', text: 'pause: 10', pauseSeconds: 10 },
          { kind: 'setWeight', text: 'setWeight: 80', weight: 80 },
          { kind: 'pause', text: 'pause: 10', pauseSeconds: 10 },
        ],
      },
      replicas: { desired: 5, updated: 2, ready: 6, available: 6 },
    },
  },
  {
    file: 'canary-paused-inconclusive-analysis.yaml',
    phase: 'Degraded',
    message: 'ProgressDeadlineExceeded: ReplicaSet "rollout-experiment-analysis-6f646bf7b7" has timed out progressing.',
    state: {
      strategy: 'canary', pauseReasons: ['InconclusiveAnalysisRun'], controllerPause: true, aborted: false, analysis: [],
      canary: {
        stepIndex: 1, stepCount: 2, setWeight: 25, trafficRouted: false,
        steps: [{ kind: 'setWeight', text: 'setWeight: 25', weight: 25 }, { kind: 'experiment', text: 'experiment' }],
      },
    },
  },
  {
    file: 'canary-trafficrouted-weights-timedout.yaml',
    phase: 'Degraded',
    message: 'ProgressDeadlineExceeded: ReplicaSet "canary-demo-65fb5ffc84" has timed out progressing.',
    state: {
      strategy: 'canary', revision: '31', images: [{ image: 'argoproj/rollouts-demo:does-not-exist', tag: 'does-not-exist' }],
      canary: { stepIndex: 0, stepCount: 8, setWeight: 20, actualWeight: 20, trafficRouted: true },
    },
  },
  {
    file: 'degraded-invalid-spec.yaml',
    phase: 'Degraded',
    message: 'InvalidSpec: The Rollout "rollout-invalid" is invalid: spec.template.metadata.labels: Invalid value: '
      + 'map[string]string{"app":"doesnt-match"}: `selector` does not match template `labels`',
    state: {
      strategy: 'canary', revision: '0', fullyPromoted: false,
      canary: { stepIndex: 0, stepCount: 0, steps: [], setWeight: 100, trafficRouted: false },
    },
  },
  {
    file: 'healthy-canary-workloadref-v1.yaml',
    phase: 'Healthy',
    message: '',
    state: {
      strategy: 'canary', revision: '1', fullyPromoted: true, images: [],
      workloadRef: { kind: 'Deployment', name: 'rollout-ref-deployment' },
      canary: { stepIndex: 2, stepCount: 2, setWeight: 100 },
      replicas: { desired: 5, updated: 5, ready: 5, available: 5 },
    },
  },
];

describe('readRollout on the fixtures', () => {
  it.each(EXPECTED)('reads $file as $phase', ({ file, phase, message, state }) => {
    const read = readRollout(loadRolloutFixture(file));
    expect({ phase: read.phase, message: read.message }).toEqual({ phase, message });
    expect(read).toMatchObject(state);
  });

  it('covers every Rollout fixture', () => {
    const covered = new Set(EXPECTED.map((e) => e.file));
    expect(ROLLOUT_FIXTURE_FILES.filter((f) => !covered.has(f))).toEqual(['analysisrun-failed.yaml']);
  });

  it('rejects an AnalysisRun with a message naming its kind', () => {
    expect(() => readRollout(loadRolloutFixture('analysisrun-failed.yaml'))).toThrow(/got kind "AnalysisRun"/);
  });

  it('leaves abort fields out of a rollout that is not aborted', () => {
    const read = readRollout(loadRolloutFixture('canary-paused-at-pause-step-v1.yaml'));
    expect(read.abortReason).toBeUndefined();
    expect(read.abortedAt).toBeUndefined();
  });

  it('survives a JSON round trip unchanged (it is stored as the thread baseline)', () => {
    const read = readRollout(loadRolloutFixture('canary-paused-at-pause-step-v1.yaml'));
    expect(JSON.parse(JSON.stringify(read))).toEqual(read);
  });
});

describe('readRollout input checks', () => {
  it.each([
    ['null', null],
    ['a string', 'rollout'],
    ['an object without metadata', { kind: 'Rollout' }],
    ['a name of the wrong type', { kind: 'Rollout', metadata: { name: 5 } }],
    ['a replica count of the wrong type', { kind: 'Rollout', metadata: { name: 'x' }, spec: { replicas: '3' } }],
  ])('throws on %s', (_label, input) => {
    expect(() => readRollout(input)).toThrow(/not a readable Rollout object/);
  });

  it('rejects a non-argoproj apiVersion', () => {
    expect(() => readRollout({ apiVersion: 'apps/v1', metadata: { name: 'x' } })).toThrow(/apiVersion/);
  });

  it('accepts a list item without kind or apiVersion and applies zero values', () => {
    const read = readRollout({ metadata: { name: 'bare' }, spec: { strategy: { blueGreen: {} } } });
    expect(read).toMatchObject({
      name: 'bare', namespace: '', revision: '0', generation: 0, strategy: 'blueGreen', phase: 'Progressing',
      message: 'more replicas need to be updated', specPaused: false, pauseReasons: [], aborted: false,
      blueGreen: { autoPromotionEnabled: true }, replicas: { desired: 1, updated: 0, ready: 0, available: 0 },
    });
  });

  it('treats null fields as absent', () => {
    const obj = loadRolloutFixture('canary-paused-at-pause-step-v1.yaml');
    obj.status.canary = { currentStepAnalysisRunStatus: null };
    obj.status.abort = null;
    obj.spec.paused = null;
    expect(readRollout(obj)).toMatchObject({ aborted: false, specPaused: false, analysis: [] });
  });

  it('accepts a numeric observedGeneration and reads it as a string', () => {
    const obj = loadRolloutFixture('canary-paused-at-pause-step-v1.yaml');
    obj.status.observedGeneration = 5;
    expect(RolloutObject.parse(obj).status?.observedGeneration).toBe('5');
    expect(readRollout(obj).phase).toBe('Paused');
  });
});

describe('getRolloutPhase client-side checks', () => {
  function v1(mutate: (o: Record<string, any>) => void) {
    const obj = loadRolloutFixture('canary-paused-at-pause-step-v1.yaml');
    mutate(obj);
    return getRolloutPhase(RolloutObject.parse(obj));
  }

  it('reports an unobserved spec change while the stored phase is stale', () => {
    expect(v1((o) => { o.metadata.generation = 6; })).toEqual({
      phase: 'Progressing', message: 'waiting for rollout spec update to be observed',
    });
  });

  it('counts an observedGeneration greater than generation as observed', () => {
    expect(v1((o) => { o.status.observedGeneration = '7'; })).toEqual({ phase: 'Paused', message: 'CanaryPauseStep' });
  });

  it('counts a non-numeric (pre-v0.10 hash) observedGeneration as observed', () => {
    expect(v1((o) => { o.status.observedGeneration = '7d5979db69'; })).toEqual({ phase: 'Paused', message: 'CanaryPauseStep' });
  });

  it('reports unpausing when controllerPause is set but no pause condition is left', () => {
    expect(v1((o) => { delete o.status.pauseConditions; })).toEqual({
      phase: 'Progressing', message: 'waiting for rollout to unpause',
    });
  });

  it('checks the observed generation before the unpausing state', () => {
    expect(v1((o) => { delete o.status.pauseConditions; o.metadata.generation = 6; }).message)
      .toBe('waiting for rollout spec update to be observed');
  });

  it('reports an unobserved referenced-workload change', () => {
    const obj = loadRolloutFixture('healthy-canary-workloadref-v1.yaml');
    obj.metadata.annotations['rollout.argoproj.io/workload-generation'] = '2';
    expect(getRolloutPhase(RolloutObject.parse(obj))).toEqual({
      phase: 'Progressing', message: 'waiting for rollout spec update to be observed for the reference workload',
    });
  });

  it('ignores the workload generation when status has none', () => {
    const obj = loadRolloutFixture('healthy-canary-workloadref-v1.yaml');
    obj.metadata.annotations['rollout.argoproj.io/workload-generation'] = '2';
    delete obj.status.workloadObservedGeneration;
    expect(getRolloutPhase(RolloutObject.parse(obj)).phase).toBe('Healthy');
  });

  it('calculates the phase when the stored one is absent', () => {
    expect(v1((o) => { delete o.status.phase; delete o.status.message; })).toEqual({ phase: 'Paused', message: 'CanaryPauseStep' });
  });
});

describe('calculateRolloutPhase rules', () => {
  const canary = { strategy: { canary: { steps: [{ setWeight: 50 }] } }, replicas: 2 };
  const settled = { currentPodHash: 'a', stableRS: 'a', replicas: 2, updatedReplicas: 2, availableReplicas: 2 };
  const cases: Array<[string, Record<string, unknown>, Record<string, unknown>, string, string]> = [
    ['an aborted rollout is Degraded even when manually paused', { ...canary, paused: true },
      { ...settled, conditions: [{ type: 'Progressing', reason: 'RolloutAborted', message: 'Rollout aborted update to revision 2' }] },
      'Degraded', 'RolloutAborted: Rollout aborted update to revision 2'],
    ['a manual pause', { ...canary, paused: true }, settled, 'Paused', 'manually paused'],
    ['the first pause condition', canary, { ...settled, pauseConditions: [{ reason: 'InconclusiveExperiment' }, { reason: 'CanaryPauseStep' }] },
      'Paused', 'InconclusiveExperiment'],
    ['a pending restart', { ...canary, restartAt: '2026-01-01T00:00:00Z' }, settled, 'Progressing', 'rollout is restarting'],
    ['a finished restart', { ...canary, restartAt: '2026-01-01T00:00:00Z' }, { ...settled, restartedAt: '2026-01-01T00:00:00Z' }, 'Healthy', ''],
    ['too few updated replicas', canary, { ...settled, updatedReplicas: 1 }, 'Progressing', 'more replicas need to be updated'],
    ['updated replicas not yet available', canary, { ...settled, availableReplicas: 1 }, 'Progressing', 'updated replicas are still becoming available'],
    ['old canary replicas still running', canary, { ...settled, replicas: 3 }, 'Progressing', 'old replicas are pending termination'],
    ['a traffic-routed canary ignores old replicas', { ...canary, strategy: { canary: { trafficRouting: { smi: {} } } } },
      { ...settled, replicas: 3 }, 'Healthy', ''],
    ['a canary still running steps', canary, { ...settled, stableRS: 'b' }, 'Progressing', 'waiting for all steps to complete'],
    ['a blue-green before cutover', { strategy: { blueGreen: {} }, replicas: 2 }, { ...settled, stableRS: 'b', blueGreen: { activeSelector: 'b' } },
      'Progressing', 'active service cutover pending'],
    ['a blue-green waiting for post-promotion analysis', { strategy: { blueGreen: { postPromotionAnalysis: { templates: [] } } }, replicas: 2 },
      { ...settled, stableRS: 'b', blueGreen: { activeSelector: 'a', postPromotionAnalysisRunStatus: { name: 'x', status: 'Running' } } },
      'Progressing', 'waiting for analysis to complete'],
    ['a blue-green waiting for post-promotion verification', { strategy: { blueGreen: {} }, replicas: 2 },
      { ...settled, stableRS: 'b', blueGreen: { activeSelector: 'a' } }, 'Progressing', 'waiting for post-promotion verification to complete'],
    ['a settled blue-green', { strategy: { blueGreen: {} }, replicas: 2 }, { ...settled, blueGreen: { activeSelector: 'a' } }, 'Healthy', ''],
  ];
  it.each(cases)('%s', (_label, spec, status, phase, message) => {
    expect(calculateRolloutPhase(RolloutObject.parse({ metadata: { name: 'r' }, spec, status }))).toEqual({ phase, message });
  });
});

describe('canary weight (GetCurrentSetWeight)', () => {
  const steps = readRollout(loadRolloutFixture('canary-paused-at-pause-step-v1.yaml')).canary!.steps;
  it.each([
    [0, 21, 'a setWeight step reports its own weight'],
    [1, 21, 'an indefinite pause reports the preceding setWeight'],
    [3, 40, 'a timed pause reports the preceding setWeight'],
    [7, 80, 'the last pause reports the last setWeight'],
    [8, 100, 'all steps done reports the max weight'],
  ])('index %i → %i: %s', (stepIndex, weight) => {
    expect(currentSetWeight({ steps, stepIndex, aborted: false })).toBe(weight);
  });

  it('reports 0 when aborted', () => {
    expect(currentSetWeight({ steps, stepIndex: 3, aborted: true })).toBe(0);
  });

  it('uses maxTrafficWeight when all steps are done', () => {
    expect(currentSetWeight({ steps, stepIndex: 8, aborted: false, maxTrafficWeight: 1000 })).toBe(1000);
  });

  it('reports 0 before the first setWeight', () => {
    expect(currentSetWeight({ steps: [toCanaryStep({ pause: {} }), toCanaryStep({ setWeight: 10 })], stepIndex: 0, aborted: false })).toBe(0);
  });

  it('reads the timed-pause weight from a fixture moved to step index 3', () => {
    const obj = loadRolloutFixture('canary-paused-at-pause-step-v1.yaml');
    obj.status.currentStepIndex = 3;
    expect(readRollout(obj).canary?.setWeight).toBe(40);
  });
});

describe('canary step texts and pause durations', () => {
  it.each([
    [{ setWeight: 20 }, { kind: 'setWeight', text: 'setWeight: 20', weight: 20 }],
    [{ pause: {} }, { kind: 'pause', text: 'pause' }],
    [{ pause: { duration: 30 } }, { kind: 'pause', text: 'pause: 30', pauseSeconds: 30 }],
    [{ pause: { duration: '1h0m0s' } }, { kind: 'pause', text: 'pause: 1h0m0s', pauseSeconds: 3600 }],
    [{ analysis: { templates: [] } }, { kind: 'analysis', text: 'analysis' }],
    [{ experiment: { templates: [] } }, { kind: 'experiment', text: 'experiment' }],
    [{ setCanaryScale: { weight: 25 } }, { kind: 'setCanaryScale', text: 'setCanaryScale{weight: 25}' }],
    [{ setCanaryScale: { replicas: 3 } }, { kind: 'setCanaryScale', text: 'setCanaryScale{replicas: 3}' }],
    [{ setCanaryScale: { matchTrafficWeight: true } }, { kind: 'setCanaryScale', text: 'setCanaryScale{matchTrafficWeight: true}' }],
    [{ setHeaderRoute: { name: 'h' } }, { kind: 'setHeaderRoute', text: 'setHeaderRoute' }],
    [{ setMirrorRoute: { name: 'm' } }, { kind: 'setMirrorRoute', text: 'setMirrorRoute' }],
    [{ plugin: { name: 'p' } }, { kind: 'plugin', text: 'plugin' }],
    [{}, { kind: 'unknown', text: 'invalid' }],
  ])('%j → %j', (step, expected) => {
    expect(toCanaryStep(step)).toEqual(expected);
  });

  it.each([
    [10, 10],
    ['10', 10],
    ['30s', 30],
    ['1m30s', 90],
    ['1h0m0s', 3600],
    ['1.5h', 5400],
    ['90m', 5400],
    ['1500ms', 1],
    ['0', 0],
    [undefined, undefined],
    ['soon', undefined],
    ['10 s', undefined],
  ])('duration %j → %j seconds', (duration, seconds) => {
    expect(pauseDurationSeconds(duration)).toBe(seconds);
  });
});

describe('imageTag', () => {
  it.each([
    ['argoproj/rollouts-demo:yellow', 'yellow'],
    ['nginx', undefined],
    ['nginx:1.27', '1.27'],
    ['host:5000/repo', undefined],
    ['host:5000/repo:tag', 'tag'],
    ['host:5000/team/repo:ea11a24-2026', 'ea11a24-2026'],
    ['123456789012.dkr.ecr.eu-west-1.amazonaws.com/voting01-vote:ea11a24-2026', 'ea11a24-2026'],
    ['repo@sha256:0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef', undefined],
    ['host:5000/repo@sha256:0123456789abcdef', undefined],
    ['repo:tag@sha256:0123456789abcdef', 'tag'],
    ['repo:', undefined],
  ])('%s → %s', (image, tag) => {
    expect(imageTag(image)).toBe(tag);
  });
});

describe('fixture copies', () => {
  it.skipIf(!existsSync(SHARED_FIXTURES))('match the shared originals byte for byte', () => {
    for (const file of ROLLOUT_FIXTURE_FILES) {
      expect(rolloutFixtureText(file), file).toBe(rolloutFixtureText(file, SHARED_FIXTURES));
    }
  });
});
