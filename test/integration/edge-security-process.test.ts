import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { generateKeyPairSync } from 'node:crypto';
import { existsSync, readdirSync, statSync } from 'node:fs';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import http from 'node:http';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../emulators/kubernetes-emulator.js';
import { startSlackEmulator, type SlackEmulator } from '../../emulators/slack-emulator.js';
import { startGitHubEmulator, type GitHubEmulator } from '../../emulators/github-emulator.js';
import { APP_ID, DEFAULT_CONFIG, SIGNING_SECRET, WEBHOOK_SECRET, waitFor } from '../support/harness.js';
import { sendWebhook } from '../../emulators/clients/github-webhooks.js';
import { sendSigned, type SlackSender } from '../../emulators/clients/slack-requests.js';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'dist/main.js');

/** Builds dist/ when it is missing or older than src/ (npm test builds first, so this is usually a no-op). */
function ensureBuilt(): void {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs), 0);
  if (!existsSync(MAIN) || statSync(MAIN).mtimeMs < newest(path.join(ROOT, 'src'))) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  }
}

let k8s: KubernetesEmulator;
let slack: SlackEmulator;
let github: GitHubEmulator;
let dir: string;
let child: ChildProcess;
let stdout = '';
let stderr = '';
let exited: { code: number | null; signal: NodeJS.Signals | null } | undefined;
let url: string;

/** One bot process for the file, as operators run it (`node dist/main.js`), with the GitHub App on and logs at info. */
beforeAll(async () => {
  ensureBuilt();
  k8s = await startKubernetesEmulator();
  slack = await startSlackEmulator();
  github = await startGitHubEmulator();
  const key = generateKeyPairSync('rsa', { modulusLength: 2048, publicKeyEncoding: { type: 'spki', format: 'pem' }, privateKeyEncoding: { type: 'pkcs1', format: 'pem' } });
  github.registerApp({ appId: APP_ID, publicKeyPem: key.publicKey });
  dir = await mkdtemp(path.join(tmpdir(), 'rollout-chatops-edge-'));
  const configFile = path.join(dir, 'rollout-chatops.yml');
  await writeFile(configFile, DEFAULT_CONFIG);
  const env: Record<string, string> = {
    PATH: process.env.PATH ?? '',
    ROLLOUT_CHATOPS_CONFIG: configFile,
    DATA_DIR: path.join(dir, 'data'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    SLACK_SIGNING_SECRET: SIGNING_SECRET,
    SLACK_BOT_TOKEN: slack.botToken,
    SLACK_API_URL: slack.apiUrl,
    KUBECONFIG: await k8s.writeKubeconfig(dir),
    AWS_REGION: 'us-east-1',
    APP_ID,
    PRIVATE_KEY: key.privateKey,
    WEBHOOK_SECRET,
    GHE_HOST: github.host,
    GHE_PROTOCOL: 'http',
  };
  child = spawn(process.execPath, [MAIN], { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (d: Buffer) => (stdout += d.toString()));
  child.stderr!.on('data', (d: Buffer) => (stderr += d.toString()));
  child.on('exit', (code, signal) => (exited = { code, signal }));
  const port = await waitFor(() => /"port":(\d+).*"msg":"rollout-chatops listening"/.exec(stdout)?.[1] ?? (exited ? Promise.reject(new Error(`bot exited: ${stderr}`)) : undefined), 'bot listening', 20_000);
  url = `http://127.0.0.1:${port}`;
}, 120_000);

afterAll(async () => {
  child?.kill('SIGKILL');
  await Promise.all([k8s?.close(), slack?.close(), github?.close()]);
  if (dir) await rm(dir, { recursive: true, force: true });
});

const sender = (): SlackSender => ({ url: `${url}/slack/events`, signingSecret: SIGNING_SECRET });

/** The process is still running and answers its health check. */
async function stillUp(): Promise<void> {
  expect(exited).toBeUndefined();
  expect((await fetch(`${url}/healthz`)).status).toBe(200);
}

describe('the bot process at its public edge', () => {
  it('answers a signed null body with 400 and keeps running', async () => {
    const res = await sendSigned(sender(), { body: 'null', contentType: 'application/json' });
    expect(res.status).toBe(400);
    await stillUp();
  });

  it('answers a signed payload=null with 400 and keeps running', async () => {
    const res = await sendSigned(sender(), { body: 'payload=null', contentType: 'application/x-www-form-urlencoded' });
    expect(res.status).toBe(400);
    await stillUp();
    expect(stdout + stderr).not.toContain('ssl_check');
  });

  it('writes under 10 KB of log for a forged 1 MB webhook, and none of its bytes', async () => {
    const before = stdout.length;
    const marker = 'ATTACKER-BYTES-';
    const payload = { ref: 'refs/heads/main', repository: { full_name: 'acme/voting01' }, junk: marker.repeat(Math.ceil(1_048_576 / marker.length)) };
    const res = await sendWebhook({ url: `${url}/api/github/webhooks`, secret: WEBHOOK_SECRET, event: 'push', payload, forgeSignature: true });
    expect(res.status).toBe(400);
    await waitFor(() => stdout.slice(before).includes('github webhook signature rejected'), 'signature rejected line');
    await stillUp();
    const written = stdout.slice(before);
    expect(written.length).toBeLessThan(10_000);
    expect(written).not.toContain(marker);
  });

  it('refuses a 100 MB webhook with 413 without reading it', async () => {
    const status = await new Promise<number>((resolve, reject) => {
      const req = http.request(`${url}/api/github/webhooks`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', 'content-length': String(100 * 1024 * 1024), 'x-github-event': 'push', 'x-github-delivery': 'big', 'x-hub-signature-256': 'sha256=00' },
      }, (res) => {
        res.resume();
        resolve(res.statusCode ?? 0);
        req.destroy();
      });
      req.on('error', reject);
      req.flushHeaders();
    });
    expect(status).toBe(413);
    await stillUp();
  });
});
