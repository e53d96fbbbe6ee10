import { describe, expect, it } from 'vitest';
import { planDeploymentSync } from '../../src/core/deployments/plan-deployment-sync.js';
import type { DeploymentMark } from '../../src/core/store-data.js';
import { abortedState, canaryState, threadOf } from '../support/state-builders.js';

const SHA = 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b';
const LINK = 'https://slack.example/archives/C0QA/p1700000000000100';
const mark = (o: Partial<DeploymentMark> = {}): DeploymentMark => ({ app: 'voting01', env: 'qa', repo: 'acme/voting01', sha: SHA, deploymentId: 7, ...o });
const running = canaryState({ phase: 'Progressing', message: '', pauseReasons: [], controllerPause: false, canary: { ...canaryState().canary!, stepIndex: 0, setWeight: 20 } });

describe('planDeploymentSync', () => {
  it('plans nothing for a thread whose commit is not known', () => {
    expect(planDeploymentSync({ thread: threadOf(running), mark: undefined, link: LINK })).toEqual({});
  });

  it('creates the deployment with the tag, the rollout and the thread link, and posts in_progress with the step', () => {
    const plan = planDeploymentSync({ thread: threadOf(running, { commitSha: SHA }), mark: undefined, link: LINK });
    expect(plan.create).toEqual({ environment: 'qa', description: 'voting01 ea11a24-1 to qa', payload: { tag: 'ea11a24-1', rollout: 'voting01-qa/vote', thread: LINK, threadKey: 'voting01/qa/uid-1/r2' } });
    expect(plan.deploymentStatus).toEqual({ state: 'in_progress', description: 'step 1/4, weight 20%', link: LINK });
    expect(plan.commitStatus).toEqual({ state: 'pending', description: 'deploying to qa', link: LINK });
  });

  it('says "waiting for promotion" at an indefinite pause', () => {
    const plan = planDeploymentSync({ thread: threadOf(canaryState(), { commitSha: SHA }), mark: mark(), link: LINK });
    expect(plan.deploymentStatus?.description).toBe('waiting for promotion');
  });

  it('posts nothing when GitHub already shows the same statuses', () => {
    const posted = planDeploymentSync({ thread: threadOf(running, { commitSha: SHA }), mark: undefined, link: LINK });
    const plan = planDeploymentSync({ thread: threadOf(running, { commitSha: SHA }), mark: mark({ deployment: posted.deploymentStatus, commit: posted.commitStatus }), link: LINK });
    expect(plan).toEqual({});
  });

  it('posts success with the active URL when completed', () => {
    const plan = planDeploymentSync({ thread: threadOf(running, { commitSha: SHA, outcome: 'completed' }), mark: mark(), link: LINK, activeUrl: 'https://vote.example.com' });
    expect(plan.deploymentStatus).toEqual({ state: 'success', description: 'completed', environmentUrl: 'https://vote.example.com', link: LINK });
    expect(plan.commitStatus?.state).toBe('success');
  });

  it('posts failure with the abort reason cut to 140 characters', () => {
    const state = { ...abortedState(), abortReason: `analysis failed: ${'x'.repeat(200)}` };
    const plan = planDeploymentSync({ thread: threadOf(state, { commitSha: SHA, outcome: 'aborted' }), mark: mark(), link: LINK });
    expect(plan.deploymentStatus?.state).toBe('failure');
    expect(plan.deploymentStatus?.description).toHaveLength(140);
    expect(plan.deploymentStatus?.description.startsWith('aborted: analysis failed: xxx')).toBe(true);
    expect(plan.commitStatus?.state).toBe('failure');
    expect(plan.commitStatus?.description.length).toBeLessThanOrEqual(140);
  });

  it('marks a completed deploy inactive once a newer one completes, leaving its commit status a success', () => {
    const thread = threadOf(running, { commitSha: SHA, outcome: 'completed' });
    const plan = planDeploymentSync({ thread, mark: mark({ deployment: { state: 'success', description: 'completed', link: LINK } }), link: LINK, newer: { sha: 'f'.repeat(40), completed: true } });
    expect(plan.deploymentStatus?.state).toBe('inactive');
    expect(plan.commitStatus).toBeUndefined();
  });

  it('marks a superseded deploy inactive, and leaves the commit status to a newer deploy of the same commit', () => {
    const thread = threadOf(running, { commitSha: SHA, outcome: 'superseded' });
    const plan = planDeploymentSync({ thread, mark: mark(), link: LINK, newer: { sha: SHA, completed: false } });
    expect(plan.deploymentStatus?.state).toBe('inactive');
    expect(plan.commitStatus).toBeUndefined();
  });

  it('creates no deployment for a deploy replaced before GitHub heard of it', () => {
    expect(planDeploymentSync({ thread: threadOf(running, { commitSha: SHA, outcome: 'superseded' }), mark: undefined, newer: { completed: false } })).toEqual({});
  });
});
