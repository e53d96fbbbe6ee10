import { againCommand } from './again-command.js';
import { esc, who } from '../text/mrkdwn.js';

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
  | { kind: 'cancelled'; action: string; user: string; headline: string }
  /** Thread: the fresh read before dispatching a confirmed deploy failed. */
  | { kind: 'deploy-unreadable'; app: string; env: string; error: string }
  /** Thread: the confirmed request no longer matches the rollout (or is refused now). */
  | { kind: 'changed'; action: Action; env: string; why: string }
  /** Thread: a patch failed; `sent` lists what had gone out before. */
  | { kind: 'patch-failed'; action: Action; error: string; sent: string[] }
  /** Thread: the patches went out. `github` when the command came from a comment. */
  | { kind: 'executed'; what: string; user: string; github: boolean; describe: string; override: boolean; sent: string[] };

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
      return `✖️ ${capitalize(m.action)} cancelled by <@${m.user}>: ${m.headline}.`;
    case 'deploy-unreadable':
      return `🚫 Not dispatched: I could not read the rollout of ${esc(m.app)} ${esc(m.env)} (${esc(m.error)}). Nothing was sent; run \`/promote ${m.env}\` again once it answers.`;
    case 'changed':
      return `🛑 Not ${pastTense(m.action)}: ${m.why}\nNothing was sent. Run \`${againCommand(m.action, m.env)}\` again to see the current state.`;
    case 'patch-failed':
      return `⚠️ ${capitalize(m.action)} failed: ${m.error}${m.sent.length ? `\nAlready sent: ${m.sent.join(', ')}` : '\nNothing was sent.'}`;
    case 'executed': {
      const by = m.github ? `@${esc(m.user)} from GitHub` : `<@${m.user}>`;
      const override = m.override ? '\n⚠️ Override recorded: the tag was not proven in the previous environment.' : '';
      return `🚀 ${capitalize(m.what)} by ${by}: ${esc(m.describe)}${override}\nSent: ${m.sent.map((s) => `\`${s}\``).join(', ') || 'no patch (nothing to change)'}`;
    }
  }
}

function capitalize(s: string): string {
  return s.charAt(0).toUpperCase() + s.slice(1);
}

function pastTense(a: Action): string {
  return a === 'promote' ? 'promoted' : a === 'abort' ? 'aborted' : 'retried';
}
