import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/ports.js';
import { ArgoController, STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { SkewClock } from '../support/skew-clock.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { STAGING_BLUE_GREEN, voting01Config } from '../../emulators/world/voting01-config.js';
import { sendSlashCommand, sendThreadMessage } from '../../emulators/clients/slack-requests.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';

const CHAIN_CONFIG = (auto: boolean) => {
  const deploy = `deploy: { workflow: ci-build-push.yaml, ref: main, auto: ${auto} }`;
  return voting01Config({ qa: ['timeout: 10m', deploy], staging: [...STAGING_BLUE_GREEN, deploy, 'approvers: { slackUsers: [U0LEAD] }'] });
};

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function start(o: { auto: boolean; clock?: Clock; sweep?: number }) {
  h = await Harness.start({ noStart: true, config: CHAIN_CONFIG(o.auto), overrides: { ...(o.clock ? { clock: o.clock } : {}), ...(o.sweep ? { timeoutSweepMs: o.sweep } : {}) } });
  h.github.addWorkflow('acme/voting01', 'ci-build-push.yaml', { inputs: ['environment', 'image_tag'] });
  h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
  h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
  h.controller.createBlueGreen({ namespace: 'voting01-staging', name: 'vote', image: `${IMG}:0000000-1`, autoPromotionEnabled: false });
  await h.startBot();
  await h.ready();
}

/** Waits until the bot has run `n` more timeout sweeps (read from /metrics). */
async function sweeps(n: number): Promise<void> {
  const count = async () => Number(/rollout_chatops_timeout_checks_total (\d+)/.exec(await (await fetch(`${h.app!.url}/metrics`)).text())?.[1] ?? 0);
  const target = (await count()) + n;
  await waitFor(async () => (await count()) >= target, `${n} timeout sweeps`);
}

async function root(channel: string): Promise<SlackMessage> {
  return waitFor(() => h.roots(channel)[0], `root in ${channel}`);
}

async function reply(channel: string, r: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies(channel, r.ts).find((m) => messageText(m).includes(text)), `"${text}" in ${channel}`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

/** What the dispatched workflow does in real life: set the image, after which the controller takes over. */
function runWorkflow(ns: string) {
  h.controller.deploy(ns, 'vote', `${IMG}:${TAG}`);
}

describe('the promotion chain', () => {
  it('moves a proven tag dev → qa → staging by itself and stops at the staging preview for a person', async () => {
    await start({ auto: true });
    h.ecr.addImage('voting01-vote', TAG);
    runWorkflow('voting01-dev');
    h.controller.settle('voting01-dev', 'vote');
    const dev = await root('C0DEV');
    await reply('C0DEV', dev, 'Dispatched `ci-build-push.yaml` to bring `ea11a24-20260129125607` to qa');
    expect(h.github.dispatches('acme/voting01').map((d) => d.inputs)).toEqual([{ environment: 'qa', image_tag: TAG }]);

    runWorkflow('voting01-qa');
    for (let i = 0; i < 10; i++) h.controller.tick('voting01-qa', 'vote');
    const qa = await root('C0QA');
    await reply('C0QA', qa, 'was brought here by the automatic chain from dev');
    await reply('C0QA', qa, 'waiting for promotion');
    expect(h.github.dispatches('acme/voting01')).toHaveLength(1); // nothing goes to staging before qa completes
    await fetch(`${h.k8s.url}/apis/argoproj.io/v1alpha1/namespaces/voting01-qa/rollouts/vote/status`, { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: '{"status":{"pauseConditions":null}}' });
    // Timed pauses pass: this controller's clock moves a minute every time it looks.
    let skew = 0;
    new ArgoController(h.k8s, { now: () => new Date(Date.now() + (skew += 60_000)) }).settle('voting01-qa', 'vote');
    await reply('C0QA', qa, 'Completed');
    await reply('C0QA', qa, 'to staging');
    expect(h.github.dispatches('acme/voting01').map((d) => d.inputs.environment)).toEqual(['qa', 'staging']);

    runWorkflow('voting01-staging');
    h.controller.settle('voting01-staging', 'vote');
    const staging = await root('C0STAGING');
    await reply('C0STAGING', staging, 'Preview ready, waiting for promotion');
    await h.settled();
    const card = messageText(h.slack.message('C0STAGING', staging.ts)!);
    expect(card).toMatch(/Journey of this tag: .*dev ✓ .*qa ✓ .*staging ⏸ waiting for promotion/);
  });

  it('never dispatches a tag that aborted in qa to staging', async () => {
    await start({ auto: true });
    h.ecr.addImage('voting01-vote', TAG);
    runWorkflow('voting01-qa');
    h.controller.tick('voting01-qa', 'vote');
    h.controller.failAnalysis('voting01-qa', 'vote', { kind: 'step', message: 'error rate too high' });
    h.controller.settle('voting01-qa', 'vote');
    const qa = await root('C0QA');
    await reply('C0QA', qa, 'Aborted');
    await h.settled();
    expect(h.github.dispatches('acme/voting01')).toEqual([]);
  });

  it('refuses and reports a dispatch for a tag missing in ECR', async () => {
    await start({ auto: true });
    h.ecr.addImage('voting01-vote', '0000000-1');
    runWorkflow('voting01-dev');
    h.controller.settle('voting01-dev', 'vote');
    const dev = await root('C0DEV');
    const refusal = await reply('C0DEV', dev, 'Not dispatched to qa');
    expect(messageText(refusal)).toContain(`image tag \`${TAG}\` does not exist in ECR repository \`voting01-vote\``);
    expect(refusal.replyBroadcast).toBe(true);
    expect(h.github.dispatches('acme/voting01')).toEqual([]);
  });

  it('warns once when a canary is stuck longer than its timeout, naming where', async () => {
    const clock = new SkewClock();
    await start({ auto: false, clock, sweep: 20 });
    runWorkflow('voting01-qa'); // running step 1 (setWeight 10), and it stays there
    const qa = await root('C0QA');
    clock.skip(11 * 60_000);
    const warning = await reply('C0QA', qa, 'longer than qa\'s timeout of 10m');
    expect(messageText(warning)).toContain('step 1/7 (setWeight: 10)');
    expect(warning.replyBroadcast).toBe(true);
    clock.skip(30 * 60_000);
    await sweeps(3);
    await h.settled();
    expect(h.replyTexts('C0QA', qa.ts).filter((t) => t.includes('timeout'))).toHaveLength(1);
  });

  it('does not count waiting for promotion as stuck', async () => {
    const clock = new SkewClock();
    await start({ auto: false, clock, sweep: 20 });
    runWorkflow('voting01-qa');
    h.controller.settle('voting01-qa', 'vote'); // to the indefinite pause
    const qa = await root('C0QA');
    await reply('C0QA', qa, 'waiting for promotion');
    clock.skip(60 * 60_000);
    await sweeps(3);
    await h.settled();
    expect(h.replyTexts('C0QA', qa.ts).some((t) => t.includes('timeout'))).toBe(false);
  });

  it('/promote qa brings the tag proven in dev after confirmation', async () => {
    await start({ auto: false });
    h.ecr.addImage('voting01-vote', TAG);
    runWorkflow('voting01-dev');
    h.controller.settle('voting01-dev', 'vote');
    const dev = await root('C0DEV');
    await reply('C0DEV', dev, 'Completed');
    await sendSlashCommand(h.sender, { command: '/promote', text: 'qa', userId: 'U5', channelId: 'C0QA', responseUrl: h.slack.newResponseUrl({ channel: 'C0QA', user: 'U5' }) });
    const offer = await reply('C0DEV', dev, 'Bring `ea11a24-20260129125607` from dev to voting01 qa?');
    expect(messageText(offer)).toContain('verified in ECR');
    expect(h.github.dispatches('acme/voting01')).toEqual([]);
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: dev.ts, user: 'U5', text: 'promote' });
    await reply('C0DEV', dev, 'Dispatched');
    expect(h.github.dispatches('acme/voting01')).toEqual([expect.objectContaining({ ref: 'main', inputs: { environment: 'qa', image_tag: TAG } })]);
  });

  it('refuses to bring a tag the environment already runs', async () => {
    await start({ auto: false });
    h.ecr.addImage('voting01-vote', TAG);
    runWorkflow('voting01-dev');
    h.controller.settle('voting01-dev', 'vote');
    await reply('C0DEV', await root('C0DEV'), 'Completed');
    runWorkflow('voting01-qa');
    h.controller.tick('voting01-qa', 'vote');
    await fetch(`${h.k8s.url}/apis/argoproj.io/v1alpha1/namespaces/voting01-qa/rollouts/vote/status`, { method: 'PATCH', headers: { 'content-type': 'application/merge-patch+json' }, body: '{"status":{"promoteFull":true}}' });
    h.controller.settle('voting01-qa', 'vote');
    await reply('C0QA', await root('C0QA'), 'Completed');
    const res = await sendSlashCommand(h.sender, { command: '/promote', text: 'qa', userId: 'U5', channelId: 'C0QA', responseUrl: h.slack.newResponseUrl({ channel: 'C0QA', user: 'U5' }) });
    expect(res.status).toBe(200);
    await waitFor(() => h.slack.responses.find((r) => String(r.body.text).includes('already runs')), 'already runs');
    expect(h.github.dispatches('acme/voting01')).toEqual([]);
  });
});
