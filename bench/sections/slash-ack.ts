import { randomBytes } from 'node:crypto';
import { signSlackRequest } from '../../emulators/clients/slack-requests.js';
import { LoopbackClient, openLoop, type RequestSpec, type Sample } from '../lib/http-load.js';
import { median, round, summarize, type Summary } from '../lib/stats.js';
import { readCpuMs } from '../lib/proc.js';
import { SIGNING_SECRET } from '../lib/world.js';
import type { Inbound } from './inbound-setup.js';

export interface SlashAckResult {
  rate: number;
  blocks: number;
  blockMs: number;
  bot: Summary;
  floor: Summary;
  /** Pooled p99 of the bot over pooled p99 of the floor. */
  p99Ratio: number;
  p95Ratio: number;
  /** Median over rounds of each round's p99 ratio, and the spread, to show how much one run's ratio wanders. */
  roundP99Ratios: number[];
  medianRoundP99Ratio: number;
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

/**
 * Slash-command acknowledgement latency at `rate` signed requests/s, the bot against a bare Bolt app, in alternating
 * blocks (AB, BA, AB, ...) so drift on a shared machine lands on both sides.
 */
export async function measureSlashAck(inb: Inbound, o: { rate: number; blocks: number; blockMs: number; warmupMs: number }): Promise<SlashAckResult> {
  const botClient = new LoopbackClient(inb.botPort);
  const floorClient = new LoopbackClient(inb.floorPort);
  const run = (client: LoopbackClient, ms: number) => openLoop({ client, rate: o.rate, durationMs: ms, make: slashStatus });
  await run(botClient, o.warmupMs);
  await run(floorClient, o.warmupMs);
  const bot: Sample[] = [];
  const floor: Sample[] = [];
  const roundP99Ratios: number[] = [];
  const cpu = { bot: 0, floor: 0 };
  const pid = { bot: inb.bot.pid, floor: inb.floor.pid };
  for (let i = 0; i < o.blocks; i++) {
    const order = i % 2 === 0 ? (['bot', 'floor'] as const) : (['floor', 'bot'] as const);
    const round: Record<'bot' | 'floor', Sample[]> = { bot: [], floor: [] };
    for (const side of order) {
      const c0 = readCpuMs(pid[side]) ?? 0;
      round[side] = await run(side === 'bot' ? botClient : floorClient, o.blockMs);
      cpu[side] += (readCpuMs(pid[side]) ?? 0) - c0;
    }
    bot.push(...round.bot);
    floor.push(...round.floor);
    roundP99Ratios.push(summarize(round.bot.map((s) => s.ms)).p99 / summarize(round.floor.map((s) => s.ms)).p99);
  }
  botClient.close();
  floorClient.close();
  const ok = (s: Sample) => s.status === 200;
  const b = summarize(bot.filter(ok).map((s) => s.ms));
  const f = summarize(floor.filter(ok).map((s) => s.ms));
  const p99Ratio = b.p99 / f.p99;
  return {
    rate: o.rate, blocks: o.blocks, blockMs: o.blockMs,
    bot: b, floor: f,
    p99Ratio: round(p99Ratio),
    p95Ratio: round(b.p95 / f.p95),
    roundP99Ratios: roundP99Ratios.map(round),
    medianRoundP99Ratio: round(median(roundP99Ratios)),
    errors: { bot: bot.filter((s) => !ok(s)).length, floor: floor.filter((s) => !ok(s)).length },
    cpuMsPerRequest: { bot: round(cpu.bot / bot.length), floor: round(cpu.floor / floor.length) },
    target: 'p99 ≤ 1.25× floor',
    met: p99Ratio <= 1.25,
  };
}
