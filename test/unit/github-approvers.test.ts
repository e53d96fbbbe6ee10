import { describe, expect, it } from 'vitest';
import type { EnvTarget } from '../../src/core/catalog.js';
import { changesSomething, githubApproval, isListedGithubUser } from '../../src/core/policy/github-approvers.js';
import { parseCommand } from '../../src/core/commands/parse-command.js';
import { parseConfigText } from '../../src/config/load-settings.js';
import { voting01Config } from '../../emulators/world/voting01-config.js';

const target = (approvers?: Record<string, unknown>) => ({ env: { approvers } }) as unknown as EnvTarget;

describe('githubApproval', () => {
  it.each([
    ['no approvers', undefined, { kind: 'anyone' }],
    ['an empty Slack list', { slackUsers: [] }, { kind: 'anyone' }],
    ['Slack approvers only', { slackUsers: ['U0LEAD'] }, { kind: 'slack-only' }],
    ['GitHub users', { slackUsers: ['U0LEAD'], githubUsers: ['ada'] }, { kind: 'listed', users: ['ada'], teams: [] }],
    ['GitHub teams without Slack approvers', { githubTeams: ['acme/sre'] }, { kind: 'listed', users: [], teams: [{ org: 'acme', team: 'sre' }] }],
  ])('%s', (_what, approvers, expected) => {
    expect(githubApproval(target(approvers))).toEqual(expected);
  });

  it('matches logins without regard to case, as GitHub does', () => {
    expect(isListedGithubUser({ users: ['Ada'] }, 'ada')).toBe(true);
    expect(isListedGithubUser({ users: ['Ada'] }, 'adam')).toBe(false);
  });
});

describe('changesSomething', () => {
  it.each([
    ['/promote', 'staging', true],
    ['/rollout', 'abort qa', true],
    ['/rollout', 'retry qa', true],
    ['/rollout', 'drill qa', true],
    ['/errors', 'on qa', true],
    ['/errors', 'off qa', true],
    ['/errors', 'status qa', false],
    ['/rollout', 'status', false],
    ['/rollout', 'history qa', false],
    ['/rollout', 'help', false],
  ])('%s %s → %s', (command, text, expected) => {
    const parsed = parseCommand(command, text);
    if (!parsed.ok) throw new Error(parsed.problem.error);
    expect(changesSomething(parsed.command)).toBe(expected);
  });
});

describe('config: approvers.githubUsers and githubTeams', () => {
  const config = (lines: string[]) => voting01Config({ staging: ['approvers:', '  slackUsers: [U0LEAD]', ...lines.map((l) => `  ${l}`)] });

  it('takes GitHub logins and org/team slugs', () => {
    const problems: string[] = [];
    const cfg = parseConfigText(config(['githubUsers: [ada, grace-h]', 'githubTeams: [acme/sre]']), 'test.yml', problems);
    expect(problems).toEqual([]);
    expect(cfg?.apps[0]?.environments[2]?.approvers).toMatchObject({ githubUsers: ['ada', 'grace-h'], githubTeams: ['acme/sre'] });
  });

  it('names each malformed entry by its path', () => {
    const problems: string[] = [];
    parseConfigText(config(['githubUsers: ["@ada"]', 'githubTeams: [sre]']), 'test.yml', problems);
    expect(problems).toEqual([
      expect.stringMatching(/^apps\[0\]\.environments\[2\]\.approvers\.githubUsers\[0\]: must be a GitHub login/),
      expect.stringMatching(/^apps\[0\]\.environments\[2\]\.approvers\.githubTeams\[0\]: must be org\/team-slug/),
    ]);
  });
});
