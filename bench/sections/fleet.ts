import { stat, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { SlackCall } from '../../emulators/slack-emulator.js';
import { Catalog } from '../../src/core/catalog.js';
import { parseConfigText } from '../../src/config/load-settings.js';
import { channelOf, fleetConfig, repoOf, type FleetShape } from '../lib/fleet-config.js';
import { FleetDriver, type DriveStats } from '../lib/fleet-driver.js';
import { showsPriority } from '../lib/fleet-oracle.js';
import { prng } from '../lib/prng.js';
import { dirBytes, readCpuMs, readMemory, readWriteBytes, RssSampler, startNode } from '../lib/proc.js';
import { simulatePacingFloor, SLACK_LIMITS, type SlackLimits } from '../lib/pacing-floor.js';
import { SlackIndex } from '../lib/slack-index.js';
import { finalShownAt, judgeChanges, PRIORITY_KINDS, summarizeByKind, summarizeLatencies, type ChangeKind, type FleetChange, type LatencySummary } from '../lib/strict-oracle.js';
import { maxInWindow, round, summarize, type Summary } from '../lib/stats.js';
import { botNodeFlags, getStatus, pollUntil, startWorld } from '../lib/world.js';

export interface FleetOptions extends FleetShape {
  /** Controller-side writes per second across the fleet. */
  rate: number;
  loadMs: number;
  /** Longest wait after the load for every final state to show. */
  drainCapMs: number;
  /** Once every final state shows somewhere, how long to keep watching the cards catch up. */
  observeCardsMs: number;
  seed: number;
  /** Write a V8 CPU profile of the bot here (`node --cpu-prof`). */
  profileDir?: string;
  /** Run the bot on this PostgreSQL database (DATABASE_URL) instead of the embedded store. */
  databaseUrl?: string;
}

export interface FleetResult {
  rollouts: number;
  /** The bot's store: `embedded` (DATA_DIR) or `postgres` (DATABASE_URL). */
  store: 'embedded' | 'postgres';
  channels: number;
  rate: number;
  loadSeconds: number;
  drive: Omit<DriveStats, 'startedAt' | 'stoppedAt'> & { writesPerSec: number };
  startup: { readyS: number; idleRssMb: number };
  /** Rollouts the load deployed at least once (only they have a thread and a final state to show). */
  touched: number;
  finalState: {
    /** Seconds after the load stopped until every touched rollout's final state was shown on its card or in its thread. */
    allShownS: number | null;
    /** … in its thread (the reply of its last event, or the root card when the deploy has no reply yet). */
    threadsS: number | null;
    /** … on its status card (chat.update). */
    cardsS: number | null;
    notShownAtEnd: number;
    cardsStaleAtEnd: number;
    /** Cards posted as roots vs refreshed with chat.update, over the whole run. */
    rootsPosted: number;
    /** chat.update calls per second after the load, and when the last stale card would be refreshed at that pace. */
    cardUpdatesPerSecAfterLoad: number;
    projectedAllCardsS: number | null;
    waitedS: number;
    goalS: number;
    met: boolean;
  };
  /** One message per event would need this many posts per channel per second (Slack takes about 1). */
  demand: { replies: number; roots: number; perChannelPerSec: number };
  posts: {
    /** Highest posts per second of any channel averaged over any 10 s window. */
    maxPerChannel10s: number;
    /** Mean posts per second per channel while the load ran. */
    meanPerChannelDuringLoad: number;
    total: number;
    updates: number;
    maxUpdatesPerSec10s: number;
    /** Most chat.update calls in any 60 s (Tier 3: about 50 a minute for the workspace). */
    maxUpdatesPerMinute: number;
    /** Replies the bot left unposted because their status card showed them (rollout_chatops_replies_folded_total). */
    folded: number | null;
    /** Shortest time in which any channel received 11 posts (under 10,000 ms means a 10 s window held 11). */
    tightest11PostsMs: number | null;
    rateLimited: number;
    failed: number;
    goal: number;
    met: boolean;
  };
  /**
   * The strict oracle (bench/README.md, "How the fleet is judged"): each change's latency until a message in its own
   * revision's thread shows it or a later change, per kind, beside the pacing floor (an ideal scheduler under Slack's
   * limits on the same schedule of changes). Latencies in ms; an unshown change is infinite (null in the JSON).
   */
  strict: StrictFleetResult;
  /** The lenient oracle this bench used before (a reply key anywhere, or a card with the words): kept to compare. */
  priority: Summary & {
    unshown: number; byType: Record<string, number>; viaReply: number; viaCard: number; goalMs: number; met: boolean;
    /** Split by whether the thread's root card was already in Slack when the event happened. */
    rootAlreadyPosted: { n: number; p99: number };
    rootNotYetPosted: { n: number; p99: number };
  };
  rss: { peakMb: number; peakDuringLoadMb: number; idleMb: number; goalMb: number; met: boolean };
  bot: {
    cpuPercentDuringLoad: number; warnLines: number; sampleWarn: string[]; queueDepthAtStop: number | null; storeMbAtEnd: number;
    /** What the bot wrote to disk during the load (/proc/<pid>/io write_bytes). */
    diskWriteMbDuringLoad: number | null;
    /** The same per rollout change the driver made (goal ≤ 10 KB). */
    diskWriteKbPerChange: number | null;
  };
  /** Every 5 s from the start of the load: RSS and heap of the bot, final states shown so far, outbox depth. */
  timeline: Array<{ t: number; rssMb: number; heapMb: number | null; shown: number; cards: number; queue: number | null }>;
}

export interface StrictFleetResult {
  changes: number;
  unshown: number;
  byKind: Partial<Record<ChangeKind, { measured: LatencySummary; floor: LatencySummary }>>;
  /** Seconds after the load stopped until every final state was shown (card's current version or thread's last reply). */
  finalState: { allShownS: number | null; notShown: number; floorS: number | null; goalS: number; met: boolean };
  floor: { limits: SlackLimits; posts: number; updates: number };
  /** Measured step p50 over the floor's, and each goal. */
  goals: { stepP50Ratio: number | null; stepMet: boolean; priorityMet: boolean; revisionMet: boolean; noneUnshown: boolean; finalMet: boolean };
  orphanReplies: number;
  misplacedReplies: number;
}

const roundSummary = (x: LatencySummary): LatencySummary => ({ n: x.n, unshown: x.unshown, p50: round(x.p50), p99: round(x.p99), max: round(x.max) });

/** The strict figures of a fleet run: measured against the recorded Slack calls, and the pacing floor. */
function judgeStrict(o: { changes: FleetChange[]; index: SlackIndex; currentThreads: string[]; stop: number }): StrictFleetResult {
  const { changes, index, stop } = o;
  const latencies = judgeChanges(changes, index.threadMessages);
  const floor = simulatePacingFloor(changes.map((c) => ({ at: c.at, channel: c.channel, threadKey: c.threadKey, priority: PRIORITY_KINDS.has(c.kind) })));
  const floorLat = floor.shownAt.map((t, i) => (t === undefined ? undefined : t - changes[i]!.at));
  const measured = summarizeByKind(changes, latencies);
  const floored = summarizeByKind(changes, floorLat);
  const byKind: StrictFleetResult['byKind'] = {};
  for (const [kind, m] of Object.entries(measured) as Array<[ChangeKind, LatencySummary]>) byKind[kind] = { measured: roundSummary(m), floor: roundSummary(floored[kind]!) };

  // Final states: the last change of each rollout's current thread.
  const last = new Map<string, number>();
  changes.forEach((c, i) => last.set(c.threadKey, i));
  let allShown: number | null = 0;
  let floorAll: number | null = 0;
  let notShown = 0;
  for (const thread of o.currentThreads) {
    const i = last.get(thread);
    if (i === undefined) continue;
    const at = finalShownAt(changes[i]!.level, index.threadMessages.get(thread) ?? []);
    if (at === undefined) {
      notShown++;
      allShown = null;
    } else if (allShown !== null) allShown = Math.max(allShown, Math.max(0, at - stop) / 1000);
    const f = floor.shownAt[i];
    floorAll = f === undefined || floorAll === null ? null : Math.max(floorAll, Math.max(0, f - stop) / 1000);
  }
  const all = summarizeLatencies(latencies);
  const step = byKind.step;
  const stepP50Ratio = step && step.floor.p50 > 0 ? round(step.measured.p50 / step.floor.p50) : null;
  const finalMet = allShown !== null && allShown <= 60;
  return {
    changes: changes.length,
    unshown: all.unshown,
    byKind,
    finalState: { allShownS: allShown === null ? null : round(allShown), notShown, floorS: floorAll === null ? null : round(floorAll), goalS: 60, met: finalMet },
    floor: { limits: SLACK_LIMITS, posts: floor.posts, updates: floor.updates },
    goals: {
      stepP50Ratio,
      stepMet: step === undefined || (stepP50Ratio !== null && stepP50Ratio <= 1.2),
      priorityMet: [...PRIORITY_KINDS].every((k) => (byKind[k]?.measured.p99 ?? 0) <= 2000),
      revisionMet: (byKind.revision?.measured.p99 ?? 0) <= 5000,
      noneUnshown: all.unshown === 0,
      finalMet,
    },
    orphanReplies: index.orphanReplies,
    misplacedReplies: index.misplacedReplies,
  };
}

/** Writes what a run did, for diagnosis (BENCH_FLEET_DUMP=<file>): not part of the results. */
async function dumpFleet(file: string, o: { changes: FleetChange[]; index: SlackIndex; stop: number; calls: SlackCall[] }): Promise<void> {
  const latencies = judgeChanges(o.changes, o.index.threadMessages);
  const calls = o.calls
    .filter((c) => c.method === 'chat.postMessage' || c.method === 'chat.update')
    .map((c) => {
      const a = c.args as { channel?: string; thread_ts?: string; ts?: string; metadata?: { event_payload?: { key?: string } } };
      return { at: c.at, method: c.method, channel: a.channel, threadTs: a.thread_ts, ts: a.ts ?? (c.response as { ts?: string } | undefined)?.ts, keys: a.metadata?.event_payload?.key };
    });
  await writeFile(file, JSON.stringify({ stop: o.stop, changes: o.changes.map((c, i) => ({ ...c, latency: latencies[i] ?? null })), messages: Object.fromEntries(o.index.threadMessages), calls }));
}

/** Reads gauges/counters (summed over labels) from the bot's /metrics; null for each one it could not read. */
async function metrics(url: string, names: string[]): Promise<Array<number | null>> {
  let text = '';
  try {
    text = await (await fetch(`${url}/metrics`)).text();
  } catch {
    return names.map(() => null);
  }
  return names.map((name) => {
    const values = [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'gm'))].map((m) => Number(m[1]));
    return values.length ? values.reduce((a, b) => a + b, 0) : null;
  });
}

