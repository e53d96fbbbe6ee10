import type { OutsideChange } from './detect-outside-action.js';

const WORD: Record<OutsideChange['kind'], string> = { promoted: 'Promoted', aborted: 'Aborted', retried: 'Retried', paused: 'Paused', resumed: 'Resumed', restarted: 'Restarted' };

/** The thread reply for a change made outside chat (kubectl, the Argo Rollouts dashboard, Argo CD). */
export function renderOutsideAction(kind: OutsideChange['kind']): string {
  return `↪️ ${WORD[kind]} outside chat (kubectl, the Argo Rollouts dashboard or Argo CD), not through me.`;
}

/** What a live confirmation card says once the same change was made outside chat. */
export function outsideDone(kind: OutsideChange['kind']): string {
  return `${kind} outside chat`;
}
