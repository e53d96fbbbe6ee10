import { ecrRepositoryOf, type Catalog, type EnvTarget } from '../catalog.js';
import type { CommandContext, CommandReply } from '../commands/command-types.js';
import { proveTag } from '../deploys/prove-tag.js';
import type { Clock, ImageRegistry } from '../ports.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import type { ThreadKernel } from '../threads/thread-kernel.js';
import type { ConfirmationCards } from '../promotion/confirmation-cards.js';
import { openConfirmation } from '../promotion/open-confirmation.js';
import { requestLineOf } from '../promotion/request-line-of.js';
import { approverList, isApprover } from '../policy/approvers.js';
import type { DispatchOutcome, dispatchDeploy } from './dispatch-deploy.js';
import { renderChain } from './render-chain.js';
import { renderDeployOffer } from './render-deploy-offer.js';
import { renderOfferFacts } from './render-offer-facts.js';

export interface OfferDeployDeps {
  catalog: Catalog;
  stores: Stores;
  kernel: ThreadKernel;
  clock: Clock;
  registry: ImageRegistry;
  permalink: (channel: string, ts: string) => string;
  /** The confirmation cards: the offer's card is kept to be edited once decided, and expires on their timer. */
  cards: ConfirmationCards;
  /** Dispatches at once (a GitHub comment is itself the explicit intent). */
  dispatch: (o: Parameters<typeof dispatchDeploy>[1]) => Promise<DispatchOutcome>;
}

/**
 * `/promote <env>` where nothing is paused but the environment has a `deploy` block: offers to bring the previous
 * environment's proven tag, with the same confirmation, approvers, audit and live card as a promotion.
 */
export async function offerDeploy(deps: OfferDeployDeps, o: { target: EnvTarget; ctx: CommandContext; current?: RolloutState; dryRun: boolean; force: boolean }): Promise<CommandReply | undefined> {
  const { target, ctx } = o;
  const { catalog, kernel, clock } = deps;
  const deploy = target.env.deploy;
  if (!deploy) return undefined;
  const prev = catalog.previous(target);
  const name = `${target.app.name} ${target.env.name}`;
  if (!prev) return { text: renderChain({ kind: 'first-env', name }) };
  const prevThread = await latestCompleted(deps.stores, prev);
  if (!prevThread?.tag) return { text: renderChain({ kind: 'nothing-proven', name, prevEnv: prev.env.name }) };
  const tag = prevThread.tag;
  const running = o.current?.images.map((i) => i.tag);
  if (running?.includes(tag)) return { text: renderChain({ kind: 'already-runs', name, tag }) };
  const repository = ecrRepositoryOf(target);
  let image;
  try {
    image = await deps.registry.describe(repository, tag);
  } catch (err) {
    return { text: renderChain({ kind: 'offer-ecr-error', tag, error: (err as Error).message }) };
  }
  if (!image) return { text: renderChain({ kind: 'offer-ecr-missing', tag, repository }) };
  const proof = await proveTag(deps, { target, tag, now: clock.now() });
  const thread = (await kernel.current(target)) ?? prevThread;
  const facts = renderOfferFacts({ tag, repository, digest: image.digest, proof: proof.text, env: target.env.name, running, workflow: deploy.workflow, repo: target.app.repo, ref: deploy.ref });
  const where = thread.rootTs ? `<${deps.permalink(thread.channel, thread.rootTs)}|the ${thread.env} thread>` : `the ${thread.env} thread`;
  if (o.dryRun) {
    await kernel.reply(thread, `offer-dry:${clock.now()}`, renderChain({ kind: 'offer-dry-run', name, tag, facts }), 'normal');
    await kernel.commit();
    return { text: renderChain({ kind: 'dry-run-posted', where }) };
  }
  if (ctx.source === 'github') {
    const outcome = await deps.dispatch({ target, tag, actor: { who: ctx.user, source: 'github' }, fromThreadKey: prevThread.key, thread, claim: { kind: 'always' }, force: o.force });
    // An explicit command is never refused by an earlier dispatch: `taken` does not happen here.
    return { text: `${facts.join('\n')}\n${outcome.kind === 'said' ? outcome.text : ''}` };
  }
  const { confirmation: c, replaced, others } = await openConfirmation(deps.stores, {
    now: clock.now(),
    request: {
      threadKey: thread.key,
      app: target.app.name,
      env: target.env.name,
      action: 'deploy',
      full: false,
      force: o.force,
      requestedBy: ctx.user,
      snapshot: { phase: o.current?.phase ?? 'unknown', pauseReasons: [], aborted: false, specPaused: false, image: o.current?.images[0]?.image, podHash: o.current?.currentPodHash },
      describe: `dispatch ${deploy.workflow} with image_tag=${tag}`,
      tag,
      digest: image.digest,
      from: prev.env.name,
    },
  });
  const card = renderDeployOffer({
    confirmationId: c.id,
    app: target.app.name,
    env: target.env.name,
    from: prev.env.name,
    tag,
    workflow: deploy.workflow,
    force: o.force,
    facts,
    requestedBy: ctx.user,
    requesterMayConfirm: isApprover(target, ctx),
    approvers: approverList(target),
    others: others.map((x) => requestLineOf(x, catalog)),
    replacesOwn: replaced.length > 0,
  });
  const eventKey = `cf:${c.id}`;
  await kernel.reply(thread, eventKey, card.text, 'high', { blocks: card.blocks, editable: true });
  await deps.cards.posted(c, kernel.replyKey(thread, eventKey), card);
  for (const old of replaced) await deps.cards.settle(old.id, { kind: 'superseded' });
  await kernel.commit();
  return { text: renderChain({ kind: 'offer-waiting', name, tag, from: prev.env.name, where }) };
}

async function latestCompleted(stores: Pick<Stores, 'threads'>, t: EnvTarget): Promise<ThreadRecord | undefined> {
  return (await stores.threads.ofEnv(t.key))
    .filter((th) => th.outcome === 'completed')
    .sort((a, b) => (b.finishedAt ?? b.startedAt) - (a.finishedAt ?? a.startedAt))[0];
}
