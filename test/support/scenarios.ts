import { STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { type Harness, messageText, waitFor } from './harness.js';

/** Shared set-ups for integration tests. Each takes a Harness started with `noStart: true` and drives it. */

export const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
export const TAG = 'ea11a24-20260129125607';

function root(h: Harness, channel: string): Promise<SlackMessage> {
  return waitFor(() => h.roots(channel)[0], `root in ${channel}`);
}

function reply(h: Harness, channel: string, r: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies(channel, r.ts).find((m) => messageText(m).includes(text)), `reply "${text}" in ${channel}`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

/**
 * qa (a one-step canary) completes TAG, so it is proven; staging's blue-green preview then waits for promotion.
 * `waitText` is the staging reply waited for (default 'waiting for promotion').
 */
export async function stagingWaiting(h: Harness, o: { waitText?: string } = {}): Promise<{ qa: SlackMessage; staging: SlackMessage }> {
  h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
  h.controller.createBlueGreen({ namespace: 'voting01-staging', name: 'vote', image: `${IMG}:0000000-1`, autoPromotionEnabled: false });
  h.ecr.addImage('voting01-vote', TAG);
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-qa', 'vote');
  const qa = await root(h, 'C0QA');
  await reply(h, 'C0QA', qa, 'Completed');
  h.controller.deploy('voting01-staging', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-staging', 'vote');
  const staging = await root(h, 'C0STAGING');
  await reply(h, 'C0STAGING', staging, o.waitText ?? 'waiting for promotion');
  return { qa, staging };
}

/** dev (a one-step canary) completes TAG, so it is proven; qa then runs the standard canary to its first pause. */
export async function qaWaiting(h: Harness, o: { waitText?: string } = {}): Promise<{ dev: SlackMessage; qa: SlackMessage }> {
  h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
  h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: STANDARD_CANARY_STEPS });
  h.ecr.addImage('voting01-vote', TAG);
  await h.startBot();
  await h.ready();
  h.controller.deploy('voting01-dev', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-dev', 'vote');
  const dev = await root(h, 'C0DEV');
  await reply(h, 'C0DEV', dev, 'Completed');
  h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
  h.controller.settle('voting01-qa', 'vote');
  const qa = await root(h, 'C0QA');
  await reply(h, 'C0QA', qa, o.waitText ?? 'waiting for promotion');
  return { dev, qa };
}
