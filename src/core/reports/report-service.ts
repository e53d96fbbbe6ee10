import type { EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-types.js';
import { replyFor } from '../commands/reply-for.js';
import type { Clock } from '../ports.js';
import { esc, link } from '../text/mrkdwn.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import { buildDeployReport } from './build-deploy-report.js';
import { pickChainThreads } from './pick-chain-threads.js';
import { renderChainReport, renderDeployReport } from './render-deploy-report.js';
import type { Catalog } from '../catalog.js';
import type { Stores } from '../store-ports.js';
import type { ThreadRecord } from '../store-data.js';
import { groupMembers } from '../rollout-threads/deploy-group.js';

export interface ReportServiceDeps {
  /** The environment's current (or last) deploy thread, and replies in it. */
  kernel: ThreadKernel;
  /** The same tag's deploys in the other environments (the chain's report). */
  stores: Pick<Stores, 'threads'>;
  catalog: Catalog;
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
    // A several-rollout deploy: one report per rollout, each with the actions the deploy's card recorded for it.
    const members = thread.group ? await groupMembers(this.deps.stores, this.deps.catalog, thread) : [thread];
    for (const m of members) {
      const own = members.length > 1 ? { ...m, env: `${m.env} · ${m.rollout}`, actions: actionsOf(thread, m.rollout) } : m;
      const message = renderDeployReport(buildDeployReport(own, now));
      // Keyed by the time asked: every ask posts a report as of then (the deploy may have moved on).
      await kernel.reply(thread, `report:${now}${members.length > 1 ? `:${m.rollout}` : ''}`, message.text, 'normal', { blocks: message.blocks });
    }
    await kernel.commit();
    const where = thread.rootTs ? link(permalink(thread.channel, thread.rootTs), 'the deploy thread') : 'the deploy thread';
    return replyFor(ctx, `📋 The report of ${name} revision ${esc(thread.revision)} is in ${where}.`);
  }

  /**
   * The tag completed in the last environment of its app's chain: the report of its whole way (each environment's
   * completed deploy of the tag, in chain order) goes in this last thread, once.
   */
  async chainEnded(o: { thread: ThreadRecord; target: EnvTarget }): Promise<void> {
    const { thread, target } = o;
    if (!thread.tag || this.deps.catalog.next(target)) return;
    const all = await this.deps.stores.threads.withTag(thread.app, thread.tag);
    const now = this.deps.clock.now();
    // One environment: its own report is asked for with /rollout report. The same deploys go in the GitHub check run.
    const reports = pickChainThreads({ target, isLast: true, tag: thread.tag, threads: all }).map((t) => buildDeployReport(t, now));
    if (reports.length < 2) return;
    const message = renderChainReport({ app: thread.app, tag: thread.tag, reports });
    await this.deps.kernel.reply(thread, `chain-report:${thread.tag}`, message.text, 'normal', { blocks: message.blocks });
    await this.deps.kernel.commit();
  }
}

/** The actions a several-rollout deploy's card recorded for one of its rollouts (`backend: promoted`), unprefixed. */
function actionsOf(lead: ThreadRecord, rollout: string): ThreadRecord['actions'] {
  const prefix = `${rollout}: `;
  return lead.actions.filter((a) => a.what.startsWith(prefix)).map((a) => ({ ...a, what: a.what.slice(prefix.length) }));
}
