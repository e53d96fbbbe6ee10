import { generateKeyPairSync } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { fileURLToPath } from 'node:url';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../emulators/kubernetes-emulator.js';
import { startSlackEmulator, type SlackEmulator } from '../../emulators/slack-emulator.js';
import { startGitHubEmulator, type GitHubEmulator } from '../../emulators/github-emulator.js';
import { startEcrEmulator, type EcrEmulator } from '../../emulators/ecr-emulator.js';
import { ArgoController } from '../../emulators/argo-controller.js';

export const SIGNING_SECRET = 'bench-signing-secret';
export const WEBHOOK_SECRET = 'bench-webhook-secret';
export const APP_ID = '4242';

let key: { publicKey: string; privateKey: string } | undefined;
/** One RSA key per run: generating one takes a while. */
function appKey(): { publicKey: string; privateKey: string } {
  key ??= generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } });
  return key;
}

/** Every emulator the bot talks to, on loopback, plus the environment that points a `node dist/main.js` at them. */
export interface World {
  k8s: KubernetesEmulator;
  slack: SlackEmulator;
  github: GitHubEmulator;
  ecr: EcrEmulator;
  controller: ArgoController;
  dir: string;
  /** Environment for the bot process (config, data dir, emulator URLs, secrets). */
  botEnv: Record<string, string>;
  /** Environment for the floor app (same secrets and Slack URL). */
  floorEnv: Record<string, string>;
  close(): Promise<void>;
}

/** Starts the emulators and writes the config file and kubeconfig the bot reads. */
export async function startWorld(o: { config: string; repos: string[]; logLevel?: string }): Promise<World> {
  const [k8s, slack, github, ecr] = await Promise.all([startKubernetesEmulator(), startSlackEmulator(), startGitHubEmulator(), startEcrEmulator()]);
  const { publicKey, privateKey } = appKey();
  github.registerApp({ appId: APP_ID, publicKeyPem: publicKey });
  for (const r of o.repos) github.addRepo(r);
  const dir = await mkdtemp(path.join(tmpdir(), 'rollout-chatops-bench-'));
  const configFile = path.join(dir, 'rollout-chatops.yml');
  await writeFile(configFile, o.config);
  const botEnv: Record<string, string> = {
    ROLLOUT_CHATOPS_CONFIG: configFile,
    DATA_DIR: path.join(dir, 'data'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: o.logLevel ?? 'info',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_API_URL: slack.apiUrl,
    KUBECONFIG: await k8s.writeKubeconfig(dir),
    AWS_REGION: 'us-east-1',
    AWS_ACCESS_KEY_ID: 'AKIABENCH',
    AWS_SECRET_ACCESS_KEY: 'bench-secret',
    AWS_ENDPOINT_URL_ECR: ecr.url,
    AWS_SDK_JS_NODE_VERSION_SUPPORT_WARNING_DISABLED: 'true',
    APP_ID,
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET,
    GHE_HOST: github.host,
    GHE_PROTOCOL: 'http',
  };
  const floorEnv: Record<string, string> = {
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_API_URL: slack.apiUrl,
    APP_ID,
    PRIVATE_KEY: privateKey,
    WEBHOOK_SECRET,
  };
  return {
    k8s, slack, github, ecr, dir, botEnv, floorEnv,
    controller: new ArgoController(k8s),
    async close() {
      await Promise.allSettled([k8s.close(), slack.close(), github.close(), ecr.close()]);
      await rm(dir, { recursive: true, force: true });
    },
  };
}

/**
 * The node flags of the bot process: those it ships with (scripts/node-flags.json, as the Dockerfile and `npm start`
 * run it), or BENCH_BOT_FLAGS instead (e.g. "--max-semi-space-size=32"; empty for none) to try runtime settings
 * without touching the bot; recorded in the results.
 */
export function botNodeFlags(): string[] {
  const given = process.env.BENCH_BOT_FLAGS;
  if (given !== undefined) return given.split(/\s+/).filter(Boolean);
  return JSON.parse(readFileSync(fileURLToPath(new URL('../../scripts/node-flags.json', import.meta.url)), 'utf8')) as string[];
}

/** GETs a path of a loopback server and returns the status (0 when it does not answer). */
export async function getStatus(url: string): Promise<number> {
  try {
    const r = await fetch(url);
    await r.text();
    return r.status;
  } catch {
    return 0;
  }
}

/** Polls `check` every `everyMs` until it is truthy or `timeoutMs` passes; returns whether it became truthy. */
export async function pollUntil(check: () => boolean | Promise<boolean>, timeoutMs: number, everyMs = 50): Promise<boolean> {
  const end = Date.now() + timeoutMs;
  for (;;) {
    if (await check()) return true;
    if (Date.now() >= end) return false;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
