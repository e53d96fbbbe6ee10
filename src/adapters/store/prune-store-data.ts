import type { PruneCounts } from '../../core/store-ports.js';
import type { StoreData } from '../../core/store-data.js';

const DAY_MS = 86_400_000;

/**
 * Store retention over the document (`Stores.prune`): drops what is older than `days` (threads by when they finished
 * or started, audit entries, commits, delivery dedupe marks, decided confirmations, finished drills, digest slots).
 * Never a thread that is still in use: an environment's current thread, one a pending outbox entry or confirmation
 * belongs to, one a running drill or the errors banner is on. Commits a kept thread points at stay. Mutates `data`;
 * returns the counts.
 */
export function pruneStoreData(data: StoreData, o: { now: number; days: number; alsoKnown?: Set<string> }): PruneCounts {
  const cutoff = o.now - o.days * DAY_MS;
  /** The thread is kept: in this document or, for the embedded store, in its history. */
  const known = (key: string): boolean => Boolean(data.threads[key]) || Boolean(o.alsoKnown?.has(key));
  const counts: PruneCounts = { threads: 0, audit: 0, commits: 0, seen: 0, confirmations: 0, other: 0 };
  const inUse = new Set<string>();
  for (const rec of Object.values(data.envs)) if (rec.threadKey) inUse.add(rec.threadKey);
  for (const e of data.outbox) inUse.add(e.threadKey);
  for (const c of Object.values(data.confirmations)) if (c.status === 'pending') inUse.add(c.threadKey);
  for (const d of Object.values(data.drills ?? {})) if (d.status === 'running') inUse.add(d.threadKey);
  for (const s of Object.values(data.errorSims ?? {})) if (s.threadKey) inUse.add(s.threadKey);

  for (const [key, t] of Object.entries(data.threads)) {
    if (inUse.has(key) || (t.finishedAt ?? t.startedAt) >= cutoff) continue;
    delete data.threads[key];
    counts.threads++;
  }
  for (const [id, c] of Object.entries(data.confirmations)) {
    const gone = !known(c.threadKey);
    const old = c.status === 'pending' ? c.expiresAt < cutoff : (c.doneAt ?? c.requestedAt) < cutoff;
    if (gone || old) {
      delete data.confirmations[id];
      counts.confirmations++;
    }
  }
  const before = data.audit.length;
  data.audit = data.audit.filter((a) => a.at >= cutoff);
  counts.audit = before - data.audit.length;

  const referenced = new Set(Object.values(data.threads).map((t) => t.commitSha).filter(Boolean));
  for (const [sha, c] of Object.entries(data.commits)) {
    if (c.at >= cutoff || referenced.has(sha)) continue;
    delete data.commits[sha];
    counts.commits++;
  }
  for (const [key, at] of Object.entries(data.seen)) {
    if (at >= cutoff) continue;
    delete data.seen[key];
    counts.seen++;
  }
  for (const [id, p] of Object.entries(data.posted ?? {})) {
    if (known(p.threadKey)) continue;
    delete data.posted![id];
    counts.other++;
  }
  for (const [key, m] of Object.entries(data.actionMarks ?? {})) {
    if (known(key) && m.at >= cutoff) continue;
    delete data.actionMarks![key];
    counts.other++;
  }
  for (const [key] of Object.entries(data.reminders ?? {})) {
    if (known(key)) continue;
    delete data.reminders![key];
    counts.other++;
  }
  for (const [id, d] of Object.entries(data.drills ?? {})) {
    if (d.status === 'running' || (d.finishedAt ?? d.startedAt) >= cutoff) continue;
    delete data.drills![id];
    counts.other++;
  }
  for (const [key, m] of Object.entries(data.noOpRevisions ?? {})) {
    if (m.notedAt === undefined || m.notedAt >= cutoff) continue;
    delete data.noOpRevisions![key];
    counts.other++;
  }
  for (const [slot, at] of Object.entries(data.digestsSent ?? {})) {
    if (at >= cutoff) continue;
    delete data.digestsSent![slot];
    counts.other++;
  }
  return counts;
}
