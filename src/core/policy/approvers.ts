import type { EnvTarget } from '../catalog.js';

/**
 * True when a Slack user may act in the environment: no approver list (anyone in the channel), or on it.
 * GitHub users are checked by repo permission in the comment pipeline before a command gets here.
 */
export function isApprover(target: EnvTarget, ctx: { source: 'slack' | 'github'; user: string }): boolean {
  if (ctx.source === 'github') return true;
  const users = target.env.approvers?.slackUsers;
  return !users || users.length === 0 || users.includes(ctx.user);
}

/** The approvers as people read them: mentions, or "anyone in the channel". */
export function approverList(target: EnvTarget): string {
  const users = target.env.approvers?.slackUsers;
  return users && users.length ? users.map((u) => `<@${u}>`).join(', ') : 'anyone in the channel';
}

/** The two-person rule of an environment: how many different approvers confirm a request, and whether the requester counts. */
export function approvalRule(target: EnvTarget): { required: number; requesterCounts: boolean } {
  const a = target.env.approvers;
  return { required: a?.required ?? 1, requesterCounts: a?.requesterCounts ?? false };
}
