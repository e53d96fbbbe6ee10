import { describe, expect, it } from 'vitest';
import { ensureReportCheck } from '../../src/core/deployments/ensure-report-check.js';
import { planDeploymentSync } from '../../src/core/deployments/plan-deployment-sync.js';
import { planReportChecks } from '../../src/core/deployments/plan-report-checks.js';
import { ServiceError, type CheckRunContent, type RepoHost } from '../../src/core/ports.js';
import type { CheckRunMark } from '../../src/core/deployments/deployment-mark.js';
import type { DeploymentMark, ThreadRecord } from '../../src/core/store-data.js';
import { abortedState, canaryState, threadOf } from '../support/state-builders.js';

const SHA = 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b';
const LINK = 'https://slack.example/archives/C0QA/p1700000000000100';
const REPORT = 'https://github.example/acme/voting01/runs/77';
const mark = (o: Partial<DeploymentMark> = {}): DeploymentMark => ({ app: 'voting01', env: 'qa', repo: 'acme/voting01', sha: SHA, deploymentId: 7, ...o });
const ended = (o: Partial<ThreadRecord> = {}) => threadOf(canaryState(), { commitSha: SHA, outcome: 'completed', finishedAt: threadOf(canaryState()).startedAt + 252_000, ...o });
const plan = (o: Partial<Parameters<typeof planReportChecks>[0]> = {}) => planReportChecks({ thread: ended(), mark: mark(), chain: [], link: LINK, appInName: false, now: 0, ...o });

describe('planReportChecks', () => {
  it('plans the ended deploy\'s report: named for its environment, keyed by its thread, success for a completed one', () => {
    const [p, ...rest] = plan();
    expect(rest).toEqual([]);
    expect(p!.slot).toBe('report');
    expect(p!.check).toMatchObject({ name: 'rollout-chatops report: qa', externalId: 'voting01/qa/uid-1/r2', conclusion: 'success', detailsUrl: LINK, title: 'voting01 qa: completed in 4m12s' });
    expect(p!.check.text).toContain('| Time | Since start | What | Who |');
  });

  it('says failure for an aborted deploy', () => {
    expect(plan({ thread: ended({ outcome: 'aborted', lastState: abortedState() }) })[0]!.check.conclusion).toBe('failure');
  });

  it('plans nothing for a deploy still running, superseded, or without a GitHub deployment', () => {
    expect(plan({ thread: ended({ outcome: undefined, finishedAt: undefined }) })).toEqual([]);
    expect(plan({ thread: ended({ outcome: 'superseded' }) })).toEqual([]);
    expect(plan({ mark: mark({ deploymentId: undefined }) })).toEqual([]);
  });

  it('plans nothing once GitHub shows the same report, and again when the report changed', () => {
    const [p] = plan();
    const written: CheckRunMark = { name: p!.check.name, externalId: p!.check.externalId, id: 77, url: REPORT, digest: p!.digest };
    expect(plan({ mark: mark({ report: written }) })).toEqual([]);
    const again = plan({ mark: mark({ report: written }), thread: ended({ finishedAt: ended().startedAt + 400_000 }) });
    expect(again.map((x) => x.slot)).toEqual(['report']);
  });

  it('asks no more once GitHub refused it for good', () => {
    expect(plan({ mark: mark({ report: { name: 'rollout-chatops report: qa', externalId: 'k', refused: true } }) })).toEqual([]);
  });

  it('adds the chain\'s report at the deploy that completed its last environment, named by the chain', () => {
    const thread = ended({ env: 'staging', key: 'voting01/staging/u/2' });
    const qa = ended({ key: 'voting01/qa/u/2' });
    const plans = plan({ thread, chain: [qa, thread] });
    expect(plans.map((x) => [x.slot, x.check.name, x.check.externalId])).toEqual([
      ['report', 'rollout-chatops report: staging', 'voting01/staging/u/2'],
      ['chainReport', 'rollout-chatops report: qa → staging', 'voting01/staging/u/2#chain'],
    ]);
    expect(plan({ thread, chain: [thread, qa] }).map((x) => x.slot)).toEqual(['report']);
  });

  it('names the app when several apps deploy from the repo', () => {
    expect(plan({ appInName: true })[0]!.check.name).toBe('rollout-chatops report: voting01 qa');
  });
});

