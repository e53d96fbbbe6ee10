import { fromMarkdown } from 'mdast-util-from-markdown';
import type { PhrasingContent } from 'mdast';

/** GitHub refuses comment bodies longer than this; anything past it cannot be what a person typed. */
const MAX_BODY = 65_536;

/**
 * The lines of a GitHub comment that may hold a command: each line of plain text of a top-level paragraph, as the
 * comment renders. Fenced and indented code, HTML (comments included), block quotes, lists, tables, headings, and
 * any line with inline code, HTML, links or emphasis are left out, so a command quoted, shown as an example or
 * hidden in a comment never runs. The comment is parsed as CommonMark (what GitHub renders), not matched line by line.
 */
export function commentCommandLines(markdown: string): string[] {
  const tree = fromMarkdown(markdown.length > MAX_BODY ? markdown.slice(0, MAX_BODY) : markdown);
  const lines: string[] = [];
  for (const block of tree.children) {
    if (block.type === 'paragraph') lines.push(...plainLines(block.children));
  }
  return lines;
}

/**
 * The paragraph's source lines that hold text only. Lines are taken from source positions, so a character reference
 * such as `&#10;` (a newline that renders as a space) cannot make a new line, and a code span or link that spans
 * lines taints every line it touches.
 */
function plainLines(children: PhrasingContent[]): string[] {
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
