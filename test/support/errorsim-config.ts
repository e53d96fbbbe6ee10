/**
 * The config of the error-simulation, drill and schedule tests: dev and qa canaries, staging blue-green. qa has error
 * simulation at the emulator's URL and one approver; dev has none.
 */
export function errorSimConfig(url: string, o: { ttl?: string; timeout?: string; reminders?: string; digest?: string; approvers?: string[] } = {}): string {
  const approvers = o.approvers ?? ['U0LEAD'];
  return `
apps:
  - name: voting01
    repo: acme/voting01
    image:
      ecrRepository: voting01-vote
    environments:
      - name: dev
        namespace: voting01-dev
        rollout: vote
        slackChannel: C0DEV
      - name: qa
        namespace: voting01-qa
        rollout: vote
        slackChannel: C0QA
${o.timeout ? `        timeout: ${o.timeout}\n` : ''}        errorSimulation:
          url: ${url}
${o.ttl ? `          ttl: ${o.ttl}\n` : ''}${approvers.length ? `        approvers:\n          slackUsers: [${approvers.join(', ')}]\n` : ''}      - name: staging
        namespace: voting01-staging
        rollout: vote
        slackChannel: C0STAGING
${o.reminders ? `reminders: { after: ${o.reminders} }\n` : ''}${o.digest ?? ''}`;
}
