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

/** Push deliveries per second at a fixed concurrency, the bot against a bare Probot app, in alternating blocks. */
export async function measureWebhooks(inb: Inbound, o: { concurrency: number; blocks: number; blockMs: number; warmupMs: number }): Promise<WebhookResult> {
  const botClient = new LoopbackClient(inb.botPort);
  const floorClient = new LoopbackClient(inb.floorPort);
  const run = (client: LoopbackClient, ms: number) => closedLoop({ client, concurrency: o.concurrency, durationMs: ms, make: signedPush });
  await run(botClient, o.warmupMs);
  await run(floorClient, o.warmupMs);
  const acc = { bot: { ok: 0, ms: 0, errors: 0, cpu: 0, lat: [] as number[] }, floor: { ok: 0, ms: 0, errors: 0, cpu: 0, lat: [] as number[] } };
  const pid = { bot: inb.bot.pid, floor: inb.floor.pid };
  const roundRatios: number[] = [];
  const roundBotPerSec: number[] = [];
  const rss = new RssSampler(inb.bot.pid).start();
  const rssFrom = Date.now();
  for (let i = 0; i < o.blocks; i++) {
    const order = i % 2 === 0 ? (['bot', 'floor'] as const) : (['floor', 'bot'] as const);
    const rate: Record<'bot' | 'floor', number> = { bot: 0, floor: 0 };
    for (const side of order) {
      const c0 = readCpuMs(pid[side]) ?? 0;
      const r = await run(side === 'bot' ? botClient : floorClient, o.blockMs);
      acc[side].cpu += (readCpuMs(pid[side]) ?? 0) - c0;
      const ok = r.samples.filter((s) => s.status === 200);
      const a = acc[side];
      a.ok += ok.length;
      a.ms += r.elapsedMs;
      a.errors += r.samples.length - ok.length;
      a.lat.push(...ok.map((s) => s.ms));
      rate[side] = (ok.length * 1000) / r.elapsedMs;
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
    botLatency: summarize(acc.bot.lat), floorLatency: summarize(acc.floor.lat),
    errors: { bot: acc.bot.errors, floor: acc.floor.errors },
    cpuMsPerDelivery: { bot: round(acc.bot.cpu / acc.bot.ok), floor: round(acc.floor.cpu / acc.floor.ok) },
    botStoreMb: round(botStoreMb),
    botRssMb: { peak: round(rssPeak), end: round(rssEnd), goalMb: 200, met: rssPeak <= 200 },
    target: '≥ 0.8× floor',
    met: ratio >= 0.8,
  };
}
