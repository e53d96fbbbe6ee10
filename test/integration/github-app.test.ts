import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { issueCommentPayload, pushPayload } from '../../emulators/clients/github-webhooks.js';
import { sendSlashCommand } from '../../emulators/clients/slack-requests.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const SHA = 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b';
const TAG = 'ea11a24-20260129125607';

let h: Harness;
afterEach(async () => {
  if (h) expect(h.github.unexpectedCalls()).toEqual([]);
  await h?.close();
});

async function withCanary(ns = 'voting01-dev') {
  h = await Harness.start({ noStart: true });
  h.controller.createCanary({ namespace: ns, name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
  await h.startBot();
  await h.ready();
}

function push(commits: Array<{ id: string; message: string; name: string; login?: string }>, sender = 'ada') {
  return h.webhook(
    'push',
    pushPayload({
      repo: 'acme/voting01',
      commits: commits.map((c) => ({ id: c.id, message: c.message, author: { name: c.name, email: `${c.login ?? 'x'}@example.com`, username: c.login } })),
      sender: { login: sender, type: sender.endsWith('[bot]') ? 'Bot' : 'User' },
    }),
  );
}

describe('commits paired with deploys', () => {
  it('shows the pushed commit on the card when the push comes first', async () => {
    await withCanary();
    expect((await push([{ id: SHA, message: 'Fix the vote button\n\nlonger text', name: 'Ada Lovelace', login: 'ada' }])).status).toBe(200);
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.tick('voting01-dev', 'vote');
    const root = await waitFor(() => h.roots('C0DEV')[0], 'root');
    await waitFor(() => messageText(h.slack.message('C0DEV', root.ts)!).includes('Fix the vote button'), 'commit on card');
    const card = messageText(h.slack.message('C0DEV', root.ts)!);
    expect(card).toContain('ea11a24');
    expect(card).toContain('Ada Lovelace (@ada)');
    expect(card).not.toContain('longer text');
    expect(JSON.stringify(h.slack.message('C0DEV', root.ts)!.blocks)).toContain(`https://github.com/acme/voting01/commit/${SHA}`);
  });

  it('pairs the commit when the push comes after the rollout', async () => {
    await withCanary();
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.tick('voting01-dev', 'vote');
    const root = await waitFor(() => h.roots('C0DEV')[0], 'root');
    // GitHub does not know the commit yet (the lookup by sha finds nothing); then the push arrives.
    await waitFor(() => h.github.calls.some((c) => c.path.includes('/commits/ea11a24')), 'lookup by sha');
    await push([{ id: SHA, message: 'Add result page', name: 'Grace Hopper', login: 'grace' }]);
    await waitFor(() => messageText(h.slack.message('C0DEV', root.ts)!).includes('Add result page'), 'commit on card after push');
    expect(messageText(h.slack.message('C0DEV', root.ts)!)).toContain('Grace Hopper (@grace)');
  });

  it('attributes a deploy to the source commit author, not the bot that committed the manifests', async () => {
    await withCanary();
    h.github.addCommit('acme/voting01', { sha: SHA, message: 'Speed up the tally', author: { name: 'Katherine Johnson', email: 'kj@example.com', login: 'kjohnson' } });
    // The only push seen is the CI bot's manifest bump.
    await push([{ id: 'f00dfeedf00dfeedf00dfeedf00dfeedf00dfeed', message: `chore: deploy ${TAG} to dev`, name: 'ci-bot', login: 'ci-bot[bot]' }], 'ci-bot[bot]');
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.tick('voting01-dev', 'vote');
    const root = await waitFor(() => h.roots('C0DEV')[0], 'root');
    await waitFor(() => messageText(h.slack.message('C0DEV', root.ts)!).includes('Speed up the tally'), 'source commit on card');
    const card = messageText(h.slack.message('C0DEV', root.ts)!);
    expect(card).toContain('Katherine Johnson (@kjohnson)');
    expect(card).not.toContain('ci-bot');
  });

  it('lists recent deploys with tag, relative time, author and outcome in /rollout history', async () => {
    await withCanary();
    await push([{ id: SHA, message: 'Fix', name: 'Ada Lovelace', login: 'ada' }]);
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.tick('voting01-dev', 'vote');
    h.controller.tick('voting01-dev', 'vote');
    await waitFor(() => h.roots('C0DEV')[0], 'root');
    await h.settled();
    const res = await sendSlashCommand(h.sender, { command: '/rollout', text: 'history dev', userId: 'U1', channelId: 'C0DEV' });
    const text = res.json<{ text: string }>().text;
    expect(text).toContain('voting01 · dev');
    expect(text).toMatch(/`ea11a24-20260129125607` · just now · Ada Lovelace \(@ada\) · in progress/);
  });
});

describe('PR comment commands', () => {
  it('answers /rollout status from a writer: 👀, a reply comment, and a line in the Slack thread', async () => {
    await withCanary();
    h.github.setPermission('acme/voting01', 'ada', 'write');
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.tick('voting01-dev', 'vote');
    const root = await waitFor(() => h.roots('C0DEV')[0], 'root');
    const payload = issueCommentPayload({ repo: 'acme/voting01', issueNumber: 7, isPullRequest: true, body: 'Looks good.\n/rollout status dev', user: { login: 'ada' } });
    const res = await h.webhook('issue_comment', payload);
    expect(res.status).toBe(200);
    const reply = await h.github.waitFor(() => h.github.comments('acme/voting01', 7)[0], 'reply comment');
    expect(reply.body).toContain('**voting01 · dev**');
    expect(reply.body).toContain(TAG);
    expect(h.github.reactions(payload.comment.id).map((r) => r.content)).toEqual(['eyes']);
    await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('@ada ran `/rollout status dev`')), 'mirror in Slack');
  });

  it('refuses a read-only user with a comment and does nothing else', async () => {
    await withCanary();
    h.github.setPermission('acme/voting01', 'rita', 'read');
    const payload = issueCommentPayload({ repo: 'acme/voting01', issueNumber: 8, isPullRequest: true, body: '/rollout status dev', user: { login: 'rita' } });
    await h.webhook('issue_comment', payload);
    const reply = await h.github.waitFor(() => h.github.comments('acme/voting01', 8)[0], 'refusal');
    expect(reply.body).toContain('needs **write** permission');
    expect(reply.body).toContain('you have **read**');
    expect(h.github.comments('acme/voting01', 8)).toHaveLength(1);
  });

  it('acts once on a redelivered webhook', async () => {
    await withCanary();
    h.github.setPermission('acme/voting01', 'ada', 'admin');
    const payload = issueCommentPayload({ repo: 'acme/voting01', issueNumber: 9, body: '/rollout status', user: { login: 'ada' } });
    const first = await h.webhook('issue_comment', payload);
    await h.github.waitFor(() => h.github.comments('acme/voting01', 9)[0], 'reply');
    const again = await h.webhook('issue_comment', payload, { deliveryId: first.deliveryId });
    expect(again.status).toBe(200);
    await h.stopBot();
    await h.startBot();
    await h.webhook('issue_comment', payload, { deliveryId: first.deliveryId });
    await h.settled();
    expect(h.github.comments('acme/voting01', 9)).toHaveLength(1);
    expect(h.github.reactions(payload.comment.id)).toHaveLength(1);
  });

  it('rejects a forged signature and does nothing', async () => {
    await withCanary();
    const payload = issueCommentPayload({ repo: 'acme/voting01', issueNumber: 10, body: '/rollout status', user: { login: 'ada' } });
    const res = await h.webhook('issue_comment', payload, { forgeSignature: true });
    expect(res.status).toBeGreaterThanOrEqual(400);
    expect(res.status).toBeLessThan(500);
    expect(h.github.calls.filter((c) => !c.path.includes('access_tokens'))).toEqual([]);
  });

  it('ignores edited comments, comments by bots, and comments without a command', async () => {
    await withCanary();
    h.github.setPermission('acme/voting01', 'ada', 'admin');
    await h.webhook('issue_comment', issueCommentPayload({ repo: 'acme/voting01', issueNumber: 11, body: '/rollout status', user: { login: 'ada' }, action: 'edited' }));
    await h.webhook('issue_comment', issueCommentPayload({ repo: 'acme/voting01', issueNumber: 11, body: '/rollout status', user: { login: 'rollout-chatops[bot]', type: 'Bot' } }));
    await h.webhook('issue_comment', issueCommentPayload({ repo: 'acme/voting01', issueNumber: 11, body: 'I will /promote later, not now', user: { login: 'ada' } }));
    await h.settled();
    expect(h.github.calls).toEqual([]);
  });

  it('answers an unknown environment with the known ones', async () => {
    await withCanary();
    h.github.setPermission('acme/voting01', 'ada', 'write');
    await h.webhook('issue_comment', issueCommentPayload({ repo: 'acme/voting01', issueNumber: 12, body: '/rollout status prod', user: { login: 'ada' } }));
    const reply = await h.github.waitFor(() => h.github.comments('acme/voting01', 12)[0], 'reply');
    expect(reply.body).toMatch(/unknown environment `prod`.*`dev`, `qa`, `staging`/);
  });
});
