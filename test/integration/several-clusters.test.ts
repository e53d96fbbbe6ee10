import { afterEach, describe, expect, it } from 'vitest';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { STAGING_BLUE_GREEN, voting01Config } from '../../emulators/world/voting01-config.js';
import { sendSlashCommand, sendThreadMessage } from '../../emulators/clients/slack-requests.js';
import { Harness, messageText, waitFor, type ExtraCluster } from '../support/harness.js';

// Several clusters (issue 17): an environment names its kubeconfig context with `cluster`; each cluster gets its own
// watches, reads and patches go to the environment's cluster, and one cluster going away leaves the others working.

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const LEAD = 'U0LEAD';
/** dev and qa on the current context (`emulator`), staging on `prod-eu`. */
const CONFIG = voting01Config({ staging: [...STAGING_BLUE_GREEN, 'approvers:', '  slackUsers: [U0LEAD]', 'cluster: prod-eu'] });

let h: Harness;
afterEach(async () => {
  await h?.close();
});

function euCluster(): ExtraCluster {
  return h.clusters.get('prod-eu')!;
}

async function thread(channel: string): Promise<SlackMessage> {
  return waitFor(() => h.roots(channel)[0], `root in ${channel}`);
}

async function reply(channel: string, root: SlackMessage, text: string): Promise<SlackMessage> {
  // A confirmation card also comes to say "Promoted by …" once done: an outcome is looked for in the replies after it.
  const outcome = /^Promoted by/.test(text);
  return waitFor(() => h.slack.replies(channel, root.ts).find((m) => messageText(m).includes(text) && !(outcome && m.text?.startsWith('🚦'))), `reply "${text}" in ${channel}`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

function notices(channel: string, text: string): SlackMessage[] {
  return h.slack.channelMessages(channel, { includeBroadcasts: false }).filter((m) => !m.threadTs && messageText(m).includes(text));
}

/** How often the bot's watch of the prod-eu namespace restarted after a failure (its metric). */
async function stagingWatchRestarts(): Promise<number> {
  const text = await (await fetch(`${h.app!.url}/metrics`)).text();
  return Number(/^rollout_chatops_watch_restarts_total\{namespace="voting01-staging"\} (\d+)/m.exec(text)?.[1] ?? 0);
}

async function readyz(): Promise<{ status: number; body: { ready: boolean; checks: { clusters: Record<string, boolean> } } }> {
  const res = await fetch(`${h.app!.url}/readyz`);
  return { status: res.status, body: (await res.json()) as never };
}

/** qa (current context) completes TAG; staging (prod-eu) pauses with its preview ready. */
async function stagingOnEuWaiting(): Promise<SlackMessage> {
  h = await Harness.start({ noStart: true, config: CONFIG, clusters: ['prod-eu'] });
  h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
  h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
  euCluster().controller.createBlueGreen({ namespace: 'voting01-staging', name: 'vote', image: `${IMG}:0000000-1`, autoPromotionEnabled: false });
  h.ecr.addImage('voting01-vote', TAG);
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-qa', 'vote');
  await reply('C0QA', await thread('C0QA'), 'Completed');
  euCluster().controller.deploy('voting01-staging', 'vote', `${IMG}:${TAG}`);
  euCluster().controller.settle('voting01-staging', 'vote');
  const root = await thread('C0STAGING');
  await reply('C0STAGING', root, 'Preview ready, waiting for promotion');
  return root;
}

describe('several clusters', () => {
  it('opens the thread of an environment on a second cluster and sends its promotion patch to that cluster only', async () => {
    const root = await stagingOnEuWaiting();
    await sendSlashCommand(h.sender, { command: '/promote', text: 'staging', userId: 'U1', channelId: 'C0STAGING', responseUrl: h.slack.newResponseUrl({ channel: 'C0STAGING', user: 'U1' }) });
    const card = await reply('C0STAGING', root, 'Promote voting01 staging?');
    expect(messageText(card)).toContain('Proven: completed in qa');
    await sendThreadMessage(h.sender, { channel: 'C0STAGING', threadTs: root.ts, user: LEAD, text: 'promote' });
    await reply('C0STAGING', root, `Promoted by <@${LEAD}>`);

    expect(euCluster().k8s.patches({ namespace: 'voting01-staging', name: 'vote' }).map((c) => ({ path: c.path.replace(/^.*\/rollouts\//, ''), body: c.body }))).toEqual([
      { path: 'vote/status', body: { status: { pauseConditions: null } } },
    ]);
    expect(h.k8s.patches()).toEqual([]);
    // The first cluster was never asked about staging: its watches cover dev and qa only.
    expect(h.k8s.calls.filter((c) => c.path.includes('voting01-staging'))).toEqual([]);
    expect((await readyz()).body.checks.clusters).toEqual({ emulator: true, 'prod-eu': true });
  });

  it('tells the channel once when its cluster is unreachable, shows it in /readyz, and keeps serving the other cluster', async () => {
    h = await Harness.start({ noStart: true, config: CONFIG, clusters: ['prod-eu'] });
    h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
    h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
    euCluster().controller.createBlueGreen({ namespace: 'voting01-staging', name: 'vote', image: `${IMG}:0000000-1`, autoPromotionEnabled: false });
    await h.startBot();
    await h.ready();

    await euCluster().k8s.close();
    await waitFor(() => notices('C0STAGING', 'unreachable').length > 0, 'unreachable notice in C0STAGING');
    const [notice] = notices('C0STAGING', 'unreachable');
    expect(messageText(notice!)).toContain('Cluster `prod-eu` is unreachable');
    expect(messageText(notice!)).toContain('voting01 · staging');
    const r = await readyz();
    // Listed once: still ready (the contract), with the cluster's state for monitoring.
    expect(r.status).toBe(200);
    expect(r.body.checks.clusters).toEqual({ emulator: true, 'prod-eu': false });

    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-dev', 'vote');
    await reply('C0DEV', await thread('C0DEV'), 'Completed');
    // The watch keeps retrying (backoff 20–200 ms): still one notice, and none in the other cluster's channels.
    await waitFor(async () => (await stagingWatchRestarts()) >= 3, 'the staging watch retried a few times');
    await h.settled();
    expect(notices('C0STAGING', 'unreachable')).toHaveLength(1);
    expect(notices('C0DEV', 'unreachable')).toEqual([]);
    expect(notices('C0QA', 'unreachable')).toEqual([]);

    // A restart that finds the cluster still down does not tell the channel again (the store remembers it told).
    await h.stopBot();
    await h.startBot();
    await waitFor(async () => (await stagingWatchRestarts()) >= 3, 'the restarted bot retried the staging watch');
    await h.settled();
    expect(notices('C0STAGING', 'unreachable')).toHaveLength(1);
  });

  it('refuses to start when an environment names a context the kubeconfig does not have, naming the path', async () => {
    const config = voting01Config({ staging: ['cluster: prod-us'] });
    h = await Harness.start({ noStart: true, config, clusters: ['prod-eu'] });
    await expect(h.startBot()).rejects.toThrow('apps[0].environments[2].cluster: no context "prod-us" in KUBECONFIG (contexts: emulator, prod-eu)');
  });

  it('tells apart the same namespace/rollout in two clusters: its own thread, reads and patches in each', async () => {
    const config = `
apps:
  - name: voting01
    repo: acme/voting01
    image: { ecrRepository: voting01-vote }
    environments:
      - { name: us, namespace: voting01, rollout: vote, slackChannel: C0US }
      - { name: eu, namespace: voting01, rollout: vote, slackChannel: C0EU, cluster: prod-eu }
`;
    h = await Harness.start({ noStart: true, config, clusters: ['prod-eu'] });
    h.controller.createCanary({ namespace: 'voting01', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 100 }] });
    euCluster().controller.createCanary({ namespace: 'voting01', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 20 }, { pause: {} }, { setWeight: 100 }] });
    h.ecr.addImage('voting01-vote', TAG);
    await h.startBot();
    await h.ready();
    euCluster().controller.deploy('voting01', 'vote', `${IMG}:${TAG}`);
    euCluster().controller.settle('voting01', 'vote');
    const eu = await thread('C0EU');
    await reply('C0EU', eu, 'waiting for promotion');
    await h.settled();
    expect(h.roots('C0US')).toEqual([]);
    await sendSlashCommand(h.sender, { command: '/promote', text: 'eu --force', userId: 'U1', channelId: 'C0EU', responseUrl: h.slack.newResponseUrl({ channel: 'C0EU', user: 'U1' }) });
    const card = await reply('C0EU', eu, 'Promote voting01 eu');
    expect(messageText(card)).toContain('Paused at step 2/3');
    await sendThreadMessage(h.sender, { channel: 'C0EU', threadTs: eu.ts, user: 'U1', text: 'promote' });
    await reply('C0EU', eu, 'Promoted by <@U1>');
    await h.settled();
    expect(euCluster().k8s.patches({ namespace: 'voting01', name: 'vote' })).toHaveLength(1);
    expect(h.k8s.patches({ namespace: 'voting01', name: 'vote' })).toEqual([]);
    // The US rollout, untouched by all that, gets its own thread in its own channel when it moves.
    h.controller.deploy('voting01', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01', 'vote');
    const us = await thread('C0US');
    await reply('C0US', us, 'waiting for promotion');
    expect(h.roots('C0EU')).toHaveLength(1);
  });
});
