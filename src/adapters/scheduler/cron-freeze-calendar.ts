import { CronExpressionParser } from 'cron-parser';
import type { FreezeCalendar } from '../../core/locks/freeze-calendar.js';

/**
 * Freeze-window arithmetic with cron-parser (pure, no timers): the last time a cron expression fired at or before a
 * moment. The expressions were validated when the config loaded (node-cron), so a parse failure here is a bug and throws.
 */
export function createCronFreezeCalendar(): FreezeCalendar {
  return {
    previousFire: ({ cron, timezone, at }) => {
      // `prev()` is strictly before currentDate: start one millisecond later so a window that starts exactly now counts.
      const expression = CronExpressionParser.parse(cron, { currentDate: new Date(at + 1), tz: timezone ?? 'UTC' });
      if (!expression.hasPrev()) return undefined;
      return expression.prev().getTime();
    },
  };
}
