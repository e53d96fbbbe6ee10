import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import { pushPayload } from '../../emulators/clients/github-webhooks.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { STAGING_BLUE_GREEN, voting01Config } from '../../emulators/world/voting01-config.js';
import { Harness, messageText, waitFor } from '../support/harness.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const SHA = 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b';
const TAG = 'ea11a24-20260129125607';
const SHA2 = 'b0b0b0b3c4d5e6f708192a3b4c5d6e7f8091a2b0';
const TAG2 = 'b0b0b0b-20260130090000';
const REPO = 'acme/voting01';
const deploy = 'deploy: { workflow: ci-build-push.yaml, ref: main, auto: true }';
const CONFIG = voting01Config({ dev: ['activeUrl: https://vote-voting01-dev.example.com'], qa: [deploy], staging: [...STAGING_BLUE_GREEN, deploy] });

let h: Harness;
afterEach(async () => {
  if (h) expect(h.github.unexpectedCalls()).toEqual([]);
  await h?.close();
});

async function start() {
  h = await Harness.start({ noStart: true, config: CONFIG });
  h.github.addWorkflow(REPO, 'ci-build-push.yaml', { inputs: ['environment', 'image_tag'] });
  h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
  h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
  h.controller.createBlueGreen({ namespace: 'voting01-staging', name: 'vote', image: `${IMG}:0000000-1`, autoPromotionEnabled: false });
  await h.startBot();
  await h.ready();
}

function pushOf(commits: Array<{ id: string; message: string }>, deliveryId?: string) {
  const payload = pushPayload({ repo: REPO, commits: commits.map((c) => ({ ...c, author: { name: 'Ada Lovelace', email: 'ada@example.com', username: 'ada' } })), sender: { login: 'ada', type: 'User' } });
  return h.webhook('push', payload, deliveryId ? { deliveryId } : {});
}

async function root(channel: string): Promise<SlackMessage> {
  return waitFor(() => h.roots(channel)[0], `root in ${channel}`);
}

async function reply(channel: string, r: SlackMessage, text: string): Promise<void> {
  await waitFor(() => h.slack.replies(channel, r.ts).some((m) => messageText(m).includes(text)), `"${text}" in ${channel}`);
}

const deploymentOf = (env: string) => h.github.deployments(REPO).filter((d) => d.environment === env);
const statesOf = (id: number) => h.github.deploymentStatuses(id).map((s) => s.state);
const commitStates = (env: string, sha = SHA) => h.github.commitStatuses(REPO, sha).filter((c) => c.context === `rollout-chatops/${env}`).map((c) => c.state);

/** Waits for every GitHub call the bot has started to be answered and recorded (background work is part of idle). */
async function quiet(): Promise<void> {
  await h.settled();
}

/** No status posted twice in a row with the same words. */
function noRepeats(list: Array<{ state: string; description: string | null }>): void {
  const words = list.map((s) => `${s.state}: ${s.description}`);
  expect(words.filter((w, i) => i > 0 && w === words[i - 1])).toEqual([]);
}

