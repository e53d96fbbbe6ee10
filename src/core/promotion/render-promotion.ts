import { againCommand } from './again-command.js';
import { context, esc, section, who } from '../text/mrkdwn.js';
import { plainText } from '../text/plain-text.js';

type Action = 'promote' | 'abort' | 'retry';

/** What promotion, abort and retry say (besides the preflight card and the "nothing was confirmed" notices). */
export type PromotionMessage =
  /** Answer: the fresh read before a deploy offer failed. */
  | { kind: 'unreadable'; name: string; error: string }
  /** Answer: `--force` on a deploy offer by someone who is not an approver. */
  | { kind: 'force-offer-denied'; name: string; approvers: string }
  /** Answer: `--force` on a promotion by someone who is not an approver. */
  | { kind: 'force-denied'; name: string; approvers: string }
  /** Answer: no deploy thread to act in. */
  | { kind: 'no-thread'; action: Action; name: string }
  /** Answer or thread: someone else is changing the rollout right now. `wait` adds "wait until that has finished". */
  | { kind: 'busy'; holder: string; name: string; wait: boolean }
  | { kind: 'dry-run-posted'; where: string }
  | { kind: 'refused'; refusal: string; where: string }
  | { kind: 'waiting'; action: Action; name: string; where: string }
  /** Thread: a typed word with nothing waiting for it. */
  | { kind: 'nothing-waiting'; user: string; word: Action; env: string }
  /** Ephemeral: a cancel press by someone who may not cancel. */
  | { kind: 'cancel-denied'; requestedBy: string }
  | { kind: 'cancelled'; action: string; user: string; headline: string; again?: string }
  /** Thread: the fresh read before dispatching a confirmed deploy failed. */
  | { kind: 'deploy-unreadable'; app: string; env: string; error: string }
  /** Thread: the confirmed request no longer matches the rollout (or is refused now). */
  | { kind: 'changed'; action: Action; env: string; why: string }
  /** Thread: a patch failed; `sent` lists what had gone out before. */
  | { kind: 'patch-failed'; action: Action; error: string; sent: string[] };

/** Thread: the patches went out. `github` when the command came from a comment. One reply with the transition it causes. */
export interface ExecutedMessage {
  action: Action;
  full: boolean;
  user: string;
  github: boolean;
  describe: string;
  override: boolean;
  /** The exact patches, shown in a small context line. */
  sent: readonly string[];
  env: string;
  revision: string;
  strategy: 'canary' | 'blueGreen' | string;
}

/** The words of promotion, abort and retry, in one place. */
export function renderPromotion(m: PromotionMessage): string {
  switch (m.kind) {
    case 'unreadable':
      return `🚫 I could not read the rollout of ${m.name} (${m.error}); nothing was done.`;
    case 'force-offer-denied':
      return `🚫 \`--force\` is for approvers of ${m.name}: ${m.approvers}.`;
    case 'force-denied':
      return `🚫 \`--force\` promotes a tag that is not proven in the previous environment, so only approvers of ${m.name} may use it: ${m.approvers}.`;
    case 'no-thread':
      return `🤷 Nothing to ${m.action} in ${m.name}: no deploy is in progress there (its rollout has not changed since I started watching).`;
    case 'busy':
      return `⏳ ${who(m.holder)} is already changing ${m.name}${m.wait ? '; wait until that has finished' : ''}.`;
    case 'dry-run-posted':
      return `🧪 Dry run posted in ${m.where}: nothing was sent.`;
    case 'refused':
      return `🚫 Not possible: ${m.refusal} Details in ${m.where}.`;
    case 'waiting':
      return `👉 ${capitalize(m.action)} of ${m.name} is waiting for confirmation in ${m.where}.`;
    case 'nothing-waiting':
      return `🤔 <@${m.user}>, nothing is waiting for \`${m.word}\` here. Start with \`${againCommand(m.word, m.env)}\`.`;
    case 'cancel-denied':
      return `Only ${who(m.requestedBy)} or an approver can cancel this.`;
    case 'cancelled':
      return `✖️ ${capitalize(m.action)} cancelled by <@${m.user}>: ${m.headline}. Nothing was sent.${m.again ? ` To ask again: run \`${m.again}\`.` : ''}`;
    case 'deploy-unreadable':
      return `🚫 Not dispatched: I could not read the rollout of ${esc(m.app)} ${esc(m.env)} (${esc(m.error)}). Nothing was sent; run \`/promote ${m.env}\` again once it answers.`;
    case 'changed':
      return `🛑 Not ${pastTense(m.action)}: ${m.why}\nNothing was sent. Run \`${againCommand(m.action, m.env)}\` again to see the current state.`;
    case 'patch-failed':
      return `⚠️ ${capitalize(m.action)} failed: ${esc(sentence(m.error))}${m.sent.length ? ` Part of it had already gone out (${m.sent.length} of the patches).` : ' Nothing was sent.'}`;
  }
}

/** A reply whose exact patches are a detail: main text, then one small context line; `text` is the plain fallback. */
export interface DetailedReply {
  text: string;
  /** The whole message as mrkdwn, patches included (GitHub comments, logs). */
  mrkdwn: string;
  blocks: unknown[];
}

/**
 * The one reply for an action and the transition it causes: "🚀 Promoted by @Lead: continues from step 2/7 (pause) to
 * step 3/7 (setWeight: 30).", "🛑 Aborted by …", "🔁 Retried by …", with the exact patches in a context line.
 */
export function renderExecuted(m: ExecutedMessage): DetailedReply {
  const by = m.github ? `@${esc(m.user)} from GitHub` : `<@${m.user}>`;
  const rev = esc(m.revision);
  const blueGreen = m.strategy === 'blueGreen';
  const main =
    m.action === 'abort' ? `🛑 Aborted by ${by}: the update to revision ${rev} is stopped, ${blueGreen ? 'the active service stays on the stable version' : 'traffic goes back to the stable version'}.\nTo try again: \`/rollout retry ${esc(m.env)}\`.`
    : m.action === 'retry' ? `🔁 Retried by ${by}: the update to revision ${rev} starts again${blueGreen ? ', with a new preview' : ' from the first step'}.`
    : `🚀 Promoted${m.full ? ' fully' : ''} by ${by}: ${esc(sentence(m.describe))}`;
  const override = m.override ? '\n⚠️ Override recorded: the tag was not proven in the previous environment.' : '';
  return withPatches(`${main}${override}`, m.sent, 'Sent');
}

/** The patch-failed reply, with what had gone out before in a context line. */
export function renderPatchFailed(m: Extract<PromotionMessage, { kind: 'patch-failed' }>): DetailedReply {
  return withPatches(renderPromotion(m), m.sent, 'Already sent');
}

function withPatches(main: string, sent: readonly string[], label: string): DetailedReply {
  const line = sent.length ? `${label}: ${sent.map((s) => `\`${esc(s)}\``).join(', then ')}` : label === 'Sent' ? 'No patch was needed: nothing to change.' : '';
  return { text: plainText(main), mrkdwn: line ? `${main}\n${line}` : main, blocks: [section(main), ...(line ? [context([line])] : [])] };
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function pastTense(a: Action): string {
  return a === 'promote' ? 'promoted' : a === 'abort' ? 'aborted' : 'retried';
}
