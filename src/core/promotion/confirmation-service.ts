import { rolloutName, type Catalog } from '../catalog.js';
import type { Logger } from '../logger.js';
import { approvalRule, approverList, isApprover } from '../policy/approvers.js';
import type { Clock, ImageRegistry, RolloutCluster } from '../ports.js';
import { renderConfirmationNotice, type ConfirmationNotice } from './render-confirmation-notice.js';
import { renderFailure } from '../commands/render-failure.js';
import { renderPromotion } from './render-promotion.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { Confirmation, ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import { auditRolloutAction } from './audit-rollout-action.js';
import { againCommand } from './again-command.js';
import { judgeStaleConfirmation } from './judge-stale-confirmation.js';
import { pickConfirmation } from './pick-confirmation.js';
import type { DeployOffers } from './deploy-offers.js';
import { requestLineOf } from './request-line-of.js';
import { busyKeyOf, executeDeployAction, judgeDeployChanges, runDeployPreflight } from './run-deploy-preflight.js';
import type { LockGate } from '../locks/lock-gate.js';
import type { ConfirmationCards } from './confirmation-cards.js';
import { collectApproval } from './collect-approval.js';

export interface ConfirmationDeps {
  catalog: Catalog;
  stores: Stores;
  kernel: ThreadKernel;
  clock: Clock;
  log: Logger;
  cluster: RolloutCluster;
  registry: ImageRegistry;
  /** A message only one user sees (for double clicks and the like). */
  ephemeral?: (o: { channel: string; user: string; threadTs?: string; text: string }) => Promise<void>;
  /** Runs confirmed deploy offers (the chain, wired in by the composition root). */
  deployOffers?: DeployOffers;
  /** Locks and freezes: asked again when a promotion is confirmed (the locks feature). */
  locks?: LockGate;
  /** Who is changing which rollout (`namespace/name`) right now; shared with the requests. */
  busy: Map<string, string>;
  /** The cards of decided requests lose their buttons and show the outcome. */
  cards: ConfirmationCards;
}

/** A message typed in a thread. */
export interface TypedMessage {
  channel: string;
  threadTs: string;
  user: string;
  text: string;
  ts?: string;
}

/** A button pressed on a card. */
export interface PressedButton {
  actionId: string;
  value: string;
  user: string;
  channel: string;
  threadTs?: string;
}

/**
 * Confirmations typed or pressed in a deploy thread: the one owner of "confirm exactly this request". A typed verb
 * confirms the pending request it cannot be mistaken for; a button the request whose id it carries, in its own thread.
 * The rollout is read again and the patches go out only if nothing changed. When handling fails, the person is told
 * that nothing was changed (in the thread for a typed word, to them alone for a press).
 */
export class ConfirmationService {
  constructor(private readonly deps: ConfirmationDeps) {}

  /** `promote`, `abort` or `retry` typed in a deploy thread; false when the text is ordinary conversation. */
  async typed(o: TypedMessage): Promise<boolean> {
    const word = typedWord(o.text);
    const thread = word ? await this.deps.kernel.byRoot(o.channel, o.threadTs) : undefined;
    if (!word || !thread) return false;
    const now = this.deps.clock.now();
    const pick = pickConfirmation({ confirmations: await this.deps.stores.confirmations.ofThread(thread.key), threadKey: thread.key, word, user: o.user, now });
    if (pick.kind === 'none') {
      const env = this.deps.catalog.target(thread.app, thread.env)?.env.name ?? thread.env;
      await this.deps.kernel.reply(thread, `typed:${o.threadTs}:${o.user}:${now}`, renderPromotion({ kind: 'nothing-waiting', user: o.user, word, env }), 'normal');
      await this.commit();
      return true;
    }
    if (pick.kind === 'ask') {
      const requests = pick.candidates.map((c) => requestLineOf(c, this.deps.catalog));
      await this.deps.kernel.reply(thread, `which:${o.threadTs}:${o.user}:${now}`, renderConfirmationNotice({ kind: 'which', user: o.user, word, requests }), 'normal');
      await this.commit();
      return true;
    }
    await this.confirm(pick.confirmation, o.user);
    return true;
  }

