import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logging/create-logger.js';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import * as scenarios from '../support/scenarios.js';
import { issueCommentPayload, pushPayload } from '../../emulators/clients/github-webhooks.js';
import { blockActionBody, sendBlockAction, sendSigned, sendSlashCommand, sendThreadMessage, signSlackRequest, slashCommandBody } from '../../emulators/clients/slack-requests.js';
import { STAGING_BLUE_GREEN, voting01Config } from '../../emulators/world/voting01-config.js';

// Red-team probes through the public surface only: signed Slack requests, signed GitHub webhooks, forged bytes,
// restarts. Each test checks what people and the cluster see. The "HOLES" block at the end holds the probes where the
// bot does the wrong thing today: those tests assert the correct behaviour and fail until fixed.

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const LEAD = 'U0LEAD';
const REPO = 'acme/voting01';
const FORM = 'application/x-www-form-urlencoded';
const STEP_PROMOTE = { contentType: 'application/merge-patch+json', body: { status: { pauseConditions: null } } };

/** dev open to anyone; qa and staging held to U0LEAD in Slack; staging also to @ada by PR comment. */
const CONFIG = voting01Config({
  qa: ['approvers: { slackUsers: [U0LEAD] }'],
  staging: [...STAGING_BLUE_GREEN, 'approvers:', '  slackUsers: [U0LEAD]', '  githubUsers: [ada]'],
});

let h: Harness;
afterEach(async () => {
  if (h) expect(h.github.unexpectedCalls()).toEqual([]);
  await h?.close();
});

// ── helpers ────────────────────────────────────────────────────────────────────────────────────────────────────────

function root(channel: string): Promise<SlackMessage> {
  return waitFor(() => h.roots(channel)[0], `root in ${channel}`);
}

function reply(channel: string, r: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies(channel, r.ts).find((m) => messageText(m).includes(text)), `reply "${text}" in ${channel}`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

function ephemeral(user: string, text: string): Promise<string> {
  return waitFor(() => h.slack.ephemerals({ user }).find((e) => e.text.includes(text)), `ephemeral "${text}" to ${user}`)
    .then((e) => e.text)
    .catch((err: Error) => {
      throw new Error(`${err.message}\n${h.slack.transcript()}`);
    });
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
  return res;
}

function press(card: SlackMessage, r: SlackMessage, user: string, o: { actionId?: string } = {}) {
  const actionId = o.actionId ?? 'rollout_confirm';
  return sendBlockAction(h.sender, { actionId, value: confirmationId(card, actionId), user, channel: card.channel, messageTs: card.ts, threadTs: r.ts, message: card });
}

async function healthy(): Promise<void> {
  expect((await fetch(`${h.app!.url}/healthz`)).status).toBe(200);
}

const nowSec = () => Math.floor(Date.now() / 1000);
/** Every Slack Web API call but the start-up token check: what people would see. */
const slackEffects = () => h.slack.calls.filter((c) => c.method !== 'auth.test');
const promotedLines = (channel: string, r: SlackMessage) => h.replyTexts(channel, r.ts).filter((t) => t.startsWith('🚀'));

/** A pino logger writing JSON lines into memory. */
function memoryLog(): { log: ReturnType<typeof createLogger>; text: () => string } {
  let text = '';
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { text += chunk.toString(); done(); } });
  return { log: createLogger('debug', sink), text: () => text };
}

/** dev (open to anyone) runs the standard canary to its first indefinite pause. */
async function devWaiting(o: { log?: ReturnType<typeof createLogger> } = {}): Promise<SlackMessage> {
  h = await Harness.start({ noStart: true, config: CONFIG, overrides: o.log ? { log: o.log } : {} });
  h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
  h.ecr.addImage('voting01-vote', TAG);
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-dev', 'vote');
  const dev = await root('C0DEV');
  await reply('C0DEV', dev, 'waiting for promotion');
  await h.settled();
  return dev;
}

