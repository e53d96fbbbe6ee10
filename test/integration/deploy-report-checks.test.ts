import { afterEach, describe, expect, it } from 'vitest';
import { pushPayload } from '../../emulators/clients/github-webhooks.js';
import { sendSlashCommand, sendThreadMessage } from '../../emulators/clients/slack-requests.js';
import type { GitHubCheckRun, GitHubDeployment } from '../../emulators/github-emulator.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { STAGING_BLUE_GREEN, voting01Config } from '../../emulators/world/voting01-config.js';
import { captureLogger } from '../support/capture-logger.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { SkewClock } from '../support/skew-clock.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const SHA = 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b';
const TAG = 'ea11a24-20260129125607';
const SHA2 = 'b0b0b0b3c4d5e6f708192a3b4c5d6e7f8091a2b0';
const TAG2 = 'b0b0b0b-20260130090000';
const REPO = 'acme/voting01';
const LEAD = 'U0LEAD';
const deploy = 'deploy: { workflow: ci-build-push.yaml, ref: main, auto: true }';
const CONFIG = voting01Config({ qa: [deploy], staging: [...STAGING_BLUE_GREEN, deploy, 'approvers: { slackUsers: [U0LEAD] }'] });
/** dev pauses once for a person: enough to abort it there, retry it, and promote it to the end. */
const DEV_STEPS = [{ setWeight: 20 }, { pause: {} }, { setWeight: 50 }];
const WITHOUT_CHECKS = { metadata: 'read', contents: 'read', issues: 'write', pull_requests: 'write', deployments: 'write', statuses: 'write', actions: 'write', members: 'read' };

let h: Harness;
afterEach(async () => {
  if (h) expect(h.github.unexpectedCalls()).toEqual([]);
  await h?.close();
});

async function start(o: { devSteps?: object[]; log?: ReturnType<typeof captureLogger>; permissions?: Record<string, string>; clock?: SkewClock } = {}) {
  h = await Harness.start({ noStart: true, config: CONFIG, overrides: { ...(o.log ? { log: o.log } : {}), ...(o.clock ? { clock: o.clock } : {}) } });
  if (o.permissions) h.github.setPermissions(o.permissions);
  h.github.addWorkflow(REPO, 'ci-build-push.yaml', { inputs: ['environment', 'image_tag'] });
  h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: o.devSteps ?? [{ setWeight: 50 }] });
  h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 20 }, { setWeight: 50 }] });
  h.controller.createBlueGreen({ namespace: 'voting01-staging', name: 'vote', image: `${IMG}:0000000-1`, autoPromotionEnabled: false });
  h.ecr.addImage('voting01-vote', TAG);
  await h.startBot();
  await h.ready();
  expect((await push('push-1')).status).toBe(200);
  await h.settled(); // the push is recorded in the background
}

function push(deliveryId: string, commit = { id: SHA, message: 'Fix the *vote* button' }) {
  // Committed now: the store's start-up prune drops unpaired commits by their commit time (the payload's default is months old).
  const commits = [{ ...commit, timestamp: new Date().toISOString(), author: { name: 'Ada Lovelace', email: 'ada@example.com', username: 'ada' } }];
  return h.webhook('push', pushPayload({ repo: REPO, commits, sender: { login: 'ada', type: 'User' } }), { deliveryId });
}

/**
 * After a restart: a newer commit starts deploying in `envs`, and its deployment is awaited in each. Each environment's
 * GitHub work runs in order, so once those exist, whatever the restart's first look at the old deploys did is done.
 */
async function newerDeployIn(envs: string[]): Promise<void> {
  expect((await push('push-2', { id: SHA2, message: 'Second change' })).status).toBe(200);
  await h.settled(); // the push is recorded in the background
  h.ecr.addImage('voting01-vote', TAG2);
  for (const env of envs) {
    h.controller.deploy(`voting01-${env}`, 'vote', `${IMG}:${TAG2}`);
    h.controller.settle(`voting01-${env}`, 'vote');
  }
  for (const env of envs) await waitFor(() => h.github.deployments(REPO).some((d) => d.environment === env && d.sha === SHA2), `${env} deployment of the newer commit`);
  await h.settled();
}

