import type { Catalog, EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-service.js';
import type { Logger } from '../logger.js';
import { planPromotion } from '../policy/plan-rollout-action.js';
import type { Clock, ImageRegistry, RolloutCluster, RolloutPatch, StateStore } from '../ports.js';
import { approverList, isApprover } from '../policy/approvers.js';
import { esc, who } from '../render/mrkdwn.js';
import { renderPreflight, type PreflightView } from '../render/render-preflight.js';
import { renderConfirmationNotice, type ConfirmationNotice, type RequestLine } from '../render/render-confirmation-notice.js';
import { slackToMarkdown } from '../render/to-markdown.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { Confirmation, ThreadRecord } from '../store-data.js';
import type { RolloutObserver } from './rollout-observer.js';
import type { PromotionChain } from './promotion-chain.js';
import { CONFIRMATION_TTL_MS, openConfirmation } from './open-confirmation.js';
import { pickConfirmation } from './pick-confirmation.js';
import { runPreflight, type Preflight, type RolloutAction } from './run-preflight.js';
import { judgeChanges, snapshotOf } from './judge-changes.js';
import { requestLineOf } from './request-line-of.js';

export { CONFIRMATION_TTL_MS, type RolloutAction };

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

/**
 * Promote, abort and retry: checked, confirmed, exact. A request runs the preflight (fresh read of the rollout, the image
 * tag verified in ECR, the exact patches chosen from the object as `kubectl argo rollouts` would, the tag proven in the
 * previous environment) and shows it in the deploy thread. An approver confirms by pressing the button on that card (it
 * confirms exactly that request) or typing the verb in the thread (only where that cannot be mistaken for another
 * pending request) within 10 minutes; the rollout is read again and the patches go out only if nothing changed.
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
        if (o.force && !isApprover(target, ctx)) return { text: `🚫 \`--force\` is for approvers of ${name}: ${approverList(target)}.` };
        const offered = await this.deps.chain.offer({ target, ctx, current, dryRun: o.dryRun ?? false, force: o.force ?? false });
        if (offered) return offered;
      }
    }
    if (!thread) return { text: `🤷 Nothing to ${action} in ${name}: no deploy is in progress there (its rollout has not changed since I started watching).` };
    const holder = this.busy.get(this.rolloutKey(target));
    if (holder) return { text: `⏳ ${who(holder)} is already changing ${name}; wait until that has finished.` };
    if (o.force && !isApprover(target, ctx)) {
      return { text: `🚫 \`--force\` promotes a tag that is not proven in the previous environment, so only approvers of ${name} may use it: ${approverList(target)}.` };
    }

    this.busy.set(this.rolloutKey(target), ctx.user);
    try {
      const pf = await runPreflight(this.deps, { target, thread, action, full: o.full ?? false, force: o.force ?? false });
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

      const opened = this.createConfirmation(pf, ctx.user);
      this.post(thread, `cf:${opened.confirmation.id}`, this.view(pf, ctx, 'confirm', opened), 'high');
      await this.commit();
      return { text: `👉 ${capitalize(action)} of ${name} is waiting for confirmation in ${where}.` };
    } finally {
      this.busy.delete(this.rolloutKey(target));
    }
  }

  /**
   * Someone typed in a deploy thread. `promote`, `abort` or `retry` confirms the pending request of that verb that it
   * cannot be mistaken for (pickConfirmation); when several could be meant, it asks which and confirms nothing.
   * Returns false when the text is not one of those words (ordinary conversation).
   */
  async typed(o: { channel: string; threadTs: string; user: string; text: string }): Promise<boolean> {
    const word = o.text.trim().toLowerCase().replace(/[.!]+$/, '');
    if (word !== 'promote' && word !== 'abort' && word !== 'retry') return false;
    const thread = Object.values(this.deps.store.data.threads).find((t) => t.channel === o.channel && t.rootTs === o.threadTs);
    if (!thread) return false;
    const now = this.deps.clock.now();
    const pick = pickConfirmation({ confirmations: Object.values(this.deps.store.data.confirmations), threadKey: thread.key, word, user: o.user, now });
    if (pick.kind === 'none') {
      const target = this.deps.catalog.target(thread.app, thread.env);
      this.deps.observer.reply(thread, `typed:${o.threadTs}:${o.user}:${now}`, `🤔 <@${o.user}>, nothing is waiting for \`${word}\` here. Start with \`${word === 'promote' ? `/promote ${target?.env.name ?? thread.env}` : `/rollout ${word} ${target?.env.name ?? thread.env}`}\`.`, 'normal');
      await this.commit();
      return true;
    }
    if (pick.kind === 'ask') {
      const requests = pick.candidates.map((c) => requestLineOf(c, this.deps.catalog));
      this.deps.observer.reply(thread, `which:${o.threadTs}:${o.user}:${now}`, renderConfirmationNotice({ kind: 'which', user: o.user, word, requests }), 'normal');
      await this.commit();
      return true;
    }
    await this.confirm(pick.confirmation, o.user);
    return true;
  }

  /**
   * A button on a confirmation card. It acts on exactly the request whose id it carries, and only in the thread that
   * request was posted in; a stale card (superseded, cancelled, expired, done) changes nothing and the presser is told why.
   */
  async pressed(o: { actionId: string; value: string; user: string; channel: string; threadTs?: string }): Promise<void> {
    if (o.actionId !== 'rollout_confirm' && o.actionId !== 'rollout_cancel') return;
    const c = this.deps.store.data.confirmations[o.value];
    const thread = c ? this.deps.store.data.threads[c.threadKey] : undefined;
    const answer = (n: ConfirmationNotice) => this.answer({ channel: o.channel, user: o.user, threadTs: o.threadTs, thread }, n);
    if (!c || !thread) return answer({ kind: 'unknown', user: o.user });
    if (thread.channel !== o.channel || (o.threadTs !== undefined && thread.rootTs !== o.threadTs)) return answer({ kind: 'elsewhere', user: o.user });
    if (o.actionId === 'rollout_cancel') {
      const stale = this.staleNotice(c, o.user);
      if (stale) return answer(stale);
      const target = this.deps.catalog.target(c.app, c.env);
      if (target && !isApprover(target, { source: 'slack', user: o.user }) && o.user !== c.requestedBy) {
        await this.deps.ephemeral?.({ channel: o.channel, user: o.user, threadTs: thread.rootTs, text: `Only ${who(c.requestedBy)} or an approver can cancel this.` });
        return;
      }
      c.status = 'cancelled';
      c.doneBy = o.user;
      c.doneAt = this.deps.clock.now();
      this.deps.observer.reply(thread, `cancel:${c.id}`, `✖️ ${capitalize(c.action)} cancelled by <@${o.user}>: ${requestLineOf(c, this.deps.catalog).headline}.`, 'normal');
      await this.commit();
      return;
    }
    await this.confirm(c, o.user, o.channel);
  }

  /** Why a request can no longer be confirmed or cancelled, or undefined while it waits. */
  private staleNotice(c: Confirmation, user: string): ConfirmationNotice | undefined {
    const verb = c.action === 'deploy' ? 'deploy' : c.action;
    const again = c.action === 'deploy' || c.action === 'promote' ? `/promote ${c.env}` : `/rollout ${c.action} ${c.env}`;
    if (c.status === 'pending') return this.deps.clock.now() > c.expiresAt ? { kind: 'stale', user, verb, status: 'expired', again } : undefined;
    const successor = c.supersededBy ? this.deps.store.data.confirmations[c.supersededBy] : undefined;
    const line: RequestLine | undefined = successor ? requestLineOf(successor, this.deps.catalog) : undefined;
    return { kind: 'stale', user, verb, status: c.status, by: c.doneBy, again, ...(line ? { successor: line } : {}) };
  }

  /** Says why nothing was confirmed: to the presser only when a button was pressed (and we can), else in the thread. */
  private async answer(o: { channel?: string; user: string; threadTs?: string; thread?: ThreadRecord }, n: ConfirmationNotice): Promise<void> {
    const text = renderConfirmationNotice(n);
    if (o.channel && this.deps.ephemeral) {
      await this.deps.ephemeral({ channel: o.channel, user: o.user, threadTs: o.thread?.rootTs ?? o.threadTs, text });
      return;
    }
    if (!o.thread) return;
    this.deps.observer.reply(o.thread, `notice:${n.kind}:${o.user}:${this.deps.clock.now()}`, text, 'normal');
    await this.commit();
  }

  /** Confirms exactly `c`. `channel` is set for a button press (answers go to the presser only). */
  private async confirm(c: Confirmation, user: string, channel?: string): Promise<void> {
    const { store, clock } = this.deps;
    const thread = store.data.threads[c.threadKey];
    const target = this.deps.catalog.target(c.app, c.env);
    if (!thread || !target) return;
    const key = (s: string) => `${s}:${c.id}:${user}:${clock.now()}`;
    const to = { channel, user, thread };

    const stale = this.staleNotice(c, user);
    if (stale) return this.answer(to, stale);
    if (!isApprover(target, { source: 'slack', user })) {
      return this.answer(to, { kind: 'not-approver', user, name: `${target.app.name} ${target.env.name}`, approvers: approverList(target) });
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
        } catch (err) {
          c.status = 'failed';
          this.deps.log.warn({ err, app: target.app.name, env: target.env.name }, 'rollout read before deploy failed');
          this.deps.observer.reply(thread, key('deploy-read'), `🚫 Not dispatched: I could not read the rollout of ${esc(target.app.name)} ${esc(target.env.name)} (${esc((err as Error).message)}). Nothing was sent; run \`/promote ${c.env}\` again once it answers.`, 'high');
          await this.commit();
          return;
        }
        await this.deps.chain?.confirmDeploy(c, user, current);
        return;
      }
      const pf = await runPreflight(this.deps, { target, thread, action: c.action, full: c.full, force: c.force });
      const changed = judgeChanges(c, pf);
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
      const message = (err as Error).message;
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

  private createConfirmation(pf: Preflight, user: string): ReturnType<typeof openConfirmation> {
    return openConfirmation({
      data: this.deps.store.data,
      now: this.deps.clock.now(),
      request: {
        threadKey: pf.thread.key,
        app: pf.target.app.name,
        env: pf.target.env.name,
        action: pf.action,
        full: pf.full,
        force: pf.force,
        requestedBy: user,
        snapshot: snapshotOf(pf.state),
        describe: pf.describe,
        planKind: pf.planKind,
        tag: pf.tag,
        digest: pf.image?.digest,
      },
    });
  }

  private view(pf: Preflight, ctx: CommandContext, mode: PreflightView['mode'], opened?: ReturnType<typeof openConfirmation>): ReturnType<typeof renderPreflight> {
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
      full: pf.full,
      force: pf.force,
      refusal: pf.refusal,
      approvers: approverList(pf.target),
      requesterMayConfirm: isApprover(pf.target, ctx),
      others: opened?.others.map((c) => requestLineOf(c, this.deps.catalog)),
      replacesOwn: (opened?.replaced.length ?? 0) > 0,
      confirmationId: opened?.confirmation.id,
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

  private currentThread(target: EnvTarget): ThreadRecord | undefined {
    const rec = this.deps.store.data.envs[target.key];
    return rec?.threadKey ? this.deps.store.data.threads[rec.threadKey] : undefined;
  }

  private rolloutKey(target: EnvTarget): string {
    return `${target.env.namespace}/${target.env.rollout}`;
  }
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
