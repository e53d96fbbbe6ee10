import type { Catalog, EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-types.js';
import type { Logger } from '../logger.js';
import { approverList, isApprover } from '../policy/approvers.js';
import type { Clock, ErrorSimulator } from '../ports.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import { link } from '../text/mrkdwn.js';
import { renderErrorSim, type ErrorSimMessage, type ErrorSimThreadMessage } from './render-error-sim.js';
import { replyFor } from '../commands/reply-for.js';
import type { ErrorSimRecord, Priority } from '../store-data.js';
import { messageOf } from '../text/message-of.js';
import { DeadlineTimers } from './deadline-timers.js';
import { judgeToggle } from './judge-toggle.js';
import { notConfigured } from './not-configured.js';
import { SerialLanes } from './serial-lanes.js';
import { toggleAndRead } from './toggle-and-read.js';
import { DEFAULT_ERROR_TTL_MS, type ErrorSwitch, type SwitchOutcome, type SwitchRequest } from './error-switch.js';

export interface ErrorSimulationDeps {
  catalog: Catalog;
  stores: Pick<Stores, 'errorSims' | 'threads' | 'flush'>;
  /** The environment's current thread, replies in it, and the audit. */
  kernel: ThreadKernel;
  clock: Clock;
  log: Logger;
  simulator: ErrorSimulator;
  /** Told when the outbox or a card changed (also after a failed store write: the records stay in memory). */
  onChange: () => void;
  permalink: (channel: string, ts: string) => string;
  /** Background work the app waits for on shutdown (TTL expiries fired by timers). */
  track?: (work: Promise<unknown>) => void;
}

/**
 * `/errors on|off|status`, and the switch drills and the TTL use. The endpoint only toggles, so every switch reads the
 * state first, toggles only when it must change, and reads again to confirm; the confirming read is the truth. Work on
 * one environment is serialised, so two people (or a person and the TTL) never toggle on top of each other.
 * Whenever errors may be on, a deadline is on record and armed: they switch off by themselves, also after a restart.
 */
export class ErrorSimulationService implements ErrorSwitch {
  private readonly lanes = new SerialLanes();
  private readonly timers: DeadlineTimers;

  constructor(private readonly deps: ErrorSimulationDeps) {
    this.timers = new DeadlineTimers({ clock: deps.clock, log: deps.log, track: deps.track, onDue: (key) => this.expire(key) });
  }

  /** Handles `/errors on|off|status <env> [app]` from Slack or a GitHub comment. */
  async command(o: { action: 'on' | 'off' | 'status'; target: EnvTarget; ctx: CommandContext }): Promise<CommandReply> {
    const { action, target, ctx } = o;
    const answer = (text: string): CommandReply => replyFor(ctx, text);
    const env = { app: target.app.name, env: target.env.name };
    if (!target.env.errorSimulation) return answer(notConfigured(target, this.deps.catalog));
    if (action === 'status') return answer(await this.status(target));
    if (!isApprover(target, ctx)) return answer(renderErrorSim({ kind: 'not-approver', ...env, action, approvers: approverList(target) }));
    const by = ctx.source === 'github' ? `@${ctx.user} (GitHub)` : ctx.user;
    const request: SwitchRequest = { by, source: ctx.source, why: 'command' };
    const out = action === 'on' ? await this.switchOn(target, request) : await this.switchOff(target, request);
    const thread = await this.deps.kernel.current(target);
    const where = thread?.rootTs ? ` See ${link(this.deps.permalink(thread.channel, thread.rootTs), 'the deploy thread')}.` : '';
    return answer(renderErrorSim({ kind: 'switch-answer', ...env, action, out, where }));
  }

  /** Errors on: read, toggle only if off, read again. A deadline goes on record whenever they may be on. */
  switchOn(target: EnvTarget, req: SwitchRequest): Promise<SwitchOutcome> {
    return this.lanes.run(target.key, async () => {
      const sim = target.env.errorSimulation;
      if (!sim) return { ok: false, error: 'error simulation is not configured here', posted: false };
      const { simulator, stores, clock } = this.deps;
      const before = await simulator.get(sim.url).catch((err: unknown) => new Error(`I could not read its state: ${messageOf(err)}`));
      if (before instanceof Error) return { ok: false, error: before.message, posted: false };
      const now = clock.now();
      if (before) {
        const existing = await stores.errorSims.get(target.key);
        if (existing) {
          const rec = req.drillId && !existing.drillId ? { ...existing, drillId: req.drillId } : existing;
          if (rec !== existing) await stores.errorSims.set(target.key, rec);
          await this.commit();
          return { ok: true, changed: false, enabled: true, record: rec };
        }
        // On without us: take over the deadline, so nothing stays on past a TTL once someone has asked.
        const rec = await this.record(target, { by: req.by, now, adopted: true, drillId: req.drillId });
        await this.say(target, rec, `adopt:${now}`, { kind: 'adopted', by: req.by, offAt: rec.offAt }, 'normal');
        await this.audit(target, req, 'errors on', 'already on (taken over)');
        await this.commit();
        return { ok: true, changed: false, enabled: true, record: rec, adopted: true };
      }
      const answers = await toggleAndRead(simulator, sim.url);
      const verdict = judgeToggle(true, answers);
      if (verdict.kind === 'unchanged') {
        await this.audit(target, req, 'errors on', `failed: ${verdict.why}`);
        await this.commit();
        return { ok: false, error: verdict.why, posted: true, enabled: false };
      }
      // On, or unknown after a toggle went out: either way the deadline is recorded and armed.
      const rec = await this.record(target, { by: req.by, now, drillId: req.drillId });
      if (verdict.kind === 'confirmed') {
        if (req.why !== 'drill') await this.say(target, rec, `on:${now}`, { kind: 'switched-on', by: req.by, rec }, 'high');
        await this.audit(target, req, 'errors on', 'ok');
        await this.commit();
        return { ok: true, changed: true, enabled: true, record: rec, ...(verdict.warning ? { warning: verdict.warning } : {}) };
      }
      const why = `${verdict.what}, and reading the state afterwards failed (${answers.readError}). Errors may be on: they switch off by themselves at ${new Date(rec.offAt).toISOString().slice(11, 16)} UTC at the latest`;
      await this.audit(target, req, 'errors on', `unknown: ${why}`);
      await this.commit();
      return { ok: false, error: why, posted: true };
    });
  }

  /** Errors off: read, toggle only if on, read again. The record (and banner) goes once the endpoint says off. */
  switchOff(target: EnvTarget, req: SwitchRequest): Promise<SwitchOutcome> {
    return this.lanes.run(target.key, async () => {
      const sim = target.env.errorSimulation;
      const { simulator, stores, clock } = this.deps;
      const rec = await stores.errorSims.get(target.key);
      if (!sim) {
        if (rec) await this.clear(target, rec);
        await this.commit();
        return { ok: false, error: 'error simulation is not configured here', posted: false };
      }
      const before = await simulator.get(sim.url).catch((err: unknown) => new Error(`I could not read its state: ${messageOf(err)}`));
      if (before instanceof Error) {
        await this.offFailed(target, rec, req, before.message);
        return { ok: false, error: before.message, posted: false };
      }
      const now = clock.now();
      if (!before) {
        if (rec) {
          await this.clear(target, rec);
          if (req.why === 'ttl') await this.say(target, rec, `ttl-already-off:${rec.since}`, { kind: 'ttl-already-off' }, 'normal');
        }
        await this.commit();
        return { ok: true, changed: false, enabled: false };
      }
      const answers = await toggleAndRead(simulator, sim.url);
      const verdict = judgeToggle(false, answers);
      if (verdict.kind === 'confirmed') {
        const on = rec ?? (await this.record(target, { by: 'unknown', now, adopted: true }));
        await this.clear(target, on);
        if (req.why === 'ttl') await this.say(target, on, `ttl-off:${on.since}`, { kind: 'ttl-off', rec: on }, 'high');
        else if (req.why === 'command') await this.say(target, on, `off:${now}`, { kind: 'switched-off', by: req.by, ...(rec ? { lastedMs: now - rec.since } : {}) }, 'high');
        await this.audit(target, req, 'errors off', 'ok');
        await this.commit();
        return { ok: true, changed: true, enabled: false, ...(verdict.warning ? { warning: verdict.warning } : {}) };
      }
      const error = verdict.kind === 'unchanged' ? verdict.why : `${verdict.what}, and reading the state afterwards failed (${answers.readError})`;
      await this.offFailed(target, rec ?? (await this.record(target, { by: 'unknown', now, adopted: true })), req, error);
      return { ok: false, error, posted: true, ...(verdict.kind === 'unchanged' ? { enabled: true } : {}) };
    });
  }

  /** Switches off every environment whose deadline has passed (the timers do this too; this is the backstop). */
  async expireDue(): Promise<void> {
    const now = this.deps.clock.now();
    for (const [key, rec] of await this.deps.stores.errorSims.all()) {
      if (rec.offAt > now) continue;
      await this.expire(key);
    }
  }

  /** Arms a deadline timer for every record (after a restart). */
  async resume(): Promise<void> {
    for (const [, rec] of await this.deps.stores.errorSims.all()) this.arm(rec);
  }

  /** Cancels the timers and waits for switches in flight. */
  async stop(): Promise<void> {
    this.timers.stop();
    await this.lanes.settled();
  }

  /** The record of an environment, if the bot thinks errors are on there. */
  recordOf(target: EnvTarget): Promise<ErrorSimRecord | undefined> {
    return this.deps.stores.errorSims.get(target.key);
  }

  async mayBeOn(envKey: string): Promise<boolean> {
    return (await this.deps.stores.errorSims.get(envKey)) !== undefined;
  }

  private async status(target: EnvTarget): Promise<string> {
    const sim = target.env.errorSimulation!;
    const env = { app: target.app.name, env: target.env.name };
    const rec = await this.recordOf(target);
    let enabled: boolean;
    try {
      enabled = await this.lanes.run(target.key, () => this.deps.simulator.get(sim.url));
    } catch (err) {
      return renderErrorSim({ kind: 'status-unreadable', ...env, error: messageOf(err), ...(rec ? { rec } : {}) });
    }
    if (!enabled && rec) {
      // Switched off outside the bot: the banner must not say otherwise.
      await this.clear(target, rec);
      await this.commit();
    }
    return renderErrorSim({ kind: 'status', ...env, enabled, ...(rec && enabled ? { rec } : {}), ttlMs: sim.ttl ?? DEFAULT_ERROR_TTL_MS });
  }

  private async expire(key: string): Promise<void> {
    const rec = await this.deps.stores.errorSims.get(key);
    if (!rec) return;
    if (rec.offAt > this.deps.clock.now()) {
      // A timer that fired early, or a deadline moved: wait for it.
      this.arm(rec);
      return;
    }
    const target = this.deps.catalog.target(rec.app, rec.env);
    if (!target) {
      // The environment left the config: nothing left to switch, and no one to tell.
      await this.deps.stores.errorSims.delete(key);
      await this.commit();
      return;
    }
    const out = await this.switchOff(target, { by: 'ttl', source: 'schedule', why: 'ttl' });
    if (!out.ok) this.deps.log.warn({ app: rec.app, env: rec.env, error: out.error }, 'error simulation did not switch off at its deadline, retrying');
  }

  private async offFailed(target: EnvTarget, rec: ErrorSimRecord | undefined, req: SwitchRequest, error: string): Promise<void> {
    await this.audit(target, req, 'errors off', `failed: ${error}`);
    if (rec && req.why === 'ttl') {
      const first = rec.offError === undefined;
      rec = { ...rec, offError: error };
      await this.deps.stores.errorSims.set(target.key, rec);
      await this.bump(target, rec);
      if (first) await this.say(target, rec, `ttl-failed:${rec.since}`, { kind: 'ttl-failed', offAt: rec.offAt, error }, 'high');
      // Try again soon: the deadline has passed.
      this.arm(rec, 30_000);
    }
    await this.commit();
  }

  private async record(target: EnvTarget, o: { by: string; now: number; adopted?: boolean; drillId?: string }): Promise<ErrorSimRecord> {
    const ttl = target.env.errorSimulation?.ttl ?? DEFAULT_ERROR_TTL_MS;
    const rec: ErrorSimRecord = { app: target.app.name, env: target.env.name, since: o.now, by: o.by, offAt: o.now + ttl };
    const thread = await this.deps.kernel.current(target);
    if (thread) rec.threadKey = thread.key;
    if (o.adopted) rec.adopted = true;
    if (o.drillId) rec.drillId = o.drillId;
    await this.deps.stores.errorSims.set(target.key, rec);
    await this.bump(target, rec);
    this.arm(rec);
    return rec;
  }

  private async clear(target: EnvTarget, rec: ErrorSimRecord): Promise<void> {
    await this.deps.stores.errorSims.delete(target.key);
    this.timers.cancel(target.key);
    await this.bump(target, rec);
  }

  /** Re-renders the cards that show (or showed) the banner. */
  private async bump(target: EnvTarget, rec: ErrorSimRecord): Promise<void> {
    const keys = new Set([rec.threadKey, (await this.deps.kernel.current(target))?.key].filter((k): k is string => !!k));
    for (const k of keys) await this.deps.stores.threads.bumpCard(k);
  }

  private arm(rec: ErrorSimRecord, atLeastMs = 0): void {
    this.timers.arm(`${rec.app}/${rec.env}`, rec.offAt, atLeastMs);
  }

  /** Says `m` in the environment's deploy thread (or the one the record's banner is on). */
  private async say(target: EnvTarget, rec: ErrorSimRecord | undefined, key: string, m: ErrorSimThreadMessage, priority: Priority): Promise<void> {
    const { kernel } = this.deps;
    const thread = (await kernel.current(target)) ?? (rec?.threadKey ? await kernel.byKey(rec.threadKey) : undefined);
    if (thread) await kernel.reply(thread, `errors:${key}`, renderErrorSim({ ...m, app: target.app.name, env: target.env.name } as ErrorSimMessage), priority);
  }

  private async audit(target: EnvTarget, req: SwitchRequest, action: string, result: string): Promise<void> {
    const thread = await this.deps.kernel.current(target);
    await this.deps.kernel.record({ target, actor: { who: req.by, source: req.source }, action, result, ...(thread ? { thread } : {}) });
  }

  /**
   * Writes the store. The endpoint's state is the truth and may have just changed, so a failed write is logged, not
   * thrown: the record stays in memory (its deadline armed) and goes to disk with the next write.
   */
  private async commit(): Promise<void> {
    await this.deps.stores.flush().catch((err: unknown) => this.deps.log.error({ err, fix: 'check that DATA_DIR is writable' }, 'store write after an error simulation switch failed'));
    this.deps.onChange();
  }
}
