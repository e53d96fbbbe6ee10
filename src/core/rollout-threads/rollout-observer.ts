import type { Catalog, EnvTarget } from '../catalog.js';
import { detectRevisionEnd } from './detect-revision-end.js';
import { detectRolloutEvents } from './detect-rollout-events.js';
import type { Logger } from '../logger.js';
import type { Clock, RolloutCluster } from '../ports.js';
import { renderEvent } from './render-event.js';
import { primaryTag } from '../rollout/describe-state.js';
import { asStable } from '../rollout/as-stable.js';
import { observedFacts } from '../rollout/observed-facts.js';
import { showUnobserved } from '../rollout/show-unobserved.js';
import { measureFailedAnalysis } from './measure-failed-analysis.js';
import { NoOpRevisions } from './no-op-revisions.js';
import { memberEnvKey, placeInGroup } from './deploy-group.js';
import { cardFacts } from './card-facts.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { EnvRecord, ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';

export interface RolloutObserverDeps {
  catalog: Catalog;
  stores: Stores;
  /** Replies, notices, and committing what was queued (which wakes the dispatcher). */
  kernel: ThreadKernel;
  clock: Clock;
  log: Logger;
  /** Counts events seen, by type. */
  countEvent?: (type: string) => void;
  /** Reads the AnalysisRun behind an abort, so the reply can say what was measured. */
  cluster?: Pick<RolloutCluster, 'analysisRun'>;
  /** How long a channel's note of revisions that changed no image waits for more (default 30 s). */
  noOpWindowMs?: number;
}

/**
 * What another feature does once a thread has taken (and saved) a new state: pairing commits, the chain, drills. It
 * writes through the store ports; `previous` is what the thread showed before; awaited in order before the commit.
 */
export type ThreadHook = (o: { thread: ThreadRecord; target: EnvTarget; state: RolloutState; events: string[]; previous?: RolloutState }) => void | Promise<void>;

const STALE_STATUS = new Set(['waiting for rollout spec update to be observed', 'waiting for rollout spec update to be observed for the reference workload']);

/** Thread key: one per app, environment and rollout revision (the uid tells a re-created rollout apart). */
export function threadKeyOf(target: EnvTarget, state: Pick<RolloutState, 'uid' | 'revision'>): string {
  return `${target.key}/${(state.uid ?? 'nouid').slice(0, 8)}/r${state.revision}`;
}

/**
 * Keeps one Slack thread per deploy current: on every observed state of a configured rollout, diff it against what the
 * thread last showed, queue a reply per new event (each once, by key), bump the card, and flush before moving on.
 * Work for one environment is serialised so two quick updates never interleave.
 */
export class RolloutObserver {
  private readonly chains = new Map<string, Promise<void>>();
  /** Threads this process has applied a state to: a thread not in here was last seen before a restart. */
  private readonly watched = new Set<string>();
  private hooks: readonly ThreadHook[] = [];
  private readonly noOps: NoOpRevisions;

  constructor(private readonly deps: RolloutObserverDeps) {
    this.noOps = new NoOpRevisions(deps);
  }

  /**
   * Sets, once at start-up, the hooks run in this order after each applied state. Separate from the constructor
   * because the features that provide them (commits, the chain, drills) are built after the observer.
   */
  setHooks(hooks: readonly ThreadHook[]): void {
    this.hooks = hooks;
  }

  /**
   * A rollout was added or changed in the cluster. `found` is its environment when the caller knows it (the watch of
   * a cluster knows its own; the same namespace/name may be configured in several clusters), else the default cluster's.
   */
  observe(state: RolloutState, found?: EnvTarget): Promise<void> {
    const target = found ?? this.deps.catalog.forRollout(state.namespace, state.name);
    if (!target) return Promise.resolve();
    return this.serial(target.key, () => this.apply(target, state));
  }

