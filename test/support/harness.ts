import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startApp, type AppOverrides, type RunningApp } from '../../src/app.js';
import { loadSettings } from '../../src/config/load-settings.js';
import { silentLogger } from '../../src/core/logger.js';
import { createLogger } from '../../src/adapters/logging/create-logger.js';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../emulators/kubernetes-emulator.js';
import { startSlackEmulator, messageText, type SlackEmulator, type SlackMessage } from '../../emulators/slack-emulator.js';
import { ArgoController } from '../../emulators/argo-controller.js';
import type { SlackSender } from '../../emulators/clients/slack-requests.js';
import { generateKeyPairSync } from 'node:crypto';
import { DEFAULT_CONFIG, FAST_PACING, TEST_OCTOKIT } from '../../emulators/world/loopback-bot.js';
import { startGitHubEmulator, type GitHubEmulator } from '../../emulators/github-emulator.js';
import { startEcrEmulator, type EcrEmulator } from '../../emulators/ecr-emulator.js';
import { sendWebhook } from '../../emulators/clients/github-webhooks.js';

export { DEFAULT_CONFIG, FAST_PACING, TEST_OCTOKIT };
export const WEBHOOK_SECRET = 'test-webhook-secret';
export const APP_ID = '4242';
// One key for the whole run: generating RSA keys is slow.
const KEY = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } });

export const SIGNING_SECRET = 'test-signing-secret';


export interface HarnessOptions {
  config?: string;
  env?: Record<string, string>;
  overrides?: AppOverrides;
  /** Reuse a data dir (restart tests). */
  dataDir?: string;
  /** Don't start the bot yet. */
  noStart?: boolean;
  /**
   * Calls the emulators answered as unknown that this test provokes on purpose (a GitHub route, a Slack method, a
   * Kubernetes path); by default any such call fails the test when the harness closes.
   */
  allowUnexpected?: (call: { emulator: string; what: string }) => boolean;
  /**
   * More clusters: one more Kubernetes emulator per name, each a context of that name in the one kubeconfig (the
   * first emulator stays the current context `emulator`). Default: none, one emulator, as before.
   */
  clusters?: string[];
}

/** A second (third, …) cluster of the harness: its emulator and a controller over it. */
export interface ExtraCluster {
  k8s: KubernetesEmulator;
  controller: ArgoController;
}


/**
 * The real bot on port 0 against emulators over real HTTP: Kubernetes (via KUBECONFIG), Slack (via SLACK_API_URL).
 */
export class Harness {
  app: RunningApp | undefined;
  readonly controller: ArgoController;
  /** The clusters named in `clusters`, by context name. */
  readonly clusters = new Map<string, ExtraCluster>();
  private constructor(
    readonly k8s: KubernetesEmulator,
    readonly slack: SlackEmulator,
    readonly github: GitHubEmulator,
    readonly ecr: EcrEmulator,
    readonly dir: string,
    readonly dataDir: string,
    readonly env: Record<string, string>,
    private readonly opts: HarnessOptions,
  ) {
    this.controller = new ArgoController(k8s);
  }

  static async start(opts: HarnessOptions = {}): Promise<Harness> {
    const k8s = await startKubernetesEmulator();
    const slack = await startSlackEmulator();
    const github = await startGitHubEmulator();
    github.registerApp({ appId: APP_ID, publicKeyPem: KEY.publicKey });
    github.addRepo('acme/voting01');
    const ecr = await startEcrEmulator();
    const dir = await mkdtemp(path.join(tmpdir(), 'rollout-chatops-'));
    const extra = new Map<string, KubernetesEmulator>();
    for (const name of opts.clusters ?? []) extra.set(name, await startKubernetesEmulator());
    const kubeconfig = extra.size ? await writeClustersKubeconfig(dir, k8s, extra) : await k8s.writeKubeconfig(dir);
    const configFile = path.join(dir, 'rollout-chatops.yml');
    await writeFile(configFile, opts.config ?? DEFAULT_CONFIG);
    const dataDir = opts.dataDir ?? path.join(dir, 'data');
    const env: Record<string, string> = {
      ROLLOUT_CHATOPS_CONFIG: configFile,
      DATA_DIR: dataDir,
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'silent',
      SLACK_SIGNING_SECRET: SIGNING_SECRET,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_API_URL: slack.apiUrl,
      KUBECONFIG: kubeconfig,
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIATEST',
      AWS_SECRET_ACCESS_KEY: 'test-secret',
      AWS_ENDPOINT_URL_ECR: ecr.url,
      APP_ID,
      PRIVATE_KEY: KEY.privateKey,
      WEBHOOK_SECRET,
      GHE_HOST: github.host,
      GHE_PROTOCOL: 'http',
      ...opts.env,
    };
    const h = new Harness(k8s, slack, github, ecr, dir, dataDir, env, opts);
    for (const [name, emulator] of extra) h.clusters.set(name, { k8s: emulator, controller: new ArgoController(emulator) });
    if (!opts.noStart) await h.startBot();
    return h;
  }

