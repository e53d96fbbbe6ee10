import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { Config } from '../../src/config/config-schema.js';
import { formatIssues } from '../../src/config/format-issues.js';

function withFreezes(freezes: string): unknown {
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
        freezes:
${freezes}
`);
}

describe('freezes in the config', () => {
  it('reads a cron window and a dated window, as in the spec', () => {
    const r = Config.safeParse(withFreezes(`          - { cron: "0 16 * * 5", duration: 64h, reason: "weekend freeze" }
          - { from: 2026-12-20T00:00:00Z, to: 2027-01-04T00:00:00Z, reason: "holidays" }`));
    expect(r.success).toBe(true);
    expect(r.data!.apps[0]!.environments[0]!.freezes).toEqual([
      { cron: '0 16 * * 5', duration: 64 * 3_600_000, reason: 'weekend freeze' },
      { from: Date.parse('2026-12-20T00:00:00Z'), to: Date.parse('2027-01-04T00:00:00Z'), reason: 'holidays' },
    ]);
  });

  it('lists every broken window by its path', () => {
    const r = Config.safeParse(withFreezes(`          - { cron: "every friday", duration: 1h, reason: a }
          - { cron: "0 16 * * 5", reason: b }
          - { from: 2027-01-04T00:00:00Z, to: 2026-12-20T00:00:00Z, reason: c }
          - { from: tomorrow, to: 2026-12-20T00:00:00Z, reason: d }
          - { reason: e }`));
    expect(r.success).toBe(false);
    const problems = formatIssues(r.error!.issues).join('\n');
    expect(problems).toContain('apps[0].environments[0].freezes[0].cron');
    expect(problems).toContain('apps[0].environments[0].freezes[1].duration');
    expect(problems).toContain('apps[0].environments[0].freezes[2].to');
    expect(problems).toContain('apps[0].environments[0].freezes[3].from');
    expect(problems).toContain('needs cron + duration or from + to');
  });
});
