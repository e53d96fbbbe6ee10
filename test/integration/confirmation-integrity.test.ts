import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { SkewClock } from '../support/skew-clock.js';
import * as scenarios from '../support/scenarios.js';
import { sendBlockAction, sendSlashCommand, sendThreadMessage } from '../../emulators/clients/slack-requests.js';
import { STAGING_BLUE_GREEN, voting01Config } from '../../emulators/world/voting01-config.js';

/**
 * Issue 11, point 3: a confirmation confirms exactly the request the confirmer saw. Somebody else's request (least of
 * all a non-approver's `--full`) never changes what an approver's typed `promote` or button press does.
 */

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const LEAD = 'U0LEAD';
const FULL_HEADLINE = 'Promote voting01 qa — FULL: skips all remaining steps and analysis?';
const STEP_PROMOTE = { contentType: 'application/merge-patch+json', body: { status: { pauseConditions: null } } };

/** qa restricted to one approver, as in the reproduction; dev open to anyone in its channel. */
const CONFIG = voting01Config({ qa: ['approvers: { slackUsers: [U0LEAD] }'], staging: [...STAGING_BLUE_GREEN, 'approvers: { slackUsers: [U0LEAD] }'] });
const CHAIN_CONFIG = voting01Config({
  qa: ['deploy: { workflow: ci-build-push.yaml, ref: main }', 'approvers: { slackUsers: [U0LEAD] }'],
  staging: [...STAGING_BLUE_GREEN, 'approvers: { slackUsers: [U0LEAD] }'],
});

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function root(channel: string): Promise<SlackMessage> {
  return waitFor(() => h.roots(channel)[0], `root in ${channel}`);
}

