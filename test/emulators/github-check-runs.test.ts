import { generateKeyPairSync } from 'node:crypto';
import { Probot } from 'probot';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { ProbotRepoHost } from '../../src/adapters/github/probot-repo-host.js';
import type { CheckRunContent } from '../../src/core/ports.js';
import { ServiceError } from '../../src/core/ports.js';
import type { KeyedStore } from '../../src/core/store-ports.js';
import { startGitHubEmulator, type GitHubEmulator } from '../../emulators/github-emulator.js';
import { TEST_OCTOKIT } from '../../emulators/world/loopback-bot.js';

const APP_ID = 4242;
const REPO = 'acme/voting01';
const SHA = 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b';
const KEY = generateKeyPairSync('rsa', { modulusLength: 2048, privateKeyEncoding: { type: 'pkcs1', format: 'pem' }, publicKeyEncoding: { type: 'spki', format: 'pem' } });

function memoryKeyed<T>(): KeyedStore<T> {
  const m = new Map<string, T>();
  return {
    get: async (k) => m.get(k),
    all: async () => [...m],
    set: async (k, v) => void m.set(k, v),
    setIfAbsent: async (k, v) => (m.has(k) ? false : (m.set(k, v), true)),
    delete: async (k) => void m.delete(k),
  };
}

const check = (o: Partial<CheckRunContent> = {}): CheckRunContent => ({
  name: 'rollout-chatops report: qa',
  externalId: 'voting01/qa/uid-1/2',
  conclusion: 'success',
  detailsUrl: 'https://slack.example/archives/C0QA/p1',
  startedAt: Date.UTC(2026, 0, 29, 12, 0, 0),
  completedAt: Date.UTC(2026, 0, 29, 12, 4, 12),
  title: 'voting01 qa: completed in 4m12s',
  summary: '**voting01 qa** completed',
  text: '| Time | What |\n| --- | --- |\n| 12:00:00 | started |',
  ...o,
});

let gh: GitHubEmulator;
let host: ProbotRepoHost;
beforeEach(async () => {
  gh = await startGitHubEmulator();
  gh.registerApp({ appId: APP_ID, publicKeyPem: KEY.publicKey });
  gh.addRepo(REPO);
  const probot = new Probot({ appId: APP_ID, privateKey: KEY.privateKey, secret: 's', baseUrl: gh.apiUrl, logLevel: 'fatal', Octokit: TEST_OCTOKIT });
  host = new ProbotRepoHost(probot, memoryKeyed<number>());
});
afterEach(async () => {
  expect(gh.unexpectedCalls()).toEqual([]);
  await gh.close();
});

