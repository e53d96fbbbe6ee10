import { esc } from '../text/mrkdwn.js';

/** The words for the flags that change what a confirmation does; they belong in every headline that shows it. */
const FULL = 'FULL: skips all remaining steps and analysis';
const FORCE = 'FORCE: overrides the check that the tag completed in the previous environment (recorded)';

/**
 * A request in one line, flags in plain words, as every card, question and refusal names it:
 * "Promote voting01 qa — FULL: skips all remaining steps and analysis". mrkdwn, escaped.
 */
export function describeRequest(r: { action: 'promote' | 'abort' | 'retry' | 'deploy'; app: string; env: string; full?: boolean; force?: boolean; tag?: string; from?: string }): string {
  const where = `${esc(r.app)} ${esc(r.env)}`;
  const head =
    r.action === 'deploy' ? `Bring \`${esc(r.tag ?? '?')}\`${r.from ? ` from ${esc(r.from)}` : ''} to ${where}`
    : `${r.action.charAt(0).toUpperCase()}${r.action.slice(1)} ${where}`;
  const flags = [r.action === 'promote' && r.full ? FULL : '', r.force ? FORCE : ''].filter(Boolean);
  return [head, ...flags].join(' — ');
}
