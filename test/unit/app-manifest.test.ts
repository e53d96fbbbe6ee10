import { readFileSync } from 'node:fs';
import path from 'node:path';
import { parse } from 'yaml';
import { describe, expect, it } from 'vitest';

const manifest = parse(readFileSync(path.resolve(import.meta.dirname, '../../app.yml'), 'utf8')) as Record<string, unknown>;

describe('app.yml', () => {
  it('subscribes to exactly the events the bot handles', () => {
    expect(manifest.default_events).toEqual(['push', 'issue_comment']);
  });

  it('asks for exactly the permissions the bot uses', () => {
    // members: read is the organization permission behind approvers.githubTeams (team membership checks);
    // deployments and statuses: write mirror each deploy as a GitHub deployment and a commit status, checks: write
    // writes its report as a check run (issue 18).
    expect(manifest.default_permissions).toEqual({
      contents: 'read', issues: 'write', pull_requests: 'write', actions: 'write', deployments: 'write', statuses: 'write', checks: 'write', metadata: 'read', members: 'read',
    });
  });

  it('points the webhook at Probot\'s default path', () => {
    expect((manifest.hook_attributes as { url: string }).url).toMatch(/\/api\/github\/webhooks$/);
  });
});
