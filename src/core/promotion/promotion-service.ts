import { ecrRepositoryOf, rolloutName, type Catalog, type EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-types.js';
import type { Logger } from '../logger.js';
import { planPromotion } from './plan-rollout-action.js';
import type { Clock, ImageRegistry, RolloutCluster } from '../ports.js';
import { approvalRule, approverList, isApprover } from '../policy/approvers.js';
import { renderPreflight, type PreflightView } from './render-preflight.js';
import { renderPromotion } from './render-promotion.js';
import { replyFor } from '../commands/reply-for.js';
import { slackToMarkdown } from '../text/to-markdown.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import type { DeployOffers } from './deploy-offers.js';
import type { LockGate } from '../locks/lock-gate.js';
import { ConfirmationService, type PressedButton, type TypedMessage } from './confirmation-service.js';
import { CONFIRMATION_TTL_MS, openConfirmation } from './open-confirmation.js';
import { type Preflight, type RolloutAction } from './run-preflight.js';
import { allOf, busyKeyOf, executeDeployAction, memberSnapshots, runDeployPreflight } from './run-deploy-preflight.js';
import { snapshotOf } from './judge-changes.js';
import { requestLineOf } from './request-line-of.js';
import type { ConfirmationCards } from './confirmation-cards.js';
import { rejectRequests } from './reject-requests.js';
import { pressPromote } from './press-promote.js';
import { PROMOTE_NOW_ACTION } from './promote-button.js';

export { CONFIRMATION_TTL_MS, type RolloutAction };

export interface PromotionServiceDeps {
  catalog: Catalog;
  stores: Stores;
  kernel: ThreadKernel;
  clock: Clock;
  log: Logger;
  cluster: RolloutCluster;
  registry: ImageRegistry;
  /** Link to a thread. */
  permalink: (channel: string, ts: string) => string;
  /** A message only one user sees (for double clicks and the like). */
  ephemeral?: (o: { channel: string; user: string; threadTs?: string; text: string }) => Promise<void>;
  /** The chain between environments (deploy offers when nothing is paused), wired in by the composition root. */
  deployOffers?: DeployOffers;
  /** Locks and freezes: a held environment refuses promotions unless an approver forces it (the locks feature). */
  locks?: LockGate;
  /** The confirmation cards (edited in place once decided, expired on a timer), one set shared with the chain's offers. */
  cards: ConfirmationCards;
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
  private readonly confirmations: ConfirmationService;
  /** The confirmation cards: edited in place once decided, expired on a timer. */
  readonly cards: ConfirmationCards;

  constructor(private readonly deps: PromotionServiceDeps) {
    this.cards = deps.cards;
    this.confirmations = new ConfirmationService({ ...deps, busy: this.busy, cards: this.cards });
  }

  /** Arms the expiry of the confirmation cards still waiting (start-up). */
  resume(): Promise<void> {
    return this.cards.resume();
  }

  /** Cancels the expiry timers (shutdown). */
  stop(): void {
    this.cards.stop();
  }

  /** Whether somebody is changing this rollout (`namespace/name`) through the bot right now. */
  changing(rolloutKey: string): boolean {
    return this.busy.has(rolloutKey);
  }

  /** `/promote`, `/rollout abort|retry` from Slack or a GitHub comment. */
  async request(o: { action: RolloutAction; target: EnvTarget; ctx: CommandContext; full?: boolean; dryRun?: boolean; force?: boolean }): Promise<CommandReply> {
    const { target, ctx, action } = o;
    const thread = await this.deps.kernel.current(target);
    const name = `${target.app.name} ${target.env.name}`;
    if (action === 'promote' && target.env.deploy && this.deps.deployOffers) {
      // Nothing paused but a deploy block: offer to bring the previous environment's proven tag instead.
      let current: RolloutState | undefined;
      try {
        current = await this.deps.cluster.get(target.env.namespace, rolloutName(target), target.env.cluster);
      } catch (err) {
        return { text: renderPromotion({ kind: 'unreadable', name, error: (err as Error).message }) };
      }
      if (!current || planPromotion(current, { full: o.full ?? false }).kind === 'nothing-to-promote') {
        if (o.force && !isApprover(target, ctx)) return { text: renderPromotion({ kind: 'force-offer-denied', name, approvers: approverList(target) }) };
        const offered = await this.deps.deployOffers.offer({ target, ctx, current, dryRun: o.dryRun ?? false, force: o.force ?? false });
        if (offered) return offered;
      }
    }
    if (!thread) return { text: renderPromotion({ kind: 'no-thread', action, name }) };
    const holder = this.busy.get(this.rolloutKey(target));
    if (holder) return { text: renderPromotion({ kind: 'busy', holder, name, wait: true }) };
    if (o.force && !isApprover(target, ctx)) return { text: renderPromotion({ kind: 'force-denied', name, approvers: approverList(target) }) };

    this.busy.set(this.rolloutKey(target), ctx.user);
    try {
      const pf = await runDeployPreflight(this.deps, { target, thread, action, full: o.full ?? false, force: o.force ?? false });
      const link = thread.rootTs ? this.deps.permalink(thread.channel, thread.rootTs) : undefined;
      const where = link ? `<${link}|the deploy thread>` : 'the deploy thread';

      if (o.dryRun || pf.refusal) {
        const view = this.view(pf, ctx, o.dryRun ? 'dry-run' : 'refused');
        await this.post(thread, `pf:${this.deps.clock.now()}:${ctx.user}`, view, 'normal');
        await this.commit();
        if (ctx.source === 'github') return replyFor(ctx, view.mrkdwn);
        return { text: renderPromotion(o.dryRun ? { kind: 'dry-run-posted', where } : { kind: 'refused', refusal: pf.refusal!, where }) };
      }

      if (ctx.source === 'github' && approvalRule(target).required < 2) {
        // The comment is the explicit intent (with the two-person rule it opens a request like any other); the preflight just read the rollout fresh.
        const { text: result } = await executeDeployAction(this.deps, { pf, user: ctx.user, source: 'github' });
        return { text: result, markdown: slackToMarkdown(`${this.view(pf, ctx, 'executed').mrkdwn}\n\n${result}`) };
      }

      const opened = await this.createConfirmation(pf, ctx.user);
      const view = this.view(pf, ctx, 'confirm', opened);
      const eventKey = `cf:${opened.confirmation.id}`;
      await this.deps.kernel.reply(thread, eventKey, view.text, 'high', { blocks: view.blocks, editable: true });
      await this.cards.posted(opened.confirmation, this.deps.kernel.replyKey(thread, eventKey), view);
      for (const old of opened.replaced) await this.cards.settle(old.id, { kind: 'superseded' });
      await this.commit();
      return { text: renderPromotion({ kind: 'waiting', action, name, where }) };
    } finally {
      this.busy.delete(this.rolloutKey(target));
    }
  }

  /** `/rollout reject <env> [app] [reason]`: an approver refuses the requests waiting in the environment's thread. */
  reject(o: { target: EnvTarget; ctx: CommandContext; reason?: string }): Promise<CommandReply> {
    return rejectRequests({ ...this.deps, cards: this.cards }, o);
  }

  /**
   * Someone typed in a deploy thread. `promote`, `abort` or `retry` confirms the pending request of that verb that it
   * cannot be mistaken for (pickConfirmation); when several could be meant, it asks which and confirms nothing.
   * Returns false when the text is not one of those words (ordinary conversation).
   */
  typed(o: TypedMessage): Promise<boolean> {
    return this.confirmations.typed(o);
  }

  /**
   * A button on a confirmation card. It acts on exactly the request whose id it carries, and only in the thread that
   * request was posted in; a stale card (superseded, cancelled, expired, done) changes nothing and the presser is told why.
   */
  pressed(o: PressedButton): Promise<void> {
    if (o.actionId === PROMOTE_NOW_ACTION) return pressPromote({ ...this.deps, busy: this.busy, cards: this.cards }, o);
    return this.confirmations.pressed(o);
  }

  /** Handling a thread message threw (or claiming it did): a confirming word is answered "failed, nothing was changed". */
  typedFailed(o: TypedMessage, err: unknown): Promise<void> {
    return this.confirmations.typedFailed(o, err);
  }

  /** Handling a button press threw: the presser is told "failed, nothing was changed". */
  pressFailed(o: PressedButton, err: unknown): Promise<void> {
    return this.confirmations.pressFailed(o, err);
  }

  private createConfirmation(pf: Preflight, user: string): ReturnType<typeof openConfirmation> {
    return openConfirmation(this.deps.stores, {
      now: this.deps.clock.now(),
      request: {
        threadKey: (pf.home ?? pf.thread).key,
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
        ...(pf.members ? { members: memberSnapshots(pf) } : {}),
      },
    });
  }

  private view(pf: Preflight, ctx: CommandContext, mode: PreflightView['mode'], opened?: Awaited<ReturnType<typeof openConfirmation>>): ReturnType<typeof renderPreflight> {
    return renderPreflight({
      mode,
      action: pf.action,
      app: pf.target.app.name,
      env: pf.target.env.name,
      requestedBy: ctx.source === 'github' ? `@${ctx.user} (GitHub)` : ctx.user,
      state: pf.state,
      tag: pf.tag,
      image: pf.image,
      ecrRepository: ecrRepositoryOf(pf.target),
      describe: pf.describe,
      patches: allOf(pf).flatMap((p) => p.patches),
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
      rollout: rolloutName(pf.target),
      ...(pf.members ? { members: pf.members.map((m) => ({ state: m.state, tag: m.tag, image: m.image, ecrRepository: ecrRepositoryOf(m.target), describe: m.describe, proof: m.proof, namespace: m.target.env.namespace, rollout: rolloutName(m.target) })) } : {}),
      ...(pf.skipped?.length ? { skipped: pf.skipped } : {}),
    });
  }

  private post(thread: ThreadRecord, key: string, content: { text: string; blocks?: unknown[] }, priority: 'high' | 'normal'): Promise<void> {
    return this.deps.kernel.reply(thread, key, content.text, priority, { blocks: content.blocks });
  }

  private commit(): Promise<void> {
    return this.deps.kernel.commit();
  }

  private rolloutKey(target: EnvTarget): string {
    return busyKeyOf(this.deps.catalog, target);
  }
}