/** qa completed TAG (so it is proven); staging's blue-green preview waits for promotion. */
async function stagingWaiting(o: { config?: string; log?: ReturnType<typeof createLogger> } = {}): Promise<SlackMessage> {
  h = await Harness.start({ noStart: true, config: o.config ?? CONFIG, overrides: o.log ? { log: o.log } : {} });
  const { staging: r } = await scenarios.stagingWaiting(h);
  for (const user of ['ada', 'bob']) h.github.setPermission(REPO, user, 'write');
  await h.settled();
  return r;
}

const comments = (issue: number) => h.github.comments(REPO, issue);
const comment = (issue: number, body: string, user = 'ada', extra: Partial<Parameters<typeof issueCommentPayload>[0]> = {}) =>
  issueCommentPayload({ repo: REPO, issueNumber: issue, isPullRequest: true, body, user: { login: user }, ...extra });

/**
 * Comment work runs after the webhook's answer. To know a comment was really skipped, send a plain status command on
 * another issue afterwards and wait for its answer; if the probed comment got the 👀 of a comment being acted on, wait
 * for its answer too, so a wrong action is always seen before the test looks.
 */
async function afterAComment(probe: { comment: { id: number }; issue: { number: number } }, issue: number): Promise<void> {
  await h.webhook('issue_comment', comment(issue, '/rollout status staging', 'bob'));
  await h.github.waitFor(() => comments(issue)[0], `answer on #${issue}`);
  if (h.github.reactions(probe.comment.id).length > 0) await h.github.waitFor(() => comments(probe.issue.number)[0], `answer on #${probe.issue.number}`);
  await h.settled();
}

// ── Slack: what people type ────────────────────────────────────────────────────────────────────────────────────────

