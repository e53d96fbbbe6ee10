import { afterEach, describe, expect, it } from 'vitest';
import { ArgoController } from '../../emulators/argo-controller.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { Harness, messageText, waitFor } from '../support/harness.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const STEPS = [{ setWeight: 50 }, { pause: {} }, { setWeight: 100 }];
const NS = 'voting01-dev';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** Ticks the controller until it has nothing left to do (here: the indefinite pause, or the end). */
function drive(c: ArgoController): void {
  c.settle(NS, 'vote');
}

function promoteByPatch(): Promise<Response> {
  // What `kubectl argo rollouts promote` does at a pause step: clear the pause conditions on the status subresource.
  return fetch(`${h.k8s.url}/apis/argoproj.io/v1alpha1/namespaces/${NS}/rollouts/vote/status`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json', authorization: 'Bearer t' },
    body: JSON.stringify({ status: { pauseConditions: null } }),
  });
}

/** The root card of a revision's thread in #C0DEV. */
function rootOf(revision: number): Promise<SlackMessage> {
  return waitFor(() => h.roots('C0DEV').find((m) => messageText(m).includes(`revision ${revision}`)), `root of revision ${revision}`);
}

async function pausedAt(revision: number, tag: string): Promise<SlackMessage> {
  h.controller.deploy(NS, 'vote', `${IMG}:${tag}`);
  drive(h.controller);
  const root = await rootOf(revision);
  await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('waiting for promotion')), `revision ${revision} paused`);
  return root;
}

describe('how a replaced revision ended', () => {
  it('says a revision watched to the end was superseded, and one that completed while offline completed', async () => {
    h = await Harness.start({ noStart: true });
    h.controller.createCanary({ namespace: NS, name: 'vote', image: `${IMG}:aaaaaaa-1`, steps: STEPS });
    await h.startBot();
    await h.ready();
    const r2 = await pausedAt(2, 'bbbbbbb-2');
    const r3 = await pausedAt(3, 'ccccccc-3');
    await h.settled();
    expect(h.replyTexts('C0DEV', r2.ts).at(-1)).toBe('⏭️ Superseded by revision 3 before it finished.');

    await h.stopBot();
    // While the bot is down revision 3 is promoted to the end, then revision 4 starts.
    await promoteByPatch();
    drive(h.controller);
    h.controller.deploy(NS, 'vote', `${IMG}:ddddddd-4`);
    h.controller.tick(NS, 'vote');
    await h.startBot();
    await h.ready();
    await rootOf(4);
    await waitFor(() => h.replyTexts('C0DEV', r3.ts).length > 2, 'revision 3 told how it ended');
    await h.settled();

    expect(h.replyTexts('C0DEV', r3.ts)).toEqual([
      '✅ Step 1/3 completed (setWeight: 50) · weight 50%.',
      '⏸️ Paused at step 2/3 (weight 50%), waiting for promotion. To continue: `/promote dev`.\n⏸️ Paused at step 2/3 (weight 50%), waiting for promotion. To continue: `/promote dev`.\nPromote',
      '🎉 Revision 3 completed while I was offline; revision 4 has started since.',
    ]);
    const card = messageText(h.slack.message('C0DEV', r3.ts)!);
    expect(card).toContain('*Completed*, this revision is stable');
    expect(card).not.toContain('waiting for promotion');
    expect(h.roots('C0DEV')).toHaveLength(3);
  });

  it('says a revision that ended unseen while offline ended while offline, without saying how', async () => {
    h = await Harness.start({ noStart: true });
    h.controller.createCanary({ namespace: NS, name: 'vote', image: `${IMG}:aaaaaaa-1`, steps: STEPS });
    await h.startBot();
    await h.ready();
    const r2 = await pausedAt(2, 'bbbbbbb-2');
    await h.settled();

    await h.stopBot();
    // Revision 3 replaces revision 2 before it was promoted: its pods never became stable.
    h.controller.deploy(NS, 'vote', `${IMG}:ccccccc-3`);
    h.controller.tick(NS, 'vote');
    await h.startBot();
    await h.ready();
    await rootOf(3);
    await waitFor(() => h.replyTexts('C0DEV', r2.ts).length > 2, 'revision 2 told how it ended');
    await h.settled();

    expect(h.replyTexts('C0DEV', r2.ts)).toEqual([
      '✅ Step 1/3 completed (setWeight: 50) · weight 50%.',
      '⏸️ Paused at step 2/3 (weight 50%), waiting for promotion. To continue: `/promote dev`.\n⏸️ Paused at step 2/3 (weight 50%), waiting for promotion. To continue: `/promote dev`.\nPromote',
      '⏹️ Revision 2 ended while I was offline; revision 3 replaced it.',
    ]);
    expect(messageText(h.slack.message('C0DEV', r2.ts)!)).not.toContain('Completed');
  });
});