async function reply(channel: string, r: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies(channel, r.ts).find((m) => messageText(m).includes(text)), `"${text}" in ${channel}`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

async function ephemeral(user: string, text: string): Promise<string> {
  const found = await waitFor(() => h.slack.ephemerals({ user }).find((e) => e.text.includes(text)), `ephemeral "${text}" to ${user}`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
  return found.text;
}

function patches(ns: string) {
  return h.k8s.patches({ namespace: ns, name: 'vote' }).map((c) => ({ contentType: c.contentType, body: c.body }));
}

function confirmationId(card: SlackMessage, actionId = 'rollout_confirm'): string {
  const actions = (card.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).find((b) => b.type === 'actions');
  return actions!.elements!.find((e) => e.action_id === actionId)!.value;
}

async function slash(text: string, user: string, channel: string, command = '/promote') {
  const res = await sendSlashCommand(h.sender, { command, text, userId: user, channelId: channel, responseUrl: h.slack.newResponseUrl({ channel, user }) });
  expect(res.status).toBe(200);
}

function press(card: SlackMessage, r: SlackMessage, user: string, o: { actionId?: string; channel?: string; threadTs?: string } = {}) {
  const actionId = o.actionId ?? 'rollout_confirm';
  const channel = o.channel ?? card.channel;
  return sendBlockAction(h.sender, { actionId, value: confirmationId(card, actionId), user, channel, messageTs: card.ts, threadTs: o.threadTs ?? r.ts, message: card });
}

/** dev (a one-step canary) completed TAG, so it is proven; qa runs the standard canary to its first (indefinite) pause. */
async function qaWaiting(o: { clock?: SkewClock } = {}): Promise<{ qa: SlackMessage; dev: SlackMessage }> {
  h = await Harness.start({ noStart: true, config: CONFIG, overrides: o.clock ? { clock: o.clock } : {} });
  return scenarios.qaWaiting(h);
}

/** dev (open to anyone) runs the standard canary to its first pause. */
async function devWaiting(): Promise<SlackMessage> {
  h = await Harness.start({ noStart: true, config: CONFIG });
  h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
  h.ecr.addImage('voting01-vote', TAG);
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-dev', 'vote');
  const dev = await root('C0DEV');
  await reply('C0DEV', dev, 'waiting for promotion');
  return dev;
}

describe('a non-approver cannot change what an approver confirms', () => {
  it('sends the plain step promote the approver asked for when a non-approver asked for --full in between', async () => {
    const { qa } = await qaWaiting();
    await slash('qa', LEAD, 'C0QA');
    await reply('C0QA', qa, 'Promote voting01 qa?');
    await slash('qa --full', 'U1', 'C0QA');
    await reply('C0QA', qa, FULL_HEADLINE);

    await sendThreadMessage(h.sender, { channel: 'C0QA', threadTs: qa.ts, user: LEAD, text: 'promote' });
    const done = await reply('C0QA', qa, `Promoted by <@${LEAD}>`);
    expect(messageText(done)).not.toContain('(full)');
    await h.settled();
    expect(patches('voting01-qa')).toEqual([STEP_PROMOTE]);
  });

  it("shows the non-approver's request as waiting for an approver, naming the requester and the flag in its headline", async () => {
    const { qa } = await qaWaiting();
    await slash('qa', LEAD, 'C0QA');
    const leadCard = await reply('C0QA', qa, 'Promote voting01 qa?');
    expect(messageText(leadCard).split('\n')[0]).toBe(`🚦 Promote voting01 qa? requested by <@${LEAD}>`);
    await slash('qa --full', 'U1', 'C0QA');
    const fullCard = await reply('C0QA', qa, FULL_HEADLINE);
    const text = messageText(fullCard);
    expect(text.split('\n')[0]).toBe(`🚦 ${FULL_HEADLINE} requested by <@U1>, who is not an approver: waiting for an approver (<@${LEAD}>)`);
    expect(text).toContain(`Also waiting in this thread: Promote voting01 qa, requested by <@${LEAD}>`);
    const button = (fullCard.blocks as Array<{ type: string; elements?: Array<{ confirm?: { title: { text: string }; text: { text: string } } }> }>).find((b) => b.type === 'actions')!.elements![0]!;
    expect(button.confirm!.title.text).toBe('Promote qa (FULL)?');
    expect(button.confirm!.text.text).toContain('FULL: skips all remaining steps and analysis');
    expect(button.confirm!.text.text).toContain('Requested by <@U1>');
  });

  it("keeps the approver's card working: its button sends the plain promote after a non-approver's --full request", async () => {
    const { qa } = await qaWaiting();
    await slash('qa', LEAD, 'C0QA');
    const leadCard = await reply('C0QA', qa, 'Promote voting01 qa?');
    await slash('qa --full', 'U1', 'C0QA');
    await reply('C0QA', qa, FULL_HEADLINE);
    await press(leadCard, qa, LEAD);
    await reply('C0QA', qa, `Promoted by <@${LEAD}>`);
    await h.settled();
    expect(patches('voting01-qa')).toEqual([STEP_PROMOTE]);
  });

  it("sends --full only from the --full card's own button, and says so in the outcome", async () => {
    const { qa } = await qaWaiting();
    await slash('qa', LEAD, 'C0QA');
    await reply('C0QA', qa, 'Promote voting01 qa?');
    await slash('qa --full', 'U1', 'C0QA');
    const fullCard = await reply('C0QA', qa, FULL_HEADLINE);
    await press(fullCard, qa, LEAD);
    await reply('C0QA', qa, `Promoted fully by <@${LEAD}>`);
    await h.settled();
    expect(patches('voting01-qa')).toEqual([{ contentType: 'application/merge-patch+json', body: { status: { promoteFull: true } } }]);
  });

  it('lets a non-approver confirm nothing, not even by typing under their own request', async () => {
    const { qa } = await qaWaiting();
    await slash('qa --full', 'U1', 'C0QA');
    await reply('C0QA', qa, FULL_HEADLINE);
    await sendThreadMessage(h.sender, { channel: 'C0QA', threadTs: qa.ts, user: 'U1', text: 'promote' });
    await reply('C0QA', qa, 'only approvers of voting01 qa can confirm this');
    await h.settled();
    expect(patches('voting01-qa')).toEqual([]);
  });
});

describe('a typed word that could mean several requests', () => {
  it('asks which, listing requesters and flags, and sends nothing, when two people have requests waiting', async () => {
    const dev = await devWaiting();
    await slash('dev', 'U5', 'C0DEV');
    await reply('C0DEV', dev, 'Promote voting01 dev?');
    await slash('dev --full', 'U6', 'C0DEV');
    await reply('C0DEV', dev, 'Promote voting01 dev — FULL');
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: dev.ts, user: 'U7', text: 'promote' });
    const question = messageText(await reply('C0DEV', dev, 'requests are waiting for `promote`'));
    expect(question).toContain('<@U7>, 2 requests are waiting for `promote` in this thread');
    expect(question).toContain('• Promote voting01 dev, requested by <@U5>');
    expect(question).toContain('• Promote voting01 dev — FULL: skips all remaining steps and analysis, requested by <@U6>');
    expect(question).toContain('Press the button on the card of the one you mean');
    await h.settled();
    expect(patches('voting01-dev')).toEqual([]);
  });

  it("confirms the typist's own waiting request, never the other person's", async () => {
    const dev = await devWaiting();
    await slash('dev', 'U5', 'C0DEV');
    await reply('C0DEV', dev, 'Promote voting01 dev?');
    await slash('dev --full', 'U6', 'C0DEV');
    await reply('C0DEV', dev, 'Promote voting01 dev — FULL');
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: dev.ts, user: 'U5', text: 'promote' });
    await reply('C0DEV', dev, 'Promoted by <@U5>');
    await h.settled();
    expect(patches('voting01-dev')).toEqual([STEP_PROMOTE]);
  });

  it('asks which abort is meant when two people asked for one', async () => {
    const dev = await devWaiting();
    await slash('abort dev', 'U5', 'C0DEV', '/rollout');
    await reply('C0DEV', dev, 'Abort voting01 dev?');
    await slash('abort dev', 'U6', 'C0DEV', '/rollout');
    await waitFor(() => h.replyTexts('C0DEV', dev.ts).filter((t) => t.includes('Abort voting01 dev?')).length === 2, 'two abort cards');
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: dev.ts, user: 'U7', text: 'abort' });
    const question = messageText(await reply('C0DEV', dev, 'requests are waiting for `abort`'));
    expect(question).toContain('• Abort voting01 dev, requested by <@U5>');
    expect(question).toContain('• Abort voting01 dev, requested by <@U6>');
    await h.settled();
    expect(patches('voting01-dev')).toEqual([]);
  });
});

