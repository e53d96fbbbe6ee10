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
    ['/promote', 'staging --now', /unknown option `--now`/],
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

describe('malformed commands', () => {
  // Each of these once threw (`/promote --full` read the missing environment) or echoed unbounded input.
  const long = 'x'.repeat(5000);
  it.each([
    ['/promote', '--full', 'promote', /which environment/],
    ['/promote', '--dry-run --force', 'promote', /which environment/],
    ['/promote', '   ', 'promote', /which environment/],
    ['/promote', '', 'promote', /which environment/],
    ['/promote', '—full staging', 'promote', /not an environment name/],
    ['/promote', 'stäging', 'promote', /not an environment name/],
    ['/promote', 'staging​', 'promote', /not an environment name/],
    ['/promote', 'staging voting01‮', 'promote', /not an app name/],
    ['/promote', `staging ${long}`, 'promote', /not an app name/],
    ['/promote', long, 'promote', /not an environment name/],
    ['/promote', 'a b c d e f g', 'promote', /too many words: .* and 2 more/],
    ['/rollout', 'status --all', 'rollout', /unknown option `--all`/],
    ['/rollout', 'status 🚀', 'rollout', /not an environment name/],
    ['/rollout', 'drill --qa', 'rollout', /unknown option/],
    ['/rollout', '`rm`', 'rollout', /unknown subcommand `rm`/],
    ['/errors', 'on --qa', 'errors', /unknown option/],
    ['/errors', `on ${long}`, 'errors', /not an environment name/],
    ['/errors', '<!channel> qa', 'errors', /unknown action `!channel`/],
    ['/deploy', 'qa', 'rollout', /unknown command/],
  ])('%s %j answers with the %s help', (command, text, topic, error) => {
    const r = parseCommand(command, text);
    expect(r).toEqual({ ok: false, problem: { error: expect.stringMatching(error), topic } });
    if (!r.ok) expect(r.problem.error.length).toBeLessThan(200);
  });

  it('never throws, whatever the text', () => {
    const pieces = ['', ' ', '--full', '-', '--', 'staging', 'qa', 'voting01', 'help', 'status', 'on', 'drill', '\u0000', '\u00a0', '\ud83d', '`', '<@U1>', 'ß', 'İ', 'x'.repeat(300)];
    for (const command of ['/promote', '/rollout', '/errors', 'promote', '', '/PROMOTE']) {
      for (const a of pieces) for (const b of pieces) for (const c of ['', ' --force', ' extra']) {
        const r = parseCommand(command, `${a} ${b}${c}`);
        expect(typeof r.ok).toBe('boolean');
      }
    }
  });

  it('treats help in any case as help', () => {
    expect(parseCommand('/promote', 'HELP')).toEqual({ ok: true, command: { verb: 'help', topic: 'promote' } });
    expect(parseCommand('/rollout', '--help')).toEqual({ ok: true, command: { verb: 'help', topic: 'rollout' } });
  });
});

describe('parseCommentCommand', () => {
  it('finds a command on its own line among the comment\'s lines', () => {
    expect(parseCommentCommand(['LGTM', '/promote staging', 'thanks'])).toEqual({ ok: true, command: expect.objectContaining({ verb: 'promote', env: 'staging' }) });
  });

  it('ignores conversation that merely mentions a command', () => {
    expect(parseCommentCommand(['I will /promote later'])).toBeUndefined();
  });

  it('answers a malformed command with its help instead of throwing', () => {
    expect(parseCommentCommand(['/promote --full'])).toEqual({ ok: false, problem: { error: expect.stringMatching(/which environment/), topic: 'promote' } });
    expect(parseCommentCommand(['/errors'])).toEqual({ ok: true, command: { verb: 'help', topic: 'errors' } });
  });
});

describe('helpText', () => {
  it('shows every command with an example', () => {
    const text = helpText();
    for (const c of ['/promote staging', '/promote staging --dry-run', '/rollout status', '/rollout history', '/rollout abort qa', '/rollout retry qa', '/rollout drill qa', '/errors on qa']) expect(text).toContain(c);
  });
});
