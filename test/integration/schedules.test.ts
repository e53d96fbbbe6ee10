import { afterEach, describe, expect, it } from 'vitest';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import { startErrorSimEmulator, type ErrorSimEmulator } from '../../emulators/errorsim-emulator.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { errorSimConfig } from '../support/errorsim-config.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { SkewClock } from '../support/skew-clock.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const SHA = 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b';
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

/** How many periodic sweeps have finished, from /metrics. */
async function sweeps(): Promise<number> {
  const text = await (await fetch(`${h!.app!.url}/metrics`)).text();
  const m = /rollout_chatops_scheduled_runs_total\{job="sweep"\} (\d+)/.exec(text);
  return m ? Number(m[1]) : 0;
}

/** Moves the clock and waits until the sweep that became due has run and its messages went out. */
async function skipAndSweep(clock: SkewClock, ms: number): Promise<void> {
  const before = await sweeps();
  clock.skip(ms);
  await waitFor(async () => (await sweeps()) > before, 'a sweep');
  await h!.settled();
}

function reminders(root: SlackMessage): string[] {
  return h!.replyTexts('C0QA', root.ts).filter((t) => t.includes('Reminder') || t.includes('reminder'));
}

describe('promotion reminders', () => {
  it('reminds once after 30m and once more at 4x, never more, also across a restart', async () => {
    const clock = new SkewClock();
    sim = await startErrorSimEmulator();
    h = await Harness.start({ noStart: true, config: errorSimConfig(sim.url), overrides: { clock } });
    h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
    await h.startBot();
    await h.ready();
    h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-qa', 'vote');
    const root = await waitFor(() => h!.roots('C0QA')[0], 'qa thread');
    await waitFor(() => h!.replyTexts('C0QA', root.ts).some((t) => t.includes('waiting for promotion')), 'waiting');

    await skipAndSweep(clock, 29 * MIN);
    expect(reminders(root)).toEqual([]);

    await skipAndSweep(clock, 2 * MIN);
    expect(reminders(root)).toHaveLength(1);
    expect(reminders(root)[0]).toContain('voting01 qa has been waiting for promotion for 31m');
    expect(reminders(root)[0]).toContain('/promote qa');

    await h.stopBot();
    await h.startBot();
    await h.ready();
    await skipAndSweep(clock, 30 * MIN);
    expect(reminders(root)).toHaveLength(1);

    await skipAndSweep(clock, 60 * MIN);
    expect(reminders(root)).toHaveLength(2);
    expect(reminders(root)[1]).toContain('Last reminder');
    expect(reminders(root)[1]).toContain('2h');

    await skipAndSweep(clock, 10 * 60 * MIN);
    await skipAndSweep(clock, 24 * 60 * MIN);
    expect(reminders(root)).toHaveLength(2);
  });
});

describe('daily digest', () => {
  it('posts each environment with its tag, author, age and state to the digest channel', async () => {
    sim = await startErrorSimEmulator();
    const digest = 'digest: { cron: "* * * * * *", channel: C0DEPLOYS }\n';
    h = await Harness.start({ noStart: true, config: errorSimConfig(sim.url, { digest }) });
    h.github.addCommit('acme/voting01', { sha: SHA, message: 'Speed up the tally', author: { name: 'Katherine Johnson', email: 'kj@example.com', login: 'kjohnson' } });
    h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
    h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
    await h.startBot();
    await h.ready();
    h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-qa', 'vote');
    const root = await waitFor(() => h!.roots('C0QA')[0], 'qa thread');
    await waitFor(() => messageText(h!.slack.message('C0QA', root.ts)!).includes('Katherine Johnson'), 'commit paired');

    const posted = await waitFor(
      // The digest runs every second; wait for one taken after qa reached its pause, not one from the moment before.
      () => h!.slack.channelMessages('C0DEPLOYS', { includeBroadcasts: false }).find((m) => messageText(m).includes('Katherine Johnson') && messageText(m).includes('waiting for promotion')),
      'digest with the paired commit',
      15_000,
    );
    const text = messageText(posted);
    expect(text).toContain('Deploy digest');
    expect(text).toContain('voting01');
    expect(text).toMatch(/\*dev\* · `0000000-1` · author unknown · deployed before I watched · ✅ stable/);
    expect(text).toMatch(/\*qa\* · `ea11a24-20260129125607` · Katherine Johnson \(@kjohnson\) · just now · ⏸ waiting for promotion/);
    expect(text).toContain('*staging* · ⚠️ rollout not found');
    expect(posted.threadTs).toBeUndefined();
  });
});
