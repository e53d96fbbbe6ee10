import type { Catalog, EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-service.js';
import { formatDuration } from '../text/duration.js';
import type { Logger } from '../logger.js';
import { approverList, isApprover } from '../policy/approvers.js';
import type { Clock, ErrorSimulator, StateStore, Timer } from '../ports.js';
import { esc, link, who } from '../render/mrkdwn.js';
import { slackTime } from '../render/slack-time.js';
import { slackToMarkdown } from '../render/to-markdown.js';
import type { ErrorSimRecord, Priority, ThreadRecord } from '../store-data.js';

/** Default `errorSimulation.ttl`. */
export const DEFAULT_ERROR_TTL_MS = 15 * 60_000;

export interface ErrorSimulationDeps {
  catalog: Catalog;
  store: StateStore;
  clock: Clock;
  log: Logger;
  simulator: ErrorSimulator;
  /** Queues a reply in a deploy thread, once per key (the observer's durable outbox). */
  reply: (thread: ThreadRecord, key: string, text: string, priority: Priority) => void;
  /** Told when the outbox or a card changed. */
  onChange: () => void;
  permalink: (channel: string, ts: string) => string;
  /** Background work the app waits for on shutdown (TTL expiries fired by timers). */
  track?: (work: Promise<unknown>) => void;
}

/** Who switches, and why: a person's command, the TTL deadline, or a drill. */
export interface SwitchRequest {
  /** Slack user id, `@login (GitHub)`, `ttl` or `drill`. */
  by: string;
  source: 'slack' | 'github' | 'schedule';
  why: 'command' | 'ttl' | 'drill';
  /** The drill that switches them on (shown on the banner). */
  drillId?: string;
}

/** What happened at the endpoint. `enabled` is what the endpoint last reported, when it answered. */
export type SwitchOutcome =
  | { ok: true; changed: boolean; enabled: boolean; record?: ErrorSimRecord; adopted?: boolean; warning?: string }
  | { ok: false; error: string; posted: boolean; enabled?: boolean };

/**
 * `/errors on|off|status`, and the switch drills and the TTL use. The endpoint only toggles, so every switch reads the
 * state first, toggles only when it must change, and reads again to confirm; the confirming read is the truth. Work on
 * one environment is serialised, so two people (or a person and the TTL) never toggle on top of each other.
 * Whenever errors may be on, a deadline is on record and armed: they switch off by themselves, also after a restart.
 */
export class ErrorSimulationService {
  private readonly lanes = new Map<string, Promise<unknown>>();
  private readonly timers = new Map<string, Timer>();
  private stopped = false;

  constructor(private readonly deps: ErrorSimulationDeps) {}

  /** Handles `/errors on|off|status <env> [app]` from Slack or a GitHub comment. */
  async command(o: { action: 'on' | 'off' | 'status'; target: EnvTarget; ctx: CommandContext }): Promise<CommandReply> {
    const { action, target, ctx } = o;
    const answer = (text: string): CommandReply => (ctx.source === 'github' ? { text, markdown: slackToMarkdown(text) } : { text });
    const name = `${target.app.name} ${target.env.name}`;
    if (!target.env.errorSimulation) return answer(notConfigured(target, this.deps.catalog));
    if (action === 'status') return answer(await this.status(target));
    if (!isApprover(target, ctx)) return answer(`🚫 Only approvers of ${name} may switch errors ${action}: ${approverList(target)}.`);
    const by = ctx.source === 'github' ? `@${ctx.user} (GitHub)` : ctx.user;
    const request: SwitchRequest = { by, source: ctx.source, why: 'command' };
    const out = action === 'on' ? await this.switchOn(target, request) : await this.switchOff(target, request);
    return answer(this.describe(action, target, out));
  }

  /** Errors on: read, toggle only if off, read again. A deadline goes on record whenever they may be on. */
  switchOn(target: EnvTarget, req: SwitchRequest): Promise<SwitchOutcome> {
    return this.serial(target.key, async () => {
      const sim = target.env.errorSimulation;
      if (!sim) return { ok: false, error: 'error simulation is not configured here', posted: false };
      const { simulator, store, clock } = this.deps;
      const sims = (store.data.errorSims ??= {});
      let before: boolean;
      try {
        before = await simulator.get(sim.url);
      } catch (err) {
        return { ok: false, error: `I could not read its state: ${messageOf(err)}`, posted: false };
      }
      const now = clock.now();
      if (before) {
        const existing = sims[target.key];
        if (existing) {
          if (req.drillId && !existing.drillId) existing.drillId = req.drillId;
          await this.commit();
          return { ok: true, changed: false, enabled: true, record: existing };
        }
        // On without us: take over the deadline, so nothing stays on past a TTL once someone has asked.
        const rec = this.record(target, { by: req.by, now, adopted: true, drillId: req.drillId });
        this.say(target, rec, `adopt:${now}`, `🧪 Errors were already on in ${esc(target.app.name)} ${esc(target.env.name)} (switched on outside the bot). ${who(req.by)} asked for them on: nothing changed, except that they now switch off by themselves at ${slackTime(rec.offAt)}.`, 'normal');
        this.audit(target, req, 'errors on', 'already on (taken over)');
        await this.commit();
        return { ok: true, changed: false, enabled: true, record: rec, adopted: true };
      }

      const { toggled, postError } = await this.toggle(sim.url);
      const { after, readError } = await this.read(sim.url);
      if (after === false) {
        const why = postError ? `the toggle failed (${postError}); errors are still off` : `after one toggle the endpoint still reports enabled=false${toggled === undefined ? '' : ` (the toggle itself answered enabled=${toggled})`}`;
        this.audit(target, req, 'errors on', `failed: ${why}`);
        await this.commit();
        return { ok: false, error: why, posted: true, enabled: false };
      }
      // On, or unknown after a toggle went out: either way the deadline is recorded and armed.
      const rec = this.record(target, { by: req.by, now, drillId: req.drillId });
      if (after === true) {
        if (req.why !== 'drill') {
          const ttl = formatDuration(rec.offAt - rec.since);
          this.say(target, rec, `on:${now}`, `🧪 Errors switched *on* by ${who(req.by)}: ${esc(target.app.name)} ${esc(target.env.name)} now fails on purpose. They switch off by themselves at ${slackTime(rec.offAt)} (after ${ttl}), or with \`/errors off ${target.env.name}\`.`, 'high');
        }
        this.audit(target, req, 'errors on', 'ok');
        await this.commit();
        const warning = toggled === false ? 'the toggle answered enabled=false, but the read right after it says true' : postError ? `the toggle reported an error (${postError}), but the read right after it says true` : undefined;
        return { ok: true, changed: true, enabled: true, record: rec, ...(warning ? { warning } : {}) };
      }
      const what = postError ? `the toggle failed (${postError})` : `the toggle answered enabled=${String(toggled)}`;
      const why = `${what}, and reading the state afterwards failed (${readError}). Errors may be on: they switch off by themselves at ${new Date(rec.offAt).toISOString().slice(11, 16)} UTC at the latest`;
      this.audit(target, req, 'errors on', `unknown: ${why}`);
      await this.commit();
      return { ok: false, error: why, posted: true };
    });
  }

  /** Errors off: read, toggle only if on, read again. The record (and banner) goes once the endpoint says off. */
  switchOff(target: EnvTarget, req: SwitchRequest): Promise<SwitchOutcome> {
    return this.serial(target.key, async () => {
      const sim = target.env.errorSimulation;
      const { simulator, store, clock } = this.deps;
      const sims = (store.data.errorSims ??= {});
      const rec = sims[target.key];
      if (!sim) {
        if (rec) this.clear(target, rec);
        await this.commit();
        return { ok: false, error: 'error simulation is not configured here', posted: false };
      }
      let before: boolean;
      try {
        before = await simulator.get(sim.url);
      } catch (err) {
        const error = `I could not read its state: ${messageOf(err)}`;
        await this.offFailed(target, rec, req, error);
        return { ok: false, error, posted: false };
      }
      const now = clock.now();
      if (!before) {
        if (rec) {
          this.clear(target, rec);
          if (req.why === 'ttl') this.say(target, rec, `ttl-already-off:${rec.since}`, `⏱️ Error simulation deadline reached in ${esc(target.app.name)} ${esc(target.env.name)}: errors were already off (switched off outside the bot).`, 'normal');
        }
        await this.commit();
        return { ok: true, changed: false, enabled: false };
      }
      const { toggled, postError } = await this.toggle(sim.url);
      const { after, readError } = await this.read(sim.url);
      if (after === false) {
        const on = rec ?? this.record(target, { by: 'unknown', now, adopted: true });
        this.clear(target, on);
        const lasted = rec ? ` after ${formatDuration(now - rec.since)}` : '';
        if (req.why === 'ttl') {
          this.say(target, on, `ttl-off:${on.since}`, `⏱️ Errors switched *off* by themselves in ${esc(target.app.name)} ${esc(target.env.name)}: their ${formatDuration(on.offAt - on.since)} TTL ran out${on.adopted ? '' : ` (switched on by ${who(on.by)} at ${slackTime(on.since)})`}.`, 'high');
        } else if (req.why === 'command') {
          this.say(target, on, `off:${now}`, `✅ Errors switched *off* by ${who(req.by)} in ${esc(target.app.name)} ${esc(target.env.name)}${lasted}.`, 'high');
        }
        this.audit(target, req, 'errors off', 'ok');
        await this.commit();
        const warning = toggled === true ? 'the toggle answered enabled=true, but the read right after it says false' : postError ? `the toggle reported an error (${postError}), but the read right after it says false` : undefined;
        return { ok: true, changed: true, enabled: false, ...(warning ? { warning } : {}) };
      }
      const what = postError ? `the toggle failed (${postError})` : `the toggle answered enabled=${String(toggled)}`;
      const error = after === true ? `after one toggle the endpoint still reports enabled=true (${what})` : `${what}, and reading the state afterwards failed (${readError})`;
      await this.offFailed(target, rec ?? this.record(target, { by: 'unknown', now, adopted: true }), req, error);
      return { ok: false, error, posted: true, ...(after === true ? { enabled: true } : {}) };
    });
  }

  /** Switches off every environment whose deadline has passed (the timers do this too; this is the backstop). */
  async expireDue(): Promise<void> {
    const now = this.deps.clock.now();
    for (const [key, rec] of Object.entries(this.deps.store.data.errorSims ?? {})) {
      if (rec.offAt > now) continue;
      await this.expire(key);
    }
  }

  /** Arms a deadline timer for every record (after a restart). */
  resume(): void {
    for (const rec of Object.values(this.deps.store.data.errorSims ?? {})) this.arm(rec);
  }

  /** Cancels the timers and waits for switches in flight. */
  async stop(): Promise<void> {
    this.stopped = true;
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    await Promise.allSettled([...this.lanes.values()]);
  }

  /** The record of an environment, if the bot thinks errors are on there. */
  recordOf(target: EnvTarget): ErrorSimRecord | undefined {
    return this.deps.store.data.errorSims?.[target.key];
  }

  private async status(target: EnvTarget): Promise<string> {
    const sim = target.env.errorSimulation!;
    const name = `${esc(target.app.name)} ${esc(target.env.name)}`;
    const rec = this.recordOf(target);
    let enabled: boolean;
    try {
      enabled = await this.serial(target.key, () => this.deps.simulator.get(sim.url));
    } catch (err) {
      return `⚠️ I could not read the error simulation of ${name}: ${esc(messageOf(err))}.${rec ? ` As far as I know errors are on since ${slackTime(rec.since)} (by ${who(rec.by)}), switching off at ${slackTime(rec.offAt)}.` : ''}`;
    }
    if (!enabled) {
      if (rec) {
        // Switched off outside the bot: the banner must not say otherwise.
        this.clear(target, rec);
        await this.commit();
      }
      return `🟢 Errors are *off* in ${name}.`;
    }
    if (!rec) return `🧪 Errors are *on* in ${name}, switched on outside the bot, so no deadline is set. \`/errors off ${target.env.name}\` stops them; \`/errors on ${target.env.name}\` sets the ${formatDuration(sim.ttl ?? DEFAULT_ERROR_TTL_MS)} deadline.`;
    return `🧪 Errors are *on* in ${name} since ${slackTime(rec.since)} (${rec.adopted ? 'taken over by the bot' : `by ${who(rec.by)}`}${rec.drillId ? ', rollback drill' : ''}); they switch off by themselves at ${slackTime(rec.offAt)}.${rec.offError ? ` ⚠️ The last attempt to switch them off failed: ${esc(rec.offError)}` : ''}`;
  }

  private describe(action: 'on' | 'off', target: EnvTarget, out: SwitchOutcome): string {
    const name = `${esc(target.app.name)} ${esc(target.env.name)}`;
    const thread = this.currentThread(target);
    const where = thread?.rootTs ? ` See ${link(this.deps.permalink(thread.channel, thread.rootTs), 'the deploy thread')}.` : '';
    if (!out.ok) return `⚠️ Could not switch errors ${action} in ${name}: ${esc(out.error)}.${out.posted ? '' : ' Nothing was changed.'}`;
    const warning = out.warning ? `\n⚠️ Odd answer: ${esc(out.warning)}.` : '';
    if (action === 'on') {
      const rec = out.record;
      const until = rec ? ` They switch off by themselves at ${slackTime(rec.offAt)}.` : '';
      if (out.adopted) return `ℹ️ Errors were already on in ${name} (switched on outside the bot): nothing changed.${until}${where}`;
      if (!out.changed) return `ℹ️ Errors were already on in ${name}${rec ? ` since ${slackTime(rec.since)} (by ${who(rec.by)})` : ''}: nothing changed.${until}${where}`;
      return `🧪 Errors are now *on* in ${name} (confirmed by the endpoint).${until}${where}${warning}`;
    }
    if (!out.changed) return `ℹ️ Errors were already off in ${name}: nothing changed.`;
    return `✅ Errors are now *off* in ${name} (confirmed by the endpoint).${where}${warning}`;
  }

  private async expire(key: string): Promise<void> {
    const rec = this.deps.store.data.errorSims?.[key];
    if (!rec) return;
    if (rec.offAt > this.deps.clock.now()) {
      // A timer that fired early, or a deadline moved: wait for it.
      this.arm(rec);
      return;
    }
    const target = this.deps.catalog.target(rec.app, rec.env);
    if (!target) {
      // The environment left the config: nothing left to switch, and no one to tell.
      delete this.deps.store.data.errorSims![key];
      await this.commit();
      return;
    }
    const out = await this.switchOff(target, { by: 'ttl', source: 'schedule', why: 'ttl' });
    if (!out.ok) this.deps.log.warn({ app: rec.app, env: rec.env, error: out.error }, 'error simulation did not switch off at its deadline, retrying');
  }

  private async offFailed(target: EnvTarget, rec: ErrorSimRecord | undefined, req: SwitchRequest, error: string): Promise<void> {
    this.audit(target, req, 'errors off', `failed: ${error}`);
    if (rec && req.why === 'ttl') {
      const first = rec.offError === undefined;
      rec.offError = error;
      this.bump(target, rec);
      if (first) this.say(target, rec, `ttl-failed:${rec.since}`, `⚠️ Errors in ${esc(target.app.name)} ${esc(target.env.name)} should have switched off at ${slackTime(rec.offAt)}, but that failed: ${esc(error)}. I keep trying; switch them off by hand if this goes on.`, 'high');
      // Try again soon: the deadline has passed.
      this.arm(rec, 30_000);
    }
    await this.commit();
  }

  private record(target: EnvTarget, o: { by: string; now: number; adopted?: boolean; drillId?: string }): ErrorSimRecord {
    const ttl = target.env.errorSimulation?.ttl ?? DEFAULT_ERROR_TTL_MS;
    const rec: ErrorSimRecord = { app: target.app.name, env: target.env.name, since: o.now, by: o.by, offAt: o.now + ttl };
    const thread = this.currentThread(target);
    if (thread) rec.threadKey = thread.key;
    if (o.adopted) rec.adopted = true;
    if (o.drillId) rec.drillId = o.drillId;
    (this.deps.store.data.errorSims ??= {})[target.key] = rec;
    this.bump(target, rec);
    this.arm(rec);
    return rec;
  }

  private clear(target: EnvTarget, rec: ErrorSimRecord): void {
    delete this.deps.store.data.errorSims?.[target.key];
    this.timers.get(target.key)?.cancel();
    this.timers.delete(target.key);
    this.bump(target, rec);
  }

  /** Re-renders the cards that show (or showed) the banner. */
  private bump(target: EnvTarget, rec: ErrorSimRecord): void {
    const { threads } = this.deps.store.data;
    const keys = new Set([rec.threadKey, this.currentThread(target)?.key].filter((k): k is string => !!k));
    for (const k of keys) if (threads[k]) threads[k]!.cardVersion++;
  }

  private arm(rec: ErrorSimRecord, atLeastMs = 0): void {
    if (this.stopped) return;
    const key = `${rec.app}/${rec.env}`;
    this.timers.get(key)?.cancel();
    const ms = Math.max(atLeastMs, rec.offAt - this.deps.clock.now());
    this.timers.set(key, this.deps.clock.setTimer(ms, () => {
      this.timers.delete(key);
      if (this.stopped) return;
      const work = this.expire(key).catch((err: unknown) => this.deps.log.error({ err, env: key }, 'error simulation expiry failed'));
      this.deps.track?.(work);
    }));
  }

  private say(target: EnvTarget, rec: ErrorSimRecord | undefined, key: string, text: string, priority: Priority): void {
    const { threads } = this.deps.store.data;
    const thread = this.currentThread(target) ?? (rec?.threadKey ? threads[rec.threadKey] : undefined);
    if (thread) this.deps.reply(thread, `errors:${key}`, text, priority);
  }

  private audit(target: EnvTarget, req: SwitchRequest, action: string, result: string): void {
    this.deps.store.data.audit.push({
      at: this.deps.clock.now(),
      who: req.by,
      source: req.source,
      action,
      app: target.app.name,
      env: target.env.name,
      result,
      ...(this.currentThread(target) ? { threadKey: this.currentThread(target)!.key } : {}),
    });
  }

  private async toggle(url: string): Promise<{ toggled?: boolean; postError?: string }> {
    try {
      return { toggled: await this.deps.simulator.toggle(url) };
    } catch (err) {
      return { postError: messageOf(err) };
    }
  }

  private async read(url: string): Promise<{ after?: boolean; readError?: string }> {
    try {
      return { after: await this.deps.simulator.get(url) };
    } catch (err) {
      return { readError: messageOf(err) };
    }
  }

  private currentThread(target: EnvTarget): ThreadRecord | undefined {
    const key = this.deps.store.data.envs[target.key]?.threadKey;
    return key ? this.deps.store.data.threads[key] : undefined;
  }

  private serial<T>(key: string, fn: () => Promise<T>): Promise<T> {
    const prev = this.lanes.get(key) ?? Promise.resolve();
    const next = prev.catch(() => undefined).then(fn);
    this.lanes.set(key, next);
    void next.catch(() => undefined).then(() => {
      if (this.lanes.get(key) === next) this.lanes.delete(key);
    });
    return next;
  }

  private async commit(): Promise<void> {
    await this.deps.store.flush();
    this.deps.onChange();
  }
}

/** "Error simulation is not configured for voting01 dev; it is for voting01 qa." */
export function notConfigured(target: EnvTarget, catalog: Catalog): string {
  const withIt = catalog.targets.filter((t) => t.env.errorSimulation).map((t) => `${t.app.name} ${t.env.name}`);
  const name = `${target.app.name} ${target.env.name}`;
  if (withIt.length === 0) return `🚫 Error simulation is not configured for ${esc(name)}, nor for any other environment: add \`errorSimulation: { url: … }\` to an environment in the config.`;
  return `🚫 Error simulation is not configured for ${esc(name)}. Environments that have it: ${withIt.map((n) => esc(n)).join(', ')}.`;
}

function messageOf(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
