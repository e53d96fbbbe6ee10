import type { EnvTarget } from '../catalog.js';
import type { Command } from '../commands/parse-command.js';

/**
 * Who may run a changing command in an environment from a GitHub comment (on top of the repo permission check):
 * - `anyone`: the environment names no approvers, so the repo permission is the whole rule;
 * - `listed`: only these GitHub logins and members of these `org/team` slugs;
 * - `slack-only`: the environment restricts its Slack approvers and names no GitHub ones, so a comment must not
 *   get around them: the change is confirmed in Slack.
 */
export type GithubApproval =
  | { kind: 'anyone' }
  | { kind: 'listed'; users: string[]; teams: Array<{ org: string; team: string }> }
  | { kind: 'slack-only' };

/** The GitHub approval rule of an environment (config `approvers.githubUsers`, `githubTeams`, `slackUsers`). */
export function githubApproval(target: EnvTarget): GithubApproval {
  const a = target.env.approvers;
  const users = a?.githubUsers ?? [];
  const teams = (a?.githubTeams ?? []).map((slug) => {
    const [org = '', team = ''] = slug.split('/');
    return { org, team };
  });
  if (users.length > 0 || teams.length > 0) return { kind: 'listed', users, teams };
  if ((a?.slackUsers ?? []).length > 0) return { kind: 'slack-only' };
  return { kind: 'anyone' };
}

/** True when a GitHub login is one of the listed users (logins are case-insensitive on GitHub). */
export function isListedGithubUser(approval: { users: string[] }, login: string): boolean {
  const l = login.toLowerCase();
  return approval.users.some((u) => u.toLowerCase() === l);
}

/** True for commands that change something (promote, abort, retry, drill, errors on/off); reading is open to anyone permitted. */
export function changesSomething(command: Command): boolean {
  switch (command.verb) {
    case 'status':
    case 'history':
    case 'help':
      return false;
    case 'errors':
      return command.action !== 'status';
    default:
      return true;
  }
}