describe('planDeploymentSync with a report', () => {
  it('links the report from the final status and says so in at most 140 characters', () => {
    const p = planDeploymentSync({ thread: ended(), mark: mark(), link: LINK, report: { url: REPORT } });
    expect(p.deploymentStatus).toEqual({ state: 'success', description: 'completed in 4m12s · report in the log link', link: REPORT });
    expect(p.commitStatus?.link).toBe(LINK);
  });

  it('names the chain when the report is the chain\'s', () => {
    const p = planDeploymentSync({ thread: ended(), mark: mark(), link: LINK, report: { url: REPORT, of: 'dev → qa → staging' } });
    expect(p.deploymentStatus?.description).toBe('completed in 4m12s · report of dev → qa → staging in the log link');
  });

  it('keeps the report in an aborted deploy\'s description, cutting the reason instead', () => {
    const state = { ...abortedState(), abortReason: `analysis failed: ${'x'.repeat(200)}` };
    const p = planDeploymentSync({ thread: ended({ outcome: 'aborted', lastState: state }), mark: mark(), link: LINK, report: { url: REPORT } });
    expect(p.deploymentStatus?.description).toHaveLength(140);
    expect(p.deploymentStatus?.description.startsWith('aborted after 4m12s (report in the log link): analysis failed: xxx')).toBe(true);
    expect(p.deploymentStatus?.link).toBe(REPORT);
  });

  it('posts the status again once the report exists, when the same state went out without it', () => {
    const before = planDeploymentSync({ thread: ended(), mark: mark(), link: LINK });
    const p = planDeploymentSync({ thread: ended(), mark: mark({ deployment: before.deploymentStatus }), link: LINK, report: { url: REPORT } });
    expect(p.deploymentStatus?.link).toBe(REPORT);
  });
});

describe('ensureReportCheck', () => {
  const content: CheckRunContent = { name: 'rollout-chatops report: qa', externalId: 'k', conclusion: 'success', title: 't', summary: 's', text: 'x' };
  const want = { slot: 'report' as const, check: content, digest: 'd1' };
  function fakeHost(o: { existing?: number; fail?: unknown } = {}) {
    const calls: string[] = [];
    const host = {
      createCheckRun: async () => { calls.push('create'); if (o.fail) throw o.fail; return { id: 5, url: 'u5' }; },
      updateCheckRun: async (x: { id: number }) => { calls.push(`update ${x.id}`); return { id: x.id, url: `u${x.id}` }; },
      findCheckRun: async () => { calls.push('find'); return o.existing ? { id: o.existing, url: `u${o.existing}` } : undefined; },
    } as unknown as RepoHost;
    return { host, calls };
  }
  const run = async (host: RepoHost, known?: CheckRunMark) => {
    const saved: CheckRunMark[] = [];
    const result = await ensureReportCheck({ repoHost: host, repo: 'acme/voting01', sha: SHA, known, want, now: 1000, save: async (m) => void saved.push(m) });
    return { result, saved };
  };

  it('saves creatingAt before creating, then the id, page and digest', async () => {
    const { host, calls } = fakeHost();
    const { saved } = await run(host);
    expect(calls).toEqual(['create']);
    expect(saved).toEqual([{ name: content.name, externalId: 'k', creatingAt: 1000 }, { name: content.name, externalId: 'k', id: 5, url: 'u5', digest: 'd1' }]);
  });

  it('finds a creation whose answer was lost and updates it instead of creating a second', async () => {
    const { host, calls } = fakeHost({ existing: 9 });
    const { result } = await run(host, { name: content.name, externalId: 'k', creatingAt: 500 });
    expect(calls).toEqual(['find', 'update 9']);
    expect(result).toMatchObject({ id: 9, url: 'u9', digest: 'd1' });
  });

  it('updates a known check run in place', async () => {
    const { host, calls } = fakeHost();
    await run(host, { name: content.name, externalId: 'k', id: 3, url: 'u3', digest: 'old' });
    expect(calls).toEqual(['update 3']);
  });

  it('remembers a refusal for good and throws it; a failure for now is only thrown', async () => {
    const refusal = new ServiceError('github', 'HTTP 403', { permanent: true });
    const refused = fakeHost({ fail: refusal });
    const saved: CheckRunMark[] = [];
    await expect(ensureReportCheck({ repoHost: refused.host, repo: 'r/r', sha: SHA, known: undefined, want, now: 1, save: async (m) => void saved.push(m) })).rejects.toBe(refusal);
    expect(saved.at(-1)).toEqual({ name: content.name, externalId: 'k', refused: true });
    const flaky = fakeHost({ fail: new ServiceError('github', 'HTTP 502') });
    const saved2: CheckRunMark[] = [];
    await expect(ensureReportCheck({ repoHost: flaky.host, repo: 'r/r', sha: SHA, known: undefined, want, now: 1, save: async (m) => void saved2.push(m) })).rejects.toThrow('502');
    expect(saved2).toEqual([{ name: content.name, externalId: 'k', creatingAt: 1 }]);
  });
});
