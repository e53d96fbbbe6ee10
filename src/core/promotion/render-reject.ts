import { esc } from '../text/mrkdwn.js';

/** What the rejecter is told. */
export type RejectAnswer =
  | { kind: 'denied'; name: string; approvers: string }
  | { kind: 'nothing-waiting'; name: string }
  | { kind: 'rejected'; name: string; count: number; reason?: string };

/** The words of every `/rollout reject` answer. */
export function renderRejectAnswer(a: RejectAnswer): string {
  switch (a.kind) {
    case 'denied':
      return `🚫 Only approvers of ${a.name} can reject requests: ${a.approvers}. Nothing was changed.`;
    case 'nothing-waiting':
      return `ℹ️ No request is waiting in the deploy thread of ${a.name}, so there was nothing to reject.`;
    case 'rejected':
      return `⛔ Rejected ${a.count === 1 ? 'the request' : `${a.count} requests`} waiting in ${a.name}${a.reason ? `: ${esc(a.reason)}` : ''}. Nothing was sent.`;
  }
}