describe('slash commands with look-alike, hidden or extra characters', () => {
  it.each([
    ['a Cyrillic ѕ (U+0455) in the env', 'ѕtaging'],
    ['a zero-width space after the env', 'staging\u200b'],
    ['a zero-width joiner inside the env', 'sta\u200dging'],
    ['a right-to-left override', '\u202estaging'],
    ['a NUL byte', 'staging\u0000'],
    ['a fullwidth env', 'ｓｔａｇｉｎｇ'],
  ])('answers %s with the promote help and no card', async (_what, text) => {
    const r = await stagingWaiting();
    const res = await slash(text, LEAD, 'C0STAGING');
    const body = res.json<{ response_type: string; text: string }>();
    expect(body.response_type).toBe('ephemeral');
    expect(body.text).toContain('is not an environment name');
    // The echo carries no control or format characters (no bidi override, no zero-width space).
    expect(body.text).not.toMatch(/[\u0000\u200b\u200d\u202e]/u);
    await h.settled();
    expect(h.replyTexts('C0STAGING', r.ts).filter((t) => t.includes('Promote voting01'))).toEqual([]);
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('answers trailing words and mentions with help, never a card for another app', async () => {
    const r = await stagingWaiting();
    const mention = await slash('staging <@U0LEAD>', 'U1', 'C0STAGING');
    expect(mention.json<{ text: string }>().text).toContain('is not an app name');
    await slash('staging now please', 'U1', 'C0STAGING').then((res) => expect(res.json<{ text: string }>().text).toContain('too many words'));
    await h.settled();
    expect(h.replyTexts('C0STAGING', r.ts).filter((t) => t.includes('Promote voting01'))).toEqual([]);
  });

  it('treats upper-case words as the same env and flags: --FORCE by a non-approver is refused like --force', async () => {
    const r = await stagingWaiting();
    await slash('STAGING --FORCE', 'U1', 'C0STAGING');
    await waitFor(() => h.slack.responses.find((x) => String(x.body?.text ?? '').includes('--force')), 'force refusal');
    expect(h.slack.responses.at(-1)!.body.text).toContain('only approvers of voting01 staging may use it');
    await slash('staging --dry-run --force', 'U1', 'C0STAGING');
    await waitFor(() => h.slack.responses.length === 2, 'second answer');
    expect(h.slack.responses.at(-1)!.body.text).toContain('only approvers of voting01 staging may use it');
    await h.settled();
    expect(h.replyTexts('C0STAGING', r.ts).filter((t) => t.includes('Promote voting01') || t.includes('Dry run'))).toEqual([]);
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('answers a huge text (900 KB) with a short help, and stays up', async () => {
    await stagingWaiting();
    const res = await slash(`staging ${'x'.repeat(900_000)}`, LEAD, 'C0STAGING');
    expect(res.body.length).toBeLessThan(5_000);
    expect(res.json<{ text: string }>().text).toContain('is not an app name');
    await healthy();
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('reads %00, + and %2B in the form body as data, never as a flag or a second field', async () => {
    const r = await stagingWaiting();
    const good = slashCommandBody(h.sender, { command: '/promote', text: 'staging', userId: 'U1', channelId: 'C0STAGING', responseUrl: h.slack.newResponseUrl({ channel: 'C0STAGING', user: 'U1' }) });
    // `text=staging%00%26user_id%3DU0LEAD`: the & and = are data inside text, not a new user_id.
    for (const text of ['staging%00%26user_id%3DU0LEAD', 'staging+%2B--force', 'staging%0A--force']) {
      const body = good.replace('text=staging', `text=${text}`).replace(/trigger_id=[^&]*/, `trigger_id=t${Math.random()}`);
      const res = await sendSigned(h.sender, { body, contentType: FORM });
      expect(res.status).toBe(200);
    }
    await h.settled();
    // '+%2B--force' is "staging +--force": unknown option; "%0A--force" is a real --force word by a non-approver: refused.
    expect(h.replyTexts('C0STAGING', r.ts).filter((t) => t.includes('Promote voting01'))).toEqual([]);
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('answers a form body with duplicated keys (text=…&text=…, user_id twice) with 400 and does nothing', async () => {
    const r = await stagingWaiting();
    const base = slashCommandBody(h.sender, { command: '/promote', text: 'staging', userId: 'U1', channelId: 'C0STAGING', responseUrl: h.slack.newResponseUrl({ channel: 'C0STAGING', user: 'U1' }) });
    for (const extra of ['&user_id=U0LEAD', '&text=staging+--force', '&command=%2Frollout']) {
      const res = await sendSigned(h.sender, { body: base + extra, contentType: FORM });
      expect(res.status).toBe(400);
    }
    await h.settled();
    expect(h.replyTexts('C0STAGING', r.ts).filter((t) => t.includes('Promote voting01'))).toEqual([]);
    expect(h.slack.responses).toEqual([]);
    await healthy();
  });

  it('answers a signed form body sent as application/json, and JSON sent as a form, with 400', async () => {
    await stagingWaiting();
    const before = slackEffects().length;
    const form = slashCommandBody(h.sender, { command: '/promote', text: 'staging', userId: LEAD, channelId: 'C0STAGING' });
    expect((await sendSigned(h.sender, { body: form, contentType: 'application/json' })).status).toBe(400);
    const json = JSON.stringify(Object.fromEntries(new URLSearchParams(form)));
    expect((await sendSigned(h.sender, { body: json, contentType: FORM })).status).toBe(400);
    expect((await sendSigned(h.sender, { body: form, contentType: `${FORM}; charset=utf-8` })).status).toBe(400);
    await h.settled();
    expect(slackEffects().slice(before)).toEqual([]);
    expect(patches('voting01-staging')).toEqual([]);
    await healthy();
  });
});

describe('signatures and timestamps', () => {
  it('refuses a v1 signature, a stale timestamp and a doubled signature with 401', async () => {
    await stagingWaiting();
    const body = slashCommandBody(h.sender, { command: '/promote', text: 'staging', userId: LEAD, channelId: 'C0STAGING' });
    const ts = nowSec();
    const v0 = signSlackRequest(h.sender.signingSecret, body, ts)['X-Slack-Signature']!;
    expect((await sendSigned(h.sender, { body, contentType: FORM, timestampSec: ts, forgeSignature: v0.replace('v0=', 'v1=') })).status).toBe(401);
    expect((await sendSigned(h.sender, { body, contentType: FORM, timestampSec: ts - 301 })).status).toBe(401);
    expect((await sendSigned(h.sender, { body, contentType: FORM, forgeSignature: `${v0},${v0}` })).status).toBe(401);
    await h.settled();
    expect(h.slack.responses).toEqual([]);
    expect(patches('voting01-staging')).toEqual([]);
  });
});

// ── Slack: buttons and typed words ─────────────────────────────────────────────────────────────────────────────────

describe('buttons pressed in odd ways', () => {
  it('sends one patch when the approver double-clicks Promote (two presses, new trigger ids, same instant)', async () => {
    const dev = await devWaiting();
    await slash('dev', 'U5', 'C0DEV');
    const card = await reply('C0DEV', dev, 'Promote voting01 dev?');
    const actionTs = `${nowSec()}.000100`;
    const fields = { actionId: 'rollout_confirm', value: confirmationId(card), user: 'U5', channel: 'C0DEV', messageTs: card.ts, threadTs: dev.ts, message: card, actionTs };
    const results = await Promise.all([sendBlockAction(h.sender, fields), sendBlockAction(h.sender, fields), sendBlockAction(h.sender, fields)]);
    expect(results.map((r) => r.status)).toEqual([200, 200, 200]);
    await reply('C0DEV', dev, 'Promoted by <@U5>');
    await h.settled();
    expect(patches('voting01-dev')).toEqual([STEP_PROMOTE]);
    expect(promotedLines('C0DEV', dev)).toHaveLength(1);
  });

  it('sends one patch when a typed promote and a button press arrive at once', async () => {
    const dev = await devWaiting();
    await slash('dev', 'U5', 'C0DEV');
    const card = await reply('C0DEV', dev, 'Promote voting01 dev?');
    await Promise.all([press(card, dev, 'U5'), sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: dev.ts, user: 'U5', text: 'promote' })]);
    await reply('C0DEV', dev, 'Promoted by <@U5>');
    await h.settled();
    expect(patches('voting01-dev')).toEqual([STEP_PROMOTE]);
    expect(promotedLines('C0DEV', dev)).toHaveLength(1);
  });

  it('promotes one step when two people confirm their own two cards at the same instant', async () => {
    const dev = await devWaiting();
    await slash('dev', 'U5', 'C0DEV');
    const a = await reply('C0DEV', dev, 'requested by <@U5>');
    await slash('dev', 'U6', 'C0DEV');
    const b = await reply('C0DEV', dev, 'requested by <@U6>');
    await Promise.all([press(a, dev, 'U5'), press(b, dev, 'U6')]);
    await waitFor(() => promotedLines('C0DEV', dev).length > 0, 'a promotion');
    await h.settled();
    expect(patches('voting01-dev')).toEqual([STEP_PROMOTE]);
    expect(promotedLines('C0DEV', dev)).toHaveLength(1);
  });

  it('promotes one step when the second of two cards is confirmed after the first went out', async () => {
    const dev = await devWaiting();
    await slash('dev', 'U5', 'C0DEV');
    const a = await reply('C0DEV', dev, 'requested by <@U5>');
    await slash('dev', 'U6', 'C0DEV');
    const b = await reply('C0DEV', dev, 'requested by <@U6>');
    await press(a, dev, 'U5');
    await reply('C0DEV', dev, 'Promoted by <@U5>');
    await press(b, dev, 'U6');
    await waitFor(() => h.replyTexts('C0DEV', dev.ts).some((t) => t.includes('Not promoted')) || h.slack.ephemerals({ user: 'U6' }).length > 0, 'answer to the second press');
    await h.settled();
    expect(patches('voting01-dev')).toEqual([STEP_PROMOTE]);
  });

  it('does nothing when a press names another channel than its container (channel C0QA, container C0DEV)', async () => {
    const dev = await devWaiting();
    await slash('dev', 'U5', 'C0DEV');
    const card = await reply('C0DEV', dev, 'Promote voting01 dev?');
    const payload = JSON.parse(new URLSearchParams(blockActionBody(h.sender, { actionId: 'rollout_confirm', value: confirmationId(card), user: 'U5', channel: 'C0QA', messageTs: card.ts, threadTs: dev.ts, message: card })).get('payload')!);
    payload.container.channel_id = 'C0DEV';
    const res = await sendSigned(h.sender, { body: new URLSearchParams({ payload: JSON.stringify(payload) }).toString(), contentType: FORM });
    expect(res.status).toBe(200);
    await ephemeral('U5', 'belongs to a request of another thread');
    await h.settled();
    expect(patches('voting01-dev')).toEqual([]);
  });

  it('does nothing on a press whose value is an unknown or crafted id (__proto__, constructor)', async () => {
    const dev = await devWaiting();
    for (const value of ['__proto__', 'constructor', 'toString', '', 'c0']) {
      const res = await sendBlockAction(h.sender, { actionId: 'rollout_confirm', value, user: 'U5', channel: 'C0DEV', messageTs: dev.ts, threadTs: dev.ts });
      expect(res.status).toBe(200);
    }
    await waitFor(() => h.slack.ephemerals({ user: 'U5' }).length === 5, 'five answers');
    await h.settled();
    expect(patches('voting01-dev')).toEqual([]);
    await healthy();
  });
});

describe('typed words in a thread', () => {
  it.each([
    ['promote with a mention', 'promote <@U0BOT>'],
    ['promote with trailing words', 'promote it'],
    ['a look-alike (Cyrillic о)', 'prоmote'],
    ['a zero-width space', 'promote\u200b'],
    ['fullwidth letters', 'ｐｒｏｍｏｔｅ'],
    ['inline code', '`promote`'],
  ])('does not confirm on %s', async (_what, text) => {
    const dev = await devWaiting();
    await slash('dev', 'U5', 'C0DEV');
    await reply('C0DEV', dev, 'Promote voting01 dev?');
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: dev.ts, user: 'U5', text });
    // Then a word that is not a command either, but is answered: proof the first message was handled and ignored.
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: dev.ts, user: 'U5', text: 'retry' });
    await reply('C0DEV', dev, 'nothing is waiting for `retry`');
    await h.settled();
    expect(patches('voting01-dev')).toEqual([]);
  });

  it('does not confirm when a message is edited into "promote" (message_changed)', async () => {
    const dev = await devWaiting();
    await slash('dev', 'U5', 'C0DEV');
    await reply('C0DEV', dev, 'Promote voting01 dev?');
    const body = JSON.stringify({
      token: 't', team_id: 'T0TEST', api_app_id: 'A0TESTAPP', type: 'event_callback', event_id: 'EvEDIT1', event_time: nowSec(),
      event: { type: 'message', subtype: 'message_changed', channel: 'C0DEV', hidden: true, ts: `${nowSec()}.000200`,
        message: { type: 'message', user: 'U5', text: 'promote', ts: `${nowSec()}.000100`, thread_ts: dev.ts },
        previous_message: { type: 'message', user: 'U5', text: 'looks good', ts: `${nowSec()}.000100`, thread_ts: dev.ts } },
    });
    expect((await sendSigned(h.sender, { body, contentType: 'application/json' })).status).toBe(200);
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: dev.ts, user: 'U5', text: 'retry' });
    await reply('C0DEV', dev, 'nothing is waiting for `retry`');
    await h.settled();
    expect(patches('voting01-dev')).toEqual([]);
  });

  it('handles a replayed thread message once, even after a restart', async () => {
    const dev = await devWaiting();
    await slash('dev', 'U5', 'C0DEV');
    await reply('C0DEV', dev, 'Promote voting01 dev?');
    const msg = { channel: 'C0DEV', threadTs: dev.ts, user: 'U7', text: 'abort', eventId: 'EvREPLAY1', ts: `${nowSec()}.000300` };
    await sendThreadMessage(h.sender, msg);
    await reply('C0DEV', dev, 'nothing is waiting for `abort`');
    await sendThreadMessage(h.sender, { ...msg, retryNum: 1, retryReason: 'http_timeout' });
    await h.stopBot();
    await h.startBot();
    await h.ready();
    await sendThreadMessage(h.sender, msg);
    await sendThreadMessage(h.sender, { channel: 'C0DEV', threadTs: dev.ts, user: 'U7', text: 'retry' });
    await reply('C0DEV', dev, 'nothing is waiting for `retry`');
    await h.settled();
    expect(h.replyTexts('C0DEV', dev.ts).filter((t) => t.includes('nothing is waiting for `abort`'))).toHaveLength(1);
  });
});

