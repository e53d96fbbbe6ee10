import type { EnvTarget } from '../catalog.js';
import type { Logger } from '../logger.js';
import type { Clock, RepoHost, StateStore } from '../ports.js';
import { renderChain } from './render-chain.js';
import type { AuditEntry, ThreadRecord } from '../store-data.js';
import { isSlackUserId } from '../text/is-slack-user-id.js';
import type { RolloutObserver } from '../rollout-threads/rollout-observer.js';

export interface DispatchDeps {
  store: StateStore;
  clock: Clock;
  log: Logger;
  /** GitHub; without it nothing can be dispatched (and the thread is told so). */
  repoHost?: RepoHost;
  observer: RolloutObserver;
  onChange: () => void;
}

/**
 * Dispatches the environment's deploy workflow for a tag, records it, and says so. Returns what was said. Throws only
 * before anything was dispatched (the record is taken back); after that, a failed store write is logged.
 */
export async function dispatchDeploy(deps: DispatchDeps, o: { target: EnvTarget; tag: string; by: string; thread: ThreadRecord; fromThreadKey?: string; digest?: string }): Promise<string> {
  const { target, tag, by, thread } = o;
  const deploy = target.env.deploy!;
  const now = deps.clock.now();
  if (!deps.repoHost) {
    const text = renderChain({ kind: 'no-github', workflow: deploy.workflow });
    deps.observer.reply(thread, `dispatch-fail:${target.key}:${tag}:${now}`, text, 'high', { broadcast: true });
    await deps.store.flush();
    deps.onChange();
    return text;
  }
  const key = `${target.app.name}/${target.env.name}/${tag}`;
  const { data } = deps.store;
  data.dispatches[key] = { app: target.app.name, env: target.env.name, tag, workflow: deploy.workflow, at: now, by, fromThreadKey: o.fromThreadKey ?? thread.key };
  const audit: AuditEntry = { at: now, who: by, source: by === 'chain' ? 'schedule' : isSlackUserId(by) ? 'slack' : 'github', action: 'deploy', app: target.app.name, env: target.env.name, tag, digest: o.digest, result: 'dispatching', threadKey: thread.key };
  data.audit.push(audit);
  try {
    await deps.store.flush();
  } catch (err) {
    // Not on disk, so not dispatched: a restart must not find a dispatch that never happened.
    delete data.dispatches[key];
    data.audit.splice(data.audit.indexOf(audit), 1);
    throw err;
  }
  let failed: Error | undefined;
  try {
    await deps.repoHost.dispatchWorkflow({ repo: target.app.repo, workflow: deploy.workflow, ref: deploy.ref, inputs: { environment: target.env.name, image_tag: tag } });
  } catch (err) {
    failed = err as Error;
    delete data.dispatches[key];
    deps.log.error({ err, app: target.app.name, env: target.env.name, tag }, 'deploy dispatch failed');
  }
  if (failed) {
    const text = renderChain({ kind: 'dispatch-failed', workflow: deploy.workflow, env: target.env.name, error: failed.message });
    deps.observer.reply(thread, `dispatch-fail:${key}:${deps.clock.now()}`, text, 'high', { broadcast: true });
    await commitAfterDispatch(deps, key);
    return text;
  }
  const text = renderChain({ kind: 'dispatched', workflow: deploy.workflow, tag, env: target.env.name, by, channel: target.env.slackChannel, here: target.env.slackChannel === thread.channel });
  deps.observer.reply(thread, `dispatch:${key}`, text, 'high');
  await commitAfterDispatch(deps, key);
  return text;
}

/** Once the workflow was asked to run (or refused it), the outcome is in memory: a failed write is logged, not thrown. */
async function commitAfterDispatch(deps: DispatchDeps, key: string): Promise<void> {
  try {
    await deps.store.flush();
  } catch (err) {
    deps.log.error({ err, dispatch: key, fix: 'check that DATA_DIR is writable; the record is written with the next store write' }, 'store write after a dispatch failed');
  }
  deps.onChange();
}
