import { afterEach, describe, expect, it } from 'vitest';
import type { Clock } from '../../src/core/ports.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { SkewClock } from '../support/skew-clock.js';
import { sendBlockAction, sendSlashCommand } from '../../emulators/clients/slack-requests.js';

/**
 * Issue 13, points 1, 4 and 6: confirmation cards change in place once decided, the "waiting for promotion" broadcast
 * carries a Promote button, and what is done outside chat shows in chat. Asserted as a person sees it: the versions of
 * each message in the Slack emulator, the patches in the Kubernetes emulator.
 */

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const LEAD = 'U0LEAD';

type Block = { type: string; elements?: Array<{ action_id?: string; value?: string; confirm?: unknown }> };

let h: Harness;
afterEach(async () => {
  await h?.close();
});

function patches(ns: string) {
  return h.k8s.patches({ namespace: ns, name: 'vote' }).map((c) => ({ path: c.path.replace(/^.*\/rollouts\//, ''), body: c.body }));
}

async function reply(root: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies(root.channel, root.ts).find((m) => messageText(m).includes(text)), `reply "${text}"`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

/** Every version of a message Slack showed, oldest first: as posted, then after each chat.update. */
function versions(m: SlackMessage): Array<{ text: string; blocks: Block[] }> {
  const post = h.slack.callsTo('chat.postMessage').find((c) => (c.response as { ts?: string }).ts === m.ts);
  const updates = h.slack.callsTo('chat.update').filter((c) => c.args.ts === m.ts && (c.response as { ok?: boolean }).ok);
  return [post, ...updates].filter((c) => c !== undefined).map((c) => ({ text: String(c.args.text ?? ''), blocks: (c.args.blocks ?? []) as Block[] }));
}

function buttons(blocks: unknown[] | undefined): Array<{ action_id?: string; value?: string; confirm?: unknown }> {
  return ((blocks ?? []) as Block[]).filter((b) => b.type === 'actions').flatMap((b) => b.elements ?? []);
}

/** Waits until the message shows `text` and no buttons any more. */
async function settledTo(m: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => {
    const now = h.slack.message(m.channel, m.ts)!;
    return buttons(now.blocks).length === 0 && messageText(now).includes(text) ? now : undefined;
  }, `message ${m.ts} settled to "${text}"`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

function press(m: SlackMessage, root: SlackMessage, user: string, actionId: string) {
  const value = buttons(m.blocks).find((b) => b.action_id === actionId)!.value!;
  return sendBlockAction(h.sender, { actionId, value, user, channel: m.channel, messageTs: m.ts, threadTs: root.ts, message: m });
}

async function slash(text: string, user: string) {
  const res = await sendSlashCommand(h.sender, { command: '/promote', text, userId: user, channelId: 'C0STAGING', responseUrl: h.slack.newResponseUrl({ channel: 'C0STAGING', user }) });
  expect(res.status).toBe(200);
}

/** qa completes the tag (so it is proven), staging (blue-green, approver U0LEAD) waits with its preview ready. */
async function stagingWaiting(o: { clock?: Clock } = {}): Promise<SlackMessage> {
  h = await Harness.start({ noStart: true, overrides: o.clock ? { clock: o.clock } : {} });
  h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
  h.controller.createBlueGreen({ namespace: 'voting01-staging', name: 'vote', image: `${IMG}:0000000-1`, autoPromotionEnabled: false });
  h.ecr.addImage('voting01-vote', TAG);
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-qa', 'vote');
  const qa = await waitFor(() => h.roots('C0QA')[0], 'qa root');
  await reply(qa, 'Completed');
  h.controller.deploy('voting01-staging', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-staging', 'vote');
  const root = await waitFor(() => h.roots('C0STAGING')[0], 'staging root');
  await reply(root, 'waiting for promotion');
  return root;
}

async function card(root: SlackMessage, user = 'U1'): Promise<SlackMessage> {
  const before = h.slack.replies(root.channel, root.ts).filter((m) => messageText(m).includes('Promote voting01 staging?')).length;
  await slash('staging', user);
  return waitFor(() => h.slack.replies(root.channel, root.ts).filter((m) => messageText(m).includes('Promote voting01 staging?'))[before], 'confirmation card');
}

describe('confirmation cards change once decided', () => {
  it('replaces the buttons with who promoted it and when, and a later press changes nothing', async () => {
    const root = await stagingWaiting();
    const c = await card(root);
    expect(buttons(c.blocks).map((b) => b.action_id)).toEqual(['rollout_confirm', 'rollout_cancel']);
    await press(c, root, LEAD, 'rollout_confirm');
    await reply(root, 'Promoted by');
    const now = await settledTo(c, `Done: promoted by <@${LEAD}> at`);
    expect(messageText(now)).toContain(`Image tag \`${TAG}\``);
    const seen = versions(c);
    expect(seen).toHaveLength(2);
    expect(buttons(seen[0]!.blocks)).toHaveLength(2);
    expect(buttons(seen[1]!.blocks)).toHaveLength(0);

    await press(c, root, LEAD, 'rollout_confirm');
    await waitFor(() => h.slack.ephemerals({ user: LEAD }).find((e) => e.text.includes('Already done')), 'stale press answered');
    await h.settled();
    expect(patches('voting01-staging')).toHaveLength(1);
  });

  it('says who cancelled it', async () => {
    const root = await stagingWaiting();
    const c = await card(root);
    await press(c, root, 'U1', 'rollout_cancel');
    await settledTo(c, 'Cancelled by <@U1>');
    await h.settled();
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('says a request was replaced by a newer one of the same person', async () => {
    const root = await stagingWaiting();
    const first = await card(root);
    const second = await card(root);
    await settledTo(first, 'Replaced by a newer request');
    await h.settled();
    expect(buttons(h.slack.message(second.channel, second.ts)!.blocks)).toHaveLength(2);
  });

  it('expires on the clock after 10 minutes, without anybody pressing', async () => {
    const clock = new SkewClock();
    const root = await stagingWaiting({ clock });
    const c = await card(root);
    await h.settled();
    clock.skip(10 * 60_000 + 1_000);
    await settledTo(c, 'Expired after 10 min');
    await press(c, root, LEAD, 'rollout_confirm');
    await waitFor(() => h.slack.ephemerals({ user: LEAD }).find((e) => e.text.includes('expired')), 'expired press answered');
    expect(patches('voting01-staging')).toEqual([]);
  });
});

describe('Promote where people look', () => {
  it('promotes from the broadcast with one press and its confirm dialog: one status patch, recorded like a typed promote', async () => {
    const root = await stagingWaiting();
    const broadcast = await reply(root, 'waiting for promotion');
    expect(broadcast.replyBroadcast).toBe(true);
    const [button] = buttons(broadcast.blocks);
    expect(button?.action_id).toBe('rollout_promote');
    expect(button?.confirm).toBeDefined();
    expect(buttons(h.slack.message(root.channel, root.ts)!.blocks).map((b) => b.action_id)).toEqual(['rollout_promote']);

    const c = await card(root); // a request still waiting: the press does it
    await press(broadcast, root, LEAD, 'rollout_promote');
    await reply(root, `Promoted by <@${LEAD}>`);
    await settledTo(c, `Done: promoted by <@${LEAD}> at`);
    await h.settled();
    expect(patches('voting01-staging')).toEqual([{ path: 'vote/status', body: { status: { pauseConditions: null } } }]);
    expect(h.replyTexts(root.channel, root.ts).filter((t) => t.includes('outside chat'))).toEqual([]);

    // A second press finds nothing waiting any more: nothing more is sent.
    await press(broadcast, root, LEAD, 'rollout_promote');
    await waitFor(() => h.slack.ephemerals({ user: LEAD }).find((e) => e.text.includes('Not promoted')), 'second press answered');
    h.controller.settle('voting01-staging', 'vote');
    await reply(root, 'Completed');
    await h.settled();
    expect(patches('voting01-staging')).toHaveLength(1);
    expect(buttons(h.slack.message(root.channel, root.ts)!.blocks)).toEqual([]);
  });

  it('refuses a non-approver pressing it, to them alone, and sends nothing', async () => {
    const root = await stagingWaiting();
    const broadcast = await reply(root, 'waiting for promotion');
    const before = h.slack.replies(root.channel, root.ts).length;
    await press(broadcast, root, 'U1', 'rollout_promote');
    await waitFor(() => h.slack.ephemerals({ user: 'U1' }).find((e) => e.text.includes('only approvers')), 'refusal to U1');
    await h.settled();
    expect(patches('voting01-staging')).toEqual([]);
    expect(h.slack.replies(root.channel, root.ts)).toHaveLength(before);
  });
});

describe('what happens outside chat shows in chat', () => {
  it('shows a kubectl promote as promoted outside chat, and the live card as done outside chat', async () => {
    const root = await stagingWaiting();
    const c = await card(root);
    // `kubectl argo rollouts promote`: the plugin clears the pause conditions in the status; the controller goes on.
    h.k8s.mutate('voting01-staging', 'vote', (ro) => {
      ro.status.pauseConditions = null;
    });
    h.controller.settle('voting01-staging', 'vote');
    await reply(root, 'Promoted outside chat');
    await settledTo(c, 'Done outside chat');
    await h.settled();
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('shows an abort done outside chat', async () => {
    const root = await stagingWaiting();
    h.k8s.mutate('voting01-staging', 'vote', (ro) => {
      ro.status.abort = true;
    });
    h.controller.settle('voting01-staging', 'vote');
    await reply(root, 'Aborted outside chat');
  });

  it('shows a kubectl restart as restarted outside chat, once per restart', async () => {
    const root = await stagingWaiting();
    // `kubectl argo rollouts restart`: the plugin sets spec.restartAt; the controller restarts the pods later.
    const restart = (at: string) =>
      h.k8s.mutate('voting01-staging', 'vote', (ro) => {
        ro.spec.restartAt = at;
      }) && h.controller.settle('voting01-staging', 'vote');
    restart('2026-01-29T13:00:00Z');
    await reply(root, 'Restarted outside chat');
    await h.settled();
    restart('2026-01-29T13:05:00Z');
    await waitFor(() => h.replyTexts(root.channel, root.ts).filter((t) => t.includes('Restarted outside chat')).length === 2 || undefined, 'second restart');
    await h.settled();
    expect(h.replyTexts(root.channel, root.ts).filter((t) => t.includes('outside chat'))).toEqual([
      '↪️ Restarted outside chat (kubectl, the Argo Rollouts dashboard or Argo CD), not through me.',
      '↪️ Restarted outside chat (kubectl, the Argo Rollouts dashboard or Argo CD), not through me.',
    ]);
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('does not call a restart the controller already did news', async () => {
    const root = await stagingWaiting();
    h.k8s.mutate('voting01-staging', 'vote', (ro) => {
      ro.spec.restartAt = '2026-01-29T13:00:00Z';
      ro.status.restartedAt = '2026-01-29T13:00:00Z';
    });
    h.k8s.mutate('voting01-staging', 'vote', (ro) => {
      ro.status.abort = true;
    });
    h.controller.settle('voting01-staging', 'vote');
    await reply(root, 'Aborted outside chat');
    await h.settled();
    expect(h.replyTexts(root.channel, root.ts).some((t) => t.includes('Restarted'))).toBe(false);
  });
});
