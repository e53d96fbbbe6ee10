import type { EnvTarget } from '../catalog.js';
import type { Logger } from '../logger.js';
import type { Clock, RepoHost } from '../ports.js';
import { renderChain } from './render-chain.js';
import type { DispatchRecord, ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import type { Actor, ThreadKernel } from '../threads/thread-kernel.js';
import type { LockGate } from '../locks/lock-gate.js';
import type { OfferEnd } from './render-offer-outcome.js';

export interface DispatchDeps {
  stores: Pick<Stores, 'dispatches' | 'flush'>;
  kernel: ThreadKernel;
  clock: Clock;
  log: Logger;
  /** GitHub; without it nothing can be dispatched (and the thread is told so). */
  repoHost?: RepoHost;
  /** Locks and freezes: a held environment gets no dispatch unless an approver forces it (the locks feature). */
  locks?: LockGate;
}

/** Whether a dispatch of the same tag recorded before stands in the way of this one. */
export type DispatchClaim =
  /** Any earlier dispatch of the tag does (the automatic chain dispatches a tag once). */
  | { kind: 'once' }
  /** One recorded at or after `since` does (a confirmed request made at `since`). */
  | { kind: 'since'; since: number }
  /** None does (an explicit command dispatches again). */
  | { kind: 'always' };

/**
 * What came of a dispatch: what was said and how it ended (for a confirmation card), or `taken` when a dispatch of the
 * tag recorded before stood in the way.
 */
export type DispatchOutcome = { kind: 'said'; text: string; end: OfferEnd } | { kind: 'taken'; by: DispatchRecord };

/**
 * Dispatches the environment's deploy workflow for a tag, records it (the claim decides, in one store call, whether
 * an earlier dispatch stands in the way) and says so. Throws only before anything was dispatched (the record is taken
 * back); after that, a failed store write is logged.
 */
export async function dispatchDeploy(
  deps: DispatchDeps,
  o: { target: EnvTarget; tag: string; actor: Actor; thread: ThreadRecord; fromThreadKey?: string; digest?: string; claim: DispatchClaim; force?: boolean },
): Promise<DispatchOutcome> {
  const { target, tag, thread, actor } = o;
  const { stores, kernel } = deps;
  const by = actor.who;
  const deploy = target.env.deploy!;
  const now = deps.clock.now();
  if (!deps.repoHost) {
    const text = renderChain({ kind: 'no-github', workflow: deploy.workflow });
    await kernel.reply(thread, `dispatch-fail:${target.key}:${tag}:${now}`, text, 'high', { broadcast: true });
    await kernel.commit();
    return { kind: 'said', text, end: { kind: 'no-github' } };
  }
  const key = `${target.app.name}/${target.env.name}/${tag}`;
  const lock = await deps.locks?.verdict({ target, what: 'dispatch' });
  if (lock && !o.force) {
    await kernel.reply(thread, `dispatch-held:${key}:${lock.hold.kind}`, lock.refusal, 'high', { broadcast: true });
    await kernel.record({ target, actor, action: 'deploy', result: `refused: ${lock.summary}`, thread, tag });
    await kernel.commit();
    return { kind: 'said', text: lock.refusal, end: { kind: 'held', summary: lock.summary } };
  }
  const record: DispatchRecord = { app: target.app.name, env: target.env.name, tag, workflow: deploy.workflow, at: now, by, fromThreadKey: o.fromThreadKey ?? thread.key };
  const standing = await claimDispatch(stores.dispatches, { key, record, claim: o.claim });
  if (standing) return { kind: 'taken', by: standing };
  try {
    await stores.flush();
  } catch (err) {
    // Not on disk, so not dispatched: a restart must not find a dispatch that never happened.
    await stores.dispatches.delete(key);
    throw err;
  }
  await kernel.record({ target, actor, action: 'deploy', result: lock ? `dispatching, --force overriding the ${lock.summary}` : 'dispatching', thread, tag, ...(o.digest !== undefined ? { digest: o.digest } : {}), ...(lock ? { override: true } : {}) });
  let failed: Error | undefined;
  try {
    await deps.repoHost.dispatchWorkflow({ repo: target.app.repo, workflow: deploy.workflow, ref: deploy.ref, inputs: { environment: target.env.name, image_tag: tag } });
  } catch (err) {
    failed = err as Error;
    await stores.dispatches.delete(key);
    deps.log.error({ err, app: target.app.name, env: target.env.name, tag }, 'deploy dispatch failed');
  }
  if (failed) {
    const text = renderChain({ kind: 'dispatch-failed', workflow: deploy.workflow, env: target.env.name, error: failed.message });
    await kernel.reply(thread, `dispatch-fail:${key}:${deps.clock.now()}`, text, 'high', { broadcast: true });
    await commitAfterDispatch(deps, key);
    return { kind: 'said', text, end: { kind: 'dispatch-failed' } };
  }
  const text = renderChain({ kind: 'dispatched', workflow: deploy.workflow, tag, env: target.env.name, by, channel: target.env.slackChannel, here: target.env.slackChannel === thread.channel });
  await kernel.reply(thread, `dispatch:${key}`, text, 'high');
  await commitAfterDispatch(deps, key);
  return { kind: 'said', text, end: { kind: 'dispatched', by, at: now } };
}

/** Records the dispatch unless an earlier one stands in the way (one store call); returns the one that does. */
async function claimDispatch(dispatches: Stores['dispatches'], o: { key: string; record: DispatchRecord; claim: DispatchClaim }): Promise<DispatchRecord | undefined> {
  switch (o.claim.kind) {
    case 'always':
      await dispatches.set(o.key, o.record);
      return undefined;
    case 'once':
      if (await dispatches.setIfAbsent(o.key, o.record)) return undefined;
      return (await dispatches.get(o.key)) ?? o.record;
    case 'since':
      return dispatches.claim(o.key, o.record, o.claim.since);
  }
}

/** Once the workflow was asked to run (or refused it), the outcome is in memory: a failed write is logged, not thrown. */
async function commitAfterDispatch(deps: DispatchDeps, key: string): Promise<void> {
  try {
    await deps.kernel.commit();
  } catch (err) {
    deps.log.error({ err, dispatch: key, fix: 'check that DATA_DIR is writable; the record is written with the next store write' }, 'store write after a dispatch failed');
    deps.kernel.wake();
  }
}
