import { afterEach, describe, expect, it } from 'vitest';
import { SkewClock } from '../support/skew-clock.js';
import { startErrorSimEmulator, type ErrorSimEmulator } from '../../emulators/errorsim-emulator.js';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { Harness, WEBHOOK_SECRET, messageText, waitFor } from '../support/harness.js';
import { issueCommentPayload, pushPayload, sendWebhook, signGitHubPayload } from '../../emulators/clients/github-webhooks.js';
import { sendSlashCommand } from '../../emulators/clients/slack-requests.js';
import { STAGING_BLUE_GREEN, voting01Config } from '../../emulators/world/voting01-config.js';

// Issue 11: holes found by an outside attacker in the GitHub comment path. Each test sends the exact bytes described
// and checks what people and the cluster see: no patch, no error-simulation call, no dispatch, the right answer.

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const REPO = 'acme/voting01';

let h: Harness;
let sim: ErrorSimEmulator | undefined;
afterEach(async () => {
  if (h) expect(h.github.unexpectedCalls()).toEqual([]);
  await h?.close();
  await sim?.close();
  sim = undefined;
});

/** Staging's approvers, as YAML lines under the environment. */
function stagingApprovers(...lines: string[]): string {
  return voting01Config({ staging: [...STAGING_BLUE_GREEN, 'approvers:', '  slackUsers: [U0LEAD]', ...lines.map((l) => `  ${l}`)] });
}

