import { describeRequest } from '../promotion/describe-request.js';
import { esc, who } from '../text/mrkdwn.js';
import type { RequestLine } from '../promotion/render-confirmation-notice.js';

/** The chain's offer to bring the previous environment's proven tag, waiting for confirmation. */
export interface DeployOfferView {
  confirmationId: string;
  app: string;
  env: string;
  from: string;
  tag: string;
  workflow: string;
  force: boolean;
  /** The checked facts, one bullet each. */
  facts: string[];
  requestedBy: string;
  /** False when the requester may not confirm it: the card says it waits for an approver. */
  requesterMayConfirm: boolean;
  approvers: string;
  others: RequestLine[];
  replacesOwn: boolean;
}

/** The deploy offer's card: headline with requester and flags, the facts, how to confirm, and its Deploy button. */
export function renderDeployOffer(v: DeployOfferView): { text: string; blocks: unknown[] } {
  const headline = describeRequest({ action: 'deploy', app: v.app, env: v.env, tag: v.tag, from: v.from, force: v.force });
  const requester = `requested by ${who(v.requestedBy)}${v.requesterMayConfirm ? '' : `, who is not an approver: waiting for an approver (${v.approvers})`}`;
  const facts = [...v.facts];
  if (v.replacesOwn) facts.push(`• Replaces ${who(v.requestedBy)}'s earlier request: its button no longer does anything.`);
  if (v.others.length) {
    facts.push(`• Also waiting in this thread: ${v.others.map((o) => `${o.headline}, requested by ${who(o.requestedBy)}${o.requesterMayConfirm ? '' : ' (not an approver)'}`).join('; ')}. Typing \`promote\` asks which one; press the button on the card you mean.`);
  }
  const text = `🚚 *${headline}?* ${requester}\n${facts.join('\n')}\nTo confirm exactly this request, an approver (${v.approvers}) presses Deploy on this card or types \`promote\` in this thread, within 10 minutes.`;
  return {
    text,
    blocks: [
      { type: 'section', text: { type: 'mrkdwn', text } },
      {
        type: 'actions',
        block_id: `confirm_${v.confirmationId}`,
        elements: [
          {
            type: 'button',
            action_id: 'rollout_confirm',
            value: v.confirmationId,
            style: 'primary',
            text: { type: 'plain_text', text: 'Deploy' },
            confirm: {
              title: { type: 'plain_text', text: `Deploy to ${v.env}${v.force ? ' (FORCE)' : ''}?`.slice(0, 100) },
              text: { type: 'mrkdwn', text: `Dispatch ${esc(v.workflow)} with \`${esc(v.tag)}\`. Requested by ${who(v.requestedBy)}.`.slice(0, 300) },
              confirm: { type: 'plain_text', text: 'Deploy' },
              deny: { type: 'plain_text', text: 'Not now' },
            },
          },
          { type: 'button', action_id: 'rollout_cancel', value: v.confirmationId, text: { type: 'plain_text', text: 'Cancel' } },
        ],
      },
    ],
  };
}
