import { createHash, randomUUID } from 'node:crypto';
import { stat } from 'node:fs/promises';
import path from 'node:path';
import { pushPayload, signGitHubPayload } from '../../emulators/clients/github-webhooks.js';
import { LoopbackClient, closedLoop, type RequestSpec } from '../lib/http-load.js';
import { median, round, summarize, type Summary } from '../lib/stats.js';
import { dirBytes, readCpuMs, readMemory, RssSampler } from '../lib/proc.js';
import { WEBHOOK_SECRET } from '../lib/world.js';
import type { Inbound } from './inbound-setup.js';

export interface WebhookResult {
  concurrency: number;
  blocks: number;
  blockMs: number;
  /** Deliveries answered 200 per second, over all blocks of each side. */
  botPerSec: number;
  floorPerSec: number;
  ratio: number;
  /** Each round's bot/floor ratio, oldest first: a falling trend means the bot slows as its store grows. */
  roundRatios: number[];
  roundBotPerSec: number[];
  medianRoundRatio: number;
  /** The bot's CPU per delivery over the floor's: what the throughput ratio comes to when the servers, not the load, set the pace. */
  cpuRatio: number;
  /**
   * CPU the load generator's process (client, emulators) used during each side's blocks, in % of one core. Near 100 the
   * client, not the server, sets the pace, and the throughput ratio tends to 1 whatever the servers cost.
   */
  clientCpuPct: { bot: number; floor: number };
  botLatency: Summary;
  floorLatency: Summary;
  errors: { bot: number; floor: number };
  /** CPU time (user + system) each process spent per delivery answered, in ms. */
  cpuMsPerDelivery: { bot: number; floor: number };
  /** Size of the bot's store file after the run (every delivery id and pushed commit is kept). */
  botStoreMb: number;
  /** The bot's RSS during this section: the highest sample, and at its end (goal ≤ 200 MB). */
  botRssMb: { peak: number; end: number; goalMb: number; met: boolean };
  target: string;
  met: boolean;
}

let n = 0;
/** A signed push of one new commit to the default branch of a configured repo, with a fresh delivery id. */
function signedPush(): RequestSpec {
  n++;
  const sha = createHash('sha1').update(`bench-commit-${n}-${process.pid}`).digest('hex');
  const payload = pushPayload({
    repo: 'acme/voting01',
    commits: [{ id: sha, message: `Tune the vote button (#${n})\n\nLonger description of the change.`, author: { name: 'Ada Lovelace', email: 'ada@example.com', username: 'ada' } }],
  });
  const body = JSON.stringify(payload);
  return {
    path: '/api/github/webhooks',
    headers: {
      'content-type': 'application/json',
      'user-agent': 'GitHub-Hookshot/bench',
      'x-github-event': 'push',
      'x-github-delivery': randomUUID(),
      'x-hub-signature-256': signGitHubPayload(WEBHOOK_SECRET, body),
    },
    body,
  };
}

/**
 * Signed pushes made before a block starts, so that during it the load generator only sends them (signing and
 * serialising each one on the fly took a good part of the client's core): as many as the fastest block so far
 * answered, plus half; past that, `next` makes them on the fly.
 */
class PushPool {
  private pool: RequestSpec[] = [];
  private best = 0;

  refill(blockMs: number): void {
    const want = Math.max(2000, Math.ceil((this.best * blockMs * 1.5) / 1000));
    while (this.pool.length < want) this.pool.push(signedPush());
  }

  /** Records a block's rate, for the next refill. */
  saw(perSec: number): void {
    this.best = Math.max(this.best, perSec);
  }

  readonly next = (): RequestSpec => this.pool.pop() ?? signedPush();
}

/**
 * Push deliveries per second at a fixed concurrency, the bot against a bare Probot app, in alternating blocks (AB, BA,
 * …); many short rounds, so that a burst of someone else's work spoils one short block of one side.
 */
