/**
 * The sandbox: the real bot (src/app.ts) against the emulated Kubernetes + Argo controller, Slack, GitHub and ECR,
 * plus a small web page that shows the emulated Slack channels and lets a person act in them. Whatever the page
 * sends reaches the bot the way Slack sends it: signed HTTP requests to its /slack/events.
 */
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { generateKeyPairSync, randomBytes } from 'node:crypto';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startApp, type RunningApp } from '../src/app.js';
import { loadSettings } from '../src/config/load-settings.js';
import { silentLogger, type Logger } from '../src/core/logger.js';
import { ArgoController } from '../emulators/argo-controller.js';
import { startKubernetesEmulator, type KubernetesEmulator } from '../emulators/kubernetes-emulator.js';
import { startSlackEmulator, type SlackEmulator, type SlackMessage } from '../emulators/slack-emulator.js';
import { startGitHubEmulator } from '../emulators/github-emulator.js';
import { buildGitHubView } from './github-view.js';
import { startEcrEmulator } from '../emulators/ecr-emulator.js';
import { startErrorSimEmulator, type ErrorSimEmulator } from '../emulators/errorsim-emulator.js';
import { FAST_PACING, TEST_OCTOKIT } from '../emulators/world/loopback-bot.js';
import { sendBlockAction, sendSlashCommand, sendThreadMessage, type SlackSender } from '../emulators/clients/slack-requests.js';
import {
  DeployConductor, FIRST_COMMIT, IMAGE, REPO, ROLLOUT, SANDBOX_ENVS, SANDBOX_USERS, nextCommit, pushCommit, sandboxConfig, seedWorld,
} from './scenario.js';

/** Options of {@link startSandbox}. */
export interface SandboxOptions {
  /** Port of the page; 0 lets the OS pick (tests). Default 8080. */
  port?: number;
  /** Logger for the bot and the sandbox; default silent. */
  log?: Logger;
  /** How often the emulated Argo controller reconciles each rollout; default 1000 ms. */
  tickMs?: number;
  /** Duration of the canary pause steps in dev and qa (but qa's soak); default `5s`. */
  pause?: string;
  /** Duration of qa's second pause, at 60%: the window for `/rollout drill qa`; default `30s`. */
  soak?: string;
}

/** A running sandbox. */
export interface RunningSandbox {
  /** The page: `http://127.0.0.1:PORT`. */
  url: string;
  /** The bot's own server. */
  botUrl: string;
  /** Readable dump of the emulated Slack (for failure messages). */
  transcript(): string;
  /** Stops the timers, the page, the bot and the emulators, and removes the temporary data dir. */
  close(): Promise<void>;
}

/** Slash commands the bot registers (see slack-app-manifest.yml); Slack itself refuses any other. */
const KNOWN_COMMANDS = new Set(['/promote', '/rollout', '/errors']);
const APP_ID = '4242';
const PAGE_FILES: Record<string, { file: string; type: string }> = {
  '/': { file: 'page.html', type: 'text/html; charset=utf-8' },
  '/page.js': { file: 'page.js', type: 'text/javascript; charset=utf-8' },
  '/page.css': { file: 'page.css', type: 'text/css; charset=utf-8' },
};
/** The ephemeral answers Slack shows from a command's HTTP acknowledgement (they never reach the Web API). */
interface LocalEphemeral {
  channel: string;
  user: string;
  text: string;
  blocks?: unknown[];
  at: number;
}

