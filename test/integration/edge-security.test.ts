import http from 'node:http';
import { Writable } from 'node:stream';
import { afterEach, describe, expect, it } from 'vitest';
import { createLogger } from '../../src/adapters/logging/create-logger.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { Harness, WEBHOOK_SECRET, messageText, waitFor } from '../support/harness.js';
import * as scenarios from '../support/scenarios.js';
import { sendWebhook } from '../../emulators/clients/github-webhooks.js';
import { blockActionBody, sendSigned, sendSlashCommand, sendThreadMessage, sendUrlVerification, slashCommandBody } from '../../emulators/clients/slack-requests.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const LEAD = 'U0LEAD';
const FORM = 'application/x-www-form-urlencoded';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** qa completes the tag, staging's blue-green pauses with its preview ready: a promotion is possible. */
async function stagingWaiting(opts: { log?: ReturnType<typeof createLogger> } = {}): Promise<SlackMessage> {
  h = await Harness.start({ noStart: true, overrides: opts.log ? { log: opts.log } : {} });
  const { staging: r } = await scenarios.stagingWaiting(h, { waitText: 'Preview ready, waiting for promotion' });
  await h.settled();
  return r;
}

function root(channel: string): Promise<SlackMessage> {
  return waitFor(() => h.roots(channel)[0], `root in ${channel}`);
}

function reply(channel: string, r: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies(channel, r.ts).find((m) => messageText(m).includes(text)), `reply "${text}"`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

const patches = () => h.k8s.patches({ namespace: 'voting01-staging', name: 'vote' });
const cards = (r: SlackMessage) => h.replyTexts('C0STAGING', r.ts).filter((t) => t.includes('Promote voting01 staging?'));
/** Every Slack Web API call but the start-up token check: what people would see. */
const slackEffects = () => h.slack.calls.filter((c) => c.method !== 'auth.test');
const nowSec = () => Math.floor(Date.now() / 1000);

/** Starts the bot and waits until what it posts at start-up (the "not found" notices) is out; the calls so far. */
async function startedAndSettled(): Promise<number> {
  h = await Harness.start();
  await h.ready();
  await h.settled();
  return slackEffects().length;
}

async function healthy(): Promise<void> {
  expect((await fetch(`${h.app!.url}/healthz`)).status).toBe(200);
}

/** A pino logger writing JSON lines into memory, so what Probot and Bolt log is counted too (the capture logger is not pino). */
function memoryLog(): { log: ReturnType<typeof createLogger>; text: () => string } {
  let text = '';
  const sink = new Writable({ write(chunk: Buffer, _enc, done) { text += chunk.toString(); done(); } });
  return { log: createLogger('debug', sink), text: () => text };
}

/** POSTs with a declared Content-Length and no body at all; resolves with the status and how long the answer took. */
function declareHuge(url: string, bytes: number, headers: Record<string, string>): Promise<{ status: number; ms: number }> {
  const started = Date.now();
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers: { ...headers, 'content-length': String(bytes) } }, (res) => {
      res.resume();
      resolve({ status: res.statusCode ?? 0, ms: Date.now() - started });
      req.destroy();
    });
    req.on('error', reject);
    req.flushHeaders();
  });
}

/** Streams a chunked body 64 KB at a time until the server answers; resolves with the status and the bytes sent. */
function streamUntilAnswered(url: string, headers: Record<string, string>, maxBytes: number): Promise<{ status: number; sent: number }> {
  const chunk = Buffer.alloc(64 * 1024, 'a');
  let sent = 0;
  let answered = false;
  return new Promise((resolve, reject) => {
    const req = http.request(url, { method: 'POST', headers }, (res) => {
      answered = true;
      res.resume();
      resolve({ status: res.statusCode ?? 0, sent });
      req.destroy();
    });
    req.on('error', (err) => (answered ? undefined : reject(err)));
    const pump = () => {
      while (!answered && sent < maxBytes) {
        sent += chunk.length;
        if (!req.write(chunk)) return void req.once('drain', pump);
      }
      if (!answered) req.end();
    };
    pump();
  });
}