const QUEUE = 'rollout_chatops_delivery_queue_depth';
const HEAP = 'rollout_chatops_nodejs_heap_size_used_bytes';
const UPDATES = 'rollout_chatops_rollout_updates_total';
const FOLDED = 'rollout_chatops_replies_folded_total';

/**
 * A fleet of `apps × envs` rollouts under `rate` status changes per second for `loadMs`, through the real bot process
 * (`node dist/main.js`, Slack pacing at its real defaults) and the Kubernetes and Slack emulators.
 */
export async function measureFleet(root: string, o: FleetOptions): Promise<FleetResult> {
  const rollouts = o.apps * o.envs;
  const config = fleetConfig(o);
  const repos = Array.from({ length: o.apps }, (_, i) => repoOf(i));
  const world = await startWorld({ config, repos });
  if (o.databaseUrl) world.botEnv.DATABASE_URL = o.databaseUrl;
  const problems: string[] = [];
  const parsed = parseConfigText(config, 'fleet', problems);
  if (!parsed) throw new Error(`fleet config: ${problems.join('; ')}`);
  const driver = new FleetDriver(world, new Catalog(parsed), o, prng(o.seed));
  driver.create();

  const args = [...botNodeFlags(), ...(o.profileDir ? ['--cpu-prof', '--cpu-prof-dir', o.profileDir] : []), path.join(root, 'dist/main.js')];
  const t0 = Date.now();
  const bot = startNode(args, world.botEnv, root);
  const rss = new RssSampler(bot.pid).start();
  try {
    const url = `http://127.0.0.1:${await bot.port}`;
    if (!(await pollUntil(async () => (await getStatus(`${url}/readyz`)) === 200, 60_000, 100))) throw new Error(`bot not ready after 60 s:\n${bot.tail()}`);
    // Ready means listed; wait until every initial object has been taken in too.
    await pollUntil(async () => ((await metrics(url, [UPDATES]))[0] ?? 0) >= rollouts, 30_000, 200);
    const readyS = (Date.now() - t0) / 1000;
    await new Promise((r) => setTimeout(r, 1000));
    const idleRssMb = readMemory(bot.pid)?.rssMb ?? Number.NaN;

    const index = new SlackIndex(world.slack.calls);
    const timeline: FleetResult['timeline'] = [];
    const cpu0 = readCpuMs(bot.pid) ?? 0;
    const io0 = readWriteBytes(bot.pid);
    const loadStart = Date.now();
    const sampleTimeline = async () => {
      const [queue = null, heap = null] = await metrics(url, [QUEUE, HEAP]);
      index.refresh();
      const { shown, cards } = shownCounts();
      timeline.push({
        t: round((Date.now() - loadStart) / 1000), rssMb: round(readMemory(bot.pid)?.rssMb ?? Number.NaN),
        heapMb: heap === null ? null : round(heap / 2 ** 20), shown, cards, queue,
      });
      return queue;
    };
    const shownCounts = () => {
      let shown = 0;
      let cards = 0;
      for (const r of driver.recs) {
        const s = shownState(r.oracle);
        if (s.card) cards++;
        if (s.card || s.thread) shown++;
      }
      return { shown, cards };
    };
    const shownState = (or: (typeof driver.recs)[number]['oracle']) => {
      if (!or.threadKey) return { card: true, thread: true };
      const card = index.cards.get(or.threadKey);
      const cardOk = card !== undefined && card.text === or.expectedCardText();
      const threadOk = card !== undefined && (or.lastReplyKey ? index.replyKeys.has(or.lastReplyKey) : cardOk);
      return { card: cardOk, thread: threadOk };
    };
    const sampler = setInterval(() => void sampleTimeline(), 5000);
    const drive = await driver.run(o.rate, o.loadMs);
    clearInterval(sampler);
    const cpu1 = readCpuMs(bot.pid) ?? 0;
    const io1 = readWriteBytes(bot.pid);
    const queueDepthAtStop = await sampleTimeline();
    // The strict final states the drain also waits for: each current thread's last change, at its level.
    const changes = driver.changes();
    const finalLevel = new Map<string, number>();
    for (const c of changes) finalLevel.set(c.threadKey, c.level);
    const strictFinalsShown = () => driver.recs.every((r) => {
      const thread = r.oracle.threadKey;
      const level = thread === undefined ? undefined : finalLevel.get(thread);
      return level === undefined || finalShownAt(level, index.threadMessages.get(thread!) ?? []) !== undefined;
    });

    // Drain: until every final state shows on its card; or, once every one shows somewhere (card or thread), long
    // enough to see how fast the cards catch up; or the cap.
    const stop = drive.stoppedAt;
    let lastSample = Date.now();
    let allShownSeenAt: number | undefined;
    await pollUntil(async () => {
      index.refresh();
      if (Date.now() - lastSample >= 5000) {
        lastSample = Date.now();
        await sampleTimeline();
      }
      const states = driver.recs.map((r) => shownState(r.oracle));
      if (states.every((x) => x.card)) return true;
      if (states.every((x) => x.card || x.thread) && strictFinalsShown()) allShownSeenAt ??= Date.now();
      return allShownSeenAt !== undefined && Date.now() - allShownSeenAt >= o.observeCardsMs;
    }, o.drainCapMs, 250);
    const waitedS = (Date.now() - stop) / 1000;
    const [folded = null] = await metrics(url, [FOLDED]);
    index.refresh();
    await sampleTimeline();
    const hwm = readMemory(bot.pid)?.hwmMb ?? Number.NaN;
    let storeMb = Number.NaN;
    try {
      storeMb = (await dirBytes(world.botEnv.DATA_DIR!)) / 2 ** 20;
    } catch {
      // no store file yet
    }

    // When did each final state first show? Exact, from the recorded call times.
    const touched = driver.recs.filter((r) => r.oracle.threadKey);
    let allShown: number | null = 0;
    let threads: number | null = 0;
    let cardsAt: number | null = 0;
    let notShownAtEnd = 0;
    let cardsStale = 0;
    for (const r of touched) {
      const or = r.oracle;
      const expected = or.expectedCardText();
      const history = index.cardHistory.get(or.threadKey!) ?? [];
      // The card shows the final state from the first write of that text that is never overwritten by another.
      let cardAt: number | undefined;
      for (const h of history) {
        if (h.text === expected) cardAt ??= h.at;
        else cardAt = undefined;
      }
      const rootAt = index.cards.get(or.threadKey!)?.postedAt;
      const replyAt = or.lastReplyKey ? index.replyKeys.get(or.lastReplyKey) : undefined;
      const threadAt = rootAt === undefined ? undefined : or.lastReplyKey ? (replyAt === undefined ? undefined : Math.max(rootAt, replyAt)) : cardAt;
      const anyAt = [cardAt, threadAt].filter((v): v is number => v !== undefined).reduce((m, v) => Math.min(m, v), Infinity);
      const after = (at: number | undefined) => (at === undefined || at === Infinity ? null : Math.max(0, at - stop) / 1000);
      const fold = (acc: number | null, v: number | null) => (acc === null || v === null ? null : Math.max(acc, v));
      allShown = fold(allShown, after(anyAt));
      threads = fold(threads, after(threadAt));
      cardsAt = fold(cardsAt, after(cardAt));
      if (anyAt === Infinity) notShownAtEnd++;
      if (cardAt === undefined) cardsStale++;
    }

    // How fast cards catch up once the load stopped (chat.update is paced workspace-wide).
    const updatesAfterStop = index.updates.filter((t) => t > stop).length;
    const cardUpdatesPerSecAfterLoad = updatesAfterStop / Math.max(1, waitedS);
    const projectedAllCardsS = cardsAt !== null ? cardsAt : cardUpdatesPerSecAfterLoad > 0 ? waitedS + cardsStale / cardUpdatesPerSecAfterLoad : null;

    // Priority events: the first Slack call that shows each (its reply, or a card carrying the new state).
    const lat: number[] = [];
    const latRootBefore: number[] = [];
    const latRootAfter: number[] = [];
    const byType: Record<string, number> = {};
    let unshown = 0;
    let viaReply = 0;
    let viaCard = 0;
    for (const ev of driver.priority) {
      byType[ev.type] = (byType[ev.type] ?? 0) + 1;
      const replyAt = index.replyKeys.get(ev.key);
      const cardAt = (index.cardHistory.get(ev.threadKey) ?? []).find((h) => h.at >= ev.at && showsPriority(ev.type, h.text))?.at;
      const at = Math.min(replyAt ?? Infinity, cardAt ?? Infinity);
      if (at === Infinity) {
        unshown++;
        continue;
      }
      if (at === replyAt) viaReply++;
      else viaCard++;
      lat.push(at - ev.at);
      const rootAt = index.cards.get(ev.threadKey)?.postedAt;
      (rootAt !== undefined && rootAt <= ev.at ? latRootBefore : latRootAfter).push(at - ev.at);
    }
    // An event never shown counts as slower than any shown one.
    const latSummary = summarize([...lat, ...Array<number>(unshown).fill(Number.POSITIVE_INFINITY)]);

    // Posts per channel: the worst 10 s window of any channel.
    let maxPosts = 0;
    let postsDuringLoad = 0;
    let total = 0;
    let tightest11 = Infinity;
    for (const [, times] of index.postsByChannel) {
      maxPosts = Math.max(maxPosts, maxInWindow(times, 10_000));
      for (let i = 0; i + 10 < times.length; i++) tightest11 = Math.min(tightest11, times[i + 10]! - times[i]!);
      postsDuringLoad += times.filter((t) => t >= drive.startedAt && t <= stop).length;
      total += times.length;
    }
    const channels = o.apps;
    const loadS = (stop - drive.startedAt) / 1000;
    const maxPerChannel10s = maxPosts / 10;

    const strict = judgeStrict({ changes, index, currentThreads: touched.map((r) => r.oracle.threadKey!), stop });
    // For looking into a run: every change with its latency, every thread's messages, every post and update.
    if (process.env.BENCH_FLEET_DUMP) await dumpFleet(process.env.BENCH_FLEET_DUMP, { changes, index, stop, calls: world.slack.calls });

    const botWarn = bot.problemCount();
    const result: FleetResult = {
      rollouts,
      store: o.databaseUrl ? 'postgres' : 'embedded',
      channels,
      rate: o.rate,
      loadSeconds: round(loadS),
      drive: { writes: drive.writes, deploys: drive.deploys, promotions: drive.promotions, aborts: drive.aborts, ticks: drive.ticks, driverBusyMs: drive.driverBusyMs, writesPerSec: round(drive.writes / loadS) },
      startup: { readyS: round(readyS), idleRssMb: round(idleRssMb) },
      touched: touched.length,
      demand: (() => {
        const replies = driver.recs.reduce((n, r) => n + r.oracle.replies, 0);
        const roots = driver.recs.reduce((n, r) => n + r.oracle.roots, 0);
        return { replies, roots, perChannelPerSec: round((replies + roots) / channels / loadS) };
      })(),
      finalState: {
        allShownS: allShown === null ? null : round(allShown),
        threadsS: threads === null ? null : round(threads),
        cardsS: cardsAt === null ? null : round(cardsAt),
        notShownAtEnd,
        cardsStaleAtEnd: cardsStale,
        rootsPosted: index.cards.size,
        cardUpdatesPerSecAfterLoad: round(cardUpdatesPerSecAfterLoad),
        projectedAllCardsS: projectedAllCardsS === null ? null : round(projectedAllCardsS),
        waitedS: round(waitedS),
        goalS: 60,
        met: allShown !== null && allShown <= 60,
      },
      posts: {
        maxPerChannel10s: round(maxPerChannel10s),
        meanPerChannelDuringLoad: round(postsDuringLoad / channels / loadS),
        total,
        updates: index.updates.length,
        maxUpdatesPerSec10s: round(maxInWindow(index.updates, 10_000) / 10),
        maxUpdatesPerMinute: maxInWindow(index.updates, 60_000),
        folded,
        tightest11PostsMs: Number.isFinite(tightest11) ? tightest11 : null,
        rateLimited: index.rateLimited,
        failed: index.failed,
        goal: 1,
        met: maxPerChannel10s <= 1,
      },
      priority: {
        ...latSummary,
        p50: round(latSummary.p50), p95: round(latSummary.p95), p99: round(latSummary.p99), max: round(latSummary.max), mean: round(summarize(lat).mean),
        unshown, byType, viaReply, viaCard, goalMs: 2000, met: latSummary.p99 <= 2000,
        rootAlreadyPosted: { n: latRootBefore.length, p99: round(summarize(latRootBefore).p99) },
        rootNotYetPosted: { n: latRootAfter.length, p99: round(summarize(latRootAfter).p99) },
      },
      rss: { peakMb: round(hwm), peakDuringLoadMb: round(rss.peakBetween(loadStart, Date.now())), idleMb: round(idleRssMb), goalMb: 200, met: hwm < 200 },
      bot: { cpuPercentDuringLoad: round(((cpu1 - cpu0) / (stop - loadStart)) * 100), warnLines: botWarn, sampleWarn: bot.problems.slice(0, 5), queueDepthAtStop, storeMbAtEnd: round(storeMb),
        diskWriteMbDuringLoad: io0 === undefined || io1 === undefined ? null : round((io1 - io0) / 2 ** 20),
        diskWriteKbPerChange: io0 === undefined || io1 === undefined || drive.writes === 0 ? null : round((io1 - io0) / 1024 / drive.writes) },
      strict,
      timeline,
    };
    return result;
  } finally {
    rss.stop();
    const stopped = await bot.stop(o.profileDir ? 120_000 : 20_000);
    if (stopped.killed || stopped.ms > 5_000) process.stderr.write(`[fleet] the bot took ${stopped.ms} ms to stop after SIGTERM${stopped.killed ? ' and was killed' : ''}\n`);
    await world.close();
  }
}

export { channelOf };
