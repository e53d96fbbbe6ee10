import { randomBytes } from 'node:crypto';
import { signSlackRequest } from '../../emulators/clients/slack-requests.js';
import { LoopbackClient, openLoop, type RequestSpec, type Sample } from '../lib/http-load.js';
import { median, percentile, round, summarize, type Summary } from '../lib/stats.js';
import { readCpuMs } from '../lib/proc.js';
import { ForeignLoad } from '../lib/core-load.js';
import { SIGNING_SECRET } from '../lib/world.js';
import type { Inbound } from './inbound-setup.js';

export interface SlashAckResult {
  rate: number;
  blocks: number;
  blockMs: number;
  bot: Summary;
  floor: Summary;
  /** Pooled p99 of the bot over pooled p99 of the floor, over the rounds `pooledOver` names (`bot`, `floor` likewise). */
  p99Ratio: number;
  p95Ratio: number;
  /**
   * `quiet rounds` (other processes used under CONTENDED_FOREIGN_PCT of a core during both blocks) when a third or more
   * were, else `all rounds`.
   */
  pooledOver: 'quiet rounds' | 'all rounds';
  quietRounds: number;
  /** The same figures pooled over every round. */
  allRounds: { bot: Summary; floor: Summary; p99Ratio: number; p95Ratio: number };
  /** Median over rounds of each round's p99 ratio, and the spread, to show how much one run's ratio wanders. */
  roundP99Ratios: number[];
  medianRoundP99Ratio: number;
  /** The 25th and 75th percentiles of the per-round p99 ratios (half the rounds lie between them). */
  roundP99RatioIqr: [number, number];
  /** Each round's p99 of each side, in ms, in the order run. */
  roundP99Ms: { bot: number[]; floor: number[] };
  /** CPU other processes used on the machine during each side's block of each round, in % of one core (ForeignLoad). */
  roundForeignPct: Array<{ bot: number; floor: number }>;
  errors: { bot: number; floor: number };
  /** CPU time (user + system) each process spent per request during its blocks, in ms. */
  cpuMsPerRequest: { bot: number; floor: number };
  target: string;
  met: boolean;
}

/** A signed `/rollout status` as Slack sends it (form fields in Slack's order, v0 signature over the raw body). */
function slashStatus(): RequestSpec {
  const body = new URLSearchParams({
    token: 'legacy-verification-token',
    team_id: 'T0TEST',
    team_domain: 'example',
    channel_id: 'C0DEV',
    channel_name: 'deploys',
    user_id: 'U0LEAD',
    user_name: 'lead',
    command: '/rollout',
    text: 'status',
    api_app_id: 'A0TESTAPP',
    is_enterprise_install: 'false',
    response_url: 'http://127.0.0.1:9/response/none',
    trigger_id: `${Date.now()}.${randomBytes(4).readUInt32BE()}.${randomBytes(10).toString('hex')}`,
  }).toString();
  return {
    path: '/slack/events',
    headers: { 'content-type': 'application/x-www-form-urlencoded', 'user-agent': 'Slackbot 1.0 (+https://api.slack.com/robots)', ...signSlackRequest(SIGNING_SECRET, body, Math.floor(Date.now() / 1000)) },
    body,
  };
}

const round3 = (v: number) => Math.round(v * 1000) / 1000;

/**
 * A round is contended when, during either of its blocks, other processes used this much CPU or more (% of one core):
 * on two cores, with the load generator and the servers pinned one to each, that is another program taking half a
 * core beside one of them.
 */
export const CONTENDED_FOREIGN_PCT = 50;

/** Pooled percentiles of both sides over some rounds, and their ratios. */
function pooled(rounds: Array<Record<'bot' | 'floor', Sample[]>>): { bot: Summary; floor: Summary; p99Ratio: number; p95Ratio: number } {
  const ok = (x: Sample) => x.status === 200;
  const bot = summarize(rounds.flatMap((r) => r.bot.filter(ok).map((x) => x.ms)));
  const floor = summarize(rounds.flatMap((r) => r.floor.filter(ok).map((x) => x.ms)));
  return { bot, floor, p99Ratio: round(bot.p99 / floor.p99), p95Ratio: round(bot.p95 / floor.p95) };
}

