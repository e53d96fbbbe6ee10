import type { ThreadRecord } from '../store-data.js';

/** One line of a deploy's timeline. `at` is absent for an event announced before the bot kept their times. */
export interface TimelineEntry {
  at?: number;
  kind: 'start' | 'event' | 'action' | 'end';
  /** Plain words (the renderer escapes them). */
  text: string;
  /** Who did it (actions only). */
  who?: string;
}

/** A deploy's report, built from the facts its thread recorded. */
export interface DeployReport {
  app: string;
  env: string;
  revision: string;
  tag?: string;
  outcome: 'completed' | 'aborted' | 'superseded' | 'in progress';
  startedAt: number;
  finishedAt?: number;
  /** Start to finish, or to `now` while it runs. */
  tookMs: number;
  /** Time spent waiting for a person (promotion), including a wait still running. */
  waitedMs: number;
  /** Who promoted it, in order (from the thread's actions). */
  promotedBy: string[];
  timeline: TimelineEntry[];
}

/**
 * Builds the report of a deploy from its thread: the start, the events announced in it (in the order announced), what
 * people did (with when and who), and how it ended; how long it took and how long it waited for people.
 */
export function buildDeployReport(thread: ThreadRecord, now: number): DeployReport {
  const end = thread.finishedAt ?? now;
  const waiting = thread.waitingSince !== undefined && thread.finishedAt === undefined ? Math.max(0, now - thread.waitingSince) : 0;
  const timeline: TimelineEntry[] = [{ at: thread.startedAt, kind: 'start', text: `deploy of revision ${thread.revision} started` }];
  for (const key of thread.announced) {
    const text = describeEventKey(key);
    const at = thread.announcedAt?.[key];
    if (text) timeline.push({ ...(at !== undefined ? { at } : {}), kind: 'event', text });
  }
  const actions = [...thread.actions].sort((a, b) => a.at - b.at);
  for (const a of actions) timeline.push({ at: a.at, kind: 'action', text: a.what, who: a.who });
  // Minute by minute: events and actions in time order (an event without a time keeps its place after the one before).
  const timed = timeline.slice(1);
  let last = thread.startedAt;
  const keyed = timed.map((e, i) => ({ e, i, at: (last = e.at ?? last) }));
  keyed.sort((x, y) => x.at - y.at || x.i - y.i);
  timeline.splice(1, timed.length, ...keyed.map((k) => k.e));
  if (thread.outcome && thread.finishedAt !== undefined) timeline.push({ at: thread.finishedAt, kind: 'end', text: thread.outcome });
  return {
    app: thread.app,
    env: thread.env,
    revision: thread.revision,
    ...(thread.tag ? { tag: thread.tag } : {}),
    outcome: thread.outcome ?? 'in progress',
    startedAt: thread.startedAt,
    ...(thread.finishedAt !== undefined ? { finishedAt: thread.finishedAt } : {}),
    tookMs: Math.max(0, end - thread.startedAt),
    waitedMs: (thread.waitedMs ?? 0) + waiting,
    promotedBy: actions.filter((a) => /promot/i.test(a.what)).map((a) => a.who),
    timeline,
  };
}

/**
 * An announced event key (`a1:step-completed:2`, `a1:paused:…`, `a1:analysis:background:x:Successful`) in words;
 * undefined for the ones the timeline leaves out (the start and the end have their own, timed lines).
 */
export function describeEventKey(scoped: string): string | undefined {
  const m = /^a(\d+):(.*)$/.exec(scoped);
  const attempt = m ? Number(m[1]) : 1;
  const key = m ? m[2]! : scoped;
  const [type = '', ...rest] = key.split(':');
  const again = attempt > 1 ? ` (attempt ${attempt})` : '';
  switch (type) {
    case 'deploy-started':
    case 'completed':
      return undefined;
    case 'step-completed':
      return `step ${rest[0] ?? '?'} completed${again}`;
    case 'paused':
      return `paused${rest[1] !== undefined ? ` at step ${Number(rest[1]) + 1}` : ''}${rest[0] ? ` (${rest[0]})` : ''}${again}`;
    case 'resumed':
      return `resumed${again}`;
    case 'analysis':
      return `${rest[0] ?? ''} analysis ${rest.slice(1, -1).join(':')}: ${rest.at(-1) ?? ''}${again}`;
    case 'aborted':
      return `aborted${again}`;
    case 'retried':
      return 'retried';
    case 'degraded':
      return `degraded: ${rest.join(':')}${again}`;
    case 'recovered':
      return `recovered${again}`;
    case 'replaced':
      return `replaced by revision ${(rest[0] ?? '').replace(/^r/, '')}`;
    default:
      return key;
  }
}
