import type { IncomingMessage, ServerResponse } from 'node:http';
import { verify } from '@octokit/webhooks-methods';
import type { Logger } from '../../core/logger.js';
import { webhookPayloadProblem } from './github-webhook-payloads.js';

/** A node:http middleware, as Probot's createNodeMiddleware returns one: `next` runs when the route is not its own. */
export type NodeHandler = (req: IncomingMessage, res: ServerResponse, next?: (err?: Error) => void) => unknown;

/** GitHub sends at most 25 MB per delivery; a bigger body is not from GitHub. */
const MAX_BODY_BYTES = 25 * 1024 * 1024;

/**
 * Checks GitHub webhook payloads before Probot sees them. @octokit/webhooks verifies the signature and then hands any
 * JSON to the handlers: `null`, a string or a number crash it before they run, and `[]` or a comment without
 * `comment` crash them, each answered 500. Here a correctly signed delivery whose payload lacks what the bot reads
 * gets 400 and nothing is done. A delivery whose signature does not verify goes on to Probot untouched, which answers
 * it 400 as before. The body read here is handed on as `req.body`, which @octokit/webhooks reads instead of the stream.
 */
export function guardGithubWebhook(o: { secret: string; path: string; log: Logger; next: NodeHandler }): NodeHandler {
  return async (req, res, next) => {
    const pathname = safePathname(req.url);
    const event = header(req, 'x-github-event');
    const signature = header(req, 'x-hub-signature-256');
    // Anything Probot refuses by itself (wrong route or method, not JSON, missing headers) goes on to be refused there.
    const json = /^\s*application\/json\s*(?:;|$)/u.test(header(req, 'content-type') ?? '');
    if (req.method !== 'POST' || pathname !== o.path || !json || !event || !signature || !header(req, 'x-github-delivery')) return o.next(req, res, next);
    let raw: string;
    try {
      raw = await readBody(req);
    } catch (err) {
      const tooLarge = err instanceof BodyTooLarge;
      return answer(res, tooLarge ? 413 : 400, tooLarge ? 'payload too large' : 'could not read the request body');
    }
    (req as IncomingMessage & { body?: string }).body = raw;
    if (!(await verify(o.secret, raw, signature).catch(() => false))) {
      // @octokit/webhooks answers this 400 and says nothing in the logs: say what to check.
      o.log.warn({ delivery: header(req, 'x-github-delivery'), event, fix: "WEBHOOK_SECRET must equal the GitHub App's webhook secret (App settings → Webhook secret); otherwise the delivery was forged" }, 'github webhook signature rejected');
      return o.next(req, res, next);
    }
    let payload: unknown;
    try {
      payload = JSON.parse(raw);
    } catch {
      return answer(res, 400, 'the payload is not JSON');
    }
    const problem = webhookPayloadProblem(event, payload);
    if (problem) {
      o.log.warn({ delivery: header(req, 'x-github-delivery'), event, problem }, 'github webhook payload refused');
      return answer(res, 400, `unreadable ${event} payload: ${problem}`);
    }
    return o.next(req, res, next);
  };
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
    req.on('end', () => resolve(Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
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
