import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { App, HTTPReceiver, LogLevel, type BlockButtonAction, type Logger, type SlashCommand } from '@slack/bolt';
import { ErrorCode, WebClient, WebClientEvent } from '@slack/web-api';
import { messageText, startSlackEmulator, type SlackEmulator } from '../../emulators/slack-emulator.js';
import {
  sendBlockAction, sendSigned, sendSlashCommand, sendThreadMessage, sendUrlVerification, signSlackRequest, type SlackSender,
} from '../../emulators/clients/slack-requests.js';

/** Keeps library chatter out of the test output, but keeps errors to show when a test fails. */
function quietLogger(errors: unknown[] = []): Logger {
  return {
    debug: () => {}, info: () => {}, warn: () => {}, error: (...msg: unknown[]) => { errors.push(msg); },
    setLevel: () => {}, getLevel: () => LogLevel.ERROR, setName: () => {},
  };
}

/** The Slack error code a Web API call failed with. */
async function slackError(call: Promise<unknown>): Promise<string> {
  try {
    await call;
  } catch (err) {
    return (err as { data?: { error?: string } }).data?.error ?? `not a platform error: ${String(err)}`;
  }
  throw new Error('expected the call to fail');
}

const BUTTON_BLOCKS = [
  { type: 'section', text: { type: 'mrkdwn', text: '*checkout* paused at step 2/4' } },
  {
    type: 'actions', block_id: 'rollout-actions',
    elements: [{ type: 'button', action_id: 'promote', value: 'checkout@staging', style: 'primary', text: { type: 'plain_text', text: 'Promote' } }],
  },
];

