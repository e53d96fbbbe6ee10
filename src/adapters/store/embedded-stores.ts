import type { PruneCounts, Stores, ThreadStore } from '../../core/store-ports.js';
import type { ThreadRecord } from '../../core/store-data.js';
import { copyingStores } from './copying-stores.js';
import { documentStoresOver } from './document-stores.js';
import type { History } from './history.js';
import type { HotState } from './hot-journal.js';
import { pruneStoreData } from './prune-store-data.js';

const DAY_MS = 86_400_000;

/**
 * The store ports of the embedded store: what is in flight is answered from the hot document (createDocumentStores
 * over it, every change journaled), finished deploys, confirmations, audit entries and commits from the history
 * through its index. A change to a finished deploy (its card shows a tag's later journey) brings it back to the hot
 * state first; it leaves again once it settles.
 */
export function createEmbeddedStores(hot: HotState, history: History): Stores {
  const base = documentStoresOver(hot);
  const data = () => hot.data;
  const rehydrating = new Map<string, Promise<boolean>>();

  /** The thread is in the hot document when this resolves true (read back from the history if it had left). */
  const ensureHot = (key: string): Promise<boolean> => {
    if (data().threads[key]) return Promise.resolve(true);
    if (!history.index.threads.has(key)) return Promise.resolve(false);
    let p = rehydrating.get(key);
    if (!p) {
      p = history.thread(key).then((t) => {
        rehydrating.delete(key);
        if (data().threads[key]) return true;
        if (!t) return false;
        data().threads[key] = t;
        hot.touch('threads', key);
        return true;
      });
      rehydrating.set(key, p);
    }
    return p;
  };
  const hotFirst = <A extends unknown[], R>(f: (key: string, ...a: A) => Promise<R>) => async (key: string, ...a: A): Promise<R> => {
    await ensureHot(key);
    return f(key, ...a);
  };

  /** Hot threads and history entries merged (hot wins), newest first, at most `limit`, then read. */
  const merged = async (hotOnes: ThreadRecord[], entries: Array<{ key: string; startedAt: number }>, limit?: number): Promise<ThreadRecord[]> => {
    const seen = new Set(hotOnes.map((t) => t.key));
    const all: Array<{ startedAt: number; get: () => Promise<ThreadRecord | undefined> }> = hotOnes.map((t) => ({ startedAt: t.startedAt, get: async () => t }));
    for (const e of entries) if (!seen.has(e.key) && !data().threads[e.key]) all.push({ startedAt: e.startedAt, get: () => history.thread(e.key) });
    all.sort((a, b) => b.startedAt - a.startedAt);
    const kept = limit === undefined ? all : all.slice(0, limit);
    return (await Promise.all(kept.map((x) => x.get()))).filter((t): t is ThreadRecord => t !== undefined);
  };

  const threads: ThreadStore = {
    ...base.threads,
    byKey: async (key) => data().threads[key] ?? history.thread(key),
    byRoot: async (channel, rootTs) => {
      const found = await base.threads.byRoot(channel, rootTs);
      if (found) return found;
      const e = history.index.rootThread(channel, rootTs);
      return e ? history.thread(e.key) : undefined;
    },
    current: async (envKey) => {
      const key = data().envs[envKey]?.threadKey;
      return key ? (data().threads[key] ?? history.thread(key)) : undefined;
    },
    ofEnv: async (envKey, o = {}) => merged(await base.threads.ofEnv(envKey), history.index.envThreads(envKey), o.limit),
    withTag: async (app, tag) => merged(await base.threads.withTag(app, tag), history.index.tagThreads(app, tag)),
    byKeys: async (keys) => {
      const found: Record<string, ThreadRecord> = {};
      for (const key of keys) {
        const t = data().threads[key] ?? (await history.thread(key));
        if (t) found[key] = t;
      }
      return found;
    },
    recordAction: hotFirst(base.threads.recordAction),
    trackWaiting: hotFirst(base.threads.trackWaiting),
    markOnce: hotFirst(base.threads.markOnce),
    observed: hotFirst(base.threads.observed),
    markCardSent: hotFirst(base.threads.markCardSent),
    bumpCard: hotFirst(base.threads.bumpCard),
    setCommit: hotFirst(base.threads.setCommit),
    bumpCardsWithTag: async (o) => {
      for (const e of history.index.tagThreads(o.app, o.tag)) if (e.key !== o.exceptKey) await ensureHot(e.key);
      return base.threads.bumpCardsWithTag(o);
    },
  };

  return copyingStores({
    ...base,
    threads,
    confirmations: {
      ...base.confirmations,
      get: async (id) => data().confirmations[id] ?? history.confirmation(id),
      ofThread: async (threadKey) => {
        const hotOnes = await base.confirmations.ofThread(threadKey);
        const ids = new Set(hotOnes.map((c) => c.id));
        const old = (await history.confirmationsOf(threadKey)).filter((c) => !ids.has(c.id) && !data().confirmations[c.id]);
        return [...hotOnes, ...old].sort((a, b) => b.requestedAt - a.requestedAt);
      },
    },
    claims: {
      // A claim that left for the history is still a claim.
      claim: async (key, at) => (history.index.claims.has(key) ? false : base.claims.claim(key, at)),
      seen: async (key) => history.index.claims.has(key) || base.claims.seen(key),
    },
    audit: {
      append: async (entry) => history.queueAudit(entry),
      recent: (o = {}) => history.auditRecent(o),
    },
    commits: {
      put: async (commit) => history.queueCommit(commit),
      bySha: (sha, repo) => history.commit(sha, repo),
    },
    prune: async (o) => {
      const cutoff = o.now - o.days * DAY_MS;
      // Marks of deploys that left for the history are not orphans.
      const keepKeys = new Set(history.index.threads.keys());
      const counts: PruneCounts = pruneStoreData(data(), { ...o, alsoKnown: keepKeys });
      hot.compactSoon();
      const referenced = new Set(Object.values(data().threads).map((t) => t.commitSha).filter((s): s is string => Boolean(s)));
      const dropped = await history.expire(cutoff, referenced);
      await hot.flush();
      return {
        ...counts,
        threads: counts.threads + dropped.th,
        audit: counts.audit + dropped.au,
        commits: counts.commits + dropped.cm,
        seen: counts.seen + dropped.cl,
        confirmations: counts.confirmations + dropped.cf,
      };
    },
  });
}
