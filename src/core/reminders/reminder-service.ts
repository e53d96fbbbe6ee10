import type { Catalog, EnvTarget } from '../catalog.js';
import type { ThreadRecord } from '../store-data.js';
import { formatDuration } from '../text/duration.js';
import type { Clock, Timer } from '../ports.js';
import type { Logger } from '../logger.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import { approverList } from '../policy/approvers.js';
import { esc } from '../text/mrkdwn.js';
import { planReminder } from './plan-reminder.js';

export interface ReminderServiceDeps {
  catalog: Catalog;
  stores: Pick<Stores, 'reminders'>;
  /** The environments' current threads, and replies in them. */
  kernel: ThreadKernel;
  clock: Clock;
  /** `reminders.after` (ms). */
  afterMs: number;
  /** Where a failed timer sweep is reported. */
  log?: Logger;
}

/**
 * Reminds a deploy thread that a rollout waits for promotion: once after `reminders.after`, once more at 4×, never more.
 * Each sweep arms one clock timer for the next reminder due, so it goes out at its moment; a thread change and the
 * periodic sweep (a backstop) sweep too. The marks are in the store, so a restart neither repeats nor forgets one.
 */
export class ReminderService {
  private timer: Timer | undefined;
  private stopped = true;
  private last: Promise<number> = Promise.resolve(0);
  /** When each environment's next reminder is due, by `<app>/<env>` (the timer is armed for the earliest). */
  private readonly dueAt = new Map<string, number>();

  constructor(private readonly deps: ReminderServiceDeps) {}

  /** Sweeps now (a wait that fell due while the bot was down is reminded of) and keeps the next timer armed. */
  start(): Promise<number> {
    this.stopped = false;
    return this.sweep();
  }

  stop(): void {
    this.stopped = true;
    this.timer?.cancel();
    this.timer = undefined;
  }

  /**
   * Observer hook: this thread may have started or ended a wait, so its next reminder's moment is worked out again (only
   * its own: a fleet's changes must not each look at every environment).
   */
  onThreadChanged(o: { thread: ThreadRecord; target: EnvTarget }): Promise<void> {
    const run = this.last.catch(() => 0).then(async () => {
      const current = await this.deps.kernel.current(o.target);
      if (current?.key !== o.thread.key) return 0;
      const sent = await this.planOne(o.target, current, this.deps.clock.now());
      if (sent.changed || sent.sent) await this.deps.kernel.commit();
      this.armEarliest();
      return sent.sent;
    });
    this.last = run;
    return run.then(() => undefined);
  }

  /** Looks at every environment's current thread; returns how many reminders were queued. Sweeps never overlap. */
  sweep(): Promise<number> {
    const run = this.last.catch(() => 0).then(() => this.sweepOnce());
    this.last = run;
    return run;
  }

  /** Arms the one timer for the earliest reminder due among the threads planned. */
  private armEarliest(): void {
    let next: number | undefined;
    for (const at of this.dueAt.values()) next = Math.min(next ?? Infinity, at);
    this.timer?.cancel();
    this.timer = undefined;
    if (this.stopped || next === undefined) return;
    this.timer = this.deps.clock.setTimer(Math.max(0, next - this.deps.clock.now()), () => {
      this.timer = undefined;
      void this.sweep().catch((err: unknown) => this.deps.log?.error({ err }, 'reminder sweep failed'));
    });
  }

  private async sweepOnce(): Promise<number> {
    const { catalog, clock } = this.deps;
    const now = clock.now();
    let sent = 0;
    let changed = false;
    this.dueAt.clear();
    for (const target of catalog.targets) {
      const thread = await this.deps.kernel.current(target);
      if (!thread) continue;
      const r = await this.planOne(target, thread, now);
      sent += r.sent;
      changed ||= r.changed;
    }
    if (changed || sent) await this.deps.kernel.commit();
    this.armEarliest();
    return sent;
  }

  /** Plans one environment's current thread: stores its mark, queues a reminder when one is due, notes the next. */
  private async planOne(target: EnvTarget, thread: ThreadRecord, now: number): Promise<{ sent: number; changed: boolean }> {
    const { stores, kernel, afterMs } = this.deps;
    const mark = await stores.reminders.get(thread.key);
    const plan = planReminder({ thread, mark, now, afterMs });
    if (plan.dueAt !== undefined) this.dueAt.set(target.key, plan.dueAt);
    else this.dueAt.delete(target.key);
    let changed = false;
    if (plan.mark && JSON.stringify(plan.mark) !== JSON.stringify(mark)) {
      await stores.reminders.set(thread.key, plan.mark);
      changed = true;
    }
    if (!plan.send || !plan.mark) return { sent: 0, changed };
    const waited = formatDuration(Math.max(60_000, Math.round((plan.waitedMs ?? 0) / 60_000) * 60_000));
    const env = target.env.name;
    const last = plan.send === 2;
    const text = `⏰ ${last ? 'Last reminder' : 'Reminder'}: ${esc(target.app.name)} ${esc(env)} has been waiting for promotion for ${waited}. To continue: \`/promote ${env}\` · to stop: \`/rollout abort ${env}\` · approvers: ${approverList(target)}.${last ? ' I will not remind again.' : ''}`;
    await kernel.reply(thread, `remind:${plan.mark.wait}:${plan.send}`, text, 'normal');
    return { sent: 1, changed };
  }
}