  /**
   * A rollout was deleted from the cluster: the card and `/rollout status` stop showing its last state as current.
   * Nothing is announced; a re-created rollout (new uid) opens its own thread.
   */
  deleted(state: Pick<RolloutState, 'namespace' | 'name' | 'uid'>, found?: EnvTarget): Promise<void> {
    const target = found ?? this.deps.catalog.forRollout(state.namespace, state.name);
    if (!target) return Promise.resolve();
    return this.serial(target.key, async () => {
      const { stores, kernel } = this.deps;
      const ek = memberEnvKey(this.deps.catalog, target, state.name);
      const envRec = await stores.envs.get(ek);
      const thread = envRec.threadKey ? await stores.threads.byKey(envRec.threadKey) : undefined;
      if (thread?.lastState && !thread.lastState.deleted && (!state.uid || thread.uid === state.uid)) {
        await stores.threads.observed(thread.key, { set: { lastState: { ...thread.lastState, deleted: true } }, bumpCard: true });
        if (thread.groupOf) await stores.threads.bumpCard(thread.groupOf);
      }
      if (envRec.baseline && !envRec.baseline.deleted) await stores.envs.update(ek, { baseline: { ...envRec.baseline, deleted: true } });
      await kernel.commit();
    });
  }

  /** A configured rollout does not exist: note it once in the environment's channel, not fatal. */
  missing(target: EnvTarget, rollout: string): Promise<void> {
    // Only this observer writes `missingNoticed`, one environment at a time (serial): reading it first is safe.
    return this.serial(target.key, async () => {
      const { stores, kernel } = this.deps;
      const ek = memberEnvKey(this.deps.catalog, target, rollout);
      if ((await stores.envs.get(ek)).missingNoticed) return;
      await stores.envs.update(ek, { missingNoticed: true });
      const where = `${target.env.namespace}/${rollout}`;
      this.deps.log.warn({ app: target.app.name, env: target.env.name, rollout: where }, 'configured rollout not found');
      await kernel.notice(
        target,
        `missing/${rollout}/${this.deps.clock.now()}`,
        `⚠️ ${target.app.name} · ${target.env.name}: rollout \`${where}\` was not found in the cluster. Check \`namespace\` and \`${this.deps.catalog.isGroup(target) ? 'rollouts' : 'rollout'}\` for this environment in the config; I will start its thread as soon as it appears.`,
      );
      await kernel.commit();
    });
  }

  /** Resolves once every queued observation has been applied. */
  async idle(): Promise<void> {
    await Promise.all([...this.chains.values()]);
  }

  /** Shutdown: every queued observation applied, the no-op note timers cancelled (a restart re-arms them). */
  async stop(): Promise<void> {
    await this.idle();
    await this.noOps.stop();
  }

  private serial(key: string, fn: () => Promise<void>): Promise<void> {
    const prev = this.chains.get(key) ?? Promise.resolve();
    const next = prev.then(fn).catch((err: unknown) => this.deps.log.error({ err, env: key }, 'applying a rollout change failed'));
    this.chains.set(key, next);
    void next.then(() => {
      if (this.chains.get(key) === next) this.chains.delete(key);
    });
    return next;
  }

