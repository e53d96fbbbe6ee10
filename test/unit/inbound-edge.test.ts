import { describe, expect, it } from 'vitest';
import { readWebhook } from '../../src/adapters/github/github-webhook-payloads.js';
import { cloneRecord } from '../../src/adapters/store/clone-record.js';
import { pushPayload, issueCommentPayload } from '../../emulators/clients/github-webhooks.js';

const SHA = 'ea11a24b3c4d5e6f708192a3b4c5d6e7f8091a2b';

describe('readWebhook', () => {
  it('reads a push once, with the fields the handler uses', () => {
    const r = readWebhook('push', pushPayload({ repo: 'acme/voting01', commits: [{ id: SHA, message: 'Fix', author: { name: 'Ada', email: 'ada@example.com', username: 'ada' } }] }));
    expect(r.ok && r.read.kind === 'push' && r.read.payload.commits.map((c) => c.id)).toEqual([SHA]);
  });

  it('reads a created comment, and takes other actions and events without reading them', () => {
    const created = issueCommentPayload({ repo: 'acme/voting01', issueNumber: 7, body: '/rollout status', user: { login: 'ada' } });
    expect(readWebhook('issue_comment', created)).toMatchObject({ ok: true, read: { kind: 'issue_comment.created' } });
    expect(readWebhook('issue_comment', { ...created, action: 'edited' })).toEqual({ ok: true, read: { kind: 'other' } });
    expect(readWebhook('issues', created)).toEqual({ ok: true, read: { kind: 'other' } });
  });

  it.each([
    ['push', null],
    ['push', []],
    ['push', { ref: 'refs/heads/main', repository: { full_name: 'acme/voting01' }, commits: {} }],
    ['push', { ref: 'refs/heads/main', repository: { full_name: 'acme/voting01' }, commits: [], action: 5 }],
    ['issue_comment', { action: 'created' }],
  ])('refuses a %s payload %j, naming the path', (event, payload) => {
    const r = readWebhook(event, payload);
    expect(r.ok).toBe(false);
    expect(!r.ok && r.problem.length).toBeGreaterThan(0);
  });
});

describe('cloneRecord', () => {
  it('copies plain records deeply, keeping keys set to undefined', () => {
    const rec = { key: 't1', announced: ['a'], lastState: { images: [{ tag: 'x' }], waitingSince: undefined }, n: null };
    const copy = cloneRecord(rec);
    expect(copy).toEqual(rec);
    expect('waitingSince' in copy.lastState).toBe(true);
    copy.announced.push('b');
    copy.lastState.images[0]!.tag = 'y';
    expect(rec).toEqual({ key: 't1', announced: ['a'], lastState: { images: [{ tag: 'x' }], waitingSince: undefined }, n: null });
  });

  it('copies what is not plain as structuredClone does, and refuses a function inside', () => {
    const at = new Date(5);
    const copy = cloneRecord({ at });
    expect(copy.at).toBeInstanceOf(Date);
    expect(copy.at).not.toBe(at);
    expect(() => cloneRecord({ supersedes: () => true })).toThrow();
  });

  it('copies own keys only', () => {
    const proto = { inherited: 1 };
    const rec = Object.assign(Object.create(proto) as Record<string, unknown>, { own: 2 });
    expect(Object.keys(cloneRecord({ rec }).rec)).toEqual(['own']);
    expect(Object.keys(cloneRecord(Object.assign(Object.create(null) as Record<string, unknown>, { own: 2 })))).toEqual(['own']);
  });
});
