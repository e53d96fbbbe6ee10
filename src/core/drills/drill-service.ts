import type { Catalog, EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-service.js';
import { formatDuration } from '../text/duration.js';
import { judgeDrill, type DrillVerdict } from './judge-drill.js';
import type { Logger } from '../logger.js';
import { approverList, isApprover } from '../policy/approvers.js';
import type { Clock, RolloutCluster, StateStore, Timer } from '../ports.js';
import { describePhase } from '../rollout/describe-state.js';
import { esc, link, who } from '../text/mrkdwn.js';
import { renderDrillReport } from './render-drill-report.js';
import { slackTime } from '../text/slack-time.js';
import { replyFor } from '../commands/reply-for.js';
import { isSlackUserId } from '../text/is-slack-user-id.js';
import type { DrillRecord, Priority, ThreadRecord } from '../store-data.js';
import { DEFAULT_ERROR_TTL_MS, notConfigured, type ErrorSimulationService, type SwitchOutcome } from '../error-simulation/error-simulation-service.js';

/** A canary's default `timeout`. */
export const DEFAULT_CANARY_TIMEOUT_MS = 10 * 60_000;

export interface DrillServiceDeps {
  catalog: Catalog;
  store: StateStore;
  clock: Clock;
  log: Logger;
  /** A fresh read of the rollout before a drill starts. */
  cluster: RolloutCluster;
  errors: ErrorSimulationService;
  /** Queues a reply in a deploy thread, once per key. */
  reply: (thread: ThreadRecord, key: string, text: string, priority: Priority) => void;
  onChange: () => void;
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
    const running = this.runningIn(target);
    if (running) return answer(`⏳ A drill is already running in ${name} (started by ${who(running.startedBy)} at ${slackTime(running.startedAt)}); its report follows in the deploy thread.`);

    let state;
    try {
      state = await this.deps.cluster.get(target.env.namespace, target.env.rollout);
    } catch (err) {
      return answer(`⚠️ I could not read the rollout \`${esc(target.env.namespace)}/${esc(target.env.rollout)}\` (${esc((err as Error).message)}), so no drill was started.`);
    }
    if (!state) return answer(`🤷 Rollout \`${esc(target.env.namespace)}/${esc(target.env.rollout)}\` does not exist, so there is nothing to drill.`);
    if (state.strategy !== 'canary') return answer(`🚫 Drills need a canary rollout; ${name} uses ${state.strategy === 'blueGreen' ? 'blue-green' : 'an unknown strategy'}.`);
    const thread = this.currentThread(target);
    const inProgress = !state.fullyPromoted && !state.aborted && thread !== undefined && !thread.outcome && thread.revision === state.revision;
    if (!inProgress) {
      return answer(`🤷 No canary in progress in ${name} (${esc(describePhase(state))}${state.aborted ? ', aborted' : ''}). A drill needs a deploy in its canary steps: deploy a new tag, then run \`/rollout drill ${target.env.name}\` while it runs.`);
    }

    // Checked again with no await before the record: two drills asked for at once start one.
    const raced = this.runningIn(target);
    if (raced) return answer(`⏳ A drill is already running in ${name} (started by ${who(raced.startedBy)}); its report follows in the deploy thread.`);
    const { store, clock } = this.deps;
    const now = clock.now();
    const timeout = target.env.timeout ?? DEFAULT_CANARY_TIMEOUT_MS;
    const ttl = sim.ttl ?? DEFAULT_ERROR_TTL_MS;
    const by = ctx.source === 'github' ? `@${ctx.user} (GitHub)` : ctx.user;
    const drill: DrillRecord = {
      id: `d${now.toString(36)}${store.data.seq++}`,
      app: target.app.name,
      env: target.env.name,
      threadKey: thread.key,
      startedBy: by,
      startedAt: now,
      // Errors never stay on past their TTL, so the drill cannot outlast it either.
      deadline: now + Math.min(timeout, ttl),
      status: 'running',
    };
    (store.data.drills ??= {})[drill.id] = drill;
    this.starting.add(drill.id);
    await this.commit();

    let on: SwitchOutcome;
    try {
      on = await this.deps.errors.switchOn(target, { by, source: ctx.source, why: 'drill', drillId: drill.id });
      if (on.ok) {
        drill.errorsOnAt = clock.now();
        if (!on.changed) drill.errorsWereOn = true;
      }
    } finally {
      this.starting.delete(drill.id);
    }
    if (!on.ok) {
      drill.status = 'failed';
      drill.verdict = `errors could not be switched on: ${on.error}`;
      drill.finishedAt = clock.now();
      // A toggle went out and the state is unknown: switching off reads first, so it only toggles if they are on.
      if (on.posted) await this.deps.errors.switchOff(target, { by: 'drill', source: 'schedule', why: 'drill' });
      this.deps.reply(thread, `drill:${drill.id}:nostart`, `🧯 Rollback drill by ${who(by)} did not start: errors could not be switched on (${esc(on.error)}).`, 'high');
      await this.commit();
      return answer(`⚠️ The drill did not start: errors could not be switched on in ${name} (${esc(on.error)}).`);
    }
    const capped = ttl < timeout ? ` (the errors TTL, shorter than the ${formatDuration(timeout)} timeout)` : '';
    this.deps.reply(
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
    for (const d of Object.values(this.deps.store.data.drills ?? {})) {
      if (d.status === 'running' && d.threadKey === o.thread.key) this.schedule(d.id);
    }
  }

  /** Picks up drills that were running when the bot stopped. */
  resume(): void {
    for (const d of Object.values(this.deps.store.data.drills ?? {})) {
      if (d.status !== 'running') continue;
      this.arm(d);
      this.schedule(d.id);
    }
  }

  /** Looks at every running drill (the periodic sweep's backstop for lost timers). */
  checkAll(): Promise<void> {
    const running = Object.values(this.deps.store.data.drills ?? {}).filter((d) => d.status === 'running');
    for (const d of running) this.schedule(d.id);
    return Promise.allSettled(running.map((d) => this.checks.get(d.id))).then(() => undefined);
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
      const current = this.deps.store.data.drills?.[d.id];
      if (!current || current.status !== 'running') return;
      this.schedule(d.id);
      this.arm(current);
    }));
  }

  private async check(id: string): Promise<void> {
    const { store, clock } = this.deps;
    const d = store.data.drills?.[id];
    if (!d || d.status !== 'running') return;
    const thread = store.data.threads[d.threadKey];
    const before = JSON.stringify(d);
    // A verdict on record means a previous run decided but did not finish (errors off, report): finish it.
    let decided: DrillVerdict | undefined = d.decision ? { status: d.decision, verdict: d.verdict ?? '' } : judgeDrill(d, thread, clock.now());
    if (!decided && d.errorsOnAt !== undefined && !store.data.errorSims?.[`${d.app}/${d.env}`]) {
      // Someone (or the TTL) switched errors off: what follows says nothing about the analysis any more.
      decided = { status: 'failed', verdict: 'errors were switched off before the rollout aborted or completed' };
    }
    if (!decided) {
      if (JSON.stringify(d) !== before) await store.flush();
      return;
    }
    await this.finish(d, decided);
  }

  private async finish(d: DrillRecord, v: DrillVerdict): Promise<void> {
    const { store, clock, catalog } = this.deps;
    d.decision = v.status;
    d.verdict = v.verdict;
    await store.flush();
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
    const thread = store.data.threads[d.threadKey] ?? (target ? this.currentThread(target) : undefined);
    if (thread) this.deps.reply(thread, `drill:${d.id}:report`, renderDrillReport(d), 'high');
    store.data.audit.push({
      at: d.finishedAt,
      who: d.startedBy,
      source: isSlackUserId(d.startedBy) ? 'slack' : 'github',
      action: 'drill',
      app: d.app,
      env: d.env,
      result: `${v.status}: ${v.verdict}`,
      threadKey: d.threadKey,
    });
    await this.commit();
  }

  private runningIn(target: EnvTarget): DrillRecord | undefined {
    return Object.values(this.deps.store.data.drills ?? {}).find((d) => d.status === 'running' && d.app === target.app.name && d.env === target.env.name);
  }

  private currentThread(target: EnvTarget): ThreadRecord | undefined {
    const key = this.deps.store.data.envs[target.key]?.threadKey;
    return key ? this.deps.store.data.threads[key] : undefined;
  }

  private async commit(): Promise<void> {
    await this.deps.store.flush();
    this.deps.onChange();
  }
}
