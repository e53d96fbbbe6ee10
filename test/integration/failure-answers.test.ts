import { mkdir, rename, rmdir } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import { issueCommentPayload } from '../../emulators/clients/github-webhooks.js';
import { sendSlashCommand, sendThreadMessage } from '../../emulators/clients/slack-requests.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { captureLogger } from '../support/capture-logger.js';
import { JOURNAL_FILE } from '../../src/adapters/store/store-files.js';
import { sendBlockAction } from '../../emulators/clients/slack-requests.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';

let h: Harness;
afterEach(async () => {
  await heal().catch(() => undefined);
  await h?.close();
});

/**
 * The disk refuses every store write from now on: the store appends each batch of changes to its journal, and a
 * directory in the journal's place makes that append fail (EISDIR), as a full or read-only volume would.
 */
async function breakStore(): Promise<void> {
  const journal = path.join(h.dataDir, JOURNAL_FILE);
  await rename(journal, `${journal}.held`).catch(() => undefined);
  await mkdir(journal);
}

async function heal(): Promise<void> {
  const journal = path.join(h.dataDir, JOURNAL_FILE);
  await rmdir(journal);
  await rename(`${journal}.held`, journal).catch(() => undefined);
}

async function reply(root: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies('C0DEV', root.ts).find((m) => messageText(m).includes(text)), `reply "${text}"`, 8000).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

/** dev's canary paused at its first step, and an abort waiting for confirmation in its thread. */
const log = captureLogger();
const logged = (msg: string) => waitFor(() => log.entries.find((e) => e.msg === msg), `log line "${msg}"`);

async function abortWaiting(): Promise<SlackMessage> {
  log.entries.length = 0;
  h = await Harness.start({ noStart: true, overrides: { log } });
  h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-dev', 'vote');
  const root = await waitFor(() => h.roots('C0DEV')[0], 'dev thread');
  await sendSlashCommand(h.sender, { command: '/rollout', text: 'abort dev', userId: 'U7', channelId: 'C0DEV', responseUrl: h.slack.newResponseUrl({ channel: 'C0DEV', user: 'U7' }) });
  await reply(root, 'Abort voting01 dev?');
  await h.settled();
  return root;
}

describe('answers when handling fails', () => {
  it('answers a typed confirmation that could not be handled in its thread, and changes nothing', async () => {
    const root = await abortWaiting();
    await breakStore();
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: root.ts, user: 'U7', text: 'abort' });
    // The answer waits in the outbox until the store writes again.
    await logged('typed confirmation failed');
    await heal();
    const answer = await reply(root, '`abort` failed');
    expect(messageText(answer)).toContain('Nothing was changed; try again.');
    expect(h.k8s.patches({ namespace: 'voting01-dev', name: 'vote' })).toEqual([]);

    // Nothing was claimed: typing it again confirms the same request.
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: root.ts, user: 'U7', text: 'abort' });
    await reply(root, 'Aborted by <@U7>');
    expect(h.k8s.patches({ namespace: 'voting01-dev', name: 'vote' })).toHaveLength(1);
  });

  it('answers a GitHub comment whose command could not be handled with a comment, and changes nothing', async () => {
    await abortWaiting();
    h.github.setPermission('acme/voting01', 'ada', 'write');
    await breakStore();
    const res = await h.webhook('issue_comment', issueCommentPayload({ repo: 'acme/voting01', issueNumber: 31, isPullRequest: true, body: '/rollout abort dev', user: { login: 'ada' } }));
    expect(res.status).toBe(200);
    const comment = await h.github.waitFor(() => h.github.comments('acme/voting01', 31)[0], 'failure comment');
    expect(comment.body).toContain('@ada, `/rollout abort dev` failed');
    expect(comment.body).toContain('Nothing was changed; try again.');
    expect(h.k8s.patches({ namespace: 'voting01-dev', name: 'vote' })).toEqual([]);
  });

  it('answers a slash command it could not record, and changes nothing', async () => {
    await abortWaiting();
    await breakStore();
    const res = await sendSlashCommand(h.sender, { command: '/rollout', text: 'abort dev', userId: 'U7', channelId: 'C0DEV', responseUrl: h.slack.newResponseUrl({ channel: 'C0DEV', user: 'U7' }) });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ response_type: 'ephemeral', text: expect.stringContaining('nothing was changed') });
    expect(h.k8s.patches({ namespace: 'voting01-dev', name: 'vote' })).toEqual([]);
  });

  it('tells the presser when a button press could not be recorded, and changes nothing', async () => {
    const root = await abortWaiting();
    const card = h.slack.replies('C0DEV', root.ts).find((m) => messageText(m).includes('Abort voting01 dev?'))!;
    const button = (card.blocks ?? []).flatMap((b) => ((b as { elements?: Array<{ action_id?: string; value?: string }> }).elements ?? [])).find((e) => e.action_id === 'rollout_confirm')!;
    await breakStore();
    const responseUrl = h.slack.newResponseUrl({ channel: 'C0DEV', user: 'U7' });
    const res = await sendBlockAction(h.sender, { actionId: 'rollout_confirm', value: button.value!, user: 'U7', channel: 'C0DEV', messageTs: card.ts, threadTs: root.ts, responseUrl, message: { text: card.text ?? '', blocks: card.blocks } });
    expect(res.status).toBe(200);
    const told = await waitFor(() => h.slack.responses.find((r) => JSON.stringify(r.body).includes('nothing was changed')), 'ephemeral answer on the response URL');
    expect(told.body).toMatchObject({ response_type: 'ephemeral', replace_original: false });
    expect(h.k8s.patches({ namespace: 'voting01-dev', name: 'vote' })).toEqual([]);
  });
});