describe('slack emulator through the real web-api client', () => {
  let emu: SlackEmulator;
  let client: WebClient;

  beforeEach(async () => {
    emu = await startSlackEmulator();
    client = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 }, logger: quietLogger() });
  });
  afterEach(async () => {
    await emu.close();
  });

  it('answers auth.test with the bot identity', async () => {
    const r = await client.auth.test();
    expect(r).toMatchObject({ ok: true, team_id: emu.teamId, user_id: emu.botUserId, bot_id: emu.botId });
  });

  it('rejects a wrong token with invalid_auth', async () => {
    const wrong = new WebClient('xoxb-wrong', { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 }, logger: quietLogger() });
    expect(await slackError(wrong.chat.postMessage({ channel: 'C1', text: 'hi' }))).toBe('invalid_auth');
  });

  it('accepts a JSON body with a bearer token', async () => {
    const res = await fetch(`${emu.apiUrl}chat.postMessage`, {
      method: 'POST',
      headers: { 'Content-Type': 'application/json; charset=utf-8', Authorization: `Bearer ${emu.botToken}` },
      body: JSON.stringify({ channel: 'C1', text: 'json', reply_broadcast: false }),
    });
    expect(await res.json()).toMatchObject({ ok: true, channel: 'C1' });
    expect(emu.channelMessages('C1').map((m) => m.text)).toEqual(['json']);
  });

  it('gives each posted message a unique, increasing, Slack-shaped ts', async () => {
    const a = await client.chat.postMessage({ channel: 'C1', text: 'one' });
    const b = await client.chat.postMessage({ channel: 'C1', text: 'two' });
    expect(a.ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(Number(b.ts)).toBeGreaterThan(Number(a.ts));
    expect(emu.channelMessages('C1').map((m) => m.text)).toEqual(['one', 'two']);
  });

  it('records form-encoded blocks and metadata decoded back into objects', async () => {
    const metadata = { event_type: 'rollout_event', event_payload: { key: 'checkout#rev3' } };
    const r = await client.chat.postMessage({ channel: 'C1', text: 'paused', blocks: BUTTON_BLOCKS, metadata });
    expect(emu.callsTo('chat.postMessage')[0]?.args).toMatchObject({ channel: 'C1', blocks: BUTTON_BLOCKS, metadata });
    expect(emu.message('C1', r.ts!)).toMatchObject({ blocks: BUTTON_BLOCKS, metadata, user: emu.botUserId, edits: 0 });
  });

  it('files a reply under its root thread', async () => {
    const root = await client.chat.postMessage({ channel: 'C1', text: 'root' });
    await client.chat.postMessage({ channel: 'C1', text: 'reply', thread_ts: root.ts! });
    expect(emu.replies('C1', root.ts!).map((m) => [m.text, m.threadTs])).toEqual([['reply', root.ts]]);
    expect(emu.channelMessages('C1').map((m) => m.text)).toEqual(['root']);
  });

  it('answers thread_not_found for a reply to an unknown message', async () => {
    expect(await slackError(client.chat.postMessage({ channel: 'C1', text: 'x', thread_ts: '1700000000.000100' }))).toBe('thread_not_found');
  });

  it('answers channel_not_found outside the configured channels', async () => {
    const restricted = await startSlackEmulator({ channels: ['C1'] });
    const c = new WebClient(restricted.botToken, { slackApiUrl: restricted.apiUrl, retryConfig: { retries: 0 }, logger: quietLogger() });
    try {
      expect(await slackError(c.chat.postMessage({ channel: 'C2', text: 'x' }))).toBe('channel_not_found');
    } finally {
      await restricted.close();
    }
  });

  it('answers no_text for a message with neither text nor blocks', async () => {
    expect(await slackError(client.chat.postMessage({ channel: 'C1', text: '' }))).toBe('no_text');
  });

  it('answers invalid_blocks for a section longer than Slack allows', async () => {
    const blocks = [{ type: 'section', text: { type: 'mrkdwn', text: 'x'.repeat(3001) } }];
    expect(await slackError(client.chat.postMessage({ channel: 'C1', text: 'x', blocks }))).toBe('invalid_blocks');
    expect(emu.callsTo('chat.postMessage')[0]?.response).toMatchObject({
      errors: ['must be less than 3001 characters [json-pointer:/blocks/0/text/text]'],
    });
  });

  it('chat.update replaces the content, counts the edit and keeps the reply in its thread', async () => {
    const root = await client.chat.postMessage({ channel: 'C1', text: 'root' });
    const reply = await client.chat.postMessage({ channel: 'C1', text: 'step 1/4', thread_ts: root.ts! });
    await client.chat.update({ channel: 'C1', ts: reply.ts!, text: 'step 2/4' });
    expect(emu.replies('C1', root.ts!)).toMatchObject([{ ts: reply.ts, text: 'step 2/4', edits: 1, threadTs: root.ts }]);
  });

  it('chat.update of an unknown ts answers message_not_found', async () => {
    expect(await slackError(client.chat.update({ channel: 'C1', ts: '1700000000.000100', text: 'x' }))).toBe('message_not_found');
  });

  it('keeps ephemerals per user and out of the channel', async () => {
    const r = await client.chat.postEphemeral({ channel: 'C1', user: 'U1', text: 'only you' });
    expect(r.message_ts).toMatch(/^\d{10}\.\d{6}$/);
    expect(emu.ephemerals({ user: 'U1' })).toMatchObject([{ channel: 'C1', user: 'U1', text: 'only you' }]);
    expect(emu.ephemerals({ user: 'U2' })).toEqual([]);
    expect(emu.channelMessages('C1')).toEqual([]);
  });

  it('conversations.replies returns metadata only when include_all_metadata is set', async () => {
    const metadata = { event_type: 'rollout_event', event_payload: { key: 'k1' } };
    const root = await client.chat.postMessage({ channel: 'C1', text: 'root', metadata });
    const plain = await client.conversations.replies({ channel: 'C1', ts: root.ts! });
    const full = await client.conversations.replies({ channel: 'C1', ts: root.ts!, include_all_metadata: true });
    expect(plain.messages?.[0]).not.toHaveProperty('metadata');
    expect(full.messages?.[0]).toMatchObject({ metadata });
  });

  it('conversations.replies pages through a thread with next_cursor', async () => {
    const root = await client.chat.postMessage({ channel: 'C1', text: 'root' });
    for (const text of ['r1', 'r2', 'r3', 'r4']) await client.chat.postMessage({ channel: 'C1', text, thread_ts: root.ts! });
    const pages: string[][] = [];
    for await (const page of client.paginate('conversations.replies', { channel: 'C1', ts: root.ts!, limit: 2 })) {
      pages.push((page as unknown as { messages: Array<{ text: string }> }).messages.map((m) => m.text));
    }
    expect(pages).toEqual([['root', 'r1'], ['r2', 'r3'], ['r4']]);
  });

  it('conversations.history lists top-level messages newest first after oldest', async () => {
    const first = await client.chat.postMessage({ channel: 'C1', text: 'first' });
    await client.chat.postMessage({ channel: 'C1', text: 'reply', thread_ts: first.ts! });
    await client.chat.postMessage({ channel: 'C1', text: 'second' });
    await client.chat.postMessage({ channel: 'C1', text: 'third' });
    const all = await client.conversations.history({ channel: 'C1' });
    const after = await client.conversations.history({ channel: 'C1', oldest: first.ts! });
    expect(all.messages?.map((m) => m.text)).toEqual(['third', 'second', 'first']);
    expect(after.messages?.map((m) => m.text)).toEqual(['third', 'second']);
    expect(all.messages?.[2]).toMatchObject({ reply_count: 1, thread_ts: first.ts });
  });

  it('shows a broadcast reply in its thread and in the channel', async () => {
    const root = await client.chat.postMessage({ channel: 'C1', text: 'root' });
    await client.chat.postMessage({ channel: 'C1', text: 'done', thread_ts: root.ts!, reply_broadcast: true });
    expect(emu.replies('C1', root.ts!).map((m) => m.text)).toEqual(['done']);
    expect(emu.channelMessages('C1').map((m) => m.text)).toEqual(['root', 'done']);
    expect(emu.channelMessages('C1', { includeBroadcasts: false }).map((m) => m.text)).toEqual(['root']);
    const history = await client.conversations.history({ channel: 'C1' });
    expect(history.messages?.[0]).toMatchObject({ text: 'done', subtype: 'thread_broadcast' });
  });

  it('stores a reaction on the message', async () => {
    const m = await client.chat.postMessage({ channel: 'C1', text: 'x' });
    await client.reactions.add({ channel: 'C1', timestamp: m.ts!, name: 'white_check_mark' });
    expect(emu.message('C1', m.ts!)?.reactions).toEqual(['white_check_mark']);
  });

  it('answers users.info with a profile', async () => {
    const r = await client.users.info({ user: 'U1ALICE' });
    expect(r.user).toMatchObject({ id: 'U1ALICE', name: expect.any(String), real_name: expect.any(String), profile: { display_name: expect.any(String) } });
  });

  it('builds permalinks the way Slack does', async () => {
    const m = await client.chat.postMessage({ channel: 'C1', text: 'x' });
    const r = await client.chat.getPermalink({ channel: 'C1', message_ts: m.ts! });
    expect(r.permalink).toBe(`https://example.slack.com/archives/C1/p${m.ts!.replace('.', '')}`);
  });

  it('records an unknown method and answers unknown_method', async () => {
    expect(await slackError(client.apiCall('rollouts.frobnicate', { x: 1 }))).toBe('unknown_method');
    expect(emu.callsTo('rollouts.frobnicate')).toMatchObject([{ args: { x: '1' }, status: 200 }]);
  });

  it('a rate-limited call answers 429 with Retry-After', async () => {
    emu.rateLimit({ method: 'chat.update', count: 1 });
    const strict = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl, rejectRateLimitedCalls: true, logger: quietLogger() });
    const err = await strict.chat.update({ channel: 'C1', ts: '1.0', text: 'x' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.RateLimitedError, retryAfter: 1 });
    expect(emu.callsTo('chat.update').map((c) => c.status)).toEqual([429]);
  });

  it('web-api retries a rate-limited call after Retry-After and then succeeds', async () => {
    emu.rateLimit({ method: 'chat.postMessage', count: 1, retryAfter: 0 });
    const retrying = new WebClient(emu.botToken, {
      slackApiUrl: emu.apiUrl, retryConfig: { retries: 1, minTimeout: 0, maxTimeout: 0 }, logger: quietLogger(),
    });
    const waits: number[] = [];
    retrying.on(WebClientEvent.RATE_LIMITED, (sec: number) => waits.push(sec));
    await retrying.chat.postMessage({ channel: 'C1', text: 'eventually' });
    expect(waits).toEqual([0]);
    expect(emu.callsTo('chat.postMessage').map((c) => c.status)).toEqual([429, 200]);
    expect(emu.channelMessages('C1')).toHaveLength(1);
  });

  it('failNext fails only the next calls of that method', async () => {
    emu.failNext({ method: 'chat.postMessage', count: 1, error: 'fatal_error' });
    expect(await slackError(client.chat.postMessage({ channel: 'C1', text: 'a' }))).toBe('fatal_error');
    await client.chat.postMessage({ channel: 'C1', text: 'b' });
    expect(emu.channelMessages('C1').map((m) => m.text)).toEqual(['b']);
  });

  it('failNext with httpStatus answers that HTTP status', async () => {
    emu.failNext({ count: 1, httpStatus: 503 });
    const err = await client.auth.test().catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.HTTPError, statusCode: 503 });
  });

  it('dropResponses stores the message, then cuts the connection without an answer', async () => {
    const dropped: string[] = [];
    emu.dropResponses({ method: 'chat.postMessage', match: (args) => args.text === 'taken', onDropped: (call) => dropped.push(String(call.args.text)) });
    await client.chat.postMessage({ channel: 'C1', text: 'before' });
    const err = await client.chat.postMessage({ channel: 'C1', text: 'taken' }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: ErrorCode.RequestError });
    expect(dropped).toEqual(['taken']);
    expect(emu.channelMessages('C1').map((m) => m.text)).toEqual(['before', 'taken']);
    await client.chat.postMessage({ channel: 'C1', text: 'answered' });
    expect(emu.channelMessages('C1').map((m) => m.text)).toEqual(['before', 'taken', 'answered']);
  });

  it('records response_url posts and applies replace_original to the bound message', async () => {
    const m = await client.chat.postMessage({ channel: 'C1', text: 'paused', blocks: BUTTON_BLOCKS });
    const url = emu.newResponseUrl({ channel: 'C1', user: 'U1', messageTs: m.ts! });
    const res = await fetch(url, {
      method: 'POST', headers: { 'Content-Type': 'application/json' },
      body: JSON.stringify({ replace_original: true, text: 'promoting', blocks: [] }),
    });
    expect(res.status).toBe(200);
    expect(emu.responses).toMatchObject([{ body: { replace_original: true, text: 'promoting' }, status: 200 }]);
    expect(emu.message('C1', m.ts!)).toMatchObject({ text: 'promoting', blocks: [], edits: 1 });
  });

  it('answers 404 to a response_url it never handed out', async () => {
    const res = await fetch(`${emu.url}/response/nope`, { method: 'POST', body: '{"text":"x"}' });
    expect(res.status).toBe(404);
  });

  it('waitFor resolves with the value once the predicate holds', async () => {
    const pending = emu.waitFor(() => emu.channelMessages('C1')[0], 'a message in C1');
    await client.chat.postMessage({ channel: 'C1', text: 'here' });
    expect((await pending).text).toBe('here');
  });

  it('waitFor names what it waited for when it times out', async () => {
    await expect(emu.waitFor(() => false, 'the impossible', 30)).rejects.toThrow(/waiting for the impossible/);
  });

  it('messageText joins text with what the blocks show', () => {
    const text = messageText({
      text: 'fallback',
      blocks: [
        { type: 'header', text: { type: 'plain_text', text: 'Deploy' } },
        { type: 'section', text: { type: 'mrkdwn', text: 'body' }, fields: [{ type: 'mrkdwn', text: 'f1' }] },
        { type: 'context', elements: [{ type: 'mrkdwn', text: 'ctx' }] },
        ...BUTTON_BLOCKS.slice(1),
      ],
    });
    expect(text.split('\n')).toEqual(['fallback', 'Deploy', 'body', 'f1', 'ctx', 'Promote']);
  });
});

