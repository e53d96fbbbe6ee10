import { describe, expect, it } from 'vitest';
import { commentCommandLines } from '../../src/adapters/github/comment-command-lines.js';
import { parseCommentCommand } from '../../src/core/commands/parse-command.js';

describe('commentCommandLines', () => {
  it.each([
    ['a fenced block', 'To ship it after review, type:\n```\n/promote staging\n```'],
    ['a tilde fence', '~~~\n/promote staging\n~~~'],
    ['a fence with a language', '```sh\n/promote staging\n```'],
    ['an unclosed fence', 'see:\n```\n/promote staging'],
    ['indented code', 'Like this:\n\n    /promote staging'],
    ['an HTML comment', '<!-- /promote staging -->'],
    ['a multi-line HTML comment after text', 'hi\n<!--\n/promote staging\n-->'],
    ['an HTML block', '<details>\n/promote staging\n</details>'],
    ['a block quote', '> /promote staging'],
    ['a lazy block quote line', '> please run\n/promote staging'],
    ['a nested quote', '> > /promote staging'],
    ['a list item', '- /promote staging'],
    ['a heading', '# /promote staging'],
    ['inline code', '`/promote staging`'],
    ['an inline code span across lines', '`x\n/promote staging`'],
    ['emphasis across lines', '**bold\n/promote staging**'],
    ['a newline character reference', 'please&#10;/promote staging'],
  ])('leaves out a command in %s', (_what, body) => {
    expect(parseCommentCommand(commentCommandLines(body).lines)).toBeUndefined();
  });

  it.each([
    ['alone', '/promote staging', ['/promote staging']],
    ['after conversation, soft break', 'Looks good.\n/rollout status dev', ['Looks good.', '/rollout status dev']],
    ['after a hard break', 'Looks good.  \n/rollout status dev', ['Looks good.', '/rollout status dev']],
    ['with CRLF line ends', 'ok\r\n/promote staging\r\n', ['ok', '/promote staging']],
    ['after a code block', '```\nnpm test\n```\n\n/promote qa', ['/promote qa']],
  ])('keeps a command on a plain line %s', (_what, body, lines) => {
    expect(commentCommandLines(body).lines).toEqual(lines);
  });

  it('keeps only the plain lines of a paragraph with inline code', () => {
    expect(commentCommandLines('first `code` line\n/promote qa').lines).toEqual(['/promote qa']);
  });
});

describe('commentCommandLines as GitHub renders it', () => {
  it.each([
    ['a table row', '| checklist |\n| --- |\n| tests green |\n/promote staging'],
    ['struck-through text', '~~I will\n/promote staging\nafter lunch~~ never mind, QA found a bug'],
    ['a collapsed <details> section', '<details><summary>release notes</summary>\n\n/promote staging\n\n</details>'],
    ['an autolink on the line', '/promote staging https://example.com'],
  ])('leaves out a command in %s', (_what, body) => {
    expect(parseCommentCommand(commentCommandLines(body).lines)).toBeUndefined();
  });

  it('still reads a plain command after a closed <details> section', () => {
    expect(commentCommandLines('<details><summary>notes</summary>\n\nhidden\n\n</details>\n\n/promote staging').lines).toEqual(['/promote staging']);
  });

  it('does not parse a comment without a command-like line at all', () => {
    expect(commentCommandLines('*a'.repeat(40_000))).toEqual({ lines: [] });
  });

  it('answers too long instead of parsing a huge paragraph that holds a command', () => {
    expect(commentCommandLines(`/promote staging\n${'*a'.repeat(32_760)}`)).toEqual({ lines: [], tooLong: true });
  });

  it('reads a command at the top of a long comment without parsing the rest', () => {
    expect(commentCommandLines(`/promote staging\n\n${'*_'.repeat(32_768)}`).lines).toEqual(['/promote staging']);
  });
});
