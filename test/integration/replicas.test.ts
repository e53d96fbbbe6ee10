import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ArgoController, STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import { sendSigned, slashCommandBody, type SlackSender } from '../../emulators/clients/slack-requests.js';
import { startKubernetesEmulator, type KubernetesEmulator } from '../../emulators/kubernetes-emulator.js';
import { messageText, startSlackEmulator, type SlackEmulator } from '../../emulators/slack-emulator.js';
import { ensureBuilt, processEnv, runBot, type Bot } from '../support/bot-process.js';
import { DEFAULT_CONFIG, SIGNING_SECRET, waitFor } from '../support/harness.js';
import { startPostgresServer, type PostgresServer } from '../support/postgres-server.js';

/**
 * Two bot processes (`node dist/main.js`) against one real PostgreSQL server, one emulated cluster and one emulated
 * Slack: what people see when either replica answers, when the leader is killed, and when the database goes away.
 */
let pg: PostgresServer;
let k8s: KubernetesEmulator;
let slack: SlackEmulator;
let dir: string;
let bots: Bot[] = [];

beforeAll(async () => {
  ensureBuilt();
  pg = await startPostgresServer();
}, 120_000);
afterAll(async () => pg?.stop());
afterEach(async () => {
  for (const b of bots) b.child.kill('SIGKILL');
  await Promise.all(bots.map((b) => b.exit));
  bots = [];
  await k8s?.close();
  await slack?.close();
  if (dir) await rm(dir, { recursive: true, force: true });
});

interface Replica {
  name: string;
  bot: Bot;
  url: string;
  sender: SlackSender;
}

async function world(): Promise<Record<string, string>> {
  k8s = await startKubernetesEmulator();
  slack = await startSlackEmulator();
  dir = await mkdtemp(path.join(tmpdir(), 'rollout-chatops-replicas-'));
  // DATA_DIR is set but unused: with DATABASE_URL the store is the database.
  return { ...(await processEnv({ dir, config: DEFAULT_CONFIG, slack, k8s, signingSecret: SIGNING_SECRET })), DATABASE_URL: await pg.createDatabase() };
}

async function replica(env: Record<string, string>, name: string): Promise<Replica> {
  const bot = runBot({ ...env, POD_NAME: name });
  bots.push(bot);
  const url = await Promise.race([bot.url, bot.exit.then(() => Promise.reject(new Error(`${name} exited: ${bot.stderr()}${bot.stdout()}`)))]);
  await waitFor(async () => (await fetch(`${url}/readyz`)).status === 200, `${name} ready`, 15_000);
  return { name, bot, url, sender: { url: `${url}/slack/events`, signingSecret: SIGNING_SECRET, newResponseUrl: (b) => slack.newResponseUrl(b) } };
}

async function leads(r: Replica): Promise<boolean | undefined> {
  try {
    const text = await (await fetch(`${r.url}/metrics`)).text();
    const m = /^rollout_chatops_leader (\d)/m.exec(text);
    return m ? m[1] === '1' : undefined;
  } catch {
    return undefined; // killed
  }
}

async function leaderOf(rs: Replica[]): Promise<Replica> {
  return waitFor(async () => {
    const flags = await Promise.all(rs.map(leads));
    return flags.filter(Boolean).length === 1 ? rs[flags.indexOf(true)] : undefined;
  }, 'exactly one leader', 20_000);
}

/** Each post the bot made, by the key in its metadata: every key once. */
function postedKeys(): string[] {
  return slack.callsTo('chat.postMessage').map((c) => String((c.args.metadata as { event_payload?: { key?: string } } | undefined)?.event_payload?.key ?? ''));
}

/** Two replicas and one leader; a canary deployed in dev, its root card posted. */
async function twoReplicasWithACanary() {
  const env = await world();
  const controller = new ArgoController(k8s);
  controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: 'r/voting01-vote:aaaaaaa-1', steps: [...STANDARD_CANARY_STEPS] });
  const a = await replica(env, 'bot-a');
  const b = await replica(env, 'bot-b');
  const leader = await leaderOf([a, b]);
  const other = leader === a ? b : a;
  controller.deploy('voting01-dev', 'vote', 'r/voting01-vote:ea11a24-20260129125607');
  controller.tick('voting01-dev', 'vote');
  const root = await waitFor(() => slack.channelMessages('C0DEV', { includeBroadcasts: false }).find((m) => !m.threadTs), 'root card');
  return { controller, leader, other, root };
}