// ── GitHub comments ────────────────────────────────────────────────────────────────────────────────────────────────

describe('PR comments the bot must not act on', () => {
  it.each([
    ['a setext heading (===)', '/promote staging\n==='],
    ['a setext heading (---)', '/promote staging\n---'],
    ['a link reference definition', '[ship]: /promote "staging"'],
    ['an HTML block', '<div>\n/promote staging\n</div>'],
    ['a line with emphasis', '/promote **staging**'],
    ['a list item', '- /promote staging'],
    ['an ordered list item', '1. /promote staging'],
    ['a footnote definition', '[^1]: /promote staging'],
    ['a command split by a zero-width space', '/promote\u200b staging'],
    ['a Cyrillic env', '/promote ѕtaging'],
  ])('does nothing for %s', async (_what, body) => {
    await stagingWaiting();
    const payload = comment(70, body);
    expect((await h.webhook('issue_comment', payload)).status).toBe(200);
    await afterAComment(payload, 71);
    expect(patches('voting01-staging')).toEqual([]);
    // The look-alike is answered with help, the rest not at all.
    for (const c of comments(70)) expect(c.body).toContain('is not an environment name');
  });

  it('runs the plain line of a comment that mixes a quote and a command, once', async () => {
    await stagingWaiting();
    await h.webhook('issue_comment', comment(72, '> /promote staging --full\n\nAgreed:\n/promote staging'));
    const answer = await h.github.waitFor(() => comments(72)[0], 'answer');
    expect(answer.body).toContain('Promoted by @ada from GitHub');
    expect(answer.body).not.toContain('full');
    await h.settled();
    expect(patches('voting01-staging')).toHaveLength(1);
  });

  it('does nothing for an edited comment (edited into a command) or a deleted one', async () => {
    await stagingWaiting();
    const edited = comment(73, '/promote staging', 'ada', { action: 'edited', previousBody: 'LGTM', updatedAt: new Date() });
    expect((await h.webhook('issue_comment', edited)).status).toBe(200);
    const deleted = comment(74, '/promote staging', 'ada', { action: 'deleted' });
    expect((await h.webhook('issue_comment', deleted)).status).toBe(200);
    await afterAComment(edited, 75);
    expect(patches('voting01-staging')).toEqual([]);
    expect(comments(73)).toEqual([]);
    expect(h.github.reactions(edited.comment.id)).toEqual([]);
  });

  it('refuses a listed user who has lost the repo permission', async () => {
    await stagingWaiting();
    h.github.setPermission(REPO, 'ada', 'read');
    await h.webhook('issue_comment', comment(76, '/promote staging'));
    expect((await h.github.waitFor(() => comments(76)[0], 'refusal')).body).toContain('needs **write** permission');
    await h.settled();
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('refuses a write collaborator who is not a listed GitHub approver, whatever the case of the login', async () => {
    await stagingWaiting();
    h.github.setPermission(REPO, 'Ada-Evil', 'write');
    await h.webhook('issue_comment', comment(77, '/promote staging', 'Ada-Evil'));
    expect((await h.github.waitFor(() => comments(77)[0], 'refusal')).body).toContain('is for @ada only');
    await h.settled();
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('ignores a comment in an unconfigured repo, and one by a bot, with no GitHub call at all', async () => {
    await stagingWaiting();
    const before = h.github.calls.length;
    const other = issueCommentPayload({ repo: 'acme/other', issueNumber: 1, isPullRequest: true, body: '/promote staging', user: { login: 'ada' } });
    expect((await h.webhook('issue_comment', other)).status).toBe(200);
    const bot = comment(78, '/promote staging', 'rollout-chatops[bot]');
    expect((await h.webhook('issue_comment', bot)).status).toBe(200);
    const botTyped = comment(79, '/promote staging', 'ci-helper', { user: { login: 'ci-helper', type: 'Bot' } });
    expect((await h.webhook('issue_comment', botTyped)).status).toBe(200);
    await h.settled();
    expect(h.github.calls.slice(before)).toEqual([]);
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('does nothing when X-GitHub-Event does not match the payload', async () => {
    await stagingWaiting();
    const before = h.github.calls.length;
    const c = comment(80, '/promote staging');
    const asPush = await h.webhook('push', c);
    expect(asPush.status).toBe(400);
    const asIssues = await h.webhook('issues', c);
    expect(asIssues.status).toBe(200);
    const push = pushPayload({ repo: REPO, commits: [{ id: 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b', message: 'Fix', author: { name: 'Ada', email: 'ada@example.com', username: 'ada' } }] });
    const asComment = await h.webhook('issue_comment', { ...push, action: 'created' });
    expect(asComment.status).toBe(400);
    await h.settled();
    expect(h.github.calls.slice(before)).toEqual([]);
    expect(patches('voting01-staging')).toEqual([]);
    await healthy();
  });

  it('acts on a comment with no installation in the payload through the installation GitHub names, and answers 200', async () => {
    await stagingWaiting();
    const { installation: _i, ...noInstallation } = comment(81, '/rollout status staging', 'bob');
    expect((await h.webhook('issue_comment', noInstallation)).status).toBe(200);
    await h.github.waitFor(() => comments(81)[0], 'status answer');
    await healthy();
  });

  it('records no commit from a push to another branch', async () => {
    await stagingWaiting();
    const push = pushPayload({ repo: REPO, ref: 'refs/heads/evil', commits: [{ id: 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b', message: 'Evil commit message', author: { name: 'Mallory', email: 'm@example.com', username: 'mallory' } }] });
    expect((await h.webhook('push', push)).status).toBe(200);
    await h.settled();
    const staging = h.roots('C0STAGING')[0]!;
    expect(messageText(h.slack.message('C0STAGING', staging.ts)!)).not.toContain('Evil commit message');
  });
});

describe('error simulation by someone who may not', () => {
  it('sends no error-sim POST for a non-approver /errors on, however the words are cased', async () => {
    const { startErrorSimEmulator } = await import('../../emulators/errorsim-emulator.js');
    const sim = await startErrorSimEmulator({ enabled: false });
    try {
      h = await Harness.start({ noStart: true, config: voting01Config({ qa: ['errorSimulation:', `  url: ${sim.url}`, 'approvers: { slackUsers: [U0LEAD] }'] }) });
      h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
      await h.startBot();
      await h.ready();
      h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
      h.controller.settle('voting01-qa', 'vote');
      await root('C0QA');
      for (const text of ['on qa', 'ON QA', 'On qa voting01']) await slash(text, 'U1', 'C0QA', '/errors');
      await waitFor(() => h.slack.responses.length === 3, 'three answers');
      for (const r of h.slack.responses) expect(String(r.body.text)).toContain('Only approvers of voting01 qa may switch errors on');
      await h.settled();
      expect(sim.count('POST')).toBe(0);
    } finally {
      await sim.close();
    }
  });
});

describe('GitHub and Slack at once', () => {
  it('sends one patch when a PR comment and an approver\'s button press arrive together', async () => {
    const r = await stagingWaiting();
    await slash('staging', LEAD, 'C0STAGING');
    const card = await reply('C0STAGING', r, 'Promote voting01 staging?');
    await Promise.all([h.webhook('issue_comment', comment(82, '/promote staging')), press(card, r, LEAD)]);
    await h.github.waitFor(() => comments(82)[0], 'comment answer');
    await waitFor(() => promotedLines('C0STAGING', r).length > 0, 'promoted');
    await h.settled();
    expect(patches('voting01-staging')).toHaveLength(1);
    expect(promotedLines('C0STAGING', r)).toHaveLength(1);
  });
});

// ── HOLES: these assert the correct behaviour and fail today ──────────────────────────────────────────────────────

/** Holes the red-team probes found, each fixed at its root and kept here as a regression. */
describe('holes found from outside, now closed', () => {
  it('answers a signed body that is both a command and an event (event: null) with 400, not 500', async () => {
    await stagingWaiting();
    const before = slackEffects().length;
    const body = JSON.stringify({ command: '/rollout', text: 'status', user_id: LEAD, channel_id: 'C0STAGING', response_url: 'http://127.0.0.1:9/x', trigger_id: 't-both-1', event: null });
    const res = await sendSigned(h.sender, { body, contentType: 'application/json' });
    expect(res.status).toBe(400);
    await healthy();
    expect(slackEffects().slice(before)).toEqual([]);
  });

  it('does not run a command in a GFM table row (GitHub shows it as a table cell)', async () => {
    await stagingWaiting();
    const probe = comment(90, '| checklist |\n| --- |\n| tests green |\n/promote staging');
    await h.webhook('issue_comment', probe);
    await afterAComment(probe, 91);
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('does not run a command that GitHub shows struck through (~~…~~ across lines)', async () => {
    await stagingWaiting();
    const probe = comment(92, '~~I will\n/promote staging\nafter lunch~~ never mind, QA found a bug');
    await h.webhook('issue_comment', probe);
    await afterAComment(probe, 93);
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('does not run a command hidden in a collapsed <details> block', async () => {
    await stagingWaiting();
    const probe = comment(94, '<details><summary>release notes</summary>\n\n/promote staging\n\n</details>');
    await h.webhook('issue_comment', probe);
    await afterAComment(probe, 95);
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('keeps /healthz answering while it reads a 64 KB comment from someone with no permission at all', { timeout: 120_000 }, async () => {
    await stagingWaiting();
    // GitHub takes comment bodies up to 65,536 characters from anyone who may comment (on a public repo: anyone).
    const probe = comment(96, `/promote staging\n\n${'*a'.repeat(32_760)}`, 'mallory');
    const delivery = h.webhook('issue_comment', probe);
    let done = false;
    void delivery.finally(() => (done = true));
    let slowest = 0;
    while (!done) {
      const started = Date.now();
      expect((await fetch(`${h.app!.url}/healthz`)).status).toBe(200);
      slowest = Math.max(slowest, Date.now() - started);
    }
    expect((await delivery).status).toBe(200);
    expect(slowest).toBeLessThan(1000);
    await h.github.waitFor(() => comments(96)[0], 'refusal');
    expect(patches('voting01-staging')).toEqual([]);
  });

  it('answers a signed slash command it has no listener for with the list of its commands, and does nothing', async () => {
    await stagingWaiting();
    const before = slackEffects().length;
    const res = await sendSlashCommand(h.sender, { command: '/deploy', text: 'staging', userId: LEAD, channelId: 'C0STAGING' });
    expect(res.status).toBe(200);
    expect(JSON.parse(res.body)).toEqual({ response_type: 'ephemeral', text: expect.stringContaining("I don't know `/deploy`. My commands: `/promote`, `/rollout`, `/errors`") });
    expect(slackEffects().length).toBe(before);
    await healthy();
  });
});
