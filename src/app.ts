import type { AddressInfo } from 'node:net';
import { App, HTTPReceiver, LogLevel } from '@slack/bolt';
import { WebClient } from '@slack/web-api';
import { KubeConfig } from '@kubernetes/client-node';
import type { Settings } from './config/settings.js';
import { Catalog } from './core/catalog.js';
import { CommandService } from './core/commands/command-service.js';
import { OutboxDispatcher, type Pacing } from './core/delivery/outbox-dispatcher.js';
import type { Logger } from './core/logger.js';
import type { Clock } from './core/ports.js';
import { renderCard } from './core/render/render-card.js';
import { RolloutObserver } from './core/use-cases/rollout-observer.js';
import { RolloutWatcher } from './adapters/kubernetes/rollout-watcher.js';
import { createMetrics } from './adapters/metrics/create-metrics.js';
import { SlackChat } from './adapters/slack/slack-chat.js';
import { registerSlackListeners } from './adapters/slack/register-slack-listeners.js';
import { openJsonStore } from './adapters/store/open-json-store.js';
import { boltLogger, createLogger } from './adapters/logging/create-logger.js';
import { systemClock } from './adapters/scheduler/system-clock.js';
import { createHttpServer } from './http/create-http-server.js';
import { createSlackEdge } from './adapters/slack/create-slack-edge.js';
import { Probot, ProbotOctokit, createNodeMiddleware } from 'probot';
import { pino } from 'pino';
import { CommitTracker } from './core/use-cases/commit-tracker.js';
import { CommentCommands } from './core/use-cases/comment-commands.js';
import { cardExtras } from './core/render/card-extras.js';
import { errorSimBanner } from './core/render/error-sim-banner.js';
import { ProbotRepoHost } from './adapters/github/probot-repo-host.js';
import { githubAppFn } from './adapters/github/github-app-fn.js';
import { guardGithubWebhook } from './adapters/github/guard-github-webhook.js';
import type { RepoHost } from './core/ports.js';
import { ECRClient } from '@aws-sdk/client-ecr';
import { KubeRolloutCluster } from './adapters/kubernetes/kube-rollout-cluster.js';
import { EcrImageRegistry } from './adapters/ecr/ecr-image-registry.js';
import { PromotionService } from './core/use-cases/promotion-service.js';
import { HttpErrorSimulator } from './adapters/errorsim/http-error-simulator.js';
import { createScheduleMetrics } from './adapters/metrics/schedule-metrics.js';
import { startTicker } from './adapters/scheduler/clock-ticker.js';
import { scheduleCron, type CronSchedule } from './adapters/scheduler/cron-schedule.js';
import { ErrorSimulationService } from './core/use-cases/error-simulation-service.js';
import { DrillService } from './core/use-cases/drill-service.js';
import { ReminderService } from './core/use-cases/reminder-service.js';
import { DigestJob } from './core/use-cases/digest-job.js';
import { pruneStore } from './core/use-cases/prune-store.js';
import type { Priority, ThreadRecord } from './core/store-data.js';
import { PromotionChain } from './core/use-cases/promotion-chain.js';

/** What tests and main may override: time, pacing, the logger, watch backoff. */
export interface AppOverrides {
  clock?: Clock;
  pacing?: Partial<Pacing>;
  log?: Logger;
  watchBackoff?: { initialMs: number; maxMs: number };
  /** One cluster-wide watch instead of one per namespace (default: when more than 20 namespaces are configured). */
  clusterWideWatch?: boolean;
  /** How often deploy timeouts are checked (default 15 s). */
  timeoutSweepMs?: number;
  /** Probot's Octokit class (tests turn its throttling off: they talk to a loopback GitHub). */
  githubOctokit?: typeof ProbotOctokit;
}

/** A running bot. */
export interface RunningApp {
  /** `http://host:port` of the one HTTP server. */
  url: string;
  port: number;
  /** Stops taking new work, finishes what is in flight, flushes the store. */
  close(): Promise<void>;
  /** True when nothing is waiting to be posted or updated (for tests and shutdown). */
  isIdle(): boolean;
}

/**
 * The composition root: builds every adapter from settings, wires them to the core, and starts the one HTTP server.
 * Only this file (and main.ts) creates SDK clients.
 */