describe('two replicas on one PostgreSQL database', () => {
  it('both take commands, one leads, and a Slack retry sent to the other replica changes nothing', async () => {
    const env = await world();
    const a = await replica(env, 'bot-a');
    const b = await replica(env, 'bot-b');
    const leader = await leaderOf([a, b]);
    const follower = leader === a ? b : a;

    // A lock from the follower: claimed, stored and answered there.
    const body = slashCommandBody(follower.sender, { command: '/rollout', text: 'lock dev release freeze', userId: 'U0LEAD', channelId: 'C0DEV' });
    const ts = Math.floor(Date.now() / 1000);
    expect((await sendSigned(follower.sender, { body, contentType: 'application/x-www-form-urlencoded', timestampSec: ts })).status).toBe(200);
    const answer = await waitFor(() => slack.responses.find((r) => /locked/i.test(String(r.body.text))), 'lock answered');
    expect(String(answer.body.text)).toMatch(/release freeze/);
    // Slack retries the same request, and this time its load balancer picks the leader: acknowledged, nothing done.
    const retry = await sendSigned(leader.sender, { body, contentType: 'application/x-www-form-urlencoded', timestampSec: ts, headers: { 'x-slack-retry-num': '1', 'x-slack-retry-reason': 'http_timeout' } });
    expect([retry.status, retry.body]).toEqual([200, '']);
    expect(slack.responses.filter((r) => /locked/i.test(String(r.body.text)))).toHaveLength(1);

    // The other replica sees the same state: the lock is in the database.
    const status = slashCommandBody(leader.sender, { command: '/rollout', text: 'status dev', userId: 'U0DEV', channelId: 'C0DEV' });
    const shown = await sendSigned(leader.sender, { body: status, contentType: 'application/x-www-form-urlencoded' });
    expect(shown.status).toBe(200);
    // /rollout status answers in the acknowledgement itself (or, when slow, through response_url).
    await waitFor(() => /release freeze/.test(shown.body) || slack.responses.some((r) => r !== answer && /release freeze/.test(String(r.body.text))), 'status shows the lock').catch((e: Error) => {
      throw new Error(`${e.message}\nack: ${shown.body}\nresponses: ${JSON.stringify(slack.responses.map((r) => r.body.text))}`);
    });
  });

  it('when the leader is killed mid-canary, the other leads within 15 s and the same thread goes on, nothing twice', async () => {
    const { controller, leader, other, root } = await twoReplicasWithACanary();
    await waitFor(() => slack.replies('C0DEV', root.ts).some((m) => messageText(m).includes('Step 1/7 completed')), 'step 1 reply', 10_000);

    leader.bot.child.kill('SIGKILL');
    const killedAt = Date.now();
    await leader.bot.exit;
    controller.tick('voting01-dev', 'vote'); // the canary goes on while nobody leads
    await waitFor(async () => (await leads(other)) === true, 'the other replica leads', 15_000);
    expect(Date.now() - killedAt).toBeLessThanOrEqual(15_000);

    await waitFor(() => slack.replies('C0DEV', root.ts).some((m) => messageText(m).includes('waiting for promotion')), 'the thread goes on', 15_000).catch((e: Error) => {
      throw new Error(`${e.message}\n${slack.transcript()}\n${other.bot.stdout().slice(-4000)}`);
    });
    expect(slack.channelMessages('C0DEV', { includeBroadcasts: false }).filter((m) => !m.threadTs)).toHaveLength(1);
    const texts = slack.replies('C0DEV', root.ts).map(messageText);
    expect(texts.filter((t) => t.includes('Step 1/7 completed'))).toHaveLength(1);
    expect(texts.filter((t) => t.includes('waiting for promotion'))).toHaveLength(1);
    const keys = postedKeys().filter(Boolean);
    expect(keys.length).toBe(new Set(keys).size);
  });

  it('a leader paused past its lease (SIGSTOP) wakes up unable to post: the new leader carries on, nothing twice', async () => {
    const { controller, leader, other, root } = await twoReplicasWithACanary();

    leader.bot.child.kill('SIGSTOP');
    try {
      await waitFor(async () => (await leads(other)) === true, 'the other replica leads', 15_000);
      controller.tick('voting01-dev', 'vote');
    } finally {
      leader.bot.child.kill('SIGCONT');
    }
    await waitFor(() => slack.replies('C0DEV', root.ts).some((m) => messageText(m).includes('waiting for promotion')), 'the thread goes on', 15_000);
    // The woken one finds out it lost the lease and stops leading; it never posts what the new leader posts.
    await waitFor(async () => (await leads(leader)) === false, 'the paused replica no longer leads', 10_000);
    expect(await leads(other)).toBe(true);
    const keys = postedKeys().filter(Boolean);
    expect(keys.length).toBe(new Set(keys).size);
    expect(slack.channelMessages('C0DEV', { includeBroadcasts: false }).filter((m) => !m.threadTs)).toHaveLength(1);
  });

  it('a rolling upgrade (start the new process, then stop the old) loses no command sent during it', async () => {
    const env = await world();
    const old = await replica(env, 'bot-old');
    await leaderOf([old]);
    let replicas: Replica[] = [old];
    /** A load balancer: the first replica that is ready and answers (Slack itself does not retry a slash command). */
    const send = async (text: string): Promise<string> => {
      const responseUrl = slack.newResponseUrl({ channel: 'C0DEV', user: 'U0LEAD' });
      for (let attempt = 0; attempt < 50; attempt++) {
        for (const r of replicas) {
          const ready = await fetch(`${r.url}/readyz`).then((x) => x.status === 200, () => false);
          if (!ready) continue;
          const body = slashCommandBody(r.sender, { command: '/rollout', text, userId: 'U0LEAD', channelId: 'C0DEV', responseUrl });
          const res = await sendSigned(r.sender, { body, contentType: 'application/x-www-form-urlencoded' }).catch(() => undefined);
          if (!res || res.status !== 200) continue;
          const acked = res.body ? res.json<{ text?: string }>().text : undefined;
          if (acked) return acked;
          const id = responseUrl.slice(responseUrl.lastIndexOf('/') + 1);
          return String((await waitFor(() => slack.responses.find((x) => x.id === id), `answer to ${text}`, 10_000)).body.text);
        }
        await new Promise((r) => setImmediate(r));
      }
      throw new Error(`${text}: no replica answered`);
    };
    const answers: string[] = [];
    let i = 0;
    const commands = (async () => {
      for (; i < 40; i++) answers.push(await send(i % 2 ? 'unlock dev' : `lock dev reason-${i}`));
    })();
    await waitFor(() => i >= 5, 'some commands before the upgrade', 10_000);
    const fresh = await replica(env, 'bot-new');
    replicas = [old, fresh];
    await waitFor(() => i >= 12, 'commands with both up', 10_000);
    old.bot.child.kill('SIGTERM');
    expect((await old.bot.exit).code).toBe(0);
    replicas = [fresh];
    await commands;
    expect(answers).toHaveLength(40);
    for (const [n, a] of answers.entries()) expect(a, `answer to command ${n}`).toMatch(n % 2 ? /unlocked|not locked/i : /locked/i);
    await leaderOf([fresh]);
    // The last command was an unlock, through the same database: the new replica shows no lock.
    expect(await send('status dev')).not.toMatch(/reason-\d+/);
    // And a lock now is a fresh one, shown by the next status.
    await send('lock dev reason-last');
    expect(await send('status dev')).toMatch(/reason-last/);
  });

  it('with PostgreSQL gone, a command is told to try again and nothing is lost once it is back', async () => {
    const env = await world();
    const controller = new ArgoController(k8s);
    controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: 'r/voting01-vote:aaaaaaa-1', steps: [...STANDARD_CANARY_STEPS] });
    const a = await replica(env, 'bot-a');
    const b = await replica(env, 'bot-b');
    await leaderOf([a, b]);

    await pg.pause();
    try {
      const body = slashCommandBody(a.sender, { command: '/rollout', text: 'lock dev nope', userId: 'U0LEAD', channelId: 'C0DEV' });
      const res = await sendSigned(a.sender, { body, contentType: 'application/x-www-form-urlencoded' });
      expect(res.status).toBe(200);
      expect(String(res.json<{ text: string }>().text)).toMatch(/nothing was changed\. Try again/);
      // Nobody can renew the lease: nobody leads (nothing is watched or posted meanwhile).
      await waitFor(async () => (await Promise.all([a, b].map(leads))).every((l) => l === false), 'no leader while the database is gone', 15_000);
      controller.deploy('voting01-dev', 'vote', 'r/voting01-vote:ea11a24-20260129125607');
      controller.tick('voting01-dev', 'vote');
    } finally {
      await pg.start();
    }
    expect(await (await fetch(`${a.url}/healthz`)).status).toBe(200);
    expect(await (await fetch(`${b.url}/healthz`)).status).toBe(200);
    await leaderOf([a, b]);
    // The deploy made while the database was gone is picked up: its thread starts and goes on.
    const root = await waitFor(() => slack.channelMessages('C0DEV', { includeBroadcasts: false }).find((m) => !m.threadTs), 'root card after the outage', 20_000);
    await waitFor(() => slack.replies('C0DEV', root.ts).some((m) => messageText(m).includes('Step 1/7 completed')), 'step 1 reply after the outage', 15_000);
    expect(slack.responses.some((r) => /nope/.test(String(r.body.text)))).toBe(false);
  });
});
