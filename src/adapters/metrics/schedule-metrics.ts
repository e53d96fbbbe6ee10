import { Counter, type Registry } from 'prom-client';

/** Series of the scheduled features (sweeps, digest, reminders, error simulation, drills), on the bot's registry. */
export function createScheduleMetrics(registry: Registry) {
  const jobRuns = new Counter({ name: 'rollout_chatops_scheduled_runs_total', help: 'Scheduled job runs finished, by job', labelNames: ['job'], registers: [registry] });
  const reminders = new Counter({ name: 'rollout_chatops_reminders_total', help: 'Promotion reminders queued', registers: [registry] });
  const drills = new Counter({ name: 'rollout_chatops_drills_total', help: 'Rollback drills asked for (started or refused)', registers: [registry] });
  return { jobRuns, reminders, drills };
}
