/**
 * A loopback Slack Web API for integration tests: the real bot points `SLACK_API_URL` at `apiUrl` and talks to it
 * through the real @slack/web-api client. It keeps channels and threads the way Slack shows them, records every call,
 * and lets a test inject 429s and failures. It also serves `response_url`s for the signed request helpers.
 *
 * Fidelity notes (what Slack does that this copies, because the bot depends on it):
 * - web-api sends form-encoded bodies with objects (`blocks`, `metadata`, `attachments`) as JSON strings and booleans
 *   as "true"/"false"; recorded `args` are decoded back to what the caller passed, so tests compare plain values.
 * - A 429 always carries `Retry-After`: web-api aborts at once on a 429 without it.
 * - `metadata` only comes back from conversations.* when `include_all_metadata` is true.
 * - A broadcast reply (`reply_broadcast`) lives in its thread and also shows in the channel and its history.
 * - Errors are HTTP 200 with `{ok:false, error}`, as Slack answers them; only injected faults use other statuses.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { randomUUID } from 'node:crypto';

/** One recorded Web API call. `args` are decoded (JSON fields parsed, booleans and numbers typed); the token is left out. */
export interface SlackCall {
  method: string;
  args: Record<string, unknown>;
  /** Date.now() when the request arrived. */
  at: number;
  status: number;
  response: unknown;
}

/** A message as the channel shows it now. */
export interface SlackMessage {
  channel: string;
  ts: string;
  /** The root's ts, for replies only (a root never carries its own ts here). */
  threadTs?: string;
  text: string;
  blocks?: unknown[];
  metadata?: { event_type: string; event_payload: any };
  replyBroadcast?: boolean;
  user: string;
  /** Set for messages the bot posted. */
  botId?: string;
  /** How many chat.update calls (and response_url replacements) changed it. */
  edits: number;
  /** Reaction names added with reactions.add. */
  reactions: string[];
}

/** A message only one user sees. */
export interface SlackEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: unknown[];
  threadTs?: string;
  /** The message_ts chat.postEphemeral answered, or undefined for response_url ephemerals. */
  messageTs?: string;
}

/** A person known to users.info. */
export interface SlackUser {
  id: string;
  name: string;
  realName?: string;
  displayName?: string;
}

/** What a response_url is tied to, so that posting to it acts on the right message and person. */
export interface ResponseUrlBinding {
  channel?: string;
  user?: string;
  /** The message holding the clicked button: target of replace_original / delete_original. */
  messageTs?: string;
}

export interface SlackEmulatorOptions {
  botToken?: string;
  teamId?: string;
  botUserId?: string;
  botId?: string;
  /** When given, only these channel ids exist; any other answers channel_not_found. Otherwise any C…/G…/D… id exists. */
  channels?: string[];
  /** When given, users.info knows only these (and the bot); otherwise any U…/W… id gets a made-up profile. */
  users?: SlackUser[];
  /** Clock for message timestamps (ms). Default Date.now; pass the test clock when the bot filters history by time. */
  now?: () => number;
}

export interface SlackEmulator {
  /** http://127.0.0.1:PORT */
  url: string;
  /** url + '/api/': the value for SLACK_API_URL / `slackApiUrl`. */
  apiUrl: string;
  botToken: string;
  botUserId: string;
  botId: string;
  teamId: string;
  calls: SlackCall[];
  callsTo(method: string): SlackCall[];
  /** The next `count` calls of `method` (any method when omitted) answer HTTP 429 with `Retry-After: retryAfter` (s, default 1). */
  rateLimit(opts: { method?: string; count: number; retryAfter?: number }): void;
  /**
   * The next `count` calls of `method` take effect (the message is stored) but get no answer until the returned
   * release function is called: the window where a bot has posted but not yet recorded it. `onHeld` fires per held call.
   */
  holdResponses(method: string, count: number, onHeld?: () => void): () => void;
  /**
   * The next `count` (default 1) calls of `method` whose decoded args satisfy `match` take effect (the message is
   * stored), then the connection is cut without an answer: Slack accepted, the caller never learns it (a crash or a
   * lost network right after the post). `onDropped` fires per dropped call, before the caller sees the connection close.
   */
  dropResponses(o: { method: string; count?: number; match?: (args: Record<string, unknown>) => boolean; onDropped?: (call: SlackCall) => void }): void;
  /** The next `count` calls of `method` answer `{ok:false, error}` (default `fatal_error`), or HTTP `httpStatus` when given. */
  failNext(opts: { method?: string; count: number; error?: string; httpStatus?: number }): void;
  /** Top-level messages of a channel, oldest first, current content; broadcast replies included unless told not to. */
  channelMessages(channel: string, opts?: { includeBroadcasts?: boolean }): SlackMessage[];
  /** Replies of a thread, root excluded, oldest first (broadcast replies included: they live in the thread too). */
  replies(channel: string, rootTs: string): SlackMessage[];
  message(channel: string, ts: string): SlackMessage | undefined;
  ephemerals(opts?: { channel?: string; user?: string }): SlackEphemeral[];
  /** Posts to response URLs, in order. `status` is what the emulator answered (404 for an id it never handed out). */
  responses: Array<{ id: string; body: any; status: number }>;
  /** A fresh response URL; with a binding, posts to it also act on the channel as Slack would. */
  newResponseUrl(binding?: ResponseUrlBinding): string;
  /** Stores a message typed by a person (not an API call), e.g. the "promote" a test then sends as an event. */
  postAsUser(o: { channel: string; user: string; text: string; threadTs?: string; ts?: string; blocks?: unknown[] }): SlackMessage;
  /** Waits until predicate() is truthy (polling every 10 ms), else throws naming `what` after timeoutMs (default 5000). */
  waitFor<T>(predicate: () => T | undefined | null | false, what: string, timeoutMs?: number): Promise<T>;
  /** Readable dump of every channel, thread, ephemeral, response and call, for failure messages. */
  transcript(): string;
  close(): Promise<void>;
}

