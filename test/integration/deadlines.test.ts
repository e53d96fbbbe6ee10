import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import { sendSlashCommand } from '../../emulators/clients/slack-requests.js';
import { startErrorSimEmulator, type ErrorSimEmulator } from '../../emulators/errorsim-emulator.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { voting01Config } from '../../emulators/world/voting01-config.js';
import { errorSimConfig } from '../support/errorsim-config.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { SkewClock } from '../support/skew-clock.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const MIN = 60_000;

let h: Harness | undefined;
let sim: ErrorSimEmulator | undefined;
afterEach(async () => {
  await h?.close();
  await sim?.close();
  h = undefined;
  sim = undefined;
});

/** The bot on a clock the test moves, with qa a canary at revision 1. */
async function start(config: string, clock = new SkewClock()): Promise<SkewClock> {
  h = await Harness.start({ noStart: true, config, overrides: { clock } });
  h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
  await h.startBot();
  await h.ready();
  return clock;
}

async function qaRoot(): Promise<SlackMessage> {
  return waitFor(() => h!.roots('C0QA')[0], 'qa thread');
}

function repliesWith(root: SlackMessage, text: string): string[] {
  return h!.replyTexts('C0QA', root.ts).filter((t) => t.includes(text));
}

/** `/rollout status qa`, answered in the ack or through the response URL. */
async function status(): Promise<string> {
  const before = h!.slack.responses.length;
  const res = await sendSlashCommand(h!.sender, { command: '/rollout', text: 'status qa', userId: 'U0DEV', channelId: 'C0QA', responseUrl: h!.slack.newResponseUrl({ channel: 'C0QA', user: 'U0DEV' }) });
  const acked = res.body ? res.json<{ text?: string }>().text : undefined;
  if (acked) return acked;
  const answer = await waitFor(() => h!.slack.responses.slice(before).find((r) => r.body?.text), 'status answer');
  return String(answer.body.text);
}

describe('deadlines on time', () => {
  it('sends a promotion reminder at its moment, not before and not at the next sweep', async () => {
    sim = await startErrorSimEmulator();
    const clock = await start(errorSimConfig(sim.url, { reminders: '30m' }));
    h!.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
    h!.controller.settle('voting01-qa', 'vote');
    const root = await qaRoot();
    await waitFor(() => repliesWith(root, 'waiting for promotion').length > 0, 'waiting');
    await h!.settled();
    // The wait started when the controller paused (its startTime, to the second), so the reminder is due 30m after that.
    const dueAt = Date.parse(h!.k8s.get('voting01-qa', 'vote').status.pauseConditions[0].startTime) + 30 * MIN;

    clock.skip(dueAt - clock.now() - 1000);
    await h!.settled();
    expect(repliesWith(root, 'Reminder')).toEqual([]);

    clock.skip(2000);
    await waitFor(() => repliesWith(root, 'Reminder').length === 1, 'the reminder right after its moment', 1000);
  });

  it('warns of a timeout at its moment, not before', async () => {
    const clock = await start(voting01Config({ qa: ['timeout: 10m'] }));
    h!.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`); // stays at step 1 (setWeight 10)
    const root = await qaRoot();
    await h!.settled();

    clock.skip(10 * MIN - 1000);
    await h!.settled();
    expect(repliesWith(root, 'timeout')).toEqual([]);

    clock.skip(2000);
    await waitFor(() => repliesWith(root, 'timeout').length === 1, 'the timeout warning right after its moment', 1000);
  });
});

describe('aborts say why in numbers', () => {
  it('names the failing metric, its measured values and its condition in the abort reply', async () => {
    await start(voting01Config({}));
    h!.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
    const root = await qaRoot();
    h!.controller.failAnalysis('voting01-qa', 'vote', { kind: 'background', metric: { name: 'success-rate', values: ['0.82', '0.79'], successCondition: 'result[0] >= 0.95' } });
    const abort = await waitFor(() => repliesWith(root, 'Aborted')[0], 'abort reply');
    // As a person reads it: Slack shows the escaped `&gt;` as `>`.
    expect(abort.replaceAll('&gt;', '>')).toContain('Measured: success-rate = 0.82, 0.79 (needs result[0] >= 0.95)');
    expect(h!.k8s.calls.some((c) => c.method === 'GET' && c.path.endsWith('/analysisruns/' + String(h!.k8s.get('voting01-qa', 'vote').status.canary.currentBackgroundAnalysisRunStatus.name)))).toBe(true);
  });
});

describe('the state shown is the state Argo would show', () => {
  it('shows Progressing, waiting for the spec update to be observed, on the card and in status, and announces nothing', async () => {
    await start(voting01Config({}));
    h!.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
    const root = await qaRoot();
    await h!.settled();
    const repliesBefore = h!.replyTexts('C0QA', root.ts).length;

    h!.k8s.mutate('voting01-qa', 'vote', (ro) => {
      ro.spec.paused = true;
    });
    await waitFor(() => messageText(h!.slack.message('C0QA', root.ts)!).includes('waiting for rollout spec update to be observed'), 'card shows the Argo phase');
    expect(await status()).toContain('Progressing: waiting for rollout spec update to be observed');
    await h!.settled();
    expect(h!.replyTexts('C0QA', root.ts)).toHaveLength(repliesBefore);
  });

  it('stops showing a deleted rollout as current', async () => {
    await start(voting01Config({}));
    h!.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
    const root = await qaRoot();
    await h!.settled();
    h!.k8s.remove('voting01-qa', 'vote');
    await waitFor(() => messageText(h!.slack.message('C0QA', root.ts)!).includes('no longer in the cluster'), 'card says deleted');
    expect(await status()).toContain('Deleted: the rollout is no longer in the cluster');
  });
});
