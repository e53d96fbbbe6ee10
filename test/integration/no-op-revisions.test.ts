import { afterEach, describe, expect, it } from 'vitest';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { SkewClock } from '../support/skew-clock.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/shop';
const STEPS = [{ setWeight: 50 }];
/** What an Argo Rollouts upgrade writes into every Rollout's pod template. */
const UPGRADE = { 'rollouts.argoproj.io/managed-by': 'argo-rollouts-v1.8' };

/** Three apps whose prod environments share one channel. */
const CONFIG = `
apps:
${['web', 'api', 'worker'].map((name) => `  - name: ${name}
    repo: acme/voting01
    image:
      ecrRepository: shop
    environments:
      - name: prod
        namespace: ${name}-prod
        rollout: ${name}
        slackChannel: C0PROD`).join('\n')}
`;

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** Top-level messages of the channel that are deploy threads' cards (notes carry no thread). */
function cards(): string[] {
  return h.roots('C0PROD').map(messageText).filter((t) => t.includes('revision') && !t.startsWith('ℹ️'));
}

function notes(): string[] {
  return h.roots('C0PROD').map(messageText).filter((t) => t.startsWith('ℹ️'));
}

/** Waits until the bot has applied what the cluster shows and sent what it queued. */
async function caughtUp(): Promise<void> {
  await new Promise((r) => setTimeout(r, 150));
  await h.settled();
}

async function start(): Promise<SkewClock> {
  const clock = new SkewClock();
  h = await Harness.start({ noStart: true, config: CONFIG, overrides: { clock } });
  for (const name of ['web', 'api', 'worker']) h.controller.createCanary({ namespace: `${name}-prod`, name, image: `${IMG}:aaaaaaa-1`, steps: STEPS });
  await h.startBot();
  await h.ready();
  return clock;
}

describe('revisions that change no image', () => {
  it('opens no thread for three rollouts whose pod template metadata changed, and says so in one note', async () => {
    const clock = await start();
    // web deploys for real first: its thread completes, the stable revision the no-op is compared with.
    h.controller.deploy('web-prod', 'web', `${IMG}:bbbbbbb-2`);
    h.controller.settle('web-prod', 'web');
    const webRoot = await waitFor(() => h.roots('C0PROD')[0], 'web root card');
    await waitFor(() => h.replyTexts('C0PROD', webRoot.ts).some((t) => t.includes('Completed')), 'web completed');
    await caughtUp();
    const webReplies = h.replyTexts('C0PROD', webRoot.ts);

    // The upgrade rewrites all three (api and worker were settled at first sight: their baseline is the stable one).
    for (const name of ['web', 'api', 'worker']) {
      h.controller.annotateTemplate(`${name}-prod`, name, UPGRADE);
      h.controller.settle(`${name}-prod`, name);
      expect(h.k8s.get(`${name}-prod`, name).metadata.annotations['rollout.argoproj.io/revision']).toBe(name === 'web' ? '3' : '2');
    }
    await caughtUp();
    expect(cards()).toHaveLength(1);
    expect(notes()).toHaveLength(0); // the window is still open

    clock.skip(30_000);
    const note = await waitFor(() => notes()[0], 'the no-op note');
    await caughtUp();
    expect(notes()).toHaveLength(1);
    expect(note).toContain('3 rollouts got a new revision that runs the same images');
    expect(note).toContain('web · prod: `web-prod/web` revision 3');
    expect(note).toContain('api · prod: `api-prod/api` revision 2');
    expect(note).toContain('worker · prod: `worker-prod/worker` revision 2');
    // The stable revision's thread is neither replaced nor superseded, and still shows what runs.
    expect(cards()).toHaveLength(1);
    expect(h.replyTexts('C0PROD', webRoot.ts)).toEqual(webReplies);
    const card = messageText(h.slack.message('C0PROD', webRoot.ts)!);
    expect(card).toContain('Completed');
    expect(card).toContain('bbbbbbb-2');
    expect(card).not.toContain('waiting for rollout spec update');

    // A real deploy of a new tag still opens its thread.
    h.controller.deploy('api-prod', 'api', `${IMG}:ccccccc-3`);
    h.controller.settle('api-prod', 'api');
    await waitFor(() => cards().find((t) => t.includes('ccccccc-3')), 'api deploy card');
    await caughtUp();
    expect(cards()).toHaveLength(2);
    expect(notes()).toHaveLength(1);
  });

  it('does not repeat the note after a restart, nor open threads for the same revisions', async () => {
    const clock = await start();
    for (const name of ['web', 'api', 'worker']) {
      h.controller.annotateTemplate(`${name}-prod`, name, UPGRADE);
      h.controller.settle(`${name}-prod`, name);
    }
    await caughtUp();
    clock.skip(30_000);
    await waitFor(() => notes()[0], 'the no-op note');
    await caughtUp();

    await h.stopBot();
    await h.startBot();
    await h.ready();
    await caughtUp();
    clock.skip(60_000);
    await caughtUp();
    expect(notes()).toHaveLength(1);
    expect(cards()).toHaveLength(0);
  });

  it('sends a note still due when the bot restarted inside the window', async () => {
    const clock = await start();
    h.controller.annotateTemplate('web-prod', 'web', UPGRADE);
    h.controller.tick('web-prod', 'web'); // seen while still rolling out
    await caughtUp();
    await h.stopBot();
    h.controller.settle('web-prod', 'web');
    await h.startBot();
    await h.ready();
    await caughtUp();
    clock.skip(30_000);
    const note = await waitFor(() => notes()[0], 'the no-op note after a restart');
    await caughtUp();
    expect(note).toContain('A new revision runs the same images as the stable one');
    expect(note).toContain('`web-prod/web` revision 2');
    expect(notes()).toHaveLength(1);
    expect(cards()).toHaveLength(0);
  });
});
