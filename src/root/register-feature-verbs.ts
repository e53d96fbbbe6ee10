import type { EnvTarget } from '../core/catalog.js';
import type { CommandContext, CommandReply, CommandService, VerbHandler } from '../core/commands/command-service.js';
import type { Command } from '../core/commands/parse-command.js';
import type { DrillService } from '../core/drills/drill-service.js';
import type { ErrorSimulationService } from '../core/error-simulation/error-simulation-service.js';
import type { PromotionService } from '../core/promotion/promotion-service.js';
import type { LockService } from '../core/locks/lock-service.js';
import type { ReportService } from '../core/reports/report-service.js';

type CommandOf<V extends Command['verb']> = Extract<Command, { verb: V }>;

/** Hands the verbs the features own to them: promote, abort, retry and reject to promotion; errors; drill; lock and unlock; report. */
export function registerFeatureVerbs(commands: CommandService, f: { promotion: PromotionService; errorSim: ErrorSimulationService; drills: DrillService; locks: LockService; reports: ReportService; countDrill: () => void }): void {
  commands.register('promote', handlerFor('promote', ({ command, target, ctx }) => f.promotion.request({ action: 'promote', target, ctx, full: command.full, dryRun: command.dryRun, force: command.force })));
  commands.register('abort', handlerFor('abort', ({ target, ctx }) => f.promotion.request({ action: 'abort', target, ctx })));
  commands.register('retry', handlerFor('retry', ({ target, ctx }) => f.promotion.request({ action: 'retry', target, ctx })));
  commands.register('errors', handlerFor('errors', ({ command, target, ctx }) => f.errorSim.command({ action: command.action, target, ctx })));
  commands.register('lock', handlerFor('lock', ({ command, target, ctx }) => f.locks.lock({ target, ctx, ...(command.reason ? { reason: command.reason } : {}) })));
  commands.register('reject', handlerFor('reject', ({ command, target, ctx }) => f.promotion.reject({ target, ctx, ...(command.reason ? { reason: command.reason } : {}) })));
  commands.register('unlock', handlerFor('unlock', ({ target, ctx }) => f.locks.unlock({ target, ctx })));
  commands.register('report', handlerFor('report', ({ target, ctx }) => f.reports.command({ target, ctx })));
  commands.register('drill', handlerFor('drill', ({ target, ctx }) => {
    f.countDrill();
    return f.drills.command({ target, ctx });
  }));
}

/**
 * A VerbHandler that gives `handle` the command narrowed to its verb. CommandService dispatches by `command.verb`,
 * so a mismatch is a wiring bug: it throws (the user is told the command failed) instead of answering nonsense.
 */
function handlerFor<V extends Command['verb']>(verb: V, handle: (o: { command: CommandOf<V>; target: EnvTarget; ctx: CommandContext }) => Promise<CommandReply>): VerbHandler {
  return ({ command, target, ctx }) => {
    if (!hasVerb(command, verb)) throw new Error(`the ${verb} handler was handed a ${command.verb} command`);
    return handle({ command, target, ctx });
  };
}

function hasVerb<V extends Command['verb']>(command: Command, verb: V): command is CommandOf<V> {
  return command.verb === verb;
}
