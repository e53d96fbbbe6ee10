import type { Catalog, EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-service.js';
import type { Logger } from '../logger.js';
import { planAbort, planPromotion, planRetry } from '../policy/plan-rollout-action.js';
import type { Clock, ImageFacts, ImageRegistry, RolloutCluster, RolloutPatch, StateStore } from '../ports.js';
import { RateLimitedError, ServiceError } from '../ports.js';
import { primaryTag } from '../render/describe-state.js';
import { esc, who } from '../render/mrkdwn.js';
import { renderPreflight, type PreflightView } from '../render/render-preflight.js';
import { slackToMarkdown } from '../render/to-markdown.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { Confirmation, RolloutSnapshot, ThreadRecord } from '../store-data.js';
import { describeProof, type Proof } from '../deploys/describe-proof.js';
import type { RolloutObserver } from './rollout-observer.js';
import type { PromotionChain } from './promotion-chain.js';

/** How long a confirmation stays valid. */
export const CONFIRMATION_TTL_MS = 10 * 60_000;

export type RolloutAction = 'promote' | 'abort' | 'retry';

export interface PromotionServiceDeps {
  catalog: Catalog;
  store: StateStore;
  clock: Clock;
  log: Logger;
  cluster: RolloutCluster;
  registry: ImageRegistry;
  observer: RolloutObserver;
  /** Told when the outbox or a card changed. */
  onChange: () => void;
  /** Link to a thread. */
  permalink: (channel: string, ts: string) => string;
  /** A message only one user sees (for double clicks and the like). */
  ephemeral?: (o: { channel: string; user: string; threadTs?: string; text: string }) => Promise<void>;
  /** The chain between environments (deploy offers when nothing is paused). */
  chain?: PromotionChain;
}

/** Everything checked before asking for (or skipping) confirmation. */
interface Preflight {
  target: EnvTarget;
  thread: ThreadRecord;
  state: RolloutState;
  action: RolloutAction;
  full: boolean;
  force: boolean;
  tag?: string;
  image?: ImageFacts;
  patches: RolloutPatch[];
  describe: string;
  planKind?: string;
  proof?: Proof;
  /** Set when the action must not happen; says why in a person's words. */
  refusal?: string;
}

/**
 * Promote, abort and retry: checked, confirmed, exact. A request runs the preflight (fresh read of the rollout, the image
 * tag verified in ECR, the exact patches chosen from the object as `kubectl argo rollouts` would, the tag proven in the
 * previous environment) and shows it in the deploy thread. An approver confirms by typing the verb in the thread or
 * pressing the button within 10 minutes; the rollout is read again and the patches go out only if nothing changed.
 * A PR comment is itself the explicit intent: after the same checks it runs at once.
 */
export class PromotionService {
  private readonly busy = new Map<string, string>();

  constructor(private readonly deps: PromotionServiceDeps) {}

  /** `/promote`, `/rollout abort|retry` from Slack or a GitHub comment. */
  async request(o: { action: RolloutAction; target: EnvTarget; ctx: CommandContext; full?: boolean; dryRun?: boolean; force?: boolean }): Promise<CommandReply> {
    const { target, ctx, action } = o;
    const thread = this.currentThread(target);
    const name = `${target.app.name} ${target.env.name}`;
    if (action === 'promote' && target.env.deploy && this.deps.chain) {
      // Nothing paused but a deploy block: offer to bring the previous environment's proven tag instead.
      let current: RolloutState | undefined;
      try {
        current = await this.deps.cluster.get(target.env.namespace, target.env.rollout);
      } catch (err) {
        return { text: `🚫 I could not read the rollout of ${name} (${(err as Error).message}); nothing was done.` };
      }
      if (!current || planPromotion(current, { full: o.full ?? false }).kind === 'nothing-to-promote') {
        if (o.force && !this.isApprover(target, ctx)) return { text: `🚫 \`--force\` is for approvers of ${name}: ${this.approverList(target)}.` };
        const offered = await this.deps.chain.offer({ target, ctx, current, dryRun: o.dryRun ?? false, force: o.force ?? false });
        if (offered) return offered;
      }
    }
    if (!thread) return { text: `🤷 Nothing to ${action} in ${name}: no deploy is in progress there (its rollout has not changed since I started watching).` };
    const holder = this.busy.get(this.rolloutKey(target));
    if (holder) return { text: `⏳ ${who(holder)} is already changing ${name}; wait until that has finished.` };
    if (o.force && !this.isApprover(target, ctx)) {
      return { text: `🚫 \`--force\` promotes a tag that is not proven in the previous environment, so only approvers of ${name} may use it: ${this.approverList(target)}.` };
    }

    this.busy.set(this.rolloutKey(target), ctx.user);
    try {
      const pf = await this.preflight({ target, thread, action, full: o.full ?? false, force: o.force ?? false });
      const link = thread.rootTs ? this.deps.permalink(thread.channel, thread.rootTs) : undefined;
      const where = link ? `<${link}|the deploy thread>` : 'the deploy thread';

      if (o.dryRun || pf.refusal) {
        const view = this.view(pf, ctx, o.dryRun ? 'dry-run' : 'refused');
        this.post(thread, `pf:${this.deps.clock.now()}:${ctx.user}`, view, 'normal');
        await this.commit();
        if (ctx.source === 'github') return { text: view.text, markdown: slackToMarkdown(view.text) };
        return { text: o.dryRun ? `🧪 Dry run posted in ${where}: nothing was sent.` : `🚫 Not possible: ${pf.refusal} Details in ${where}.` };
      }

      if (ctx.source === 'github') {
        // The comment is the explicit intent; the preflight just read the rollout fresh.
        const result = await this.execute(pf, ctx.user, 'github');
        return { text: result, markdown: slackToMarkdown(`${this.view(pf, ctx, 'executed').text}\n\n${result}`) };
      }

      const confirmation = this.createConfirmation(pf, ctx.user);
      this.post(thread, `cf:${confirmation.id}`, this.view(pf, ctx, 'confirm', confirmation), 'high');
      await this.commit();
      return { text: `👉 ${capitalize(action)} of ${name} is waiting for confirmation in ${where}.` };
    } finally {
      this.busy.delete(this.rolloutKey(target));
    }
  }

  /**
   * Someone typed in a deploy thread. `promote`, `abort` or `retry` confirms the pending request of that verb.
   * Returns false when the text is not one of those words (ordinary conversation).
   */
  async typed(o: { channel: string; threadTs: string; user: string; text: string }): Promise<boolean> {
    const word = o.text.trim().toLowerCase().replace(/[.!]+$/, '');
    if (word !== 'promote' && word !== 'abort' && word !== 'retry') return false;
    const thread = Object.values(this.deps.store.data.threads).find((t) => t.channel === o.channel && t.rootTs === o.threadTs);
    if (!thread) return false;
    const pending = this.latestConfirmation(thread, word === 'promote' ? ['promote', 'deploy'] : [word]);
    if (!pending) {
      const target = this.deps.catalog.target(thread.app, thread.env);
      this.deps.observer.reply(thread, `typed:${o.threadTs}:${o.user}:${this.deps.clock.now()}`, `🤔 <@${o.user}>, nothing is waiting for \`${word}\` here. Start with \`${word === 'promote' ? `/promote ${target?.env.name ?? thread.env}` : `/rollout ${word} ${target?.env.name ?? thread.env}`}\`.`, 'normal');
      await this.commit();
      return true;
    }
    await this.confirm(pending, o.user);
    return true;
  }

  /** A button on a confirmation card. */
  async pressed(o: { actionId: string; value: string; user: string; channel: string; threadTs?: string }): Promise<void> {
    const c = this.deps.store.data.confirmations[o.value];
    if (!c) return;
    if (o.actionId === 'rollout_cancel') {
      if (c.status !== 'pending') return;
      const thread = this.deps.store.data.threads[c.threadKey];
      if (!thread) return;
      const target = this.deps.catalog.target(c.app, c.env);
      if (target && !this.isApprover(target, { source: 'slack', user: o.user }) && o.user !== c.requestedBy) {
        await this.deps.ephemeral?.({ channel: o.channel, user: o.user, threadTs: thread.rootTs, text: `Only ${who(c.requestedBy)} or an approver can cancel this.` });
        return;
      }
      c.status = 'cancelled';
      c.doneBy = o.user;
      c.doneAt = this.deps.clock.now();
      this.deps.observer.reply(thread, `cancel:${c.id}`, `✖️ ${capitalize(c.action)} cancelled by <@${o.user}>.`, 'normal');
      await this.commit();
      return;
    }
    if (o.actionId === 'rollout_confirm') await this.confirm(c, o.user, o.channel);
  }

  private async confirm(c: Confirmation, user: string, channel?: string): Promise<void> {
    const { store, clock } = this.deps;
    const thread = store.data.threads[c.threadKey];
    const target = this.deps.catalog.target(c.app, c.env);
    if (!thread || !target) return;
    const key = (s: string) => `${s}:${c.id}:${user}:${clock.now()}`;
    const again = c.action === 'deploy' ? `/promote ${c.env}` : c.action === 'promote' ? `/promote ${c.env}` : `/rollout ${c.action} ${c.env}`;

    if (c.status !== 'pending') {
      // A double click or a second `promote`: say it is done, to that person only when we can.
      const text = c.status === 'done' ? `Already done: ${c.action} by ${who(c.doneBy ?? '?')}.` : `This ${c.action} request is ${c.status}.`;
      if (this.deps.ephemeral && channel) await this.deps.ephemeral({ channel, user, threadTs: thread.rootTs, text });
      else {
        this.deps.observer.reply(thread, key('again'), `ℹ️ ${text}`, 'normal');
        await this.commit();
      }
      return;
    }
    if (!this.isApprover(target, { source: 'slack', user })) {
      this.deps.observer.reply(thread, key('notapprover'), `🙏 Sorry <@${user}>, only approvers of ${target.app.name} ${target.env.name} can confirm this: ${this.approverList(target)}.`, 'normal');
      await this.commit();
      return;
    }
    if (clock.now() > c.expiresAt) {
      this.deps.observer.reply(thread, key('expired'), `⌛ <@${user}>, that confirmation expired (they last 10 minutes). Run \`${again}\` again to get a fresh one.`, 'normal');
      await this.commit();
      return;
    }
    const rk = this.rolloutKey(target);
    const holder = this.busy.get(rk);
    if (holder) {
      this.deps.observer.reply(thread, key('busy'), `⏳ ${who(holder)} is already changing ${target.app.name} ${target.env.name}.`, 'normal');
      await this.commit();
      return;
    }
    this.busy.set(rk, user);
    try {
      // Claim it durably first: a second click or a Slack retry finds it taken.
      c.status = 'done';
      c.doneBy = user;
      c.doneAt = clock.now();
      await store.flush();
      if (c.action === 'deploy') {
        let current: RolloutState | undefined;
        try {
          current = await this.deps.cluster.get(target.env.namespace, target.env.rollout);
        } catch {
          current = undefined;
        }
        await this.deps.chain?.confirmDeploy(c, user, current);
        return;
      }
      const pf = await this.preflight({ target, thread, action: c.action, full: c.full, force: c.force });
      const changed = this.changes(c, pf);
      if (pf.refusal || changed) {
        c.status = 'failed';
        const why = changed ? `the rollout changed since the confirmation was shown: ${changed}` : pf.refusal;
        this.deps.observer.reply(thread, key('stale'), `🛑 Not ${pastTense(c.action)}: ${why}\nNothing was sent. Run \`${c.action === 'promote' ? `/promote ${c.env}` : `/rollout ${c.action} ${c.env}`}\` again to see the current state.`, 'high');
        this.audit(pf, user, 'slack', `refused: ${why}`);
        await this.commit();
        return;
      }
      await this.execute(pf, user, 'slack');
    } finally {
      this.busy.delete(rk);
    }
  }

  /** Sends the patches, records who did it, and says so in the thread. Returns the outcome line. */
  private async execute(pf: Preflight, user: string, source: 'slack' | 'github'): Promise<string> {
    const { cluster } = this.deps;
    const { target, thread } = pf;
    const sent: string[] = [];
    try {
      for (const patch of pf.patches) {
        await cluster.patch(target.env.namespace, target.env.rollout, patch);
        sent.push(describePatch(patch));
      }
    } catch (err) {
      const message = err instanceof ServiceError || err instanceof RateLimitedError ? err.message : (err as Error).message;
      const text = `⚠️ ${capitalize(pf.action)} failed: ${message}${sent.length ? `\nAlready sent: ${sent.join(', ')}` : '\nNothing was sent.'}`;
      this.deps.log.error({ err, app: target.app.name, env: target.env.name, action: pf.action }, 'rollout patch failed');
      this.deps.observer.reply(thread, `fail:${this.deps.clock.now()}`, text, 'high');
      this.audit(pf, user, source, `failed: ${message}`);
      await this.commit();
      return text;
    }
    const by = source === 'github' ? `@${user} (GitHub)` : user;
    const what = pf.action === 'promote' ? (pf.full ? 'promoted (full)' : 'promoted') : pf.action === 'abort' ? 'aborted' : 'retried';
    thread.actions.push({ at: this.deps.clock.now(), who: by, what: `${what}${pf.force ? ' with --force (override)' : ''}` });
    thread.cardVersion++;
    const text = `🚀 ${capitalize(what)} by ${source === 'github' ? `@${esc(user)} from GitHub` : `<@${user}>`}: ${esc(pf.describe)}${pf.force && pf.proof && !pf.proof.ok ? '\n⚠️ Override recorded: the tag was not proven in the previous environment.' : ''}\nSent: ${sent.map((s) => `\`${s}\``).join(', ') || 'no patch (nothing to change)'}`;
    this.deps.observer.reply(thread, `done:${pf.action}:${this.deps.clock.now()}`, text, 'high');
    this.audit(pf, by, source, 'ok');
    await this.commit();
    return text;
  }

  private async preflight(o: { target: EnvTarget; thread: ThreadRecord; action: RolloutAction; full: boolean; force: boolean }): Promise<Preflight> {
    const { target, thread, action } = o;
    const base: Preflight = { ...o, state: thread.lastState!, patches: [], describe: '' };
    let state: RolloutState | undefined;
    try {
      state = await this.deps.cluster.get(target.env.namespace, target.env.rollout);
    } catch (err) {
      return { ...base, refusal: `I could not read the rollout (${(err as Error).message}).` };
    }
    if (!state) return { ...base, refusal: `rollout \`${target.env.namespace}/${target.env.rollout}\` does not exist.` };
    const pf: Preflight = { ...base, state, tag: primaryTag(state) };
    if (state.revision !== thread.revision || (thread.uid && state.uid !== thread.uid)) {
      pf.refusal = `the rollout moved on to revision ${state.revision} since this thread started; use the newer thread.`;
      return pf;
    }

    if (action === 'promote') {
      const plan = planPromotion(state, { full: o.full });
      pf.planKind = plan.kind;
      pf.describe = plan.describe;
      pf.patches = plan.patches;
      if (plan.kind === 'skip-running-step') pf.refusal = `${plan.describe}. Promoting now would skip the running step; wait until it pauses, or use \`--full\` to skip all remaining steps.`;
      else if (plan.kind === 'nothing-to-promote' || plan.kind === 'aborted') pf.refusal = plan.describe;
    } else {
      const plan = action === 'abort' ? planAbort(state) : planRetry(state);
      if ('refusal' in plan) pf.refusal = plan.refusal;
      else {
        pf.describe = plan.describe;
        pf.patches = plan.patches;
      }
    }
    if (pf.refusal) return pf;

    if (action === 'promote') {
      // The exact tag the rollout runs must exist in ECR; anything else is reported as what it is.
      if (!pf.tag) {
        pf.refusal = `the rollout's image has no tag I can verify (${state.images.map((i) => i.image).join(', ') || 'no image'}).`;
        return pf;
      }
      const repo = target.app.image.ecrRepository;
      try {
        pf.image = await this.deps.registry.describe(repo, pf.tag);
      } catch (err) {
        pf.refusal = `I could not verify the image in ECR: ${(err as Error).message}. Nothing was promoted; try again once ECR answers.`;
        return pf;
      }
      if (!pf.image) {
        pf.refusal = `image tag \`${pf.tag}\` does not exist in ECR repository \`${repo}\`: pods would fail to pull it.`;
        return pf;
      }
      pf.proof = describeProof({ target, tag: pf.tag, data: this.deps.store.data, catalog: this.deps.catalog, now: this.deps.clock.now() });
      if (!pf.proof.ok && !o.force) pf.refusal = `${pf.proof.text}. Promote what is proven, or (approvers) add \`--force\` to override; the override is recorded.`;
    }
    return pf;
  }

  private createConfirmation(pf: Preflight, user: string): Confirmation {
    const { store, clock } = this.deps;
    // A new request replaces older pending ones of the same thread and verb.
    for (const c of Object.values(store.data.confirmations)) {
      if (c.threadKey === pf.thread.key && c.action === pf.action && c.status === 'pending') c.status = 'superseded';
    }
    const id = `c${clock.now().toString(36)}${store.data.seq++}`;
    const c: Confirmation = {
      id,
      threadKey: pf.thread.key,
      app: pf.target.app.name,
      env: pf.target.env.name,
      action: pf.action,
      full: pf.full,
      force: pf.force,
      requestedBy: user,
      requestedAt: clock.now(),
      expiresAt: clock.now() + CONFIRMATION_TTL_MS,
      snapshot: snapshotOf(pf.state),
      describe: pf.describe,
      planKind: pf.planKind,
      tag: pf.tag,
      digest: pf.image?.digest,
      status: 'pending',
    };
    store.data.confirmations[id] = c;
    return c;
  }

  /** What differs between the state a confirmation showed and the state now; undefined when nothing that matters. */
  private changes(c: Confirmation, pf: Preflight): string | undefined {
    const now = snapshotOf(pf.state);
    const was = c.snapshot;
    if (was.podHash !== now.podHash || was.image !== now.image) return `it now runs ${now.image ?? 'another image'} (pod hash ${now.podHash ?? '?'}, was ${was.podHash ?? '?'})`;
    if (was.aborted !== now.aborted) return now.aborted ? 'it was aborted' : 'it is no longer aborted';
    if (was.stepIndex !== now.stepIndex) return `it moved from step ${(was.stepIndex ?? 0) + 1} to step ${(now.stepIndex ?? 0) + 1}`;
    if (was.pauseReasons.join() !== now.pauseReasons.join() || was.specPaused !== now.specPaused) return `it is now ${now.phase}${now.pauseReasons.length ? ` (${now.pauseReasons.join(', ')})` : ''}, it was ${was.phase}${was.pauseReasons.length ? ` (${was.pauseReasons.join(', ')})` : ''}`;
    if (c.planKind && pf.planKind && c.planKind !== pf.planKind) return `promotion would now ${pf.describe}`;
    if (c.digest && pf.image && c.digest !== pf.image.digest) return `tag ${c.tag} now points to another image (${pf.image.digest})`;
    return undefined;
  }

  private view(pf: Preflight, ctx: CommandContext, mode: PreflightView['mode'], confirmation?: Confirmation): ReturnType<typeof renderPreflight> {
    return renderPreflight({
      mode,
      action: pf.action,
      app: pf.target.app.name,
      env: pf.target.env.name,
      requestedBy: ctx.source === 'github' ? `@${ctx.user} (GitHub)` : ctx.user,
      state: pf.state,
      tag: pf.tag,
      image: pf.image,
      ecrRepository: pf.target.app.image.ecrRepository,
      describe: pf.describe,
      patches: pf.patches,
      proof: pf.proof,
      force: pf.force,
      refusal: pf.refusal,
      approvers: this.approverList(pf.target),
      confirmationId: confirmation?.id,
      namespace: pf.target.env.namespace,
      rollout: pf.target.env.rollout,
    });
  }

  private post(thread: ThreadRecord, key: string, content: { text: string; blocks?: unknown[] }, priority: 'high' | 'normal'): void {
    this.deps.observer.reply(thread, key, content.text, priority, { blocks: content.blocks });
  }

  private audit(pf: Preflight, who_: string, source: 'slack' | 'github', result: string): void {
    this.deps.store.data.audit.push({
      at: this.deps.clock.now(),
      who: who_,
      source,
      action: pf.action === 'promote' && pf.full ? 'promote --full' : pf.action,
      app: pf.target.app.name,
      env: pf.target.env.name,
      tag: pf.tag,
      digest: pf.image?.digest,
      override: pf.force && pf.proof ? !pf.proof.ok : undefined,
      result,
      threadKey: pf.thread.key,
    });
  }

  private async commit(): Promise<void> {
    await this.deps.store.flush();
    this.deps.onChange();
  }

  /** The latest request of this verb in the thread, whatever its status (confirm() explains each status). */
  private latestConfirmation(thread: ThreadRecord, actions: string[]): Confirmation | undefined {
    const list = Object.values(this.deps.store.data.confirmations).filter((c) => c.threadKey === thread.key && actions.includes(c.action));
    list.sort((a, b) => b.requestedAt - a.requestedAt);
    return list[0];
  }

  private currentThread(target: EnvTarget): ThreadRecord | undefined {
    const rec = this.deps.store.data.envs[target.key];
    return rec?.threadKey ? this.deps.store.data.threads[rec.threadKey] : undefined;
  }

  /** True when the env has no approver list (anyone in the channel), or the user is on it. GitHub users are checked by permission instead. */
  private isApprover(target: EnvTarget, ctx: Pick<CommandContext, 'source' | 'user'>): boolean {
    if (ctx.source === 'github') return true;
    const users = target.env.approvers?.slackUsers;
    return !users || users.length === 0 || users.includes(ctx.user);
  }

  private approverList(target: EnvTarget): string {
    const users = target.env.approvers?.slackUsers;
    return users && users.length ? users.map((u) => `<@${u}>`).join(', ') : 'anyone in the channel';
  }

  private rolloutKey(target: EnvTarget): string {
    return `${target.env.namespace}/${target.env.rollout}`;
  }
}

function snapshotOf(s: RolloutState): RolloutSnapshot {
  return {
    podHash: s.currentPodHash,
    image: s.images[0]?.image,
    phase: s.phase,
    pauseReasons: [...s.pauseReasons],
    stepIndex: s.canary?.stepIndex,
    aborted: s.aborted,
    specPaused: s.specPaused,
  };
}

/** `PATCH rollouts/status {"status":{"pauseConditions":null}}` */
export function describePatch(p: RolloutPatch): string {
  return `PATCH ${p.target === 'status' ? 'rollouts/status' : 'rollouts'} ${JSON.stringify(p.body)}`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function pastTense(a: RolloutAction): string {
  return a === 'promote' ? 'promoted' : a === 'abort' ? 'aborted' : 'retried';
}
