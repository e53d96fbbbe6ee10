import { afterEach, describe, expect, it } from 'vitest';
import { ArgoController, STANDARD_CANARY_STEPS } from '../../emulators/argo-controller.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { sendSlashCommand, sendSigned } from '../../emulators/clients/slack-requests.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

/** A controller whose clock the test moves, so timed pauses expire without waiting. */
function timedController(harness: Harness) {
  let offset = 0;
  const controller = new ArgoController(harness.k8s, { now: () => new Date(Date.now() + offset) });
  return { controller, skip: (ms: number) => (offset += ms) };
}

/** Ticks the controller until it has nothing to do, moving time past timed pauses. */
function drive(c: ArgoController, skip: (ms: number) => void, ns: string, name = 'vote', max = 40): string[] {
  const log: string[] = [];
  for (let i = 0; i < max; i++) {
    let did = c.tick(ns, name);
    if (!did) {
      skip(60_000);
      did = c.tick(ns, name);
    }
    if (!did) break;
    log.push(did);
  }
  return log;
}

function promoteByPatch(harness: Harness, ns: string, name = 'vote') {
  // What `kubectl argo rollouts promote` does at a pause step: clear the pause conditions on the status subresource.
  return fetch(`${harness.k8s.url}/apis/argoproj.io/v1alpha1/namespaces/${ns}/rollouts/${name}/status`, {
    method: 'PATCH',
    headers: { 'content-type': 'application/merge-patch+json', authorization: 'Bearer t' },
    body: JSON.stringify({ status: { pauseConditions: null } }),
  });
}

