import type { HotCollection, StateStore } from './state-store.js';
import type { KeyedStore, Stores } from '../../core/store-ports.js';
import { pruneStoreData } from './prune-store-data.js';
import { documentOutbox } from './document-outbox.js';
import { copyingStores } from './copying-stores.js';
import type { Confirmation, EnvRecord, StoreData, ThreadRecord } from '../../core/store-data.js';

/**
 * The store ports over the embedded store's one document. Every method reads and writes the document synchronously
 * before its promise resolves, so each call is atomic within the process (the one writer); `flush()` makes what the
 * calls changed durable, in one batched write.
 */
export function createDocumentStores(store: StateStore): Stores {
  return copyingStores(documentStoresOver(store));
}

/** The same ports without the copies: they hand out the document's own objects (for the embedded store's layer). */
export function documentStoresOver(store: StateStore): Stores {
  const data = (): StoreData => store.data;
  const touch = (c: HotCollection, key: string): void => store.touch?.(c, key);
  const threadsOf = () => Object.values(data().threads);
  // Copy on write: a change replaces the record (and the lists it changes), so a record someone read never changes.
  const cowThread = (key: string): ThreadRecord | undefined => {
    const old = data().threads[key];
    if (!old) return undefined;
    const t = { ...old, actions: [...old.actions], announced: [...old.announced] };
    data().threads[key] = t;
    return t;
  };
  const cowConfirmation = (id: string): Confirmation | undefined => {
    const old = data().confirmations[id];
    if (!old) return undefined;
    const c = { ...old, ...(old.approvals ? { approvals: [...old.approvals] } : {}) };
    data().confirmations[id] = c;
    return c;
  };
  const newestFirst = (a: ThreadRecord, b: ThreadRecord) => b.startedAt - a.startedAt;
  return {
    threads: {
      byKey: async (key) => data().threads[key],
      byRoot: async (channel, rootTs) => threadsOf().find((t) => t.channel === channel && t.rootTs === rootTs),
      current: async (envKey) => {
        const key = data().envs[envKey]?.threadKey;
        return key ? data().threads[key] : undefined;
      },
      ofEnv: async (envKey, o = {}) => {
        const [app, env] = splitEnvKey(envKey);
        const list = threadsOf().filter((t) => t.app === app && t.env === env).sort(newestFirst);
        return o.limit === undefined ? list : list.slice(0, o.limit);
      },
      withTag: async (app, tag) => threadsOf().filter((t) => t.app === app && t.tag === tag),
      open: async () => threadsOf().filter((t) => !t.outcome),
      staleCards: async () => threadsOf().filter((t) => t.rootTs && t.cardSent < t.cardVersion),
      save: async (thread) => {
        data().threads[thread.key] = thread;
        touch('threads', thread.key);
      },
      recordAction: async (key, action) => {
        const t = cowThread(key);
        if (!t) return;
        t.actions.push(action);
        t.cardVersion++;
        touch('threads', key);
      },
      trackWaiting: async (key, { waiting, now }) => {
        const t = cowThread(key);
        if (!t) return;
        if (waiting && t.waitingSince === undefined) t.waitingSince = now;
        if (!waiting && t.waitingSince !== undefined) {
          t.waitedMs = (t.waitedMs ?? 0) + (now - t.waitingSince);
          t.waitingSince = undefined;
        }
        touch('threads', key);
      },
      markOnce: async (key, mark) => {
        const t = cowThread(key);
        if (!t || t[mark]) return false;
        t[mark] = true;
        touch('threads', key);
        return true;
      },
      bumpCardsWithTag: async ({ app, tag, exceptKey }) => {
        for (const old of threadsOf()) {
          if (old.key === exceptKey || old.app !== app || old.tag !== tag) continue;
          cowThread(old.key)!.cardVersion++;
          touch('threads', old.key);
        }
      },
      byKeys: async (keys) => {
        const found: Record<string, ThreadRecord> = {};
        for (const key of keys) if (data().threads[key]) found[key] = data().threads[key]!;
        return found;
      },
      observed: async (key, o) => {
        const t = cowThread(key);
        if (!t) return;
        Object.assign(t, o.set);
        for (const [k, v] of Object.entries(o.set)) if (v === undefined) delete (t as unknown as Record<string, unknown>)[k];
        if (o.bumpCard) t.cardVersion++;
        touch('threads', key);
      },
      markCardSent: async (key, version) => {
        const t = cowThread(key);
        if (t && t.cardSent < version) {
          t.cardSent = version;
          touch('threads', key);
        }
      },
      bumpCard: async (key) => {
        const t = cowThread(key);
        if (!t) return;
        t.cardVersion++;
        touch('threads', key);
      },
      unpaired: async () => threadsOf().filter((t) => !t.commitSha && t.tag),
      setCommit: async (key, o) => {
        const t = cowThread(key);
        if (!t) return false;
        if (o.lookedUp) {
          t.commitLookedUp = true;
          touch('threads', key);
        }
        if (!o.sha || t.commitSha) return false;
        t.commitSha = o.sha;
        t.cardVersion++;
        touch('threads', key);
        return true;
      },
    },
    envs: {
      get: async (envKey) => ({ ...(data().envs[envKey] ?? {}) }),
      update: async (envKey, patch) => {
        const rec: EnvRecord = (data().envs[envKey] ??= {});
        for (const [k, v] of Object.entries(patch) as Array<[keyof EnvRecord, unknown]>) {
          if (v === undefined) delete rec[k];
          else (rec as Record<string, unknown>)[k] = v;
        }
        touch('envs', envKey);
      },
    },
    outbox: documentOutbox(data, touch),
    confirmations: {
      get: async (id) => data().confirmations[id],
      ofThread: async (threadKey) => Object.values(data().confirmations).filter((c) => c.threadKey === threadKey).sort((a, b) => b.requestedAt - a.requestedAt),
      open: async (c, supersedes) => {
        const superseded: string[] = [];
        for (const other of Object.values(data().confirmations)) {
          if (other.status !== 'pending' || !supersedes(other)) continue;
          data().confirmations[other.id] = { ...other, status: 'superseded', supersededBy: c.id };
          superseded.push(other.id);
          touch('confirmations', other.id);
        }
        data().confirmations[c.id] = c;
        touch('confirmations', c.id);
        return superseded;
      },
      claim: async (id, by, at) => {
        const c: Confirmation | undefined = cowConfirmation(id);
        if (!c || c.status !== 'pending') return false;
        c.status = 'done';
        c.doneBy = by;
        c.doneAt = at;
        touch('confirmations', id);
        return true;
      },
      cancel: async (id, by, at) => {
        const c: Confirmation | undefined = cowConfirmation(id);
        if (!c || c.status !== 'pending') return false;
        c.status = 'cancelled';
        c.doneBy = by;
        c.doneAt = at;
        touch('confirmations', id);
        return true;
      },
      approve: async (id, user, at, required) => {
        const c: Confirmation | undefined = cowConfirmation(id);
        if (!c || c.status !== 'pending') return undefined;
        const approvals = (c.approvals ??= []);
        if (approvals.some((a) => a.by === user)) return { added: false, complete: false, approvals: [...approvals] };
        approvals.push({ by: user, at });
        touch('confirmations', id);
        return { added: true, complete: approvals.length === required, approvals: [...approvals] };
      },
      update: async (id, patch) => {
        const c = cowConfirmation(id);
        if (!c) return;
        Object.assign(c, patch);
        touch('confirmations', id);
      },
      pending: async () => Object.values(data().confirmations).filter((c) => c.status === 'pending'),
      settleCard: async (id, outcome) => {
        const c = cowConfirmation(id);
        if (!c || !c.cardKey || !c.card || c.cardOutcome !== undefined) return undefined;
        c.cardOutcome = outcome;
        touch('confirmations', id);
        return c;
      },
    },
    audit: {
      append: async (entry) => {
        data().audit.push(entry);
      },
      recent: async (o = {}) => {
        const list = data().audit.filter((a) => (o.app === undefined || a.app === o.app) && (o.env === undefined || a.env === o.env) && (o.since === undefined || a.at >= o.since));
        list.sort((a, b) => b.at - a.at);
        return o.limit === undefined ? list : list.slice(0, o.limit);
      },
    },
    claims: {
      claim: async (key, at) => {
        if (data().seen[key] !== undefined) return false;
        data().seen[key] = at;
        touch('seen', key);
        await store.flush();
        return true;
      },
      seen: async (key) => data().seen[key] !== undefined,
    },
    commits: {
      put: async (commit) => {
        data().commits[commit.sha] = commit;
      },
      bySha: async (sha, repo) => {
        const exact = data().commits[sha];
        if (exact && (repo === undefined || exact.repo === repo)) return exact;
        if (sha.length >= 40 || sha.length < 7) return undefined;
        const found = Object.values(data().commits).filter((c) => c.sha.startsWith(sha) && (repo === undefined || c.repo === repo));
        return found.length === 1 ? found[0] : undefined;
      },
    },
    errorSims: keyed(() => (data().errorSims ??= {}), (k) => touch('errorSims', k)),
    drills: keyed(() => (data().drills ??= {}), (k) => touch('drills', k)),
    reminders: keyed(() => (data().reminders ??= {}), (k) => touch('reminders', k)),
    digests: keyed(() => (data().digestsSent ??= {}), (k) => touch('digestsSent', k)),
    dispatches: {
      ...keyed(() => data().dispatches, (k) => touch('dispatches', k)),
      claim: async (key, record, since) => {
        const standing = data().dispatches[key];
        if (standing && standing.at >= since) return standing;
        data().dispatches[key] = record;
        touch('dispatches', key);
        return undefined;
      },
      markAnnounced: async (key) => {
        const rec = data().dispatches[key];
        if (!rec || rec.announced) return undefined;
        rec.announced = true;
        touch('dispatches', key);
        return rec;
      },
    },
    installations: keyed(() => data().installations, (k) => touch('installations', k)),
    deployments: keyed(() => (data().deployments ??= {}), (k) => touch('deployments', k)),
    actionMarks: keyed(() => (data().actionMarks ??= {}), (k) => touch('actionMarks', k)),
    locks: keyed(() => (data().locks ??= {}), (k) => touch('locks', k)),
    noOpRevisions: keyed(() => (data().noOpRevisions ??= {}), (k) => touch('noOpRevisions', k)),
    clustersDown: keyed(() => (data().clustersDown ??= {}), (k) => touch('clustersDown', k)),
    prune: async (o) => pruneStoreData(data(), o),
    newId: async (prefix, now) => {
      touch('seq', 'seq');
      return `${prefix}${now.toString(36)}${data().seq++}`;
    },
    flush: () => store.flush(),
  };
}

function keyed<T>(map: () => Record<string, T>, touch: (key: string) => void): KeyedStore<T> {
  return {
    get: async (key) => map()[key],
    all: async () => Object.entries(map()),
    set: async (key, value) => {
      map()[key] = value;
      touch(key);
    },
    setIfAbsent: async (key, value) => {
      if (map()[key] !== undefined) return false;
      map()[key] = value;
      touch(key);
      return true;
    },
    delete: async (key) => {
      delete map()[key];
      touch(key);
    },
  };
}

function splitEnvKey(envKey: string): [string, string] {
  const i = envKey.lastIndexOf('/');
  return [envKey.slice(0, i), envKey.slice(i + 1)];
}
