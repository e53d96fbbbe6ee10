import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import { startErrorSimEmulator, type ErrorSimEmulator } from '../../emulators/errorsim-emulator.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { errorSimConfig } from '../support/errorsim-config.js';
import { issueCommentPayload } from '../../emulators/clients/github-webhooks.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { SkewClock } from '../support/skew-clock.js';
import { sendSlashCommand } from '../../emulators/clients/slack-requests.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const LEAD = 'U0LEAD';

let h: Harness | undefined;
let sim: ErrorSimEmulator | undefined;
afterEach(async () => {
  await h?.close();
  await sim?.close();
  h = undefined;
  sim = undefined;
});

/** The bot with qa's canary waiting at its pause step, so qa has a deploy thread. */
async function qaDeploying(o: { enabled?: boolean; clock?: SkewClock; ttl?: string; githubUsers?: string[] } = {}): Promise<{ h: Harness; sim: ErrorSimEmulator; root: SlackMessage }> {
  sim = await startErrorSimEmulator({ enabled: o.enabled ?? false });
  h = await Harness.start({ noStart: true, config: errorSimConfig(sim.url, { ttl: o.ttl, githubUsers: o.githubUsers }), overrides: o.clock ? { clock: o.clock } : {} });
  h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-qa', 'vote');
  const root = await waitFor(() => h!.roots('C0QA')[0], 'qa thread');
  await reply(root, 'waiting for promotion');
  return { h, sim, root };
}

