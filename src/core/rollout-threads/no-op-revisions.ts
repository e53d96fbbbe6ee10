import type { Catalog, EnvTarget } from '../catalog.js';
import type { Logger } from '../logger.js';
import type { Clock, Timer } from '../ports.js';
import { observedFacts } from '../rollout/observed-facts.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { EnvRecord, ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import { detectNoOpRevision } from './detect-no-op-revision.js';
import type { NoOpMark } from './no-op-mark.js';
import { renderNoOpNote } from './render-no-op-note.js';

/** Rollouts of one channel seen within this long after the first go into one note. */
export const NO_OP_NOTE_WINDOW_MS = 30_000;

export interface NoOpRevisionsDeps {
  catalog: Catalog;
  stores: Pick<Stores, 'envs' | 'threads' | 'noOpRevisions'>;
  kernel: Pick<ThreadKernel, 'notice' | 'commit'>;
  clock: Clock;
  log: Logger;
  /** How long a channel's note waits for more rollouts (default NO_OP_NOTE_WINDOW_MS). */
  noOpWindowMs?: number;
}

/**
 * New revisions that change no image (`detectNoOpRevision`): they open no thread and leave the stable revision's
 * thread as it is; one plain note per channel names the rollouts seen within the window. Each revision is marked in
 * the store when first seen and when noted, so a restart finishes a note still due and never repeats one.
 */
export class NoOpRevisions {
  private readonly timers = new Map<string, Timer>();
  private notes = new Set<Promise<void>>();

  constructor(private readonly deps: NoOpRevisionsDeps) {}

  /**
   * Takes `state` (a revision with no thread, key `key`) when it is a no-op, and says so: the caller then opens no
   * thread. Called by the rollout observer inside its per-environment queue (it alone writes the environment record),
   * which commits what this wrote.
   */
  async absorb(o: { target: EnvTarget; state: RolloutState; key: string; envRec: EnvRecord; envKey?: string; previous: ThreadRecord | undefined }): Promise<boolean> {
    const { target, state, envRec, previous } = o;
    const envKey = o.envKey ?? target.key;
    const { stores, clock } = this.deps;
    const judged = detectNoOpRevision({ next: state, baseline: envRec.baseline, previous });
    if (!judged.noOp) {
      this.deps.log.debug({ env: target.key, revision: state.revision, reason: judged.reason }, 'new revision is a deploy');
      return false;
    }
    // The "not yet observed" phase the spec change showed on the stable revision's card (or baseline) goes back.
    if (previous?.lastState?.unobserved) await stores.threads.observed(previous.key, { set: { lastState: observedFacts(previous.lastState) }, bumpCard: true });
    // Settled, this revision is the stable one the next revision is compared with (and later sightings stop here).
    const settled = state.fullyPromoted && state.phase === 'Healthy' && !state.aborted;
    if (settled) await stores.envs.update(envKey, { missingNoticed: false, baseline: state });
    else if (envRec.baseline?.unobserved) await stores.envs.update(envKey, { missingNoticed: false, baseline: observedFacts(envRec.baseline) });
    const mark: NoOpMark = { channel: target.env.slackChannel, app: target.app.name, env: target.env.name, rollout: `${state.namespace}/${state.name}`, revision: state.revision, seenAt: clock.now() };
    if (await stores.noOpRevisions.setIfAbsent(o.key, mark)) this.deps.log.info({ env: target.key, revision: state.revision }, 'new revision runs the stable images: no thread');
    if ((await stores.noOpRevisions.get(o.key))?.notedAt === undefined) await this.arm(mark.channel);
    return true;
  }

  /** Cancels the timers and waits for notes being queued (shutdown: a restart re-arms what is still due). */
  async stop(): Promise<void> {
    for (const t of this.timers.values()) t.cancel();
    this.timers.clear();
    await Promise.all([...this.notes]);
  }

  private async waiting(channel: string): Promise<Array<[string, NoOpMark]>> {
    const all = await this.deps.stores.noOpRevisions.all();
    return all.filter(([, m]) => m.channel === channel && m.notedAt === undefined).sort(([, a], [, b]) => a.seenAt - b.seenAt);
  }

  private async arm(channel: string): Promise<void> {
    if (this.timers.has(channel)) return;
    const first = (await this.waiting(channel))[0]?.[1];
    if (!first || this.timers.has(channel)) return;
    const due = Math.max(0, first.seenAt + (this.deps.noOpWindowMs ?? NO_OP_NOTE_WINDOW_MS) - this.deps.clock.now());
    this.timers.set(channel, this.deps.clock.setTimer(due, () => {
      this.timers.delete(channel);
      const note = this.note(channel).catch((err: unknown) => this.deps.log.error({ err, channel }, 'queueing the no-op revisions note failed'));
      this.notes.add(note);
      void note.then(() => this.notes.delete(note));
    }));
  }

  private async note(channel: string): Promise<void> {
    const { catalog, stores, kernel, clock } = this.deps;
    const waiting = await this.waiting(channel);
    if (waiting.length === 0) return;
    const marks = waiting.map(([, m]) => m);
    const now = clock.now();
    // The note goes through an environment of the channel (the outbox orders a channel's notices by it).
    const target = marks.map((m) => catalog.target(m.app, m.env)).find((t) => t?.env.slackChannel === channel) ?? catalog.targets.find((t) => t.env.slackChannel === channel);
    if (target) await kernel.notice(target, `no-op/${marks[0]!.seenAt}`, renderNoOpNote(marks));
    else this.deps.log.info({ channel, count: marks.length }, 'no-op revisions note dropped: no environment posts to that channel now');
    for (const [key, m] of waiting) await stores.noOpRevisions.set(key, { ...m, notedAt: now });
    await kernel.commit();
  }
}
