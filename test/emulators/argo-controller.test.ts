import { readFile } from 'node:fs/promises';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { CustomObjectsApi, KubeConfig, PatchStrategy, setHeaderOptions } from '@kubernetes/client-node';
import { parse as parseYaml } from 'yaml';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../emulators/kubernetes-emulator.js';
import { ArgoController, STANDARD_CANARY_STEPS, podTemplateHash } from '../../emulators/argo-controller.js';

const NS = 'shop';
const ref = { group: 'argoproj.io', version: 'v1alpha1', namespace: NS, plural: 'rollouts' };
const FIXTURES = '/work/shared/fixtures/argo-rollouts';
const ANALYSIS_STEPS = [{ setWeight: 20 }, { analysis: { templates: [{ templateName: 'success-rate' }] } }, { setWeight: 100 }];

let emu: KubernetesEmulator;
let api: CustomObjectsApi;
let now: Date;
let argo: ArgoController;

beforeEach(async () => {
  emu = await startKubernetesEmulator();
  const kc = new KubeConfig();
  kc.loadFromString(emu.kubeconfigYaml({ namespace: NS }));
  api = kc.makeApiClient(CustomObjectsApi);
  now = new Date('2026-03-01T10:00:00Z');
  argo = new ArgoController(emu, { now: () => now });
});

afterEach(async () => {
  await emu.close();
});

const ro = (name = 'web') => emu.get(NS, name);
const cond = (name: string, type: string) => ro(name).status.conditions.find((c: { type: string }) => c.type === type);
const advance = (seconds: number) => {
  now = new Date(now.getTime() + seconds * 1000);
};