  private async apply(target: EnvTarget, state: RolloutState): Promise<void> {
    // Right after a spec change the status still describes the old spec (observedGeneration behind): the controller
    // has not looked yet. Nothing in it is news, and its revision may be the old one, so it opens no thread and
    // announces nothing; but the card and status show the phase Argo shows.
    if (STALE_STATUS.has(state.message)) return this.unobserved(target, state);
    const { stores, kernel, clock } = this.deps;
    const now = clock.now();
    // The environment record, the threads' observed fields and their root entries are written by this observer
    // alone, one environment at a time (serial), so what it reads here is still true when it writes.
    const ek = memberEnvKey(this.deps.catalog, target, state.name);
    const envRec = await stores.envs.get(ek);
    const envPatch: Partial<EnvRecord> = { missingNoticed: false };
    const key = threadKeyOf(target, state);
    let thread = await stores.threads.byKey(key);
    const isNew = !thread;

    if (!thread) {
      const firstSight = !envRec.threadKey && !envRec.baseline;
      const settled = state.fullyPromoted && state.phase === 'Healthy' && !state.aborted;
      const baseline = envRec.baseline && observedFacts(envRec.baseline);
      const baselineSameRevision = baseline && !envRec.baseline?.deleted && baseline.revision === state.revision && baseline.uid === state.uid;
      if ((firstSight && settled) || (baselineSameRevision && settled)) {
        // A rollout that was already settled when we first saw it: nothing to tell yet.
        await stores.envs.update(ek, { ...envPatch, baseline: state });
        await stores.flush();
        return;
      }
      const previous = envRec.threadKey ? await stores.threads.byKey(envRec.threadKey) : undefined;
      // Only the pod template's metadata changed (the images are the stable ones): no thread, one note per channel.
      if (await this.noOps.absorb({ target, state, key, envRec, envKey: ek, previous })) return kernel.commit();
      if (previous && !previous.outcome && previous.key !== key) await this.replaced(previous, state, target, now);
      else if (previous?.lastState && previous.key !== key && (previous.lastState.unobserved || previous.lastState.deleted)) {
        // A finished thread that showed the "not yet observed" phase goes back to how it ended.
        await stores.threads.observed(previous.key, { set: { lastState: observedFacts(previous.lastState) }, bumpCard: true });
      }
      thread = {
        key,
        app: target.app.name,
        env: target.env.name,
        namespace: state.namespace,
        rollout: state.name,
        uid: state.uid,
        revision: state.revision,
        podHash: state.currentPodHash,
        tag: primaryTag(state),
        channel: target.env.slackChannel,
        createdAt: now,
        startedAt: now,
        attempt: 1,
        announced: [],
        // When the baseline was this same revision (first seen settled, now moving again), diff from it.
        lastState: baselineSameRevision ? baseline : undefined,
        cardVersion: 1,
        cardSent: 0,
        actions: [],
      };
      // Several rollouts: a revision built from the commit of the deploy in progress joins its thread.
      const joined = this.deps.catalog.isGroup(target) && (await placeInGroup(stores, { target, thread, now }));
      await stores.threads.save(thread);
      if (!joined) await stores.outbox.enqueue({ id: `${key}#root`, threadKey: key, channel: thread.channel, kind: 'root', priority: 'normal', text: '', createdAt: now });
      if (!joined && ek !== target.key) await stores.envs.update(target.key, { threadKey: key });
      envPatch.baseline = undefined;
    }
    await stores.envs.update(ek, { ...envPatch, threadKey: key });

    const prev = thread.lastState && observedFacts(thread.lastState);
    const events = detectRolloutEvents(prev, state);
    const announced = new Set(thread.announced);
    const fresh: string[] = [];
    for (const event of events) {
      this.deps.countEvent?.(event.type);
      if (event.type === 'retried') thread.attempt++;
      const scoped = event.type === 'deploy-started' ? event.key : `a${thread.attempt}:${event.key}`;
      if (announced.has(scoped)) continue;
      announced.add(scoped);
      thread.announced.push(scoped);
      thread.announcedAt = { ...thread.announcedAt, [scoped]: now };
      fresh.push(event.type);
      if (event.type === 'completed') {
        thread.outcome = 'completed';
        thread.finishedAt = now;
      } else if (event.type === 'aborted') {
        thread.outcome = 'aborted';
        thread.finishedAt = now;
      } else if (event.type === 'retried') {
        thread.outcome = undefined;
        thread.finishedAt = undefined;
      }
      if (event.type === 'aborted' && this.deps.cluster) {
        const measured = await measureFailedAnalysis({ cluster: this.deps.cluster, prev, next: state, log: this.deps.log, where: target.env.cluster });
        if (measured.length) event.measured = measured;
      }
      // A transition the bot's own action caused gets that action's reply (one reply; see ExpectedReply).
      const mark = (await stores.actionMarks.get(thread.key))?.reply;
      const own = mark?.key === scoped ? mark : undefined;
      const claim = `own-reply/${thread.key}#${scoped}`;
      if (own ? !(await stores.claims.claim(claim, now)) : await stores.claims.seen(claim)) continue;
      const reply = own ? { ...own, batchable: false } : renderEvent(event, state, target, thread.key);
      if (!reply) continue;
      await kernel.reply(thread, scoped, reply.text, reply.priority, { broadcast: reply.broadcast, batchable: reply.batchable, blocks: reply.blocks, rolloutLabel: true });
    }

    const bumpCard = !thread.lastState || cardFacts(thread.lastState) !== cardFacts(state);
    thread.lastState = state;
    thread.podHash = state.currentPodHash;
    thread.tag = primaryTag(state) ?? thread.tag;
    const { attempt, outcome, finishedAt, lastState, podHash, tag } = thread;
    await stores.threads.observed(key, { set: { attempt, announced: thread.announced, announcedAt: thread.announcedAt, outcome, finishedAt, lastState, podHash, tag }, bumpCard });
    if (thread.groupOf && (bumpCard || fresh.length > 0)) await stores.threads.bumpCard(thread.groupOf);
    this.watched.add(thread.key);
    for (const hook of this.hooks) await hook({ thread, target, state, events: fresh, previous: prev });
    // The same tag's threads in other environments show this one's progress in their journey line.
    if ((isNew || fresh.length > 0) && thread.tag !== undefined) await stores.threads.bumpCardsWithTag({ app: thread.app, tag: thread.tag, exceptKey: thread.key });
    await kernel.commit();
  }

