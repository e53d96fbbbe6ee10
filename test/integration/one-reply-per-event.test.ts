import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { sendSlashCommand, sendThreadMessage } from '../../emulators/clients/slack-requests.js';
import { Harness, messageText, waitFor } from '../support/harness.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function reply(root: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies('C0DEV', root.ts).find((m) => messageText(m).includes(text)), `reply "${text}"`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

/** Types `/…` in dev's channel as U7, then confirms it in the thread with the typed word. */
async function confirmed(root: SlackMessage, command: string, text: string, word: string, question: string): Promise<void> {
  await sendSlashCommand(h.sender, { command, text, userId: 'U7', channelId: 'C0DEV', responseUrl: h.slack.newResponseUrl({ channel: 'C0DEV', user: 'U7' }) });
  await reply(root, question);
  await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: root.ts, user: 'U7', text: word });
}

async function devAtFirstPause(): Promise<SlackMessage> {
  h = await Harness.start({ noStart: true });
  h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
  h.ecr.addImage('voting01-vote', TAG);
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-dev', 'vote');
  const root = await waitFor(() => h.roots('C0DEV')[0], 'root in C0DEV');
  await reply(root, 'waiting for promotion');
  return root;
}

describe('one reply per event: the bot’s action and the transition it causes', () => {
  it('a promotion is one reply, "🚀 Promoted by", and the step it completed gets no reply of its own', async () => {
    const root = await devAtFirstPause();
    await confirmed(root, '/promote', 'dev', 'promote', 'Promote voting01 dev?');
    await reply(root, 'Promoted by <@U7>');
    h.controller.settle('voting01-dev', 'vote');
    await reply(root, 'Paused at step 4/7');
    await h.settled();
    const texts = h.slack.replies('C0DEV', root.ts).map((m) => m.text ?? '');
    expect(texts.filter((t) => t.startsWith('🚀'))).toEqual(['🚀 Promoted by <@U7>: continues from step 2/7 (pause) to step 3/7 (setWeight: 30).']);
    expect(texts.filter((t) => /Step 2\/7 completed|▶️/.test(t))).toEqual([]);
  });

  it('a retry is one reply, "🔁 Retried by", and no separate "Retried after the abort"', async () => {
    const root = await devAtFirstPause();
    await confirmed(root, '/rollout', 'abort dev', 'abort', 'Abort voting01 dev?');
    await reply(root, 'Aborted by <@U7>');
    h.controller.settle('voting01-dev', 'vote');
    await confirmed(root, '/rollout', 'retry dev', 'retry', 'Retry voting01 dev?');
    await reply(root, 'Retried by <@U7>');
    h.controller.settle('voting01-dev', 'vote');
    await reply(root, 'Step 1/7 completed');
    await h.settled();
    const texts = h.slack.replies('C0DEV', root.ts).map((m) => m.text ?? '');
    expect(texts.filter((t) => t.startsWith('🔁'))).toEqual(['🔁 Retried by <@U7>: the update to revision 2 starts again from the first step.']);
    expect(texts.filter((t) => t.startsWith('🛑'))).toEqual(['🛑 Aborted by <@U7>: the update to revision 2 is stopped, traffic goes back to the stable version.\nTo try again: /rollout retry dev.']);
  });

  it('a patch the cluster refuses gets its own reply, and nothing else', async () => {
    const root = await devAtFirstPause();
    await sendSlashCommand(h.sender, { command: '/promote', text: 'dev', userId: 'U7', channelId: 'C0DEV', responseUrl: h.slack.newResponseUrl({ channel: 'C0DEV', user: 'U7' }) });
    await reply(root, 'Promote voting01 dev?');
    h.k8s.failNext({ count: 1, status: 403, method: 'PATCH', path: /\/status$/ });
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: root.ts, user: 'U7', text: 'promote' });
    await reply(root, 'Promote failed');
    await h.settled();
    expect(h.replyTexts('C0DEV', root.ts).filter((t) => t.includes('Promoted'))).toEqual([]);
  });
});