type Args = Record<string, unknown>;
type ApiResult = { ok: boolean } & Record<string, unknown>;
type Handler = (args: Args) => ApiResult;

interface Fault {
  method?: string;
  remaining: number;
  status: number;
  retryAfter?: number;
  error: string;
}

interface Stored extends SlackMessage {
  editedTs?: string;
}

/** Form fields that web-api JSON-encodes (any non-primitive argument). */
const JSON_FIELDS = new Set(['blocks', 'attachments', 'metadata']);
const BOOLEAN_FIELDS = new Set([
  'reply_broadcast', 'include_all_metadata', 'unfurl_links', 'unfurl_media', 'inclusive', 'mrkdwn', 'as_user', 'link_names',
]);
const NUMBER_FIELDS = new Set(['limit']);
/** Slack truncates longer text; it answers msg_too_long past this. */
const MAX_TEXT = 40_000;

/** Starts the emulator on 127.0.0.1 with an OS-chosen port. */
export async function startSlackEmulator(opts: SlackEmulatorOptions = {}): Promise<SlackEmulator> {
  const botToken = opts.botToken ?? 'xoxb-test-token';
  const teamId = opts.teamId ?? 'T0TEST';
  const botUserId = opts.botUserId ?? 'U0BOT';
  const botId = opts.botId ?? 'B0BOT';
  const now = opts.now ?? Date.now;
  const allowedChannels = opts.channels ? new Set(opts.channels) : undefined;
  const knownUsers = opts.users ? new Map(opts.users.map((u) => [u.id, u])) : undefined;

  const calls: SlackCall[] = [];
  const faults: Fault[] = [];
  const store = new Map<string, Stored>();
  const ephemeralList: SlackEphemeral[] = [];
  const responses: SlackEmulator['responses'] = [];
  const responseUrls = new Map<string, ResponseUrlBinding>();
  let lastMicros = 0;
  let url = '';

  const key = (channel: string, ts: string) => `${channel}/${ts}`;

  /** Slack-shaped ts from the clock, bumped so that every message gets a distinct, increasing one. */
  function nextTs(): string {
    lastMicros = Math.max(Math.floor(now()) * 1000, lastMicros + 100);
    return formatTs(lastMicros);
  }

  function channelExists(channel: string): boolean {
    return allowedChannels ? allowedChannels.has(channel) : /^[CGD][A-Z0-9]+$/.test(channel);
  }

  function sorted(list: Iterable<Stored>): Stored[] {
    return [...list].sort((a, b) => tsMicros(a.ts) - tsMicros(b.ts));
  }

  function inChannel(channel: string): Stored[] {
    return sorted([...store.values()].filter((m) => m.channel === channel));
  }

  function threadOf(channel: string, rootTs: string): Stored[] {
    return inChannel(channel).filter((m) => m.threadTs === rootTs);
  }

  /** Top-level messages plus broadcasts: what a person scrolling the channel sees. */
  function channelView(channel: string, includeBroadcasts: boolean): Stored[] {
    return inChannel(channel).filter((m) => m.threadTs === undefined || (includeBroadcasts && m.replyBroadcast));
  }

  /** A message in the shape conversations.* and chat.* answer with. */
  function apiMessage(m: Stored, withMetadata: boolean): Record<string, unknown> {
    const out: Record<string, unknown> = { type: 'message', ts: m.ts, user: m.user, text: m.text, team: teamId };
    if (m.botId) out.bot_id = m.botId;
    if (m.blocks) out.blocks = m.blocks;
    if (m.threadTs) {
      out.thread_ts = m.threadTs;
      out.parent_user_id = store.get(key(m.channel, m.threadTs))?.user;
      if (m.replyBroadcast) out.subtype = 'thread_broadcast';
    } else {
      const replies = threadOf(m.channel, m.ts);
      if (replies.length > 0) {
        const users = [...new Set(replies.map((r) => r.user))];
        Object.assign(out, {
          thread_ts: m.ts, reply_count: replies.length, reply_users_count: users.length, reply_users: users,
          latest_reply: replies[replies.length - 1]!.ts,
        });
      }
    }
    if (m.editedTs) out.edited = { user: m.user, ts: m.editedTs };
    if (m.reactions.length > 0) out.reactions = m.reactions.map((name) => ({ name, users: [botUserId], count: 1 }));
    if (withMetadata && m.metadata) out.metadata = m.metadata;
    return out;
  }

  /** Validates the shared content arguments of postMessage / update / postEphemeral. */
  function checkContent(args: Args): ApiResult | { text: string; blocks?: unknown[] } {
    const text = str(args.text) ?? '';
    const blocks = args.blocks;
    if (blocks !== undefined && !Array.isArray(blocks)) return fail('invalid_blocks_format');
    const blockErrors = Array.isArray(blocks) ? validateBlocks(blocks) : [];
    if (blockErrors.length > 0) {
      return fail('invalid_blocks', { errors: blockErrors, response_metadata: { messages: blockErrors.map((e) => `[ERROR] ${e}`) } });
    }
    const hasBlocks = Array.isArray(blocks) && blocks.length > 0;
    const hasAttachments = Array.isArray(args.attachments) && args.attachments.length > 0;
    if (text === '' && !hasBlocks && !hasAttachments) return fail('no_text');
    if (text.length > MAX_TEXT) return fail('msg_too_long');
    return Array.isArray(blocks) ? { text, blocks } : { text };
  }

  function checkMetadata(args: Args): ApiResult | { metadata?: SlackMessage['metadata'] } {
    const md = args.metadata;
    if (md === undefined) return {};
    if (!isRecord(md) || typeof md.event_type !== 'string' || md.event_type === '') return fail('invalid_metadata_format');
    if (md.event_payload !== undefined && !isRecord(md.event_payload)) return fail('invalid_metadata_format');
    return { metadata: { event_type: md.event_type, event_payload: md.event_payload ?? {} } };
  }

  function insert(m: Stored): Stored {
    store.set(key(m.channel, m.ts), m);
    return m;
  }

  /** Slack files a reply to a reply under the same root. */
  function rootOf(channel: string, ts: string): Stored | undefined {
    const m = store.get(key(channel, ts));
    return m?.threadTs ? store.get(key(channel, m.threadTs)) ?? m : m;
  }

  /** Cursor-paginates an ordered list; the cursor names the ts the next page starts at, as Slack's `next_ts:` cursors do. */
  function paginate(list: Stored[], args: Args, defaultLimit: number, withMetadata: boolean, newestFirst: boolean): ApiResult {
    let start = 0;
    const cursor = str(args.cursor);
    if (cursor) {
      const decoded = Buffer.from(cursor, 'base64').toString('utf8');
      if (!decoded.startsWith('next_ts:')) return fail('invalid_cursor');
      const at = tsMicros(decoded.slice('next_ts:'.length));
      // Keyed by ts rather than offset, so messages posted between pages do not shift the next page.
      start = list.findIndex((m) => (newestFirst ? tsMicros(m.ts) <= at : tsMicros(m.ts) >= at));
      if (start < 0) start = list.length;
    }
    const limitArg = num(args.limit);
    const limit = limitArg && limitArg > 0 ? Math.min(limitArg, 1000) : defaultLimit;
    const page = list.slice(start, start + limit);
    const next = list[start + limit];
    return {
      ok: true,
      messages: page.map((m) => apiMessage(m, withMetadata)),
      has_more: next !== undefined,
      response_metadata: { next_cursor: next ? Buffer.from(`next_ts:${next.ts}`).toString('base64') : '' },
    };
  }

  /** Applies oldest / latest / inclusive as Slack does (exclusive bounds unless inclusive). */
  function inWindow(args: Args): (m: Stored) => boolean {
    const oldest = str(args.oldest);
    const latest = str(args.latest);
    const inclusive = args.inclusive === true;
    return (m) => {
      const t = tsMicros(m.ts);
      if (oldest !== undefined && (inclusive ? t < tsMicros(oldest) : t <= tsMicros(oldest))) return false;
      if (latest !== undefined && (inclusive ? t > tsMicros(latest) : t >= tsMicros(latest))) return false;
      return true;
    };
  }

  function lookupUser(id: string): SlackUser | undefined {
    if (id === botUserId) return { id, name: 'rollout-bot', realName: 'Rollout Bot', displayName: 'Rollout Bot' };
    if (knownUsers) return knownUsers.get(id);
    if (!/^[UW][A-Z0-9]+$/.test(id)) return undefined;
    return { id, name: id.toLowerCase(), realName: `User ${id}`, displayName: id.toLowerCase() };
  }

  const handlers: Record<string, Handler> = {
    'auth.test': () => ({
      ok: true, url: 'https://example.slack.com/', team: 'Example', user: 'rollout-bot', team_id: teamId, user_id: botUserId,
      bot_id: botId, is_enterprise_install: false,
    }),

    'chat.postMessage': (args) => {
      const channel = str(args.channel) ?? '';
      if (!channelExists(channel)) return fail('channel_not_found');
      const content = checkContent(args);
      if ('ok' in content) return content;
      const meta = checkMetadata(args);
      if ('ok' in meta) return meta;
      let threadTs: string | undefined;
      const requestedThread = str(args.thread_ts);
      if (requestedThread) {
        const root = rootOf(channel, requestedThread);
        if (!root) return fail('thread_not_found');
        threadTs = root.ts;
      }
      const m = insert({
        channel, ts: nextTs(), text: content.text, user: botUserId, botId, edits: 0, reactions: [],
        ...(content.blocks ? { blocks: content.blocks } : {}),
        ...(meta.metadata ? { metadata: meta.metadata } : {}),
        ...(threadTs ? { threadTs } : {}),
        ...(threadTs && args.reply_broadcast === true ? { replyBroadcast: true } : {}),
      });
      return { ok: true, channel, ts: m.ts, message: apiMessage(m, true) };
    },

    'chat.update': (args) => {
      const channel = str(args.channel) ?? '';
      if (!channelExists(channel)) return fail('channel_not_found');
      const m = store.get(key(channel, str(args.ts) ?? ''));
      if (!m) return fail('message_not_found');
      if (m.user !== botUserId) return fail('cant_update_message');
      const content = checkContent(args);
      if ('ok' in content) return content;
      const meta = checkMetadata(args);
      if ('ok' in meta) return meta;
      // Slack keeps the old blocks when none are sent, and removes them on an empty array.
      if (args.text !== undefined) m.text = content.text;
      if (content.blocks) {
        if (content.blocks.length > 0) m.blocks = content.blocks;
        else delete m.blocks;
      }
      if (meta.metadata) m.metadata = meta.metadata;
      m.edits += 1;
      m.editedTs = nextTs();
      return { ok: true, channel, ts: m.ts, text: m.text, message: apiMessage(m, true) };
    },

    'chat.delete': (args) => {
      const channel = str(args.channel) ?? '';
      if (!channelExists(channel)) return fail('channel_not_found');
      const ts = str(args.ts) ?? '';
      const m = store.get(key(channel, ts));
      if (!m) return fail('message_not_found');
      if (m.user !== botUserId) return fail('cant_delete_message');
      store.delete(key(channel, ts));
      return { ok: true, channel, ts };
    },

    'chat.postEphemeral': (args) => {
      const channel = str(args.channel) ?? '';
      if (!channelExists(channel)) return fail('channel_not_found');
      const user = str(args.user);
      if (!user || !lookupUser(user)) return fail('user_not_in_channel');
      const content = checkContent(args);
      if ('ok' in content) return content;
      const threadTs = str(args.thread_ts);
      const messageTs = nextTs();
      ephemeralList.push({
        channel, user, text: content.text, messageTs,
        ...(content.blocks ? { blocks: content.blocks } : {}),
        ...(threadTs ? { threadTs } : {}),
      });
      return { ok: true, message_ts: messageTs };
    },

    'chat.getPermalink': (args) => {
      const channel = str(args.channel) ?? '';
      if (!channelExists(channel)) return fail('channel_not_found');
      const m = store.get(key(channel, str(args.message_ts) ?? ''));
      if (!m) return fail('message_not_found');
      return { ok: true, channel, permalink: permalinkOf(m) };
    },

    'conversations.replies': (args) => {
      const channel = str(args.channel) ?? '';
      if (!channelExists(channel)) return fail('channel_not_found');
      const root = rootOf(channel, str(args.ts) ?? '');
      if (!root) return fail('thread_not_found');
      const list = [root, ...threadOf(channel, root.ts)].filter(inWindow(args));
      return paginate(list, args, 1000, args.include_all_metadata === true, false);
    },

    'conversations.history': (args) => {
      const channel = str(args.channel) ?? '';
      if (!channelExists(channel)) return fail('channel_not_found');
      const list = channelView(channel, true).filter(inWindow(args)).reverse();
      return { ...paginate(list, args, 100, args.include_all_metadata === true, true), pin_count: 0 };
    },

    'reactions.add': (args) => {
      const channel = str(args.channel) ?? '';
      if (!channelExists(channel)) return fail('channel_not_found');
      const name = (str(args.name) ?? '').replace(/^:|:$/g, '');
      if (!name) return fail('invalid_name');
      const m = store.get(key(channel, str(args.timestamp) ?? ''));
      if (!m) return fail('message_not_found');
      if (m.reactions.includes(name)) return fail('already_reacted');
      m.reactions.push(name);
      return { ok: true };
    },

    'users.info': (args) => {
      const u = lookupUser(str(args.user) ?? '');
      if (!u) return fail('user_not_found');
      return {
        ok: true,
        user: {
          id: u.id, team_id: teamId, name: u.name, real_name: u.realName ?? u.name, deleted: false, is_bot: u.id === botUserId,
          profile: { display_name: u.displayName ?? u.name, real_name: u.realName ?? u.name },
        },
      };
    },
  };

  function record(method: string, args: Args, status: number, response: unknown): void {
    calls.push({ method, args, at: Date.now(), status, response });
  }

  const holds: Array<{ method: string; remaining: number; held: Array<() => void>; onHeld?: () => void }> = [];
  const drops: Array<{ method: string; remaining: number; match?: (args: Args) => boolean; onDropped?: (call: SlackCall) => void }> = [];

  /** The first armed fault for this method, consumed. */
  function takeFault(method: string): Fault | undefined {
    const f = faults.find((x) => x.remaining > 0 && (x.method === undefined || x.method === method));
    if (f) f.remaining -= 1;
    return f;
  }

  async function handleApi(req: IncomingMessage, res: ServerResponse, method: string, query: URLSearchParams): Promise<void> {
    const raw = await readBody(req);
    let args: Args;
    try {
      args = parseArgs(raw, req.headers['content-type'] ?? '', query);
    } catch {
      record(method, { raw }, 200, fail('invalid_json'));
      return sendJson(res, 200, fail('invalid_json'));
    }
    const bearer = /^Bearer\s+(.+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const token = bearer ?? str(args.token);
    delete args.token;

    const fault = takeFault(method);
    if (fault) {
      const body = fail(fault.error);
      record(method, args, fault.status, body);
      const headers: Record<string, string> = {};
      if (fault.status === 429) headers['Retry-After'] = String(fault.retryAfter ?? 1);
      return sendJson(res, fault.status, body, headers);
    }
    const handler = handlers[method];
    const result = !token ? fail('not_authed')
      : token !== botToken ? fail('invalid_auth')
      : handler ? handler(args)
      : fail('unknown_method');
    record(method, args, 200, result);
    const drop = drops.find((x) => x.remaining > 0 && x.method === method && (x.match?.(args) ?? true));
    if (drop) {
      drop.remaining -= 1;
      drop.onDropped?.(calls[calls.length - 1]!);
      res.socket?.destroy();
      return;
    }
    const hold = holds.find((x) => x.remaining > 0 && x.method === method);
    if (hold) {
      // The call took effect, but its answer never comes (the caller crashes or times out first).
      hold.remaining -= 1;
      hold.held.push(() => sendJson(res, 200, result));
      hold.onHeld?.();
      return;
    }
    sendJson(res, 200, result);
  }

  /** A post to a response_url: recorded, and acted on the bound channel the way Slack renders it. */
  async function handleResponse(req: IncomingMessage, res: ServerResponse, id: string): Promise<void> {
    const raw = await readBody(req);
    let body: any;
    try {
      body = JSON.parse(raw);
    } catch {
      responses.push({ id, body: raw, status: 400 });
      return sendJson(res, 400, { ok: false, error: 'invalid_payload' });
    }
    const binding = responseUrls.get(id);
    if (!binding) {
      responses.push({ id, body, status: 404 });
      return sendJson(res, 404, { ok: false, error: 'expired_url' });
    }
    responses.push({ id, body, status: 200 });
    const target = binding.channel && binding.messageTs ? store.get(key(binding.channel, binding.messageTs)) : undefined;
    if (body.delete_original === true && target) {
      store.delete(key(target.channel, target.ts));
    } else if (body.replace_original === true && target) {
      if (typeof body.text === 'string') target.text = body.text;
      if (Array.isArray(body.blocks)) target.blocks = body.blocks;
      target.edits += 1;
      target.editedTs = nextTs();
    } else if (binding.channel && body.response_type === 'in_channel') {
      const threadTs = typeof body.thread_ts === 'string' ? rootOf(binding.channel, body.thread_ts)?.ts : undefined;
      insert({
        channel: binding.channel, ts: nextTs(), text: String(body.text ?? ''), user: botUserId, botId, edits: 0, reactions: [],
        ...(Array.isArray(body.blocks) ? { blocks: body.blocks } : {}),
        ...(threadTs ? { threadTs } : {}),
      });
    } else if (binding.channel && binding.user) {
      ephemeralList.push({
        channel: binding.channel, user: binding.user, text: String(body.text ?? ''),
        ...(Array.isArray(body.blocks) ? { blocks: body.blocks } : {}),
        ...(typeof body.thread_ts === 'string' ? { threadTs: body.thread_ts } : {}),
      });
    }
    sendJson(res, 200, { ok: true });
  }

  const server: Server = createServer((req, res) => {
    const parsed = new URL(req.url ?? '/', 'http://127.0.0.1');
    const path = parsed.pathname;
    let work: Promise<void>;
    if (path.startsWith('/api/') && (req.method === 'POST' || req.method === 'GET')) {
      work = handleApi(req, res, decodeURIComponent(path.slice('/api/'.length)), parsed.searchParams);
    } else if (path.startsWith('/response/') && req.method === 'POST') {
      work = handleResponse(req, res, decodeURIComponent(path.slice('/response/'.length)));
    } else {
      work = Promise.resolve(sendJson(res, 404, { ok: false, error: 'not_found' }));
    }
    work.catch((err: unknown) => {
      // An emulator bug must show up as a loud 500, not a hung test.
      if (!res.headersSent) sendJson(res, 500, { ok: false, error: 'emulator_error', detail: String(err) });
    });
  });

  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(0, '127.0.0.1', () => resolve());
  });
  url = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;

  const snapshot = (m: Stored): SlackMessage => {
    const { editedTs: _editedTs, ...pub } = m;
    return structuredClone(pub);
  };

  function transcript(): string {
    const lines: string[] = [];
    const channels = [...new Set([...store.values()].map((m) => m.channel))].sort();
    const show = (m: Stored) => {
      const flags = [
        m.edits > 0 ? `edited ${m.edits}x` : '',
        m.replyBroadcast ? 'broadcast' : '',
        m.metadata ? `metadata ${m.metadata.event_type} ${JSON.stringify(m.metadata.event_payload)}` : '',
        m.reactions.length > 0 ? `reactions ${m.reactions.join(',')}` : '',
      ].filter(Boolean);
      return `[${m.ts}] <${m.user}> ${messageText(m).replace(/\n/g, ' | ')}${flags.length ? `  (${flags.join('; ')})` : ''}`;
    };
    for (const channel of channels) {
      lines.push(`#${channel}`);
      const all = inChannel(channel);
      const roots = new Set(all.filter((m) => !m.threadTs).map((m) => m.ts));
      for (const m of all.filter((x) => !x.threadTs)) {
        lines.push(`  ${show(m)}`);
        for (const r of threadOf(channel, m.ts)) lines.push(`    ↳ ${show(r)}`);
      }
      // Replies whose root was deleted still exist in Slack's thread view.
      for (const r of all.filter((x) => x.threadTs && !roots.has(x.threadTs))) lines.push(`    ↳ (root ${r.threadTs} deleted) ${show(r)}`);
    }
    for (const e of ephemeralList) {
      lines.push(`ephemeral to ${e.user} in #${e.channel}${e.threadTs ? ` thread ${e.threadTs}` : ''}: ${messageText(e).replace(/\n/g, ' | ')}`);
    }
    for (const r of responses) lines.push(`response_url ${r.id} -> ${r.status}: ${JSON.stringify(r.body)}`);
    lines.push(`calls (${calls.length}):`);
    for (const c of calls) {
      const resp = c.response as { ok?: boolean; error?: string } | undefined;
      lines.push(`  ${c.method} -> ${c.status}${resp?.ok === false ? ` ${resp.error}` : ''}`);
    }
    return lines.join('\n');
  }

  return {
    url,
    apiUrl: `${url}/api/`,
    botToken, botUserId, botId, teamId,
    calls,
    responses,
    callsTo: (method) => calls.filter((c) => c.method === method),
    holdResponses: (method, count, onHeld) => {
      const h = { method, remaining: count, held: [] as Array<() => void>, onHeld };
      holds.push(h);
      return () => { for (const send of h.held.splice(0)) send(); };
    },
    dropResponses: ({ method, count, match, onDropped }) => {
      drops.push({ method, remaining: count ?? 1, match, onDropped });
    },
    rateLimit: ({ method, count, retryAfter }) => {
      faults.push({ ...(method ? { method } : {}), remaining: count, status: 429, retryAfter: retryAfter ?? 1, error: 'ratelimited' });
    },
    failNext: ({ method, count, error, httpStatus }) => {
      faults.push({ ...(method ? { method } : {}), remaining: count, status: httpStatus ?? 200, error: error ?? 'fatal_error' });
    },
    channelMessages: (channel, o) => channelView(channel, o?.includeBroadcasts ?? true).map(snapshot),
    replies: (channel, rootTs) => threadOf(channel, rootTs).map(snapshot),
    message: (channel, ts) => {
      const m = store.get(key(channel, ts));
      return m ? snapshot(m) : undefined;
    },
    ephemerals: (o = {}) => ephemeralList
      .filter((e) => (o.channel === undefined || e.channel === o.channel) && (o.user === undefined || e.user === o.user))
      .map((e) => structuredClone(e)),
    newResponseUrl: (binding = {}) => {
      const id = randomUUID();
      responseUrls.set(id, binding);
      return `${url}/response/${id}`;
    },
    postAsUser: (o) => {
      if (o.threadTs && !store.has(key(o.channel, o.threadTs))) throw new Error(`postAsUser: no message ${o.threadTs} in ${o.channel}`);
      if (o.ts && store.has(key(o.channel, o.ts))) throw new Error(`postAsUser: ${o.ts} already exists in ${o.channel}`);
      const ts = o.ts ?? nextTs();
      if (o.ts) lastMicros = Math.max(lastMicros, tsMicros(o.ts));
      return snapshot(insert({
        channel: o.channel, ts, text: o.text, user: o.user, edits: 0, reactions: [],
        ...(o.blocks ? { blocks: o.blocks } : {}),
        ...(o.threadTs ? { threadTs: rootOf(o.channel, o.threadTs)!.ts } : {}),
      }));
    },
    waitFor: async <T>(predicate: () => T | undefined | null | false, what: string, timeoutMs = 5000): Promise<T> => {
      const deadline = Date.now() + timeoutMs;
      let lastError: unknown;
      for (;;) {
        try {
          const value = predicate();
          if (value) return value;
        } catch (err) {
          // A predicate that reads something not there yet (calls[0].args) is "not yet", not a failure.
          lastError = err;
        }
        if (Date.now() >= deadline) {
          const cause = lastError ? `\nlast predicate error: ${String(lastError)}` : '';
          throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}${cause}\n--- slack transcript ---\n${transcript()}`);
        }
        await new Promise((r) => setTimeout(r, 10));
      }
    },
    transcript,
    close: () => new Promise<void>((resolve, reject) => {
      server.close((err) => (err ? reject(err) : resolve()));
      // web-api keeps connections alive; without this close() waits for them to time out.
      server.closeAllConnections();
    }),
  };

  function permalinkOf(m: Stored): string {
    const base = `https://example.slack.com/archives/${m.channel}/p${m.ts.replace('.', '')}`;
    // Slack links a reply through its thread.
    return m.threadTs ? `${base}?thread_ts=${m.threadTs}&cid=${m.channel}` : base;
  }
}

/**
 * What a person sees of a message: its `text` plus the text in its blocks (section text and fields, header, context
 * elements, button labels, rich text), one piece per line.
 */
export function messageText(m: { text: string; blocks?: unknown[] }): string {
  const parts: string[] = [];
  if (m.text) parts.push(m.text);
  for (const block of m.blocks ?? []) collectBlockText(block, parts);
  return parts.join('\n');
}

function collectBlockText(block: unknown, out: string[]): void {
  if (!isRecord(block)) return;
  const textOf = (t: unknown) => (isRecord(t) && typeof t.text === 'string' ? t.text : undefined);
  const push = (t: unknown) => {
    const s = textOf(t);
    if (s) out.push(s);
  };
  switch (block.type) {
    case 'section':
      push(block.text);
      if (Array.isArray(block.fields)) block.fields.forEach(push);
      if (isRecord(block.accessory)) push(block.accessory.text);
      break;
    case 'header':
      push(block.text);
      break;
    case 'context':
      if (Array.isArray(block.elements)) block.elements.forEach(push);
      break;
    case 'actions':
      if (Array.isArray(block.elements)) for (const e of block.elements) if (isRecord(e)) push(e.text);
      break;
    case 'markdown':
      if (typeof block.text === 'string') out.push(block.text);
      break;
    case 'rich_text': {
      const texts: string[] = [];
      const walk = (n: unknown): void => {
        if (Array.isArray(n)) return n.forEach(walk);
        if (!isRecord(n)) return;
        if (typeof n.text === 'string') texts.push(n.text);
        if (n.type === 'link' && typeof n.text !== 'string' && typeof n.url === 'string') texts.push(n.url);
        walk(n.elements);
      };
      walk(block.elements);
      if (texts.length > 0) out.push(texts.join(''));
      break;
    }
    default:
      break;
  }
}

/**
 * Checks the Block Kit limits Slack enforces on messages (answering `invalid_blocks`), so a bot that would be rejected
 * in production is rejected here too. Messages read like Slack's: `must be less than 3001 characters [json-pointer:/blocks/0/text/text]`.
 */
export function validateBlocks(blocks: unknown[]): string[] {
  const errors: string[] = [];
  const at = (msg: string, ptr: string) => errors.push(`${msg} [json-pointer:${ptr}]`);
  const maxLen = (v: unknown, max: number, ptr: string) => {
    if (typeof v === 'string' && v.length > max) at(`must be less than ${max + 1} characters`, ptr);
  };
  const textObject = (t: unknown, ptr: string, o: { max: number; plainOnly?: boolean }) => {
    if (!isRecord(t)) return at('must provide an object', ptr);
    if (t.type !== 'plain_text' && t.type !== 'mrkdwn') return at('must be a valid enum value', `${ptr}/type`);
    if (o.plainOnly && t.type !== 'plain_text') return at('must be a valid enum value', `${ptr}/type`);
    if (typeof t.text !== 'string' || t.text.length === 0) return at('must be more than 0 characters', `${ptr}/text`);
    maxLen(t.text, o.max, `${ptr}/text`);
  };
  const element = (e: unknown, ptr: string) => {
    if (!isRecord(e) || typeof e.type !== 'string') return at('must provide an object with a type', ptr);
    maxLen(e.action_id, 255, `${ptr}/action_id`);
    if (e.type !== 'button') return;
    textObject(e.text, `${ptr}/text`, { max: 75, plainOnly: true });
    maxLen(e.value, 2000, `${ptr}/value`);
    maxLen(e.url, 3000, `${ptr}/url`);
    if (e.style !== undefined && e.style !== 'primary' && e.style !== 'danger') at('must be a valid enum value', `${ptr}/style`);
    if (e.confirm !== undefined) {
      const c = e.confirm;
      if (!isRecord(c)) return at('must provide an object', `${ptr}/confirm`);
      textObject(c.title, `${ptr}/confirm/title`, { max: 100, plainOnly: true });
      textObject(c.text, `${ptr}/confirm/text`, { max: 300 });
      textObject(c.confirm, `${ptr}/confirm/confirm`, { max: 30, plainOnly: true });
      textObject(c.deny, `${ptr}/confirm/deny`, { max: 30, plainOnly: true });
    }
  };

  if (blocks.length > 50) at('must be no more than 50 items', '/blocks');
  const blockIds = new Set<string>();
  blocks.forEach((b, i) => {
    const ptr = `/blocks/${i}`;
    if (!isRecord(b) || typeof b.type !== 'string') return at('must provide an object with a type', ptr);
    if (typeof b.block_id === 'string') {
      maxLen(b.block_id, 255, `${ptr}/block_id`);
      if (blockIds.has(b.block_id)) at('duplicate block_id', `${ptr}/block_id`);
      blockIds.add(b.block_id);
    }
    switch (b.type) {
      case 'section':
        if (b.text === undefined && b.fields === undefined) at('must provide either text or fields', ptr);
        if (b.text !== undefined) textObject(b.text, `${ptr}/text`, { max: 3000 });
        if (b.fields !== undefined) {
          if (!Array.isArray(b.fields)) return at('must provide an array', `${ptr}/fields`);
          if (b.fields.length > 10) at('must be no more than 10 items', `${ptr}/fields`);
          b.fields.forEach((f, j) => textObject(f, `${ptr}/fields/${j}`, { max: 2000 }));
        }
        if (b.accessory !== undefined) element(b.accessory, `${ptr}/accessory`);
        break;
      case 'header':
        textObject(b.text, `${ptr}/text`, { max: 150, plainOnly: true });
        break;
      case 'context':
        if (!Array.isArray(b.elements) || b.elements.length === 0) return at('must provide a non-empty array', `${ptr}/elements`);
        if (b.elements.length > 10) at('must be no more than 10 items', `${ptr}/elements`);
        b.elements.forEach((e, j) => {
          if (isRecord(e) && e.type === 'image') return;
          textObject(e, `${ptr}/elements/${j}`, { max: 3000 });
        });
        break;
      case 'actions': {
        if (!Array.isArray(b.elements) || b.elements.length === 0) return at('must provide a non-empty array', `${ptr}/elements`);
        if (b.elements.length > 25) at('must be no more than 25 items', `${ptr}/elements`);
        const actionIds = new Set<string>();
        b.elements.forEach((e, j) => {
          element(e, `${ptr}/elements/${j}`);
          if (isRecord(e) && typeof e.action_id === 'string') {
            if (actionIds.has(e.action_id)) at('duplicate action_id', `${ptr}/elements/${j}/action_id`);
            actionIds.add(e.action_id);
          }
        });
        break;
      }
      case 'divider': case 'image': case 'rich_text': case 'markdown': case 'file': case 'video': case 'input': case 'table':
        break;
      default:
        at('must be a valid enum value', `${ptr}/type`);
    }
  });
  return errors;
}

function fail(error: string, extra: Record<string, unknown> = {}): ApiResult {
  return { ok: false, error, ...extra };
}

function isRecord(v: unknown): v is Record<string, unknown> {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function str(v: unknown): string | undefined {
  if (typeof v === 'string') return v;
  if (typeof v === 'number') return String(v);
  return undefined;
}

function num(v: unknown): number | undefined {
  const n = typeof v === 'number' ? v : typeof v === 'string' && v.trim() !== '' ? Number(v) : NaN;
  return Number.isFinite(n) ? n : undefined;
}

/** "1700000000.000100" → microseconds since the epoch; also reads "1700000000" and "1700000000.5". */
function tsMicros(ts: string): number {
  const [sec = '0', frac = ''] = ts.split('.');
  return Number(sec) * 1_000_000 + Number(frac.padEnd(6, '0').slice(0, 6));
}

function formatTs(micros: number): string {
  return `${Math.floor(micros / 1_000_000)}.${String(micros % 1_000_000).padStart(6, '0')}`;
}

/** Decodes a Web API body (form or JSON) plus query string into typed arguments. Throws on malformed JSON. */
function parseArgs(raw: string, contentType: string, query: URLSearchParams): Args {
  const args: Args = Object.fromEntries(query);
  if (contentType.includes('application/json')) {
    if (raw.trim() !== '') Object.assign(args, JSON.parse(raw));
  } else {
    Object.assign(args, Object.fromEntries(new URLSearchParams(raw)));
  }
  for (const [k, v] of Object.entries(args)) {
    if (typeof v !== 'string') continue;
    if (JSON_FIELDS.has(k)) {
      try {
        args[k] = JSON.parse(v);
      } catch {
        // Left as a string: the handler answers invalid_blocks_format / invalid_metadata_format, as Slack does.
      }
    } else if (BOOLEAN_FIELDS.has(k)) {
      args[k] = v === 'true' || v === '1';
    } else if (NUMBER_FIELDS.has(k)) {
      args[k] = num(v) ?? v;
    }
  }
  return args;
}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function sendJson(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  res.writeHead(status, { 'content-type': 'application/json; charset=utf-8', ...headers });
  res.end(JSON.stringify(body));
}
