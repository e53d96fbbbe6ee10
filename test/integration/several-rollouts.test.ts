import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { sendBlockAction, sendSlashCommand, sendThreadMessage } from '../../emulators/clients/slack-requests.js';
import { issueCommentPayload, pushPayload } from '../../emulators/clients/github-webhooks.js';

/**
 * Issue 17, point 1: several rollouts per environment. An app built as a backend and a frontend image from one commit
 * has one thread per deploy whose card shows both; `/promote` verifies each tag in its own ECR repository and promotes
 * every paused rollout with one confirmation; the chain dispatches once, when both completed; an abort of one is
 * broadcast with its reason.
 */

const ECR = '123456789012.dkr.ecr.us-east-1.amazonaws.com';
const BACK = `${ECR}/shop-backend`;
const FRONT = `${ECR}/shop-frontend`;
const SHA = 'ea11a24';
const BACK_TAG = `${SHA}-20260129125607`;
const FRONT_TAG = `${SHA}-20260129125840`;
const LEAD = 'U0LEAD';
const STEP_PROMOTE = { contentType: 'application/merge-patch+json', body: { status: { pauseConditions: null } } };

const env = (name: string, channel: string, extra: string[] = []) => [
  `      - name: ${name}`,
  `        namespace: shop-${name}`,
  '        rollouts:',
  '          - { rollout: backend }',
  '          - { rollout: frontend, ecrRepository: shop-frontend }',
  `        slackChannel: ${channel}`,
  ...extra.map((l) => `        ${l}`),
].join('\n');

const CONFIG = `
apps:
  - name: shop
    repo: acme/shop
    image: { ecrRepository: shop-backend }
    environments:
${env('dev', 'C0DEV')}
${env('qa', 'C0QA', ['approvers: { slackUsers: [U0LEAD], githubUsers: [ada] }', 'deploy: { workflow: deploy.yaml, auto: true }'])}
`;

let h: Harness;
afterEach(async () => {
  await h?.close();
});

function fail(err: Error): never {
  throw new Error(`${err.message}\n${h.slack.transcript()}`);
}

async function reply(r: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies(r.channel, r.ts).find((m) => messageText(m).includes(text)), `"${text}"`).catch(fail);
}

async function cardShows(card: SlackMessage, ...texts: string[]): Promise<string> {
  return waitFor(() => {
    const now = messageText(h.slack.message(card.channel, card.ts)!);
    return texts.every((t) => now.includes(t)) ? now : undefined;
  }, `card shows ${texts.join(', ')}`).catch(fail);
}

function patches(ns: string, name: string) {
  return h.k8s.patches({ namespace: ns, name }).map((c) => ({ contentType: c.contentType, body: c.body }));
}

/** dev's canaries have no pause (a deploy completes when settled); qa's pause at each step and run a background analysis. */
async function start(o: { dispatch?: boolean; devPauses?: boolean; frontendInEcr?: boolean } = {}): Promise<void> {
  h = await Harness.start({ noStart: true, config: CONFIG });
  h.github.addRepo('acme/shop');
  if (o.dispatch) h.github.addWorkflow('acme/shop', 'deploy.yaml', { inputs: ['environment', 'image_tag'] });
  for (const ns of ['shop-dev', 'shop-qa']) {
    const steps = ns === 'shop-qa' || o.devPauses ? STANDARD_CANARY_STEPS : [{ setWeight: 50 }];
    const backgroundAnalysis = ns === 'shop-qa';
    h.controller.createCanary({ namespace: ns, name: 'backend', image: `${BACK}:0000000-1`, steps, backgroundAnalysis });
    h.controller.createCanary({ namespace: ns, name: 'frontend', image: `${FRONT}:0000000-1`, steps, backgroundAnalysis });
  }
  h.ecr.addImage('shop-backend', BACK_TAG);
  if (o.frontendInEcr !== false) h.ecr.addImage('shop-frontend', FRONT_TAG);
  else h.ecr.addRepository('shop-frontend');
  await h.startBot();
  await h.ready();
}