async function root(channel: string): Promise<SlackMessage> {
  return waitFor(() => h.roots(channel)[0], `root in ${channel}`);
}

async function reply(channel: string, r: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies(channel, r.ts).find((m) => messageText(m).includes(text)), `"${text}" in ${channel}`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

/** Types `command text` in `channel` as `user`, then confirms it in the thread with `word`. */
async function confirmed(o: { channel: string; r: SlackMessage; command: string; text: string; word: string; question: string; user?: string }): Promise<void> {
  const user = o.user ?? LEAD;
  await sendSlashCommand(h.sender, { command: o.command, text: o.text, userId: user, channelId: o.channel, responseUrl: h.slack.newResponseUrl({ channel: o.channel, user }) });
  await reply(o.channel, o.r, o.question);
  await sendThreadMessage(h.sender, { channel: o.channel, threadTs: o.r.ts, user, text: o.word });
}

const runs = (name: string): GitHubCheckRun[] => h.github.checkRuns(REPO).filter((r) => r.name === name && r.head_sha === SHA);
const deploymentOf = (env: string): GitHubDeployment | undefined => h.github.deployments(REPO).find((d) => d.environment === env && d.sha === SHA);
const lastStatus = (env: string) => h.github.deploymentStatuses(deploymentOf(env)!.id).at(-1)!;
/** Every check-run write about SHA's reports (creations on it, updates of its runs), answered or not. */
const checkWrites = () => {
  const ids = new Set(h.github.checkRuns(REPO).filter((r) => r.head_sha === SHA).map((r) => String(r.id)));
  return h.github.calls.filter((c) => (c.method === 'POST' && c.path.endsWith('/voting01/check-runs') && (c.body as { head_sha?: string } | undefined)?.head_sha === SHA) || (c.method === 'PATCH' && ids.has(c.path.split('/').at(-1)!)));
};
const threadKeyOf = (env: string) => (deploymentOf(env)!.payload as { threadKey: string }).threadKey;
/** The timeline rows of a report's Markdown. */
const rows = (text: string | null) => (text ?? '').split('\n').filter((l) => /^\| \d\d:\d\d:\d\d \|/.test(l));

/**
 * dev → qa → staging by the automatic chain; staging waits for promotion, and Lead promotes it. With `restart`, the
 * bot restarts while staging waits (dev's and qa's reports written, the chain's not yet).
 */
async function throughTheChain(o: { restart?: boolean } = {}): Promise<void> {
  h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-dev', 'vote');
  const dev = await root('C0DEV');
  await reply('C0DEV', dev, 'Dispatched `ci-build-push.yaml`');
  h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-qa', 'vote');
  const qa = await root('C0QA');
  await reply('C0QA', qa, 'Completed');
  await reply('C0QA', qa, 'to staging');
  h.controller.deploy('voting01-staging', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-staging', 'vote');
  const staging = await root('C0STAGING');
  await reply('C0STAGING', staging, 'waiting for promotion');
  if (o.restart) {
    await waitFor(() => runs('rollout-chatops report: qa').length === 1, 'the qa report');
    await h.settled();
    await h.stopBot();
    await h.startBot();
    await h.ready();
  }
  await confirmed({ channel: 'C0STAGING', r: staging, command: '/promote', text: 'staging', word: 'promote', question: 'Promote voting01 staging?' });
  await reply('C0STAGING', staging, `Promoted by <@${LEAD}>`);
  h.controller.settle('voting01-staging', 'vote');
  await reply('C0STAGING', staging, 'Completed');
  await waitFor(() => lastStatus('staging').state === 'success', 'staging deployment success');
  await h.settled();
}

describe('deploy reports as GitHub check runs', () => {
  it('writes each environment\'s report and the chain\'s on the commit, and links them from the final deployment statuses', async () => {
    await start();
    await throughTheChain();

    for (const env of ['dev', 'qa', 'staging']) {
      const [run, ...more] = runs(`rollout-chatops report: ${env}`);
      expect(more, `one ${env} report`).toEqual([]);
      expect(run).toMatchObject({ head_sha: SHA, external_id: threadKeyOf(env), status: 'completed', conclusion: 'success' });
      expect(run!.details_url).toContain(`C0${env.toUpperCase()}`);
      expect(run!.output.title).toMatch(new RegExp(`^voting01 ${env}: completed in \\S+$`));
      expect(run!.output.summary).toMatch(new RegExp(`^\\*\\*voting01 ${env}\\*\\* \`${TAG}\`: ✅ completed in \\S+\\.\\nWaiting for people: `));
      const timeline = rows(run!.output.text);
      expect(timeline[0]).toMatch(/\| 0s \| ▶️ deploy of revision \d+ started \|/);
      expect(timeline.at(-1)).toMatch(/\| 🏁 \*\*completed\*\* \|/);
      expect(run!.output.text).toContain(`- Commit: [\`ea11a24\`](`);
      expect(run!.output.text).toContain('Fix the \\*vote\\* button (Ada Lovelace (@ada))');
    }
    expect(rows(runs('rollout-chatops report: qa')[0]!.output.text).some((l) => /\| step 1 completed \|/.test(l))).toBe(true);
    const staging = runs('rollout-chatops report: staging')[0]!;
    expect(rows(staging.output.text).some((l) => /\| paused\b/.test(l))).toBe(true);
    expect(rows(staging.output.text).some((l) => /\| 👤 promoted.* \| Slack user `U0LEAD` \|$/.test(l))).toBe(true);
    expect(staging.output.text).toMatch(/- Promoted by: Slack user `U0LEAD`/);
    expect(staging.output.text).toMatch(/of it waiting for people/);

    // The chain's report: once, on the same commit, every environment's timeline in it.
    const [chain, ...moreChains] = runs('rollout-chatops report: dev → qa → staging');
    expect(moreChains).toEqual([]);
    expect(chain).toMatchObject({ head_sha: SHA, external_id: `${threadKeyOf('staging')}#chain`, conclusion: 'success' });
    expect(chain!.output.text).toMatch(/## voting01 · `ea11a24-20260129125607` through dev → qa → staging/);
    expect(chain!.output.text!.match(/^### (dev|qa|staging) · revision/gm)).toEqual(['### dev · revision', '### qa · revision', '### staging · revision']);
    expect(rows(chain!.output.text).filter((l) => l.includes('🏁 **completed**'))).toHaveLength(3);

    // The final deployment statuses link them: dev and qa their own, staging (the chain's end) the chain's.
    for (const env of ['dev', 'qa']) {
      expect(lastStatus(env)).toMatchObject({ state: 'success', log_url: runs(`rollout-chatops report: ${env}`)[0]!.html_url });
      expect(lastStatus(env).description).toMatch(/^completed in \S+ · report in the log link$/);
    }
    expect(lastStatus('staging')).toMatchObject({ state: 'success', log_url: chain!.html_url, environment_url: 'https://vote-voting01-staging.example.com' });
    expect(lastStatus('staging').description).toMatch(/^completed in \S+ · report of dev → qa → staging in the log link$/);
    // The report came before the final status: no success went out without its link.
    for (const env of ['dev', 'qa', 'staging']) expect(h.github.deploymentStatuses(deploymentOf(env)!.id).filter((s) => s.state === 'success')).toHaveLength(1);
    // The commit statuses still point at the Slack threads.
    expect(h.github.commitStatuses(REPO, SHA).filter((s) => s.state === 'success').every((s) => s.target_url?.includes('/archives/C0'))).toBe(true);
  });

  it('writes no second check run for a redelivered push or a restart, in the middle of the chain or after it', async () => {
    await start();
    await throughTheChain({ restart: true });
    const runsOfSha = () => h.github.checkRuns(REPO).filter((r) => r.head_sha === SHA);
    const successes = () => h.github.deployments(REPO).filter((d) => d.sha === SHA).flatMap((d) => h.github.deploymentStatuses(d.id)).filter((s) => s.state === 'success');
    const before = { writes: checkWrites().length, runs: runsOfSha(), successes: successes().length };
    expect(before.runs).toHaveLength(4);
    expect(before.writes).toBe(4);

    await push('push-1');
    await push('push-1-again');
    await h.settled();
    await h.stopBot();
    await h.startBot();
    await h.ready();
    await newerDeployIn(['dev', 'qa', 'staging']);

    expect(checkWrites()).toHaveLength(before.writes);
    expect(runsOfSha()).toEqual(before.runs);
    expect(successes()).toHaveLength(before.successes);
  });

  it('finds a check run whose creation answer was lost instead of writing a second, and links it; a restart adds nothing', async () => {
    const log = captureLogger();
    const clock = new SkewClock();
    await start({ log, clock });
    h.github.failNext({ count: 1, status: 502, path: /\/repos\/acme\/voting01\/check-runs$/, handled: true });
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-dev', 'vote');
    await waitFor(() => deploymentOf('dev') && runs('rollout-chatops report: dev').length === 1, 'the dev report on GitHub');
    const [run] = runs('rollout-chatops report: dev');
    // The bot did not hear GitHub create it: it says so, and finds it when it tries again, 30 s later (the deploy
    // has ended: no next change of the rollout would bring it back).
    const warning = await waitFor(() => log.entries.find((e) => e.msg === 'GitHub report check run failed'), 'the failure logged');
    expect(warning.fields).toMatchObject({ env: 'dev', check: 'rollout-chatops report: dev' });
    expect(warning.fields.fix).toBeUndefined(); // a 502 is GitHub's trouble: nothing for the operator to fix
    await h.settled();
    clock.skip(29_000);
    await h.settled();
    expect(lastStatus('dev').log_url).not.toBe(run!.html_url);
    clock.skip(1_000);
    await waitFor(() => lastStatus('dev').log_url === run!.html_url, 'dev success linking the report');
    await h.settled();
    await h.stopBot();
    await h.startBot();
    await h.ready();
    await newerDeployIn(['dev']);

    expect(runs('rollout-chatops report: dev')).toHaveLength(1);
    expect(checkWrites().map((c) => [c.method, c.status])).toEqual([['POST', 502], ['PATCH', 200]]);
    expect(h.github.calls.filter((c) => c.method === 'GET' && c.path.endsWith(`/commits/${SHA}/check-runs`)).map((c) => c.query)).toEqual([
      expect.objectContaining({ check_name: 'rollout-chatops report: dev', filter: 'all' }),
    ]);
    const successes = h.github.deploymentStatuses(deploymentOf('dev')!.id).filter((s) => s.state === 'success');
    // At most one success went out before the report was found (linking the thread), then one linking the report.
    expect(successes.at(-1)).toMatchObject({ log_url: run!.html_url, description: expect.stringMatching(/^completed in \S+ · report in the log link$/) });
    expect(successes.slice(0, -1).every((s) => s.description === 'completed' && s.log_url.includes('C0DEV'))).toBe(true);
    expect(successes.length).toBeLessThanOrEqual(2);
  });

  it('reports an abort as a failure, and updates the same check run when a retry completes the deploy', async () => {
    await start({ devSteps: DEV_STEPS });
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-dev', 'vote');
    const dev = await root('C0DEV');
    await reply('C0DEV', dev, 'waiting for promotion');
    await confirmed({ channel: 'C0DEV', r: dev, command: '/rollout', text: 'abort dev', word: 'abort', question: 'Abort voting01 dev?', user: 'U7' });
    await reply('C0DEV', dev, 'Aborted by <@U7>');
    h.controller.settle('voting01-dev', 'vote');
    await waitFor(() => deploymentOf('dev') && lastStatus('dev').state === 'failure', 'dev failure');

    const [aborted, ...more] = runs('rollout-chatops report: dev');
    expect(more).toEqual([]);
    expect(aborted).toMatchObject({ conclusion: 'failure', external_id: threadKeyOf('dev') });
    expect(aborted!.output.title).toMatch(/^voting01 dev: aborted after \S+$/);
    // Who aborted is recorded just after the patch, so the rollout may show the abort first; the rollout's next changes
    // (the controller scaling the canary down) bring the report up to date, in place.
    const isAbortedByU7 = (l: string) => /\| 👤 aborted.* \| Slack user `U7` \|$/.test(l);
    await waitFor(() => rows(runs('rollout-chatops report: dev')[0]!.output.text).some(isAbortedByU7), 'the report names who aborted');
    expect(rows(aborted!.output.text).at(-1)).toMatch(/🏁 \*\*aborted\*\*/);
    expect(lastStatus('dev')).toMatchObject({ log_url: aborted!.html_url });
    expect(lastStatus('dev').description).toMatch(/^aborted after \S+ \(report in the log link\)/);

    await confirmed({ channel: 'C0DEV', r: dev, command: '/rollout', text: 'retry dev', word: 'retry', question: 'Retry voting01 dev?', user: 'U7' });
    await reply('C0DEV', dev, 'Retried by <@U7>');
    h.controller.settle('voting01-dev', 'vote');
    await reply('C0DEV', dev, 'waiting for promotion');
    await confirmed({ channel: 'C0DEV', r: dev, command: '/promote', text: 'dev', word: 'promote', question: 'Promote voting01 dev?', user: 'U7' });
    await reply('C0DEV', dev, 'Promoted by <@U7>');
    h.controller.settle('voting01-dev', 'vote');
    await waitFor(() => lastStatus('dev').state === 'success', 'dev success after the retry');
    await h.settled();

    const [completed, ...others] = runs('rollout-chatops report: dev');
    expect(others).toEqual([]);
    expect(completed).toMatchObject({ id: aborted!.id, conclusion: 'success' });
    expect(rows(completed!.output.text).some((l) => /\(attempt 2\)/.test(l))).toBe(true);
    expect(rows(completed!.output.text).some(isAbortedByU7)).toBe(true);
    const [create, ...updates] = checkWrites();
    expect(create!.method).toBe('POST');
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.every((c) => c.method === 'PATCH' && c.path.endsWith(`/check-runs/${aborted!.id}`))).toBe(true);
    expect(lastStatus('dev')).toMatchObject({ log_url: completed!.html_url });
  });

  it('keeps posting deployment statuses without checks: write, and logs the fix once', async () => {
    const log = captureLogger();
    await start({ log, permissions: WITHOUT_CHECKS });
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-dev', 'vote');
    await waitFor(() => deploymentOf('dev') && lastStatus('dev').state === 'success', 'dev success');
    await waitFor(() => h.github.commitStatuses(REPO, SHA).at(-1)?.state === 'success', 'dev commit status success');
    await h.settled();

    expect(lastStatus('dev')).toMatchObject({ description: 'completed', log_url: expect.stringContaining('C0DEV') });
    expect(h.github.checkRuns()).toEqual([]);
    expect(checkWrites().map((c) => c.status)).toEqual([403]);
    const lines = log.entries.filter((e) => e.msg === 'GitHub report check run failed');
    expect(lines).toHaveLength(1);
    expect(String(lines[0]!.fields.fix)).toContain('"Checks: write"');

    // Refused for good: a restart does not ask again for this deploy.
    await h.stopBot();
    await h.startBot();
    await h.ready();
    await newerDeployIn(['dev']);
    expect(checkWrites()).toHaveLength(1);
  });
});
