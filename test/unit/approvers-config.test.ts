import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Config } from '../../src/config/config-schema.js';
import { formatIssues } from '../../src/config/format-issues.js';

function withApprovers(approvers: string): unknown {
  return parse(`
apps:
  - name: shop
    repo: acme/shop
    image: { ecrRepository: shop }
    environments:
      - name: prod
        namespace: shop-prod
        rollout: backend
        slackChannel: C0PROD
        approvers: ${approvers}
`);
}

describe('the two-person rule in the config', () => {
  it('defaults to one approver, the requester counting as today', () => {
    const r = Config.safeParse(withApprovers('{ slackUsers: [U0LEAD] }'));
    expect(r.success).toBe(true);
    expect(r.data!.apps[0]!.environments[0]!.approvers).toMatchObject({ required: 1, requesterCounts: false });
  });

  it('reads required and requesterCounts', () => {
    const r = Config.safeParse(withApprovers('{ slackUsers: [U0LEAD, U0SRE], required: 2, requesterCounts: true }'));
    expect(r.success).toBe(true);
    expect(r.data!.apps[0]!.environments[0]!.approvers).toMatchObject({ required: 2, requesterCounts: true });
  });

  it('refuses required 2 without two slackUsers, naming the path', () => {
    const r = Config.safeParse(withApprovers('{ slackUsers: [U0LEAD], required: 2 }'));
    expect(r.success).toBe(false);
    expect(formatIssues(r.error!.issues).join('\n')).toContain('apps[0].environments[0].approvers.required');
    expect(formatIssues(r.error!.issues).join('\n')).toContain('needs slackUsers with at least 2 users');
  });

  it('refuses required 2 without any slackUsers', () => {
    expect(Config.safeParse(withApprovers('{ required: 2 }')).success).toBe(false);
  });
});
