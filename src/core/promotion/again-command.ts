/** The command that starts a request of this kind afresh: `/promote qa` (also for a deploy offer), `/rollout abort qa`. */
export function againCommand(action: string, env: string): string {
  return action === 'promote' || action === 'deploy' ? `/promote ${env}` : `/rollout ${action} ${env}`;
}
