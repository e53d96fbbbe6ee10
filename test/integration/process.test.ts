import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../emulators/kubernetes-emulator.js';
import { startSlackEmulator, messageText, type SlackEmulator } from '../../emulators/slack-emulator.js';
import { ArgoController, STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import { DEFAULT_CONFIG, SIGNING_SECRET, waitFor } from '../support/harness.js';
import { ensureBuilt, processEnv, runBot, type Bot } from '../support/bot-process.js';

let k8s: KubernetesEmulator;
let slack: SlackEmulator;
let dir: string;
let bots: Bot[] = [];

beforeAll(() => ensureBuilt(), 120_000);

afterEach(async () => {
  for (const b of bots) b.child.kill('SIGKILL');
  bots = [];
  await k8s?.close();
  await slack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

async function setup(config = DEFAULT_CONFIG): Promise<Record<string, string>> {
  k8s = await startKubernetesEmulator();
  slack = await startSlackEmulator();
  dir = await mkdtemp(path.join(tmpdir(), 'rollout-chatops-proc-'));
  return processEnv({ dir, config, slack, k8s, signingSecret: SIGNING_SECRET });
}

function start(env: Record<string, string>): Bot {
  const b = runBot(env);
  bots.push(b);
  return b;
}

describe('the bot process', () => {
  it('refuses a config with three mistakes with three lines naming them, exit 1, no stack trace', async () => {
    const env = await setup(`
apps:
  - name: voting01
    repo: acme/voting01
    image: { ecrRepository: voting01-vote }
    environments:
      - name: dev
        namespace: voting01-dev
        rollout: vote
        slackChannel: C0DEV
      - name: qa
        rollout: vote
        slackChannel: C0QA
        timeout: 10 minutes
      - name: staging
        namespace: voting01-staging
        rollout: vote
        slackChannel: C0STAGING
        approvers: { slackUsers: [U0LEAD], githubPermisson: write }
`);
    const bot = start(env);
    const { code } = await bot.exit;
    expect(code).toBe(1);
    const lines = bot.stderr().trim().split('\n');
    expect(lines).toEqual([
      'apps[0].environments[1].namespace: required',
      'apps[0].environments[1].timeout: must be a duration like 30s, 10m or 1h (got "10 minutes")',
      'apps[0].environments[2].approvers.githubPermisson: unknown key',
    ]);
  });

  it('names every missing variable at once', async () => {
    const env = await setup();
    delete env.SLACK_BOT_TOKEN;
    delete env.AWS_REGION;
    env.LOG_LEVEL = 'loud';
    const bot = start(env);
    expect((await bot.exit).code).toBe(1);
    const text = bot.stderr();
    expect(text).toContain('LOG_LEVEL: must be one of');
    expect(text).toContain('SLACK_BOT_TOKEN: required');
    expect(text).toContain('AWS_REGION: required');
    expect(text).not.toMatch(/\n\s+at /);
  });

  it('refuses to start over a store file it cannot read, and leaves the file untouched', async () => {
    const env = await setup();
    const { mkdir } = await import('node:fs/promises');
    await mkdir(env.DATA_DIR!, { recursive: true });
    const file = path.join(env.DATA_DIR!, 'rollout-chatops.json');
    await writeFile(file, '{"version":1,"threads":{'); // cut short, as after a full disk
    const bot = start(env);
    expect((await bot.exit).code).toBe(1);
    expect(bot.stderr()).toMatch(/store file .* is not valid JSON.*left untouched/s);
    expect(await readFile(file, 'utf8')).toBe('{"version":1,"threads":{');
  });

  it('drains and exits 0 on SIGTERM, with the store flushed', async () => {
    const env = await setup();
    const bot = start(env);
    const url = await bot.url;
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 'ready');
    expect((await fetch(`${url}/healthz`)).status).toBe(200);
    bot.child.kill('SIGTERM');
    expect(await bot.exit).toEqual({ code: 0, signal: null });
    const data = JSON.parse(await readFile(path.join(env.DATA_DIR!, 'rollout-chatops.json'), 'utf8'));
    expect(data.version).toBe(1);
    expect(Object.keys(data.envs)).toContain('voting01/qa');
  });

  it('after a SIGKILL between a post and its record, posts neither a second root nor a second reply', async () => {
    const env = await setup();
    const controller = new ArgoController(k8s);
    controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: 'r/voting01-vote:aaaaaaa-1', steps: [...STANDARD_CANARY_STEPS] });
    const first = start(env);
    const url = await first.url;
    await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, 'ready');

    // qa and staging have no rollout: their "not found" notices go out first.
    await waitFor(() => slack.callsTo('chat.postMessage').length === 2, 'missing notices');
    // The root card reaches Slack, but the bot dies before it hears back and records the ts.
    let held = false;
    const release = slack.holdResponses('chat.postMessage', 1, () => (held = true));
    controller.deploy('voting01-dev', 'vote', 'r/voting01-vote:ea11a24-20260129125607');
    controller.tick('voting01-dev', 'vote');
    controller.tick('voting01-dev', 'vote');
    await waitFor(() => held, 'root post held');
    first.child.kill('SIGKILL');
    await first.exit;
    release();
    expect(slack.channelMessages('C0DEV').filter((m) => !m.threadTs)).toHaveLength(1);

    const second = start(env);
    await second.url;
    const root = slack.channelMessages('C0DEV').find((m) => !m.threadTs)!;
    await waitFor(() => slack.replies('C0DEV', root.ts).some((m) => messageText(m).includes('waiting for promotion')), 'replies after restart', 10_000);
    await waitFor(async () => slack.callsTo('chat.update').length > 0, 'card refreshed').catch((e) => {
      throw new Error(`${e.message}\n${slack.transcript()}\n${second.stdout()}`);
    });

    expect(slack.channelMessages('C0DEV', { includeBroadcasts: false }).filter((m) => !m.threadTs)).toHaveLength(1);
    const texts = slack.replies('C0DEV', root.ts).map(messageText);
    expect(texts.filter((t) => t.includes('Step 1/7 completed'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('waiting for promotion'))).toHaveLength(1);
    expect(messageText(slack.message('C0DEV', root.ts)!)).toContain('Paused at step 2/7 (pause), waiting for promotion');
  });
});