/**
 * Slash-command acknowledgement latency at `rate` signed requests/s, the bot against a bare Bolt app, in alternating
 * blocks (AB, BA, AB, ...) so drift on a shared machine lands on both sides. Many short rounds rather than a few long
 * ones: a burst of someone else's work then spoils one short block of one side, and the per-round ratios show it.
 * Each block also records how much CPU other processes used meanwhile (ForeignLoad); the figure is pooled over the
 * uncontended rounds when at least a third of them are, and over every round otherwise (both are reported).
 */
export async function measureSlashAck(inb: Inbound, o: { rate: number; blocks: number; blockMs: number; warmupMs: number }): Promise<SlashAckResult> {
  const botClient = new LoopbackClient(inb.botPort);
  const floorClient = new LoopbackClient(inb.floorPort);
  const run = (client: LoopbackClient, ms: number) => openLoop({ client, rate: o.rate, durationMs: ms, make: slashStatus });
  await run(botClient, o.warmupMs);
  await run(floorClient, o.warmupMs);
  const rounds: Array<Record<'bot' | 'floor', Sample[]>> = [];
  const roundP99Ratios: number[] = [];
  const roundP99Ms: { bot: number[]; floor: number[] } = { bot: [], floor: [] };
  const cpu = { bot: 0, floor: 0 };
  const pid = { bot: inb.bot.pid, floor: inb.floor.pid };
  // Our processes: the load generator (this one, with the emulators) and both servers.
  const foreign = new ForeignLoad(() => (readCpuMs(process.pid) ?? 0) + (readCpuMs(pid.bot) ?? 0) + (readCpuMs(pid.floor) ?? 0));
  const roundForeignPct: Array<{ bot: number; floor: number }> = [];
  for (let i = 0; i < o.blocks; i++) {
    const order = i % 2 === 0 ? (['bot', 'floor'] as const) : (['floor', 'bot'] as const);
    const round: Record<'bot' | 'floor', Sample[]> = { bot: [], floor: [] };
    const load = { bot: 0, floor: 0 };
    for (const side of order) {
      const c0 = readCpuMs(pid[side]) ?? 0;
      foreign.start();
      round[side] = await run(side === 'bot' ? botClient : floorClient, o.blockMs);
      load[side] = round3(foreign.stop());
      cpu[side] += (readCpuMs(pid[side]) ?? 0) - c0;
    }
    rounds.push(round);
    roundForeignPct.push(load);
    const p99 = { bot: summarize(round.bot.map((x) => x.ms)).p99, floor: summarize(round.floor.map((x) => x.ms)).p99 };
    roundP99Ms.bot.push(round3(p99.bot));
    roundP99Ms.floor.push(round3(p99.floor));
    roundP99Ratios.push(p99.bot / p99.floor);
  }
  botClient.close();
  floorClient.close();
  const all = pooled(rounds);
  const quietRounds = rounds.filter((_, i) => roundForeignPct[i]!.bot < CONTENDED_FOREIGN_PCT && roundForeignPct[i]!.floor < CONTENDED_FOREIGN_PCT);
  const useQuiet = quietRounds.length >= Math.max(2, Math.ceil(o.blocks / 3));
  const used = useQuiet ? pooled(quietRounds) : all;
  const sortedRatios = [...roundP99Ratios].sort((x, y) => x - y);
  const count = { bot: rounds.reduce((n, r) => n + r.bot.length, 0), floor: rounds.reduce((n, r) => n + r.floor.length, 0) };
  const failedOf = (side: 'bot' | 'floor') => rounds.reduce((n, r) => n + r[side].filter((x) => x.status !== 200).length, 0);
  return {
    rate: o.rate, blocks: o.blocks, blockMs: o.blockMs,
    bot: used.bot, floor: used.floor,
    p99Ratio: used.p99Ratio,
    p95Ratio: used.p95Ratio,
    pooledOver: useQuiet ? 'quiet rounds' : 'all rounds',
    quietRounds: quietRounds.length,
    allRounds: { bot: all.bot, floor: all.floor, p99Ratio: all.p99Ratio, p95Ratio: all.p95Ratio },
    roundP99Ratios: roundP99Ratios.map(round),
    medianRoundP99Ratio: round(median(roundP99Ratios)),
    roundP99RatioIqr: [round(percentile(sortedRatios, 25)), round(percentile(sortedRatios, 75))],
    roundP99Ms,
    roundForeignPct,
    errors: { bot: failedOf('bot'), floor: failedOf('floor') },
    cpuMsPerRequest: { bot: round(cpu.bot / count.bot), floor: round(cpu.floor / count.floor) },
    target: 'p99 ≤ 1.25× floor',
    met: used.p99Ratio <= 1.25,
  };
}
