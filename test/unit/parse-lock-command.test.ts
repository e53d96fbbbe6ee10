import { describe, expect, it } from 'vitest';
import { helpText, parseCommand, parseCommentCommand } from '../../src/core/commands/parse-command.js';

const apps = ['voting01', 'shop'];

describe('parsing /rollout lock and unlock', () => {
  it.each([
    ['staging', { verb: 'lock', env: 'staging' }],
    ['staging db migration', { verb: 'lock', env: 'staging', reason: 'db migration' }],
    ['staging "db migration"', { verb: 'lock', env: 'staging', reason: 'db migration' }],
    ['staging “db migration”', { verb: 'lock', env: 'staging', reason: 'db migration' }],
    ['Staging voting01 db   migration', { verb: 'lock', env: 'staging', app: 'voting01', reason: 'db migration' }],
    ['staging voting01', { verb: 'lock', env: 'staging', app: 'voting01' }],
    ['staging voting01 "voting01 is broken"', { verb: 'lock', env: 'staging', app: 'voting01', reason: 'voting01 is broken' }],
    ['staging payments are down --really', { verb: 'lock', env: 'staging', reason: 'payments are down --really' }],
  ])('lock %s', (text, expected) => {
    expect(parseCommand('/rollout', `lock ${text}`, { apps })).toEqual({ ok: true, command: expected });
  });

  it('takes a word after the environment as the reason when it names no configured app', () => {
    expect(parseCommand('/rollout', 'lock staging migration', { apps })).toEqual({ ok: true, command: { verb: 'lock', env: 'staging', reason: 'migration' } });
    expect(parseCommand('/rollout', 'lock staging voting01 x')).toEqual({ ok: true, command: { verb: 'lock', env: 'staging', reason: 'voting01 x' } });
  });

  it('reads the same command from a PR comment', () => {
    expect(parseCommentCommand(['/rollout lock staging "db migration"'], { apps })).toEqual({ ok: true, command: { verb: 'lock', env: 'staging', reason: 'db migration' } });
  });

  it.each([
    ['lock', /which environment/],
    ['lock STAGING!', /is not an environment name/],
    [`lock staging ${'x'.repeat(201)}`, /reason is too long/],
    ['unlock', /which environment/],
    ['unlock staging voting01 now', /too many words/],
    ['unlock staging --force', /unknown option/],
  ])('refuses %s', (text, error) => {
    const r = parseCommand('/rollout', text, { apps });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem.error).toMatch(error);
  });

  it('parses unlock with or without an app', () => {
    expect(parseCommand('/rollout', 'unlock staging', { apps })).toEqual({ ok: true, command: { verb: 'unlock', env: 'staging', app: undefined } });
    expect(parseCommand('/rollout', 'unlock staging shop', { apps })).toEqual({ ok: true, command: { verb: 'unlock', env: 'staging', app: 'shop' } });
  });

  it('shows lock and unlock in the help with an example', () => {
    expect(helpText('rollout')).toContain('`/rollout lock staging db migration`');
    expect(helpText('rollout')).toContain('`/rollout unlock staging`');
  });
});

describe('parsing /rollout reject', () => {
  it.each([
    ['prod', { verb: 'reject', env: 'prod' }],
    ['prod not before the release notes', { verb: 'reject', env: 'prod', reason: 'not before the release notes' }],
    ['prod "not before the release notes"', { verb: 'reject', env: 'prod', reason: 'not before the release notes' }],
    ['prod shop wrong tag', { verb: 'reject', env: 'prod', app: 'shop', reason: 'wrong tag' }],
    ['prod shopping list', { verb: 'reject', env: 'prod', reason: 'shopping list' }],
  ])('reject %s', (text, expected) => {
    expect(parseCommand('/rollout', `reject ${text}`, { apps })).toEqual({ ok: true, command: expected });
  });

  it('reads the same command from a PR comment', () => {
    expect(parseCommentCommand(['/rollout reject qa voting01 "flaky tests"'], { apps })).toEqual({ ok: true, command: { verb: 'reject', env: 'qa', app: 'voting01', reason: 'flaky tests' } });
  });

  it('asks which environment when none is given', () => {
    const r = parseCommand('/rollout', 'reject', { apps });
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem.error).toMatch(/which environment\? e\.g\. `\/rollout reject/);
  });

  it('is in the help', () => {
    expect(helpText('rollout')).toContain('/rollout reject <env> [app] [reason]');
  });
});
