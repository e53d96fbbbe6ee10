import http, { type IncomingMessage, type ServerResponse } from 'node:http';
import type { Registry } from 'prom-client';
import type { Logger } from '../core/logger.js';

type Handler = (req: IncomingMessage, res: ServerResponse) => void | Promise<unknown>;

export interface HttpServerDeps {
  log: Logger;
  registry: Registry;
  /** Readiness: each check names what is not ready yet. */
  readiness: () => { ready: boolean; checks: Record<string, boolean> };
  /** Bolt's HTTPReceiver request listener (absent in Socket Mode). */
  slack?: Handler;
  /** Probot's node middleware (absent when the GitHub App is not configured). */
  github?: Handler;
  /** True once shutdown started: new work is refused with 503. */
  draining: () => boolean;
}

/** The one HTTP server: Slack, GitHub webhooks, health, readiness and metrics. */
export function createHttpServer(deps: HttpServerDeps): http.Server {
  return http.createServer((req, res) => {
    void route(deps, req, res).catch((err: unknown) => {
      deps.log.error({ err, url: req.url }, 'request failed');
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
  if (path === '/api/github/webhooks' || path.startsWith('/api/github/webhooks/')) {
    if (!deps.github) return send(res, 404, 'GitHub App not configured (set APP_ID, PRIVATE_KEY, WEBHOOK_SECRET)\n');
    if (deps.draining()) return send(res, 503, 'shutting down\n');
    await deps.github(req, res);
    return;
  }
  if (deps.slack && path.startsWith('/slack/')) {
    if (deps.draining()) return send(res, 503, 'shutting down\n');
    try {
      await deps.slack(req, res);
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

function send(res: ServerResponse, status: number, body: string, type = 'text/plain; charset=utf-8'): void {
  res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
  res.end(body);
}