export async function startApp(settings: Settings, overrides: AppOverrides = {}): Promise<RunningApp> {
  const clock = overrides.clock ?? systemClock;
  const log = overrides.log ?? createLogger(settings.logLevel);
  const catalog = new Catalog(settings.config);
  const metrics = createMetrics();
  const store = await openJsonStore(settings.dataDir, { now: () => clock.now() });

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
    const code = (err as { code?: string }).code;
    if (code === 'invalid_auth' || code === 'not_authed' || code === 'token_revoked' || code === 'account_inactive') {
      throw new StartupError(`SLACK_BOT_TOKEN: Slack rejected the token (${code}); copy the Bot User OAuth Token (xoxb-...) from the Slack app's OAuth page`);
    }
    log.warn({ err, fix: 'check SLACK_API_URL and the network; messages wait in the outbox until Slack answers' }, 'slack auth.test failed, going on');
  }

  const cards = (thread: Parameters<typeof renderCard>[0]) =>
    renderCard(thread, catalog.target(thread.app, thread.env), cardExtras(thread, { data: store.data, catalog, permalink: (c, ts) => chat.permalink(c, ts), banner: errorSimBanner(thread, store.data) }));
  const background = new Set<Promise<unknown>>();
  const track = (work: Promise<unknown>) => {
    background.add(work);
    void work.finally(() => background.delete(work));
  };

  // GitHub App (optional): Probot on the same server.
  let probot: Probot | undefined;
  let repoHost: RepoHost | undefined;
  if (settings.github) {
    const probotLog = 'level' in (log as object) && typeof (log as { child?: unknown }).child === 'function' && (log as { bindings?: unknown }).bindings ? (log as unknown as pino.Logger).child({ component: 'github' }) : pino({ level: 'silent' });
    probot = new Probot({
      appId: settings.github.appId,
      privateKey: settings.github.privateKey,
      secret: settings.github.webhookSecret,
      baseUrl: settings.github.baseUrl,
      log: probotLog as never,
      Octokit: overrides.githubOctokit ?? ProbotOctokit,
    });
    repoHost = new ProbotRepoHost(probot, store);
  }

  const dispatcher = new OutboxDispatcher({ chat, store, clock, log: log.child({ component: 'outbox' }), renderCard: cards, pacing: overrides.pacing, metrics: metrics.delivery });
  /** Features that follow thread changes (commit pairing, the chain); filled below as they are built. */
  const observerHooks: NonNullable<ConstructorParameters<typeof RolloutObserver>[0]['hooks']> = [];
  const commits = new CommitTracker({ catalog, store, clock, log: log.child({ component: 'commits' }), repoHost, onChange: () => dispatcher.kick() });
  const observer = new RolloutObserver({
    catalog,
    store,
    clock,
    log: log.child({ component: 'threads' }),
    onChange: () => dispatcher.kick(),
    countEvent: (type) => metrics.rolloutEvents.inc({ type }),
    hooks: observerHooks,
  });
  observerHooks.push(({ thread, target }) => void commits.pair(thread, target));
  const commands = new CommandService({
    catalog,
    store,
    clock,
    permalink: (c, ts) => chat.permalink(c, ts),
    authorOf: (thread) => {
      const c = commits.commitOf(thread);
      return c ? (c.authorLogin ? `${c.authorName} (@${c.authorLogin})` : c.authorName) : undefined;
    },
  });
  /** Posts a line in an environment's current deploy thread (the mirror of a GitHub action). */
  const mirror = async (o: { app: string; env: string; key: string; text: string }) => {
    const target = catalog.target(o.app, o.env);
    const thread = target ? commands.currentThread(target) : undefined;
    if (!thread) return;
    observer.reply(thread, o.key, o.text, 'normal');
    await store.flush();
    dispatcher.kick();
  };
  let githubMiddleware: ((req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse) => Promise<unknown> | void) | undefined;
  if (probot && repoHost) {
    const comments = new CommentCommands({ catalog, commands, repoHost, clock, log: log.child({ component: 'comments' }), permalink: (c, ts) => chat.permalink(c, ts), mirror });
    const appFn = githubAppFn({ catalog, store, clock, log: log.child({ component: 'github' }), commits, comments, track, count: (event, outcome) => metrics.webhooks.inc({ event, outcome }) });
    const ghLog = log.child({ component: 'github' });
    // Signed payloads the bot cannot read are refused with 400 before Probot runs a handler on them.
    const mw = guardGithubWebhook({ secret: settings.github!.webhookSecret, path: '/api/github/webhooks', log: ghLog, next: await createNodeMiddleware(appFn, { probot, webhooksPath: '/api/github/webhooks' }) });
    // The guard logs a bad signature (naming WEBHOOK_SECRET), which @octokit/webhooks answers 400 without a word.
    githubMiddleware = async (req, res) => {
      await mw(req, res, () => {
        res.writeHead(404);
        res.end();
      });
    };
  }

  // Kubernetes: the kubeconfig named by KUBECONFIG, or in-cluster.
  const kubeConfig = new KubeConfig();
  if (settings.kubernetes.kubeconfig) kubeConfig.loadFromFile(settings.kubernetes.kubeconfig);
  else kubeConfig.loadFromCluster();
  const watcher = new RolloutWatcher({
    kubeConfig,
    namespaces: catalog.namespaces(),
    clock,
    log: log.child({ component: 'watch' }),
    backoff: overrides.watchBackoff,
    clusterWide: overrides.clusterWideWatch,
    onRollout: (state) => {
      metrics.rolloutUpdates.inc();
      void observer.observe(state);
    },
    onListed: (namespace, names) => {
      const present = new Set(names);
      for (const t of catalog.targets) if (t.env.namespace === namespace && !present.has(t.env.rollout)) void observer.missing(t);
    },
    onRestart: (namespace) => metrics.watchRestarts.inc({ namespace }),
  });

  // Slack inbound: Bolt's HTTP receiver on our server, or Socket Mode.
  let draining = false;
  let receiver: HTTPReceiver | undefined;
  let bolt: App;
  if (settings.slack.appToken) {
    bolt = new App({ token: settings.slack.botToken, appToken: settings.slack.appToken, socketMode: true, logger: boltLogger(log) as never, clientOptions: { slackApiUrl: settings.slack.apiUrl }, ...(botUserId ? { botUserId } : {}) });
  } else {
    receiver = new HTTPReceiver({ signingSecret: settings.slack.signingSecret!, logger: boltLogger(log) as never, unhandledRequestTimeoutMillis: 3001 });
    bolt = new App({ token: settings.slack.botToken, receiver, logger: boltLogger(log) as never, clientOptions: { slackApiUrl: settings.slack.apiUrl }, ...(botUserId ? { botUserId } : {}) });
  }
  // Promotion, abort and retry: checked against the cluster and ECR, confirmed in the thread.
  const cluster = new KubeRolloutCluster(kubeConfig);
  const registry = new EcrImageRegistry(new ECRClient({
      region: settings.aws.region,
      ...(settings.aws.ecrEndpoint ? { endpoint: settings.aws.ecrEndpoint } : {}),
      ...(settings.aws.credentials ? { credentials: settings.aws.credentials } : {}),
    }));
  const chain = new PromotionChain({
    catalog,
    store,
    clock,
    log: log.child({ component: 'chain' }),
    registry,
    repoHost,
    observer,
    onChange: () => dispatcher.kick(),
    permalink: (c, ts) => chat.permalink(c, ts),
    sweepMs: overrides.timeoutSweepMs,
    onSweep: () => metrics.timeoutChecks.inc(),
  });
  observerHooks.push((o) => chain.onThreadChanged(o));
  const promotion = new PromotionService({
    chain,
    catalog,
    store,
    clock,
    log: log.child({ component: 'promotion' }),
    cluster,
    registry,
    observer,
    onChange: () => dispatcher.kick(),
    permalink: (c, ts) => chat.permalink(c, ts),
    ephemeral: (o) => chat.postEphemeral(o).catch((err: unknown) => log.warn({ err }, 'ephemeral message failed')),
  });
  commands.register('promote', ({ command, target, ctx }) =>
    command.verb === 'promote' ? promotion.request({ action: 'promote', target, ctx, full: command.full, dryRun: command.dryRun, force: command.force }) : Promise.resolve({ text: '?' }),
  );
  commands.register('abort', ({ target, ctx }) => promotion.request({ action: 'abort', target, ctx }));
  commands.register('retry', ({ target, ctx }) => promotion.request({ action: 'retry', target, ctx }));

  /** Things to stop on shutdown (schedules, timers), run before the store's last flush. */
  const onClose: Array<() => Promise<void> | void> = [];

  chain.start();
  onClose.push(() => chain.stop());

  // ── wiring: error simulation, drills, reminders, digest (issue 6) ──
  const scheduleMetrics = createScheduleMetrics(metrics.registry);
  const threadReply = (thread: ThreadRecord, key: string, text: string, priority: Priority) => observer.reply(thread, key, text, priority);
  const errorSim = new ErrorSimulationService({
    catalog,
    store,
    clock,
    log: log.child({ component: 'errorsim' }),
    simulator: new HttpErrorSimulator(),
    reply: threadReply,
    onChange: () => dispatcher.kick(),
    permalink: (c, ts) => chat.permalink(c, ts),
    track,
  });
  const drills = new DrillService({
    catalog,
    store,
    clock,
    log: log.child({ component: 'drills' }),
    cluster,
    errors: errorSim,
    reply: threadReply,
    onChange: () => dispatcher.kick(),
    permalink: (c, ts) => chat.permalink(c, ts),
    track,
  });
  observerHooks.push((o) => drills.onThreadChanged(o));
  commands.register('errors', ({ command, target, ctx }) =>
    command.verb === 'errors' ? errorSim.command({ action: command.action, target, ctx }) : Promise.resolve({ text: '?' }),
  );
  commands.register('drill', ({ target, ctx }) => {
    scheduleMetrics.drills.inc();
    return drills.command({ target, ctx });
  });
  const reminders = new ReminderService({ catalog, store, clock, afterMs: settings.config.reminders.after, reply: threadReply, onChange: () => dispatcher.kick() });
  // One sweep on the clock: error deadlines (backstop for their timers), drills, reminders, and now and then retention.
  let prunedAt = -Infinity;
  const sweep = async () => {
    await errorSim.expireDue();
    await drills.checkAll();
    scheduleMetrics.reminders.inc(await reminders.sweep());
    if (clock.now() - prunedAt >= 6 * 3_600_000) {
      prunedAt = clock.now();
      const pruned = pruneStore(store.data, { now: clock.now(), days: settings.config.retention.days });
      if (Object.values(pruned).some((n) => n > 0)) {
        log.info({ ...pruned, days: settings.config.retention.days }, 'store pruned');
        await store.flush();
      }
    }
    scheduleMetrics.jobRuns.inc({ job: 'sweep' });
  };
  errorSim.resume();
  drills.resume();
  const ticker = startTicker({ clock, everyMs: 30_000, run: sweep, log, name: 'sweep', track });
  onClose.push(() => ticker.stop(), () => drills.stop(), () => errorSim.stop());
  const digestConfig = settings.config.digest;
  if (digestConfig) {
    const digest = new DigestJob({ catalog, store, clock, channel: digestConfig.channel, permalink: (c, ts) => chat.permalink(c, ts), onChange: () => dispatcher.kick() });
    let schedule: CronSchedule;
    try {
      schedule = scheduleCron({
        expression: digestConfig.cron,
        timezone: digestConfig.timezone,
        name: 'digest',
        log,
        run: async (scheduledAt) => {
          await digest.run(scheduledAt);
          scheduleMetrics.jobRuns.inc({ job: 'digest' });
        },
      });
    } catch (err) {
      throw new StartupError(`digest.timezone: ${(err as Error).message} ("${digestConfig.timezone ?? ''}"); use an IANA zone like Europe/Berlin`);
    }
    onClose.push(() => schedule.stop());
  }

  /** Claims a Slack event id once, durably: Slack retries deliveries it thinks timed out. */
  const firstDelivery = async (key: string | undefined): Promise<boolean> => {
    if (!key) return true;
    if (store.data.seen[key]) return false;
    store.data.seen[key] = clock.now();
    await store.flush();
    return true;
  };
  registerSlackListeners(bolt, {
    commands,
    log,
    countCommand: (verb) => metrics.commands.inc({ source: 'slack', verb }),
    threads: {
      onThreadMessage: async (m) => {
        if (!(await firstDelivery(m.eventId ? `slack:${m.eventId}` : `slack:${m.channel}:${m.ts}`))) return;
        await promotion.typed(m);
      },
      onAction: async (a) => {
        await promotion.pressed(a);
      },
    },
  });

  let storeOpen = true;
  const server = createHttpServer({
    log,
    registry: metrics.registry,
    // Signed Slack requests are checked, parsed and claimed by the edge before Bolt acts on them.
    slack: receiver ? createSlackEdge({ signingSecret: settings.slack.signingSecret!, log, claim: (key) => firstDelivery(key), bolt: receiver.requestListener }) : undefined,
    github: githubMiddleware,
    draining: () => draining,
    readiness: () => {
      const checks = { store: storeOpen, rolloutsListed: watcher.isReady() };
      return { ready: Object.values(checks).every(Boolean), checks };
    },
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(settings.port, settings.host, () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  if (settings.slack.appToken) {
    // Socket Mode reconnects by itself; a first connection failure must not stop the rest of the bot.
    bolt.start().catch((err: unknown) => log.error({ err, fix: 'check SLACK_APP_TOKEN (xapp-…, with connections:write) and that Socket Mode is enabled for the app' }, 'slack socket mode failed to start'));
  }
  log.info({ port, host: settings.host, namespaces: catalog.namespaces() }, 'rollout-chatops listening');

  // Messages left in the outbox by a previous run go out first (attempted ones are looked up in Slack before posting).
  dispatcher.kick();
  void watcher.start();

  return {
    url: `http://${settings.host === '0.0.0.0' ? '127.0.0.1' : settings.host}:${port}`,
    port,
    isIdle: () => dispatcher.isIdle(),
    async close() {
      if (draining) return;
      draining = true;
      await watcher.stop();
      await Promise.allSettled([...background]);
      for (const stop of onClose) await stop();
      await observer.idle();
      await dispatcher.stop();
      await store.close();
      storeOpen = false;
      if (settings.slack.appToken) await bolt.stop().catch(() => undefined);
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeIdleConnections();
      });
      log.info({}, 'rollout-chatops stopped');
    },
  };
}

/** A start-up problem with a one-line explanation for the operator (no stack trace). */
export class StartupError extends Error {
  override readonly name = 'StartupError';
}
