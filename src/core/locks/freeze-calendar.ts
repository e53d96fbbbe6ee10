/**
 * The calendar arithmetic a cron freeze window needs, done by a cron library at the edge (the core imports none):
 * when the expression last fired at or before `at`.
 */
export interface FreezeCalendar {
  /** The last fire time (ms) of `cron` at or before `at`, in `timezone` (IANA, default UTC); undefined if none. */
  previousFire(o: { cron: string; timezone?: string; at: number }): number | undefined;
}
