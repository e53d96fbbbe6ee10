import type { StateStore } from './state-store.js';
import type { KeyedStore, Stores } from '../../core/store-ports.js';
import { pruneStoreData } from './prune-store-data.js';
import type { Confirmation, EnvRecord, StoreData, ThreadRecord } from '../../core/store-data.js';

/**
 * The store ports over the embedded store's one document. Every method reads and writes the document synchronously
 * before its promise resolves, so each call is atomic within the process (the one writer); `flush()` makes what the
 * calls changed durable, in one batched write.
 */
export function createDocumentStores(store: StateStore): Stores {
  const data = (): StoreData => store.data;
  const threadsOf = () => Object.values(data().threads);
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
      },
      recordAction: async (key, action) => {
        const t = data().threads[key];
        if (!t) return;
        t.actions.push(action);
        t.cardVersion++;
      },
      trackWaiting: async (key, { waiting, now }) => {
        const t = data().threads[key];
        if (!t) return;
        if (waiting && t.waitingSince === undefined) t.waitingSince = now;
        if (!waiting && t.waitingSince !== undefined) {
          t.waitedMs = (t.waitedMs ?? 0) + (now - t.waitingSince);
          t.waitingSince = undefined;
        }
      },
      markOnce: async (key, mark) => {
        const t = data().threads[key];
        if (!t || t[mark]) return false;
        t[mark] = true;
        return true;
      },
      bumpCardsWithTag: async ({ app, tag, exceptKey }) => {
        for (const t of threadsOf()) if (t.key !== exceptKey && t.app === app && t.tag === tag) t.cardVersion++;
      },
      byKeys: async (keys) => {
        const found: Record<string, ThreadRecord> = {};
        for (const key of keys) if (data().threads[key]) found[key] = data().threads[key]!;
        return found;
      },
      observed: async (key, o) => {
        const t = data().threads[key];
        if (!t) return;
        Object.assign(t, o.set);
        if (o.bumpCard) t.cardVersion++;
      },
      markCardSent: async (key, version) => {
        const t = data().threads[key];
        if (t && t.cardSent < version) t.cardSent = version;
      },
      bumpCard: async (key) => {
        const t = data().threads[key];
        if (t) t.cardVersion++;
      },
      unpaired: async () => threadsOf().filter((t) => !t.commitSha && t.tag),
      setCommit: async (key, o) => {
        const t = data().threads[key];
        if (!t) return false;
        if (o.lookedUp) t.commitLookedUp = true;
        if (!o.sha || t.commitSha) return false;
        t.commitSha = o.sha;
        t.cardVersion++;
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
      },
    },
    outbox: {
      enqueue: async (entry) => {
        const d = data();
        if (d.outbox.some((e) => e.id === entry.id)) return false;
        d.outbox.push({ ...entry, seq: d.seq++, attempts: 0 });
        return true;
      },
      all: async () => [...data().outbox].sort((a, b) => a.seq - b.seq),
      markAttempted: async (ids, at) => {
        const set = new Set(ids);
        for (const e of data().outbox) if (set.has(e.id)) {
          e.attemptedAt = at;
          e.attempts++;
        }
      },
      clearAttempted: async (ids) => {
        const set = new Set(ids);
        for (const e of data().outbox) if (set.has(e.id)) e.attemptedAt = undefined;
      },
      remove: async (ids) => {
        const set = new Set(ids);
        data().outbox = data().outbox.filter((e) => !set.has(e.id));
      },
      depth: async () => data().outbox.length,
      enqueueEdit: async (entry) => {
        const d = data();
        const queued = d.outbox.find((e) => e.id === entry.id && e.kind === 'edit');
        if (queued) Object.assign(queued, { text: entry.text, blocks: entry.blocks, seq: d.seq++ });
        else d.outbox.push({ ...entry, kind: 'edit', seq: d.seq++, attempts: 0 });
      },
      postedOf: async (id) => data().posted?.[id],
      editDone: async (id, seq) => {
        data().outbox = data().outbox.filter((e) => !(e.id === id && e.kind === 'edit' && e.seq === seq));
      },
      delivered: async ({ ids, root, ts }) => {
        const set = new Set(ids);
        const d = data();
        for (const e of d.outbox) if (set.has(e.id) && e.editable && ts) (d.posted ??= {})[e.id] = { ts, channel: e.channel, threadKey: e.threadKey, at: e.createdAt };
        data().outbox = data().outbox.filter((e) => !set.has(e.id));
        const t = root ? data().threads[root.threadKey] : undefined;
        if (root && t) {
          t.rootTs = root.ts;
          t.cardSent = root.cardSent;
        }
      },
    },
    confirmations: {
      get: async (id) => data().confirmations[id],
      ofThread: async (threadKey) => Object.values(data().confirmations).filter((c) => c.threadKey === threadKey).sort((a, b) => b.requestedAt - a.requestedAt),
      open: async (c, supersedes) => {
        const superseded: string[] = [];
        for (const other of Object.values(data().confirmations)) {
          if (other.status !== 'pending' || !supersedes(other)) continue;
          other.status = 'superseded';
          other.supersededBy = c.id;
          superseded.push(other.id);
        }
        data().confirmations[c.id] = c;
        return superseded;
      },
      claim: async (id, by, at) => {
        const c: Confirmation | undefined = data().confirmations[id];
        if (!c || c.status !== 'pending') return false;
        c.status = 'done';
        c.doneBy = by;
        c.doneAt = at;
        return true;
      },
      cancel: async (id, by, at) => {
        const c: Confirmation | undefined = data().confirmations[id];
        if (!c || c.status !== 'pending') return false;
        c.status = 'cancelled';
        c.doneBy = by;
        c.doneAt = at;
        return true;
      },
      approve: async (id, user, at, required) => {
        const c: Confirmation | undefined = data().confirmations[id];
        if (!c || c.status !== 'pending') return undefined;
        const approvals = (c.approvals ??= []);
        if (approvals.some((a) => a.by === user)) return { added: false, complete: false, approvals: [...approvals] };
        approvals.push({ by: user, at });
        return { added: true, complete: approvals.length === required, approvals: [...approvals] };
      },
      update: async (id, patch) => {
        const c = data().confirmations[id];
        if (c) Object.assign(c, patch);
      },
      pending: async () => Object.values(data().confirmations).filter((c) => c.status === 'pending'),
      settleCard: async (id, outcome) => {
        const c = data().confirmations[id];
        if (!c || !c.cardKey || !c.card || c.cardOutcome !== undefined) return undefined;
        c.cardOutcome = outcome;
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
    errorSims: keyed(() => (data().errorSims ??= {})),
    drills: keyed(() => (data().drills ??= {})),
    reminders: keyed(() => (data().reminders ??= {})),
    digests: keyed(() => (data().digestsSent ??= {})),
    dispatches: {
      ...keyed(() => data().dispatches),
      claim: async (key, record, since) => {
        const standing = data().dispatches[key];
        if (standing && standing.at >= since) return standing;
        data().dispatches[key] = record;
        return undefined;
      },
      markAnnounced: async (key) => {
        const rec = data().dispatches[key];
        if (!rec || rec.announced) return undefined;
        rec.announced = true;
        return rec;
      },
    },
    installations: keyed(() => data().installations),
    deployments: keyed(() => (data().deployments ??= {})),
    actionMarks: keyed(() => (data().actionMarks ??= {})),
    locks: keyed(() => (data().locks ??= {})),
    noOpRevisions: keyed(() => (data().noOpRevisions ??= {})),
    prune: async (o) => pruneStoreData(data(), o),
    newId: async (prefix, now) => `${prefix}${now.toString(36)}${data().seq++}`,
    flush: () => store.flush(),
  };
}

function keyed<T>(map: () => Record<string, T>): KeyedStore<T> {
  return {
    get: async (key) => map()[key],
    all: async () => Object.entries(map()),
    set: async (key, value) => {
      map()[key] = value;
    },
    setIfAbsent: async (key, value) => {
      if (map()[key] !== undefined) return false;
      map()[key] = value;
      return true;
    },
    delete: async (key) => {
      delete map()[key];
    },
  };
}

function splitEnvKey(envKey: string): [string, string] {
  const i = envKey.lastIndexOf('/');
  return [envKey.slice(0, i), envKey.slice(i + 1)];
}
