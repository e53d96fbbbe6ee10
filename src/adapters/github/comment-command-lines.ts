import { fromMarkdown } from 'mdast-util-from-markdown';
import { gfmFromMarkdown } from 'mdast-util-gfm';
import { gfm } from 'micromark-extension-gfm';
import type { PhrasingContent, RootContent } from 'mdast';
import { MAX_COMMENT_COMMAND_CHARS } from '../../core/github-comments/comment-commands.js';

/**
 * The most of a comment that is parsed: from its start to the end of the paragraph holding the last line that looks like
 * a command. Markdown parsing costs more than linearly on hostile input (64 KB of `*a` takes seconds), and the webhook
 * is answered on the event loop, so a longer prefix is not read at all (the comment is answered as too long).
 */
export const MAX_PARSED = MAX_COMMENT_COMMAND_CHARS;

/** A line that may start a command: cheap to test, so ordinary conversation is never parsed. */
const CANDIDATE = /^[ \t>]*\/(?:promote|rollout|errors)\b/im;

/** What {@link commentCommandLines} found: the plain lines, or that the part holding commands is too long to read. */
export type CommentLines = { lines: string[]; tooLong?: false } | { lines: []; tooLong: true };

/**
 * The lines of a GitHub comment that may hold a command: each line of plain text of a top-level paragraph, as GitHub
 * renders the comment (CommonMark with GitHub's extensions: tables, strikethrough, autolinks, task lists, footnotes).
 * Fenced and indented code, HTML (comments included) and whatever sits between an HTML block's opening and closing tags
 * (`<details>` … `</details>`), block quotes, lists, tables, headings, and any line with inline code, HTML, links,
 * emphasis or strikethrough are left out, so a command quoted, shown as an example or hidden never runs.
 */
export function commentCommandLines(markdown: string): CommentLines {
  const relevant = relevantPrefix(markdown);
  if (relevant === undefined) return { lines: [] };
  if (relevant.length > MAX_PARSED) return { lines: [], tooLong: true };
  const tree = fromMarkdown(relevant, { extensions: [gfm()], mdastExtensions: [gfmFromMarkdown()] });
  const lines: string[] = [];
  let htmlDepth = 0;
  for (const block of tree.children) {
    if (block.type === 'html') {
      htmlDepth = Math.max(0, htmlDepth + openTagBalance(block.value));
      continue;
    }
    if (htmlDepth === 0 && block.type === 'paragraph') lines.push(...plainLines(block.children));
  }
  return { lines };
}

/**
 * The comment up to the end of the paragraph that holds its last candidate line (what follows that paragraph cannot
 * change how the lines before it render, but the paragraph's own later lines can: a setext underline, a table's
 * delimiter row, a closing `~~`). Undefined when no line looks like a command.
 */
function relevantPrefix(markdown: string): string | undefined {
  if (!CANDIDATE.test(markdown)) return undefined;
  const all = new RegExp(CANDIDATE.source, 'gim');
  let last = 0;
  for (let m = all.exec(markdown); m; m = all.exec(markdown)) last = m.index;
  const blank = /\n[ \t]*(?:\r?\n|$)/g;
  blank.lastIndex = last;
  const end = blank.exec(markdown);
  return end ? markdown.slice(0, end.index) : markdown;
}

/** Opening minus closing tags in an HTML block (void and self-closing tags and comments do not open anything). */
function openTagBalance(html: string): number {
  const VOID = /^(?:area|base|br|col|embed|hr|img|input|link|meta|source|track|wbr)$/i;
  const withoutComments = html.replace(/<!--[\s\S]*?(?:-->|$)/g, '');
  let balance = 0;
  for (const m of withoutComments.matchAll(/<(\/?)([A-Za-z][A-Za-z0-9-]*)\b[^>]*?(\/?)>/g)) {
    if (VOID.test(m[2]!) || m[3] === '/') continue;
    balance += m[1] === '/' ? -1 : 1;
  }
  return balance;
}

/**
 * The paragraph's source lines that hold text only. Lines are taken from source positions, so a character reference
 * such as `&#10;` (a newline that renders as a space) cannot make a new line, and a code span or link that spans
 * lines taints every line it touches.
 */
function plainLines(children: PhrasingContent[] | RootContent[]): string[] {
  const text = new Map<number, string>();
  const tainted = new Set<number>();
  for (const node of children) {
    const from = node.position?.start.line;
    const to = node.position?.end.line;
    if (from === undefined || to === undefined) return [];
    if (node.type === 'break') continue;
    const parts = node.type === 'text' ? node.value.split(/\r\n|\r|\n/) : undefined;
    if (!parts || parts.length !== to - from + 1) {
      for (let l = from; l <= to; l++) tainted.add(l);
      continue;
    }
    parts.forEach((part, i) => text.set(from + i, (text.get(from + i) ?? '') + part));
  }
  return [...text.entries()]
    .filter(([line]) => !tainted.has(line))
    .sort(([a], [b]) => a - b)
    .map(([, value]) => value.trim())
    .filter((value) => value !== '');
}
