import { ecrRepositoryOf, type Catalog } from '../catalog.js';
import type { ImageRegistry } from '../ports.js';
import type { CardOutcome } from '../promotion/render-card-outcome.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { Confirmation, ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import type { DispatchOutcome, dispatchDeploy } from './dispatch-deploy.js';
import { renderChain } from './render-chain.js';
import { offerOutcome } from './render-offer-outcome.js';

export interface ConfirmDeployDeps {
  catalog: Catalog;
  stores: Pick<Stores, 'dispatches'>;
  kernel: ThreadKernel;
  registry: ImageRegistry;
  dispatch: (o: Parameters<typeof dispatchDeploy>[1]) => Promise<DispatchOutcome>;
}

/**
 * Runs a confirmed deploy offer: the tag checked again, then the workflow dispatched. Resolves to what its card shows
 * in place of its buttons (undefined when the offer's environment or thread is gone).
 */
export async function confirmDeploy(deps: ConfirmDeployDeps, o: { c: Confirmation; user: string; current: RolloutState | undefined }): Promise<CardOutcome | undefined> {
  const { c, user, current } = o;
  const { kernel } = deps;
  const target = deps.catalog.target(c.app, c.env);
  const thread = await kernel.byKey(c.threadKey);
  if (!target || !thread || !c.tag) return undefined;
  const say = async (key: string, text: string, priority: 'high' | 'normal') => {
    await kernel.reply(thread, `${key}:${c.id}`, text, priority);
    await kernel.commit();
  };
  const sent = await deps.stores.dispatches.get(`${target.app.name}/${target.env.name}/${c.tag}`);
  if (sent && sent.at >= c.requestedAt) return duplicate(deps, { c, thread, by: sent.by });
  if (current?.images.some((i) => i.tag === c.tag)) {
    await say('deploy-noop', renderChain({ kind: 'deploy-noop', tag: c.tag, env: target.env.name }), 'normal');
    return offerOutcome({ kind: 'already-runs', env: target.env.name });
  }
  let image;
  try {
    image = await deps.registry.describe(ecrRepositoryOf(target), c.tag);
  } catch (err) {
    await say('deploy-ecr', renderChain({ kind: 'deploy-ecr-error', tag: c.tag, error: (err as Error).message }), 'high');
    return offerOutcome({ kind: 'ecr-unreadable' });
  }
  if (!image || image.digest !== c.digest) {
    await say('deploy-ecr', renderChain({ kind: 'deploy-ecr-changed', tag: c.tag, exists: Boolean(image) }), 'high');
    return offerOutcome({ kind: 'ecr-changed' });
  }
  // The dispatch claim decides: another request for the same tag confirmed after this one was shown wins.
  const outcome = await deps.dispatch({ target, tag: c.tag, actor: { who: user, source: 'slack' }, thread, digest: image.digest, claim: { kind: 'since', since: c.requestedAt }, force: c.force });
  if (outcome.kind === 'taken') return duplicate(deps, { c, thread, by: outcome.by.by });
  return offerOutcome(outcome.end);
}

/** Another request for the same tag was confirmed after this one was shown: it is done already. */
async function duplicate(deps: Pick<ConfirmDeployDeps, 'kernel'>, o: { c: Confirmation; thread: ThreadRecord; by: string }): Promise<CardOutcome> {
  const { c, thread, by } = o;
  await deps.kernel.reply(thread, `deploy-dup:${c.id}`, renderChain({ kind: 'deploy-duplicate', tag: c.tag ?? '', env: c.env, by }), 'normal');
  await deps.kernel.commit();
  return offerOutcome({ kind: 'dispatched-already' });
}
