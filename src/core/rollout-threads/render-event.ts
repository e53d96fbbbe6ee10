import type { EnvTarget } from '../catalog.js';
import type { RolloutEvent } from './rollout-event.js';
import type { RolloutState } from '../rollout/rollout-state.js';
import type { Priority } from '../store-data.js';
import { esc, link, section } from '../text/mrkdwn.js';
import { promoteButtonBlock } from '../promotion/promote-button.js';
import { humanMessage, primaryTag, waitsForPromotion } from '../rollout/describe-state.js';

/** A thread reply for an event, with how urgently and how widely it goes out. */
export interface EventReply {
  text: string;
  priority: Priority;
  /** Also shown in the channel (aborts, waiting for promotion). */
  broadcast: boolean;
  /** May be merged with neighbouring progress replies while the channel is busy. */
  batchable: boolean;
  /** Block Kit: the text and a Promote button, on a "waiting for promotion" broadcast. */
  blocks?: unknown[];
}

/**
 * What a person reads in the thread for each event; undefined for events the card alone shows. A "waiting for
 * promotion" broadcast of thread `threadKey` also carries a Promote button (with a confirm dialog).
 */
export function renderEvent(event: RolloutEvent, state: RolloutState, target: EnvTarget | undefined, threadKey?: string): EventReply | undefined {
  const reply = eventReply(event, state, target);
  if (!reply || !reply.broadcast || !threadKey || !target || event.type !== 'paused' || !waitsForPromotion(state)) return reply;
  const tag = primaryTag(state);
  const dialog = {
    title: `Promote ${target.env.name}?`,
    text: `Promote ${esc(target.app.name)} ${esc(target.env.name)}${tag ? ` (\`${esc(tag)}\`)` : ''}. The checks of \`/promote\` run first; nothing is sent if one fails.`,
  };
  return { ...reply, blocks: [section(reply.text), promoteButtonBlock({ threadKey, state, env: target.env.name, ...dialog })] };
}

