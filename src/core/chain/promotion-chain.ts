import { ecrRepositoryOf, rolloutName, type Catalog, type EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-types.js';
import type { Logger } from '../logger.js';
import type { Clock, ImageRegistry, RepoHost, Timer } from '../ports.js';
import { describePhase, describeProgress, waitsForPromotion } from '../rollout/describe-state.js';
import { renderChain } from './render-chain.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { Confirmation, ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import type { DeployOffers } from '../promotion/deploy-offers.js';
import { dispatchDeploy, type DispatchClaim, type DispatchDeps, type DispatchOutcome } from './dispatch-deploy.js';
import { timeoutFor } from './plan-timeout.js';
import { timeoutDueAt } from './timeout-due-at.js';
import type { ConfirmationCards } from '../promotion/confirmation-cards.js';
import type { CardOutcome } from '../promotion/render-card-outcome.js';
import { offerDeploy } from './offer-deploy.js';
import { confirmDeploy } from './confirm-deploy.js';
import { completedDeploy, groupMembers } from '../rollout-threads/deploy-group.js';

export interface PromotionChainDeps extends Pick<DispatchDeps, 'locks'> {
  catalog: Catalog;
  stores: Stores;
  kernel: ThreadKernel;
  clock: Clock;
  log: Logger;
  registry: ImageRegistry;
  /** GitHub; without it no deploy can be dispatched. */
  repoHost?: RepoHost;
  permalink: (channel: string, ts: string) => string;
  /** The confirmation cards, shared with promotion: deploy offers change in place once decided, like promotions. */
  cards: ConfirmationCards;
  /** The longest gap between two timeout checks, a backstop for the timer armed at the next timeout (default 15 s). */
  sweepMs?: number;
  /** Counts sweeps. */
  onSweep?: () => void;
  /** A tag completed in the last environment of its chain (the whole way's report is posted). */
  onChainEnd?: (o: { thread: ThreadRecord; target: EnvTarget }) => Promise<void>;
}

/**
 * The chain between environments: a tag moves forward only once it completed in the environment before.
 * - `/promote <env>` with nothing paused and a `deploy` block offers to bring the previous environment's proven tag.
 * - With `deploy.auto`, a completed tag is dispatched to the next environment by itself (after the ECR check), never an
 *   aborted one, never skipping an environment. Blue-green staging then stops at its preview for a person.
 * - A deploy that takes longer than its environment's timeout gets one warning; waiting for a person does not count.
 */
export class PromotionChain implements DeployOffers {
  private timer: Timer | undefined;
  private armedAt = Infinity;
  private stopped = false;

  constructor(private readonly deps: PromotionChainDeps) {}

  /** Starts the timeout checks: a sweep now, then one at each deploy's timeout (and at least every `sweepMs`). */
  start(): void {
    this.stopped = false;
    this.schedule(this.deps.clock.now());
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  /** Arms the next sweep at `dueAt`, or at the backstop interval when that comes first. */
  private schedule(dueAt = Infinity): void {
    if (this.stopped) return;
    const now = this.deps.clock.now();
    const at = Math.min(dueAt, now + (this.deps.sweepMs ?? 15_000));
    this.timer?.cancel();
    this.armedAt = at;
    this.timer = this.deps.clock.setTimer(Math.max(0, at - now), () => {
      this.armedAt = Infinity;
      void this.sweep().catch((err: unknown) => this.deps.log.error({ err }, 'timeout sweep failed')).then((next) => this.schedule(next ?? Infinity));
    });
  }

  /** Observer hook: keeps waiting time, announces arrivals, runs the automatic chain on completion (not awaited). */
  async onThreadChanged(o: { thread: ThreadRecord; target: EnvTarget; state: RolloutState; events: string[] }): Promise<void> {
    const { thread, target, state, events } = o;
    const { threads } = this.deps.stores;
    await threads.trackWaiting(thread.key, { waiting: waitsForPromotion(state), now: this.deps.clock.now() });
    // The wait (or the deploy) may have started or ended: its timeout moves.
    const current = await threads.byKey(thread.key), due = current ? timeoutDueAt(current, target) : undefined;
    if (due !== undefined && due < this.armedAt) this.schedule(due);
    if (events.includes('deploy-started') && thread.tag) await this.announceArrival(thread, target);
    // A several-rollout deploy goes on once every rollout of it completed (its lead then stands for it).
    const done = events.includes('completed') && !state.aborted ? await completedDeploy(this.deps.stores, this.deps.catalog, thread) : {};
    const deploy = done.waitingFor ? undefined : done.lead;
    if (done.waitingFor && done.lead && this.deps.catalog.next(target)?.env.deploy?.auto) {
      // Its other rollouts have not deployed this commit: the chain waits for them and says so, once per rollout set.
      const text = renderChain({ kind: 'chain-waits', env: target.env.name, rollouts: done.waitingFor, next: this.deps.catalog.next(target)!.env.name });
      await this.deps.kernel.reply(done.lead, `chain-waits:${done.waitingFor.join('+')}`, text, 'normal');
    }
    if (deploy && (await threads.markOnce(deploy.key, 'chainHandled'))) {
      const next = this.deps.catalog.next(target);
      // The tag brought on: the one of the rollout the next environment lists first, when this deploy has it.
      const tag = next && deploy.group ? (await groupMembers(this.deps.stores, this.deps.catalog, deploy)).find((m) => m.rollout === rolloutName(next))?.tag ?? deploy.tag : deploy.tag;
      if (next?.env.deploy?.auto && tag) void this.autoDispatch(deploy, target, next, tag);
      if (!next && deploy.tag) void this.deps.onChainEnd?.({ thread: deploy, target }).catch((err: unknown) => this.deps.log.warn({ err, thread: deploy.key }, 'the chain report failed'));
    }
  }

  /** Checks every deploy in progress against its environment's timeout; warns once. Resolves to the next timeout due. */
  async sweep(): Promise<number | undefined> {
    this.deps.onSweep?.();
    const now = this.deps.clock.now();
    let changed = false;
    let next: number | undefined;
    for (const thread of await this.deps.stores.threads.open()) {
      if (thread.timeoutWarned || !thread.lastState) continue;
      const target = this.deps.catalog.target(thread.app, thread.env);
      if (!target) continue;
      const due = timeoutDueAt(thread, target);
      if (due !== undefined && due > now) next = Math.min(next ?? Infinity, due);
      const limit = timeoutFor(target, thread.lastState);
      const waited = (thread.waitedMs ?? 0) + (thread.waitingSince !== undefined ? now - thread.waitingSince : 0);
      const active = now - thread.startedAt - waited;
      if (active <= limit || !(await this.deps.stores.threads.markOnce(thread.key, 'timeoutWarned'))) continue;
      const s = thread.lastState;
      const where = [describeProgress(s), describePhase(s)].filter(Boolean).join(' · ');
      const text = renderChain({ kind: 'timeout', env: target.env.name, activeMs: active, limitMs: limit, where, ...(s.message ? { message: s.message } : {}) });
      await this.deps.kernel.reply(thread, 'timeout', text, 'high', { broadcast: true });
      changed = true;
    }
    if (changed) await this.commit();
    return next;
  }

  /** `/promote <env>` with nothing paused and a `deploy` block: offers the previous environment's proven tag (offerDeploy). */
  offer(o: { target: EnvTarget; ctx: CommandContext; current?: RolloutState; dryRun: boolean; force: boolean }): Promise<CommandReply | undefined> {
    return offerDeploy({ ...this.deps, dispatch: (d) => this.dispatch(d) }, o);
  }

  /** Runs a confirmed deploy offer (confirmDeploy); resolves to what its card shows. */
  confirmDeploy(c: Confirmation, user: string, current: RolloutState | undefined): Promise<CardOutcome | undefined> {
    return confirmDeploy({ ...this.deps, dispatch: (d) => this.dispatch(d) }, { c, user, current });
  }

  private dispatch(o: Parameters<typeof dispatchDeploy>[1]): Promise<DispatchOutcome> {
    return dispatchDeploy(this.deps, o);
  }

  private async autoDispatch(thread: ThreadRecord, target: EnvTarget, next: EnvTarget, tag: string): Promise<void> {
    try {
      const { stores, kernel } = this.deps;
      // A cheap look first (no ECR call for a tag dispatched already); the dispatch claim below is what decides.
      if (await stores.dispatches.get(`${next.app.name}/${next.env.name}/${tag}`)) return;
      const nextThread = await kernel.current(next);
      if (nextThread?.lastState?.images.some((i) => i.tag === tag) || (await stores.envs.get(next.key)).baseline?.images.some((i) => i.tag === tag)) {
        await kernel.reply(thread, `chain-noop:${next.env.name}`, renderChain({ kind: 'chain-noop', tag, env: next.env.name }), 'normal');
        await this.commit();
        return;
      }
      let image;
      try {
        image = await this.deps.registry.describe(ecrRepositoryOf(next), tag);
      } catch (err) {
        await kernel.reply(thread, `chain-ecr:${next.env.name}`, renderChain({ kind: 'chain-ecr-error', tag, env: next.env.name, error: (err as Error).message }), 'high', { broadcast: true });
        await this.commit();
        return;
      }
      if (!image) {
        await kernel.reply(thread, `chain-ecr:${next.env.name}`, renderChain({ kind: 'chain-ecr-missing', tag, env: next.env.name, repository: ecrRepositoryOf(next) }), 'high', { broadcast: true });
        await this.commit();
        return;
      }
      await this.dispatch({ target: next, tag, actor: CHAIN, thread, fromThreadKey: thread.key, digest: image.digest, claim: ONCE });
    } catch (err) {
      this.deps.log.error({ err, app: target.app.name, env: target.env.name }, 'automatic chain failed');
    }
  }

  /** A new deploy thread whose tag the bot dispatched: say where it came from. */
  private async announceArrival(thread: ThreadRecord, target: EnvTarget): Promise<void> {
    const rec = await this.deps.stores.dispatches.markAnnounced(`${target.app.name}/${target.env.name}/${thread.tag}`);
    if (!rec) return;
    const from = rec.fromThreadKey ? await this.deps.kernel.byKey(rec.fromThreadKey) : undefined;
    const text = renderChain({
      kind: 'arrival',
      tag: thread.tag ?? '',
      by: rec.by,
      ...(from ? { from: from.env } : {}),
      ...(from?.finishedAt !== undefined ? { tookMs: from.finishedAt - from.startedAt } : {}),
      ...(from?.rootTs ? { link: `<${this.deps.permalink(from.channel, from.rootTs)}|${from.env} thread>` } : {}),
    });
    await this.deps.kernel.reply(thread, 'arrival', text, 'normal');
  }

  private commit(): Promise<void> {
    return this.deps.kernel.commit();
  }
}

/** The automatic chain, as the audit log and the dispatch record name it. */
const CHAIN = { who: 'chain', source: 'schedule' } as const;
/** The automatic chain dispatches a tag to an environment once. */
const ONCE: DispatchClaim = { kind: 'once' };