  /** A button on a confirmation card; a stale card changes nothing and the presser is told why. */
  async pressed(o: PressedButton): Promise<void> {
    if (o.actionId !== 'rollout_confirm' && o.actionId !== 'rollout_cancel') return;
    const c = await this.deps.stores.confirmations.get(o.value);
    const thread = c ? await this.deps.kernel.byKey(c.threadKey) : undefined;
    const answer = (n: ConfirmationNotice) => this.answer({ channel: o.channel, user: o.user, threadTs: o.threadTs, thread }, n);
    if (!c || !thread) return answer({ kind: 'unknown', user: o.user });
    if (thread.channel !== o.channel || (o.threadTs !== undefined && thread.rootTs !== o.threadTs)) return answer({ kind: 'elsewhere', user: o.user });
    if (o.actionId === 'rollout_cancel') {
      const stale = await this.staleNotice(c, o.user);
      if (stale) return answer(stale);
      const target = this.deps.catalog.target(c.app, c.env);
      if (target && !isApprover(target, { source: 'slack', user: o.user }) && o.user !== c.requestedBy) {
        await this.deps.ephemeral?.({ channel: o.channel, user: o.user, threadTs: thread.rootTs, text: renderPromotion({ kind: 'cancel-denied', requestedBy: c.requestedBy }) });
        return;
      }
      if (!(await this.deps.stores.confirmations.cancel(c.id, o.user, this.deps.clock.now()))) return this.lostRace({ id: c.id, user: o.user, answer });
      await this.deps.cards.settle(c.id, { kind: 'cancelled', by: o.user, at: this.deps.clock.now() });
      await this.deps.kernel.reply(thread, `cancel:${c.id}`, renderPromotion({ kind: 'cancelled', action: c.action, user: o.user, headline: requestLineOf(c, this.deps.catalog).headline, again: againCommand(c.action, c.env) }), 'normal');
      await this.commit();
      return;
    }
    await this.confirm(c, o.user, o.channel);
  }

  /** Handling a typed message threw: a confirming word is answered in its thread (ordinary conversation is not). */
  async typedFailed(o: TypedMessage, err: unknown): Promise<void> {
    const word = typedWord(o.text);
    this.deps.log.error({ err, channel: o.channel, threadTs: o.threadTs, word }, 'typed confirmation failed');
    const thread = word ? await this.deps.kernel.byRoot(o.channel, o.threadTs) : undefined;
    if (!word || !thread) return;
    // The outbox delivers it, also when the store was what failed: it posts once the store writes again.
    await this.deps.kernel.reply(thread, `typed-failed:${o.ts ?? `${o.user}:${this.deps.clock.now()}`}`, renderFailure({ what: `\`${word}\``, error: err }), 'high');
    this.deps.kernel.wake();
  }

  /** Handling a button press threw: the presser alone is told (in the thread when no ephemeral messages are possible). */
  async pressFailed(o: PressedButton, err: unknown): Promise<void> {
    this.deps.log.error({ err, actionId: o.actionId, channel: o.channel }, 'button press failed');
    const text = renderFailure({ what: o.actionId === 'rollout_cancel' ? 'Cancelling' : 'Confirming', error: err });
    if (this.deps.ephemeral) return this.deps.ephemeral({ channel: o.channel, user: o.user, threadTs: o.threadTs, text });
    const c = await this.deps.stores.confirmations.get(o.value);
    const thread = c ? await this.deps.kernel.byKey(c.threadKey) : undefined;
    if (!thread) return;
    await this.deps.kernel.reply(thread, `press-failed:${o.value}:${o.user}:${this.deps.clock.now()}`, text, 'high');
    this.deps.kernel.wake();
  }

  private async staleNotice(c: Confirmation, user: string): Promise<ConfirmationNotice | undefined> {
    const successor = c.supersededBy ? await this.deps.stores.confirmations.get(c.supersededBy) : undefined;
    return judgeStaleConfirmation({ c, user, now: this.deps.clock.now(), ...(successor ? { successor: requestLineOf(successor, this.deps.catalog) } : {}) });
  }

  /** Somebody else decided `id` between our read and our claim: say what became of it, as for any stale request. */
  private async lostRace(o: { id: string; user: string; answer: (n: ConfirmationNotice) => Promise<void> }): Promise<void> {
    const now = await this.deps.stores.confirmations.get(o.id);
    const stale = now ? await this.staleNotice(now, o.user) : { kind: 'unknown' as const, user: o.user };
    if (stale) await o.answer(stale);
  }

  /** Says why nothing was confirmed: to the presser only when a button was pressed (and we can), else in the thread. */
  private async answer(o: { channel?: string; user: string; threadTs?: string; thread?: ThreadRecord }, n: ConfirmationNotice): Promise<void> {
    const text = renderConfirmationNotice(n);
    if (o.channel && this.deps.ephemeral) {
      await this.deps.ephemeral({ channel: o.channel, user: o.user, threadTs: o.thread?.rootTs ?? o.threadTs, text });
      return;
    }
    if (!o.thread) return;
    await this.deps.kernel.reply(o.thread, `notice:${n.kind}:${o.user}:${this.deps.clock.now()}`, text, 'normal');
    await this.commit();
  }