export async function measureWebhooks(inb: Inbound, o: { concurrency: number; blocks: number; blockMs: number; warmupMs: number }): Promise<WebhookResult> {
  const botClient = new LoopbackClient(inb.botPort);
  const floorClient = new LoopbackClient(inb.floorPort);
  const pushes = new PushPool();
  const run = (client: LoopbackClient, ms: number) => {
    pushes.refill(ms);
    return closedLoop({ client, concurrency: o.concurrency, durationMs: ms, make: pushes.next });
  };
  pushes.saw((await run(botClient, o.warmupMs)).samples.length / (o.warmupMs / 1000));
  pushes.saw((await run(floorClient, o.warmupMs)).samples.length / (o.warmupMs / 1000));
  const acc = { bot: { ok: 0, ms: 0, errors: 0, cpu: 0, client: 0, lat: [] as number[] }, floor: { ok: 0, ms: 0, errors: 0, cpu: 0, client: 0, lat: [] as number[] } };
  const pid = { bot: inb.bot.pid, floor: inb.floor.pid };
  const roundRatios: number[] = [];
  const roundBotPerSec: number[] = [];
  const rss = new RssSampler(inb.bot.pid).start();
  const rssFrom = Date.now();
  for (let i = 0; i < o.blocks; i++) {
    const order = i % 2 === 0 ? (['bot', 'floor'] as const) : (['floor', 'bot'] as const);
    const rate: Record<'bot' | 'floor', number> = { bot: 0, floor: 0 };
    for (const side of order) {
      const client = side === 'bot' ? botClient : floorClient;
      pushes.refill(o.blockMs);
      const c0 = readCpuMs(pid[side]) ?? 0;
      const u0 = process.cpuUsage();
      const r = await closedLoop({ client, concurrency: o.concurrency, durationMs: o.blockMs, make: pushes.next });
      const u = process.cpuUsage(u0);
      acc[side].cpu += (readCpuMs(pid[side]) ?? 0) - c0;
      acc[side].client += (u.user + u.system) / 1000;
      const ok = r.samples.filter((s) => s.status === 200);
      const a = acc[side];
      a.ok += ok.length;
      a.ms += r.elapsedMs;
      a.errors += r.samples.length - ok.length;
      a.lat.push(...ok.map((s) => s.ms));
      rate[side] = (ok.length * 1000) / r.elapsedMs;
      pushes.saw(rate[side]);
    }
    roundRatios.push(rate.bot / rate.floor);
    roundBotPerSec.push(round(rate.bot));
  }
  botClient.close();
  floorClient.close();
  rss.stop();
  const rssPeak = rss.peakBetween(rssFrom, Date.now());
  const rssEnd = readMemory(inb.bot.pid)?.rssMb ?? Number.NaN;
  const botPerSec = (acc.bot.ok * 1000) / acc.bot.ms;
  const floorPerSec = (acc.floor.ok * 1000) / acc.floor.ms;
  const ratio = botPerSec / floorPerSec;
  let botStoreMb = Number.NaN;
  try {
    botStoreMb = (await dirBytes(inb.world.botEnv.DATA_DIR!)) / 2 ** 20;
  } catch {
    // no store file: leave NaN
  }
  return {
    concurrency: o.concurrency, blocks: o.blocks, blockMs: o.blockMs,
    botPerSec: round(botPerSec), floorPerSec: round(floorPerSec), ratio: round(ratio),
    roundRatios: roundRatios.map(round), roundBotPerSec, medianRoundRatio: round(median(roundRatios)),
    cpuRatio: round(acc.bot.cpu / acc.bot.ok / (acc.floor.cpu / acc.floor.ok)),
    clientCpuPct: { bot: round((100 * acc.bot.client) / acc.bot.ms), floor: round((100 * acc.floor.client) / acc.floor.ms) },
    botLatency: summarize(acc.bot.lat), floorLatency: summarize(acc.floor.lat),
    errors: { bot: acc.bot.errors, floor: acc.floor.errors },
    cpuMsPerDelivery: { bot: round(acc.bot.cpu / acc.bot.ok), floor: round(acc.floor.cpu / acc.floor.ok) },
    botStoreMb: round(botStoreMb),
    botRssMb: { peak: round(rssPeak), end: round(rssEnd), goalMb: 200, met: rssPeak <= 200 },
    target: '≥ 0.8× floor',
    met: ratio >= 0.8,
  };
}