describe('a signed body the bot cannot read', () => {
  it('answers a signed JSON null with 400 and stays up', async () => {
    const before = await startedAndSettled();
    const res = await sendSigned(h.sender, { body: 'null', contentType: 'application/json' });
    expect(res.status).toBe(400);
    await healthy();
    await h.settled();
    expect(slackEffects().slice(before)).toEqual([]);
  });

  it('answers a signed form payload=null with 400 and stays up', async () => {
    const before = await startedAndSettled();
    const res = await sendSigned(h.sender, { body: 'payload=null', contentType: FORM });
    expect(res.status).toBe(400);
    await healthy();
    await h.settled();
    expect(slackEffects().slice(before)).toEqual([]);
  });

  it.each([
    ['an event that is a string', 'application/json', JSON.stringify({ type: 'event_callback', event_id: 'Ev1', event: 'promote' })],
    ['event: null', 'application/json', JSON.stringify({ type: 'event_callback', event_id: 'Ev2', event: null })],
    ['a message event whose channel is null', 'application/json', JSON.stringify({ type: 'event_callback', event_id: 'Ev3', event: { type: 'message', channel: null, user: LEAD, text: 'promote', ts: '1.1', thread_ts: '1.0' } })],
    ['actions: null', FORM, new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', trigger_id: 't1', user: { id: LEAD }, actions: null }) }).toString()],
    ['a button press without a user', FORM, new URLSearchParams({ payload: JSON.stringify({ type: 'block_actions', trigger_id: 't2', actions: [{ action_id: 'rollout_confirm', value: 'x' }] }) }).toString()],
    ['a payload that is not JSON', FORM, 'payload=%7Bnope'],
    ['a JSON array', 'application/json', '[]'],
  ])('answers %s with 400 and does nothing', async (_name, contentType, body) => {
    const before = await startedAndSettled();
    const res = await sendSigned(h.sender, { body, contentType });
    expect(res.status).toBe(400);
    await healthy();
    await h.settled();
    expect(slackEffects().slice(before)).toEqual([]);
  });

  it('answers a slash command without user_id with 400 and sends no patch', async () => {
    const r = await stagingWaiting();
    const before = slackEffects().length;
    const body = slashCommandBody(h.sender, { command: '/promote', text: 'staging', userId: LEAD, channelId: 'C0STAGING', responseUrl: h.slack.newResponseUrl({ channel: 'C0STAGING', user: LEAD }) })
      .replace(/(^|&)user_id=[^&]*/, '');
    const res = await sendSigned(h.sender, { body, contentType: FORM });
    expect(res.status).toBe(400);
    await h.settled();
    expect(slackEffects().slice(before)).toEqual([]);
    expect(cards(r)).toEqual([]);
    expect(patches()).toEqual([]);
    await healthy();
  });
});

describe('what Slack itself sends still gets through the edge', () => {
  it('answers the signed url_verification handshake with its challenge', async () => {
    h = await Harness.start();
    await h.ready();
    const res = await sendUrlVerification(h.sender, 'challenge-123');
    expect([res.status, res.json().challenge]).toEqual([200, 'challenge-123']);
  });

  it("answers Slack's unsigned ssl_check with 200 and acts on nothing sent beside it", async () => {
    const before = await startedAndSettled();
    const smuggled = new URLSearchParams({ ssl_check: '1', command: '/rollout', text: 'status', user_id: 'U1', channel_id: 'C0DEV', response_url: 'http://127.0.0.1:9/x' }).toString();
    const res = await fetch(`${h.app!.url}/slack/events`, { method: 'POST', headers: { 'content-type': FORM }, body: smuggled });
    expect([res.status, await res.text()]).toEqual([200, '']);
    await h.settled();
    expect(slackEffects().slice(before)).toEqual([]);
  });
});

describe('Slack replays', () => {
  it('makes one confirmation card from the same signed /promote bytes sent three times', async () => {
    const r = await stagingWaiting();
    const body = slashCommandBody(h.sender, { command: '/promote', text: 'staging', userId: 'U1', channelId: 'C0STAGING', responseUrl: h.slack.newResponseUrl({ channel: 'C0STAGING', user: 'U1' }) });
    const ts = nowSec();
    const first = await sendSigned(h.sender, { body, contentType: FORM, timestampSec: ts });
    expect(first.status).toBe(200);
    await reply('C0STAGING', r, 'Promote voting01 staging?');
    const replays = [await sendSigned(h.sender, { body, contentType: FORM, timestampSec: ts }), await sendSigned(h.sender, { body, contentType: FORM, timestampSec: ts })];
    expect(replays.map((x) => [x.status, x.body])).toEqual([[200, ''], [200, '']]);
    await h.settled();
    expect(cards(r)).toHaveLength(1);
    expect(h.slack.responses).toHaveLength(1);
    // The one card still stands: the approver confirms it and exactly one patch goes out.
    await sendThreadMessage(h.sender, { channel: 'C0STAGING', threadTs: r.ts, user: LEAD, text: 'promote' });
    await reply('C0STAGING', r, 'Promoted by');
    await h.settled();
    expect(patches()).toHaveLength(1);
  });

  it('treats a command resent with X-Slack-Retry-Num as the same command', async () => {
    const r = await stagingWaiting();
    const fields = { command: '/promote', text: 'staging', userId: 'U1', channelId: 'C0STAGING', responseUrl: h.slack.newResponseUrl({ channel: 'C0STAGING', user: 'U1' }), triggerId: '1700000000.1.trigger' };
    await sendSlashCommand(h.sender, fields);
    await reply('C0STAGING', r, 'Promote voting01 staging?');
    const retry = await sendSlashCommand(h.sender, { ...fields, headers: { 'X-Slack-Retry-Num': '1', 'X-Slack-Retry-Reason': 'http_timeout' } });
    expect([retry.status, retry.body]).toEqual([200, '']);
    await h.settled();
    expect(cards(r)).toHaveLength(1);
  });

  it('ignores a replayed Promote press, and still after a restart', async () => {
    const r = await stagingWaiting();
    await sendSlashCommand(h.sender, { command: '/promote', text: 'staging', userId: 'U1', channelId: 'C0STAGING', responseUrl: h.slack.newResponseUrl({ channel: 'C0STAGING', user: 'U1' }) });
    const card = await reply('C0STAGING', r, 'Promote voting01 staging?');
    const actions = (card.blocks as Array<{ type: string; elements?: Array<{ action_id: string; value: string }> }>).find((b) => b.type === 'actions')!;
    const value = actions.elements!.find((e) => e.action_id === 'rollout_confirm')!.value;
    const press = { actionId: 'rollout_confirm', value, user: LEAD, channel: 'C0STAGING', messageTs: card.ts, threadTs: r.ts, message: card };
    const body = blockActionBody(h.sender, press);
    const ts = nowSec();
    expect((await sendSigned(h.sender, { body, contentType: FORM, timestampSec: ts })).status).toBe(200);
    await reply('C0STAGING', r, 'Promoted by');
    await h.settled();
    const replay = await sendSigned(h.sender, { body, contentType: FORM, timestampSec: ts });
    expect([replay.status, replay.body]).toEqual([200, '']);
    await h.stopBot();
    await h.startBot();
    await h.ready();
    const replayAfterRestart = await sendSigned(h.sender, { body, contentType: FORM, timestampSec: ts });
    expect([replayAfterRestart.status, replayAfterRestart.body]).toEqual([200, '']);
    // A new press of the same button is a new request: it is told the promotion is done. Once that answer is there,
    // the replays (sent before it) would have been answered too; only the new press was.
    await sendSigned(h.sender, { body: blockActionBody(h.sender, press), contentType: FORM });
    await waitFor(() => h.slack.ephemerals({ user: LEAD }).length > 0, 'answer to the new press');
    await h.settled();
    expect(h.slack.ephemerals({ user: LEAD })).toHaveLength(1);
    expect(patches()).toHaveLength(1);
  });
});

describe('bodies nobody vouched for', () => {
  it('logs a forged 1 MB webhook in under 10 KB, payload nowhere', async () => {
    const mem = memoryLog();
    h = await Harness.start({ overrides: { log: mem.log } });
    await h.ready();
    const before = mem.text().length;
    const marker = 'ATTACKER-BYTES-';
    const payload = { ref: 'refs/heads/main', repository: { full_name: 'acme/voting01' }, junk: marker.repeat(Math.ceil(1_048_576 / marker.length)) };
    const res = await sendWebhook({ url: `${h.app!.url}/api/github/webhooks`, secret: WEBHOOK_SECRET, event: 'push', payload, forgeSignature: true });
    expect(res.status).toBe(400);
    await waitFor(() => mem.text().includes('github webhook signature rejected'), 'signature rejected line');
    const written = mem.text().slice(before);
    expect(written.length).toBeLessThan(10_000);
    expect(written).not.toContain(marker);
    await healthy();
  });

  it('logs a signed 1 MB Slack request that is malformed in under 10 KB, body nowhere', async () => {
    const mem = memoryLog();
    h = await Harness.start({ overrides: { log: mem.log } });
    await h.ready();
    const before = mem.text().length;
    const marker = 'ATTACKER-BYTES-';
    const body = JSON.stringify({ type: 'event_callback', event_id: 'Ev9', event: marker.repeat(60_000) });
    expect((await sendSigned(h.sender, { body, contentType: 'application/json' })).status).toBe(400);
    expect((await sendSigned({ ...h.sender, signingSecret: 'forged' }, { body, contentType: 'application/json' })).status).toBe(401);
    const written = mem.text().slice(before);
    expect(written.length).toBeLessThan(10_000);
    expect(written).not.toContain(marker);
  });

  it('refuses a Slack body declared over 1 MB with 413 before reading it', async () => {
    h = await Harness.start();
    await h.ready();
    const res = await declareHuge(`${h.app!.url}/slack/events`, 100 * 1024 * 1024, { 'content-type': 'application/json' });
    expect(res.status).toBe(413);
    await healthy();
  });

  it('refuses a signed 2 MB Slack request with 413: no Slack payload is that big', async () => {
    h = await Harness.start();
    await h.ready();
    const body = JSON.stringify({ type: 'event_callback', event_id: 'Ev8', event: { type: 'app_mention', text: 'x'.repeat(2 * 1024 * 1024) } });
    expect((await sendSigned(h.sender, { body, contentType: 'application/json' })).status).toBe(413);
    await healthy();
  });

  it('refuses a chunked 2 MB Slack body with 413', async () => {
    h = await Harness.start();
    await h.ready();
    const res = await streamUntilAnswered(`${h.app!.url}/slack/events`, { 'content-type': 'application/json' }, 2 * 1024 * 1024);
    expect(res.status).toBe(413);
    await healthy();
  });

  it('answers an endless chunked Slack body long before it ends, without reading it', async () => {
    h = await Harness.start();
    await h.ready();
    const res = await streamUntilAnswered(`${h.app!.url}/slack/events`, { 'content-type': 'application/json' }, 100 * 1024 * 1024);
    expect(res.status).toBe(413);
    // What got past 1 MB sits in socket buffers until the connection closes; nothing like 100 MB was sent.
    expect(res.sent).toBeLessThan(16 * 1024 * 1024);
    await healthy();
  });

  it('refuses a webhook declared over 25 MB with 413 before reading it', async () => {
    h = await Harness.start();
    await h.ready();
    const res = await declareHuge(`${h.app!.url}/api/github/webhooks`, 100 * 1024 * 1024, { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'd1', 'x-hub-signature-256': 'sha256=00' });
    expect(res.status).toBe(413);
    await healthy();
  });

  it('refuses a chunked webhook (GitHub always sends Content-Length) with 411 before reading it', async () => {
    h = await Harness.start();
    await h.ready();
    const res = await streamUntilAnswered(`${h.app!.url}/api/github/webhooks`, { 'content-type': 'application/json', 'x-github-event': 'push', 'x-github-delivery': 'd2', 'x-hub-signature-256': 'sha256=00' }, 100 * 1024 * 1024);
    expect(res.status).toBe(411);
    expect(res.sent).toBeLessThan(16 * 1024 * 1024);
    await healthy();
  });
});
