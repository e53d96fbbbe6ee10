import { isSlackUserId } from '../text/is-slack-user-id.js';
import { formatDuration } from '../text/duration.js';
import { esc, who } from '../text/mrkdwn.js';

/** What the chain between environments says: deploy offers, dispatches, arrivals, timeouts. */
export type ChainMessage =
  /** Thread (broadcast): a deploy took longer than its environment's timeout. `where` is progress and phase. */
  | { kind: 'timeout'; env: string; activeMs: number; limitMs: number; where: string; message?: string }
  | { kind: 'first-env'; name: string }
  | { kind: 'nothing-proven'; name: string; prevEnv: string }
  | { kind: 'already-runs'; name: string; tag: string }
  | { kind: 'offer-ecr-error'; tag: string; error: string }
  | { kind: 'offer-ecr-missing'; tag: string; repository: string }
  /** Thread: a dry run of a deploy offer, with its facts. */
  | { kind: 'offer-dry-run'; name: string; tag: string; facts: string[] }
  | { kind: 'dry-run-posted'; where: string }
  | { kind: 'offer-waiting'; name: string; tag: string; from: string; where: string }
  /** Thread: a confirmed deploy whose tag was dispatched meanwhile by someone else. */
  | { kind: 'deploy-duplicate'; tag: string; env: string; by: string }
  | { kind: 'deploy-noop'; tag: string; env: string }
  | { kind: 'deploy-ecr-error'; tag: string; error: string }
  | { kind: 'deploy-ecr-changed'; tag: string; exists: boolean }
  | { kind: 'no-github'; workflow: string }
  | { kind: 'dispatch-failed'; workflow: string; env: string; error: string }
  /** Thread: dispatched; `channel` is where the new deploy thread starts, `here` when that is this thread's channel. */
  | { kind: 'dispatched'; workflow: string; tag: string; env: string; by: string; channel: string; here: boolean }
  | { kind: 'chain-noop'; tag: string; env: string }
  /** A several-rollout deploy completed, but these rollouts of its environment have not deployed its commit. */
  | { kind: 'chain-waits'; env: string; rollouts: string[]; next: string }
  | { kind: 'chain-ecr-error'; tag: string; env: string; error: string }
  | { kind: 'chain-ecr-missing'; tag: string; env: string; repository: string }
  /** The new deploy thread of a dispatched tag: where it came from. `tookMs` and `link` when known. */
  | { kind: 'arrival'; tag: string; by: string; from?: string; tookMs?: number; link?: string };

/** The words of the chain between environments, in one place. */
export function renderChain(m: ChainMessage): string {
  switch (m.kind) {
    case 'timeout':
      return `⏰ This deploy has taken ${formatDuration(m.activeMs)}, longer than ${m.env}'s timeout of ${formatDuration(m.limitMs)} (time waiting for promotion not counted). It is stuck at: ${esc(m.where)}${m.message && !m.where.includes(m.message) ? ` (${esc(m.message)})` : ''}.`;
    case 'first-env':
      return `🤷 Nothing is paused in ${m.name}, and it is the first environment: there is no earlier tag to bring here.`;
    case 'nothing-proven':
      return `🤷 Nothing is paused in ${m.name}, and no tag has completed in ${m.prevEnv} yet, so there is nothing proven to bring here.`;
    case 'already-runs':
      return `ℹ️ ${m.name} already runs \`${m.tag}\`: Argo Rollouts starts nothing for an unchanged tag, so there is nothing to bring.`;
    case 'offer-ecr-error':
      return `🚫 I could not verify \`${m.tag}\` in ECR: ${m.error}. Nothing was dispatched.`;
    case 'offer-ecr-missing':
      return `🚫 Image tag \`${m.tag}\` does not exist in ECR repository \`${m.repository}\`; nothing was dispatched.`;
    case 'offer-dry-run':
      return `🧪 *Dry run: bring \`${esc(m.tag)}\` to ${esc(m.name)}*\n${m.facts.join('\n')}\nDry run: nothing was dispatched.`;
    case 'dry-run-posted':
      return `🧪 Dry run posted in ${m.where}.`;
    case 'offer-waiting':
      return `👉 Nothing is paused in ${m.name}; bringing \`${m.tag}\` from ${m.from} is waiting for confirmation in ${m.where}.`;
    case 'deploy-duplicate':
      return `ℹ️ \`${esc(m.tag)}\` was already dispatched to ${esc(m.env)} by ${m.by === 'chain' ? 'the automatic chain' : who(m.by)} after this request was made; nothing more was dispatched.`;
    case 'deploy-noop':
      return `ℹ️ ${m.env} already runs \`${esc(m.tag)}\`; nothing was dispatched.`;
    case 'deploy-ecr-error':
      return `🚫 Not dispatched: I could not verify \`${esc(m.tag)}\` in ECR: ${esc(m.error)}`;
    case 'deploy-ecr-changed':
      return `🚫 Not dispatched: \`${esc(m.tag)}\` ${m.exists ? 'now points to another image' : 'no longer exists in ECR'}.`;
    case 'no-github':
      return `🚫 Not dispatched: the GitHub App is not configured (APP_ID, PRIVATE_KEY, WEBHOOK_SECRET), so I cannot run \`${esc(m.workflow)}\`.`;
    case 'dispatch-failed':
      return `⚠️ Dispatch of \`${esc(m.workflow)}\` for ${esc(m.env)} failed: ${esc(m.error)}`;
    case 'dispatched':
      return `🚚 Dispatched \`${esc(m.workflow)}\` to bring \`${esc(m.tag)}\` to ${esc(m.env)} (by ${actor(m.by)}). Its deploy thread starts in ${m.here ? 'this channel' : `<#${m.channel}>`} when the rollout changes.`;
    case 'chain-waits':
      return `⏳ Every rollout of this deploy completed, but ${m.rollouts.map((r) => `\`${esc(r)}\``).join(' and ')} ${m.rollouts.length === 1 ? 'has' : 'have'} not deployed this commit in ${esc(m.env)} yet: the chain brings it to ${esc(m.next)} once ${m.rollouts.length === 1 ? 'it completes' : 'they complete'} (or run \`/promote ${m.next}\`).`;
    case 'chain-noop':
      return `ℹ️ ${esc(m.env)} already runs \`${esc(m.tag)}\`; the chain has nothing to dispatch.`;
    case 'chain-ecr-error':
      return `🚫 Not dispatched to ${esc(m.env)}: I could not verify \`${esc(m.tag)}\` in ECR: ${esc(m.error)}. Run \`/promote ${m.env}\` once ECR answers.`;
    case 'chain-ecr-missing':
      return `🚫 Not dispatched to ${esc(m.env)}: image tag \`${esc(m.tag)}\` does not exist in ECR repository \`${esc(m.repository)}\`.`;
    case 'arrival': {
      const took = m.tookMs !== undefined ? ` (completed there in ${formatDuration(m.tookMs)})` : '';
      return `🚚 \`${esc(m.tag)}\` was brought here by ${actor(m.by)} from ${esc(m.from ?? 'the previous environment')}${took}.${m.link ? ` ${m.link}` : ''}`;
    }
  }
}

/** Who dispatched: the automatic chain, a Slack user (mentioned), or a GitHub login. */
function actor(by: string): string {
  return by === 'chain' ? 'the automatic chain' : isSlackUserId(by) ? `<@${by}>` : `@${esc(by)}`;
}
