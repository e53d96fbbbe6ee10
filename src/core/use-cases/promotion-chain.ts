import type { Catalog, EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-service.js';
import { describeProof } from '../deploys/describe-proof.js';
import { formatDuration } from '../text/duration.js';
import type { Logger } from '../logger.js';
import type { Clock, ImageRegistry, RepoHost, StateStore, Timer } from '../ports.js';
import { describePhase, describeProgress, primaryTag, waitsForPromotion } from '../render/describe-state.js';
import { esc, who } from '../render/mrkdwn.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { Confirmation, ThreadRecord } from '../store-data.js';
import { approverList, isApprover } from '../policy/approvers.js';
import { renderDeployOffer } from '../render/render-deploy-offer.js';
import type { RolloutObserver } from './rollout-observer.js';
import { openConfirmation } from './open-confirmation.js';
import { requestLineOf } from './request-line-of.js';

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

const DEFAULT_TIMEOUT_PLAIN = 5 * 60_000;
const DEFAULT_TIMEOUT_STEPS = 10 * 60_000;

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
      this.deps.observer.reply(
        thread,
        'timeout',
        `⏰ This deploy has taken ${formatDuration(active)}, longer than ${target.env.name}'s timeout of ${formatDuration(limit)} (time waiting for promotion not counted). It is stuck at: ${esc(where)}${s.message && !where.includes(s.message) ? ` (${esc(s.message)})` : ''}.`,
        'high',
        { broadcast: true },
      );
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
    if (!prev) return { text: `🤷 Nothing is paused in ${name}, and it is the first environment: there is no earlier tag to bring here.` };
    const prevThread = this.latestCompleted(prev);
    if (!prevThread?.tag) return { text: `🤷 Nothing is paused in ${name}, and no tag has completed in ${prev.env.name} yet, so there is nothing proven to bring here.` };
    const tag = prevThread.tag;
    const running = o.current?.images.map((i) => i.tag);
    if (running?.includes(tag)) {
      return { text: `ℹ️ ${name} already runs \`${tag}\`: Argo Rollouts starts nothing for an unchanged tag, so there is nothing to bring.` };
    }
    let image;
    try {
      image = await this.deps.registry.describe(target.app.image.ecrRepository, tag);
    } catch (err) {
      return { text: `🚫 I could not verify \`${tag}\` in ECR: ${(err as Error).message}. Nothing was dispatched.` };
    }
    if (!image) return { text: `🚫 Image tag \`${tag}\` does not exist in ECR repository \`${target.app.image.ecrRepository}\`; nothing was dispatched.` };
    const proof = describeProof({ target, tag, data: this.deps.store.data, catalog: this.deps.catalog, now: this.deps.clock.now() });
    const thread = this.homeThread(target) ?? prevThread;
    const facts = [
      `• Tag \`${esc(tag)}\` verified in ECR \`${esc(target.app.image.ecrRepository)}\`: digest \`${esc(image.digest)}\``,
      `• Proven: ${proof.text}`,
      `• ${target.env.name} now runs ${running?.filter(Boolean).map((t) => `\`${esc(t!)}\``).join(', ') || 'nothing I know of'}`,
      `• Will dispatch workflow \`${esc(deploy.workflow)}\` of ${esc(target.app.repo)} on \`${esc(deploy.ref)}\` with environment=${esc(target.env.name)}, image_tag=${esc(tag)}`,
    ];
    if (o.dryRun) {
      this.deps.observer.reply(thread, `offer-dry:${this.deps.clock.now()}`, `🧪 *Dry run: bring \`${esc(tag)}\` to ${esc(name)}*\n${facts.join('\n')}\nDry run: nothing was dispatched.`, 'normal');
      await this.commit();
      return { text: `🧪 Dry run posted in ${this.where(thread)}.` };
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
    return { text: `👉 Nothing is paused in ${name}; bringing \`${tag}\` from ${prev.env.name} is waiting for confirmation in ${this.where(thread)}.` };
  }

  /** Runs a confirmed deploy offer: the tag checked again, then the workflow dispatched. */
  async confirmDeploy(c: Confirmation, user: string, current: RolloutState | undefined): Promise<void> {
    const target = this.deps.catalog.target(c.app, c.env);
    const thread = this.deps.store.data.threads[c.threadKey];
    if (!target || !thread || !c.tag) return;
    const sent = this.deps.store.data.dispatches[`${target.app.name}/${target.env.name}/${c.tag}`];
    if (sent && sent.at >= c.requestedAt) {
      // Another request for the same tag was confirmed after this one was shown: it is done already.
      const by = sent.by === 'chain' ? 'the automatic chain' : who(sent.by);
      this.deps.observer.reply(thread, `deploy-dup:${c.id}`, `ℹ️ \`${esc(c.tag)}\` was already dispatched to ${esc(target.env.name)} by ${by} after this request was made; nothing more was dispatched.`, 'normal');
      await this.commit();
      return;
    }
    if (current?.images.some((i) => i.tag === c.tag)) {
      this.deps.observer.reply(thread, `deploy-noop:${c.id}`, `ℹ️ ${target.env.name} already runs \`${esc(c.tag)}\`; nothing was dispatched.`, 'normal');
      await this.commit();
      return;
    }
    let image;
    try {
      image = await this.deps.registry.describe(target.app.image.ecrRepository, c.tag);
    } catch (err) {
      this.deps.observer.reply(thread, `deploy-ecr:${c.id}`, `🚫 Not dispatched: I could not verify \`${esc(c.tag)}\` in ECR: ${esc((err as Error).message)}`, 'high');
      await this.commit();
      return;
    }
    if (!image || image.digest !== c.digest) {
      this.deps.observer.reply(thread, `deploy-ecr:${c.id}`, `🚫 Not dispatched: \`${esc(c.tag)}\` ${image ? 'now points to another image' : 'no longer exists in ECR'}.`, 'high');
      await this.commit();
      return;
    }
    await this.dispatch({ target, tag: c.tag, by: user, thread, digest: image.digest });
  }

  /** Dispatches the environment's deploy workflow for a tag, records it, and says so. Returns what was said. */
  private async dispatch(o: { target: EnvTarget; tag: string; by: string; thread: ThreadRecord; fromThreadKey?: string; digest?: string }): Promise<string> {
    const { target, tag, by, thread } = o;
    const deploy = target.env.deploy!;
    const byText = by === 'chain' ? 'the automatic chain' : /^[UW][A-Z0-9]+$/.test(by) ? `<@${by}>` : `@${esc(by)}`;
    if (!this.deps.repoHost) {
      const text = `🚫 Not dispatched: the GitHub App is not configured (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET), so I cannot run \`${esc(deploy.workflow)}\`.`;
      this.deps.observer.reply(thread, `dispatch-fail:${target.key}:${tag}:${this.deps.clock.now()}`, text, 'high', { broadcast: true });
      await this.commit();
      return text;
    }
    const key = `${target.app.name}/${target.env.name}/${tag}`;
    this.deps.store.data.dispatches[key] = { app: target.app.name, env: target.env.name, tag, workflow: deploy.workflow, at: this.deps.clock.now(), by, fromThreadKey: o.fromThreadKey ?? thread.key };
    this.deps.store.data.audit.push({ at: this.deps.clock.now(), who: by, source: by === 'chain' ? 'schedule' : /^[UW]/.test(by) ? 'slack' : 'github', action: 'deploy', app: target.app.name, env: target.env.name, tag, digest: o.digest, result: 'dispatching', threadKey: thread.key });
    await this.deps.store.flush();
    try {
      await this.deps.repoHost.dispatchWorkflow({ repo: target.app.repo, workflow: deploy.workflow, ref: deploy.ref, inputs: { environment: target.env.name, image_tag: tag } });
    } catch (err) {
      delete this.deps.store.data.dispatches[key];
      const text = `⚠️ Dispatch of \`${esc(deploy.workflow)}\` for ${esc(target.env.name)} failed: ${esc((err as Error).message)}`;
      this.deps.log.error({ err, app: target.app.name, env: target.env.name, tag }, 'deploy dispatch failed');
      this.deps.observer.reply(thread, `dispatch-fail:${key}:${this.deps.clock.now()}`, text, 'high', { broadcast: true });
      await this.commit();
      return text;
    }
    const text = `🚚 Dispatched \`${esc(deploy.workflow)}\` to bring \`${esc(tag)}\` to ${esc(target.env.name)} (by ${byText}). Its deploy thread starts in ${target.env.slackChannel === thread.channel ? 'this channel' : `<#${target.env.slackChannel}>`} when the rollout changes.`;
    this.deps.observer.reply(thread, `dispatch:${key}`, text, 'high');
    await this.commit();
    return text;
  }

  private async autoDispatch(thread: ThreadRecord, target: EnvTarget, next: EnvTarget, tag: string): Promise<void> {
    try {
      const key = `${next.app.name}/${next.env.name}/${tag}`;
      if (this.deps.store.data.dispatches[key]) return;
      const nextThread = this.homeThread(next);
      if (nextThread?.lastState?.images.some((i) => i.tag === tag) || this.deps.store.data.envs[next.key]?.baseline?.images.some((i) => i.tag === tag)) {
        this.deps.observer.reply(thread, `chain-noop:${next.env.name}`, `ℹ️ ${esc(next.env.name)} already runs \`${esc(tag)}\`; the chain has nothing to dispatch.`, 'normal');
        await this.commit();
        return;
      }
      let image;
      try {
        image = await this.deps.registry.describe(next.app.image.ecrRepository, tag);
      } catch (err) {
        this.deps.observer.reply(thread, `chain-ecr:${next.env.name}`, `🚫 Not dispatched to ${esc(next.env.name)}: I could not verify \`${esc(tag)}\` in ECR: ${esc((err as Error).message)}. Run \`/promote ${next.env.name}\` once ECR answers.`, 'high', { broadcast: true });
        await this.commit();
        return;
      }
      if (!image) {
        this.deps.observer.reply(thread, `chain-ecr:${next.env.name}`, `🚫 Not dispatched to ${esc(next.env.name)}: image tag \`${esc(tag)}\` does not exist in ECR repository \`${esc(next.app.image.ecrRepository)}\`.`, 'high', { broadcast: true });
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
    const took = from?.finishedAt !== undefined ? ` (completed there in ${formatDuration(from.finishedAt - from.startedAt)})` : '';
    const link = from?.rootTs ? ` <${this.deps.permalink(from.channel, from.rootTs)}|${from.env} thread>` : '';
    const by = rec.by === 'chain' ? 'the automatic chain' : /^[UW][A-Z0-9]+$/.test(rec.by) ? `<@${rec.by}>` : `@${rec.by}`;
    this.deps.observer.reply(thread, 'arrival', `🚚 \`${esc(thread.tag ?? '')}\` was brought here by ${by} from ${esc(from?.env ?? 'the previous environment')}${took}.${link}`, 'normal');
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

/** The environment's timeout: configured, or 5 min for a rollout without steps or pauses, 10 min for canary steps and blue-green. */
export function timeoutFor(target: EnvTarget, state: RolloutState): number {
  if (target.env.timeout) return target.env.timeout;
  if (state.strategy === 'blueGreen' || (state.canary && state.canary.stepCount > 0)) return DEFAULT_TIMEOUT_STEPS;
  return DEFAULT_TIMEOUT_PLAIN;
}

export { primaryTag };