  /**
   * A state the controller has not observed yet: the current thread's card (or the baseline) shows Argo's phase over the
   * last observed facts. The thread it belongs to is not looked up by this state's key: its revision may be stale.
   */
  private async unobserved(target: EnvTarget, state: RolloutState): Promise<void> {
    const { stores, kernel } = this.deps;
    const ek = memberEnvKey(this.deps.catalog, target, state.name);
    const envRec = await stores.envs.get(ek);
    const thread = envRec.threadKey ? await stores.threads.byKey(envRec.threadKey) : undefined;
    const sameRollout = (s: RolloutState) => !s.deleted && (!state.uid || !s.uid || s.uid === state.uid);
    if (thread?.lastState && sameRollout(thread.lastState)) {
      const shown = showUnobserved(thread.lastState, state);
      const bumpCard = cardFacts(thread.lastState) !== cardFacts(shown);
      await stores.threads.observed(thread.key, { set: { lastState: shown }, bumpCard });
      if (thread.groupOf && bumpCard) await stores.threads.bumpCard(thread.groupOf);
    } else if (!thread && envRec.baseline && sameRollout(envRec.baseline)) {
      await stores.envs.update(ek, { baseline: showUnobserved(envRec.baseline, state) });
    }
    // With nothing seen before (first sight), nothing is shown until the controller writes.
    await kernel.commit();
  }

  /**
   * A new revision replaced an open thread's: say how that one ended, as far as it was seen or `state` proves it. A
   * revision `state` shows stable completed (its card says so); any other is superseded.
   */
  private async replaced(previous: ThreadRecord, state: RolloutState, target: EnvTarget, now: number): Promise<void> {
    const event = detectRevisionEnd({ revision: previous.revision, podHash: previous.podHash, next: state, watched: this.watched.has(previous.key) });
    this.deps.countEvent?.(event.type);
    previous.outcome = event.ended === 'completed' ? 'completed' : 'superseded';
    previous.finishedAt = now;
    if (event.ended === 'completed' && previous.lastState) previous.lastState = asStable(observedFacts(previous.lastState));
    else if (previous.lastState) previous.lastState = observedFacts(previous.lastState);
    const scoped = `a${previous.attempt}:${event.key}`;
    if (!previous.announced.includes(scoped)) previous.announced.push(scoped);
    const { outcome, finishedAt, lastState, announced } = previous;
    await this.deps.stores.threads.observed(previous.key, { set: { outcome, finishedAt, lastState, announced }, bumpCard: true });
    const reply = renderEvent(event, state, target);
    if (reply) await this.deps.kernel.reply(previous, scoped, reply.text, reply.priority, { broadcast: reply.broadcast, batchable: reply.batchable, rolloutLabel: true });
  }
}