describe('one Slack thread per deploy', () => {
  it('tells an 8-step canary story to completion in one thread', async () => {
    h = await Harness.start({ noStart: true });
    const { controller, skip } = timedController(h);
    controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:aaaaaaa-1`, steps: STANDARD_CANARY_STEPS });
    await h.startBot();
    await h.ready();

    controller.deploy('voting01-dev', 'vote', `${IMG}:ea11a24-20260129125607`);
    drive(controller, skip, 'voting01-dev'); // runs to the indefinite pause
    const root = await waitFor(() => h.roots('C0DEV')[0], 'root card');
    await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('waiting for promotion')), 'paused reply');

    await promoteByPatch(h, 'voting01-dev');
    drive(controller, skip, 'voting01-dev');
    await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('Completed')), 'completed reply', 8000);
    await h.settled();

    expect(h.roots('C0DEV')).toHaveLength(1);
    const replies = h.replyTexts('C0DEV', root.ts).join('\n');
    expect(replies).toContain('Step 1/7 completed (setWeight: 10) · weight 10%');
    expect(replies).toMatch(/Paused at step 2\/7 \(weight 10%\), waiting for promotion/);
    expect(replies).toContain('Step 2/7 completed (pause)');
    expect(replies).toContain('Step 3/7 completed (setWeight: 30) · weight 30%');
    expect(replies).toContain('Step 7/7 completed (setWeight: 100) · weight 100%');
    expect(replies).toContain('Completed: revision 2 is now stable');
    const card = messageText(h.slack.message('C0DEV', root.ts)!);
    expect(card).toContain('voting01 · dev · revision 2');
    expect(card).toContain('ea11a24-20260129125607');
    expect(card).toContain('Completed');
    // Each announcement once.
    const keys = h.slack.replies('C0DEV', root.ts).flatMap((m) => String(m.metadata?.event_payload.key).split(' '));
    expect(new Set(keys).size).toBe(keys.length);
  });

  it('announces a blue-green preview waiting for promotion with both URLs, broadcast to the channel', async () => {
    h = await Harness.start({ noStart: true });
    h.controller.createBlueGreen({ namespace: 'voting01-staging', name: 'vote', image: `${IMG}:aaaaaaa-1`, autoPromotionEnabled: false });
    await h.startBot();
    await h.ready();
    h.controller.deploy('voting01-staging', 'vote', `${IMG}:bbbbbbb-2`);
    h.controller.settle('voting01-staging', 'vote');

    const root = await waitFor(() => h.roots('C0STAGING')[0], 'root card');
    const waiting = await waitFor(
      () => h.slack.replies('C0STAGING', root.ts).find((m) => messageText(m).includes('Preview ready, waiting for promotion')),
      'preview ready reply',
    ).catch((err) => { throw new Error(`${err.message}\n${h.slack.transcript()}`); });
    const text = messageText(waiting);
    expect(text).toContain('https://vote-voting01-staging-preview.example.com');
    expect(text).toContain('https://vote-voting01-staging.example.com');
    expect(waiting.replyBroadcast).toBe(true);
    await h.settled();
    const card = messageText(h.slack.message('C0STAGING', root.ts)!);
    expect(card).toContain('Preview ready, waiting for promotion');
    expect(card).toContain('bbbbbbb-2');
  });

  it('reports an abort by a failed analysis with its reason, broadcast', async () => {
    h = await Harness.start({ noStart: true });
    h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:aaaaaaa-1`, steps: STANDARD_CANARY_STEPS, backgroundAnalysis: true });
    await h.startBot();
    await h.ready();
    h.controller.deploy('voting01-qa', 'vote', `${IMG}:ccccccc-3`);
    h.controller.tick('voting01-qa', 'vote');
    h.controller.failAnalysis('voting01-qa', 'vote', { kind: 'background', message: 'metric "error-rate" assessed Failed due to failed (1) > failureLimit (0)' });
    h.controller.settle('voting01-qa', 'vote');

    const root = await waitFor(() => h.roots('C0QA')[0], 'root card');
    const aborted = await waitFor(() => h.slack.replies('C0QA', root.ts).find((m) => messageText(m).includes('Aborted')), 'abort reply');
    expect(messageText(aborted)).toContain('Background analysis phase failed');
    expect(messageText(aborted)).toContain('error-rate');
    expect(aborted.replyBroadcast).toBe(true);
    await h.settled();
    expect(messageText(h.slack.message('C0QA', root.ts)!)).toContain('Aborted');
  });

  it('continues the same thread after a restart, posting nothing twice and announcing what happened meanwhile', async () => {
    h = await Harness.start({ noStart: true });
    const { controller, skip } = timedController(h);
    controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:aaaaaaa-1`, steps: STANDARD_CANARY_STEPS });
    await h.startBot();
    await h.ready();
    controller.deploy('voting01-dev', 'vote', `${IMG}:ddddddd-4`);
    drive(controller, skip, 'voting01-dev');
    const root = await waitFor(() => h.roots('C0DEV')[0], 'root card');
    await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('waiting for promotion')), 'paused reply');
    await h.settled();
    const before = h.replyTexts('C0DEV', root.ts);

    await h.stopBot();
    await promoteByPatch(h, 'voting01-dev');
    drive(controller, skip, 'voting01-dev'); // completes while the bot is down
    await h.startBot();
    await h.ready();
    await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('Completed')), 'completed after restart');
    await h.settled();

    expect(h.roots('C0DEV')).toHaveLength(1);
    const after = h.replyTexts('C0DEV', root.ts);
    expect(after.slice(0, before.length)).toEqual(before);
    const keys = h.slack.replies('C0DEV', root.ts).flatMap((m) => String(m.metadata?.event_payload.key).split(' '));
    expect(new Set(keys).size).toBe(keys.length);
    expect(after.filter((t) => t.includes('Completed: revision 2'))).toHaveLength(1);
    expect(messageText(h.slack.message('C0DEV', root.ts)!)).toContain('Completed');
  });

  it('loses nothing and duplicates nothing through a storm of 429s', async () => {
    h = await Harness.start({ noStart: true });
    const { controller, skip } = timedController(h);
    controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:aaaaaaa-1`, steps: STANDARD_CANARY_STEPS });
    await h.startBot();
    await h.ready();
    h.slack.rateLimit({ count: 6, retryAfter: 1 });
    controller.deploy('voting01-dev', 'vote', `${IMG}:eeeeeee-5`);
    drive(controller, skip, 'voting01-dev');
    await promoteByPatch(h, 'voting01-dev');
    drive(controller, skip, 'voting01-dev');
    const root = await waitFor(() => h.roots('C0DEV')[0], 'root card', 10_000);
    await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('Completed')), 'completed', 15_000);
    await h.settled(10_000);

    expect(h.slack.calls.filter((c) => c.status === 429).length).toBe(6);
    expect(h.roots('C0DEV')).toHaveLength(1);
    const text = h.replyTexts('C0DEV', root.ts).join('\n');
    for (let step = 1; step <= 7; step++) expect(text.match(new RegExp(`Step ${step}/7 completed`, 'g'))).toHaveLength(1);
    // Order kept: step n before step n+1.
    const order = [...text.matchAll(/Step (\d)\/7 completed/g)].map((m) => Number(m[1]));
    expect(order).toEqual([1, 2, 3, 4, 5, 6, 7]);
  }, 30_000);

  it('keeps watching through a dropped watch and a 410 Gone', async () => {
    h = await Harness.start({ noStart: true });
    h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:aaaaaaa-1`, steps: STANDARD_CANARY_STEPS });
    await h.startBot();
    await h.ready();

    h.k8s.dropWatches();
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:fffffff-6`);
    h.controller.tick('voting01-dev', 'vote');
    const root = await waitFor(() => h.roots('C0DEV')[0], 'root after dropped watch');
    await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('Step 1/7 completed')), 'step 1 after dropped watch');

    h.k8s.compact('http');
    h.controller.tick('voting01-dev', 'vote');
    await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('waiting for promotion')), 'pause after 410');

    h.k8s.compact('stream');
    await promoteByPatch(h, 'voting01-dev');
    h.controller.tick('voting01-dev', 'vote');
    await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('Step 2/7 completed')), 'step 2 after in-stream 410');
    await h.settled();
    expect(h.roots('C0DEV')).toHaveLength(1);
    const lists = h.k8s.calls.filter((c) => c.method === 'GET' && c.query.watch === undefined && c.path.endsWith('/rollouts'));
    expect(lists.length).toBeGreaterThanOrEqual(3);
  });
});

