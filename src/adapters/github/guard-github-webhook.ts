import type { IncomingMessage, ServerResponse } from 'node:http';
import { verify } from '@octokit/webhooks-methods';
import type { Logger } from '../../core/logger.js';
import { readWebhook } from './github-webhook-payloads.js';
import type { GithubDelivery } from './github-webhook-handlers.js';

/** A node:http middleware, as Probot's createNodeMiddleware returns one: `next` runs when the route is not its own. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: Error) => void) => unknown;

/** GitHub sends at most 25 MB per delivery; a bigger body is not from GitHub. */
const MAX_BODY_BYTES = 25 * 1024 * 1024;
/** As @octokit/webhooks: a delivery still running after this is answered 202 (GitHub gives up after 10 s). */
const STILL_PROCESSING_MS = 9000;

/**
 * The webhook endpoint. A delivery is read (bounded), its signature verified, its JSON parsed and its payload checked
 * against what the bot reads of its event, each once, in that order; then `handle` runs and GitHub is answered as
 * @octokit/webhooks answers (200 `ok`, or the error's status with its name and message). A correctly signed delivery
 * whose payload lacks what the bot reads gets 400 and nothing is done (`null`, `[]` or a comment without `comment`
 * used to crash Probot or the handlers, answered 500). Everything else (another route or method, not JSON, a missing
 * header, a signature that does not verify) goes to `next`, Probot's middleware, which refuses it as before.
 * Verified deliveries do not go through Probot: it would verify and parse them again and build an Octokit per
 * delivery, which the handlers never use (GitHub calls go through the repo host).
 */
export function guardGithubWebhook(o: { secret: string; path: string; log: Logger; next: NodeHandler; handle: (delivery: GithubDelivery) => Promise<void> }): NodeHandler {
  return async (req, res, next) => {
    const event = header(req, 'x-github-event');
    const signature = header(req, 'x-hub-signature-256');
    const id = header(req, 'x-github-delivery');
    // Anything Probot refuses by itself (wrong route or method, not JSON, missing headers) goes on to be refused there.
    const json = /^\s*application\/json\s*(?:;|$)/u.test(header(req, 'content-type') ?? '');
    if (req.method !== 'POST' || !json || !event || !signature || !id || safePathname(req.url) !== o.path) return o.next(req, res, next);
    let raw: string;
    try {
      raw = await readBody(req);
    } catch (err) {
      const tooLarge = err instanceof BodyTooLarge;
      return answer(res, tooLarge ? 413 : 400, tooLarge ? 'payload too large' : 'could not read the request body');
    }
    if (!(await verify(o.secret, raw, signature).catch(() => false))) {
      // @octokit/webhooks answers this 400 and says nothing in the logs: say what to check.
      o.log.warn({ delivery: id, event, fix: "WEBHOOK_SECRET must equal the GitHub App's webhook secret (App settings → Webhook secret); otherwise the delivery was forged" }, 'github webhook signature rejected');
      // The body read here is handed on as `req.body`, which @octokit/webhooks reads instead of the stream.
      (req as IncomingMessage & { body?: string }).body = raw;
      return o.next(req, res, next);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch {
      return answer(res, 400, 'the payload is not JSON');
    }
    const read = readWebhook(event, payload);
    if (!read.ok) {
      o.log.warn({ delivery: id, event, problem: read.problem }, 'github webhook payload refused');
      return answer(res, 400, `unreadable ${event} payload: ${read.problem}`);
    }
    await deliver(o, res, { id, ...read.read }, event);
  };
}

/** Runs the handler and answers as @octokit/webhooks' middleware does, also when it is still running after 9 s. */
async function deliver(o: { log: Logger; handle: (delivery: GithubDelivery) => Promise<void> }, res: ServerResponse, delivery: GithubDelivery, event: string): Promise<void> {
  let answered = false;
  const timer = setTimeout(() => {
    answered = true;
    respond(res, 202, 'still processing\n', 'text/plain');
  }, STILL_PROCESSING_MS);
  try {
    await o.handle(delivery);
    if (!answered) respond(res, 200, 'ok\n', 'text/plain');
  } catch (err) {
    o.log.error({ err, delivery: delivery.id, event }, 'github webhook handler failed');
    const e = err as { name?: string; message?: string; status?: unknown };
    if (!answered) respond(res, typeof e?.status === 'number' ? e.status : 500, JSON.stringify({ error: e?.message ? `${e.name}: ${e.message}` : 'Error: An Unspecified error occurred' }), 'application/json');
  } finally {
    answered = true;
    clearTimeout(timer);
  }
}

class BodyTooLarge extends Error {}

function readBody(req: IncomingMessage): Promise<string> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > MAX_BODY_BYTES) {
        reject(new BodyTooLarge());
        req.destroy();
        return;
      }
      chunks.push(chunk);
    });
    req.on('end', () => resolve((chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, size)).toString('utf8')));
    req.on('error', reject);
  });
}

function respond(res: ServerResponse, status: number, body: string, type: string): void {
  res.writeHead(status, { 'content-type': type, accept: 'application/json', 'content-length': Buffer.byteLength(body) }).end(body);
}

function answer(res: ServerResponse, status: number, error: string): void {
  res.writeHead(status, { 'content-type': 'application/json' }).end(JSON.stringify({ error }));
}

function header(req: IncomingMessage, name: string): string | undefined {
  const v = req.headers[name];
  return Array.isArray(v) ? v[0] : v;
}

function safePathname(url: string | undefined): string | undefined {
  try {
    return new URL(url ?? '/', 'http://localhost').pathname.replace(/\/+$/, '');
  } catch {
    return undefined;
  }
}
