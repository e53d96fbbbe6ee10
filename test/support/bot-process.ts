import { spawn, execFileSync, type ChildProcess } from 'node:child_process';
import { existsSync, readFileSync, statSync, readdirSync } from 'node:fs';
import { writeFile } from 'node:fs/promises';
import path from 'node:path';

const ROOT = path.resolve(import.meta.dirname, '../..');
const MAIN = path.join(ROOT, 'dist/main.js');

/** Builds dist/ when it is missing or older than src/ (npm test builds first, so this is usually a no-op). */
export function ensureBuilt(): void {
  const newest = (dir: string): number =>
    readdirSync(dir, { withFileTypes: true }).reduce((m, e) => Math.max(m, e.isDirectory() ? newest(path.join(dir, e.name)) : statSync(path.join(dir, e.name)).mtimeMs), 0);
  if (!existsSync(MAIN) || statSync(MAIN).mtimeMs < newest(path.join(ROOT, 'src'))) {
    execFileSync(process.execPath, [path.join(ROOT, 'node_modules/typescript/bin/tsc'), '-p', path.join(ROOT, 'tsconfig.build.json')], { stdio: 'inherit' });
  }
}

export interface Bot {
  child: ChildProcess;
  url: Promise<string>;
  exit: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  stderr: () => string;
  stdout: () => string;
}

/** The node flags the bot ships with (the Dockerfile's CMD and `npm start` use the same; test/unit/node-flags.test.ts). */
const NODE_FLAGS = JSON.parse(readFileSync(path.join(ROOT, 'scripts/node-flags.json'), 'utf8')) as string[];

/** Runs the bot as operators do: `node <flags> dist/main.js` with an environment. */
export function runBot(env: Record<string, string>): Bot {
  const child = spawn(process.execPath, [...NODE_FLAGS, MAIN], { cwd: ROOT, env: { PATH: process.env.PATH ?? '', ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let resolveUrl: (u: string) => void;
  const url = new Promise<string>((r) => (resolveUrl = r));
  child.stdout!.on('data', (d: Buffer) => {
    out += d.toString();
    const m = /"port":(\d+).*"msg":"rollout-chatops listening"/.exec(out);
    if (m) resolveUrl(`http://127.0.0.1:${m[1]}`);
  });
  child.stderr!.on('data', (d: Buffer) => (err += d.toString()));
  const exit = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((r) => child.on('exit', (code, signal) => r({ code, signal })));
  return { child, url, exit, stderr: () => err, stdout: () => out };
}

/**
 * The environment of a bot process against emulators: the config written to `dir`, the store under `dir/data`,
 * port 0 on loopback, the emulated Slack and cluster.
 */
export async function processEnv(o: {
  dir: string;
  config: string;
  slack: { botToken: string; apiUrl: string };
  k8s: { writeKubeconfig(dir: string): Promise<string> };
  signingSecret: string;
}): Promise<Record<string, string>> {
  const configFile = path.join(o.dir, 'rollout-chatops.yml');
  await writeFile(configFile, o.config);
  return {
    ROLLOUT_CHATOPS_CONFIG: configFile,
    DATA_DIR: path.join(o.dir, 'data'),
    PORT: '0',
    HOST: '127.0.0.1',
    LOG_LEVEL: 'info',
    SLACK_SIGNING_SECRET: o.signingSecret,
    SLACK_BOT_TOKEN: o.slack.botToken,
    SLACK_API_URL: o.slack.apiUrl,
    KUBECONFIG: await o.k8s.writeKubeconfig(o.dir),
    AWS_REGION: 'us-east-1',
  };
}