/** Both rollouts of `ns` get the commit's images and run to their first pause; resolves to the deploy's one root. */
async function deployBoth(ns: string, channel: string): Promise<SlackMessage> {
  h.controller.deploy(ns, 'backend', `${BACK}:${BACK_TAG}`);
  h.controller.settle(ns, 'backend');
  const root = await waitFor(() => h.roots(channel)[0], 'root card').catch(fail);
  h.controller.deploy(ns, 'frontend', `${FRONT}:${FRONT_TAG}`);
  h.controller.settle(ns, 'frontend');
  await reply(root, 'frontend');
  return root;
}

/** dev: both rollouts complete (the tags are proven there). */
async function devCompleted(): Promise<SlackMessage> {
  const dev = await deployBoth('shop-dev', 'C0DEV');
  await cardShows(dev, 'Completed: all 2 rollouts are stable');
  return dev;
}

describe('several rollouts per environment', () => {
  it('keeps one thread per deploy: the card shows each rollout, replies name theirs', async () => {
    await start({ devPauses: true });
    const root = await deployBoth('shop-dev', 'C0DEV');
    await h.settled();
    expect(h.roots('C0DEV')).toHaveLength(1);
    const card = await cardShows(root, 'shop · dev · deploy ea11a24', 'backend', BACK_TAG, 'frontend', FRONT_TAG, 'backend and frontend waiting for promotion');
    expect(card).toContain('Paused at step 2/7');
    const waits = h.replyTexts('C0DEV', root.ts).filter((t) => t.includes('waiting for promotion'));
    expect(waits.some((t) => t.includes('backend'))).toBe(true);
    expect(waits.some((t) => t.includes('frontend'))).toBe(true);
    // The card carries one Promote button for the deploy.
    const blocks = (h.slack.message('C0DEV', root.ts)!.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id?: string }> }>;
    expect(blocks.filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []).map((e) => e.action_id)).toEqual(['rollout_promote']);
  });

  it('verifies each tag in its own ECR repository and promotes every paused rollout with one confirmation', async () => {
    await start();
    await devCompleted();
    const qa = await deployBoth('shop-qa', 'C0QA');
    await reply(qa, 'waiting for promotion');
    const res = await sendSlashCommand(h.sender, { command: '/promote', text: 'qa', userId: 'U1', channelId: 'C0QA', responseUrl: h.slack.newResponseUrl({ channel: 'C0QA', user: 'U1' }) });
    expect(res.status).toBe(200);
    const card = await reply(qa, 'Promote shop qa?');
    const text = messageText(card);
    expect(text).toContain(`\`${BACK_TAG}\` verified in ECR \`shop-backend\``);
    expect(text).toContain(`\`${FRONT_TAG}\` verified in ECR \`shop-frontend\``);
    await h.settled();
    expect(patches('shop-qa', 'backend')).toEqual([]);
    await sendThreadMessage(h.sender, { channel: 'C0QA', threadTs: qa.ts, user: LEAD, text: 'promote' });
    await waitFor(() => patches('shop-qa', 'backend').length && patches('shop-qa', 'frontend').length, 'both patched').catch(fail);
    await h.settled();
    expect(patches('shop-qa', 'backend')).toEqual([STEP_PROMOTE]);
    expect(patches('shop-qa', 'frontend')).toEqual([STEP_PROMOTE]);
    expect(patches('shop-dev', 'backend')).toEqual([]);
    expect(h.roots('C0QA')).toHaveLength(1);
  });

  it('refuses the whole promotion when one tag is missing in its repository, and patches nothing', async () => {
    await start({ frontendInEcr: false });
    await devCompleted();
    const qa = await deployBoth('shop-qa', 'C0QA');
    await sendSlashCommand(h.sender, { command: '/promote', text: 'qa', userId: LEAD, channelId: 'C0QA', responseUrl: h.slack.newResponseUrl({ channel: 'C0QA', user: LEAD }) });
    const refused = await reply(qa, 'Cannot promote shop qa');
    expect(messageText(refused)).toContain('frontend');
    expect(messageText(refused)).toContain('does not exist in ECR repository `shop-frontend`');
    await h.settled();
    expect(patches('shop-qa', 'backend')).toEqual([]);
    expect(patches('shop-qa', 'frontend')).toEqual([]);
  });

  it('dispatches the chain once, when every rollout of the deploy completed', async () => {
    await start({ dispatch: true });
    h.controller.deploy('shop-dev', 'backend', `${BACK}:${BACK_TAG}`);
    h.controller.settle('shop-dev', 'backend');
    const dev = await waitFor(() => h.roots('C0DEV')[0], 'root card').catch(fail);
    await reply(dev, 'Completed');
    // frontend still runs an older commit's image: the chain waits for it, and says so.
    await reply(dev, '`frontend` has not deployed this commit in dev yet');
    await h.settled();
    expect(h.github.dispatches('acme/shop')).toEqual([]);
    h.controller.deploy('shop-dev', 'frontend', `${FRONT}:${FRONT_TAG}`);
    h.controller.settle('shop-dev', 'frontend');
    await cardShows(dev, 'Completed: all 2 rollouts are stable');
    await waitFor(() => h.github.dispatches('acme/shop').length > 0, 'dispatch').catch(fail);
    await h.settled();
    expect(h.github.dispatches('acme/shop').map((d) => d.inputs)).toEqual([{ environment: 'qa', image_tag: BACK_TAG }]);
  });

  it('broadcasts the abort of one rollout with its reason and shows it on the card', async () => {
    await start();
    await devCompleted();
    const qa = await deployBoth('shop-qa', 'C0QA');
    h.controller.failAnalysis('shop-qa', 'frontend', { kind: 'background', message: 'metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)' });
    h.controller.settle('shop-qa', 'frontend');
    const aborted = await reply(qa, 'Aborted');
    expect(messageText(aborted)).toContain('frontend');
    expect(messageText(aborted)).toContain('error-rate');
    expect(aborted.replyBroadcast).toBe(true);
    await cardShows(qa, 'Aborted: frontend', 'frontend aborted:');
  });

  it('answers /rollout status with a line per rollout', async () => {
    await start({ devPauses: true });
    await deployBoth('shop-dev', 'C0DEV');
    await h.settled();
    const before = h.slack.responses.length;
    const res = await sendSlashCommand(h.sender, { command: '/rollout', text: 'status dev', userId: 'U1', channelId: 'C0DEV', responseUrl: h.slack.newResponseUrl({ channel: 'C0DEV', user: 'U1' }) });
    expect(res.status).toBe(200);
    // Answered in the ack (or, when slow, through the response URL).
    const acked = res.body ? String(res.json<{ text?: string }>().text ?? '') : '';
    const answered = acked || String((await waitFor(() => h.slack.responses.slice(before).find((r) => r.body?.text), 'status answer').catch(fail)).body.text);
    expect(answered).toContain('`backend`');
    expect(answered).toContain('`frontend`');
    expect(answered).toContain(BACK_TAG);
    expect(answered).toContain(FRONT_TAG);
  });

  it('presses Promote on the card: both paused rollouts get their patch', async () => {
    await start();
    await devCompleted();
    const qa = await deployBoth('shop-qa', 'C0QA');
    const card = h.slack.message('C0QA', qa.ts)!;
    await cardShows(qa, 'backend and frontend waiting for promotion');
    const now = h.slack.message('C0QA', qa.ts)!;
    const button = ((now.blocks ?? []) as Array<{ type: string; elements?: Array<{ action_id?: string; value?: string }> }>).flatMap((b) => b.elements ?? []).find((e) => e.action_id === 'rollout_promote')!;
    await sendBlockAction(h.sender, { actionId: 'rollout_promote', value: button.value!, user: LEAD, channel: 'C0QA', messageTs: card.ts, message: now });
    await waitFor(() => patches('shop-qa', 'backend').length && patches('shop-qa', 'frontend').length, 'both patched').catch(fail);
    await h.settled();
    expect(patches('shop-qa', 'backend')).toEqual([STEP_PROMOTE]);
    expect(patches('shop-qa', 'frontend')).toEqual([STEP_PROMOTE]);
  });

  it('goes on in the same thread after a restart, posting nothing twice', async () => {
    await start({ devPauses: true });
    const dev = await deployBoth('shop-dev', 'C0DEV');
    await h.settled();
    const before = h.replyTexts('C0DEV', dev.ts);
    await h.stopBot();
    h.controller.failAnalysis('shop-dev', 'backend', { kind: 'step', message: 'metric "latency" assessed Failed' });
    h.controller.settle('shop-dev', 'backend');
    await h.startBot();
    await h.ready();
    await reply(dev, 'Aborted');
    await cardShows(dev, 'Aborted: backend');
    await h.settled();
    expect(h.roots('C0DEV')).toHaveLength(1);
    const after = h.replyTexts('C0DEV', dev.ts);
    expect(after.slice(0, before.length)).toEqual(before);
    expect(after.filter((t) => t.includes('waiting for promotion'))).toHaveLength(2);
    expect(after.filter((t) => t.includes('Aborted'))).toHaveLength(1);
  });

  it('mirrors the deploy as one GitHub deployment, successful once every rollout completed', async () => {
    await start();
    const full = `${SHA}b3c4d5e6f708192a3b4c5d6e7f8091a2b`;
    const at = new Date().toISOString();
    const payload = pushPayload({ repo: 'acme/shop', commits: [{ id: full, message: 'Both halves', timestamp: at, author: { name: 'Ada Lovelace', email: 'ada@example.com', username: 'ada' } }], sender: { login: 'ada', type: 'User' } });
    expect((await h.webhook('push', payload)).status).toBeLessThan(300);
    h.controller.deploy('shop-dev', 'backend', `${BACK}:${BACK_TAG}`);
    h.controller.deploy('shop-dev', 'frontend', `${FRONT}:${FRONT_TAG}`);
    h.controller.settle('shop-dev', 'backend');
    const dev = await waitFor(() => h.roots('C0DEV')[0], 'root card').catch(fail);
    await reply(dev, '*backend* · ✅');
    await h.settled();
    const deployments = () => h.github.deployments('acme/shop').filter((d) => d.environment === 'dev');
    await waitFor(() => deployments().length === 1, 'one deployment').catch(fail);
    const id = deployments()[0]!.id;
    // backend completed, frontend still rolling out: the deploy is not a success yet.
    expect(h.github.deploymentStatuses(id).map((s) => s.state)).not.toContain('success');
    h.controller.settle('shop-dev', 'frontend');
    await cardShows(dev, 'Completed: all 2 rollouts are stable');
    await waitFor(() => h.github.deploymentStatuses(id).some((s) => s.state === 'success'), 'success status').catch(fail);
    await h.settled();
    expect(deployments()).toHaveLength(1);
    expect(deployments()[0]!.sha).toBe(full);
  });

  it('promotes both paused rollouts from a PR comment, and answers with every tag', async () => {
    await start();
    await devCompleted();
    const qa = await deployBoth('shop-qa', 'C0QA');
    await cardShows(qa, 'backend and frontend waiting for promotion');
    h.github.setPermission('acme/shop', 'ada', 'write');
    const payload = issueCommentPayload({ repo: 'acme/shop', issueNumber: 7, isPullRequest: true, body: '/promote qa', user: { login: 'ada' } });
    expect((await h.webhook('issue_comment', payload)).status).toBe(200);
    const answer = await h.github.waitFor(() => h.github.comments('acme/shop', 7)[0], 'reply comment');
    expect(answer.body).toContain(BACK_TAG);
    expect(answer.body).toContain(FRONT_TAG);
    await waitFor(() => patches('shop-qa', 'backend').length && patches('shop-qa', 'frontend').length, 'both patched').catch(fail);
    await h.settled();
    expect(patches('shop-qa', 'backend')).toEqual([STEP_PROMOTE]);
    expect(patches('shop-qa', 'frontend')).toEqual([STEP_PROMOTE]);
  });

  it('reports each rollout of the deploy on /rollout report', async () => {
    await start();
    const dev = await devCompleted();
    const res = await sendSlashCommand(h.sender, { command: '/rollout', text: 'report dev', userId: 'U1', channelId: 'C0DEV', responseUrl: h.slack.newResponseUrl({ channel: 'C0DEV', user: 'U1' }) });
    expect(res.status).toBe(200);
    const back = await reply(dev, 'shop dev · backend');
    const front = await reply(dev, 'shop dev · frontend');
    expect(messageText(back)).toContain(BACK_TAG);
    expect(messageText(front)).toContain(FRONT_TAG);
  });
});
