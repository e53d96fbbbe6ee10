import { voting01Config } from '../../emulators/world/voting01-config.js';

/**
 * The config of the error-simulation, drill and schedule tests: dev and qa canaries, staging blue-green. qa has error
 * simulation at the emulator's URL and one approver; dev has none.
 */
export function errorSimConfig(url: string, o: { ttl?: string; timeout?: string; reminders?: string; digest?: string; approvers?: string[]; githubUsers?: string[] } = {}): string {
  const approvers = o.approvers ?? ['U0LEAD'];
  const qa = [
    ...(o.timeout ? [`timeout: ${o.timeout}`] : []),
    'errorSimulation:',
    `  url: ${url}`,
    ...(o.ttl ? [`  ttl: ${o.ttl}`] : []),
    ...(approvers.length ? ['approvers:', `  slackUsers: [${approvers.join(', ')}]`, ...(o.githubUsers?.length ? [`  githubUsers: [${o.githubUsers.join(', ')}]`] : [])] : []),
  ];
  return voting01Config({ qa, tail: `${o.reminders ? `reminders: { after: ${o.reminders} }\n` : ''}${o.digest ?? ''}` });
}