describe('a button confirms exactly its own card', () => {
  it("does nothing on a card its requester replaced, and tells the presser why, to them only", async () => {
    const { qa } = await qaWaiting();
    await slash('qa --full', LEAD, 'C0QA');
    const oldCard = await reply('C0QA', qa, FULL_HEADLINE);
    await slash('qa', LEAD, 'C0QA');
    const newCard = await reply('C0QA', qa, 'Promote voting01 qa?');
    expect(messageText(newCard)).toContain(`Replaces <@${LEAD}>'s earlier request`);
    await press(oldCard, qa, LEAD);
    const why = await ephemeral(LEAD, 'replaced by a newer one');
    expect(why).toContain(`Promote voting01 qa, requested by <@${LEAD}>`);
    expect(why).toContain('Nothing was sent');
    await h.settled();
    expect(patches('voting01-qa')).toEqual([]);
    expect(h.replyTexts('C0QA', qa.ts).filter((t) => t.includes('Promoted'))).toEqual([]);

    await press(newCard, qa, LEAD);
    await reply('C0QA', qa, `Promoted by <@${LEAD}>`);
    await h.settled();
    expect(patches('voting01-qa')).toEqual([STEP_PROMOTE]);
  });

  it('does nothing on a cancelled card, saying who cancelled it', async () => {
    const { qa } = await qaWaiting();
    await slash('qa', LEAD, 'C0QA');
    const card = await reply('C0QA', qa, 'Promote voting01 qa?');
    await press(card, qa, LEAD, { actionId: 'rollout_cancel' });
    await reply('C0QA', qa, `cancelled by <@${LEAD}>`);
    await press(card, qa, LEAD);
    expect(await ephemeral(LEAD, 'was cancelled by')).toContain(`<@${LEAD}>`);
    await h.settled();
    expect(patches('voting01-qa')).toEqual([]);
  });

  it('does nothing on an expired card, saying so to the presser only', async () => {
    const clock = new SkewClock();
    const { qa } = await qaWaiting({ clock });
    await slash('qa', LEAD, 'C0QA');
    const card = await reply('C0QA', qa, 'Promote voting01 qa?');
    clock.skip(11 * 60_000);
    await press(card, qa, LEAD);
    expect(await ephemeral(LEAD, 'confirmation expired')).toContain('/promote qa');
    await h.settled();
    expect(patches('voting01-qa')).toEqual([]);
    expect(h.replyTexts('C0QA', qa.ts).some((t) => t.includes('expired'))).toBe(false);
  });

  it('does nothing a second time on a card already done, saying who did it', async () => {
    const { qa } = await qaWaiting();
    await slash('qa', LEAD, 'C0QA');
    const card = await reply('C0QA', qa, 'Promote voting01 qa?');
    await press(card, qa, LEAD);
    await reply('C0QA', qa, `Promoted by <@${LEAD}>`);
    await press(card, qa, LEAD);
    expect(await ephemeral(LEAD, 'Already done')).toContain(`confirmed by <@${LEAD}>`);
    await h.settled();
    expect(patches('voting01-qa')).toEqual([STEP_PROMOTE]);
  });

  it("does nothing when the card's request belongs to another thread", async () => {
    const { qa, dev } = await qaWaiting();
    await slash('qa', LEAD, 'C0QA');
    const card = await reply('C0QA', qa, 'Promote voting01 qa?');
    await press(card, qa, LEAD, { channel: 'C0DEV', threadTs: dev.ts });
    await ephemeral(LEAD, 'belongs to a request of another thread');
    await h.settled();
    expect(patches('voting01-qa')).toEqual([]);
  });
});

