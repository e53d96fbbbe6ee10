import type { FreezeWindow } from '../config/config-schema.js';
import type { FreezeCalendar } from './freeze-calendar.js';
import type { LockRecord } from './lock-record.js';

/** What holds an environment now: a person's lock, or a configured freeze window that `now` is inside. */
export type LockHold =
  | { kind: 'lock'; lock: LockRecord }
  | { kind: 'freeze'; reason: string; start: number; end: number; cron?: string };

/**
 * Whether an environment is held now, and by what: a lock goes first (a person said so and must say so again to lift
 * it), then the freeze window that ends last among those `now` is inside. A cron window starts at the expression's
 * last fire time at or before `now` and lasts `duration`; a dated window runs from `from` (inclusive) to `to`.
 */
export function judgeLock(o: { lock?: LockRecord; freezes?: readonly FreezeWindow[]; now: number; calendar: FreezeCalendar }): LockHold | undefined {
  if (o.lock) return { kind: 'lock', lock: o.lock };
  let held: Extract<LockHold, { kind: 'freeze' }> | undefined;
  for (const f of o.freezes ?? []) {
    const w = windowOf(f, o.now, o.calendar);
    if (w && o.now >= w.start && o.now < w.end && (!held || w.end > held.end)) held = { kind: 'freeze', reason: f.reason, ...w, ...(f.cron ? { cron: f.cron } : {}) };
  }
  return held;
}

function windowOf(f: FreezeWindow, now: number, calendar: FreezeCalendar): { start: number; end: number } | undefined {
  if (f.cron !== undefined && f.duration !== undefined) {
    const start = calendar.previousFire({ cron: f.cron, at: now, ...(f.timezone ? { timezone: f.timezone } : {}) });
    return start === undefined ? undefined : { start, end: start + f.duration };
  }
  if (f.from !== undefined && f.to !== undefined) return { start: f.from, end: f.to };
  return undefined;
}