/** Starts emulators, the bot and the page, then plays the first push. */
export async function startSandbox(opts: SandboxOptions = {}): Promise<RunningSandbox> {
  const log = opts.log ?? silentLogger;
  const tickMs = opts.tickMs ?? 1000;
  const cleanups: Array<() => Promise<unknown> | unknown> = [];
  const closeAll = async () => {
    for (const c of cleanups.splice(0).reverse()) await Promise.resolve().then(c).catch((err: unknown) => log.warn({ err }, 'sandbox cleanup failed'));
  };
  try {
    const k8s = await startKubernetesEmulator();
    cleanups.push(() => k8s.close());
    const slack = await startSlackEmulator({
      channels: SANDBOX_ENVS.map((e) => e.channel),
      users: SANDBOX_USERS.map((u) => ({ id: u.id, name: u.name.toLowerCase(), realName: u.name, displayName: u.name })),
    });
    cleanups.push(() => slack.close());
    const github = await startGitHubEmulator();
    cleanups.push(() => github.close());
    const ecr = await startEcrEmulator();
    cleanups.push(() => ecr.close());
    // Each app environment with error simulation has its own endpoint, as each deployment of the app would.
    const errorSims = new Map<string, ErrorSimEmulator>();
    for (const env of SANDBOX_ENVS.filter((e) => e.errorSimulation)) {
      const sim = await startErrorSimEmulator();
      cleanups.push(() => sim.close());
      errorSims.set(env.name, sim);
    }
    const dir = await mkdtemp(path.join(tmpdir(), 'rollout-chatops-sandbox-'));
    cleanups.push(() => rm(dir, { recursive: true, force: true }));

    const key = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } });
    github.registerApp({ appId: APP_ID, publicKeyPem: key.publicKey });
    const signingSecret = randomBytes(16).toString('hex');
    const webhookSecret = randomBytes(16).toString('hex');
    const configFile = path.join(dir, 'rollout-chatops.yml');
    await writeFile(configFile, sandboxConfig({ errorSimUrls: Object.fromEntries([...errorSims].map(([env, sim]) => [env, sim.url])) }));
    const loaded = loadSettings({
      ROLLOUT_CHATOPS_CONFIG: configFile,
      DATA_DIR: path.join(dir, 'data'),
      PORT: '0',
      HOST: '127.0.0.1',
      LOG_LEVEL: 'info',
      SLACK_SIGNING_SECRET: signingSecret,
      SLACK_BOT_TOKEN: slack.botToken,
      SLACK_API_URL: slack.apiUrl,
      KUBECONFIG: await k8s.writeKubeconfig(dir),
      AWS_REGION: 'us-east-1',
      AWS_ACCESS_KEY_ID: 'AKIASANDBOX',
      AWS_SECRET_ACCESS_KEY: 'sandbox-secret',
      AWS_ENDPOINT_URL_ECR: ecr.url,
      APP_ID,
      PRIVATE_KEY: key.privateKey,
      WEBHOOK_SECRET: webhookSecret,
      GHE_HOST: github.host,
      GHE_PROTOCOL: 'http',
    });
    if (!loaded.ok) throw new Error(`sandbox settings: ${loaded.problems.join('; ')}`);

    // The controller's own clock drives the timed pauses: real time, so the page shows a deploy at human pace.
    const controller = new ArgoController(k8s);
    seedWorld({ controller, ecr, github, pause: opts.pause ?? '5s', soak: opts.soak ?? '30s' });
    const app: RunningApp = await startApp(loaded.settings, { log, pacing: FAST_PACING, githubOctokit: TEST_OCTOKIT, watchBackoff: { initialMs: 50, maxMs: 1000 } });
    cleanups.push(() => app.close());
    await waitUntilReady(app.url, 15_000);

    const notes: Array<{ at: number; text: string }> = [];
    const note = (text: string) => {
      notes.push({ at: Date.now(), text });
      if (notes.length > 50) notes.shift();
      log.info({ note: text }, 'sandbox');
    };
    const conductor = new DeployConductor({
      controller, k8s, tickMs, onNote: note, errorSims,
      onError: (err, env) => {
        log.warn({ err, env: env.name }, 'sandbox reconcile failed');
        note(`controller · ${env.name}: reconcile failed: ${(err as Error).message}`);
      },
    });
    cleanups.push(() => conductor.stop());

    const sender: SlackSender = {
      url: `${app.url}/slack/events`,
      signingSecret,
      botUserId: slack.botUserId,
      newResponseUrl: (b) => slack.newResponseUrl(b),
    };
    const ephemerals = new EphemeralClock(slack);
    const stamper = setInterval(() => ephemerals.stamp(), 200);
    cleanups.push(() => clearInterval(stamper));

    let pushes = 0;
    const push = async () => {
      const commit = pushes === 0 ? FIRST_COMMIT : nextCommit(pushes - 1);
      pushes += 1;
      const tag = await pushCommit({ github, ecr, botUrl: app.url, webhookSecret, commit, at: new Date() });
      note(`GitHub · ${commit.author.login} pushed ${commit.sha.slice(0, 7)} "${commit.message}"; CI pushed ${tag} to ECR`);
      conductor.release(tag);
      return tag;
    };

    const page = createServer((req, res) => {
      void handle(req, res).catch((err: unknown) => {
        log.error({ err, url: req.url }, 'sandbox request failed');
        if (!res.headersSent) sendJson(res, 500, { ok: false, error: (err as Error).message });
        else res.end();
      });
    });
    async function handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
      const url = new URL(req.url ?? '/', 'http://127.0.0.1');
      const asset = PAGE_FILES[url.pathname];
      if (req.method === 'GET' && asset) {
        // Read per request: an edit to the page shows on reload.
        const body = await readFile(new URL(`./${asset.file}`, import.meta.url));
        res.writeHead(200, { 'Content-Type': asset.type, 'Cache-Control': 'no-store' });
        res.end(body);
        return;
      }
      if (req.method === 'GET' && url.pathname === '/favicon.ico') {
        res.writeHead(204);
        res.end();
        return;
      }
      if (req.method === 'GET' && url.pathname === '/api/state') {
        ephemerals.stamp();
        return sendJson(res, 200, buildState({ slack, k8s, errorSims, ephemerals, notes, user: url.searchParams.get('user') ?? '' }));
      }
      if (req.method === 'GET' && url.pathname === '/api/github') {
        return sendJson(res, 200, buildGitHubView({ github, repo: REPO, envs: SANDBOX_ENVS.map((e) => e.name) }));
      }
      if (req.method !== 'POST' || !url.pathname.startsWith('/api/')) return sendJson(res, 404, { ok: false, error: 'not found' });
      // JSON only: a cross-site form cannot post it without a CORS preflight, which this server never grants.
      if (!String(req.headers['content-type']).startsWith('application/json')) return sendJson(res, 415, { ok: false, error: 'send JSON' });
      const body = await readJson(req);
      const user = SANDBOX_USERS.find((u) => u.id === body.user);
      const env = SANDBOX_ENVS.find((e) => e.channel === body.channel);
      switch (url.pathname) {
        case '/api/push':
          return sendJson(res, 200, { ok: true, tag: await push() });
        case '/api/command': {
          if (!user || !env) return sendJson(res, 400, { ok: false, error: 'unknown user or channel' });
          const m = /^(\/\S+)\s*([\s\S]*)$/.exec(String(body.text ?? '').trim());
          if (!m) return sendJson(res, 400, { ok: false, error: 'a slash command starts with /' });
          const command = m[1] ?? '';
          const text = m[2] ?? '';
          if (!KNOWN_COMMANDS.has(command)) {
            ephemerals.addLocal({ channel: env.channel, user: user.id, text: `\`${command}\` is not a valid command. This bot knows ${[...KNOWN_COMMANDS].map((c) => `\`${c}\``).join(', ')}.` });
            return sendJson(res, 200, { ok: true });
          }
          const r = await sendSlashCommand(sender, { command, text: text.trim(), userId: user.id, userName: user.name.toLowerCase(), channelId: env.channel, channelName: env.channelName });
          if (r.status !== 200) {
            // What Slack shows when an app does not acknowledge properly.
            ephemerals.addLocal({ channel: env.channel, user: user.id, text: `${command} failed with the error "dispatch_failed" (the bot answered HTTP ${r.status})` });
          } else if (r.body.trim()) {
            const ack = r.json<{ text?: string; blocks?: unknown[] }>();
            ephemerals.addLocal({ channel: env.channel, user: user.id, text: ack.text ?? '', ...(ack.blocks ? { blocks: ack.blocks } : {}) });
          }
          return sendJson(res, 200, { ok: true, status: r.status });
        }
        case '/api/message': {
          if (!user || !env) return sendJson(res, 400, { ok: false, error: 'unknown user or channel' });
          const text = String(body.text ?? '').trim();
          const threadTs = String(body.threadTs ?? '');
          if (!text || !slack.message(env.channel, threadTs)) return sendJson(res, 400, { ok: false, error: 'a reply needs text and a thread' });
          // The person's message shows in the thread as Slack would show it, then Slack tells the bot about it.
          const posted = slack.postAsUser({ channel: env.channel, user: user.id, text, threadTs });
          const r = await sendThreadMessage(sender, { channel: env.channel, threadTs: posted.threadTs ?? threadTs, user: user.id, text, ts: posted.ts });
          return sendJson(res, 200, { ok: r.status === 200, status: r.status });
        }
        case '/api/action': {
          if (!user || !env) return sendJson(res, 400, { ok: false, error: 'unknown user or channel' });
          const message = slack.message(env.channel, String(body.messageTs ?? ''));
          if (!message) return sendJson(res, 404, { ok: false, error: 'no such message' });
          const r = await sendBlockAction(sender, {
            actionId: String(body.actionId ?? ''),
            value: String(body.value ?? ''),
            ...(typeof body.blockId === 'string' ? { blockId: body.blockId } : {}),
            user: user.id,
            channel: env.channel,
            messageTs: message.ts,
            ...(message.threadTs ? { threadTs: message.threadTs } : {}),
            message: { text: message.text, ...(message.blocks ? { blocks: message.blocks } : {}) },
          });
          return sendJson(res, 200, { ok: r.status === 200, status: r.status });
        }
        default:
          return sendJson(res, 404, { ok: false, error: 'not found' });
      }
    }
    // Loopback only: the page acts as any Slack user, so it must not be reachable from elsewhere.
    await listen(page, opts.port ?? 8080, '127.0.0.1');
    cleanups.push(() => new Promise<void>((resolve) => {
      page.close(() => resolve());
      page.closeAllConnections();
    }));
    const url = `http://127.0.0.1:${(page.address() as AddressInfo).port}`;

    conductor.start();
    await push();
    return { url, botUrl: app.url, transcript: () => slack.transcript(), close: closeAll };
  } catch (err) {
    await closeAll();
    throw err;
  }
}

/**
 * Slack shows ephemerals in time order among the messages, but the emulator records them without a time: this stamps
 * each one when first seen (every 200 ms), and keeps the ephemerals that came in command acknowledgements.
 */
class EphemeralClock {
  private readonly stamps: number[] = [];
  private readonly local: LocalEphemeral[] = [];

  constructor(private readonly slack: SlackEmulator) {}

  stamp(): void {
    const count = this.slack.ephemerals().length;
    while (this.stamps.length < count) this.stamps.push(Date.now());
  }

  addLocal(e: Omit<LocalEphemeral, 'at'>): void {
    this.local.push({ ...e, at: Date.now() });
  }

  /** Every ephemeral `user` may see, oldest first. */
  forUser(user: string): Array<LocalEphemeral & { threadTs?: string }> {
    const fromApi = this.slack.ephemerals().map((e, i) => ({ ...e, at: this.stamps[i] ?? Date.now() }));
    return [...fromApi, ...this.local].filter((e) => e.user === user).sort((a, b) => a.at - b.at);
  }
}

/** One message as the page renders it. */
interface MessageView {
  ts: string;
  /** Seconds, for ordering messages and ephemerals together. */
  sort: number;
  user: string;
  userName: string;
  bot: boolean;
  text: string;
  blocks?: unknown[];
  edited: boolean;
  threadTs?: string;
  broadcast?: boolean;
  ephemeral?: boolean;
  replies?: MessageView[];
}

/** The JSON the page polls: channels with their threads, the user's ephemerals, the rollouts and the sandbox log. */
function buildState(o: {
  slack: SlackEmulator; k8s: KubernetesEmulator; errorSims: ReadonlyMap<string, ErrorSimEmulator>; ephemerals: EphemeralClock; notes: Array<{ at: number; text: string }>; user: string;
}) {
  const names: Record<string, string> = { [o.slack.botUserId]: 'rollout-chatops' };
  for (const u of SANDBOX_USERS) names[u.id] = u.name;
  const view = (m: SlackMessage): MessageView => ({
    ts: m.ts,
    sort: Number(m.ts),
    user: m.user,
    userName: names[m.user] ?? m.user,
    bot: !!m.botId,
    text: m.text,
    ...(m.blocks ? { blocks: m.blocks } : {}),
    edited: m.edits > 0,
    ...(m.threadTs ? { threadTs: m.threadTs } : {}),
    ...(m.replyBroadcast ? { broadcast: true } : {}),
  });
  const mine = o.ephemerals.forUser(o.user);
  return {
    users: SANDBOX_USERS,
    names,
    channels: SANDBOX_ENVS.map((env) => ({
      id: env.channel,
      name: env.channelName,
      env: env.name,
      messages: o.slack.channelMessages(env.channel).map((m) => ({
        ...view(m),
        ...(m.threadTs ? {} : { replies: o.slack.replies(env.channel, m.ts).map(view) }),
      })),
      ephemerals: mine.filter((e) => e.channel === env.channel).map((e): MessageView => ({
        ts: `e${e.at}`, sort: e.at / 1000, user: o.slack.botUserId, userName: 'rollout-chatops', bot: true, text: e.text,
        ...(e.blocks ? { blocks: e.blocks } : {}), edited: false, ephemeral: true, ...(e.threadTs ? { threadTs: e.threadTs } : {}),
      })),
    })),
    rollouts: SANDBOX_ENVS.flatMap((env) => env.rollouts.map((r) => {
      const sim = r.name === ROLLOUT ? o.errorSims.get(env.name) : undefined;
      const label = env.rollouts.length > 1 ? `${env.name} · ${r.name}` : env.name;
      return { ...describeRollout(label, o.k8s.get(env.namespace, r.name)), ...(sim ? { errors: sim.enabled } : {}) };
    })),
    notes: o.notes.slice(-12),
  };
}

/** A one-line view of a Rollout for the page's cluster panel. */
function describeRollout(env: string, ro: any) {
  if (!ro) return { env, phase: 'Missing', detail: '', tag: '' };
  const s = ro.status ?? {};
  const image: string = ro.spec?.template?.spec?.containers?.[0]?.image ?? '';
  const tag = image.slice(image.lastIndexOf(':') + 1);
  const steps: unknown[] = ro.spec?.strategy?.canary?.steps ?? [];
  const updating = s.stableRS !== s.currentPodHash;
  const detail = [
    updating && steps.length ? `step ${Math.min((s.currentStepIndex ?? 0) + 1, steps.length)}/${steps.length}` : '',
    s.message ?? '',
  ].filter(Boolean).join(' · ');
  return { env, phase: String(s.phase ?? 'Unknown'), detail, tag, revision: ro.metadata?.annotations?.['rollout.argoproj.io/revision'] ?? '' };
}

async function waitUntilReady(botUrl: string, timeoutMs: number): Promise<void> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    const status = await fetch(`${botUrl}/readyz`).then((r) => r.status, () => 0);
    if (status === 200) return;
    if (Date.now() > end) throw new Error(`the bot did not become ready within ${timeoutMs} ms (GET /readyz answered ${status})`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

function listen(server: Server, port: number, host: string): Promise<void> {
  return new Promise((resolve, reject) => {
    server.once('error', (err: NodeJS.ErrnoException) => {
      reject(err.code === 'EADDRINUSE' ? new Error(`SANDBOX_PORT: port ${port} is in use; set SANDBOX_PORT to a free port`) : err);
    });
    server.listen(port, host, () => resolve());
  });
}

async function readJson(req: IncomingMessage): Promise<Record<string, unknown>> {
  let raw = '';
  for await (const chunk of req) {
    raw += String(chunk);
    if (raw.length > 64_000) throw new Error('request too large');
  }
  try {
    const v: unknown = JSON.parse(raw || '{}');
    return typeof v === 'object' && v !== null ? (v as Record<string, unknown>) : {};
  } catch {
    return {};
  }
}

function sendJson(res: ServerResponse, status: number, body: unknown): void {
  res.writeHead(status, { 'Content-Type': 'application/json; charset=utf-8', 'Cache-Control': 'no-store' });
  res.end(JSON.stringify(body));
}
