import type { Catalog, EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-service.js';
import { describeProof } from '../deploys/describe-proof.js';
import { formatDuration } from '../text/duration.js';
import type { Logger } from '../logger.js';
import type { Clock, ImageRegistry, RepoHost, StateStore, Timer } from '../ports.js';
import { describePhase, describeProgress, waitsForPromotion } from '../rollout/describe-state.js';
import { renderChain } from './render-chain.js';
import { renderOfferFacts } from './render-offer-facts.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { Confirmation, ThreadRecord } from '../store-data.js';
import { approverList, isApprover } from '../policy/approvers.js';
import { renderDeployOffer } from './render-deploy-offer.js';
import type { RolloutObserver } from '../rollout-threads/rollout-observer.js';
import { dispatchDeploy } from './dispatch-deploy.js';
import { openConfirmation } from '../promotion/open-confirmation.js';
import { timeoutFor } from './plan-timeout.js';
import { requestLineOf } from '../promotion/request-line-of.js';

export interface PromotionChainDeps {
  catalog: Catalog;
  store: StateStore;
  clock: Clock;
  log: Logger;
  registry: ImageRegistry;
  /** GitHub; without it no deploy can be dispatched. */
  repoHost?: RepoHost;
  observer: RolloutObserver;
  onChange: () => void;
  permalink: (channel: string, ts: string) => string;
  /** How often timeouts are checked (default 15 s). */
  sweepMs?: number;
  /** Counts sweeps. */
  onSweep?: () => void;
}

/**
 * The chain between environments: a tag moves forward only once it completed in the environment before.
 * - `/promote <env>` with nothing paused and a `deploy` block offers to bring the previous environment's proven tag.
 * - With `deploy.auto`, a completed tag is dispatched to the next environment by itself (after the ECR check), never an
 *   aborted one, never skipping an environment. Blue-green staging then stops at its preview for a person.
 * - A deploy that takes longer than its environment's timeout gets one warning; waiting for a person does not count.
 */
export class PromotionChain {
  private timer: Timer | undefined;
  private stopped = false;

  constructor(private readonly deps: PromotionChainDeps) {}

  /** Starts the timeout sweep. */
  start(): void {
    this.stopped = false;
    this.schedule();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
  }

  private schedule(): void {
    if (this.stopped) return;
    this.timer = this.deps.clock.setTimer(this.deps.sweepMs ?? 15_000, () => {
      void this.sweep().finally(() => this.schedule());
    });
  }

  /** Observer hook: keeps waiting time, announces arrivals, runs the automatic chain on completion. */
  onThreadChanged(o: { thread: ThreadRecord; target: EnvTarget; state: RolloutState; events: string[] }): void {
    const { thread, target, state, events } = o;
    const now = this.deps.clock.now();
    const waiting = waitsForPromotion(state);
    if (waiting && thread.waitingSince === undefined) thread.waitingSince = now;
    if (!waiting && thread.waitingSince !== undefined) {
      thread.waitedMs = (thread.waitedMs ?? 0) + (now - thread.waitingSince);
      thread.waitingSince = undefined;
    }
    if (events.includes('deploy-started') && thread.tag) this.announceArrival(thread, target);
    if (events.includes('completed') && !state.aborted && !thread.chainHandled) {
      thread.chainHandled = true;
      const next = this.deps.catalog.next(target);
      if (next?.env.deploy?.auto && thread.tag) void this.autoDispatch(thread, target, next, thread.tag);
    }
  }

  /** Checks every deploy in progress against its environment's timeout; warns once. */
  async sweep(): Promise<void> {
    this.deps.onSweep?.();
    const now = this.deps.clock.now();
    let changed = false;
    for (const thread of Object.values(this.deps.store.data.threads)) {
      if (thread.outcome || thread.timeoutWarned || !thread.lastState) continue;
      const target = this.deps.catalog.target(thread.app, thread.env);
      if (!target) continue;
      const limit = timeoutFor(target, thread.lastState);
      const waited = (thread.waitedMs ?? 0) + (thread.waitingSince !== undefined ? now - thread.waitingSince : 0);
      const active = now - thread.startedAt - waited;
      if (active <= limit) continue;
      thread.timeoutWarned = true;
      const s = thread.lastState;
      const where = [describeProgress(s), describePhase(s)].filter(Boolean).join(' · ');
      const text = renderChain({ kind: 'timeout', env: target.env.name, activeMs: active, limitMs: limit, where, ...(s.message ? { message: s.message } : {}) });
      this.deps.observer.reply(thread, 'timeout', text, 'high', { broadcast: true });
      changed = true;
    }
    if (changed) {
      await this.deps.store.flush();
      this.deps.onChange();
    }
  }

  /**
   * `/promote <env>` where nothing is paused but the environment has a `deploy` block: offer to bring the previous
   * environment's proven tag, with the same confirmation, approvers and audit as a promotion.
   */
  async offer(o: { target: EnvTarget; ctx: CommandContext; current?: RolloutState; dryRun: boolean; force: boolean }): Promise<CommandReply | undefined> {
    const { target, ctx } = o;
    const deploy = target.env.deploy;
    if (!deploy) return undefined;
    const prev = this.deps.catalog.previous(target);
    const name = `${target.app.name} ${target.env.name}`;
    if (!prev) return { text: renderChain({ kind: 'first-env', name }) };
    const prevThread = this.latestCompleted(prev);
    if (!prevThread?.tag) return { text: renderChain({ kind: 'nothing-proven', name, prevEnv: prev.env.name }) };
    const tag = prevThread.tag;
    const running = o.current?.images.map((i) => i.tag);
    if (running?.includes(tag)) return { text: renderChain({ kind: 'already-runs', name, tag }) };
    const repository = target.app.image.ecrRepository;
    let image;
    try {
      image = await this.deps.registry.describe(repository, tag);
    } catch (err) {
      return { text: renderChain({ kind: 'offer-ecr-error', tag, error: (err as Error).message }) };
    }
    if (!image) return { text: renderChain({ kind: 'offer-ecr-missing', tag, repository }) };
    const proof = describeProof({ target, tag, data: this.deps.store.data, catalog: this.deps.catalog, now: this.deps.clock.now() });
    const thread = this.homeThread(target) ?? prevThread;
    const facts = renderOfferFacts({ tag, repository, digest: image.digest, proof: proof.text, env: target.env.name, running, workflow: deploy.workflow, repo: target.app.repo, ref: deploy.ref });
    if (o.dryRun) {
      this.deps.observer.reply(thread, `offer-dry:${this.deps.clock.now()}`, renderChain({ kind: 'offer-dry-run', name, tag, facts }), 'normal');
      await this.commit();
      return { text: renderChain({ kind: 'dry-run-posted', where: this.where(thread) }) };
    }
    if (ctx.source === 'github') {
      const text = await this.dispatch({ target, tag, by: ctx.user, fromThreadKey: prevThread.key, thread });
      return { text: `${facts.join('\n')}\n${text}` };
    }
    const { confirmation: c, replaced, others } = openConfirmation({
      data: this.deps.store.data,
      now: this.deps.clock.now(),
      request: {
        threadKey: thread.key,
        app: target.app.name,
        env: target.env.name,
        action: 'deploy',
        full: false,
        force: o.force,
        requestedBy: ctx.user,
        snapshot: { phase: o.current?.phase ?? 'unknown', pauseReasons: [], aborted: false, specPaused: false, image: o.current?.images[0]?.image, podHash: o.current?.currentPodHash },
        describe: `dispatch ${deploy.workflow} with image_tag=${tag}`,
        tag,
        digest: image.digest,
        from: prev.env.name,
      },
    });
    const card = renderDeployOffer({
      confirmationId: c.id,
      app: target.app.name,
      env: target.env.name,
      from: prev.env.name,
      tag,
      workflow: deploy.workflow,
      force: o.force,
      facts,
      requestedBy: ctx.user,
      requesterMayConfirm: isApprover(target, ctx),
      approvers: approverList(target),
      others: others.map((x) => requestLineOf(x, this.deps.catalog)),
      replacesOwn: replaced.length > 0,
    });
    this.deps.observer.reply(thread, `cf:${c.id}`, card.text, 'high', { blocks: card.blocks });
    await this.commit();
    return { text: renderChain({ kind: 'offer-waiting', name, tag, from: prev.env.name, where: this.where(thread) }) };
  }

  /** Runs a confirmed deploy offer: the tag checked again, then the workflow dispatched. */
  async confirmDeploy(c: Confirmation, user: string, current: RolloutState | undefined): Promise<void> {
    const target = this.deps.catalog.target(c.app, c.env);
    const thread = this.deps.store.data.threads[c.threadKey];
    if (!target || !thread || !c.tag) return;
    const sent = this.deps.store.data.dispatches[`${target.app.name}/${target.env.name}/${c.tag}`];
    if (sent && sent.at >= c.requestedAt) {
      // Another request for the same tag was confirmed after this one was shown: it is done already.
      this.deps.observer.reply(thread, `deploy-dup:${c.id}`, renderChain({ kind: 'deploy-duplicate', tag: c.tag, env: target.env.name, by: sent.by }), 'normal');
      await this.commit();
      return;
    }
    if (current?.images.some((i) => i.tag === c.tag)) {
      this.deps.observer.reply(thread, `deploy-noop:${c.id}`, renderChain({ kind: 'deploy-noop', tag: c.tag, env: target.env.name }), 'normal');
      await this.commit();
      return;
    }
    let image;
    try {
      image = await this.deps.registry.describe(target.app.image.ecrRepository, c.tag);
    } catch (err) {
      this.deps.observer.reply(thread, `deploy-ecr:${c.id}`, renderChain({ kind: 'deploy-ecr-error', tag: c.tag, error: (err as Error).message }), 'high');
      await this.commit();
      return;
    }
    if (!image || image.digest !== c.digest) {
      this.deps.observer.reply(thread, `deploy-ecr:${c.id}`, renderChain({ kind: 'deploy-ecr-changed', tag: c.tag, exists: Boolean(image) }), 'high');
      await this.commit();
      return;
    }
    await this.dispatch({ target, tag: c.tag, by: user, thread, digest: image.digest });
  }

  private dispatch(o: { target: EnvTarget; tag: string; by: string; thread: ThreadRecord; fromThreadKey?: string; digest?: string }): Promise<string> {
    return dispatchDeploy(this.deps, o);
  }

  private async autoDispatch(thread: ThreadRecord, target: EnvTarget, next: EnvTarget, tag: string): Promise<void> {
    try {
      const key = `${next.app.name}/${next.env.name}/${tag}`;
      if (this.deps.store.data.dispatches[key]) return;
      const nextThread = this.homeThread(next);
      if (nextThread?.lastState?.images.some((i) => i.tag === tag) || this.deps.store.data.envs[next.key]?.baseline?.images.some((i) => i.tag === tag)) {
        this.deps.observer.reply(thread, `chain-noop:${next.env.name}`, renderChain({ kind: 'chain-noop', tag, env: next.env.name }), 'normal');
        await this.commit();
        return;
      }
      let image;
      try {
        image = await this.deps.registry.describe(next.app.image.ecrRepository, tag);
      } catch (err) {
        this.deps.observer.reply(thread, `chain-ecr:${next.env.name}`, renderChain({ kind: 'chain-ecr-error', tag, env: next.env.name, error: (err as Error).message }), 'high', { broadcast: true });
        await this.commit();
        return;
      }
      if (!image) {
        this.deps.observer.reply(thread, `chain-ecr:${next.env.name}`, renderChain({ kind: 'chain-ecr-missing', tag, env: next.env.name, repository: next.app.image.ecrRepository }), 'high', { broadcast: true });
        await this.commit();
        return;
      }
      await this.dispatch({ target: next, tag, by: 'chain', thread, fromThreadKey: thread.key, digest: image.digest });
    } catch (err) {
      this.deps.log.error({ err, app: target.app.name, env: target.env.name }, 'automatic chain failed');
    }
  }

  /** A new deploy thread whose tag the bot dispatched: say where it came from. */
  private announceArrival(thread: ThreadRecord, target: EnvTarget): void {
    const rec = this.deps.store.data.dispatches[`${target.app.name}/${target.env.name}/${thread.tag}`];
    if (!rec || rec.announced) return;
    rec.announced = true;
    const from = rec.fromThreadKey ? this.deps.store.data.threads[rec.fromThreadKey] : undefined;
    const text = renderChain({
      kind: 'arrival',
      tag: thread.tag ?? '',
      by: rec.by,
      ...(from ? { from: from.env } : {}),
      ...(from?.finishedAt !== undefined ? { tookMs: from.finishedAt - from.startedAt } : {}),
      ...(from?.rootTs ? { link: `<${this.deps.permalink(from.channel, from.rootTs)}|${from.env} thread>` } : {}),
    });
    this.deps.observer.reply(thread, 'arrival', text, 'normal');
  }

  private latestCompleted(t: EnvTarget): ThreadRecord | undefined {
    return Object.values(this.deps.store.data.threads)
      .filter((th) => th.app === t.app.name && th.env === t.env.name && th.outcome === 'completed')
      .sort((a, b) => (b.finishedAt ?? b.startedAt) - (a.finishedAt ?? a.startedAt))[0];
  }

  private homeThread(t: EnvTarget): ThreadRecord | undefined {
    const rec = this.deps.store.data.envs[t.key];
    return rec?.threadKey ? this.deps.store.data.threads[rec.threadKey] : undefined;
  }

  private where(thread: ThreadRecord): string {
    return thread.rootTs ? `<${this.deps.permalink(thread.channel, thread.rootTs)}|the ${thread.env} thread>` : `the ${thread.env} thread`;
  }

  private async commit(): Promise<void> {
    await this.deps.store.flush();
    this.deps.onChange();
  }
}