/** What `kubectl argo rollouts promote` sends at a pause (reference 1.5 rule b), through the real client. */
async function userPatchStatus(name: string, status: Record<string, unknown>): Promise<void> {
  await api.patchNamespacedCustomObjectStatus({ ...ref, name, body: { status } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

async function userPatchSpec(name: string, spec: Record<string, unknown>): Promise<void> {
  await api.patchNamespacedCustomObject({ ...ref, name, body: { spec } }, setHeaderOptions('Content-Type', PatchStrategy.MergePatch));
}

function standardCanary(extra: { backgroundAnalysis?: boolean; trafficRouting?: boolean } = {}): void {
  argo.createCanary({ namespace: NS, name: 'web', image: 'shop/web:1.0', steps: STANDARD_CANARY_STEPS, replicas: 5, ...extra });
}

describe('ArgoController: creation and deploy', () => {
  it('creates a canary at revision 1 that is already Healthy', () => {
    standardCanary();
    const o = ro();
    expect(o.metadata.annotations['rollout.argoproj.io/revision']).toBe('1');
    expect(o.status).toMatchObject({
      phase: 'Healthy',
      message: '',
      observedGeneration: '1',
      currentStepIndex: 7,
      currentPodHash: podTemplateHash('shop/web:1.0'),
      stableRS: podTemplateHash('shop/web:1.0'),
      replicas: 5,
      updatedReplicas: 5,
      availableReplicas: 5,
    });
    expect(cond('web', 'Completed')).toMatchObject({ status: 'True', reason: 'RolloutCompleted' });
    expect(cond('web', 'Healthy')).toMatchObject({ status: 'True', reason: 'RolloutHealthy' });
    expect(cond('web', 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetAvailable' });
  });

  it('deploy bumps generation, then the controller writes revision 2 at step 0 as Progressing', () => {
    standardCanary();
    const rvBefore = Number(emu.resourceVersion());
    argo.deploy(NS, 'web', 'shop/web:2.0');
    const o = ro();
    expect(Number(emu.resourceVersion()) - rvBefore).toBe(2); // the user's spec write, then the controller's
    expect(o.metadata.generation).toBe(2);
    expect(o.metadata.annotations['rollout.argoproj.io/revision']).toBe('2');
    expect(o.status).toMatchObject({
      observedGeneration: '2',
      currentPodHash: podTemplateHash('shop/web:2.0'),
      stableRS: podTemplateHash('shop/web:1.0'),
      currentStepIndex: 0,
      phase: 'Progressing',
      message: 'more replicas need to be updated',
    });
    expect(cond('web', 'Progressing')).toMatchObject({ status: 'True', reason: 'NewReplicaSetCreated' });
    expect(cond('web', 'Completed')).toMatchObject({ status: 'False' });
  });

  it('reports nothing to do for a healthy rollout', () => {
    standardCanary();
    expect(argo.tick(NS, 'web')).toBeNull();
  });
});

describe('ArgoController: the standard canary', () => {
  it('walks the standard canary through promote and timed pauses to completion', async () => {
    standardCanary();
    argo.deploy(NS, 'web', 'shop/web:2.0');
    expect(argo.settle(NS, 'web')).toEqual([
      'RolloutStepCompleted: Rollout step 1/7 completed (setWeight: 10)',
      'RolloutPaused: Rollout is paused (CanaryPauseStep)',
    ]);
    await userPatchStatus('web', { pauseConditions: null });
    expect(argo.settle(NS, 'web')).toEqual([
      'RolloutStepCompleted: Rollout step 2/7 completed (pause)',
      'RolloutStepCompleted: Rollout step 3/7 completed (setWeight: 30)',
      'RolloutPaused: Rollout is paused (CanaryPauseStep)',
    ]);
    advance(30);
    expect(argo.settle(NS, 'web')).toEqual([
      'RolloutStepCompleted: Rollout step 4/7 completed (pause: 30s)',
      'RolloutStepCompleted: Rollout step 5/7 completed (setWeight: 60)',
      'RolloutPaused: Rollout is paused (CanaryPauseStep)',
    ]);
    advance(30);
    expect(argo.settle(NS, 'web')).toEqual([
      'RolloutStepCompleted: Rollout step 6/7 completed (pause: 30s)',
      'RolloutStepCompleted: Rollout step 7/7 completed (setWeight: 100)',
      `RolloutCompleted: Rollout completed update to revision 2 (${podTemplateHash('shop/web:2.0')}): Completed all 7 canary steps`,
    ]);
    expect(ro().status).toMatchObject({ phase: 'Healthy', currentStepIndex: 7, stableRS: podTemplateHash('shop/web:2.0') });
  });

  it('holds at the indefinite pause as Paused/CanaryPauseStep with controllerPause', () => {
    standardCanary();
    argo.deploy(NS, 'web', 'shop/web:2.0');
    argo.settle(NS, 'web');
    expect(argo.tick(NS, 'web')).toBeNull();
    expect(ro().status).toMatchObject({
      phase: 'Paused',
      message: 'CanaryPauseStep',
      controllerPause: true,
      currentStepIndex: 1,
      pauseConditions: [{ reason: 'CanaryPauseStep', startTime: '2026-03-01T10:00:00Z' }],
    });
    expect(cond('web', 'Paused')).toMatchObject({ status: 'True', reason: 'RolloutPaused' });
    expect(cond('web', 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'RolloutPaused' });
  });

  it('has the condition set of the real paused-at-pause-step fixture', async () => {
    const fixture = parseYaml(await readFile(`${FIXTURES}/canary-paused-at-pause-step-v1.yaml`, 'utf8'));
    argo.createCanary({ namespace: NS, name: 'web', image: 'demo:blue', steps: fixture.spec.strategy.canary.steps, replicas: 5 });
    argo.deploy(NS, 'web', 'demo:yellow');
    argo.settle(NS, 'web');
    const mine = ro().status;
    const summary = (cs: Array<Record<string, string>>) => cs.map((c) => `${c.type}=${c.status}/${c.reason}`);
    expect(summary(mine.conditions)).toEqual(expect.arrayContaining(summary(fixture.status.conditions)));
    expect(Object.keys(fixture.status).filter((k) => !(k in mine))).toEqual([]);
    expect(mine).toMatchObject({ phase: fixture.status.phase, message: fixture.status.message, currentStepIndex: fixture.status.currentStepIndex });
  });

  it('does not end a timed pause before its duration', async () => {
    standardCanary();
    argo.deploy(NS, 'web', 'shop/web:2.0');
    argo.settle(NS, 'web');
    await userPatchStatus('web', { pauseConditions: null });
    argo.settle(NS, 'web');
    advance(29);
    expect(argo.tick(NS, 'web')).toBeNull();
    expect(ro().status.currentStepIndex).toBe(3);
  });

  it('skips the running step when promoted without a pause (index bumped by the user)', async () => {
    standardCanary();
    argo.deploy(NS, 'web', 'shop/web:2.0');
    await userPatchStatus('web', { pauseConditions: null, currentStepIndex: 1 });
    expect(argo.tick(NS, 'web')).toBe('RolloutPaused: Rollout is paused (CanaryPauseStep)');
  });

  it('reports traffic-routed weights', () => {
    standardCanary({ trafficRouting: true });
    argo.deploy(NS, 'web', 'shop/web:2.0');
    argo.settle(NS, 'web');
    expect(ro().status.canary.weights).toMatchObject({ canary: { weight: 10, podTemplateHash: podTemplateHash('shop/web:2.0') }, stable: { weight: 90 } });
  });
});

describe('ArgoController: blue-green', () => {
  it('waits for promotion with the preview on the new RS and active on stable', () => {
    argo.createBlueGreen({ namespace: NS, name: 'pay', image: 'shop/pay:1.0', autoPromotionEnabled: false });
    argo.deploy(NS, 'pay', 'shop/pay:2.0');
    expect(argo.settle(NS, 'pay')).toEqual(['RolloutPaused: Rollout is paused (BlueGreenPause)']);
    expect(ro('pay').status).toMatchObject({
      phase: 'Paused',
      message: 'BlueGreenPause',
      controllerPause: true,
      pauseConditions: [{ reason: 'BlueGreenPause' }],
      blueGreen: { previewSelector: podTemplateHash('shop/pay:2.0'), activeSelector: podTemplateHash('shop/pay:1.0') },
      stableRS: podTemplateHash('shop/pay:1.0'),
    });
    expect(ro('pay').status).not.toHaveProperty('currentStepIndex');
  });

  it('cuts over and completes after the user clears the pause', async () => {
    argo.createBlueGreen({ namespace: NS, name: 'pay', image: 'shop/pay:1.0', autoPromotionEnabled: false });
    argo.deploy(NS, 'pay', 'shop/pay:2.0');
    argo.settle(NS, 'pay');
    await userPatchStatus('pay', { pauseConditions: null });
    const hash = podTemplateHash('shop/pay:2.0');
    expect(argo.tick(NS, 'pay')).toBe(`SwitchService: Switched selector for service 'pay-active' from '${podTemplateHash('shop/pay:1.0')}' to '${hash}'`);
    expect(ro('pay').status).toMatchObject({ phase: 'Progressing', message: 'waiting for post-promotion verification to complete' });
    expect(argo.settle(NS, 'pay')).toEqual([`RolloutCompleted: Rollout completed update to revision 2 (${hash}): Completed blue-green update`]);
    expect(ro('pay').status).toMatchObject({ phase: 'Healthy', stableRS: hash, blueGreen: { activeSelector: hash } });
  });

  it('cuts over without pausing when auto-promotion is on (the default)', () => {
    argo.createBlueGreen({ namespace: NS, name: 'pay', image: 'shop/pay:1.0' });
    argo.deploy(NS, 'pay', 'shop/pay:2.0');
    const steps = argo.settle(NS, 'pay');
    expect(steps.map((s) => s.split(':')[0])).toEqual(['ScalingReplicaSet', 'SwitchService', 'RolloutCompleted']);
    expect(ro('pay').status.phase).toBe('Healthy');
  });
});

describe('ArgoController: abort, retry, full promotion, manual pause, timeout', () => {
  it('aborts on a failed step analysis with the controller message', () => {
    argo.createCanary({ namespace: NS, name: 'web', image: 'shop/web:1.0', steps: ANALYSIS_STEPS });
    argo.deploy(NS, 'web', 'shop/web:2.0');
    argo.tick(NS, 'web');
    expect(argo.tick(NS, 'web')).toMatch(/^AnalysisRunRunning: Step Analysis Run 'web-\w+-2-1'/);
    argo.failAnalysis(NS, 'web', { message: 'Metric "error-rate" assessed Failed due to failed (3) > failureLimit (2)' });
    const detail = 'Step-based analysis phase failed: Metric "error-rate" assessed Failed due to failed (3) > failureLimit (2)';
    expect(ro().status).toMatchObject({
      abort: true,
      abortedAt: '2026-03-01T10:00:00Z',
      currentStepIndex: 0,
      phase: 'Degraded',
      message: `RolloutAborted: Rollout aborted update to revision 2: ${detail}`,
      canary: { currentStepAnalysisRunStatus: { status: 'Failed', message: expect.stringContaining('error-rate') } },
    });
    expect(cond('web', 'Progressing')).toMatchObject({ status: 'False', reason: 'RolloutAborted', message: `Rollout aborted update to revision 2: ${detail}` });
    expect(argo.tick(NS, 'web')).toBeNull();
  });

  it('aborts on a failed background analysis in the shape of the real fixture', async () => {
    const fixture = parseYaml(await readFile(`${FIXTURES}/canary-aborted-background-analysis-failed.yaml`, 'utf8'));
    argo.createCanary({ namespace: NS, name: 'web', image: 'shop/web:1.0', steps: fixture.spec.strategy.canary.steps, backgroundAnalysis: true });
    argo.deploy(NS, 'web', 'shop/web:2.0');
    argo.settle(NS, 'web');
    argo.failAnalysis(NS, 'web', { kind: 'background' });
    const mine = ro().status;
    expect(Object.keys(fixture.status).filter((k) => !(k in mine))).toEqual([]);
    expect(mine.canary.currentBackgroundAnalysisRunStatus).toMatchObject({ name: `web-${podTemplateHash('shop/web:2.0')}-2`, status: 'Failed' });
    expect(mine.message).toMatch(/^RolloutAborted: Rollout aborted update to revision 2: Background analysis phase failed: Metric "success-rate"/);
    expect(mine).not.toHaveProperty('pauseConditions');
  });

  it('aborts when the user sets status.abort and retries when it goes back to false', async () => {
    standardCanary({ backgroundAnalysis: true });
    argo.deploy(NS, 'web', 'shop/web:2.0');
    argo.settle(NS, 'web');
    await userPatchStatus('web', { abort: true });
    expect(argo.tick(NS, 'web')).toBe('RolloutAborted: Rollout aborted update to revision 2');
    expect(ro().status).toMatchObject({ phase: 'Degraded', message: 'RolloutAborted: Rollout aborted update to revision 2', updatedReplicas: 0 });
    await userPatchStatus('web', { abort: false });
    expect(argo.tick(NS, 'web')).toBe('RolloutRetry: Retrying Rollout after abort');
    const s = ro().status;
    expect(s).toMatchObject({ phase: 'Progressing', currentStepIndex: 0 });
    expect(s).not.toHaveProperty('abort');
    expect(s).not.toHaveProperty('abortedAt');
    expect(s.canary.currentBackgroundAnalysisRunStatus.name).toMatch(/-2\.1$/);
    expect(cond('web', 'Progressing')).toMatchObject({ status: 'Unknown', reason: 'RolloutRetry', message: 'Retrying Rollout after abort' });
  });

  it('promoteFull jumps to done, clears abort and resets the flag', async () => {
    standardCanary();
    argo.deploy(NS, 'web', 'shop/web:2.0');
    argo.settle(NS, 'web');
    await userPatchStatus('web', { abort: true });
    argo.tick(NS, 'web');
    await userPatchStatus('web', { promoteFull: true });
    expect(argo.tick(NS, 'web')).toMatch(/: Full promotion requested$/);
    const s = ro().status;
    expect(s).toMatchObject({ phase: 'Healthy', currentStepIndex: 7, stableRS: podTemplateHash('shop/web:2.0') });
    for (const key of ['promoteFull', 'abort', 'abortedAt', 'pauseConditions', 'controllerPause']) expect(s).not.toHaveProperty(key);
  });

  it('holds a manually paused rollout as Paused "manually paused" until spec.paused is cleared', async () => {
    standardCanary();
    argo.deploy(NS, 'web', 'shop/web:2.0');
    await userPatchSpec('web', { paused: true });
    expect(argo.tick(NS, 'web')).toBe('manually paused');
    expect(ro().status).toMatchObject({ phase: 'Paused', message: 'manually paused', observedGeneration: '3', currentStepIndex: 0 });
    expect(ro().status).not.toHaveProperty('pauseConditions');
    expect(argo.tick(NS, 'web')).toBeNull();
    await userPatchSpec('web', { paused: false });
    expect(argo.tick(NS, 'web')).toBe('RolloutStepCompleted: Rollout step 1/7 completed (setWeight: 10)');
    expect(ro().status.observedGeneration).toBe('4');
  });

  it('times out as Degraded with ProgressDeadlineExceeded and stops advancing', () => {
    standardCanary();
    argo.deploy(NS, 'web', 'shop/web:2.0');
    argo.timeOut(NS, 'web');
    const rs = `web-${podTemplateHash('shop/web:2.0')}`;
    expect(ro().status).toMatchObject({ phase: 'Degraded', message: `ProgressDeadlineExceeded: ReplicaSet "${rs}" has timed out progressing.` });
    expect(ro().status).not.toHaveProperty('abort');
    expect(argo.tick(NS, 'web')).toBeNull();
  });

  it('rolls back to the stable image by skipping steps, without a new stable', async () => {
    standardCanary();
    argo.deploy(NS, 'web', 'shop/web:2.0');
    argo.settle(NS, 'web');
    await userPatchStatus('web', { abort: true });
    argo.tick(NS, 'web');
    argo.deploy(NS, 'web', 'shop/web:1.0');
    const o = ro();
    expect(o.metadata.annotations['rollout.argoproj.io/revision']).toBe('3');
    expect(o.status).toMatchObject({ phase: 'Healthy', currentStepIndex: 7, currentPodHash: podTemplateHash('shop/web:1.0'), stableRS: podTemplateHash('shop/web:1.0') });
    expect(o.status).not.toHaveProperty('abort');
  });

  it('pauses on an inconclusive step analysis and continues after the v1.6 promote patch', async () => {
    argo.createCanary({ namespace: NS, name: 'web', image: 'shop/web:1.0', steps: ANALYSIS_STEPS });
    argo.deploy(NS, 'web', 'shop/web:2.0');
    argo.tick(NS, 'web');
    argo.tick(NS, 'web');
    argo.inconclusiveAnalysis(NS, 'web');
    expect(ro().status).toMatchObject({ phase: 'Paused', message: 'InconclusiveAnalysisRun', canary: { currentStepAnalysisRunStatus: { status: 'Inconclusive' } } });
    expect(argo.tick(NS, 'web')).toBeNull();
    await userPatchStatus('web', { pauseConditions: null, controllerPause: false, currentStepIndex: 2 });
    expect(argo.tick(NS, 'web')).toBe('RolloutStepCompleted: Rollout step 3/3 completed (setWeight: 100)');
    expect(ro().status.canary).not.toHaveProperty('currentStepAnalysisRunStatus');
  });
});
