import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/ports.js';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import * as scenarios from '../support/scenarios.js';
import { SkewClock } from '../support/skew-clock.js';
import { issueCommentPayload } from '../../emulators/clients/github-webhooks.js';
import { STAGING_BLUE_GREEN, voting01Config } from '../../emulators/world/voting01-config.js';
import { sendBlockAction, sendSlashCommand, sendThreadMessage } from '../../emulators/clients/slack-requests.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const LEAD = 'U0LEAD';

let h: Harness;
afterEach(async () => {
  await h?.close();
});


function statusPatch(ns: string) {
  return h.k8s.patches({ namespace: ns, name: 'vote' }).map((c) => ({ path: c.path.replace(/^.*\/rollouts\//, ''), contentType: c.contentType, body: c.body }));
}

async function thread(channel: string): Promise<SlackMessage> {
  return waitFor(() => h.roots(channel)[0], `root in ${channel}`);
}

async function reply(channel: string, root: SlackMessage, text: string, timeoutMs = 5000): Promise<SlackMessage> {
  // A confirmation card also comes to say "Promoted by …" once done: an outcome is looked for in the replies after it.
  const outcome = /^(Promoted|Aborted|Retried) by/.test(text);
  return waitFor(() => h.slack.replies(channel, root.ts).find((m) => messageText(m).includes(text) && !(outcome && m.text?.startsWith('🚦'))), `reply "${text}" in ${channel}`, timeoutMs).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

function confirmationId(card: SlackMessage): string {
  const actions = (card.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).find((b) => b.type === 'actions');
  return actions!.elements!.find((e) => e.action_id === 'rollout_confirm')!.value;
}

/** dev runs the standard canary; the bot starts; TAG is deployed and (unless `midStep`) runs to its first pause. */
async function devCanary(o: { images?: string[]; midStep?: boolean } = {}): Promise<SlackMessage> {
  h = await Harness.start({ noStart: true });
  h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
  for (const tag of o.images ?? [TAG]) h.ecr.addImage('voting01-vote', tag);
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
  if (!o.midStep) h.controller.settle('voting01-dev', 'vote');
  return thread('C0DEV');
}

/** qa completes the tag (so it is proven), staging pauses with its preview ready. */
async function stagingWaitingWithProvenTag(opts: { clock?: Clock; config?: string } = {}) {
  h = await Harness.start({ noStart: true, config: opts.config, overrides: opts.clock ? { clock: opts.clock } : {} });
  return (await scenarios.stagingWaiting(h, { waitText: 'Preview ready, waiting for promotion' })).staging;
}

async function slash(command: string, text: string, user = 'U1', channel = 'C0STAGING') {
  return sendSlashCommand(h.sender, { command, text, userId: user, channelId: channel, responseUrl: h.slack.newResponseUrl({ channel, user }) });
}

describe('promotion from Slack', () => {
  it('promotes a blue-green preview when an approver types promote, with exactly the status patch', async () => {
    const root = await stagingWaitingWithProvenTag();
    const ack = await slash('/promote', 'staging');
    expect(ack.status).toBe(200);
    const card = await reply('C0STAGING', root, 'Promote voting01 staging?');
    const text = messageText(card);
    expect(text).toContain(`Image tag \`${TAG}\` verified in ECR \`voting01-vote\``);
    expect(text).toMatch(/digest `sha256:[0-9a-f]{8}…`/);
    expect(text).not.toMatch(/[0-9a-f]{64}/);
    expect(text).toContain('Paused: preview ready, waiting for promotion · revision 2');
    expect(text).toContain('Proven: completed in qa');
    await waitFor(() => h.slack.responses.some((r) => String(r.body.text).includes('waiting for confirmation')), 'ephemeral pointer');
    expect(statusPatch('voting01-staging')).toEqual([]);

    await sendThreadMessage(h.sender, { channel: 'C0STAGING', threadTs: root.ts, user: LEAD, text: 'promote' });
    const promoted = await reply('C0STAGING', root, `Promoted by <@${LEAD}>`);
    expect(promoted.text).toBe(`🚀 Promoted by <@${LEAD}>: switches the active service to the preview.`);
    expect(statusPatch('voting01-staging')).toEqual([{ path: 'vote/status', contentType: 'application/merge-patch+json', body: { status: { pauseConditions: null } } }]);

    h.controller.settle('voting01-staging', 'vote');
    await reply('C0STAGING', root, 'Completed');
    await h.settled();
    expect(messageText(h.slack.message('C0STAGING', root.ts)!)).toMatch(/promoted by <@U0LEAD>/);
    const history = await slash('/rollout', 'history staging');
    expect(history.json<{ text: string }>().text).toMatch(/completed \(promoted by <@U0LEAD>\)/);
  });

  it('promotes when an approver presses the Promote button (after its confirm dialog)', async () => {
    const root = await stagingWaitingWithProvenTag();
    await slash('/promote', 'staging');
    const card = await reply('C0STAGING', root, 'Promote voting01 staging?');
    const button = (card.blocks as Array<{ type: string; elements?: Array<Record<string, unknown>> }>).find((b) => b.type === 'actions')!.elements![0]!;
    expect(button.confirm).toBeDefined();
    const res = await sendBlockAction(h.sender, { actionId: 'rollout_confirm', value: confirmationId(card), user: LEAD, channel: 'C0STAGING', messageTs: card.ts, threadTs: root.ts });
    expect(res.status).toBe(200);
    await reply('C0STAGING', root, 'Promoted by');
    expect(statusPatch('voting01-staging')).toHaveLength(1);
  });

  it('promotes a canary at a pause step to the next step', async () => {
    const root = await devCanary();
    await reply('C0DEV', root, 'waiting for promotion');
    await slash('/promote', 'dev', 'U7', 'C0DEV');
    const card = await reply('C0DEV', root, 'Promote voting01 dev?');
    expect(messageText(card)).toContain('dev is the first environment');
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: root.ts, user: 'U7', text: 'promote' });
    const promoted = await reply('C0DEV', root, 'Promoted by <@U7>');
    expect(promoted.text).toBe('🚀 Promoted by <@U7>: continues from step 2/7 (pause) to step 3/7 (setWeight: 30).');
    expect(statusPatch('voting01-dev')).toEqual([{ path: 'vote/status', contentType: 'application/merge-patch+json', body: { status: { pauseConditions: null } } }]);
    h.controller.settle('voting01-dev', 'vote');
    await reply('C0DEV', root, 'Step 3/7 completed (setWeight: 30)');
    // The step the promotion completed is told by the promotion's reply, not once more.
    expect(h.replyTexts('C0DEV', root.ts).filter((t) => t.includes('Step 2/7 completed'))).toEqual([]);
  });

  it('refuses to promote a canary in the middle of a step, naming --full', async () => {
    const root = await devCanary({ midStep: true }); // running step 1 (setWeight 10)
    await slash('/promote', 'dev', 'U7', 'C0DEV');
    const card = await reply('C0DEV', root, 'Cannot promote voting01 dev');
    expect(messageText(card)).toContain('would skip the running step');
    expect(messageText(card)).toContain('--full');
    await h.settled();
    expect(statusPatch('voting01-dev')).toEqual([]);
  });

  it('refuses a tag that does not exist in ECR, naming tag and repository', async () => {
    const root = await devCanary({ images: ['0000000-1'] });
    await slash('/promote', 'dev', 'U7', 'C0DEV');
    const card = await reply('C0DEV', root, 'Cannot promote');
    expect(messageText(card)).toContain(`image tag \`${TAG}\` does not exist in ECR repository \`voting01-vote\``);
    expect(statusPatch('voting01-dev')).toEqual([]);
  });

  it('reports ECR being down as such, never as a missing tag', async () => {
    const root = await devCanary();
    h.ecr.failNext({ count: 1, kind: 'AccessDenied' });
    await slash('/promote', 'dev', 'U7', 'C0DEV');
    const card = await reply('C0DEV', root, 'Cannot promote');
    expect(messageText(card)).toContain('could not verify the image in ECR');
    expect(messageText(card)).toContain('denied access');
    expect(messageText(card)).not.toContain('does not exist');
    expect(statusPatch('voting01-dev')).toEqual([]);
  });

  it('politely refuses a non-approver, naming who may approve', async () => {
    const root = await stagingWaitingWithProvenTag();
    await slash('/promote', 'staging');
    await reply('C0STAGING', root, 'Promote voting01 staging?');
    await sendThreadMessage(h.sender, { channel: 'C0STAGING', threadTs: root.ts, user: 'U1', text: 'promote' });
    const refusal = await reply('C0STAGING', root, 'only approvers');
    expect(messageText(refusal)).toContain('<@U0LEAD>');
    await h.settled();
    expect(statusPatch('voting01-staging')).toEqual([]);
  });

  it('says a confirmation expired after 10 minutes, and sends nothing', async () => {
    // Confirmations expire after 10 minutes.
    const clock = new SkewClock();
    const root = await stagingWaitingWithProvenTag({ clock });
    await slash('/promote', 'staging');
    await reply('C0STAGING', root, 'Promote voting01 staging?');
    clock.skip(11 * 60_000);
    await sendThreadMessage(h.sender, { channel: 'C0STAGING', threadTs: root.ts, user: LEAD, text: 'promote' });
    await reply('C0STAGING', root, 'confirmation expired');
    expect(statusPatch('voting01-staging')).toEqual([]);
  });

  it('sends one patch when Slack retries the promote message', async () => {
    const root = await stagingWaitingWithProvenTag();
    await slash('/promote', 'staging');
    await reply('C0STAGING', root, 'Promote voting01 staging?');
    const msg = { channel: 'C0STAGING', threadTs: root.ts, user: LEAD, text: 'promote', eventId: 'Ev0PROMOTE', ts: '1700000999.000100' };
    await sendThreadMessage(h.sender, msg);
    await sendThreadMessage(h.sender, { ...msg, retryNum: 1, retryReason: 'http_timeout' });
    await sendThreadMessage(h.sender, { ...msg, retryNum: 2, retryReason: 'http_timeout' });
    await reply('C0STAGING', root, 'Promoted by');
    await h.settled();
    expect(statusPatch('voting01-staging')).toHaveLength(1);
    expect(h.replyTexts('C0STAGING', root.ts).filter((t) => t.includes('Promoted by'))).toHaveLength(1);
  });

  it('sends one patch when two approvers confirm at the same moment', async () => {
    const root = await stagingWaitingWithProvenTag();
    await slash('/promote', 'staging');
    const card = await reply('C0STAGING', root, 'Promote voting01 staging?');
    const id = confirmationId(card);
    await Promise.all([
      sendThreadMessage(h.sender, { channel: 'C0STAGING', threadTs: root.ts, user: LEAD, text: 'promote' }),
      sendBlockAction(h.sender, { actionId: 'rollout_confirm', value: id, user: LEAD, channel: 'C0STAGING', messageTs: card.ts, threadTs: root.ts }),
      sendBlockAction(h.sender, { actionId: 'rollout_confirm', value: id, user: LEAD, channel: 'C0STAGING', messageTs: card.ts, threadTs: root.ts }),
    ]);
    await reply('C0STAGING', root, 'Promoted by');
    await h.settled();
    expect(statusPatch('voting01-staging')).toHaveLength(1);
  });

  it('shows the exact patches on --dry-run and sends none', async () => {
    const root = await stagingWaitingWithProvenTag();
    await slash('/promote', 'staging --dry-run');
    const card = await reply('C0STAGING', root, 'Dry run');
    expect(messageText(card)).toContain('PATCH rollouts/status {"status":{"pauseConditions":null}}');
    expect(messageText(card)).toContain('nothing was sent');
    await h.settled();
    expect(statusPatch('voting01-staging')).toEqual([]);
  });

  it('refuses a tag not proven in the previous environment, then promotes with --force and records the override', async () => {
    h = await Harness.start({ noStart: true });
    h.controller.createBlueGreen({ namespace: 'voting01-staging', name: 'vote', image: `${IMG}:0000000-1`, autoPromotionEnabled: false });
    h.ecr.addImage('voting01-vote', TAG);
    await h.startBot();
    await h.ready();
    h.controller.deploy('voting01-staging', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-staging', 'vote');
    const root = await thread('C0STAGING');
    await reply('C0STAGING', root, 'Preview ready');

    await slash('/promote', 'staging', LEAD);
    const refused = await reply('C0STAGING', root, 'Cannot promote');
    expect(messageText(refused)).toContain(`tag \`${TAG}\` has not been deployed to qa`);

    const nonApprover = await slash('/promote', 'staging --force', 'U1');
    expect(nonApprover.status).toBe(200);
    await waitFor(() => h.slack.responses.some((r) => String(r.body.text).includes('only approvers')), '--force refused for non-approver');

    await slash('/promote', 'staging --force', LEAD);
    const card = await reply('C0STAGING', root, 'Promote voting01 staging — FORCE: overrides the check that the tag completed in the previous environment (recorded)?');
    expect(messageText(card)).toContain('override with --force');
    await sendThreadMessage(h.sender, { channel: 'C0STAGING', threadTs: root.ts, user: LEAD, text: 'promote' });
    const done = await reply('C0STAGING', root, 'Promoted by');
    expect(messageText(done)).toContain('Override recorded');
    expect(statusPatch('voting01-staging')).toHaveLength(1);
  });
});

describe('promotion from a PR comment', () => {
  it('promotes at once after the same checks, answering with the preflight facts and the outcome', async () => {
    // Staging restricts its Slack approvers, so a comment may promote it only for a GitHub approver it names.
    const root = await stagingWaitingWithProvenTag({ config: voting01Config({ staging: [...STAGING_BLUE_GREEN, 'approvers:', '  slackUsers: [U0LEAD]', '  githubUsers: [ada]'] }) });
    h.github.setPermission('acme/voting01', 'ada', 'write');
    const payload = issueCommentPayload({ repo: 'acme/voting01', issueNumber: 21, isPullRequest: true, body: '/promote staging', user: { login: 'ada' } });
    const res = await h.webhook('issue_comment', payload);
    expect(res.status).toBe(200);
    const comment = await h.github.waitFor(() => h.github.comments('acme/voting01', 21)[0], 'reply comment');
    expect(comment.body).toContain(`verified in ECR`);
    expect(comment.body).toMatch(/sha256:[0-9a-f]{8}…/);
    expect(comment.body).toContain('Promoted by @ada from GitHub');
    expect(statusPatch('voting01-staging')).toEqual([{ path: 'vote/status', contentType: 'application/merge-patch+json', body: { status: { pauseConditions: null } } }]);
    await reply('C0STAGING', root, 'Promoted by @ada from GitHub');
  });

  it('refuses a reader and sends nothing', async () => {
    await stagingWaitingWithProvenTag();
    h.github.setPermission('acme/voting01', 'rita', 'read');
    await h.webhook('issue_comment', issueCommentPayload({ repo: 'acme/voting01', issueNumber: 22, isPullRequest: true, body: '/promote staging', user: { login: 'rita' } }));
    const comment = await h.github.waitFor(() => h.github.comments('acme/voting01', 22)[0], 'refusal');
    expect(comment.body).toContain('needs **write** permission');
    expect(statusPatch('voting01-staging')).toEqual([]);
  });
});

describe('abort and retry', () => {
  it('aborts after confirmation with the abort patch, and retries with the retry patch', async () => {
    const root = await devCanary({ images: [] });
    await slash('/rollout', 'abort dev', 'U7', 'C0DEV');
    await reply('C0DEV', root, 'Abort voting01 dev?');
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: root.ts, user: 'U7', text: 'abort' });
    await reply('C0DEV', root, 'Aborted by <@U7>');
    expect(statusPatch('voting01-dev')).toEqual([{ path: 'vote/status', contentType: 'application/merge-patch+json', body: { status: { abort: true } } }]);
    h.controller.settle('voting01-dev', 'vote');
    await reply('C0DEV', root, '🛑 Aborted');

    await slash('/rollout', 'retry', 'U7', 'C0DEV'); // typed in dev's channel: dev is meant
    await reply('C0DEV', root, 'Retry voting01 dev?');
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: root.ts, user: 'U7', text: 'retry' });
    await reply('C0DEV', root, 'Retried by <@U7>');
    expect(statusPatch('voting01-dev')[1]).toEqual({ path: 'vote/status', contentType: 'application/merge-patch+json', body: { status: { abort: false } } });
  });
});
