import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/ports.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { SkewClock } from '../support/skew-clock.js';
import { STAGING_BLUE_GREEN, voting01Config } from '../../emulators/world/voting01-config.js';
import { sendBlockAction, sendSlashCommand } from '../../emulators/clients/slack-requests.js';

/**
 * Issue 13, point 1, for the chain: a deploy offer's card changes in place once decided, as a promotion card does
 * (dispatched by whom and when, cancelled, replaced, expired, refused). Asserted as the Slack emulator's versions of
 * the card and the thread's replies.
 */

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const OFFER = 'Bring `ea11a24-20260129125607` from dev to voting01 qa?';
const DEPLOY = 'deploy: { workflow: ci-build-push.yaml, ref: main, auto: false }';

type Block = { type: string; elements?: Array<{ action_id?: string; value?: string }> };

let h: Harness;
afterEach(async () => {
  await h?.close();
});

function buttons(blocks: unknown[] | undefined): Array<{ action_id?: string; value?: string }> {
  return ((blocks ?? []) as Block[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
}

/** Every version of a message Slack showed, oldest first: as posted, then after each chat.update. */
function versions(m: SlackMessage): Array<{ text: string; blocks: Block[] }> {
  const post = h.slack.callsTo('chat.postMessage').find((c) => (c.response as { ts?: string }).ts === m.ts);
  const updates = h.slack.callsTo('chat.update').filter((c) => c.args.ts === m.ts && (c.response as { ok?: boolean }).ok);
  return [post, ...updates].filter((c) => c !== undefined).map((c) => ({ text: String(c.args.text ?? ''), blocks: (c.args.blocks ?? []) as Block[] }));
}

async function reply(root: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies(root.channel, root.ts).find((m) => messageText(m).includes(text)), `reply "${text}"`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

/** Waits until the message shows `text` and no buttons any more; then its versions are: as posted, and this one. */
async function settledTo(m: SlackMessage, text: string): Promise<void> {
  await waitFor(() => {
    const now = h.slack.message(m.channel, m.ts)!;
    return buttons(now.blocks).length === 0 && messageText(now).includes(text) ? now : undefined;
  }, `message ${m.ts} settled to "${text}"`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
  await h.settled();
  const seen = versions(m);
  expect(seen).toHaveLength(2);
  expect(buttons(seen[0]!.blocks).map((b) => b.action_id)).toEqual(['rollout_confirm', 'rollout_cancel']);
  expect(buttons(seen[1]!.blocks)).toEqual([]);
  expect(seen[1]!.text).toContain(text);
  expect(seen[1]!.text).toContain(`\`${TAG}\``); // the facts it showed stay
  expect(seen[1]!.text).not.toContain('presses Deploy');
}

function press(m: SlackMessage, root: SlackMessage, user: string, actionId: string) {
  const value = buttons(m.blocks).find((b) => b.action_id === actionId)!.value!;
  return sendBlockAction(h.sender, { actionId, value, user, channel: m.channel, messageTs: m.ts, threadTs: root.ts, message: m });
}

/** dev completed the tag (so it is proven); qa runs an older one and has a deploy block. */
async function devCompleted(o: { clock?: Clock } = {}): Promise<SlackMessage> {
  const config = voting01Config({ qa: [DEPLOY], staging: [...STAGING_BLUE_GREEN, DEPLOY] });
  h = await Harness.start({ noStart: true, config, overrides: o.clock ? { clock: o.clock } : {} });
  h.github.addWorkflow('acme/voting01', 'ci-build-push.yaml', { inputs: ['environment', 'image_tag'] });
  h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
  h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
  h.ecr.addImage('voting01-vote', TAG);
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-dev', 'vote');
  const dev = await waitFor(() => h.roots('C0DEV')[0], 'dev root');
  await reply(dev, 'Completed');
  return dev;
}

/** `/promote qa` by `user`: the offer card in the dev thread (the `n`th one). */
async function offer(dev: SlackMessage, user = 'U5'): Promise<SlackMessage> {
  const before = h.slack.replies(dev.channel, dev.ts).filter((m) => messageText(m).includes(OFFER)).length;
  const res = await sendSlashCommand(h.sender, { command: '/promote', text: 'qa', userId: user, channelId: 'C0QA', responseUrl: h.slack.newResponseUrl({ channel: 'C0QA', user }) });
  expect(res.status).toBe(200);
  return waitFor(() => h.slack.replies(dev.channel, dev.ts).filter((m) => messageText(m).includes(OFFER))[before], 'offer card');
}

describe('deploy offer cards change once decided', () => {
  it('replaces the buttons with who dispatched it and when, and a later press dispatches nothing more', async () => {
    const dev = await devCompleted();
    const card = await offer(dev);
    await press(card, dev, 'U5', 'rollout_confirm');
    await reply(dev, 'Dispatched');
    await settledTo(card, 'Done: dispatched by <@U5> at');
    await press(card, dev, 'U5', 'rollout_confirm');
    await waitFor(() => h.slack.ephemerals({ user: 'U5' }).find((e) => e.text.includes('Already done')), 'stale press answered');
    await h.settled();
    expect(h.github.dispatches('acme/voting01').map((d) => d.inputs)).toEqual([{ environment: 'qa', image_tag: TAG }]);
  });

  it('says who cancelled it, and dispatches nothing', async () => {
    const dev = await devCompleted();
    const card = await offer(dev);
    await press(card, dev, 'U5', 'rollout_cancel');
    await settledTo(card, 'Cancelled by <@U5>');
    expect(h.github.dispatches('acme/voting01')).toEqual([]);
  });

  it('says an offer was replaced by a newer request of the same person', async () => {
    const dev = await devCompleted();
    const first = await offer(dev);
    const second = await offer(dev);
    await settledTo(first, 'Replaced by a newer request');
    expect(buttons(h.slack.message(second.channel, second.ts)!.blocks)).toHaveLength(2);
  });

  it('expires on the clock after 10 minutes, without anybody pressing', async () => {
    const clock = new SkewClock();
    const dev = await devCompleted({ clock });
    const card = await offer(dev);
    await h.settled();
    clock.skip(10 * 60_000 + 1_000);
    await settledTo(card, 'Expired after 10 min');
    expect(h.github.dispatches('acme/voting01')).toEqual([]);
  });

  it('shows a refusal when qa runs the tag by the time it is confirmed', async () => {
    const dev = await devCompleted();
    const card = await offer(dev);
    h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`); // somebody else's deploy got there first
    await waitFor(() => h.roots('C0QA')[0], 'qa root');
    await press(card, dev, 'U5', 'rollout_confirm');
    await reply(dev, 'already runs');
    await settledTo(card, 'Refused: qa already runs this tag; nothing was dispatched');
    expect(h.github.dispatches('acme/voting01')).toEqual([]);
  });
});
