import type { EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-types.js';
import { replyFor } from '../commands/reply-for.js';
import type { Clock } from '../ports.js';
import { esc, link } from '../text/mrkdwn.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import { buildDeployReport } from './build-deploy-report.js';
import { renderDeployReport } from './render-deploy-report.js';

export interface ReportServiceDeps {
  /** The environment's current (or last) deploy thread, and replies in it. */
  kernel: ThreadKernel;
  clock: Clock;
  permalink: (channel: string, ts: string) => string;
}

/** `/rollout report <env> [app]`: posts a report of the environment's current or last deploy in its thread. */
export class ReportService {
  constructor(private readonly deps: ReportServiceDeps) {}

  async command(o: { target: EnvTarget; ctx: CommandContext }): Promise<CommandReply> {
    const { target, ctx } = o;
    const { kernel, clock, permalink } = this.deps;
    const name = `${esc(target.app.name)} ${esc(target.env.name)}`;
    const thread = await kernel.current(target);
    if (!thread) return replyFor(ctx, `🤷 No deploy of ${name} on record yet, so there is nothing to report.`);
    const now = clock.now();
    const message = renderDeployReport(buildDeployReport(thread, now));
    // Keyed by the time asked: every ask posts a report as of then (the deploy may have moved on).
    await kernel.reply(thread, `report:${now}`, message.text, 'normal', { blocks: message.blocks });
    await kernel.commit();
    const where = thread.rootTs ? link(permalink(thread.channel, thread.rootTs), 'the deploy thread') : 'the deploy thread';
    return replyFor(ctx, `📋 The report of ${name} revision ${esc(thread.revision)} is in ${where}.`);
  }
}
