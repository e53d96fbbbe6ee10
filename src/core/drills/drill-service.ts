import { rolloutName, type Catalog, type EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-types.js';
import { formatDuration } from '../text/duration.js';
import { judgeDrill, type DrillVerdict } from './judge-drill.js';
import type { Logger } from '../logger.js';
import { approverList, isApprover } from '../policy/approvers.js';
import type { Clock, RolloutCluster, Timer } from '../ports.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import { describePhase } from '../rollout/describe-state.js';
import { esc, link, who } from '../text/mrkdwn.js';
import { renderDrillReport } from './render-drill-report.js';
import { slackTime } from '../text/slack-time.js';
import { replyFor } from '../commands/reply-for.js';
import { isSlackUserId } from '../text/is-slack-user-id.js';
import type { DrillRecord, ThreadRecord } from '../store-data.js';
import { DEFAULT_ERROR_TTL_MS, type ErrorSwitch, type SwitchOutcome } from '../error-simulation/error-switch.js';
import { notConfigured } from '../error-simulation/not-configured.js';

/** A canary's default `timeout`. */
export const DEFAULT_CANARY_TIMEOUT_MS = 10 * 60_000;

export interface DrillServiceDeps {
  catalog: Catalog;
  stores: Pick<Stores, 'drills' | 'newId' | 'flush'>;
  /** The deploy threads a drill watches, replies in them, and the audit. */
  kernel: ThreadKernel;
  clock: Clock;
  log: Logger;
  /** A fresh read of the rollout before a drill starts. */
  cluster: RolloutCluster;
  /** The error simulation's switch (wired by the composition root). */
  errors: ErrorSwitch;
  permalink: (channel: string, ts: string) => string;
  /** Background work the app waits for on shutdown. */
  track?: (work: Promise<unknown>) => void;
  /** How often a running drill looks at its thread, in clock time (default 5 s); thread changes also trigger a look. */
  pollMs?: number;
}

/**
 * `/rollout drill <env> [app]`: a timed rollback drill on a canary in progress. Errors go on, the drill watches the deploy
 * thread (the observer keeps it current), and it passes when the analysis fails and the rollout aborts back to stable,
 * fails when the rollout completes or nothing decisive happens by the deadline. Either way errors go off and a report
 * goes in the thread. The drill is on record before errors go on, so a restart picks it up where it was.
 */
export class DrillService {
  private readonly timers = new Map<string, Timer>();
  private readonly checks = new Map<string, Promise<void>>();
  /** Drills whose thread changed while a check of theirs was running. */
  private readonly again = new Set<string>();
  /** Drills whose errors are being switched on right now: not judged until that is done. */
  private readonly starting = new Set<string>();
  /** Environments whose drill is being put on record right now (by whom): a second ask meanwhile is refused. */
  private readonly opening = new Map<string, string>();
  private stopped = false;

  constructor(private readonly deps: DrillServiceDeps) {}

  /** Handles `/rollout drill` from Slack or a GitHub comment. */
  async command(o: { target: EnvTarget; ctx: CommandContext }): Promise<CommandReply> {
    const { target, ctx } = o;
    const answer = (text: string): CommandReply => replyFor(ctx, text);
    const name = `${esc(target.app.name)} ${esc(target.env.name)}`;
    const sim = target.env.errorSimulation;
    if (!sim) return answer(`${notConfigured(target, this.deps.catalog)} A drill needs it to make the canary fail.`);
    if (!isApprover(target, ctx)) return answer(`🚫 A drill switches errors on, so only approvers of ${name} may start one: ${approverList(target)}.`);
    const running = await this.runningIn(target);
    if (running) return answer(`⏳ A drill is already running in ${name} (started by ${who(running.startedBy)} at ${slackTime(running.startedAt)}); its report follows in the deploy thread.`);

    let state;
    try {
      state = await this.deps.cluster.get(target.env.namespace, rolloutName(target), target.env.cluster);
    } catch (err) {
      return answer(`⚠️ I could not read the rollout \`${esc(target.env.namespace)}/${esc(rolloutName(target))}\` (${esc((err as Error).message)}), so no drill was started.`);
    }
    if (!state) return answer(`🤷 Rollout \`${esc(target.env.namespace)}/${esc(rolloutName(target))}\` does not exist, so there is nothing to drill.`);
    if (state.strategy !== 'canary') return answer(`🚫 Drills need a canary rollout; ${name} uses ${state.strategy === 'blueGreen' ? 'blue-green' : 'an unknown strategy'}.`);
    const thread = await this.deps.kernel.current(target);
    const inProgress = !state.fullyPromoted && !state.aborted && thread !== undefined && !thread.outcome && thread.revision === state.revision;
    if (!inProgress) {
      return answer(`🤷 No canary in progress in ${name} (${esc(describePhase(state))}${state.aborted ? ', aborted' : ''}). A drill needs a deploy in its canary steps: deploy a new tag, then run \`/rollout drill ${target.env.name}\` while it runs.`);
    }

    // Checked again, then claimed with no await in between until the record is stored: two drills asked for at once start one.
    const by = ctx.source === 'github' ? `@${ctx.user} (GitHub)` : ctx.user;
    const raced = (await this.runningIn(target))?.startedBy ?? this.opening.get(target.key);
    if (raced !== undefined) return answer(`⏳ A drill is already running in ${name} (started by ${who(raced)}); its report follows in the deploy thread.`);
    this.opening.set(target.key, by);
    const { stores, clock } = this.deps;
    const now = clock.now();
    const timeout = target.env.timeout ?? DEFAULT_CANARY_TIMEOUT_MS;
    const ttl = sim.ttl ?? DEFAULT_ERROR_TTL_MS;
    let drill: DrillRecord;
    try {
      drill = await this.open(target, { by, now, threadKey: thread.key, deadline: now + Math.min(timeout, ttl) });
    } finally {
      this.opening.delete(target.key);
    }
    this.starting.add(drill.id);
    await this.commit();

    let on: SwitchOutcome;
    try {
      on = await this.deps.errors.switchOn(target, { by, source: ctx.source, why: 'drill', drillId: drill.id });
      if (on.ok) {
        drill = { ...drill, errorsOnAt: clock.now(), ...(on.changed ? {} : { errorsWereOn: true }) };
        await stores.drills.set(drill.id, drill);
      }
    } finally {
      this.starting.delete(drill.id);
    }
    if (!on.ok) {
      drill = { ...drill, status: 'failed', verdict: `errors could not be switched on: ${on.error}`, finishedAt: clock.now() };
      await stores.drills.set(drill.id, drill);
      // A toggle went out and the state is unknown: switching off reads first, so it only toggles if they are on.
      if (on.posted) await this.deps.errors.switchOff(target, { by: 'drill', source: 'schedule', why: 'drill' });
      await this.deps.kernel.reply(thread, `drill:${drill.id}:nostart`, `🧯 Rollback drill by ${who(by)} did not start: errors could not be switched on (${esc(on.error)}).`, 'high');
      await this.commit();
      return answer(`⚠️ The drill did not start: errors could not be switched on in ${name} (${esc(on.error)}).`);
    }
    const capped = ttl < timeout ? ` (the errors TTL, shorter than the ${formatDuration(timeout)} timeout)` : '';
    await this.deps.kernel.reply(
      thread,
      `drill:${drill.id}:start`,
      `🧯 *Rollback drill* started by ${who(by)}: errors are *on*${drill.errorsWereOn ? ' (they already were)' : ''}. It passes when the analysis fails and the rollout aborts back to stable by ${slackTime(drill.deadline)}${capped}; errors go off either way and the report follows here.`,
      'high',
    );
    await this.commit();
    this.arm(drill);
    this.schedule(drill.id);
    const where = thread.rootTs ? ` in ${link(this.deps.permalink(thread.channel, thread.rootTs), 'the deploy thread')}` : '';
    return answer(`🧯 Rollback drill started in ${name}: errors are on. Follow it${where || ' in the deploy thread'}; it ends by ${slackTime(drill.deadline)} at the latest.`);
  }

  /** Observer hook: a thread changed, so a drill watching it looks now rather than at its next poll. */
  onThreadChanged(o: { thread: ThreadRecord }): void {
    const key = o.thread.key;
    const work = this.running().then((running) => {
      for (const d of running) if (d.threadKey === key) this.schedule(d.id);
    });
    this.deps.track?.(work.catch((err: unknown) => this.deps.log.error({ err, thread: key }, 'drill lookup failed')));
  }

  /** Picks up drills that were running when the bot stopped. */
  async resume(): Promise<void> {
    for (const d of await this.running()) {
      this.arm(d);
      this.schedule(d.id);
    }
  }

  /** Looks at every running drill (the periodic sweep's backstop for lost timers). */
  async checkAll(): Promise<void> {
    const running = await this.running();
    for (const d of running) this.schedule(d.id);
    await Promise.allSettled(running.map((d) => this.checks.get(d.id)));
  }

  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    await Promise.allSettled([...this.checks.values()]);
  }

  /** Runs one check of a drill; checks of one drill never overlap, and a change seen during one gets another. */
  private schedule(id: string): void {
    if (this.stopped || this.starting.has(id)) return;
    if (this.checks.has(id)) {
      this.again.add(id);
      return;
    }
    const work = this.check(id)
      .catch((err: unknown) => this.deps.log.error({ err, drill: id }, 'drill check failed'))
      .finally(() => {
        this.checks.delete(id);
        if (this.again.delete(id)) this.schedule(id);
      });
    this.checks.set(id, work);
    this.deps.track?.(work);
  }

  /** The next look: at the poll interval, or at the deadline when that comes first. */
  private arm(d: DrillRecord): void {
    if (this.stopped) return;
    this.timers.get(d.id)?.cancel();
    const ms = Math.max(0, Math.min(this.deps.pollMs ?? 5000, d.deadline - this.deps.clock.now()));
    this.timers.set(d.id, this.deps.clock.setTimer(ms, () => {
      this.timers.delete(d.id);
      const work = this.deps.stores.drills.get(d.id).then((current) => {
        if (!current || current.status !== 'running') return;
        this.schedule(d.id);
        this.arm(current);
      });
      this.deps.track?.(work.catch((err: unknown) => this.deps.log.error({ err, drill: d.id }, 'drill check failed')));
    }));
  }

  private async check(id: string): Promise<void> {
    const { stores, kernel, clock } = this.deps;
    const stored = await stores.drills.get(id);
    if (!stored || stored.status !== 'running') return;
    const d = { ...stored };
    const thread = await kernel.byKey(d.threadKey);
    const before = JSON.stringify(d);
    // A verdict on record means a previous run decided but did not finish (errors off, report): finish it.
    let decided: DrillVerdict | undefined = d.decision ? { status: d.decision, verdict: d.verdict ?? '' } : judgeDrill(d, thread, clock.now());
    if (!decided && d.errorsOnAt !== undefined && !(await this.deps.errors.mayBeOn(`${d.app}/${d.env}`))) {
      // Someone (or the TTL) switched errors off: what follows says nothing about the analysis any more.
      decided = { status: 'failed', verdict: 'errors were switched off before the rollout aborted or completed' };
    }
    if (!decided) {
      if (JSON.stringify(d) !== before) {
        await stores.drills.set(id, d);
        await stores.flush();
      }
      return;
    }
    await this.finish(d, decided);
  }

  private async finish(d: DrillRecord, v: DrillVerdict): Promise<void> {
    const { stores, kernel, clock, catalog } = this.deps;
    d.decision = v.status;
    d.verdict = v.verdict;
    await stores.drills.set(d.id, d);
    await stores.flush();
    this.timers.get(d.id)?.cancel();
    this.timers.delete(d.id);
    const target = catalog.target(d.app, d.env);
    if (target && d.errorsOffAt === undefined) {
      const off = await this.deps.errors.switchOff(target, { by: 'drill', source: 'schedule', why: 'drill' });
      if (off.ok) d.errorsOffAt = clock.now();
      else d.errorsOffError = off.error;
    }
    d.status = v.status;
    d.finishedAt = clock.now();
    await stores.drills.set(d.id, d);
    const thread = (await kernel.byKey(d.threadKey)) ?? (target ? await kernel.current(target) : undefined);
    if (thread) await kernel.reply(thread, `drill:${d.id}:report`, renderDrillReport(d), 'high');
    await kernel.record({
      target: { app: { name: d.app }, env: { name: d.env } },
      actor: { who: d.startedBy, source: isSlackUserId(d.startedBy) ? 'slack' : 'github' },
      action: 'drill',
      result: `${v.status}: ${v.verdict}`,
      thread: { key: d.threadKey },
    });
    await this.commit();
  }

  /** Puts a new running drill on record. */
  private async open(target: EnvTarget, o: { by: string; now: number; threadKey: string; deadline: number }): Promise<DrillRecord> {
    const drill: DrillRecord = {
      id: await this.deps.stores.newId('d', o.now),
      app: target.app.name,
      env: target.env.name,
      threadKey: o.threadKey,
      startedBy: o.by,
      startedAt: o.now,
      // Errors never stay on past their TTL, so the drill cannot outlast it either.
      deadline: o.deadline,
      status: 'running',
    };
    await this.deps.stores.drills.set(drill.id, drill);
    return drill;
  }

  private async running(): Promise<DrillRecord[]> {
    return (await this.deps.stores.drills.all()).map(([, d]) => d).filter((d) => d.status === 'running');
  }

  private async runningIn(target: EnvTarget): Promise<DrillRecord | undefined> {
    return (await this.running()).find((d) => d.app === target.app.name && d.env === target.env.name);
  }

  private async commit(): Promise<void> {
    await this.deps.kernel.commit();
  }
}
