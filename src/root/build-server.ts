import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver } from '@slack/bolt';
import type { Settings } from '../config/settings.js';
import type { Catalog } from '../core/catalog.js';
import type { Logger } from '../core/logger.js';
import type { Clock } from '../core/ports.js';
import { boltLogger } from '../adapters/logging/create-logger.js';
import type { Metrics } from '../adapters/metrics/create-metrics.js';
import { claimSlackDelivery } from '../adapters/slack/claim-slack-delivery.js';
import { createSlackEdge } from '../adapters/slack/create-slack-edge.js';
import { registerSlackListeners } from '../adapters/slack/register-slack-listeners.js';
import { createHttpServer } from '../http/create-http-server.js';
import type { Clients } from './build-clients.js';
import { buildGithubWebhooks } from './build-github-webhooks.js';
import type { Features } from './build-features.js';
import type { ClusterWatchers } from './build-watcher.js';

/** The listening server and Slack's inbound side. */
export interface Server {
  port: number;
  /** Stops Socket Mode (if used), then the HTTP server, once its open requests are done. */
  close(): Promise<void>;
}

/**
 * Slack inbound (Bolt's HTTP receiver behind our signed edge, or Socket Mode), the GitHub webhooks, health, readiness
 * and metrics on the one HTTP server, listening when this resolves.
 */
export async function buildServer(o: {
  settings: Settings;
  catalog: Catalog;
  clock: Clock;
  log: Logger;
  metrics: Metrics;
  clients: Clients;
  features: Features;
  watcher: ClusterWatchers;
  track: (work: Promise<unknown>) => void;
  /** True once shutdown started. */
  draining: () => boolean;
  /** False once the store is closed. */
  storeOpen: () => boolean;
  /** Whether this replica leads (watches): only the leader waits for the first listing to be ready. */
  leading: () => boolean;
}): Promise<Server> {
  const { settings, log, metrics, clients, features } = o;
  const { commands, promotion } = features;
  const githubMiddleware = clients.github ? await buildGithubWebhooks({ ...o, github: clients.github }) : undefined;

  // Slack inbound: Bolt's HTTP receiver on our server, or Socket Mode.
  const clientOptions = { slackApiUrl: settings.slack.apiUrl };
  const known = clients.botUserId ? { botUserId: clients.botUserId } : {};
  const socketMode = Boolean(settings.slack.appToken);
  const receiver = socketMode ? undefined : new HTTPReceiver({ signingSecret: settings.slack.signingSecret!, logger: boltLogger(log), unhandledRequestTimeoutMillis: 3001 });
  // No conversation store: no listener keeps state per conversation, and Bolt's default one looks every request up
  // (and builds an Error for each miss).
  const common = { token: settings.slack.botToken, logger: boltLogger(log), clientOptions, convoStore: false as const, ...known };
  const bolt = receiver ? new App({ ...common, receiver }) : new App({ ...common, appToken: settings.slack.appToken, socketMode: true });
  const claim = claimSlackDelivery({ claims: clients.stores.claims, clock: o.clock });
  registerSlackListeners(bolt, {
    commands,
    log,
    countCommand: (verb) => metrics.commands.inc({ source: 'slack', verb }),
    claim,
    threads: {
      onThreadMessage: async (m) => {
        await promotion.typed(m);
      },
      onAction: async (a) => {
        await promotion.pressed(a);
      },
      // Every typed confirmation and press gets an answer, also when handling it failed.
      onThreadMessageFailed: (m, err) => promotion.typedFailed(m, err),
      onActionFailed: (a, err) => promotion.pressFailed(a, err),
    },
  });

  const server = createHttpServer({
    log,
    registry: metrics.registry,
    // Signed Slack requests are checked, parsed and claimed by the edge before Bolt acts on them.
    slack: receiver ? createSlackEdge({ signingSecret: settings.slack.signingSecret!, log, claim, bolt: receiver.requestListener }) : undefined,
    github: githubMiddleware,
    draining: o.draining,
    // Ready once the store is open and every configured rollout was listed once (the contract); a cluster that stops
    // answering later does not make the bot unready (the other clusters and every command still work): it is listed
    // under `clusters` for monitoring instead.
    readiness: () => {
      const leader = o.leading();
      const checks = { store: o.storeOpen(), leader, rolloutsListed: o.watcher.isReady(), clusters: o.watcher.reachability() };
      // A replica that does not lead serves commands and webhooks without watching: it is ready once its store is open.
      // Draining (SIGTERM): unready at once, so the load balancer sends the next requests to another replica.
      return { ready: !o.draining() && checks.store && (!leader || checks.rolloutsListed), checks: { ...checks, draining: o.draining() } };
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  if (socketMode) {
    // Socket Mode reconnects by itself; a first connection failure must not stop the rest of the bot.
    bolt.start().catch((err: unknown) => log.error({ err, fix: 'check SLACK_APP_TOKEN (xapp-…, with connections:write) and that Socket Mode is enabled for the app' }, 'slack socket mode failed to start'));
  }
  return {
    port: (server.address() as AddressInfo).port,
    async close() {
      if (socketMode) await bolt.stop().catch(() => undefined);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
    },
  };
}