describe('check runs through the GitHub adapter and the emulator', () => {
  it('creates a completed check run with its output, times and external id, and answers its page', async () => {
    const ref = await host.createCheckRun({ repo: REPO, sha: SHA, check: check() });
    const [run] = gh.checkRuns(REPO);
    expect(ref).toEqual({ id: run!.id, url: run!.html_url });
    expect(run).toMatchObject({
      name: 'rollout-chatops report: qa', head_sha: SHA, external_id: 'voting01/qa/uid-1/2', status: 'completed', conclusion: 'success',
      details_url: 'https://slack.example/archives/C0QA/p1', started_at: '2026-01-29T12:00:00.000Z', completed_at: '2026-01-29T12:04:12.000Z',
      output: { title: 'voting01 qa: completed in 4m12s', summary: '**voting01 qa** completed', text: check().text },
    });
    expect(run!.html_url).toMatch(/\/acme\/voting01\/runs\/\d+$/);
  });

  it('updates the same check run in place', async () => {
    const { id } = await host.createCheckRun({ repo: REPO, sha: SHA, check: check({ conclusion: 'failure' }) });
    await host.updateCheckRun({ repo: REPO, id, check: check({ conclusion: 'success', text: 'again' }) });
    expect(gh.checkRuns(REPO).map((r) => [r.id, r.conclusion, r.output.text])).toEqual([[id, 'success', 'again']]);
    expect(gh.calls.filter((c) => c.method === 'PATCH').map((c) => c.path)).toEqual([`/api/v3/repos/acme/voting01/check-runs/${id}`]);
  });

  it('finds a check run again by name and external id, across pages and among runs of the same name', async () => {
    for (let i = 0; i < 120; i++) await host.createCheckRun({ repo: REPO, sha: SHA, check: check({ externalId: `other-${i}` }) });
    const first = gh.checkRuns(REPO)[0]!;
    expect(await host.findCheckRun({ repo: REPO, sha: SHA, name: 'rollout-chatops report: qa', externalId: 'other-0' })).toEqual({ id: first.id, url: first.html_url });
    expect(await host.findCheckRun({ repo: REPO, sha: SHA, name: 'rollout-chatops report: qa', externalId: 'none' })).toBeUndefined();
    expect(await host.findCheckRun({ repo: REPO, sha: SHA, name: 'rollout-chatops report: staging', externalId: 'other-0' })).toBeUndefined();
    const lists = gh.calls.filter((c) => c.method === 'GET' && c.path.endsWith('/check-runs'));
    expect(lists[0]!.query).toMatchObject({ check_name: 'rollout-chatops report: qa', filter: 'all' });
    expect(lists.filter((c) => c.query.check_name === 'rollout-chatops report: qa')).toHaveLength(4); // 2 pages, twice
  });

  it('lists like GitHub: {total_count, check_runs}, newest first, only the latest of each name unless filter=all', async () => {
    await host.createCheckRun({ repo: REPO, sha: SHA, check: check({ externalId: 'a' }) });
    await host.createCheckRun({ repo: REPO, sha: SHA, check: check({ externalId: 'b' }) });
    const token = gh.issueToken();
    const get = async (q: string) => (await fetch(`${gh.apiUrl}/repos/${REPO}/commits/${SHA}/check-runs${q}`, { headers: { authorization: `token ${token}` } })).json() as Promise<{ total_count: number; check_runs: Array<{ external_id: string }> }>;
    const latest = await get('');
    expect([latest.total_count, latest.check_runs.map((r) => r.external_id)]).toEqual([1, ['b']]);
    const all = await get('?filter=all');
    expect([all.total_count, all.check_runs.map((r) => r.external_id)]).toEqual([2, ['b', 'a']]);
  });

  it('refuses to write check runs without the installation permission checks: write, as GitHub does', async () => {
    gh.setPermissions({ metadata: 'read', deployments: 'write', statuses: 'write' });
    const err = await host.createCheckRun({ repo: REPO, sha: SHA, check: check() }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(ServiceError);
    expect((err as ServiceError).permanent).toBe(true);
    expect((err as ServiceError).message).toMatch(/Checks: write.*HTTP 403.*Resource not accessible by integration/);
    expect(gh.checkRuns()).toEqual([]);
  });

  it('validates what GitHub validates: a name, a known conclusion, a conclusion when completed, text within 65,535 characters', async () => {
    const token = gh.issueToken();
    const post = (body: unknown) => fetch(`${gh.apiUrl}/repos/${REPO}/check-runs`, { method: 'POST', headers: { authorization: `token ${token}`, 'content-type': 'application/json' }, body: JSON.stringify(body) });
    const ok = { name: 'x', head_sha: SHA, status: 'completed', conclusion: 'success', output: { title: 't', summary: 's', text: 'x'.repeat(65_535) } };
    expect((await post(ok)).status).toBe(201);
    expect((await post({ ...ok, name: undefined })).status).toBe(422);
    expect((await post({ ...ok, conclusion: 'great' })).status).toBe(422);
    expect((await post({ ...ok, conclusion: undefined })).status).toBe(422);
    expect((await post({ ...ok, status: 'done' })).status).toBe(422);
    expect((await post({ ...ok, output: { title: 't', summary: 's', text: 'x'.repeat(65_536) } })).status).toBe(422);
    expect((await post({ ...ok, output: { title: 't' } })).status).toBe(422);
    expect((await post({ ...ok, head_sha: 'nope' })).status).toBe(422);
    expect(gh.checkRuns()).toHaveLength(1);
  });

  it('keeps the effect of a call whose answer it loses (failNext handled)', async () => {
    gh.failNext({ count: 1, status: 502, path: /\/check-runs$/, handled: true });
    await expect(host.createCheckRun({ repo: REPO, sha: SHA, check: check() })).rejects.toThrow(/HTTP 502/);
    expect(gh.checkRuns(REPO)).toHaveLength(1);
    expect(await host.findCheckRun({ repo: REPO, sha: SHA, name: check().name, externalId: check().externalId })).toEqual({ id: gh.checkRuns(REPO)[0]!.id, url: gh.checkRuns(REPO)[0]!.html_url });
  });
});