describe('watching many namespaces', () => {
  it('can watch every namespace with one stream, ignoring rollouts nobody configured', async () => {
    h = await Harness.start({ noStart: true, overrides: { clusterWideWatch: true } });
    h.controller.createCanary({ namespace: 'voting01-dev', name: 'vote', image: `${IMG}:aaaaaaa-1`, steps: STANDARD_CANARY_STEPS });
    h.controller.createCanary({ namespace: 'somebody-else', name: 'vote', image: `${IMG}:aaaaaaa-1`, steps: STANDARD_CANARY_STEPS });
    await h.startBot();
    await h.ready();
    expect(h.k8s.openWatches()).toBe(1);
    h.controller.deploy('somebody-else', 'vote', `${IMG}:bbbbbbb-2`);
    h.controller.deploy('voting01-dev', 'vote', `${IMG}:bbbbbbb-2`);
    h.controller.tick('voting01-dev', 'vote');
    const root = await waitFor(() => h.roots('C0DEV')[0], 'root');
    await waitFor(() => h.replyTexts('C0DEV', root.ts).some((t) => t.includes('Step 1/7 completed')), 'step 1');
    await h.settled();
    // Only the configured rollout got a thread; qa and staging (not in the cluster) got their notices.
    expect(h.slack.calls.filter((c) => c.method === 'chat.postMessage').map((c) => c.args.channel).sort()).toEqual(['C0DEV', 'C0DEV', 'C0QA', 'C0STAGING']);
  });
});

describe('operations', () => {
  it('answers /healthz, and /readyz only after every namespace was listed', async () => {
    h = await Harness.start({ noStart: true });
    h.k8s.failNext({ count: 2, status: 500, method: 'GET', path: /voting01-qa\/rollouts$/ });
    await h.startBot();
    expect((await fetch(`${h.app!.url}/healthz`)).status).toBe(200);
    const early = await fetch(`${h.app!.url}/readyz`);
    expect(early.status).toBe(503);
    await h.ready();
    const metrics = await (await fetch(`${h.app!.url}/metrics`)).text();
    expect(metrics).toMatch(/rollout_chatops_watch_restarts_total\{namespace="voting01-qa"\} [1-9]/);
    expect(metrics).toContain('rollout_chatops_delivery_queue_depth');
  });

  it('notes a configured rollout that does not exist in its channel, without blocking readiness', async () => {
    h = await Harness.start();
    await h.ready();
    const notice = await waitFor(() => h.slack.channelMessages('C0QA').find((m) => messageText(m).includes('was not found')), 'missing notice');
    expect(messageText(notice)).toContain('voting01-qa/vote');
    await h.settled();
    expect(h.slack.channelMessages('C0QA')).toHaveLength(1);
  });

  it('rejects a forged Slack request with 401 and does nothing', async () => {
    h = await Harness.start();
    await h.ready();
    await h.settled(); // what it posts at start-up (the "not found" notices) is out
    const before = h.slack.calls.length;
    const res = await sendSigned(h.sender, { body: 'command=%2Frollout&text=status&user_id=U1&channel_id=C0DEV', contentType: 'application/x-www-form-urlencoded', forgeSignature: 'v0=deadbeef' });
    expect(res.status).toBe(401);
    const stale = await sendSlashCommand(h.sender, { command: '/rollout', text: 'status', userId: 'U1', channelId: 'C0DEV', timestampSec: Math.floor(Date.now() / 1000) - 600 });
    expect(stale.status).toBe(401);
    await h.settled();
    expect(h.slack.calls.slice(before).filter((c) => c.method !== 'auth.test')).toEqual([]);
  });

  it('answers /rollout help with every command and an example', async () => {
    h = await Harness.start();
    await h.ready();
    const res = await sendSlashCommand(h.sender, { command: '/rollout', text: 'help', userId: 'U1', channelId: 'C0DEV' });
    expect(res.status).toBe(200);
    const text = res.json<{ text: string }>().text;
    for (const c of ['/promote staging', '/rollout status', '/rollout history', '/rollout abort qa', '/rollout retry qa', '/rollout drill qa', '/errors on qa']) expect(text).toContain(c);
  });

  it('answers an unknown environment with the known ones', async () => {
    h = await Harness.start();
    await h.ready();
    const res = await sendSlashCommand(h.sender, { command: '/rollout', text: 'status prod', userId: 'U1', channelId: 'C0DEV' });
    expect(res.json<{ text: string }>().text).toMatch(/unknown environment `prod`.*`dev`, `qa`, `staging`/);
  });
});
