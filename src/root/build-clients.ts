import { LogLevel } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { KubeConfig } from '@kubernetes/client-node';
import { ECRClient } from '@aws-sdk/client-ecr';
import { Probot, ProbotOctokit } from 'probot';
import type { Settings } from '../config/settings.js';
import type { Logger } from '../core/logger.js';
import type { Clock, ErrorSimulator, ImageRegistry, RepoHost, RolloutCluster } from '../core/ports.js';
import { EcrImageRegistry } from '../adapters/ecr/ecr-image-registry.js';
import { HttpErrorSimulator } from '../adapters/errorsim/http-error-simulator.js';
import { ProbotRepoHost } from '../adapters/github/probot-repo-host.js';
import { KubeRolloutCluster } from '../adapters/kubernetes/kube-rollout-cluster.js';
import { pinoChildOf } from '../adapters/logging/create-logger.js';
import { classifyAuthError } from '../adapters/slack/classify-auth-error.js';
import { SlackChat } from '../adapters/slack/slack-chat.js';
import { openJsonStore } from '../adapters/store/open-json-store.js';
import { createDocumentStores } from '../adapters/store/document-stores.js';
import type { Stores } from '../core/store-ports.js';
import { StartupError } from './startup-error.js';

/** Every outside service, as an SDK client and the port adapter over it. */
export interface Clients {
  store: Awaited<ReturnType<typeof openJsonStore>>;
  /** The store ports over `store`, created once: what the features are given. */
  stores: Stores;
  chat: SlackChat;
  /** The bot's own Slack user, when auth.test answered. */
  botUserId?: string;
  /** The GitHub App, when one is configured; `repoHost` is set exactly when it is. */
  github?: { probot: Probot; repoHost: RepoHost; webhookSecret: string };
  kubeConfig: KubeConfig;
  cluster: RolloutCluster;
  registry: ImageRegistry;
  simulator: ErrorSimulator;
}

/**
 * Opens the store and builds every SDK client from settings: Slack (its token checked now, so a rejected one stops
 * the start with its fix), the GitHub App, Kubernetes, ECR and the error simulator.
 */
export async function buildClients(o: { settings: Settings; clock: Clock; log: Logger; githubOctokit?: typeof ProbotOctokit }): Promise<Clients> {
  const { settings, clock, log } = o;
  const store = await openJsonStore(settings.dataDir, { now: () => clock.now() });
  const stores = createDocumentStores(store);

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

  // Kubernetes: the kubeconfig named by KUBECONFIG, or in-cluster.
  const kubeConfig = new KubeConfig();
  if (settings.kubernetes.kubeconfig) kubeConfig.loadFromFile(settings.kubernetes.kubeconfig);
  else kubeConfig.loadFromCluster();

  const registry = new EcrImageRegistry(new ECRClient({
    region: settings.aws.region,
    ...(settings.aws.ecrEndpoint ? { endpoint: settings.aws.ecrEndpoint } : {}),
    ...(settings.aws.credentials ? { credentials: settings.aws.credentials } : {}),
  }));
  return { store, stores, chat, botUserId, github, kubeConfig, cluster: new KubeRolloutCluster(kubeConfig), registry, simulator: new HttpErrorSimulator() };
}
