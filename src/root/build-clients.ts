import { LogLevel } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { ECRClient } from '@aws-sdk/client-ecr';
import { Probot, ProbotOctokit } from 'probot';
import type { Settings } from '../config/settings.js';
import type { Logger } from '../core/logger.js';
import type { Clock, ErrorSimulator, ImageRegistry, RepoHost, RolloutCluster } from '../core/ports.js';
import { EcrImageRegistry } from '../adapters/ecr/ecr-image-registry.js';
import { HttpErrorSimulator } from '../adapters/errorsim/http-error-simulator.js';
import { ProbotRepoHost } from '../adapters/github/probot-repo-host.js';
import { ClusterRouter } from '../adapters/kubernetes/cluster-router.js';
import { pinoChildOf } from '../adapters/logging/create-logger.js';
import { classifyAuthError } from '../adapters/slack/classify-auth-error.js';
import { SlackChat } from '../adapters/slack/slack-chat.js';
import { openStore, type OpenedStore } from './open-store.js';
import type { Stores } from '../core/store-ports.js';
import type { Catalog } from '../core/catalog.js';
import { buildKubeClusters, type KubeClusters } from './build-kube-clusters.js';
import { StartupError } from './startup-error.js';

/** Every outside service, as an SDK client and the port adapter over it. */
export interface Clients {
  store: OpenedStore;
  /** The store ports over `store`, created once: what the features are given. */
  stores: Stores;
  /** The fenced ports for the leader-only work (the same as `stores` with the embedded store). */
  leaderStores: Stores;
  chat: SlackChat;
  /** The bot's own Slack user, when auth.test answered. */
  botUserId?: string;
  /** The GitHub App, when one is configured; `repoHost` is set exactly when it is. */
  github?: { probot: Probot; repoHost: RepoHost; webhookSecret: string };
  /** One Kubernetes client per cluster (kubeconfig context) the environments name. */
  kube: KubeClusters;
  /** Reads and patches, each sent to its environment's cluster. */
  cluster: RolloutCluster;
  registry: ImageRegistry;
  simulator: ErrorSimulator;
}

/**
 * Opens the store and builds every SDK client from settings: Slack (its token checked now, so a rejected one stops
 * the start with its fix), the GitHub App, Kubernetes (one client per cluster, checked first: an unknown context is a
 * config error), ECR and the error simulator.
 */
export async function buildClients(o: {
  settings: Settings;
  catalog: Catalog;
  clock: Clock;
  log: Logger;
  githubOctokit?: typeof ProbotOctokit;
  onLeaderChange?: (x: { leader: boolean; epoch: number }) => void;
  lease?: { ttlMs?: number; everyMs?: number };
}): Promise<Clients> {
  const { settings, clock, log } = o;
  // Kubernetes: the kubeconfig named by KUBECONFIG, or in-cluster; one client per context the environments name.
  const kube = buildKubeClusters(settings);
  const cluster = new ClusterRouter({ clusters: new Map([...kube.byName].map(([name, c]) => [name, c.cluster])), defaultName: kube.defaultName, clusterOf: kube.nameOf });
  const store = await openStore({ settings, clock, log, onLeaderChange: o.onLeaderChange, lease: o.lease });
  const stores = store.stores;

  // Slack Web API: no retries and 429s surfaced, so the outbox paces, retries and reorders itself.
  const web = new WebClient(settings.slack.botToken, {
    slackApiUrl: settings.slack.apiUrl,
    rejectRateLimitedCalls: true,
    retryConfig: { retries: 0 },
    timeout: 15_000,
    logLevel: LogLevel.ERROR,
  });
  const chat = new SlackChat(web);
  let botUserId: string | undefined;
  try {
    botUserId = (await chat.init()).userId;
  } catch (err) {
    const verdict = classifyAuthError(err);
    if (verdict.kind === 'rejected') throw new StartupError(verdict.problem);
    log.warn({ err, fix: 'check SLACK_API_URL and the network; messages wait in the outbox until Slack answers' }, 'slack auth.test failed, going on');
  }

  // GitHub App (optional): Probot on the same server.
  let github: Clients['github'];
  if (settings.github) {
    const probot = new Probot({
      appId: settings.github.appId,
      privateKey: settings.github.privateKey,
      secret: settings.github.webhookSecret,
      baseUrl: settings.github.baseUrl,
      log: pinoChildOf(log, { component: 'github' }),
      Octokit: o.githubOctokit ?? ProbotOctokit,
    });
    github = { probot, repoHost: new ProbotRepoHost(probot, stores.installations), webhookSecret: settings.github.webhookSecret };
  }

  const registry = new EcrImageRegistry(new ECRClient({
    region: settings.aws.region,
    ...(settings.aws.ecrEndpoint ? { endpoint: settings.aws.ecrEndpoint } : {}),
    ...(settings.aws.credentials ? { credentials: settings.aws.credentials } : {}),
  }));
  return { store, stores, leaderStores: store.leadership.stores, chat, botUserId, github, kube, cluster, registry, simulator: new HttpErrorSimulator() };
}