/** qa completed the tag (so it is proven); staging's blue-green preview waits for promotion. */
async function stagingWaiting(o: { config?: string; clock?: SkewClock } = {}): Promise<SlackMessage> {
  h = await Harness.start({ noStart: true, config: o.config ?? stagingApprovers('githubUsers: [ada]'), overrides: o.clock ? { clock: o.clock } : {} });
  h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
  h.controller.createBlueGreen({ namespace: 'voting01-staging', name: 'vote', image: `${IMG}:0000000-1`, autoPromotionEnabled: false });
  h.ecr.addImage('voting01-vote', TAG);
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-qa', 'vote');
  const qa = await waitFor(() => h.roots('C0QA')[0], 'qa root');
  await waitFor(() => h.replyTexts('C0QA', qa.ts).some((t) => t.includes('Completed')), 'qa completed');
  h.controller.deploy('voting01-staging', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-staging', 'vote');
  const root = await waitFor(() => h.roots('C0STAGING')[0], 'staging root');
  await waitFor(() => h.replyTexts('C0STAGING', root.ts).some((t) => t.includes('waiting for promotion')), 'staging waiting');
  for (const user of ['ada', 'bob', 'carol', 'dave']) h.github.setPermission(REPO, user, 'write');
  return root;
}

const stagingPatches = () => h.k8s.patches({ namespace: 'voting01-staging', name: 'vote' });
const comments = (issue: number) => h.github.comments(REPO, issue);
const comment = (issue: number, body: string, user = 'ada', extra: Partial<Parameters<typeof issueCommentPayload>[0]> = {}) =>
  issueCommentPayload({ repo: REPO, issueNumber: issue, isPullRequest: true, body, user: { login: user }, ...extra });

/**
 * Nothing left to send to Slack. Comment work runs after the webhook's answer, so each test first waits for the
 * bot's last visible act (its answer comment) or relies on a refusal being decided before the answer (skipped and
 * duplicate comments, 400s).
 */
async function quiet(): Promise<void> {
  await h.settled();
}

/** What the cluster and GitHub show when nothing was done: no Rollout patch and no workflow dispatch. */
function expectNothingDone(): void {
  expect(stagingPatches()).toEqual([]);
  expect(h.github.dispatches()).toEqual([]);
}

async function healthy(): Promise<void> {
  expect((await fetch(`${h.app!.url}/healthz`)).status).toBe(200);
}

describe('a command inside code, a quote or an HTML comment', () => {
  it.each([
    ['a ``` fence', 'To ship it after review, type:\n```\n/promote staging\n```'],
    ['a ~~~ fence', 'To ship it after review, type:\n~~~\n/promote staging\n~~~'],
    ['4-space indented code', 'To ship it after review, type:\n\n    /promote staging'],
    ['an HTML comment', 'Reviewed.\n<!-- /promote staging -->'],
    ['a multi-line HTML comment', 'Reviewed.\n<!--\n/promote staging\n-->'],
    ['a block quote', '> /promote staging\n\nthat is what the docs say'],
    ['a block quote\'s lazy line', '> The runbook says, once green:\n/promote staging'],
  ])('does nothing when the command is in %s', async (_what, body) => {
    await stagingWaiting();
    const payload = comment(40, body);
    expect((await h.webhook('issue_comment', payload)).status).toBe(200);
    // The same setup does promote on a plain line (below), so the absence of a patch here means the comment was skipped.
    const plain = comment(41, '/rollout status staging');
    await h.webhook('issue_comment', plain);
    await h.github.waitFor(() => comments(41)[0], 'answer to the plain status command');
    await quiet();
    expectNothingDone();
    expect(comments(40)).toEqual([]);
    expect(h.github.reactions(payload.comment.id)).toEqual([]);
    await healthy();
  });

  it('promotes when the same command stands on a line of plain text', async () => {
    await stagingWaiting();
    await h.webhook('issue_comment', comment(42, 'Reviewed, shipping.\n/promote staging'));
    await h.github.waitFor(() => comments(42)[0], 'answer');
    expect(comments(42)[0]!.body).toContain('Promoted by @ada from GitHub');
    expect(stagingPatches()).toHaveLength(1);
  });
});

describe('a replayed comment', () => {
  it('acts once when the same signed body comes again under a new delivery id, even after a restart', async () => {
    await stagingWaiting();
    const payload = comment(43, '/promote staging');
    const first = await h.webhook('issue_comment', payload);
    await h.github.waitFor(() => comments(43)[0], 'answer');
    expect(stagingPatches()).toHaveLength(1);
    // Put the rollout back to waiting, so a second promotion would patch again if the replay were acted on.
    h.controller.deploy('voting01-staging', 'vote', `${IMG}:${TAG}`);
    const again = await h.webhook('issue_comment', payload);
    expect(again.deliveryId).not.toBe(first.deliveryId);
    expect(again.status).toBe(200);
    await h.stopBot();
    await h.startBot();
    await h.ready();
    expect((await h.webhook('issue_comment', payload)).status).toBe(200);
    await quiet();
    expect(stagingPatches()).toHaveLength(1);
    expect(comments(43)).toHaveLength(1);
    expect(h.github.reactions(payload.comment.id)).toHaveLength(1);
    await healthy();
  });

  it('answers a comment written more than 10 minutes before it arrives that it is too old, and does nothing else', async () => {
    const clock = new SkewClock();
    await stagingWaiting({ clock });
    const written = clock.now();
    clock.skip(11 * 60_000);
    const payload = comment(44, '/promote staging', 'ada', { createdAt: written });
    expect((await h.webhook('issue_comment', payload)).status).toBe(200);
    const answer = await h.github.waitFor(() => comments(44)[0], 'too-old answer');
    expect(answer.body).toContain('too old to act on');
    await quiet();
    expectNothingDone();
    expect(h.github.reactions(payload.comment.id)).toEqual([]);
    expect(comments(44)).toHaveLength(1);
    await healthy();
  });
});

describe('a malformed command', () => {
  it('answers `/promote --full` in a PR comment with the promote help', async () => {
    await stagingWaiting();
    expect((await h.webhook('issue_comment', comment(45, '/promote --full'))).status).toBe(200);
    const answer = await h.github.waitFor(() => comments(45)[0], 'help answer');
    expect(answer.body).toContain('which environment?');
    expect(answer.body).toContain('/promote <env> [app]');
    expectNothingDone();
    await healthy();
  });

  it('answers `/promote --full` in Slack with the promote help, ephemeral', async () => {
    await stagingWaiting();
    const res = await sendSlashCommand(h.sender, { command: '/promote', text: '--full', userId: 'U0LEAD', channelId: 'C0STAGING' });
    expect(res.status).toBe(200);
    const body = res.json<{ response_type: string; text: string }>();
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('which environment?');
    expect(body.text).toContain('/promote <env> [app]');
    expectNothingDone();
    await healthy();
  });
});

describe('GitHub approvers', () => {
  it('sends a changing command to the Slack deploy thread where only Slack approvers are named', async () => {
    const root = await stagingWaiting({ config: stagingApprovers() });
    await h.webhook('issue_comment', comment(46, '/promote staging'));
    const answer = await h.github.waitFor(() => comments(46)[0], 'answer');
    expect(answer.body).toContain('from its Slack approvers only');
    expect(answer.body).toMatch(new RegExp(`\\[Slack deploy thread\\]\\([^)]*/archives/C0STAGING/p${root.ts.replace('.', '')}\\)`));
    await h.webhook('issue_comment', comment(47, '/rollout abort staging'));
    expect((await h.github.waitFor(() => comments(47)[0], 'abort answer')).body).toContain('from its Slack approvers only');
    await quiet();
    expectNothingDone();
    expect(h.replyTexts('C0STAGING', root.ts).some((t) => t.includes('GitHub'))).toBe(false);
    await healthy();
  });

  it('does not switch errors on from a comment where only Slack approvers are named', async () => {
    sim = await startErrorSimEmulator({ enabled: false });
    h = await Harness.start({ noStart: true, config: voting01Config({ qa: ['errorSimulation:', `  url: ${sim.url}`, 'approvers:', '  slackUsers: [U0LEAD]'] }) });
    h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
    await h.startBot();
    await h.ready();
    h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-qa', 'vote');
    await waitFor(() => h.roots('C0QA')[0], 'qa thread');
    h.github.setPermission(REPO, 'ada', 'admin');
    await h.webhook('issue_comment', comment(54, '/errors on qa'));
    expect((await h.github.waitFor(() => comments(54)[0], 'answer')).body).toContain('from its Slack approvers only');
    await h.webhook('issue_comment', comment(55, '/errors status qa'));
    await h.github.waitFor(() => comments(55)[0], 'status answer');
    await quiet();
    expect(sim.count('POST')).toBe(0);
    await healthy();
  });

  it('still answers status to anyone with the repo permission there', async () => {
    await stagingWaiting({ config: stagingApprovers() });
    await h.webhook('issue_comment', comment(48, '/rollout status staging', 'bob'));
    const answer = await h.github.waitFor(() => comments(48)[0], 'status answer');
    expect(answer.body).toContain('**voting01 · staging**');
  });

  it('lets only the listed GitHub users act where githubUsers is set', async () => {
    await stagingWaiting({ config: stagingApprovers('githubUsers: [Ada]') });
    await h.webhook('issue_comment', comment(49, '/promote staging', 'bob'));
    const refusal = await h.github.waitFor(() => comments(49)[0], 'refusal');
    expect(refusal.body).toContain('is for @Ada only');
    expectNothingDone();
    await h.webhook('issue_comment', comment(50, '/promote staging', 'ada'));
    await h.github.waitFor(() => comments(50)[0], 'promotion answer');
    expect(stagingPatches()).toHaveLength(1);
  });

  it('checks githubTeams membership through the GitHub API: active members act, pending ones do not', async () => {
    await stagingWaiting({ config: stagingApprovers('githubTeams: [acme/sre]') });
    h.github.addTeamMember('acme', 'sre', 'carol');
    h.github.addTeamMember('acme', 'sre', 'dave', 'pending');
    await h.webhook('issue_comment', comment(51, '/promote staging', 'dave'));
    expect((await h.github.waitFor(() => comments(51)[0], 'refusal')).body).toContain('is for @acme/sre only');
    expectNothingDone();
    await h.webhook('issue_comment', comment(52, '/promote staging', 'carol'));
    await h.github.waitFor(() => comments(52)[0], 'promotion answer');
    expect(stagingPatches()).toHaveLength(1);
    const checks = h.github.calls.filter((c) => c.path.startsWith('/api/v3/orgs/')).map((c) => `${c.method} ${c.path} → ${c.status}`);
    expect(checks).toEqual(['GET /api/v3/orgs/acme/teams/sre/memberships/dave → 200', 'GET /api/v3/orgs/acme/teams/sre/memberships/carol → 200']);
  });

  it('does nothing and says so when the team check fails', async () => {
    await stagingWaiting({ config: stagingApprovers('githubTeams: [acme/sre]') });
    h.github.addTeamMember('acme', 'sre', 'carol');
    h.github.failNext({ count: 1, status: 502, path: /\/memberships\// });
    await h.webhook('issue_comment', comment(53, '/promote staging', 'carol'));
    expect((await h.github.waitFor(() => comments(53)[0], 'answer')).body).toContain('could not check whether @carol is in acme/sre');
    await quiet();
    expectNothingDone();
  });
});

describe('signed but malformed payloads', () => {
  /** POSTs exact bytes, signed with the real secret unless told otherwise. */
  async function post(event: string, raw: string, o: { sign?: 'good' | 'forged' | 'none' } = {}) {
    const headers: Record<string, string> = { 'content-type': 'application/json', 'x-github-event': event, 'x-github-delivery': crypto.randomUUID() };
    if (o.sign !== 'none') headers['x-hub-signature-256'] = signGitHubPayload(o.sign === 'forged' ? 'not-the-secret' : WEBHOOK_SECRET, raw);
    const res = await fetch(`${h.app!.url}/api/github/webhooks`, { method: 'POST', headers, body: raw });
    return { status: res.status, body: await res.text() };
  }

  const withoutComment = (() => {
    const { comment: _c, ...rest } = issueCommentPayload({ repo: REPO, issueNumber: 60, isPullRequest: true, body: '/promote staging', user: { login: 'ada' } });
    return JSON.stringify(rest);
  })();
  const nullBody = JSON.stringify({ ...issueCommentPayload({ repo: REPO, issueNumber: 61, isPullRequest: true, body: 'x', user: { login: 'ada' } }), comment: null });

  it.each([
    ['push', '[]', '[]'],
    ['push', 'null', 'null'],
    ['push', 'a JSON string', '"just a string"'],
    ['push', 'a number', '42'],
    ['push', 'commits that are not a list', '{"ref":"refs/heads/main","repository":{"full_name":"acme/voting01"},"commits":{}}'],
    ['issue_comment', 'a payload without comment', withoutComment],
    ['issue_comment', 'comment: null', nullBody],
    ['issue_comment', 'null', 'null'],
    ['issue_comment', 'a JSON string', '"created"'],
    ['issue_comment', 'only an action', '{"action":"created"}'],
    ['issue_comment', 'bytes that are not JSON', '{not json'],
  ])('answers a signed %s of %s with 400 and does nothing', async (event, _what, raw) => {
    await stagingWaiting();
    await quiet();
    const before = h.github.calls.length;
    const res = await post(event, raw);
    expect(res.status).toBe(400);
    await quiet();
    expect(h.github.calls.slice(before)).toEqual([]);
    expectNothingDone();
    await healthy();
  });

  it('still refuses a forged or unsigned delivery with 4xx and no effect', async () => {
    await stagingWaiting();
    const good = JSON.stringify(comment(62, '/promote staging'));
    for (const sign of ['forged', 'none'] as const) {
      const res = await post('issue_comment', good, { sign });
      expect(res.status).toBeGreaterThanOrEqual(400);
      expect(res.status).toBeLessThan(500);
    }
    expect((await post('push', '[]', { sign: 'forged' })).status).toBe(400);
    await quiet();
    expect(comments(62)).toEqual([]);
    expectNothingDone();
    await healthy();
  });

  it('still takes a well-formed push', async () => {
    await stagingWaiting();
    const res = await sendWebhook({ url: `${h.app!.url}/api/github/webhooks`, secret: WEBHOOK_SECRET, event: 'push', payload: pushPayload({ repo: REPO, commits: [{ id: 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b', message: 'Fix', author: { name: 'Ada', email: 'ada@example.com', username: 'ada' } }] }) });
    expect(res.status).toBe(200);
    const root = await waitFor(() => h.roots('C0STAGING')[0], 'root');
    await waitFor(() => messageText(h.slack.message('C0STAGING', root.ts)!).includes('Fix'), 'commit on the card');
  });
});
