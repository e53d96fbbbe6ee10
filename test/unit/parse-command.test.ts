import { describe, expect, it } from 'vitest';
import { helpText, parseCommand, parseCommentCommand } from '../../src/core/commands/parse-command.js';

describe('parseCommand', () => {
  it.each([
    ['/promote', 'staging', { verb: 'promote', env: 'staging', app: undefined, full: false, dryRun: false, force: false }],
    ['/promote', 'qa voting01 --full', { verb: 'promote', env: 'qa', app: 'voting01', full: true, dryRun: false, force: false }],
    ['/promote', 'Staging --dry-run --force', { verb: 'promote', env: 'staging', app: undefined, full: false, dryRun: true, force: true }],
    ['/rollout', 'status', { verb: 'status', env: undefined, app: undefined }],
    ['/rollout', 'history qa voting01', { verb: 'history', env: 'qa', app: 'voting01' }],
    ['/rollout', 'abort qa', { verb: 'abort', env: 'qa', app: undefined }],
    ['/rollout', 'retry qa', { verb: 'retry', env: 'qa', app: undefined }],
    ['/rollout', 'abort', { verb: 'abort', env: undefined, app: undefined }],
    ['/rollout', 'drill qa', { verb: 'drill', env: 'qa', app: undefined }],
    ['/rollout', '', { verb: 'help', topic: 'rollout' }],
    ['/rollout', 'help', { verb: 'help', topic: 'rollout' }],
    ['/errors', 'on qa', { verb: 'errors', action: 'on', env: 'qa', app: undefined }],
    ['/errors', 'status staging voting01', { verb: 'errors', action: 'status', env: 'staging', app: 'voting01' }],
  ])('%s %s', (command, text, expected) => {
    expect(parseCommand(command, text)).toEqual({ ok: true, command: expected });
  });

  it.each([
    ['/promote', '', /which environment/],
    ['/promote', 'staging --now', /unknown option --now/],
    ['/promote', 'a b c', /too many words/],
    ['/rollout', 'deploy qa', /unknown subcommand `deploy`/],
    ['/rollout', 'drill', /which environment/],
    ['/errors', 'maybe qa', /unknown action `maybe`/],
    ['/errors', 'on', /which environment/],
  ])('%s %s is refused with a reason', (command, text, error) => {
    const r = parseCommand(command, text);
    expect(r.ok).toBe(false);
    if (!r.ok) expect(r.problem.error).toMatch(error);
  });
});

describe('parseCommentCommand', () => {
  it('finds a command on its own line inside a comment', () => {
    expect(parseCommentCommand('LGTM\n\n/promote staging\nthanks')).toEqual({ ok: true, command: expect.objectContaining({ verb: 'promote', env: 'staging' }) });
  });

  it('ignores conversation that merely mentions a command', () => {
    expect(parseCommentCommand('I will /promote later')).toBeUndefined();
  });
});

describe('helpText', () => {
  it('shows every command with an example', () => {
    const text = helpText();
    for (const c of ['/promote staging', '/promote staging --dry-run', '/rollout status', '/rollout history', '/rollout abort qa', '/rollout retry qa', '/rollout drill qa', '/errors on qa']) expect(text).toContain(c);
  });
});
