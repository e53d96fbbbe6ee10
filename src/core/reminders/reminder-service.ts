import type { Catalog } from '../catalog.js';
import { formatDuration } from '../text/duration.js';
import type { Clock } from '../ports.js';
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
}

/**
 * Reminds a deploy thread that a rollout waits for promotion: once after `reminders.after`, once more at 4×, never more.
 * Called by the periodic sweep; the marks are in the store, so a restart neither repeats nor forgets a reminder.
 */
export class ReminderService {
  constructor(private readonly deps: ReminderServiceDeps) {}

  /** Looks at every environment's current thread; returns how many reminders were queued. */
  async sweep(): Promise<number> {
    const { catalog, stores, kernel, clock, afterMs } = this.deps;
    const now = clock.now();
    let sent = 0;
    let changed = false;
    for (const target of catalog.targets) {
      const thread = await kernel.current(target);
      if (!thread) continue;
      const mark = await stores.reminders.get(thread.key);
      const plan = planReminder({ thread, mark, now, afterMs });
      if (plan.mark && JSON.stringify(plan.mark) !== JSON.stringify(mark)) {
        await stores.reminders.set(thread.key, plan.mark);
        changed = true;
      }
      if (!plan.send || !plan.mark) continue;
      const waited = formatDuration(Math.max(60_000, Math.round((plan.waitedMs ?? 0) / 60_000) * 60_000));
      const env = target.env.name;
      const last = plan.send === 2;
      const text = `⏰ ${last ? 'Last reminder' : 'Reminder'}: ${esc(target.app.name)} ${esc(env)} has been waiting for promotion for ${waited}. To continue: \`/promote ${env}\` · to stop: \`/rollout abort ${env}\` · approvers: ${approverList(target)}.${last ? ' I will not remind again.' : ''}`;
      await kernel.reply(thread, `remind:${plan.mark.wait}:${plan.send}`, text, 'normal');
      sent++;
    }
    if (changed || sent) await kernel.commit();
    return sent;
  }
}
