import { parse as parseQuery } from 'node:querystring';
import type { IncomingMessage, ServerResponse } from 'node:http';
import { verifySlackRequest } from '@slack/bolt';
import type { Logger } from '../../core/logger.js';
import { parseSlackPayload, type SlackPayload } from './parse-slack-payload.js';
import { SLASH_COMMANDS } from './register-slack-listeners.js';

/** How far ahead of our clock a request timestamp may be (Slack's window is 5 minutes either way). */
const MAX_SKEW_MS = 5 * 60_000;

/** A request whose body the HTTP server already read (under its size limit). */
type BufferedRequest = IncomingMessage & { rawBody: Buffer };

/** What the Slack edge needs. */
export interface SlackEdgeDeps {
  signingSecret: string;
  log: Logger;
  /** Claims a delivery key once, durably; false when it was claimed before (a replay or a retry). */
  claim: (key: string) => Promise<boolean>;
  /** Bolt's HTTPReceiver request listener; it takes the body from `req.rawBody` instead of the stream. */
  bolt: (req: BufferedRequest, res: ServerResponse) => void;
  /** The clock the 5-minute signature window is measured on (default Date.now, as Bolt's own check). */
  now?: () => number;
}

/**
 * A thin layer in front of Bolt on `POST /slack/events`. Bolt checks the signature, parses the body and dispatches
 * in one unguarded async step, so a signed body it does not expect (`null`, `"x"`, `actions: null`) either ends the
 * process or answers 500, and the same signed bytes sent again within the 5-minute window act again. Here, a request
 * that verifies (the same v0 check Bolt makes next) is parsed as Bolt parses it, checked against the fields the bot
 * reads (400 when malformed, nothing done), and claimed by its identity (a replay gets an empty 200, nothing done).
 * A request that does not verify goes to Bolt untouched, which answers 401 and logs why; nothing of it is logged here.
 */
export function createSlackEdge(deps: SlackEdgeDeps): (req: BufferedRequest, res: ServerResponse) => Promise<void> {
  const log = deps.log.child({ component: 'slack' });
  return async (req, res) => {
    const path = (req.url ?? '/').split('?')[0];
    if (req.method !== 'POST' || path !== '/slack/events') return deps.bolt(req, res);
    // The body as Bolt reads it: text, and for a form its fields (parsed before the signature is checked, as Bolt does,
    // only to recognise Slack's unsigned ssl_check probe; nothing of it is used unless the signature verifies).
    const text = req.rawBody.toString();
    const form = req.headers['content-type'] === 'application/x-www-form-urlencoded' ? parseQuery(text) : undefined;
    if (form?.ssl_check === '1' || !verified(deps, req, text)) return deps.bolt(req, res);
    // Bolt refuses only timestamps more than 5 minutes old; one more than 5 minutes ahead is as stale a replay window.
    const skewMs = Number(req.headers['x-slack-request-timestamp']) * 1000 - (deps.now ?? Date.now)();
    if (skewMs > MAX_SKEW_MS) {
      log.warn({ skewMs, fix: "the sender's clock is ahead, or the request was forged with a future timestamp" }, 'slack request timestamp in the future, refused');
      return answer(res, 401, 'stale or future request timestamp\n');
    }
    let body: unknown;
    try {
      // As HTTPModuleFunctions.parseHTTPRequestBody: a form's `payload` field is JSON; any other body is JSON.
      body = form ? (typeof form.payload === 'string' ? JSON.parse(form.payload) : form) : JSON.parse(text);
    } catch {
      log.warn({ contentType: req.headers['content-type'], bytes: req.rawBody.length }, 'slack request body is not JSON or a form, refused');
      return answer(res, 400, 'malformed Slack request\n');
    }
    const parsed = parseSlackPayload(body);
    if (!parsed.ok) {
      log.warn({ problems: parsed.problems }, 'slack payload malformed, refused');
      return answer(res, 400, 'malformed Slack request\n');
    }
    const { payload } = parsed;
    if (payload.kind === 'ignored') {
      log.debug({ type: payload.type }, 'slack payload of a kind the bot does not handle, acknowledged');
      return answer(res, 200, '');
    }
    if (payload.kind === 'command' && !(SLASH_COMMANDS as readonly string[]).includes(payload.body.command.toLowerCase())) {
      // A command this app was not set up to receive: the person gets the list instead of Slack's timeout error.
      const text = `❓ I don't know \`${payload.body.command.slice(0, 30).replace(/[`<>&]/g, '')}\`. My commands: ${SLASH_COMMANDS.map((c) => `\`${c}\``).join(', ')} (\`/rollout help\` for all).`;
      return answerJson(res, { response_type: 'ephemeral', text });
    }
    const key = deliveryKey(payload, String(req.headers['x-slack-signature']));
    let first: boolean;
    try {
      first = key ? await deps.claim(key) : true;
    } catch (err) {
      // The store cannot record the claim, so nothing may run: the person is told, and Slack gets its answer.
      log.error({ err, key }, 'slack delivery could not be claimed, nothing done');
      const text = '⚠️ I could not record this request (my store is failing), so nothing was changed. Try again in a moment.';
      if (payload.kind === 'command') return answerJson(res, { response_type: 'ephemeral', text });
      if (payload.kind === 'block_actions' && payload.body.response_url) {
        void fetch(payload.body.response_url, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ response_type: 'ephemeral', replace_original: false, text }) }).catch((e: unknown) => log.warn({ err: e }, 'slack response_url post failed'));
      }
      return answer(res, 200, '');
    }
    if (!first) {
      log.info({ key, retryNum: req.headers['x-slack-retry-num'] }, 'slack request already handled, acknowledged again');
      return answer(res, 200, '');
    }
    deps.bolt(req, res);
  };
}

/**
 * The identity a delivery is recognised by when it comes again. Commands and button presses carry a `trigger_id`
 * unique to the invocation; without one, the signature itself (the same bytes at the same timestamp). Events are
 * deduplicated by their `event_id` where they are handled (the thread listener), so Socket Mode gets the same.
 */
function deliveryKey(payload: SlackPayload, signature: string): string | undefined {
  if (payload.kind === 'command') return `slack:command:${payload.body.trigger_id ?? signature}`;
  if (payload.kind === 'block_actions') return `slack:action:${payload.body.trigger_id ?? signature}`;
  return undefined;
}

function verified(deps: SlackEdgeDeps, req: BufferedRequest, body: string): boolean {
  const signature = req.headers['x-slack-signature'];
  const timestamp = req.headers['x-slack-request-timestamp'];
  if (typeof signature !== 'string' || typeof timestamp !== 'string') return false;
  try {
    verifySlackRequest({
      signingSecret: deps.signingSecret,
      body,
      headers: { 'x-slack-signature': signature, 'x-slack-request-timestamp': Number(timestamp) },
      nowMilliseconds: (deps.now ?? Date.now)(),
    });
    return true;
  } catch {
    return false;
  }
}

function answerJson(res: ServerResponse, body: unknown): void {
  const text = JSON.stringify(body);
  res.writeHead(200, { 'content-type': 'application/json; charset=utf-8', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function answer(res: ServerResponse, status: number, body: string): void {
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
