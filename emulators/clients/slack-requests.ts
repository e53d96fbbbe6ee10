/**
 * Sends requests to the bot's `/slack/events` endpoint the way Slack does: the same content types, field names and
 * payload shapes, signed with the v0 scheme (HMAC-SHA256 over `v0:<timestamp>:<raw body>`). Tests use these to
 * drive the real Bolt app, and the overrides (`forgeSignature`, `timestampSec`, `now`) to prove that forged or stale
 * requests are turned away.
 */
import { createHmac, randomBytes, randomUUID } from 'node:crypto';

/** Where and how to send: the bot's events URL and the signing secret it was configured with. */
export interface SlackSender {
  /** The bot's /slack/events URL. */
  url: string;
  signingSecret: string;
  /** Clock in ms used for the signature timestamp; default Date.now. */
  now?: () => number;
  /**
   * Hands out a response_url for a command or click when the call gives none, typically
   * `(b) => emulator.newResponseUrl(b)`, so posts to it land in the emulator tied to the right message and person.
   * Without it the response_url points at a closed loopback port, and a `respond()` fails loudly.
   */
  newResponseUrl?: (binding: { channel: string; user: string; messageTs?: string }) => string;
  /** Put in `authorizations[0].user_id` of events; default 'U0BOT' (the emulator's default bot user). */
  botUserId?: string;
  /** Default team id; 'T0TEST' (the emulator's default). */
  teamId?: string;
  /** Default 'A0TESTAPP'. */
  apiAppId?: string;
}

/** The bot's HTTP answer. */
export interface HttpResult {
  status: number;
  headers: Headers;
  /** The raw response text ('' for Bolt's bodiless acks and 401s). */
  body: string;
  /** The body parsed as JSON; throws with the raw text when it is not JSON. */
  json<T = any>(): T;
}

/** Slack's legacy verification token: still sent in payloads, never to be trusted (we check signatures). */
const VERIFICATION_TOKEN = 'legacy-verification-token';
/** A response_url nobody listens on: port 9 (discard) on loopback. */
const DEAD_RESPONSE_URL = 'http://127.0.0.1:9/response/none';

/**
 * The two headers Slack adds to every request: `X-Slack-Request-Timestamp` and
 * `X-Slack-Signature: v0=<hex HMAC-SHA256(secret, "v0:<ts>:<body>")>`.
 */
export function signSlackRequest(secret: string, body: string, timestampSec: number): Record<string, string> {
  const signature = createHmac('sha256', secret).update(`v0:${timestampSec}:${body}`).digest('hex');
  return { 'X-Slack-Request-Timestamp': String(timestampSec), 'X-Slack-Signature': `v0=${signature}` };
}

/**
 * POSTs `body` signed for `s`. `forgeSignature` replaces the signature header as-is, `timestampSec` signs (and sends)
 * another time, and `headers` are added last, so they can override anything.
 */
export async function sendSigned(
  s: SlackSender,
  o: { body: string; contentType: string; headers?: Record<string, string>; forgeSignature?: string; timestampSec?: number },
): Promise<HttpResult> {
  const ts = o.timestampSec ?? nowSec(s);
  const signed = signSlackRequest(s.signingSecret, o.body, ts);
  if (o.forgeSignature !== undefined) signed['X-Slack-Signature'] = o.forgeSignature;
  const response = await fetch(s.url, {
    method: 'POST',
    headers: { 'Content-Type': o.contentType, 'User-Agent': 'Slackbot 1.0 (+https://api.slack.com/robots)', ...signed, ...o.headers },
    body: o.body,
  });
  const text = await response.text();
  return {
    status: response.status,
    headers: response.headers,
    body: text,
    json: <T>() => {
      try {
        return JSON.parse(text) as T;
      } catch {
        throw new Error(`response was not JSON (HTTP ${response.status}): ${JSON.stringify(text)}`);
      }
    },
  };
}

/** What a slash command carries; `triggerId` fixes the one id Slack makes fresh for every invocation. */
export interface SlashCommandFields {
  command: string; text: string; userId: string; channelId: string; responseUrl?: string; teamId?: string;
  userName?: string; channelName?: string; triggerId?: string;
}