  /** Starts (or restarts) the bot over the same data dir. */
  async startBot(overrides: AppOverrides = {}): Promise<RunningApp> {
    const loaded = loadSettings(this.env);
    if (!loaded.ok) throw new Error(`settings: ${loaded.problems.join('; ')}`);
    const log = process.env.TEST_LOG_LEVEL ? createLogger(process.env.TEST_LOG_LEVEL as never) : silentLogger;
    this.app = await startApp(loaded.settings, { log, pacing: FAST_PACING, watchBackoff: { initialMs: 20, maxMs: 200 }, githubOctokit: TEST_OCTOKIT, ...this.opts.overrides, ...overrides });
    return this.app;
  }

  async stopBot(): Promise<void> {
    await this.app?.close();
    this.app = undefined;
  }

  get sender(): SlackSender {
    return { url: `${this.app!.url}/slack/events`, signingSecret: SIGNING_SECRET, newResponseUrl: (b) => this.slack.newResponseUrl(b) } as SlackSender;
  }

  /** Sends a signed GitHub webhook to the bot. */
  webhook(event: string, payload: unknown, o: { deliveryId?: string; forgeSignature?: boolean } = {}) {
    return sendWebhook({ url: `${this.app!.url}/api/github/webhooks`, secret: WEBHOOK_SECRET, event, payload, ...o });
  }

  /** Waits until /readyz answers 200. */
  async ready(timeoutMs = 5000): Promise<void> {
    await waitFor(async () => (await fetch(`${this.app!.url}/readyz`)).status === 200, 'bot ready', timeoutMs);
  }

  /** The thread roots of a channel (top-level bot messages that are status cards). */
  roots(channel: string): SlackMessage[] {
    return this.slack.channelMessages(channel, { includeBroadcasts: false }).filter((m) => !m.threadTs);
  }

  /** Texts of a thread's replies, as a person reads them. */
  replyTexts(channel: string, rootTs: string): string[] {
    return this.slack.replies(channel, rootTs).map(messageText);
  }

  /** Waits until the bot has nothing left to send. */
  async settled(timeoutMs = 5000): Promise<void> {
    await waitFor(() => this.app!.isIdle(), 'bot idle', timeoutMs);
  }

  /** Calls an emulator answered as unknown (no route, no such method): the bot did something nobody expected. */
  unexpectedCalls(): Array<{ emulator: string; what: string }> {
    const all = [
      ...this.k8s.unhandled().map((c) => ({ emulator: 'kubernetes', what: `${c.method} ${c.path}` })),
      ...[...this.clusters].flatMap(([name, c]) => c.k8s.unhandled().map((call) => ({ emulator: `kubernetes ${name}`, what: `${call.method} ${call.path}` }))),
      ...this.github.unexpectedCalls().map((c) => ({ emulator: 'github', what: `${c.method} ${c.path}` })),
      ...this.ecr.unexpectedCalls().map((c) => ({ emulator: 'ecr', what: c.op || '(no X-Amz-Target)' })),
      ...this.slack.calls.filter((c) => (c.response as { error?: string } | undefined)?.error === 'unknown_method').map((c) => ({ emulator: 'slack', what: c.method })),
    ];
    return all.filter((c) => !this.opts.allowUnexpected?.(c));
  }

  /** Stops everything; fails when an emulator saw a call nobody expected (see `allowUnexpected`). */
  async close(): Promise<void> {
    await this.stopBot().catch(() => undefined);
    const unexpected = this.unexpectedCalls();
    await Promise.all([this.k8s.close(), this.slack.close(), this.github.close(), this.ecr.close(), ...[...this.clusters.values()].map((c) => c.k8s.close())]);
    await rm(this.dir, { recursive: true, force: true });
    if (unexpected.length) throw new Error(`emulators saw calls nobody expected: ${unexpected.map((c) => `${c.emulator}: ${c.what}`).join('; ')}`);
  }
}

/** One kubeconfig over several emulators: context `emulator` (current) for the first, one context per named one. */
async function writeClustersKubeconfig(dir: string, first: KubernetesEmulator, extra: ReadonlyMap<string, KubernetesEmulator>): Promise<string> {
  const all: Array<[string, KubernetesEmulator]> = [['emulator', first], ...extra];
  // JSON is YAML: the client loads it as any kubeconfig.
  const config = {
    apiVersion: 'v1',
    kind: 'Config',
    clusters: all.map(([name, e]) => ({ name, cluster: { server: e.url, 'insecure-skip-tls-verify': true } })),
    users: [{ name: 'emulator', user: { token: 'emulator-token' } }],
    contexts: all.map(([name]) => ({ name, context: { cluster: name, user: 'emulator', namespace: 'default' } })),
    'current-context': 'emulator',
  };
  const file = path.join(dir, 'kubeconfig');
  await writeFile(file, JSON.stringify(config, null, 2));
  return file;
}

/** Polls `check` every 10 ms until it is truthy; throws naming `what` after `timeoutMs`. */
export async function waitFor<T>(check: () => T | undefined | null | false | Promise<T | undefined | null | false>, what: string, timeoutMs = 5000): Promise<T> {
  const end = Date.now() + timeoutMs;
  let last: unknown;
  for (;;) {
    try {
      const v = await check();
      if (v) return v;
    } catch (err) {
      last = err;
    }
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}${last ? `: ${(last as Error).message}` : ''}`);
    await new Promise((r) => setTimeout(r, 10));
  }
}

export { messageText };
