import type { EnvTarget } from '../../src/core/catalog.js';
import { detectRolloutEvents } from '../../src/core/rollout-threads/detect-rollout-events.js';
import { renderCard } from '../../src/core/rollout-threads/render-card.js';
import { primaryTag } from '../../src/core/rollout/describe-state.js';
import { renderEvent } from '../../src/core/rollout-threads/render-event.js';
import { readRollout } from '../../src/core/rollout/read-rollout.js';
import type { RolloutState } from '../../src/core/rollout/rollout-state.js';
import { classifyEvent, type FleetChange } from './strict-oracle.js';

/** States the bot skips: the controller has not looked at the new spec yet (rollout-observer STALE_STATUS). */
const STALE = new Set(['waiting for rollout spec update to be observed', 'waiting for rollout spec update to be observed for the reference workload']);

/** A priority event as the driver caused it: when, and the outbox key its reply carries. */
export interface PriorityEvent {
  /** `<threadKey>#<scoped event key>`, the key the bot puts in the reply's Slack metadata. */
  key: string;
  threadKey: string;
  channel: string;
  type: string;
  /** Date.now() of the emulator write that caused it. */
  at: number;
}

/**
 * What Slack should end up showing for one rollout, derived from the states the driver wrote, with the bot's own pure
 * functions (readRollout, detectRolloutEvents, renderEvent, renderCard) as the oracle: the thread key and the key of
 * the last reply of the current deploy, and the text the status card must carry for the last state.
 * Only revisions after the first get a thread (the first is the settled baseline the bot sees at start-up).
 */
export class RolloutOracle {
  revision = '';
  threadKey: string | undefined;
  lastReplyKey: string | undefined;
  state: RolloutState | undefined;
  /** Replies and root cards this rollout's deploys called for so far (what Slack would get, one message each). */
  replies = 0;
  roots = 0;
  /** Every change the driver caused, in order, for the strict oracle (strict-oracle.ts) and the pacing floor. */
  readonly changes: FleetChange[] = [];
  private announced = new Set<string>();
  private cardText: string | undefined;

  constructor(readonly target: EnvTarget, private readonly baselineRevision: string) {}

  /** Feeds the object the emulator now holds; returns the priority events this write caused. */
  observe(obj: unknown, at: number): PriorityEvent[] {
    const state = readRollout(obj);
    if (STALE.has(state.message) || state.revision === this.baselineRevision) return [];
    if (state.revision !== this.revision || !this.threadKey) {
      this.revision = state.revision;
      this.threadKey = `${this.target.key}/${(state.uid ?? 'nouid').slice(0, 8)}/r${state.revision}`;
      this.state = undefined;
      this.lastReplyKey = undefined;
      this.announced = new Set();
      this.roots++;
    }
    const out: PriorityEvent[] = [];
    for (const event of detectRolloutEvents(this.state, state)) {
      // The driver never retries an aborted deploy, so every key is scoped by attempt 1.
      const scoped = event.type === 'deploy-started' ? event.key : `a1:${event.key}`;
      if (this.announced.has(scoped)) continue;
      this.announced.add(scoped);
      const reply = renderEvent(event, state, this.target);
      const change = classifyEvent(event, state, reply?.priority === 'high' && event.type === 'paused');
      if (change) this.changes.push({ at, threadKey: this.threadKey, channel: this.target.env.slackChannel, key: scoped, ...change });
      if (!reply) continue;
      const key = `${this.threadKey}#${scoped}`;
      this.lastReplyKey = key;
      this.replies++;
      if (reply.priority === 'high') out.push({ key, threadKey: this.threadKey, channel: this.target.env.slackChannel, type: event.type, at });
    }
    this.state = state;
    this.cardText = undefined;
    return out;
  }

  /** The fallback text of the status card for the last state (the card's text does not depend on extras). */
  expectedCardText(): string | undefined {
    if (!this.threadKey || !this.state) return undefined;
    const s = this.state;
    return (this.cardText ??= renderCard(
      {
        key: this.threadKey, app: this.target.app.name, env: this.target.env.name, namespace: s.namespace, rollout: s.name, uid: s.uid,
        revision: s.revision, podHash: s.currentPodHash, tag: primaryTag(s), channel: this.target.env.slackChannel, createdAt: 0, attempt: 1,
        announced: [], lastState: s, cardVersion: 1, cardSent: 0, actions: [], startedAt: 0,
      },
      this.target,
    ).text);
  }
}

/** Whether a card or reply text shows a priority event of this type. */
export function showsPriority(type: string, text: string): boolean {
  switch (type) {
    case 'paused':
      return /waiting for (promotion|a decision)/.test(text);
    case 'aborted':
      return /Aborted/.test(text);
    case 'completed':
      return /Completed/.test(text);
    case 'degraded':
      return /Degraded/.test(text);
    default:
      return false;
  }
}