  /** Confirms exactly `c`. `channel` is set for a button press (answers go to the presser only). */
  private async confirm(c: Confirmation, user: string, channel?: string): Promise<void> {
    const { stores, kernel, clock, busy } = this.deps;
    const thread = await kernel.byKey(c.threadKey);
    const target = this.deps.catalog.target(c.app, c.env);
    if (!thread || !target) return;
    const key = (s: string) => `${s}:${c.id}:${user}:${clock.now()}`;
    const to = { channel, user, thread };

    const stale = await this.staleNotice(c, user);
    if (stale) return this.answer(to, stale);
    if (!isApprover(target, { source: 'slack', user })) {
      return this.answer(to, { kind: 'not-approver', user, name: `${target.app.name} ${target.env.name}`, approvers: approverList(target) });
    }
    const rk = busyKeyOf(this.deps.catalog, target);
    const holder = busy.get(rk);
    if (holder) {
      await kernel.reply(thread, key('busy'), renderPromotion({ kind: 'busy', holder, name: `${target.app.name} ${target.env.name}`, wait: false }), 'normal');
      await this.commit();
      return;
    }
    busy.set(rk, user);
    try {
      const lost = () => this.lostRace({ id: c.id, user, answer: (n) => this.answer(to, n) });
      // The two-person rule: this approval is recorded (and shown on the card); only the last one needed goes on.
      const rule = approvalRule(target);
      const step = rule.required >= 2 ? await collectApproval({ stores, cards: this.deps.cards, clock }, { c, user, rule }) : undefined;
      if (step?.kind === 'notice') return this.answer(to, step.notice);
      if (step?.kind === 'gone') return lost();
      if (step?.kind === 'waiting') return this.commit();
      // Claim it durably first: exactly one click, word or Slack retry wins, the others find it taken. If that write
      // fails, it still waits (without the approval that completed it).
      if (!(await stores.confirmations.claim(c.id, user, clock.now()))) return lost();
      try {
        await stores.flush();
      } catch (err) {
        const approvals = step ? { approvals: step.approvals.filter((a) => a.by !== user) } : {};
        await stores.confirmations.update(c.id, { status: 'pending', doneBy: undefined, doneAt: undefined, ...approvals });
        throw err;
      }
      await this.run(c, user, key).catch(async (err: unknown) => {
        // Nothing went out (the patches and the dispatch say so themselves once they may have): a fresh request is needed.
        await stores.confirmations.update(c.id, { status: 'failed' });
        await this.deps.cards.settle(c.id, { kind: 'failed', action: c.action, why: `${(err as Error).message}. Nothing was sent.` }).catch(() => undefined);
        throw err;
      });
    } finally {
      busy.delete(rk);
    }
  }

  /** Runs a claimed confirmation: a deploy offer through the chain, else the preflight again and the patches. */
  private async run(c: Confirmation, user: string, key: (s: string) => string): Promise<void> {
    const { stores, kernel } = this.deps;
    const thread = (await kernel.byKey(c.threadKey))!;
    const target = this.deps.catalog.target(c.app, c.env)!;
    if (c.action === 'deploy') {
      let current: RolloutState | undefined;
      try {
        current = await this.deps.cluster.get(target.env.namespace, rolloutName(target), target.env.cluster);
      } catch (err) {
        await stores.confirmations.update(c.id, { status: 'failed' });
        this.deps.log.warn({ err, app: target.app.name, env: target.env.name }, 'rollout read before deploy failed');
        await kernel.reply(thread, key('deploy-read'), renderPromotion({ kind: 'deploy-unreadable', app: target.app.name, env: target.env.name, error: (err as Error).message }), 'high');
        await this.deps.cards.settle(c.id, { kind: 'failed', action: c.action, why: 'the rollout could not be read (see the thread). Nothing was dispatched' });
        await this.commit();
        return;
      }
      const outcome = await this.deps.deployOffers?.confirmDeploy(c, user, current);
      if (outcome) await this.deps.cards.settle(c.id, outcome);
      return;
    }
    const pf = await runDeployPreflight(this.deps, { target, thread, action: c.action, full: c.full, force: c.force });
    const changed = judgeDeployChanges(c, pf);
    if (pf.refusal || changed) {
      await stores.confirmations.update(c.id, { status: 'failed' });
      const why = changed ? `the rollout changed since the confirmation was shown: ${changed}` : pf.refusal!;
      await kernel.reply(thread, key('stale'), renderPromotion({ kind: 'changed', action: c.action, env: c.env, why }), 'high');
      await auditRolloutAction(kernel, { pf, actor: { who: user, source: 'slack' }, result: `refused: ${why}` });
      await this.deps.cards.settle(c.id, { kind: 'refused', why });
      await this.commit();
      return;
    }
    const { ok } = await executeDeployAction(this.deps, { pf, user, source: 'slack' });
    const at = this.deps.clock.now();
    await this.deps.cards.settle(c.id, ok ? { kind: 'done', action: c.action, by: user, at } : { kind: 'failed', action: c.action, why: 'the patch failed (see the thread)' });
  }

  private commit(): Promise<void> {
    return this.deps.kernel.commit();
  }
}

/** The confirming verb a thread message is, if it is one (`Promote.` counts; `promote it` does not). */
function typedWord(text: string): 'promote' | 'abort' | 'retry' | undefined {
  const word = text.trim().toLowerCase().replace(/[.!]+$/, '');
  return word === 'promote' || word === 'abort' || word === 'retry' ? word : undefined;
}