async function reply(root: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h!.slack.replies('C0QA', root.ts).find((m) => messageText(m).includes(text)), `reply "${text}"`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h!.slack.transcript()}`);
  });
}

/** Sends a slash command and waits for its ephemeral answer (through the response URL). */
async function slash(command: string, text: string, user = LEAD, channel = 'C0QA'): Promise<string> {
  const before = h!.slack.responses.length;
  const res = await sendSlashCommand(h!.sender, { command, text, userId: user, channelId: channel, responseUrl: h!.slack.newResponseUrl({ channel, user }) });
  expect(res.status).toBe(200);
  if (res.body) {
    const acked = res.json<{ text?: string }>().text;
    if (acked) return acked;
  }
  const answer = await waitFor(() => h!.slack.responses.slice(before).find((r) => r.body?.text), `answer to ${command} ${text}`);
  return String(answer.body.text);
}

function methods(): string[] {
  return sim!.calls.map((c) => c.method);
}

describe('/errors from Slack', () => {
  it('switches errors on with one POST between two reads, and says so in the deploy thread', async () => {
    const { root } = await qaDeploying();
    const answer = await slash('/errors', 'on qa');
    expect(answer).toContain('Errors are now *on* in voting01 qa');
    expect(answer).toContain('switch off by themselves at');
    expect(methods()).toEqual(['GET', 'POST', 'GET']);
    expect(sim!.enabled).toBe(true);
    const said = await reply(root, 'Errors switched *on* by <@U0LEAD>');
    expect(messageText(said)).toContain('/errors off qa');
    expect(sim!.unexpected()).toEqual([]);
  });

  it('changes nothing when errors are already on: no POST, and the answer says so', async () => {
    await qaDeploying({ enabled: true });
    const answer = await slash('/errors', 'on qa');
    expect(answer).toContain('already on');
    expect(answer).toContain('nothing changed');
    expect(sim!.count('POST')).toBe(0);
    expect(sim!.enabled).toBe(true);
  });

  it('does not toggle again when asked for errors on twice', async () => {
    await qaDeploying();
    await slash('/errors', 'on qa');
    const again = await slash('/errors', 'on qa');
    expect(again).toContain('already on');
    expect(sim!.count('POST')).toBe(1);
    expect(sim!.enabled).toBe(true);
  });

  it('switches errors off with exactly one POST and says so in the thread', async () => {
    const { root } = await qaDeploying();
    await slash('/errors', 'on qa');
    const postsBefore = sim!.count('POST');
    const answer = await slash('/errors', 'off qa');
    expect(answer).toContain('Errors are now *off* in voting01 qa');
    expect(sim!.count('POST') - postsBefore).toBe(1);
    expect(sim!.enabled).toBe(false);
    await reply(root, 'Errors switched *off* by <@U0LEAD>');
  });

  it('says errors were already off, and sends no POST', async () => {
    await qaDeploying();
    const answer = await slash('/errors', 'off qa');
    expect(answer).toContain('already off');
    expect(methods()).toEqual(['GET']);
  });

  it('answers status from a fresh read, with who switched them on and when they switch off', async () => {
    await qaDeploying();
    expect(await slash('/errors', 'status qa', 'U1')).toContain('Errors are *off*');
    await slash('/errors', 'on qa');
    const status = await slash('/errors', 'status qa', 'U1');
    expect(status).toContain('Errors are *on* in voting01 qa');
    expect(status).toContain('<@U0LEAD>');
    expect(status).toContain('switch off by themselves at');
    expect(sim!.count('POST')).toBe(1);
  });

  it('refuses someone who is not an approver, without touching the endpoint', async () => {
    await qaDeploying();
    const answer = await slash('/errors', 'on qa', 'U1');
    expect(answer).toContain('Only approvers of voting01 qa');
    expect(answer).toContain('<@U0LEAD>');
    expect(sim!.calls).toEqual([]);
  });

  it('names the environments that have error simulation when asked for one that has not', async () => {
    await qaDeploying();
    const answer = await slash('/errors', 'on dev', LEAD, 'C0DEV');
    expect(answer).toContain('not configured for voting01 dev');
    expect(answer).toContain('voting01 qa');
    expect(sim!.calls).toEqual([]);
  });

  it('reports an endpoint that answers garbage, and sends no toggle', async () => {
    await qaDeploying();
    sim!.failNext({ kind: 'garbage', method: 'GET' });
    const answer = await slash('/errors', 'on qa');
    expect(answer).toContain('Could not switch errors on');
    expect(answer).toContain('not JSON');
    expect(answer).toContain('Nothing was changed');
    expect(sim!.count('POST')).toBe(0);
    expect(sim!.enabled).toBe(false);
  });

  it('reports an unreachable endpoint as such', async () => {
    await qaDeploying();
    sim!.breakWith('reset');
    const answer = await slash('/errors', 'on qa');
    expect(answer).toContain('Could not switch errors on');
    expect(answer).toContain('could not read its state');
    expect(sim!.count('POST')).toBe(0);
  });

  it('reports a toggle that did not change the state, and does not toggle again', async () => {
    await qaDeploying();
    sim!.failNext({ kind: 'stuck', method: 'POST' });
    const answer = await slash('/errors', 'on qa');
    expect(answer).toContain('still reports enabled=false');
    expect(sim!.count('POST')).toBe(1);
    expect(methods()).toEqual(['GET', 'POST', 'GET']);
  });
});

describe('error simulation deadline', () => {
  it('switches errors off by themselves after the TTL, across a restart, and says so in the thread', async () => {
    const clock = new SkewClock();
    const { root } = await qaDeploying({ clock, ttl: '15m' });
    await slash('/errors', 'on qa');
    expect(sim!.enabled).toBe(true);
    await h!.settled();

    await h!.stopBot();
    await h!.startBot();
    await h!.ready();
    clock.skip(14 * 60_000);
    await h!.settled();
    expect(sim!.enabled).toBe(true);

    clock.skip(60_000 + 1000);
    const said = await reply(root, 'Errors switched *off* by themselves');
    expect(messageText(said)).toContain('15m TTL ran out');
    expect(sim!.enabled).toBe(false);
    expect(sim!.count('POST')).toBe(2);
  });

  it('shows a banner on the deploy card while errors are on, and removes it when they go off', async () => {
    const { root } = await qaDeploying();
    await slash('/errors', 'on qa');
    await waitFor(() => messageText(h!.slack.message('C0QA', root.ts)!).includes('Errors ON'), 'banner on the card');
    const card = messageText(h!.slack.message('C0QA', root.ts)!);
    expect(card).toContain('<@U0LEAD>');
    expect(card).toContain('switching off at');
    await slash('/errors', 'off qa');
    await waitFor(() => !messageText(h!.slack.message('C0QA', root.ts)!).includes('Errors ON'), 'banner gone');
  });
});

describe('/errors from a PR comment', () => {
  it('switches errors on for a writer, answers with a comment and mirrors it in the thread', async () => {
    // qa restricts its Slack approvers, so a comment acts there only for a GitHub approver it names.
    const { root } = await qaDeploying({ githubUsers: ['ada'] });
    h!.github.setPermission('acme/voting01', 'ada', 'write');
    const res = await h!.webhook('issue_comment', issueCommentPayload({ repo: 'acme/voting01', issueNumber: 31, isPullRequest: true, body: '/errors on qa', user: { login: 'ada' } }));
    expect(res.status).toBe(200);
    const comment = await h!.github.waitFor(() => h!.github.comments('acme/voting01', 31)[0], 'answer comment');
    expect(comment.body).toContain('Errors are now **on** in voting01 qa');
    expect(sim!.count('POST')).toBe(1);
    await reply(root, 'Errors switched *on* by @ada (GitHub)');
  });
});
