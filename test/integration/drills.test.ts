import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import { startErrorSimEmulator, type ErrorSimEmulator } from '../../emulators/errorsim-emulator.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { errorSimConfig } from '../support/errorsim-config.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { SkewClock } from '../support/skew-clock.js';
import { sendSlashCommand } from '../../emulators/clients/slack-requests.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const LEAD = 'U0LEAD';

let h: Harness | undefined;
let sim: ErrorSimEmulator | undefined;
afterEach(async () => {
  await h?.close();
  await sim?.close();
  h = undefined;
  sim = undefined;
});

/** qa's canary in progress: at its first pause (`settle`), or in its first step only (`started`). */
async function qaCanary(o: { clock: SkewClock; steps?: readonly object[]; progress?: 'settle' | 'started' }): Promise<SlackMessage> {
  sim = await startErrorSimEmulator();
  h = await Harness.start({ noStart: true, config: errorSimConfig(sim.url), overrides: { clock: o.clock } });
  h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: o.steps ?? STANDARD_CANARY_STEPS });
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
  if ((o.progress ?? 'settle') === 'settle') h.controller.settle('voting01-qa', 'vote');
  const root = await waitFor(() => h!.roots('C0QA')[0], 'qa thread');
  await h.settled();
  return root;
}

async function reply(root: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h!.slack.replies('C0QA', root.ts).find((m) => messageText(m).includes(text)), `reply "${text}"`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h!.slack.transcript()}`);
  });
}

async function drill(env = 'qa', user = LEAD): Promise<string> {
  const before = h!.slack.responses.length;
  const res = await sendSlashCommand(h!.sender, { command: '/rollout', text: `drill ${env}`, userId: user, channelId: 'C0QA', responseUrl: h!.slack.newResponseUrl({ channel: 'C0QA', user }) });
  expect(res.status).toBe(200);
  const answer = await waitFor(() => h!.slack.responses.slice(before).find((r) => r.body?.text), 'drill answer');
  return String(answer.body.text);
}

describe('/rollout drill', () => {
  it('passes when the analysis fails and the rollout aborts back to stable, then switches errors off and reports the timeline', async () => {
    const clock = new SkewClock();
    const root = await qaCanary({ clock });
    const answer = await drill();
    expect(answer).toContain('Rollback drill started in voting01 qa');
    await reply(root, 'Rollback drill* started by <@U0LEAD>');
    expect(sim!.enabled).toBe(true);
    expect(sim!.calls.map((c) => c.method)).toEqual(['GET', 'POST', 'GET']);

    clock.skip(90_000);
    h!.controller.failAnalysis('voting01-qa', 'vote');
    const report = messageText(await reply(root, 'Rollback drill report'));
    expect(report).toContain('PASSED');
    const order = ['errors on', 'analysis failed', 'aborted', 'stable restored', 'errors off'].map((step) => report.indexOf(step));
    expect(order.every((i) => i >= 0)).toBe(true);
    expect([...order].sort((a, b) => a - b)).toEqual(order);
    expect(report).toMatch(/to detect 1m3\ds/);
    expect(report).toContain('Verdict');
    expect(sim!.enabled).toBe(false);
    expect(sim!.count('POST')).toBe(2);
    expect(sim!.unexpected()).toEqual([]);
  });

  it('fails when the rollout completes despite the errors, and still switches errors off', async () => {
    const clock = new SkewClock();
    const root = await qaCanary({ clock, steps: [{ setWeight: 50 }, { setWeight: 100 }], progress: 'started' });
    await drill();
    await reply(root, 'Rollback drill* started');
    h!.controller.settle('voting01-qa', 'vote');
    const report = messageText(await reply(root, 'Rollback drill report'));
    expect(report).toContain('FAILED');
    expect(report).toContain('rollout completed');
    expect(report).toContain('analysis failed: not seen');
    expect(sim!.enabled).toBe(false);
    expect(sim!.count('POST')).toBe(2);
  });

  it('fails when nothing happens within the environment timeout', async () => {
    const clock = new SkewClock();
    const root = await qaCanary({ clock });
    await drill();
    await reply(root, 'Rollback drill* started');
    clock.skip(10 * 60_000 + 1000);
    const report = messageText(await reply(root, 'Rollback drill report'));
    expect(report).toContain('FAILED');
    expect(report).toContain('nothing happened within 10m');
    expect(sim!.enabled).toBe(false);
  });

  it('fails when someone switches errors off before the rollout aborts', async () => {
    const clock = new SkewClock();
    const root = await qaCanary({ clock });
    await drill();
    await reply(root, 'Rollback drill* started');
    const before = h!.slack.responses.length;
    await sendSlashCommand(h!.sender, { command: '/errors', text: 'off qa', userId: LEAD, channelId: 'C0QA', responseUrl: h!.slack.newResponseUrl({ channel: 'C0QA', user: LEAD }) });
    await waitFor(() => h!.slack.responses.slice(before).find((r) => String(r.body?.text).includes('now *off*')), 'errors off');
    clock.skip(5000);
    const report = messageText(await reply(root, 'Rollback drill report'));
    expect(report).toContain('FAILED');
    expect(report).toContain('errors were switched off before the rollout aborted or completed');
    expect(sim!.count('POST')).toBe(2);
  });

  it('goes on after a restart and still reports', async () => {
    const clock = new SkewClock();
    const root = await qaCanary({ clock });
    await drill();
    await reply(root, 'Rollback drill* started');
    await h!.stopBot();
    await h!.startBot();
    await h!.ready();
    h!.controller.failAnalysis('voting01-qa', 'vote');
    const report = messageText(await reply(root, 'Rollback drill report'));
    expect(report).toContain('PASSED');
    expect(sim!.enabled).toBe(false);
    await h!.settled();
    expect(h!.replyTexts('C0QA', root.ts).filter((t) => t.includes('Rollback drill report'))).toHaveLength(1);
  });

  it('refuses when no canary is in progress, without touching the endpoint', async () => {
    sim = await startErrorSimEmulator();
    h = await Harness.start({ noStart: true, config: errorSimConfig(sim.url), overrides: { clock: new SkewClock() } });
    h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
    await h.startBot();
    await h.ready();
    const answer = await drill();
    expect(answer).toContain('No canary in progress in voting01 qa');
    expect(sim.calls).toEqual([]);
  });

  it('never runs where error simulation is not configured', async () => {
    const clock = new SkewClock();
    await qaCanary({ clock });
    const answer = await drill('dev');
    expect(answer).toContain('not configured for voting01 dev');
    expect(answer).toContain('voting01 qa');
    expect(sim!.calls).toEqual([]);
  });

  it('refuses someone who is not an approver', async () => {
    const clock = new SkewClock();
    await qaCanary({ clock });
    const answer = await drill('qa', 'U1');
    expect(answer).toContain('only approvers of voting01 qa');
    expect(sim!.calls).toEqual([]);
  });
});
