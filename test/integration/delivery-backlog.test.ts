import { afterEach, describe, expect, it } from 'vitest';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { SkewClock } from '../support/skew-clock.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const SIX_STEPS = [10, 20, 30, 40, 50, 60].map((setWeight) => ({ setWeight }));

let h: Harness;
afterEach(async () => {
  await h?.close();
});

async function metric(name: string): Promise<number> {
  const text = await (await fetch(`${h.app!.url}/metrics`)).text();
  return [...text.matchAll(new RegExp(`^${name}(?:\\{[^}]*\\})? ([0-9.eE+-]+)$`, 'gm'))].reduce((n, m) => n + Number(m[1]), 0);
}

describe('a channel with a backlog', () => {
  it('folds step progress into the status card, keeps the news people act on, and shows the final state', async () => {
    const clock = new SkewClock();
    h = await Harness.start({ noStart: true, overrides: { clock } });
    h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:aaaaaaa-1`, steps: SIX_STEPS });
    // Two posts a channel and none more until the test moves the clock: a backlog forms at once. Card updates are free.
    await h.startBot({ clock, pacing: { postsPerSecond: 0.001, postBurst: 2, updatesPerSecond: 200, updateBurst: 50 } });
    await h.ready();

    h.controller.deploy('voting01-dev', 'vote', `${IMG}:ea11a24-20260129125607`);
    h.controller.settle('voting01-dev', 'vote');
    const root = await waitFor(() => h.roots('C0DEV')[0], 'root card');
    // The card catches up to the end at once; the step progress it shows leaves the outbox unposted.
    await waitFor(() => messageText(h.slack.message('C0DEV', root.ts)!).includes('Completed') || undefined, 'card shows the completion');
    await waitFor(async () => (await metric('rollout_chatops_replies_folded_total')) >= 4, 'step progress folded', 5000);

    // Posts come back: what is left (the completion) goes out, and nothing folded comes back.
    clock.skip(10_000_000);
    await waitFor(() => h.replyTexts('C0DEV', root.ts).find((t) => t.includes('🎉 Completed')), 'completion reply');
    await h.settled();
    const replies = h.replyTexts('C0DEV', root.ts);
    const stepLines = replies.flatMap((t) => t.split('\n')).filter((l) => /Step \d\/6 completed/.test(l));
    expect(stepLines.length).toBeLessThanOrEqual(6 - 4);
    expect(replies.at(-1)).toContain('🎉 Completed');
    expect(messageText(h.slack.message('C0DEV', root.ts)!)).toContain('Completed');
    expect(h.slack.calls.filter((c) => c.status === 429)).toEqual([]);
  });
});
