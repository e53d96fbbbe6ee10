import { readFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { issueCommentPayload } from '../../emulators/clients/github-webhooks.js';
import { sendSlashCommand, sendThreadMessage } from '../../emulators/clients/slack-requests.js';
import { STAGING_BLUE_GREEN, voting01Config } from '../../emulators/world/voting01-config.js';
import { openEmbeddedStore } from '../../src/adapters/store/open-embedded-store.js';
import type { AuditEntry } from '../../src/core/store-data.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import * as scenarios from '../support/scenarios.js';
import { SkewClock } from '../support/skew-clock.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const LEAD = 'U0LEAD';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

function statusPatches(ns: string) {
  return h.k8s.patches({ namespace: ns, name: 'vote' });
}

async function root(channel: string): Promise<SlackMessage> {
  return waitFor(() => h.roots(channel)[0], `root in ${channel}`);
}

async function reply(channel: string, r: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies(channel, r.ts).find((m) => messageText(m).includes(text)), `"${text}" in ${channel}`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

/** A slash command; resolves to the ephemeral answer (in the ack, or later through the response URL). */
async function slash(command: string, text: string, user = 'U1', channel = 'C0STAGING'): Promise<string> {
  const responseUrl = h.slack.newResponseUrl({ channel, user });
  const res = await sendSlashCommand(h.sender, { command, text, userId: user, channelId: channel, responseUrl });
  const acked = res.body ? res.json<{ text?: string }>().text : undefined;
  if (acked) return acked;
  const id = responseUrl.slice(responseUrl.lastIndexOf('/') + 1);
  const later = await waitFor(() => h.slack.responses.find((r) => r.id === id), `answer to ${command} ${text}`);
  return String(later.body.text);
}

/** qa completes the tag (so it is proven), staging (approver U0LEAD) pauses with its preview ready. */
async function stagingWaiting(config = voting01Config({ staging: [...STAGING_BLUE_GREEN, 'approvers:', '  slackUsers: [U0LEAD]'] }), clock = new SkewClock()) {
  h = await Harness.start({ noStart: true, config, overrides: { clock } });
  return (await scenarios.stagingWaiting(h, { waitText: 'Preview ready, waiting for promotion' })).staging;
}

async function auditOf(): Promise<AuditEntry[]> {
  await h.stopBot();
  const store = await openEmbeddedStore(h.dataDir);
  try {
    return (await store.stores.audit.recent()).reverse();
  } finally {
    await store.close();
  }
}

describe('locks', () => {
  it('refuses /promote in a locked environment, naming who locked it, why and since when, and sends no patch', async () => {
    const r = await stagingWaiting();
    expect(await slash('/rollout', 'lock staging db migration', LEAD)).toMatch(/locked by <@U0LEAD> since \d{4}-\d\d-\d\d \d\d:\d\d UTC \(just now\): db migration/);
    const answer = await slash('/promote', 'staging', LEAD);
    expect(answer).toMatch(/voting01 staging is locked by <@U0LEAD> since .* UTC \(just now\): db migration/);
    const refusal = await reply('C0STAGING', r, 'Cannot promote voting01 staging');
    expect(messageText(refusal)).toContain('locked by <@U0LEAD>');
    expect(messageText(refusal)).toContain('`--force`');
    await h.settled();
    expect(statusPatches('voting01-staging')).toEqual([]);
    expect(messageText(h.slack.message('C0STAGING', r.ts)!)).toContain('Locked by <@U0LEAD> since');
    expect(await slash('/rollout', 'status staging')).toContain('🔒 voting01 staging is locked by <@U0LEAD>');
  });

  it('refuses a lock by someone who is not an approver', async () => {
    await stagingWaiting();
    expect(await slash('/rollout', 'lock staging "not mine"', 'U1')).toContain('Only approvers may lock voting01 staging: <@U0LEAD>');
    expect(await slash('/rollout', 'status staging')).not.toContain('locked');
  });

  it('promotes again once an approver unlocks', async () => {
    const r = await stagingWaiting();
    await slash('/rollout', 'lock staging', LEAD);
    expect(await slash('/rollout', 'unlock staging', 'U1')).toContain('Only approvers may unlock');
    expect(await slash('/rollout', 'unlock staging', LEAD)).toContain('voting01 staging unlocked by <@U0LEAD>');
    await slash('/promote', 'staging', LEAD);
    await reply('C0STAGING', r, 'Promote voting01 staging?');
    await sendThreadMessage(h.sender, { channel: 'C0STAGING', threadTs: r.ts, user: LEAD, text: 'promote' });
    await reply('C0STAGING', r, `Promoted by <@${LEAD}>`);
    expect(statusPatches('voting01-staging')).toHaveLength(1);
    await h.settled();
    expect(messageText(h.slack.message('C0STAGING', r.ts)!)).not.toContain('Locked by');
  });

  it('lets an approver promote through a lock with --force, and records the override', async () => {
    const r = await stagingWaiting();
    await slash('/rollout', 'lock staging "db migration"', LEAD);
    expect(await slash('/promote', 'staging --force', 'U1')).toMatch(/force/i);
    await slash('/promote', 'staging --force', LEAD);
    await reply('C0STAGING', r, 'Promote voting01 staging — FORCE');
    await sendThreadMessage(h.sender, { channel: 'C0STAGING', threadTs: r.ts, user: LEAD, text: 'promote' });
    await reply('C0STAGING', r, `Promoted by <@${LEAD}>`);
    expect(statusPatches('voting01-staging')).toHaveLength(1);
    const promoted = (await auditOf()).filter((e) => e.action === 'promote');
    expect(promoted).toEqual([expect.objectContaining({ who: LEAD, override: true, result: 'ok, --force overriding the lock by U0LEAD (db migration)' })]);
  });

  it('keeps a lock across a restart', async () => {
    await stagingWaiting();
    await slash('/rollout', 'lock staging db migration', LEAD);
    await h.stopBot();
    await h.startBot();
    await h.ready();
    expect(await slash('/rollout', 'status staging')).toContain('locked by <@U0LEAD>');
  });

  it('takes /rollout lock from a PR comment by a GitHub approver', async () => {
    const r = await stagingWaiting(voting01Config({ staging: [...STAGING_BLUE_GREEN, 'approvers:', '  slackUsers: [U0LEAD]', '  githubUsers: [ada]'] }));
    h.github.setPermission('acme/voting01', 'ada', 'write');
    await h.webhook('issue_comment', issueCommentPayload({ repo: 'acme/voting01', issueNumber: 31, isPullRequest: true, body: '/rollout lock staging release testing', user: { login: 'ada' } }));
    const comment = await h.github.waitFor(() => h.github.comments('acme/voting01', 31)[0], 'reply comment');
    expect(comment.body).toContain('voting01 staging is locked by @ada (GitHub)');
    expect(comment.body).toContain('release testing');
    await reply('C0STAGING', r, '@ada ran `/rollout lock staging "release testing"`');
    expect(await slash('/promote', 'staging', LEAD)).toContain('locked by @ada (GitHub)');
    expect(statusPatches('voting01-staging')).toEqual([]);
  });
});

describe('freezes', () => {
  const deploy = 'deploy: { workflow: ci-build-push.yaml, ref: main, auto: true }';
  /** qa is frozen from an hour ago to an hour from now (the bot's clock is real time). */
  const frozenQa = () => {
    const iso = (ms: number) => new Date(ms).toISOString();
    const freeze = `freezes: [{ from: "${iso(Date.now() - 3_600_000)}", to: "${iso(Date.now() + 3_600_000)}", reason: "release freeze" }]`;
    return voting01Config({ qa: [deploy, freeze] });
  };

  it('refuses the automatic chain dispatch into a frozen environment, naming the window and its reason', async () => {
    h = await Harness.start({ noStart: true, config: frozenQa() });
    h.github.addWorkflow('acme/voting01', 'ci-build-push.yaml', { inputs: ['environment', 'image_tag'] });
    h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
    h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
    h.ecr.addImage('voting01-vote', TAG);
    await h.startBot();
    await h.ready();
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-dev', 'vote');
    const dev = await root('C0DEV');
    const refused = await reply('C0DEV', dev, 'voting01 qa is frozen: release freeze');
    expect(messageText(refused)).toMatch(/from \d{4}-\d\d-\d\d \d\d:\d\d UTC until .* UTC\. Nothing was dispatched/);
    await h.settled();
    expect(h.github.dispatches('acme/voting01')).toEqual([]);
  });

  it('refuses a promotion inside a freeze window', async () => {
    h = await Harness.start({ noStart: true, config: frozenQa() });
    h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
    h.ecr.addImage('voting01-vote', TAG);
    await h.startBot();
    await h.ready();
    h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-qa', 'vote');
    const qa = await root('C0QA');
    await reply('C0QA', qa, 'waiting for promotion');
    expect(await slash('/promote', 'qa --full', 'U7', 'C0QA')).toContain('voting01 qa is frozen: release freeze');
    await h.settled();
    expect(statusPatches('voting01-qa')).toEqual([]);
    expect(await slash('/rollout', 'status qa', 'U7', 'C0QA')).toContain('🧊 voting01 qa is frozen: release freeze');
  });
});
