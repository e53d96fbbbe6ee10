import { describe, expect, it } from 'vitest';
import { parseSlackPayload } from '../../src/adapters/slack/parse-slack-payload.js';

const command = { command: '/promote', text: 'staging', user_id: 'U1', channel_id: 'C1', response_url: 'https://hooks.slack.com/commands/T/1/x', trigger_id: '1.2.3' };
const press = { type: 'block_actions', trigger_id: '1.2.3', user: { id: 'U1' }, actions: [{ action_id: 'rollout_confirm', value: 'c1' }], team: null, enterprise: null };
const event = { type: 'event_callback', event_id: 'Ev1', event: { type: 'message', channel: 'C1', user: 'U1', text: 'promote', ts: '1.2', thread_ts: '1.1' } };

describe('parseSlackPayload', () => {
  it.each([
    ['a slash command', command, 'command'],
    ['a slash command with empty text', { ...command, text: '' }, 'command'],
    ['a button press', press, 'block_actions'],
    ['a thread message', event, 'event'],
    ['the url handshake', { type: 'url_verification', challenge: 'abc' }, 'url_verification'],
    ['a kind the bot has no listener for', { type: 'view_closed', view: null }, 'ignored'],
  ])('accepts %s', (_name, body, kind) => {
    const r = parseSlackPayload(body);
    expect(r.ok && r.payload.kind).toBe(kind);
  });

  it.each([
    ['null', null, 'body: expected an object (got null)'],
    ['a string', 'promote', 'body: expected an object (got string)'],
    ['an array', [], 'body: expected an object (got array)'],
    ['a command without user_id', { ...command, user_id: undefined }, 'user_id: invalid_type'],
    ['a command whose user_id repeats (a form array)', { ...command, user_id: ['U1', 'U2'] }, 'user_id: invalid_type'],
    ['actions: null', { ...press, actions: null }, 'actions: invalid_type'],
    ['no actions in the list', { ...press, actions: [] }, 'actions: too_small'],
    ['a press without a user', { ...press, user: undefined }, 'user: invalid_type'],
    ['event: null', { ...event, event: null }, 'event: invalid_type'],
    ['an event that is a string', { ...event, event: 'promote' }, 'event: invalid_type'],
    ['an event whose item is a string', { ...event, event: { type: 'reaction_added', item: 'x' } }, 'event.item: invalid_type'],
    ['no type at all', { hello: 1 }, 'type: expected a Slack payload type'],
  ])('refuses %s, naming the path and never the value', (_name, body, problem) => {
    const r = parseSlackPayload(body);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problems).toContain(problem);
  });
});
