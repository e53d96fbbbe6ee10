import type { IncomingMessage, ServerResponse } from 'node:http';
import { createNodeMiddleware } from 'probot';
import type { Catalog } from '../core/catalog.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/ports.js';
import { CommentCommands } from '../core/github-comments/comment-commands.js';
import { githubWebhookHandlers } from '../adapters/github/github-webhook-handlers.js';
import { guardGithubWebhook } from '../adapters/github/guard-github-webhook.js';
import type { Metrics } from '../adapters/metrics/create-metrics.js';
import type { Clients } from './build-clients.js';
import type { Features } from './build-features.js';

const WEBHOOKS_PATH = '/api/github/webhooks';

/**
 * The GitHub webhook handler for the HTTP server: the guard verifies, parses and checks each delivery once and runs the
 * handlers (pushes pair commits, comments run commands mirrored into the Slack thread); what it does not take (another
 * route, a bad signature, missing headers) Probot's middleware refuses, with no handlers of its own.
 */
export async function buildGithubWebhooks(o: {
  github: NonNullable<Clients['github']>;
  clients: Clients;
  features: Features;
  catalog: Catalog;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  track: (work: Promise<unknown>) => void;
}): Promise<(req: IncomingMessage, res: ServerResponse) => Promise<void>> {
  const { github, catalog, clock, log, metrics, track } = o;
  const { chat } = o.clients;
  const { commands, kernel, commits } = o.features;
  /** Posts a line in an environment's current deploy thread (the mirror of a GitHub action). */
  const mirror = async (m: { app: string; env: string; key: string; text: string }) => {
    const target = catalog.target(m.app, m.env);
    const thread = target ? await kernel.current(target) : undefined;
    if (!thread) return;
    await kernel.reply(thread, m.key, m.text, 'normal');
    await kernel.commit();
  };
  const comments = new CommentCommands({ catalog, commands, kernel, repoHost: github.repoHost, clock, log: log.child({ component: 'comments' }), permalink: (c, ts) => chat.permalink(c, ts), mirror });
  const githubLog = log.child({ component: 'github' });
  const handle = githubWebhookHandlers({ catalog, stores: o.clients.stores, clock, log: githubLog, commits, comments, track, count: (event, outcome) => metrics.webhooks.inc({ event, outcome }) });
  const guarded = guardGithubWebhook({
    secret: github.webhookSecret,
    path: WEBHOOKS_PATH,
    log: githubLog,
    handle,
    next: await createNodeMiddleware(() => undefined, { probot: github.probot, webhooksPath: WEBHOOKS_PATH }),
  });
  // The guard logs a bad signature (naming WEBHOOK_SECRET), which @octokit/webhooks answers 400 without a word.
  return async (req, res) => {
    await guarded(req, res, () => {
      res.writeHead(404);
      res.end();
    });
  };
}
