import { afterEach, describe, expect, it } from 'vitest';
import type { Timer } from '../../src/core/ports.js';
import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { SkewClock } from '../support/skew-clock.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';

/**
 * The first run's clock. `crash()` is the instant the process dies: from then on no timer of the bot runs, so it never
 * gets to look the lost post up or retry it; what it had flushed (the entry marked attempted) is all the next run has.
 */
class CrashClock extends SkewClock {
  private dead = false;
  crash(): void {
    this.dead = true;
  }
  override setTimer(ms: number, fn: () => void): Timer {
    return super.setTimer(ms, () => {
      if (!this.dead) fn();
    });
  }
}

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** Waits until the bot's own metrics count a Slack call with this outcome: the bot has taken the answer in. */
async function sawCall(method: string, outcome: string): Promise<void> {
  await waitFor(async () => {
    const text = await (await fetch(`${h.app!.url}/metrics`)).text();
    return new RegExp(`rollout_chatops_slack_calls_total\\{method="${method.replace('.', '\\.')}",outcome="${outcome}"\\} [1-9]`).test(text);
  }, `${method} ${outcome} taken in`);
}

/** Keys carried by the bot's messages of a channel (thread replies included), one per key. */
function keysOf(messages: SlackMessage[]): string[] {
  return messages.flatMap((m) => String(m.metadata?.event_payload.key ?? '').split(' ').filter(Boolean));
}

/**
 * Starts the bot, lets `act` make it post, and kills it the moment Slack has accepted the post matched by `match` but
 * before its answer arrives: the outbox holds the entry as attempted, with no ts. Then stops what is left of the run.
 */
async function crashAfterPost(o: { clock: CrashClock; match: (args: Record<string, unknown>) => boolean; act: () => void }): Promise<void> {
  let crashed = false;
  h.slack.dropResponses({ method: 'chat.postMessage', match: o.match, onDropped: () => {
    o.clock.crash();
    crashed = true;
  } });
  o.act();
  await waitFor(() => crashed, 'the post accepted by Slack, its answer lost');
  await h.stopBot();
}

describe('an entry in doubt after a restart', () => {
  it('waits out a 429 on the read-back and posts the root card once, then the thread goes on', async () => {
    const first = new CrashClock();
    h = await Harness.start({ noStart: true, overrides: { clock: first } });
    h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:aaaaaaa-1`, steps: STANDARD_CANARY_STEPS });
    await h.startBot();
    await h.ready();
    await h.settled(); // the "not found" notices of qa and staging

    await crashAfterPost({
      clock: first,
      match: (args) => args.channel === 'C0DEV' && args.thread_ts === undefined,
      act: () => {
        h.controller.deploy('voting01-dev', 'vote', `${IMG}:ea11a24-20260129125607`);
        h.controller.tick('voting01-dev', 'vote');
      },
    });
    expect(h.roots('C0DEV')).toHaveLength(1);
    expect(h.slack.callsTo('conversations.history')).toHaveLength(0);

    h.slack.rateLimit({ method: 'conversations.history', count: 1, retryAfter: 30 });
    const second = new SkewClock();
    await h.startBot({ clock: second });
    await h.ready();
    await sawCall('conversations.history', 'rate_limited');
    // Told to wait 30 s: nothing was read, so nothing is posted.
    expect(h.roots('C0DEV')).toHaveLength(1);
    expect(h.slack.callsTo('chat.postMessage').filter((c) => c.args.channel === 'C0DEV')).toHaveLength(1);

    second.skip(30_000);
    await waitFor(() => h.slack.callsTo('conversations.history').length === 2, 'read back again after Retry-After');
    const root = h.roots('C0DEV')[0]!;
    await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('Step 1/7 completed')), 'step 1 in the found thread');
    h.controller.tick('voting01-dev', 'vote');
    await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('waiting for promotion')), 'the thread goes on');
    await h.settled();

    expect(h.roots('C0DEV')).toHaveLength(1);
    expect(h.slack.callsTo('conversations.history').map((c) => c.status)).toEqual([429, 200]);
    const keys = keysOf([...h.roots('C0DEV'), ...h.slack.replies('C0DEV', root.ts)]);
    expect(new Set(keys).size).toBe(keys.length);
    expect(h.replyTexts('C0DEV', root.ts).filter((t) => t.includes('waiting for promotion'))).toHaveLength(1);
    expect(messageText(h.slack.message('C0DEV', root.ts)!)).toContain('Paused at step 2/7 (pause), waiting for promotion');
  });

  it('retries an ok:false read-back with backoff and broadcasts the abort once', async () => {
    const first = new CrashClock();
    h = await Harness.start({ noStart: true, overrides: { clock: first } });
    h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:aaaaaaa-1`, steps: STANDARD_CANARY_STEPS, backgroundAnalysis: true });
    await h.startBot();
    await h.ready();
    h.controller.deploy('voting01-qa', 'vote', `${IMG}:ccccccc-3`);
    h.controller.tick('voting01-qa', 'vote');
    const root = await waitFor(() => h.roots('C0QA')[0], 'root card');
    await h.settled();

    await crashAfterPost({
      clock: first,
      match: (args) => args.channel === 'C0QA' && String(args.text).includes('Aborted'),
      act: () => {
        h.controller.failAnalysis('voting01-qa', 'vote', { kind: 'background', message: 'metric "error-rate" assessed Failed' });
        h.controller.settle('voting01-qa', 'vote');
      },
    });
    const broadcasts = () => h.slack.channelMessages('C0QA').filter((m) => m.replyBroadcast && messageText(m).includes('Aborted'));
    expect(broadcasts()).toHaveLength(1);

    h.slack.failNext({ method: 'conversations.replies', count: 1, error: 'internal_error' });
    const second = new SkewClock();
    await h.startBot({ clock: second });
    await h.ready();
    await sawCall('conversations.replies', 'error');
    // Slack did not answer the question: the abort is still in doubt, not "not posted".
    expect(broadcasts()).toHaveLength(1);
    expect(h.slack.callsTo('chat.postMessage').filter((c) => String(c.args.text).includes('Aborted'))).toHaveLength(1);

    second.skip(1_000);
    await waitFor(() => h.slack.callsTo('conversations.replies').length === 2, 'read back again after the backoff');
    await waitFor(() => messageText(h.slack.message('C0QA', root.ts)!).includes('Aborted'), 'card shows the abort');
    await h.settled();

    expect(broadcasts()).toHaveLength(1);
    expect(h.slack.callsTo('conversations.replies').map((c) => (c.response as { ok: boolean }).ok)).toEqual([false, true]);
    const keys = keysOf(h.slack.replies('C0QA', root.ts));
    expect(new Set(keys).size).toBe(keys.length);
    expect(h.roots('C0QA')).toHaveLength(1);
  });
});
