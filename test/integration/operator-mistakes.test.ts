import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { captureLogger } from '../support/capture-logger.js';
import { sendSlashCommand, sendThreadMessage } from '../../emulators/clients/slack-requests.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

describe('operator mistakes become clear messages', () => {
  it('logs a wrong signing secret with the variable to check', async () => {
    const log = captureLogger();
    h = await Harness.start({ overrides: { log } });
    await h.ready();
    const res = await sendSlashCommand({ ...h.sender, signingSecret: 'not-the-signing-secret' }, { command: '/rollout', text: 'status', userId: 'U1', channelId: 'C0DEV' });
    expect(res.status).toBe(401);
    const line = await waitFor(() => log.entries.find((e) => e.msg === 'slack request signature rejected'), 'signature log line');
    expect(String(line.fields.fix)).toContain('SLACK_SIGNING_SECRET');
  });

  it('logs a webhook signed with another secret, naming WEBHOOK_SECRET', async () => {
    const log = captureLogger();
    h = await Harness.start({ overrides: { log } });
    await h.ready();
    const res = await h.webhook('push', { ref: 'refs/heads/main', repository: { full_name: 'acme/voting01' }, commits: [] }, { forgeSignature: true });
    expect(res.status).toBe(400);
    const line = await waitFor(() => log.entries.find((e) => e.msg === 'github webhook signature rejected'), 'webhook signature log line');
    expect(String(line.fields.fix)).toContain('WEBHOOK_SECRET');
  });

  it('refuses to start with a bot token Slack rejects, naming SLACK_BOT_TOKEN', async () => {
    h = await Harness.start({ noStart: true, env: { SLACK_BOT_TOKEN: 'xoxb-wrong' } });
    await expect(h.startBot()).rejects.toThrow(/^SLACK_BOT_TOKEN: Slack rejected the token \(invalid_auth\)/);
  });

  it('logs a channel the bot was not invited to, with the fix, and posts once it can', async () => {
    const log = captureLogger();
    h = await Harness.start({ noStart: true, overrides: { log } });
    h.slack.failNext({ method: 'chat.postMessage', count: 1, error: 'not_in_channel' });
    await h.startBot();
    const line = await waitFor(() => log.entries.find((e) => e.msg === 'slack post failed, will retry'), 'post failure log');
    expect(String(line.fields.fix)).toContain('invite the bot');
    await waitFor(() => h.slack.channelMessages('C0DEV').length + h.slack.channelMessages('C0QA').length + h.slack.channelMessages('C0STAGING').length === 3, 'all notices posted after the retry', 10_000);
  });

  it('logs a watch forbidden by RBAC with the rule to add, and keeps trying', async () => {
    const log = captureLogger();
    h = await Harness.start({ noStart: true, overrides: { log } });
    h.k8s.failNext({ count: 2, status: 403, method: 'GET', path: /voting01-qa\/rollouts$/ });
    await h.startBot();
    const line = await waitFor(() => log.entries.find((e) => e.msg === 'rollout watch failed, restarting' && e.fields.status === 403), 'watch failure log');
    expect(String(line.fields.fix)).toContain('get, list and watch on rollouts.argoproj.io');
    await h.ready();
  });

  it('names the missing RBAC on rollouts/status when a promotion is forbidden', async () => {
    h = await Harness.start({ noStart: true });
    h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
    h.ecr.addImage('voting01-vote', TAG);
    await h.startBot();
    await h.ready();
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-dev', 'vote');
    const root = await waitFor(() => h.roots('C0DEV')[0], 'root');
    await sendSlashCommand(h.sender, { command: '/promote', text: 'dev', userId: 'U7', channelId: 'C0DEV', responseUrl: h.slack.newResponseUrl({ channel: 'C0DEV', user: 'U7' }) });
    await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('Promote voting01 dev?')), 'confirmation');
    h.k8s.failNext({ count: 1, status: 403, method: 'PATCH', path: /\/status$/ });
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: root.ts, user: 'U7', text: 'promote' });
    const failure = await waitFor(() => h.slack.replies('C0DEV', root.ts).find((m) => messageText(m).includes('Promote failed')), 'failure reply');
    expect(messageText(failure)).toContain('HTTP 403');
    expect(messageText(failure)).toContain('grant the bot\'s ServiceAccount "patch" on rollouts/status');
    expect(messageText(failure)).toContain('Nothing was sent');
  });
});
