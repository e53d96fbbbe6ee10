import { describe, expect, it } from 'vitest';
import { shaFromTag } from '../../src/core/commits/sha-from-tag.js';
import { slackToMarkdown } from '../../src/core/text/to-markdown.js';
import { formatDuration, parseDuration } from '../../src/core/text/duration.js';
import { permits } from '../../src/core/policy/permission.js';
import { resolveTargets } from '../../src/core/commands/resolve-target.js';
import { Catalog } from '../../src/core/catalog.js';
import { parseConfigText } from '../../src/config/load-settings.js';

describe('shaFromTag', () => {
  it.each([
    ['ea11a24-20260129125607', undefined, 'ea11a24'],
    ['ea11a24b3c4d', undefined, 'ea11a24b3c4d'],
    ['v1.2.3', undefined, undefined],
    ['abc', undefined, undefined],
    ['release-ea11a24', '^release-(?<sha>[0-9a-f]{7,})$', 'ea11a24'],
    ['release-zzz', '^release-(?<sha>[0-9a-f]{7,})$', undefined],
  ])('%s with %s → %s', (tag, pattern, sha) => {
    expect(shaFromTag(tag, pattern)).toBe(sha);
  });
});

describe('slackToMarkdown', () => {
  it('turns Slack links, bold and mentions into GitHub markdown', () => {
    expect(slackToMarkdown('*voting01 · dev*: see <https://x.example/a|the thread> by <@U0LEAD> &amp; co')).toBe('**voting01 · dev**: see [the thread](https://x.example/a) by @U0LEAD & co');
  });
});

describe('durations', () => {
  it.each([['30s', 30_000], ['10m', 600_000], ['1h30m', 5_400_000], ['10 minutes', undefined], ['', undefined]])('%s', (t, ms) => {
    expect(parseDuration(t)).toBe(ms);
  });

  it('formats like people write', () => {
    expect([formatDuration(114_000), formatDuration(391_000), formatDuration(3_600_000), formatDuration(250)]).toEqual(['1m54s', '6m31s', '1h', '250ms']);
  });
});

describe('permits', () => {
  it('orders GitHub permissions', () => {
    expect(permits('admin', 'write')).toBe(true);
    expect(permits('maintain', 'write')).toBe(true);
    expect(permits('triage', 'write')).toBe(false);
    expect(permits('read', 'read')).toBe(true);
    expect(permits('none', 'read')).toBe(false);
  });
});

const CONFIG = `
apps:
  - name: voting01
    repo: acme/voting01
    image: { ecrRepository: v }
    environments:
      - { name: dev, namespace: v-dev, rollout: vote, slackChannel: C1 }
      - { name: qa, namespace: v-qa, rollout: vote, slackChannel: C2 }
  - name: result01
    repo: acme/result01
    image: { ecrRepository: r }
    environments:
      - { name: qa, namespace: r-qa, rollout: result, slackChannel: C3 }
`;

describe('resolveTargets', () => {
  const problems: string[] = [];
  const catalog = new Catalog(parseConfigText(CONFIG, 'test.yml', problems)!);

  it('finds the one app with an environment', () => {
    const r = resolveTargets(catalog, { env: 'dev', single: true });
    expect(r.ok && r.targets.map((t) => t.key)).toEqual(['voting01/dev']);
  });

  it('asks which app when several have the environment', () => {
    const r = resolveTargets(catalog, { env: 'qa', single: true });
    expect(!r.ok && r.error).toMatch(/more than one app has environment `qa`: name one of `voting01`, `result01`/);
  });

  it('names the known environments for an unknown one', () => {
    const r = resolveTargets(catalog, { env: 'prod', single: true });
    expect(!r.ok && r.error).toBe('unknown environment `prod`. Known environments: `dev`, `qa`');
  });

  it('names the known apps for an unknown one', () => {
    const r = resolveTargets(catalog, { env: 'qa', app: 'nope', single: true });
    expect(!r.ok && r.error).toBe('unknown app `nope`. Known apps: `voting01`, `result01`');
  });

  it('narrows to the repo of a GitHub comment', () => {
    const r = resolveTargets(catalog, { env: 'qa', repo: 'ACME/result01', single: true });
    expect(r.ok && r.targets.map((t) => t.key)).toEqual(['result01/qa']);
  });
});

describe('config validation', () => {
  it.each([
    ['apps: []', ['apps: must list at least one app']],
    ['apps:\n  - name: a\n    repo: nope\n    image: { ecrRepository: x }\n    environments: [{ name: dev, namespace: n, rollout: r, slackChannel: C1 }]', ['apps[0].repo: must be owner/name']],
    ['apps:\n  - name: a\n    repo: o/a\n    image: { ecrRepository: x, tagPattern: "(" }\n    environments: [{ name: dev, namespace: n, rollout: r, slackChannel: general }]', [expect.stringMatching(/^apps\[0\]\.image\.tagPattern: is not a valid regular expression/), 'apps[0].environments[0].slackChannel: must be a Slack channel id like C0123ABCD']],
    ['apps:\n  - name: a\n    repo: o/a\n    image: { ecrRepository: x }\n    environments: [{ name: dev, namespace: n, rollout: r, slackChannel: C1 }, { name: dev, namespace: n, rollout: r, slackChannel: C1 }]', ['apps[0].environments[1].name: duplicate environment "dev" in app a', 'apps[0].environments[1].rollout: rollout n/r is already configured as a/dev']],
    ['apps:\n  - name: a\n    repo: o/a\n    image: { ecrRepository: x }\n    environments: [{ name: dev, namespace: n, slackChannel: C1 }]', ['apps[0].environments[0].rollout: required (or rollouts, for several)']],
    ['apps:\n  - name: a\n    repo: o/a\n    image: { ecrRepository: x }\n    environments: [{ name: dev, namespace: n, rollout: r, rollouts: [{ rollout: s }], slackChannel: C1 }]', ['apps[0].environments[0].rollouts: give either rollout or rollouts, not both']],
    ['apps:\n  - name: a\n    repo: o/a\n    image: { ecrRepository: x }\n    environments: [{ name: dev, namespace: n, rollouts: [], slackChannel: C1 }]', ['apps[0].environments[0].rollouts: must list at least one rollout']],
    ['apps:\n  - name: a\n    repo: o/a\n    image: { ecrRepository: x }\n    environments: [{ name: dev, namespace: n, rollouts: [{ rollout: b }, { rollout: f, ecr: y }, { rollout: b }], slackChannel: C1 }]', ['apps[0].environments[0].rollouts[1].ecr: unknown key', 'apps[0].environments[0].rollouts[2].rollout: rollout n/b is already configured as a/dev']],
    ['digest: { cron: "every day", channel: C1 }\napps: []', ['apps: must list at least one app', 'digest.cron: is not a valid cron expression']],
    ['apps: [\n', [expect.stringMatching(/^test\.yml:\d+:\d+: /)]],
  ])('%#: names the path of each mistake', (yaml, expected) => {
    const problems: string[] = [];
    expect(parseConfigText(yaml, 'test.yml', problems)).toBeUndefined();
    expect(problems).toEqual(expected);
  });
});
