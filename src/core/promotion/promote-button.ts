import type { RolloutState } from '../rollout/rollout-state.js';

/** The action id of the Promote button on the "waiting for promotion" broadcast and on the root card. */
export const PROMOTE_NOW_ACTION = 'rollout_promote';

/**
 * Which wait a Promote button was shown for: the pause reason and the canary step. A press for a wait that is over (the
 * rollout moved on, or someone promoted already) changes nothing.
 */
export function waitMarkOf(state: Pick<RolloutState, 'pauseReasons' | 'canary' | 'revision'>): string {
  return `${state.revision}:${state.pauseReasons[0] ?? '-'}:${state.canary?.stepIndex ?? '-'}`;
}

/** The wait of a several-rollout deploy: each waiting rollout's, in order. */
export function groupWaitMark(states: Array<Pick<RolloutState, 'pauseReasons' | 'canary' | 'revision'>>): string {
  return states.map(waitMarkOf).join(',');
}

/** The button's value: the thread it belongs to and the wait it was shown for. */
export function promoteButtonValue(threadKey: string, state: Pick<RolloutState, 'pauseReasons' | 'canary' | 'revision'>): string {
  return `${threadKey}|${waitMarkOf(state)}`;
}

/** Reads a button value back (undefined when it is not one). */
export function parsePromoteButtonValue(value: string): { threadKey: string; waitMark: string } | undefined {
  const at = value.lastIndexOf('|');
  if (at <= 0) return undefined;
  return { threadKey: value.slice(0, at), waitMark: value.slice(at + 1) };
}

/**
 * An actions block with one Promote button (and Slack's confirm dialog): the press runs the same preflight as
 * `/promote`, then executes exactly that plan (the dialog is the explicit intent). `title`/`text` are the dialog's words.
 */
export function promoteButtonBlock(o: { threadKey: string; state: RolloutState; waitMark?: string; env: string; title: string; text: string }): Record<string, unknown> {
  return {
    type: 'actions',
    block_id: `promote_${o.env}`.slice(0, 255),
    elements: [
      {
        type: 'button',
        action_id: PROMOTE_NOW_ACTION,
        value: (o.waitMark !== undefined ? `${o.threadKey}|${o.waitMark}` : promoteButtonValue(o.threadKey, o.state)).slice(0, 2000),
        style: 'primary',
        text: { type: 'plain_text', text: 'Promote' },
        confirm: {
          title: { type: 'plain_text', text: o.title.slice(0, 100) },
          text: { type: 'mrkdwn', text: o.text.slice(0, 300) },
          confirm: { type: 'plain_text', text: 'Promote' },
          deny: { type: 'plain_text', text: 'Not now' },
        },
      },
    ],
  };
}
