import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { sendBlockAction, sendSlashCommand, sendThreadMessage } from '../../emulators/clients/slack-requests.js';
import { voting01Config } from '../../emulators/world/voting01-config.js';

/**
 * Issue 17, point 3: the two-person rule. With `approvers.required: 2` a request needs two different approvers (the
 * requester not counting by default); each approval shows on the card, edited in place, and the patch goes out once,
 * with the last approval. `/rollout reject` refuses what waits, and the card says who and why.
 */

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const LEAD = 'U0LEAD';
const SRE = 'U0SRE';
const STEP_PROMOTE = { contentType: 'application/merge-patch+json', body: { status: { pauseConditions: null } } };

const TWO = voting01Config({ qa: ['approvers: { slackUsers: [U0LEAD, U0SRE], required: 2 }'] });
const ONE = voting01Config({ qa: ['approvers: { slackUsers: [U0LEAD, U0SRE] }'] });

type Block = { type: string; elements?: Array<{ action_id?: string; value?: string }> };

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function reply(r: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies(r.channel, r.ts).find((m) => messageText(m).includes(text)), `"${text}"`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

/** Waits until the card (as Slack shows it now) says `text`. */
async function cardShows(card: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => {
    const now = h.slack.message(card.channel, card.ts)!;
    return messageText(now).includes(text) ? now : undefined;
  }, `card shows "${text}"`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

function buttons(m: SlackMessage): Array<{ action_id?: string; value?: string }> {
  return ((m.blocks ?? []) as Block[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
}

function patches() {
  return h.k8s.patches({ namespace: 'voting01-qa', name: 'vote' }).map((c) => ({ contentType: c.contentType, body: c.body }));
}

async function slash(text: string, user: string, command = '/promote') {
  const res = await sendSlashCommand(h.sender, { command, text, userId: user, channelId: 'C0QA', responseUrl: h.slack.newResponseUrl({ channel: 'C0QA', user }) });
  expect(res.status).toBe(200);
}

function press(card: SlackMessage, r: SlackMessage, user: string) {
  const value = buttons(card).find((b) => b.action_id === 'rollout_confirm')!.value!;
  return sendBlockAction(h.sender, { actionId: 'rollout_confirm', value, user, channel: card.channel, messageTs: card.ts, threadTs: r.ts, message: card });
}

function typed(r: SlackMessage, user: string, text = 'promote') {
  return sendThreadMessage(h.sender, { channel: 'C0QA', threadTs: r.ts, user, text });
}

/** dev completed TAG (proven); qa runs the standard canary to its first pause. */
async function qaWaiting(config: string): Promise<SlackMessage> {
  h = await Harness.start({ noStart: true, config });
  h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
  h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
  h.ecr.addImage('voting01-vote', TAG);
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-dev', 'vote');
  const dev = await waitFor(() => h.roots('C0DEV')[0], 'dev root');
  await reply(dev, 'Completed');
  h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-qa', 'vote');
  const qa = await waitFor(() => h.roots('C0QA')[0], 'qa root');
  await reply(qa, 'waiting for promotion');
  return qa;
}

describe('two approvers needed (approvers.required: 2)', () => {
  it('shows the first approval on the card, in place, and sends nothing', async () => {
    const qa = await qaWaiting(TWO);
    await slash('qa', 'U1');
    const card = await reply(qa, 'Promote voting01 qa?');
    await typed(qa, LEAD);
    const now = await cardShows(card, `1 of 2 approvals: <@${LEAD}>`);
    expect(buttons(now).map((b) => b.action_id)).toContain('rollout_confirm');
    await h.settled();
    expect(patches()).toEqual([]);
    expect(h.slack.replies('C0QA', qa.ts).filter((m) => messageText(m).includes('Promoted by'))).toEqual([]);
  });

  it('sends exactly one patch when the second approver confirms', async () => {
    const qa = await qaWaiting(TWO);
    await slash('qa', 'U1');
    const card = await reply(qa, 'Promote voting01 qa?');
    await press(card, qa, LEAD);
    const shown = await cardShows(card, '1 of 2 approvals');
    await Promise.all([press(shown, qa, SRE), press(shown, qa, SRE), typed(qa, SRE)]);
    await reply(qa, `Promoted by <@${SRE}>`);
    await cardShows(card, `Done: promoted by <@${SRE}>`);
    await h.settled();
    expect(patches()).toEqual([STEP_PROMOTE]);
  });

  it("does not count the requester's own confirmation", async () => {
    const qa = await qaWaiting(TWO);
    await slash('qa', LEAD);
    const card = await reply(qa, 'Promote voting01 qa?');
    await typed(qa, LEAD);
    await reply(qa, 'needs 2 approvers other than you');
    await press(card, qa, SRE);
    await cardShows(card, `1 of 2 approvals: <@${SRE}>`);
    await h.settled();
    expect(messageText(h.slack.message(card.channel, card.ts)!)).not.toContain('2 of 2 approvals');
    expect(patches()).toEqual([]);
  });

  it('counts the requester with requesterCounts: true', async () => {
    const qa = await qaWaiting(voting01Config({ qa: ['approvers: { slackUsers: [U0LEAD, U0SRE], required: 2, requesterCounts: true }'] }));
    await slash('qa', LEAD);
    const card = await reply(qa, 'Promote voting01 qa?');
    await typed(qa, LEAD);
    await cardShows(card, `1 of 2 approvals: <@${LEAD}>`);
    await typed(qa, SRE);
    await reply(qa, `Promoted by <@${SRE}>`);
    await h.settled();
    expect(patches()).toEqual([STEP_PROMOTE]);
  });
});

describe('/rollout reject', () => {
  it('shows who rejected and why on the card, and sends nothing', async () => {
    const qa = await qaWaiting(TWO);
    await slash('qa', 'U1');
    const card = await reply(qa, 'Promote voting01 qa?');
    await typed(qa, LEAD);
    await cardShows(card, '1 of 2 approvals');
    await slash('reject qa "not before the release notes"', SRE, '/rollout');
    const rejected = await cardShows(card, `Rejected by <@${SRE}>: not before the release notes`);
    expect(buttons(rejected)).toEqual([]);
    await typed(qa, SRE);
    await reply(qa, 'cancelled by');
    await h.settled();
    expect(patches()).toEqual([]);
  });

  it('is for approvers only', async () => {
    const qa = await qaWaiting(TWO);
    await slash('qa', 'U1');
    const card = await reply(qa, 'Promote voting01 qa?');
    await slash('reject qa no', 'U1', '/rollout');
    await h.settled();
    expect(messageText(h.slack.message(card.channel, card.ts)!)).not.toContain('Rejected');
    expect(buttons(h.slack.message(card.channel, card.ts)!).length).toBeGreaterThan(0);
  });
});

describe('approvers.required: 1 (the default)', () => {
  it("keeps today's rule: one approver confirms, also their own request, and the patch goes out at once", async () => {
    const qa = await qaWaiting(ONE);
    await slash('qa', LEAD);
    const card = await reply(qa, 'Promote voting01 qa?');
    await typed(qa, LEAD);
    await reply(qa, `Promoted by <@${LEAD}>`);
    await h.settled();
    expect(messageText(h.slack.message(card.channel, card.ts)!)).not.toContain('approvals');
    expect(patches()).toEqual([STEP_PROMOTE]);
  });
});
