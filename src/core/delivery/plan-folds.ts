import type { OutboxEntry } from '../store-data.js';
import type { ThreadHead } from '../store-ports.js';

/**
 * The event keys of step progress, as the rollout observer scopes them (`a<attempt>:step-completed:<n>`, and the
 * timed pause `a<attempt>:paused:<…>`; a pause that waits for a person is priority news, never folded).
 */
const STEP_PROGRESS_KEY = /^a\d+:(step-completed|paused):/;

/** Why a reply left the outbox unposted (the `reason` label of rollout_chatops_replies_folded_total). */
export type FoldReason = 'card-shows-it';

/**
 * Whether a queued reply is plain step progress that the thread's status card shows once it is current: a normal,
 * mergeable reply (no blocks, no later edit, nobody's action) of a step completed or a timed pause, in its own thread
 * (`<threadKey>#<eventKey>`), whose event the thread record has announced: the record's state is then at that step or
 * later, and so is every card rendered from it. Anything else (priority news, a person's action or answer, a button,
 * a reply of a rollout labelled in another's thread) is never folded.
 */
export function isCardProgress(e: OutboxEntry, thread: ThreadHead | undefined): boolean {
  if (!thread || e.kind !== 'reply' || e.priority !== 'normal' || !e.batchable || e.blocks || e.editable || e.attemptedAt !== undefined) return false;
  const prefix = `${thread.key}#`;
  if (!e.id.startsWith(prefix)) return false;
  const key = e.id.slice(prefix.length);
  return STEP_PROGRESS_KEY.test(key) && thread.announced.includes(key);
}

/**
 * The queued replies of a backlogged channel that may leave the outbox unposted because the status card shows them:
 * step progress (isCardProgress) of a thread whose card is current in Slack (`cardSent ≥ cardVersion`, so Slack shows a
 * card rendered from a record that had the event announced). Under a backlog that post would come late and only
 * repeat the card; the thread's later replies go on as before. Empty without a backlog: then every reply is posted.
 */
export function planFolds(o: { entries: readonly OutboxEntry[]; threads: Record<string, ThreadHead>; backlog: boolean }): Array<{ entry: OutboxEntry; reason: FoldReason }> {
  if (!o.backlog) return [];
  return o.entries
    .filter((e) => {
      const t = o.threads[e.threadKey];
      return t?.rootTs !== undefined && t.cardSent >= t.cardVersion && isCardProgress(e, t);
    })
    .map((entry) => ({ entry, reason: 'card-shows-it' as const }));
}