describe('signed requests against a real Bolt app', () => {
  const signingSecret = 'test-signing-secret';
  let emu: SlackEmulator;
  let sender: SlackSender;
  let closeServer: () => Promise<void>;
  const boltErrors: unknown[] = [];
  const seen = {
    commands: [] as SlashCommand[],
    messages: [] as Array<{ text: string | undefined; threadTs: string | undefined; retryNum: number | undefined; retryReason: string | undefined }>,
    actions: [] as Array<{ actionId: string; value: string | undefined; blockId: string }>,
  };

  beforeEach(async () => {
    seen.commands.length = 0;
    seen.messages.length = 0;
    seen.actions.length = 0;
    boltErrors.length = 0;
    emu = await startSlackEmulator();
    const logger = quietLogger(boltErrors);
    const receiver = new HTTPReceiver({ signingSecret, logger });
    const app = new App({
      receiver, logger, token: emu.botToken, botId: emu.botId, botUserId: emu.botUserId,
      clientOptions: { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 } },
    });
    app.command('/rollout', async ({ ack, command }) => {
      seen.commands.push(command);
      await ack({ response_type: 'ephemeral', text: `got ${command.text}` });
    });
    app.message(/^promote$/i, async ({ message, context }) => {
      const m = message as { text?: string; thread_ts?: string };
      seen.messages.push({ text: m.text, threadTs: m.thread_ts, retryNum: context.retryNum, retryReason: context.retryReason });
    });
    app.action<BlockButtonAction>('promote', async ({ ack, action, respond }) => {
      await ack();
      seen.actions.push({ actionId: action.action_id, value: action.value, blockId: action.block_id });
      await respond({ replace_original: true, text: `Promoting ${action.value}` });
    });
    const server = createServer((req, res) => {
      try {
        receiver.requestListener(req, res);
      } catch {
        // HTTPReceiver throws synchronously for paths it does not own.
        res.writeHead(404).end();
      }
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    const port = (server.address() as AddressInfo).port;
    sender = { url: `http://127.0.0.1:${port}/slack/events`, signingSecret, newResponseUrl: (b) => emu.newResponseUrl(b) };
    closeServer = () => new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  });
  afterEach(async () => {
    await closeServer();
    await emu.close();
  });

  it('signs with v0 HMAC-SHA256 over "v0:<ts>:<body>"', () => {
    // Slack's documented example request (api.slack.com/authentication/verifying-requests-from-slack).
    const body = 'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c';
    expect(signSlackRequest('8f742231b10e8888abcd99yyyzzz85a5', body, 1531420618)).toEqual({
      'X-Slack-Request-Timestamp': '1531420618',
      'X-Slack-Signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503',
    });
  });

  it('a signed slash command reaches the handler and its ack is the HTTP answer', async () => {
    const res = await sendSlashCommand(sender, { command: '/rollout', text: 'promote checkout staging', userId: 'U1', channelId: 'C1' });
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ response_type: 'ephemeral', text: 'got promote checkout staging' });
    expect(seen.commands).toMatchObject([{ command: '/rollout', text: 'promote checkout staging', user_id: 'U1', channel_id: 'C1', team_id: 'T0TEST' }]);
  });

  it('a slash command with a forged signature gets 401 and never reaches the handler', async () => {
    const body = 'command=%2Frollout&text=promote&user_id=U1&channel_id=C1';
    const res = await sendSigned(sender, { body, contentType: 'application/x-www-form-urlencoded', forgeSignature: `v0=${'0'.repeat(64)}` });
    expect(res.status).toBe(401);
    expect(seen.commands).toEqual([]);
  });

  it('a slash command signed with another secret gets 401', async () => {
    const res = await sendSlashCommand({ ...sender, signingSecret: 'not-the-secret' }, { command: '/rollout', text: 'x', userId: 'U1', channelId: 'C1' });
    expect(res.status).toBe(401);
    expect(seen.commands).toEqual([]);
  });

  it('a slash command signed more than five minutes ago gets 401', async () => {
    const stale = { ...sender, now: () => Date.now() - 6 * 60_000 };
    const res = await sendSlashCommand(stale, { command: '/rollout', text: 'x', userId: 'U1', channelId: 'C1' });
    expect(res.status).toBe(401);
    expect(seen.commands).toEqual([]);
  });

  it('a signed thread message reaches the message listener with the retry headers in its context', async () => {
    const root = emu.postAsUser({ channel: 'C1', user: emu.botUserId, text: 'deploy thread' });
    const res = await sendThreadMessage(sender, {
      channel: 'C1', threadTs: root.ts, user: 'U1', text: 'promote', retryNum: 1, retryReason: 'http_timeout',
    });
    expect(res.status).toBe(200);
    const got = await emu.waitFor(() => seen.messages[0], 'the thread message to reach the listener');
    expect(got).toEqual({ text: 'promote', threadTs: root.ts, retryNum: 1, retryReason: 'http_timeout' });
  });

  it('a signed button click reaches the action handler and respond() acts on the clicked message', async () => {
    const client = new WebClient(emu.botToken, { slackApiUrl: emu.apiUrl, retryConfig: { retries: 0 }, logger: quietLogger() });
    const posted = await client.chat.postMessage({ channel: 'C1', text: 'paused', blocks: BUTTON_BLOCKS });
    const clicked = emu.message('C1', posted.ts!)!;
    const res = await sendBlockAction(sender, {
      actionId: 'promote', value: 'checkout@staging', user: 'U1', channel: 'C1', messageTs: clicked.ts, message: clicked,
    });
    expect(res.status).toBe(200);
    expect(seen.actions).toEqual([{ actionId: 'promote', value: 'checkout@staging', blockId: 'rollout-actions' }]);
    await emu.waitFor(() => emu.message('C1', posted.ts!)?.text === 'Promoting checkout@staging', 'respond() to replace the message');
    expect(emu.responses).toMatchObject([{ body: { replace_original: true }, status: 200 }]);
  });

  it('answers url_verification with the challenge', async () => {
    const res = await sendUrlVerification(sender, 'challenge-123');
    expect(res.status).toBe(200);
    expect(res.json()).toEqual({ challenge: 'challenge-123' });
  });
});
