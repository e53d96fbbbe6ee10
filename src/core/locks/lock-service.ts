import type { EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-types.js';
import { approverList, isApprover } from '../policy/approvers.js';
import type { Clock } from '../ports.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import type { FreezeCalendar } from './freeze-calendar.js';
import { judgeLock, type LockHold } from './judge-lock.js';
import type { LockGate, LockVerdict } from './lock-gate.js';
import type { LockRecord } from './lock-record.js';
import { describeHold, holdSummary, renderHoldRefusal, renderLockAnswer, renderLockCardLine } from './render-lock.js';

export interface LockServiceDeps {
  stores: Pick<Stores, 'locks' | 'threads'>;
  kernel: ThreadKernel;
  clock: Clock;
  calendar: FreezeCalendar;
}

/**
 * `/rollout lock|unlock`: approvers lock an environment (kept in the store by `<app>/<env>`, so it survives restarts)
 * and unlock it; promotions and chain dispatches ask `verdict` (a lock, or a configured freeze window now), and the
 * card and `/rollout status` show what holds it.
 */
export class LockService implements LockGate {
  constructor(private readonly deps: LockServiceDeps) {}

  async lock(o: { target: EnvTarget; ctx: CommandContext; reason?: string }): Promise<CommandReply> {
    const { target, ctx } = o;
    const name = nameOf(target);
    if (!isApprover(target, ctx)) return answer(renderLockAnswer({ kind: 'denied', name, verb: 'lock', approvers: approverList(target) }));
    const now = this.deps.clock.now();
    const lock: LockRecord = { app: target.app.name, env: target.env.name, by: ctx.user, source: ctx.source, since: now, ...(o.reason ? { reason: o.reason } : {}) };
    if (!(await this.deps.stores.locks.setIfAbsent(target.key, lock))) {
      const standing = (await this.deps.stores.locks.get(target.key)) ?? lock;
      return answer(renderLockAnswer({ kind: 'already-locked', name, lock: standing, now }));
    }
    await this.note(target, ctx, { action: 'lock', result: 'ok', cardLine: `locked${lock.reason ? `: ${lock.reason}` : ''}` });
    return answer(renderLockAnswer({ kind: 'locked', name, lock, now }));
  }

  async unlock(o: { target: EnvTarget; ctx: CommandContext }): Promise<CommandReply> {
    const { target, ctx } = o;
    const name = nameOf(target);
    if (!isApprover(target, ctx)) return answer(renderLockAnswer({ kind: 'denied', name, verb: 'unlock', approvers: approverList(target) }));
    const lock = await this.deps.stores.locks.get(target.key);
    if (!lock) return answer(renderLockAnswer({ kind: 'not-locked', name }));
    await this.deps.stores.locks.delete(target.key);
    await this.note(target, ctx, { action: 'unlock', result: 'ok', cardLine: 'unlocked' });
    return answer(renderLockAnswer({ kind: 'unlocked', name, lock, by: ctx.user, source: ctx.source }));
  }

  /** What holds the environment now (a lock, else a freeze window `now` is inside). */
  async hold(target: EnvTarget): Promise<LockHold | undefined> {
    const lock = await this.deps.stores.locks.get(target.key);
    return judgeLock({ ...(lock ? { lock } : {}), freezes: target.env.freezes, now: this.deps.clock.now(), calendar: this.deps.calendar });
  }

  async verdict(o: { target: EnvTarget; what: 'promote' | 'dispatch' }): Promise<LockVerdict | undefined> {
    const hold = await this.hold(o.target);
    if (!hold) return undefined;
    return { hold, refusal: renderHoldRefusal({ hold, name: nameOf(o.target), now: this.deps.clock.now(), what: o.what }), summary: holdSummary(hold) };
  }

  /** The `/rollout status` line of a held environment, if it is held. */
  async statusLine(target: EnvTarget): Promise<string | undefined> {
    const hold = await this.hold(target);
    return hold ? describeHold({ hold, name: nameOf(target), now: this.deps.clock.now() }) : undefined;
  }

  /** The card line of a thread whose environment is locked (freezes come and go by the clock, so only locks show). */
  async cardLine(thread: { app: string; env: string }): Promise<string | undefined> {
    const lock = await this.deps.stores.locks.get(`${thread.app}/${thread.env}`);
    return lock ? renderLockCardLine(lock) : undefined;
  }

  /** Records a lock or unlock (audit, and the line on the current card, which is redrawn to show the lock). */
  private async note(target: EnvTarget, ctx: CommandContext, o: { action: string; result: string; cardLine: string }): Promise<void> {
    const { kernel } = this.deps;
    const thread = await kernel.current(target);
    const who = ctx.source === 'github' ? `@${ctx.user} (GitHub)` : ctx.user;
    await kernel.record({ target, actor: { who, source: ctx.source }, action: o.action, result: o.result, ...(thread ? { thread, cardLine: o.cardLine } : {}) });
    await kernel.commit();
  }
}

function nameOf(target: EnvTarget): string {
  return `${target.app.name} ${target.env.name}`;
}

function answer(text: string): CommandReply {
  return { text };
}
