import type { ImageFacts, RolloutPatch } from '../ports.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { Proof } from '../deploys/describe-proof.js';
import { describePhase, describeProgress } from '../rollout/describe-state.js';
import { context, esc, section, who } from '../text/mrkdwn.js';
import { plainText } from '../text/plain-text.js';
import { shortDigest } from '../text/short-digest.js';
import { describePatch } from './describe-patch.js';
import { withoutPodHashes } from '../rollout/without-pod-hashes.js';
import { describeRequest } from './describe-request.js';
import type { RequestLine } from './render-confirmation-notice.js';

export interface PreflightView {
  mode: 'confirm' | 'dry-run' | 'refused' | 'executed';
  action: 'promote' | 'abort' | 'retry';
  app: string;
  env: string;
  requestedBy: string;
  state: RolloutState;
  tag?: string;
  image?: ImageFacts;
  ecrRepository: string;
  describe: string;
  patches: RolloutPatch[];
  proof?: Proof;
  /** `--full`: shown in the headline, in plain words. */
  full: boolean;
  force: boolean;
  refusal?: string;
  approvers: string;
  /** False when the requester may not confirm it: the card says it waits for an approver. Default true. */
  requesterMayConfirm?: boolean;
  /** Other requests waiting in the thread for the same typed word (confirm mode). */
  others?: RequestLine[];
  /** This request replaced the same person's earlier pending one. */
  replacesOwn?: boolean;
  confirmationId?: string;
  namespace: string;
  rollout: string;
  /** A several-rollout deploy: the other rollouts it goes to (each checked), and the ones left alone with why. */
  members?: RolloutFacts[];
  skipped?: string[];
}

/** One rollout's checked facts on a preflight card. */
export type RolloutFacts = Pick<PreflightView, 'state' | 'tag' | 'image' | 'ecrRepository' | 'describe' | 'proof' | 'namespace' | 'rollout'>;

const VERB = { promote: 'Promote', abort: 'Abort', retry: 'Retry' } as const;

/**
 * The preflight card: what was checked (tag in ECR with its digest, phase, proof in the previous environment), what the
 * action will do and the exact patches, and how to confirm. One place decides this wording for Slack and GitHub.
 */