/** A slash command's exact body, form-encoded with the fields Slack sends, in Slack's order (to send the same bytes twice). */
export function slashCommandBody(s: SlackSender, o: SlashCommandFields): string {
  return new URLSearchParams({
    token: VERIFICATION_TOKEN,
    team_id: o.teamId ?? teamOf(s),
    team_domain: 'example',
    channel_id: o.channelId,
    channel_name: o.channelName ?? 'deploys',
    user_id: o.userId,
    user_name: o.userName ?? o.userId.toLowerCase(),
    command: o.command,
    text: o.text,
    api_app_id: appOf(s),
    is_enterprise_install: 'false',
    response_url: o.responseUrl ?? responseUrlFor(s, { channel: o.channelId, user: o.userId }),
    trigger_id: o.triggerId ?? triggerId(),
  }).toString();
}

/** A slash command, form-encoded with the fields Slack sends, in Slack's order. */
export function sendSlashCommand(
  s: SlackSender,
  o: SlashCommandFields & { headers?: Record<string, string>; timestampSec?: number },
): Promise<HttpResult> {
  return sendSigned(s, {
    body: slashCommandBody(s, o), contentType: 'application/x-www-form-urlencoded',
    ...(o.headers ? { headers: o.headers } : {}),
    ...(o.timestampSec !== undefined ? { timestampSec: o.timestampSec } : {}),
  });
}

/**
 * A person's message in a thread, as an Events API `event_callback`. `retryNum` / `retryReason` add Slack's
 * redelivery headers; pass the same `eventId` to model a redelivery of the same event.
 */
export function sendThreadMessage(
  s: SlackSender,
  o: {
    channel: string; threadTs: string; user: string; text: string; eventId?: string; ts?: string;
    retryNum?: number; retryReason?: string; teamId?: string; timestampSec?: number;
  },
): Promise<HttpResult> {
  const team = o.teamId ?? teamOf(s);
  const ts = o.ts ?? slackTs(s);
  const body = JSON.stringify({
    token: VERIFICATION_TOKEN,
    team_id: team,
    context_team_id: team,
    api_app_id: appOf(s),
    type: 'event_callback',
    event_id: o.eventId ?? `Ev${randomBytes(5).toString('hex').toUpperCase()}`,
    event_time: Math.floor(Number(ts)),
    authorizations: [{ enterprise_id: null, team_id: team, user_id: s.botUserId ?? 'U0BOT', is_bot: true, is_enterprise_install: false }],
    is_ext_shared_channel: false,
    event: {
      type: 'message',
      client_msg_id: randomUUID(),
      channel: o.channel,
      user: o.user,
      text: o.text,
      ts,
      thread_ts: o.threadTs,
      parent_user_id: s.botUserId ?? 'U0BOT',
      team,
      blocks: [{ type: 'rich_text', block_id: randomBytes(3).toString('hex'), elements: [{ type: 'rich_text_section', elements: [{ type: 'text', text: o.text }] }] }],
      channel_type: 'channel',
      event_ts: ts,
    },
  });
  const headers: Record<string, string> = {};
  if (o.retryNum !== undefined) headers['X-Slack-Retry-Num'] = String(o.retryNum);
  if (o.retryReason !== undefined) headers['X-Slack-Retry-Reason'] = o.retryReason;
  return sendSigned(s, {
    body, contentType: 'application/json', headers,
    ...(o.timestampSec !== undefined ? { timestampSec: o.timestampSec } : {}),
  });
}

/** What a button click carries; `triggerId` and `actionTs` fix the ids Slack makes fresh for every click. */
export interface BlockActionFields {
  actionId: string; value: string; blockId?: string; user: string; channel: string; messageTs: string; threadTs?: string;
  responseUrl?: string; teamId?: string; message?: { text: string; blocks?: unknown[] }; triggerId?: string; actionTs?: string;
}

/**
 * A button click's exact body (`block_actions`), form-encoded as `payload=<JSON>`. Pass `message` (for instance
 * `emulator.message(channel, ts)`) to carry the clicked message's real text and blocks, as Slack does; the button's
 * block_id and label are then taken from it when not given.
 */