function eventReply(event: RolloutEvent, state: RolloutState, target: EnvTarget | undefined): EventReply | undefined {
  const envName = target?.env.name ?? 'env';
  switch (event.type) {
    case 'deploy-started':
      return undefined;
    case 'step-completed':
      return progress(`✅ Step ${event.step}/${event.of} completed (${esc(event.text)}) · weight ${event.weight}%.`);
    case 'paused': {
      if (event.reason === 'BlueGreenPause') {
        const urls: string[] = [];
        if (target?.env.previewUrl) urls.push(`Preview: ${link(target.env.previewUrl, target.env.previewUrl)}`);
        if (target?.env.activeUrl) urls.push(`Active: ${link(target.env.activeUrl, target.env.activeUrl)}`);
        const waiting = waitsForPromotion(state);
        const auto = state.blueGreen?.autoPromotionSeconds;
        const then = waiting ? ', waiting for promotion' : auto ? `; it promotes itself after ${auto}s` : '';
        return {
          text: `🔵 Preview ready${then}.${urls.length ? `\n${urls.join('\n')}` : ''}${waiting ? `\nTo promote: \`/promote ${envName}\`` : ''}`,
          priority: 'high',
          broadcast: waiting,
          batchable: false,
        };
      }
      if (event.reason === 'manual') return { text: '⏸️ Paused manually: nothing advances until it is resumed.', priority: 'high', broadcast: false, batchable: false };
      if (event.reason.startsWith('Inconclusive')) {
        return { text: `⚠️ Analysis inconclusive${stepAt(event)}: paused, waiting for a decision: \`/promote ${envName}\` or \`/rollout abort ${envName}\`.`, priority: 'high', broadcast: true, batchable: false };
      }
      const step = event.step !== undefined ? state.canary?.steps[event.step - 1] : undefined;
      if (step?.pauseSeconds !== undefined) return progress(`⏸️ Paused${stepAt(event)} for ${step.text.replace(/^pause: /, '')}${weightOf(event)}.`);
      return { text: `⏸️ Paused${stepAt(event)}${weightOf(event)}, waiting for promotion. To continue: \`/promote ${envName}\`.`, priority: 'high', broadcast: true, batchable: false };
    }
    case 'resumed':
      // A canary's "step n completed (pause)" already tells it; a blue-green resume is the promotion itself.
      if (state.strategy === 'canary') return undefined;
      if (state.strategy === 'blueGreen') return progress('▶️ Promoted: the active service switches to the preview.');
      return progress('▶️ Resumed.');
    case 'analysis': {
      const kind = { step: 'Step', background: 'Background', prePromotion: 'Pre-promotion', postPromotion: 'Post-promotion' }[event.kind];
      const icon = event.status === 'Successful' ? '🟢' : event.status === 'Failed' || event.status === 'Error' ? '🔴' : event.status === 'Inconclusive' ? '🟡' : '🔬';
      const bad = event.status === 'Failed' || event.status === 'Error';
      return {
        text: `${icon} ${kind} analysis ${esc(analysisName(event.name, state))}: ${esc(event.status.toLowerCase())}${event.message ? `: ${esc(humanMessage(event.message, state))}` : ''}.`,
        priority: bad ? 'high' : 'normal',
        broadcast: false,
        batchable: !bad,
      };
    }
    case 'aborted':
      return { text: `🛑 Aborted: ${esc(sentence(humanMessage(event.reason, state)))}${event.measured?.length ? `\nMeasured: ${event.measured.map(esc).join(' · ')}` : ''}\nTraffic is back on the stable version. To try again: \`/rollout retry ${envName}\`.`, priority: 'high', broadcast: true, batchable: false };
    case 'retried':
      return { text: '🔁 Retried after the abort: starting again from the first step.', priority: 'normal', broadcast: false, batchable: false };
    case 'completed':
      return { text: `🎉 Completed: revision ${esc(event.revision)} is now stable.`, priority: 'high', broadcast: false, batchable: false };
    case 'degraded':
      return { text: `🔥 Degraded: ${esc(sentence(humanMessage(event.message, state)))}`, priority: 'high', broadcast: true, batchable: false };
    case 'recovered':
      return progress('💚 Recovered: no longer degraded.');
    case 'replaced': {
      const rev = esc(event.revision);
      const by = esc(event.by);
      // Only what was seen, or what the new status proves (see detectRevisionEnd).
      if (event.ended === 'completed') {
        return once(`🎉 Revision ${rev} completed${event.offline ? ' while I was offline' : ''}; revision ${by} has started since.`);
      }
      if (event.ended === 'superseded') return once(`⏭️ Superseded by revision ${by} before it finished.`);
      return once(`⏹️ Revision ${rev} ended while I was offline; revision ${by} replaced it.`);
    }
    default:
      return undefined;
  }
}

/** An AnalysisRun's name without the pod-template hash and counter Argo appends (`web-7d5979db69-2` → `web`). */
function analysisName(name: string, state: RolloutState): string {
  const hash = state.currentPodHash ?? state.stableRS;
  if (hash) {
    const at = name.indexOf(`-${hash}`);
    if (at > 0) return name.slice(0, at);
  }
  return name.replace(/-[a-z0-9]{8,10}-\d+(?:-[a-z0-9.-]+)?$/, '');
}

function sentence(text: string): string {
  return /[.!?]$/.test(text) ? text : `${text}.`;
}

function progress(text: string): EventReply {
  return { text, priority: 'normal', broadcast: false, batchable: true };
}

function once(text: string): EventReply {
  return { text, priority: 'normal', broadcast: false, batchable: false };
}

function stepAt(e: { step?: number; of?: number }): string {
  return e.step !== undefined && e.of !== undefined ? ` at step ${e.step}/${e.of}` : '';
}

function weightOf(e: { weight?: number }): string {
  return e.weight !== undefined ? ` (weight ${e.weight}%)` : '';
}