describe("the chain's deploy offers follow the same rules", () => {
  async function devCompleted(): Promise<SlackMessage> {
    h = await Harness.start({ noStart: true, config: CHAIN_CONFIG });
    h.github.addWorkflow('acme/voting01', 'ci-build-push.yaml', { inputs: ['environment', 'image_tag'] });
    h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
    h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
    h.ecr.addImage('voting01-vote', TAG);
    await h.startBot();
    await h.ready();
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-dev', 'vote');
    const dev = await root('C0DEV');
    await reply('C0DEV', dev, 'Completed');
    return dev;
  }

  it("keeps the approver's offer when a non-approver asks too, and dispatches once", async () => {
    const dev = await devCompleted();
    const headline = `Bring \`${TAG}\` from dev to voting01 qa?`;
    await slash('qa', LEAD, 'C0QA');
    const leadCard = await reply('C0DEV', dev, `${headline}* requested by <@${LEAD}>\n`);
    await slash('qa', 'U1', 'C0QA');
    const otherCard = await reply('C0DEV', dev, `${headline}* requested by <@U1>, who is not an approver: waiting for an approver (<@${LEAD}>)`);
    expect(messageText(otherCard)).toContain(`Also waiting in this thread: Bring \`${TAG}\` from dev to voting01 qa, requested by <@${LEAD}>`);
    expect(confirmationId(otherCard)).not.toBe(confirmationId(leadCard));

    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: dev.ts, user: LEAD, text: 'promote' });
    await reply('C0DEV', dev, 'Dispatched');
    await press(otherCard, dev, LEAD);
    await reply('C0DEV', dev, 'was already dispatched to qa by <@U0LEAD> after this request was made');
    await h.settled();
    expect(h.github.dispatches('acme/voting01').map((d) => d.inputs)).toEqual([{ environment: 'qa', image_tag: TAG }]);
  });

  it("does nothing on a replaced offer's button", async () => {
    const dev = await devCompleted();
    await slash('qa', LEAD, 'C0QA');
    const first = await reply('C0DEV', dev, 'Bring `');
    await slash('qa', LEAD, 'C0QA');
    await reply('C0DEV', dev, `Replaces <@${LEAD}>'s earlier request`);
    await press(first, dev, LEAD);
    await ephemeral(LEAD, 'replaced by a newer one');
    await h.settled();
    expect(h.github.dispatches('acme/voting01')).toEqual([]);
  });
});
