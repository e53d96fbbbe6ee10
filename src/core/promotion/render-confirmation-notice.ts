import { who } from '../text/mrkdwn.js';

/** One request as a line of a list: its headline (from describeRequest), who asked, and whether they may confirm it. */
export interface RequestLine {
  headline: string;
  requestedBy: string;
  requesterMayConfirm: boolean;
}

/** Why a typed word or a button press confirmed nothing. */
export type ConfirmationNotice =
  /** A typed word could mean more than one pending request. */
  | { kind: 'which'; user: string; word: string; requests: RequestLine[] }
  /** The request the word or button refers to is no longer waiting. */
  | { kind: 'stale'; user: string; verb: string; status: 'done' | 'failed' | 'cancelled' | 'superseded' | 'expired'; by?: string; successor?: RequestLine; again: string }
  | { kind: 'not-approver'; user: string; name: string; approvers: string }
  /** The button's request belongs to another thread or channel. */
  | { kind: 'elsewhere'; user: string }
  /** The button's request is not (or no longer) in the store. */
  | { kind: 'unknown'; user: string }
  /** Several approvers are needed and the requester's own confirmation does not count. */
  | { kind: 'own-request'; user: string; required: number }
  /** Several approvers are needed and this one has approved already. */
  | { kind: 'already-approved'; user: string; count: number; required: number }
  /** A one-press Promote button where several approvers are needed. */
  | { kind: 'needs-request'; user: string; required: number; env: string };

/** The words for every "nothing was confirmed" answer; all of them say that nothing was done. */
export function renderConfirmationNotice(n: ConfirmationNotice): string {
  switch (n.kind) {
    case 'which':
      return [
        `🤔 <@${n.user}>, ${n.requests.length} requests are waiting for \`${n.word}\` in this thread, so I did not guess which one you mean:`,
        ...n.requests.map((r) => `• ${r.headline}, requested by ${requester(r)}`),
        'Nothing was sent. Press the button on the card of the one you mean.',
      ].join('\n');
    case 'stale':
      switch (n.status) {
        case 'done':
          return `ℹ️ Already done: this ${n.verb} was confirmed by ${who(n.by ?? '?')}. Nothing more was sent.`;
        case 'failed':
          return `ℹ️ This ${n.verb} request was confirmed by ${who(n.by ?? '?')} and refused (see the thread). Nothing was sent now; run \`${n.again}\` for a fresh one.`;
        case 'cancelled':
          return `ℹ️ This ${n.verb} request was cancelled by ${who(n.by ?? '?')}. Nothing was sent; run \`${n.again}\` for a fresh one.`;
        case 'superseded':
          return `ℹ️ This request was replaced by a newer one${n.successor ? `: ${n.successor.headline}, requested by ${requester(n.successor)}` : ''}. Nothing was sent; press the button on the newer card if that is what you mean.`;
        case 'expired':
          return `⌛ <@${n.user}>, that confirmation expired (they last 10 minutes). Nothing was sent. Run \`${n.again}\` again to get a fresh one.`;
      }
      break;
    case 'not-approver':
      return `🙏 Sorry <@${n.user}>, only approvers of ${n.name} can confirm this: ${n.approvers}. Nothing was sent.`;
    case 'elsewhere':
      return `🚫 <@${n.user}>, this button belongs to a request of another thread, so it confirms nothing here. Nothing was sent.`;
    case 'own-request':
      return `✋ <@${n.user}>, this request needs ${n.required} approvers other than you, the requester. Nothing was sent.`;
    case 'already-approved':
      return `ℹ️ <@${n.user}>, you approved this already (${n.count} of ${n.required}); it needs another approver. Nothing was sent.`;
    case 'needs-request':
      return `👥 <@${n.user}>, a promotion here needs ${n.required} approvers, so this button does not promote. Run \`/promote ${n.env}\` and approvers confirm on its card. Nothing was sent.`;
    case 'unknown':
      return `🤷 <@${n.user}>, I no longer know the request behind this button. Nothing was sent; run the command again for a fresh card.`;
  }
  return '';
}

function requester(r: RequestLine): string {
  return `${who(r.requestedBy)}${r.requesterMayConfirm ? '' : ' (not an approver)'}`;
}