export function renderPreflight(v: PreflightView): { text: string; blocks: unknown[]; mrkdwn: string } {
  const headline = describeRequest({ action: v.action, app: v.app, env: v.env, full: v.full, force: v.force });
  const requester = `requested by ${who(v.requestedBy)}${v.requesterMayConfirm === false ? `, who is not an approver: waiting for an approver (${v.approvers})` : ''}`;
  const title =
    v.mode === 'confirm' ? `🚦 *${headline}?* ${requester}`
    : v.mode === 'dry-run' ? `🧪 *Dry run: ${headline}* requested by ${who(v.requestedBy)}`
    : v.mode === 'refused' ? `🚫 *Cannot ${v.action} ${esc(v.app)} ${esc(v.env)}*: ${withoutPodHashes(v.refusal ?? '', v.state)}`
    : `✅ *${headline}*: checks passed`;
  const facts: string[] = [];
  for (const r of [v, ...(v.members ?? [])]) facts.push(...rolloutFacts(v, r, v.members !== undefined));
  if (v.skipped?.length) facts.push(`• Left alone: ${v.skipped.map((s) => esc(s)).join('; ')}`);
  // The exact patches: in the main text of a dry run (that is what it is for), else in a small context line.
  const patchList = v.patches.map((p) => `\`${esc(describePatch(p))}\``).join(', then ');
  if (v.patches.length && v.mode === 'dry-run') facts.push(`• Patches that would be sent: ${patchList}`);
  const patchLine = v.patches.length && v.mode !== 'refused' && v.mode !== 'dry-run' ? `${v.mode === 'executed' ? 'Sent' : 'Sends'}: ${patchList}` : undefined;
  if (v.mode === 'confirm' && v.replacesOwn) facts.push(`• Replaces ${who(v.requestedBy)}'s earlier request: its button no longer does anything.`);
  if (v.mode === 'confirm' && v.others?.length) {
    facts.push(`• Also waiting in this thread: ${v.others.map((o) => `${o.headline}, requested by ${who(o.requestedBy)}${o.requesterMayConfirm ? '' : ' (not an approver)'}`).join('; ')}. Typing \`${v.action}\` asks which one; press the button on the card you mean.`);
  }
  const footer =
    v.mode === 'confirm' ? `To confirm exactly this request, an approver (${v.approvers}) presses ${VERB[v.action]} on this card or types \`${v.action}\` in this thread, within 10 minutes.`
    : v.mode === 'dry-run' ? 'Dry run: nothing was sent.'
    : v.mode === 'refused' ? 'Nothing was sent.'
    : '';
  const mrkdwn = [title, ...facts, footer, patchLine].filter(Boolean).join('\n');
  const text = plainText([title, ...facts, footer].filter(Boolean).join('\n'));
  const blocks: unknown[] = [section(title), section(facts.join('\n'))];
  if (footer || patchLine) blocks.push(context([footer, patchLine].filter((l): l is string => Boolean(l))));
  if (v.mode === 'confirm' && v.confirmationId) {
    blocks.push({
      type: 'actions',
      block_id: `confirm_${v.confirmationId}`,
      elements: [
        {
          type: 'button',
          action_id: 'rollout_confirm',
          value: v.confirmationId,
          style: v.action === 'abort' ? 'danger' : 'primary',
          text: { type: 'plain_text', text: VERB[v.action] },
          confirm: {
            title: { type: 'plain_text', text: `${VERB[v.action]} ${v.env}${v.full && v.action === 'promote' ? ' (FULL)' : ''}${v.force ? ' (FORCE)' : ''}?`.slice(0, 100) },
            text: { type: 'mrkdwn', text: `${headline}${v.tag ? ` (\`${esc(v.tag)}\`)` : ''}: ${esc(v.describe)}. Requested by ${who(v.requestedBy)}.`.slice(0, 300) },
            confirm: { type: 'plain_text', text: VERB[v.action] },
            deny: { type: 'plain_text', text: 'Not now' },
            ...(v.action === 'abort' ? { style: 'danger' } : {}),
          },
        },
        { type: 'button', action_id: 'rollout_cancel', value: v.confirmationId, text: { type: 'plain_text', text: 'Cancel' } },
      ],
    });
  }
  return { text, blocks, mrkdwn };
}

/** What was checked of one rollout (named first when the deploy has several). */
function rolloutFacts(v: PreflightView, r: RolloutFacts, several: boolean): string[] {
  const facts: string[] = [];
  const name = several ? `*${esc(r.rollout)}*: ` : '';
  if (r.tag) {
    if (r.image) facts.push(`• ${name}Image tag \`${esc(r.tag)}\` verified in ECR \`${esc(r.ecrRepository)}\`: digest \`${esc(shortDigest(r.image.digest))}\``);
    else facts.push(`• ${name}Image tag \`${esc(r.tag)}\``);
  }
  // "Paused at step 2/8 (pause)" already names the step: the progress then adds only the weight.
  const phase = describePhase(r.state);
  const progress = phase.includes(' at step ') ? describeProgress(r.state)?.replace(/^step \d+\/\d+ \([^)]*\) · /, '') : describeProgress(r.state);
  facts.push(`• Rollout \`${esc(r.namespace)}/${esc(r.rollout)}\`: ${esc(phase)}${progress ? ` · ${esc(progress)}` : ''} · revision ${esc(r.state.revision)}`);
  if (r.describe) facts.push(`• ${name}${v.mode === 'dry-run' ? 'If it were confirmed, it would do this' : v.mode === 'executed' ? 'What it does' : 'If confirmed, it does this'}: ${esc(withoutPodHashes(r.describe, r.state))}.`);
  if (r.proof) facts.push(r.proof.ok ? `• ${name}Proven: ${r.proof.text}` : `• ⚠️ ${name}Not proven: ${r.proof.text}${v.force ? ' · *override with --force* (recorded)' : ''}`);
  return facts;
}