export function blockActionBody(s: SlackSender, o: BlockActionFields): string {
  const team = o.teamId ?? teamOf(s);
  const found = findButton(o.message?.blocks, o.actionId);
  const actionTs = o.actionTs ?? slackTs(s);
  const payload = {
    type: 'block_actions',
    user: { id: o.user, username: o.user.toLowerCase(), name: o.user.toLowerCase(), team_id: team },
    api_app_id: appOf(s),
    token: VERIFICATION_TOKEN,
    container: {
      type: 'message', message_ts: o.messageTs, channel_id: o.channel, is_ephemeral: false,
      ...(o.threadTs ? { thread_ts: o.threadTs } : {}),
    },
    trigger_id: o.triggerId ?? triggerId(),
    team: { id: team, domain: 'example' },
    enterprise: null,
    is_enterprise_install: false,
    channel: { id: o.channel, name: 'deploys' },
    message: {
      type: 'message', ts: o.messageTs, text: o.message?.text ?? '', blocks: o.message?.blocks ?? [],
      ...(o.threadTs ? { thread_ts: o.threadTs } : {}),
    },
    state: { values: {} },
    response_url: o.responseUrl ?? responseUrlFor(s, { channel: o.channel, user: o.user, messageTs: o.messageTs }),
    actions: [{
      action_id: o.actionId,
      block_id: o.blockId ?? found?.blockId ?? 'actions',
      text: found?.text ?? { type: 'plain_text', text: o.actionId, emoji: true },
      value: o.value,
      type: 'button',
      action_ts: actionTs,
      ...(found?.style ? { style: found.style } : {}),
    }],
  };
  return new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
}

/** A button click (`block_actions`), as {@link blockActionBody} builds it, signed and sent. */
export function sendBlockAction(s: SlackSender, o: BlockActionFields & { timestampSec?: number }): Promise<HttpResult> {
  return sendSigned(s, {
    body: blockActionBody(s, o), contentType: 'application/x-www-form-urlencoded',
    ...(o.timestampSec !== undefined ? { timestampSec: o.timestampSec } : {}),
  });
}

/** The `url_verification` handshake Slack sends when the events URL is saved. */
export function sendUrlVerification(s: SlackSender, challenge: string): Promise<HttpResult> {
  const body = JSON.stringify({ token: VERIFICATION_TOKEN, challenge, type: 'url_verification' });
  return sendSigned(s, { body, contentType: 'application/json' });
}

function nowSec(s: SlackSender): number {
  return Math.floor((s.now ?? Date.now)() / 1000);
}

function teamOf(s: SlackSender): string {
  return s.teamId ?? 'T0TEST';
}

function appOf(s: SlackSender): string {
  return s.apiAppId ?? 'A0TESTAPP';
}

function responseUrlFor(s: SlackSender, binding: { channel: string; user: string; messageTs?: string }): string {
  return s.newResponseUrl ? s.newResponseUrl(binding) : DEAD_RESPONSE_URL;
}

/** Slack trigger ids look like "13345224609.738474920.8088930838d88f008e0". */
function triggerId(): string {
  return `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(10).toString('hex')}`;
}

let tsCounter = 0;
/** A fresh Slack-shaped ts from the sender's clock; the counter keeps two in the same millisecond apart. */
function slackTs(s: SlackSender): string {
  tsCounter = (tsCounter + 1) % 1000;
  const ms = Math.floor((s.now ?? Date.now)());
  return `${Math.floor(ms / 1000)}.${String((ms % 1000) * 1000 + tsCounter).padStart(6, '0')}`;
}

function findButton(blocks: unknown[] | undefined, actionId: string):
  { blockId?: string; text?: unknown; style?: string } | undefined {
  for (const b of blocks ?? []) {
    if (typeof b !== 'object' || b === null) continue;
    const block = b as { block_id?: string; elements?: unknown[]; accessory?: unknown };
    const candidates = [...(Array.isArray(block.elements) ? block.elements : []), block.accessory];
    for (const e of candidates) {
      const el = e as { action_id?: string; text?: unknown; style?: string } | undefined;
      if (el?.action_id === actionId) {
        return {
          ...(block.block_id ? { blockId: block.block_id } : {}),
          ...(el.text ? { text: el.text } : {}),
          ...(el.style ? { style: el.style } : {}),
        };
      }
    }
  }
  return undefined;
}