describe('GitHub deployments and commit statuses', () => {
  it('follows a pushed commit dev → qa through a restart and an abort, and posts nothing twice', async () => {
    await start();
    h.ecr.addImage('voting01-vote', TAG);
    expect((await pushOf([{ id: SHA, message: 'Fix the vote button' }], 'push-1')).status).toBe(200);

    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-dev', 'vote');
    const dev = await root('C0DEV');
    await reply('C0DEV', dev, 'Dispatched `ci-build-push.yaml`');
    const devDeployment = await waitFor(() => deploymentOf('dev')[0], 'dev deployment');
    await waitFor(() => statesOf(devDeployment.id).at(-1) === 'success', 'dev success');
    expect(devDeployment).toMatchObject({ sha: SHA, ref: SHA, environment: 'dev', payload: { tag: TAG, rollout: 'voting01-dev/vote' } });
    const devSuccess = h.github.deploymentStatuses(devDeployment.id).at(-1)!;
    expect(devSuccess.environment_url).toBe('https://vote-voting01-dev.example.com');
    // The final status links the deploy's report (a check run, see deploy-report-checks.test.ts); the commit status the thread.
    expect(devSuccess.log_url).toBe(h.github.checkRuns(REPO).find((r) => r.name === 'rollout-chatops report: dev')?.html_url);
    await waitFor(() => commitStates('dev').at(-1) === 'success', 'dev commit status success');
    expect(commitStates('dev')).toEqual(['pending', 'success']);
    expect(h.github.commitStatuses(REPO, SHA).at(-1)!.target_url).toContain('C0DEV');

    // The chain brings the tag to qa: it rolls out, and the bot restarts in the middle.
    h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
    h.controller.tick('voting01-qa', 'vote');
    const qa = await root('C0QA');
    const qaDeployment = await waitFor(() => deploymentOf('qa')[0], 'qa deployment');
    await waitFor(() => statesOf(qaDeployment.id).includes('in_progress'), 'qa in progress');
    await quiet();
    await h.stopBot();
    h.controller.tick('voting01-qa', 'vote');
    await h.startBot();
    await h.ready();
    await waitFor(() => h.github.deploymentStatuses(qaDeployment.id).some((s) => s.description === 'waiting for promotion'), 'qa waiting for promotion');

    // qa aborts: the deployment fails with the reason, the commit status for qa fails; dev keeps its success.
    h.controller.failAnalysis('voting01-qa', 'vote', { kind: 'step', message: 'error rate too high' });
    h.controller.settle('voting01-qa', 'vote');
    await reply('C0QA', qa, 'Aborted');
    await waitFor(() => statesOf(qaDeployment.id).at(-1) === 'failure', 'qa failure');
    await waitFor(() => commitStates('qa').at(-1) === 'failure', 'qa commit status failure');
    const failure = h.github.deploymentStatuses(qaDeployment.id).at(-1)!;
    expect(failure.description).toContain('aborted');
    expect(failure.description.length).toBeLessThanOrEqual(140);

    // A redelivered push (same delivery, then a new delivery id of the same push) changes nothing on GitHub.
    await quiet();
    const before = h.github.calls.filter((c) => c.method === 'POST' && /\/(deployments|statuses)/.test(c.path)).length;
    await pushOf([{ id: SHA, message: 'Fix the vote button' }], 'push-1');
    await pushOf([{ id: SHA, message: 'Fix the vote button' }], 'push-1-again');
    await quiet();
    expect(h.github.calls.filter((c) => c.method === 'POST' && /\/(deployments|statuses)/.test(c.path))).toHaveLength(before);

    expect(h.github.deployments(REPO).map((d) => d.environment).sort()).toEqual(['dev', 'qa']);
    expect(commitStates('qa')).toEqual(['pending', 'failure']);
    expect(statesOf(devDeployment.id).at(-1)).toBe('success');
    noRepeats(h.github.deploymentStatuses(devDeployment.id));
    noRepeats(h.github.deploymentStatuses(qaDeployment.id));
    expect(h.github.dispatches(REPO).map((d) => d.inputs.environment)).toEqual(['qa']);
  });

  it('marks the deploy a newer one replaced inactive', async () => {
    await start();
    await pushOf([{ id: SHA, message: 'First' }, { id: SHA2, message: 'Second' }]);
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-dev', 'vote');
    const first = await waitFor(() => deploymentOf('dev')[0], 'first dev deployment');
    await waitFor(() => statesOf(first.id).at(-1) === 'success', 'first success');

    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG2}`);
    h.controller.settle('voting01-dev', 'vote');
    const second = await waitFor(() => deploymentOf('dev').find((d) => d.sha === SHA2), 'second dev deployment');
    await waitFor(() => statesOf(second.id).at(-1) === 'success', 'second success');
    await waitFor(() => statesOf(first.id).at(-1) === 'inactive', 'first inactive');
    await quiet();
    expect(deploymentOf('dev')).toHaveLength(2);
    expect(commitStates('dev', SHA)).toEqual(['pending', 'success']);
    // The watch may show the second revision only once it completed: pending is then skipped, never posted after.
    expect(commitStates('dev', SHA2).at(-1)).toBe('success');
    expect(commitStates('dev', SHA2).filter((s) => s === 'success')).toHaveLength(1);
  });
});
