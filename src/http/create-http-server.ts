import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';
import { readBoundedBody, type BufferedRequest } from './read-bounded-body.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<unknown>;
type BufferedHandler = (req: BufferedRequest, res: ServerResponse) => void | Promise<unknown>;

/** Largest request bodies read before verification. */
export interface BodyLimits {
  /** Slack's payloads are a few KB; 1 MB is far above any real one. */
  slack: number;
  /** GitHub caps webhook payloads at 25 MB. */
  github: number;
}

/** The limits the bot runs with. */
export const DEFAULT_BODY_LIMITS: BodyLimits = { slack: 1024 * 1024, github: 25 * 1024 * 1024 };

export interface HttpServerDeps {
  log: Logger;
  registry: Registry;
  /** Readiness: each check names what is not ready yet; a nested record lists parts (`clusters: { "prod-eu": false }`). */
  readiness: () => { ready: boolean; checks: Record<string, boolean | Record<string, boolean>> };
  /** The Slack edge in front of Bolt (absent in Socket Mode); gets POST bodies already read. */
  slack?: BufferedHandler;
  /** Probot's node middleware behind the webhook guard (absent when the GitHub App is not configured); reads the body itself. */
  github?: Handler;
  /** True once shutdown started: new work is refused with 503. */
  draining: () => boolean;
  /** Default {@link DEFAULT_BODY_LIMITS}. */
  bodyLimits?: BodyLimits;
}

/** The one HTTP server: Slack, GitHub webhooks, health, readiness and metrics. */
export function createHttpServer(deps: HttpServerDeps): http.Server {
  return http.createServer((req, res) => {
    void route(deps, req, res).catch((err: unknown) => {
      deps.log.error({ err, method: req.method, url: req.url }, 'request failed');
      if (!res.headersSent) send(res, 500, 'internal error\n');
      else res.end();
    });
  });
}

async function route(deps: HttpServerDeps, req: IncomingMessage, res: ServerResponse): Promise<void> {
  const path = (req.url ?? '/').split('?')[0] ?? '/';
  if (req.method === 'GET' && path === '/healthz') return send(res, 200, 'ok\n');
  if (req.method === 'GET' && path === '/readyz') {
    const r = deps.readiness();
    return send(res, r.ready ? 200 : 503, JSON.stringify(r) + '\n', 'application/json');
  }
  if (req.method === 'GET' && path === '/metrics') {
    const body = await deps.registry.metrics();
    return send(res, 200, body, deps.registry.contentType);
  }
  const limits = deps.bodyLimits ?? DEFAULT_BODY_LIMITS;
  if (path === '/api/github/webhooks' || path.startsWith('/api/github/webhooks/')) {
    if (!deps.github) return send(res, 404, 'GitHub App not configured (set APP_ID, PRIVATE_KEY, WEBHOOK_SECRET)\n');
    // While draining, /readyz says 503 (the load balancer stops sending) but what still arrives is served: during a
    // rolling upgrade a request already on its way to this replica is answered, not lost.
    // GitHub always sends Content-Length, so the body is bounded by the header alone (Node reads no byte past it) and
    // stays unread here: the webhook guard and Probot read it after this.
    const declared = req.headers['content-length'];
    if (req.method === 'POST' && declared === undefined) return refuse(deps, res, 411, 'github', limits.github, 'Content-Length required\n');
    if (Number(declared) > limits.github) return refuse(deps, res, 413, 'github', limits.github, `request body over ${limits.github} bytes\n`);
    await deps.github(req, res);
    return;
  }
  if (deps.slack && path.startsWith('/slack/')) {
    const buffered = await buffer(deps, req, res, limits.slack, 'slack');
    if (!buffered) return;
    try {
      await deps.slack(buffered, res);
    } catch (err) {
      // HTTPReceiver throws synchronously for paths it does not own.
      if ((err as Error)?.name === 'HTTPReceiverDeferredRequestError' || (err as { code?: string })?.code === 'slack_bolt_http_receiver_deferred_request_error') {
        return send(res, 404, 'not found\n');
      }
      throw err;
    }
    return;
  }
  send(res, 404, 'not found\n');
}

/**
 * Reads the body under its limit before anyone looks at it, so an unauthenticated sender can make us hold at most
 * `limit` bytes. Over the limit: 413, the connection closed, nothing read further. Undefined when already answered.
 */
async function buffer(deps: HttpServerDeps, req: IncomingMessage, res: ServerResponse, limit: number, route: string): Promise<BufferedRequest | undefined> {
  const read = await readBoundedBody(req, limit);
  if (read.kind === 'aborted') return undefined;
  if (read.kind === 'too-large') return refuse(deps, res, 413, route, limit, `request body over ${limit} bytes\n`);
  return Object.assign(req, { rawBody: read.body });
}

/** Answers a body we will not read and closes the connection, so the rest of it is never read either. */
function refuse(deps: HttpServerDeps, res: ServerResponse, status: 411 | 413, route: string, limit: number, body: string): undefined {
  deps.log.warn({ route, status, limit, contentLength: res.req.headers['content-length'] }, 'request body refused before reading');
  res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8', 'content-length': Buffer.byteLength(body), connection: 'close' });
  res.end(body);
  return undefined;
}

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
