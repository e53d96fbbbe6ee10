import type { EnvTarget } from '../catalog.js';
import type { Clock } from '../ports.js';
import type { Stores } from '../store-ports.js';
import type { AuditEntry, Priority, ThreadRecord } from '../store-data.js';

/** Who did something, and through what: one rule for every feature's audit entries. */
export interface Actor {
  /** Slack user id, GitHub login, or `chain` / `drill` / `schedule` for the bot itself. */
  who: string;
  source: AuditEntry['source'];
}

/** What a feature records when it changed something (or tried to). */
export interface RecordedAction {
  /** The environment (only its names are recorded, so one that left the config can still be named). */
  target: { app: { name: string }; env: { name: string } };
  actor: Actor;
  /** The audit action (`promote`, `promote --full`, `errors on`, `deploy`, …). */
  action: string;
  /** `ok`, `failed: …`, `refused: …`. */
  result: string;
  /** The thread it belongs to, when there is one (its key is recorded even when the thread itself is gone). */
  thread?: Pick<ThreadRecord, 'key'> & Partial<Pick<ThreadRecord, 'groupOf' | 'group' | 'rollout'>>;
  /** Shown on the thread's card (`promoted by …`); absent: audit only. */
  cardLine?: string;
  tag?: string;
  digest?: string;
  override?: boolean;
}

export interface ThreadKernelDeps {
  stores: Stores;
  clock: Clock;
  /** Told when the outbox or a card changed (the dispatcher looks again). */
  onChange: () => void;
}

/**
 * The deploy-thread kernel: the one place every feature finds an environment's current thread, replies in it, posts a
 * channel notice, and records what somebody did (on the card and in the audit log, one shape). Features call this
 * instead of reaching into the store.
 */
export class ThreadKernel {
  constructor(private readonly deps: ThreadKernelDeps) {}

  /** The environment's current deploy thread. */
  current(target: EnvTarget): Promise<ThreadRecord | undefined> {
    return this.deps.stores.threads.current(target.key);
  }

  byKey(key: string): Promise<ThreadRecord | undefined> {
    return this.deps.stores.threads.byKey(key);
  }

  /** The thread a typed word or a button press landed in. */
  byRoot(channel: string, rootTs: string): Promise<ThreadRecord | undefined> {
    return this.deps.stores.threads.byRoot(channel, rootTs);
  }

  /**
   * Queues a reply in a thread, once per `eventKey` (a second call with the same key does nothing). `editable` keeps
   * where it lands, so it can be edited later by its outbox id (`<threadKey>#<eventKey>`, see replyKey).
   */
  async reply(thread: ReplyHome, eventKey: string, text: string, priority: Priority, o: { broadcast?: boolean; batchable?: boolean; blocks?: unknown[]; editable?: boolean; rolloutLabel?: boolean } = {}): Promise<void> {
    const home = homeOf(thread);
    const label = labelOf(thread, o.rolloutLabel);
    await this.deps.stores.outbox.enqueue({
      id: `${home}#${label ? `${thread.rollout}/` : ''}${eventKey}`,
      threadKey: home,
      channel: thread.channel,
      kind: 'reply',
      priority,
      text: label ? `${label} · ${text}` : text,
      blocks: label && o.blocks ? [{ type: 'context', elements: [{ type: 'mrkdwn', text: label }] }, ...o.blocks] : o.blocks,
      broadcast: o.broadcast,
      batchable: o.batchable,
      ...(o.editable ? { editable: true } : {}),
      createdAt: this.deps.clock.now(),
    });
  }

  /** The outbox id of a thread's reply (what an edit of it names). */
  replyKey(thread: ReplyHome, eventKey: string, rolloutLabel?: boolean): string {
    return `${homeOf(thread)}#${labelOf(thread, rolloutLabel) ? `${thread.rollout}/` : ''}${eventKey}`;
  }

  /** Queues a top-level message in an environment's channel, once per `key`. */
  async notice(target: EnvTarget, key: string, text: string, priority: Priority = 'normal'): Promise<void> {
    await this.deps.stores.outbox.enqueue({
      id: `notice/${target.key}/${key}`,
      threadKey: `notice/${target.key}`,
      channel: target.env.slackChannel,
      kind: 'notice',
      priority,
      text,
      createdAt: this.deps.clock.now(),
    });
  }

  /** Records an action: the audit entry always, the card line when given. */
  async record(a: RecordedAction): Promise<void> {
    const at = this.deps.clock.now();
    await this.deps.stores.audit.append({
      at,
      who: a.actor.who,
      source: a.actor.source,
      action: a.action,
      app: a.target.app.name,
      env: a.target.env.name,
      result: a.result,
      ...(a.tag !== undefined ? { tag: a.tag } : {}),
      ...(a.digest !== undefined ? { digest: a.digest } : {}),
      ...(a.override !== undefined ? { override: a.override } : {}),
      ...(a.thread ? { threadKey: a.thread.key } : {}),
    });
    // A rollout of a several-rollout deploy: the line goes on the deploy's card (the lead's), naming the rollout.
    if (a.thread && a.cardLine) await this.deps.stores.threads.recordAction(homeOf(a.thread), { at, who: a.actor.who, what: labelOf(a.thread, true) ? `${a.thread.rollout}: ${a.cardLine}` : a.cardLine });
  }

  /** Makes everything queued durable, then wakes the dispatcher. */
  async commit(): Promise<void> {
    await this.deps.stores.flush();
    this.deps.onChange();
  }

  /**
   * Wakes the dispatcher without a write: for answers queued while the store may be what fails (they go out once it
   * writes again), and after a write that failed once a change may have gone out.
   */
  wake(): void {
    this.deps.onChange();
  }
}

/** A thread replies go to: a rollout of a several-rollout deploy replies in its deploy's thread, labelled. */
export type ReplyHome = Pick<ThreadRecord, 'key' | 'channel'> & Partial<Pick<ThreadRecord, 'groupOf' | 'group' | 'rollout'>>;

/** The Slack thread (its record's key) a thread's replies go to: the lead's for a member of a several-rollout deploy. */
function homeOf(t: Pick<ThreadRecord, 'key'> & Partial<Pick<ThreadRecord, 'groupOf'>>): string {
  return t.groupOf ?? t.key;
}

/**
 * Replies about one rollout of a several-rollout deploy name it (`*backend*`): always from another member's record; from
 * the lead's (which is also the deploy's thread) when the caller says the reply is about its rollout.
 */
function labelOf(t: Partial<Pick<ThreadRecord, 'groupOf' | 'group' | 'rollout'>>, rolloutLabel?: boolean): string | undefined {
  return (t.groupOf || (rolloutLabel && t.group)) && t.rollout ? `*${t.rollout}*` : undefined;
}
