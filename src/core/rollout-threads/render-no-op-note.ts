import { esc } from '../text/mrkdwn.js';
import type { NoOpMark } from './no-op-mark.js';

/**
 * The one plain note a channel gets for the rollouts that got a revision running the same images as their stable one
 * (an Argo Rollouts upgrade rewrites every Rollout's pod template metadata): which ones, and that no thread opened.
 */
export function renderNoOpNote(marks: ReadonlyArray<Pick<NoOpMark, 'app' | 'env' | 'rollout' | 'revision'>>): string {
  const one = marks.length === 1;
  const head = one
    ? 'ℹ️ A new revision runs the same images as the stable one (only the pod template\'s metadata changed, as after an Argo Rollouts upgrade): no deploy thread opened, the current thread stays as it is.'
    : `ℹ️ ${marks.length} rollouts got a new revision that runs the same images as their stable one (only the pod template's metadata changed, as after an Argo Rollouts upgrade): no deploy threads opened, the current threads stay as they are.`;
  const lines = marks.map((m) => `• ${esc(m.app)} · ${esc(m.env)}: \`${esc(m.rollout)}\` revision ${esc(m.revision)}`);
  return [head, ...lines].join('\n');
}
