import { afterEach, describe, expect, it } from 'vitest';
import type { SlackMessage } from '../../emulators/slack-emulator.js';
import { Harness, messageText, waitFor } from '../support/harness.js';
import { sendSlashCommand, sendThreadMessage } from '../../emulators/clients/slack-requests.js';

const IMG = '123456789012.dkr.ecr.us-east-1.amazonaws.com/voting01-vote';
const TAG = 'ea11a24-20260129125607';
const LEAD = 'U0LEAD';

let h: Harness;
afterEach(async () => {
  await h?.close();
});

function slash(text: string, user = LEAD, channel = 'C0STAGING') {
  return sendSlashCommand(h.sender, { command: '/rollout', text, userId: user, channelId: channel, responseUrl: h.slack.newResponseUrl({ channel, user }) });
}

function reply(channel: string, root: SlackMessage, text: string): Promise<SlackMessage> {
  return waitFor(() => h.slack.replies(channel, root.ts).find((m) => messageText(m).includes(text)), `reply "${text}" in ${channel}`).catch((err: Error) => {
    throw new Error(`${err.message}\n${h.slack.transcript()}`);
  });
}

/** The command's answer, from the acknowledgement or the response_url. */
function answered(text: RegExp): Promise<unknown> {
  return waitFor(() => h.slack.responses.find((r) => text.test(String(r.body.text))), `answer ${text}`);
}

describe('/rollout report', () => {
  it('posts the deploy report in the thread: summary, who promoted, and the timeline in a context block', async () => {
    h = await Harness.start({ noStart: true });
    h.controller.createCanary({ namespace: 'voting01-qa', name: 'vote', image: `${IMG}:0000000-1`, steps: [{ setWeight: 50 }] });
    h.controller.createBlueGreen({ namespace: 'voting01-staging', name: 'vote', image: `${IMG}:0000000-1`, autoPromotionEnabled: false });
    h.ecr.addImage('voting01-vote', TAG);
    await h.startBot();
    await h.ready();
    h.controller.deploy('voting01-qa', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-qa', 'vote');
    await reply('C0QA', await waitFor(() => h.roots('C0QA')[0], 'qa root'), 'Completed');
    h.controller.deploy('voting01-staging', 'vote', `${IMG}:${TAG}`);
    h.controller.settle('voting01-staging', 'vote');
    const root = await waitFor(() => h.roots('C0STAGING')[0], 'staging root');
    await reply('C0STAGING', root, 'waiting for promotion');
    await sendSlashCommand(h.sender, { command: '/promote', text: 'staging', userId: LEAD, channelId: 'C0STAGING', responseUrl: h.slack.newResponseUrl({ channel: 'C0STAGING', user: LEAD }) });
    await reply('C0STAGING', root, 'Promote voting01 staging?');
    await sendThreadMessage(h.sender, { channel: 'C0STAGING', threadTs: root.ts, user: LEAD, text: 'promote' });
    await reply('C0STAGING', root, `Promoted by <@${LEAD}>`);
    h.controller.settle('voting01-staging', 'vote');
    await reply('C0STAGING', root, 'Completed');
    await h.settled();

    await slash('report staging');
    await answered(/The report of voting01 staging revision 2 is in/);
    const report = await reply('C0STAGING', root, 'Deploy report* voting01 staging');
    expect(report.text).toMatch(/^📋 \*Deploy report\* voting01 staging · revision 2 `ea11a24-20260129125607`: ✅ completed, took \S+, \S+ of it waiting for people · promoted by <@U0LEAD>\.$/);
    const timeline = (report.blocks as Array<{ type: string; elements?: Array<{ text: string }> }>).find((b) => b.type === 'context')!.elements!.map((e) => e.text);
    expect(timeline[0]).toMatch(/deploy of revision 2 started$/);
    expect(timeline.some((l) => /paused/.test(l))).toBe(true);
    expect(timeline.some((l) => /promoted.*\(<@U0LEAD>\)$/.test(l))).toBe(true);
    expect(timeline.at(-1)).toMatch(/completed$/);
    // Every line has its time, events included (the thread keeps when each was announced).
    expect(timeline.every((l) => l.startsWith('<!date^'))).toBe(true);

    // Staging is the last environment: the tag's whole way was reported there by itself, once, when it completed.
    const chain = h.slack.replies('C0STAGING', root.ts).filter((m) => messageText(m).includes('through qa → staging'));
    expect(chain).toHaveLength(1);
    expect(chain[0]!.text).toMatch(/^📋 \*Deploy report\* voting01 `ea11a24-20260129125607` through qa → staging: \S+ from the first start to the last completion, \S+ of it waiting for people\.$/);
    const sections = (chain[0]!.blocks as Array<{ type: string; text?: { text: string } }>).filter((b) => b.type === 'section').map((b) => b.text!.text);
    expect(sections.slice(1)).toEqual([
      expect.stringMatching(/^\*qa\* · revision 2: ✅ completed, took \S+$/),
      expect.stringMatching(/^\*staging\* · revision 2: ✅ completed, took \S+, waited \S+ · promoted by <@U0LEAD>$/),
    ]);
  });

  it('says so when the environment has no deploy on record', async () => {
    h = await Harness.start({});
    await h.ready();
    await slash('report staging');
    await answered(/^🤷 No deploy of voting01 staging on record yet, so there is nothing to report\.$/);
  });
});
