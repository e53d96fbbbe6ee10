import type { Catalog } from '../catalog.js';
import type { ChatContent } from '../ports.js';
import type { ThreadRecord } from '../store-data.js';
import type { Stores } from '../store-ports.js';
import { cardExtras } from './card-extras.js';
import { renderCard } from './render-card.js';
import { renderGroupCard } from './render-group-card.js';
import { groupMembers } from './deploy-group.js';

/**
 * The status card of a thread as the dispatcher posts and updates it: the thread, its commit, the tag's journey and
 * the banner another feature puts on top, read from the store when the card is rendered (so it is always current).
 */
export function createCardRenderer(o: {
  stores: Pick<Stores, 'threads' | 'commits'>;
  catalog: Catalog;
  permalink: (channel: string, ts: string) => string;
  /** The banner shown on top of the card, if any (errors on). */
  banner?: (thread: ThreadRecord) => Promise<string | undefined>;
  /** The line of a locked environment, if it is locked (the locks feature). */
  lock?: (thread: ThreadRecord) => Promise<string | undefined>;
}): (thread: ThreadRecord) => Promise<ChatContent> {
  const { stores, catalog, permalink } = o;
  return async (thread) => {
    const commit = thread.commitSha ? await stores.commits.bySha(thread.commitSha) : undefined;
    const tagThreads = thread.tag ? await stores.threads.withTag(thread.app, thread.tag) : [];
    const banner = await o.banner?.(thread);
    const lock = await o.lock?.(thread);
    const extras = cardExtras(thread, { commit, tagThreads, catalog, permalink, banner, lock });
    const target = catalog.target(thread.app, thread.env);
    // A several-rollout deploy: the lead's card shows every rollout of it.
    const members = thread.group ? await groupMembers(stores, catalog, thread) : [];
    return members.length > 1 ? renderGroupCard(thread, members, target, extras) : renderCard(thread, target, extras);
  };
}
